"""The evidence bundle on disk: the one module that writes it, and `verify`.

Layout (docs/evidence-format.md): report.html, findings.json, results.sarif,
summary.md, sbom.cdx.json (CycloneDX 1.6), raw/<scanner>.json, manifest.json
(SHA-256 and size of every other file, tools, advisory database, config digest,
git, run times, pipeline version), manifest.sig (optional Ed25519 signature of
manifest.json), and optionally <folder>.zip beside the folder.

Writing is atomic: everything goes to a temporary folder beside the target,
which is renamed into place last, so an interrupted run never leaves a
half-written bundle under the final name.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pipeline import resources
from pipeline.redact import mask_line
from pipeline.report import html, markdown, oscal, sarif, sbom
from pipeline.report import json as json_report
from pipeline.run import RunOutput

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
WRITER_ERRORS = "writer-errors.txt"
"""Present only when a writer failed: which, and why (the run is then incomplete)."""
MANIFEST_SCHEMA = "compliance-pipeline/manifest/1"
DATA_FILES = ("findings.json", "results.sarif", "summary.md", sbom.FILE_NAME)
KEY_ENV = "COMPLIANCE_PIPELINE_SIGNING_KEY"
UNENCODABLE = "backslashreplace"
"""File names that are not valid UTF-8 reach us as surrogate escapes (`bad\\udcff.py`):
they are written as that escape, a valid JSON string escape, instead of failing the write."""


class EvidenceError(Exception):
    """A bundle cannot be read or a key cannot be loaded."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _raw_text(data: Any) -> str:
    # Compact: raw outputs run to tens of MB, and json's C encoder only serves
    # unindented output (measured: 4.7 s → under 1 s for 45 MB).
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def render_files(run: RunOutput, templates: Path) -> dict[str, bytes]:
    """Every file of the bundle but the manifest: a pure function of the run."""
    failures: list[str] = []

    def rendered(name: str, render: Callable[[], str]) -> bytes:
        """One writer's output; a writer that raises leaves the others (findings.json
        first) standing, and its failure is written down in WRITER_ERRORS."""
        try:
            return render().encode("utf-8", UNENCODABLE)
        except Exception as exc:  # a writer's bug must not cost the run its evidence
            failures.append(f"{name}: {type(exc).__name__}: {mask_line(str(exc))[:500]}")
            return f"{name} could not be written: see {WRITER_ERRORS}\n".encode()

    files: dict[str, bytes] = {
        "findings.json": json_report.render(run.report).encode("utf-8", UNENCODABLE),
        "results.sarif": rendered("results.sarif", lambda: sarif.render(run.report)),
        "summary.md": rendered("summary.md", lambda: markdown.render(run.report)),
        sbom.FILE_NAME: rendered(sbom.FILE_NAME, lambda: sbom.render(run.report)),
    }
    for name, data in sorted(run.raw.items()):
        files[f"raw/{name}.json"] = rendered(f"raw/{name}.json", functools.partial(_raw_text, data))
    linked = dict(files)  # OSCAL links to these, with their digests
    files[oscal.FILE_NAME] = rendered(oscal.FILE_NAME, lambda: oscal.render(run.report, linked))
    digest = evidence_digest(files)
    files["report.html"] = rendered("report.html", lambda: html.render(run.report, templates, digest))
    if failures:
        files[WRITER_ERRORS] = ("".join(f"{line}\n" for line in failures)).encode("utf-8", UNENCODABLE)
    return files


def writer_errors(bundle: Path) -> list[str]:
    """The writers that failed in a bundle just written (empty: all of them worked)."""
    path = bundle / WRITER_ERRORS
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []


def evidence_digest(files: Mapping[str, bytes]) -> str:
    """SHA-256 over the sorted (path, digest) lines of the machine-readable files."""
    lines = "".join(f"{path}\t{sha256(data)}\n" for path, data in sorted(files.items()))
    return "sha256:" + sha256(lines.encode())


def manifest(run: RunOutput, files: Mapping[str, bytes]) -> dict[str, Any]:
    r = run.report
    adv = r.advisory_db
    return {
        "schema": MANIFEST_SCHEMA,
        "pipeline_version": r.pipeline_version,
        "run": {"started_at": r.started_at, "finished_at": r.finished_at, "target": r.target},
        "git": {
            "commit": r.git.commit,
            "branch": r.git.branch,
            "remote": r.git.remote,
            "dirty": r.git.dirty,
        },
        "config_digest": r.config_digest,
        "tools": [
            {
                "scanner": res.scanner,
                "status": res.status.value,
                "name": res.tool.name if res.tool else None,
                "version": res.tool.version if res.tool else None,
                "source": res.tool.source if res.tool else None,
                "implementation": res.tool.implementation if res.tool else None,
            }
            for res in r.results
        ],
        "advisory_database": None if adv is None else asdict(adv),
        "files": {path: {"sha256": sha256(data), "size": len(data)} for path, data in sorted(files.items())},
    }


def load_private_key(text: str) -> Ed25519PrivateKey:
    """A PEM private key, or the base64 of a raw 32-byte Ed25519 seed."""
    try:
        if "BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text.strip(), validate=True))
    except (ValueError, TypeError) as exc:
        raise EvidenceError(f"signing key is not an Ed25519 private key ({type(exc).__name__})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise EvidenceError("signing key is not an Ed25519 private key")
    return key


def load_public_key(text: str) -> Ed25519PublicKey:
    try:
        if "BEGIN" in text:
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
    except (ValueError, TypeError) as exc:
        raise EvidenceError(f"not an Ed25519 public key ({type(exc).__name__})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise EvidenceError("not an Ed25519 public key")
    return key


def public_key_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def check_destination(out: Path) -> None:
    """Refuse to replace anything but a previous evidence bundle (or an empty folder).

    Whoever configured the output folder, an existing folder that is not one of
    our bundles is never renamed aside or deleted: EvidenceError says why.
    """
    if not out.exists() and not out.is_symlink():
        return
    if out.is_symlink() or not out.is_dir():
        raise EvidenceError(f"{out}: exists and is not a folder; choose another output folder")
    if not any(out.iterdir()):
        return
    try:
        doc = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = None
    if not isinstance(doc, dict) or doc.get("schema") != MANIFEST_SCHEMA:
        raise EvidenceError(
            f"{out}: exists and is not an evidence bundle (no {MANIFEST} of ours): it is never "
            "replaced; choose another output folder or remove it yourself"
        )


def write(
    run: RunOutput,
    out: Path,
    templates: Path | None = None,
    signing_key: Ed25519PrivateKey | None = None,
    make_zip: bool = False,
) -> Path:
    """Write the bundle atomically; returns its folder."""
    files = render_files(run, templates or resources.templates_dir())
    doc = manifest(run, files)
    manifest_bytes = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8", UNENCODABLE)
    check_destination(out)
    out = out.resolve()
    check_destination(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the bundle is a normal folder
    try:
        for rel, data in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (staging / MANIFEST).write_bytes(manifest_bytes)
        if signing_key is not None:
            signature = {
                "algorithm": "ed25519",
                "public_key": public_key_text(signing_key),
                "signature": base64.b64encode(signing_key.sign(manifest_bytes)).decode(),
            }
            (staging / SIGNATURE).write_text(json.dumps(signature, indent=2) + "\n")
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{staging.name[-8:]}")
            out.rename(old)
        staging.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if make_zip:
        archive = out.with_suffix(".zip")
        tmp = archive.with_name(f".{archive.name}.tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(p for p in out.rglob("*") if p.is_file()):
                zf.write(path, path.relative_to(out).as_posix())
        os.replace(tmp, archive)
    return out


@dataclass(frozen=True)
class Verification:
    changed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    signature: str = "absent"
    """'absent', 'valid', 'invalid', 'not checked' (signed, no --key given), 'missing'."""
    problems: tuple[str, ...] = field(default=())

    @property
    def intact(self) -> bool:
        return not (self.changed or self.missing or self.extra or self.problems) and self.signature in (
            "valid",
            "absent",
            "not checked",
        )


def read_bundle(bundle: Path) -> dict[str, bytes]:
    if bundle.is_dir():
        return {p.relative_to(bundle).as_posix(): p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    if zipfile.is_zipfile(bundle):
        with zipfile.ZipFile(bundle) as zf:
            return {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}
    raise EvidenceError(f"{bundle}: neither an evidence folder nor a zip of one")


def verify(bundle: Path, public_key: Ed25519PublicKey | None = None) -> Verification:
    """Recompute every digest; report changed, missing and extra files and the signature."""
    contents = read_bundle(bundle)
    if MANIFEST not in contents:
        raise EvidenceError(f"{bundle}: no {MANIFEST}")
    try:
        doc = json.loads(contents[MANIFEST])
        listed: dict[str, dict[str, Any]] = doc["files"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        return Verification(problems=(f"{MANIFEST} is not a valid manifest ({exc})",))
    changed = tuple(
        sorted(
            p
            for p, meta in listed.items()
            if p in contents
            and (sha256(contents[p]) != meta.get("sha256") or len(contents[p]) != meta.get("size"))
        )
    )
    missing = tuple(sorted(p for p in listed if p not in contents))
    extra = tuple(sorted(p for p in contents if p not in listed and p not in (MANIFEST, SIGNATURE)))
    if SIGNATURE not in contents:
        signature = "missing" if public_key is not None else "absent"
    elif public_key is None:
        signature = "not checked"
    else:
        try:
            sig = json.loads(contents[SIGNATURE])
            public_key.verify(base64.b64decode(sig["signature"]), contents[MANIFEST])
            signature = "valid"
        except (InvalidSignature, json.JSONDecodeError, KeyError, ValueError, TypeError):
            signature = "invalid"
    return Verification(changed, missing, extra, signature)
