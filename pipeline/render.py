"""Render Helm charts and kustomize overlays of the target, in a sandbox, for checkov.

checkov's own helm and kustomize frameworks are not used: on a hostile repository
they reach the network (chart dependencies, schema `$ref`, remote kustomize
resources and patches), follow symbolic links out of the target, write
`Chart.lock` and `charts/*.tgz` into it, and drop a chart or overlay that fails to
render without a word. Here each chart and each kustomization is rendered by the
pinned binaries (pipeline/renderers.py) inside bubblewrap:

- no network, no other namespace (`--unshare-all`), an empty environment;
- the target mounted read-only at /src and nothing else of the machine but the
  two static binaries: a link out of the target points at nothing;
- never `helm dependency update`, never `--enable-helm`/plugins for kustomize,
  kustomize's default load restrictor; `--skip-schema-validation` (a
  `values.schema.json` may `$ref` anything);
- output written to files under a per-file size limit (prlimit), with a timeout.

Each rendered document maps back to the file it came from: helm writes each
template to `<chart name>/<path in the chart>`; kustomize is asked for origin
annotations through a copy of the kustomization mounted over the original.
Whatever cannot be rendered is NOT_ASSESSED with the renderer's own message.
Only the chart's default values are rendered.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

import yaml

from pipeline.discover import Inventory
from pipeline.model import NotAssessed
from pipeline.renderers import RenderTools
from pipeline.runner import Runner

ORIGIN = "config.kubernetes.io/origin"
TIMEOUT = 120.0
MAX_OUTPUT_BYTES = 64 * 1024 * 1024
"""Per rendered file (RLIMIT_FSIZE): a template that loops forever stops here."""
SCANNER = "checkov"
UNUSED_COMPONENT = (
    "a kustomize Component no kustomization of the target includes: it cannot be built on its own"
)
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class Rendered:
    """What the renderers produced, for checkov's second job."""

    root: Path
    """Folder of rendered documents (in the run's scratch folder)."""
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Rendered file (relative to root) → the target file it came from."""
    via: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Rendered file → the chart's Chart.yaml or the kustomization that rendered it."""
    inputs: tuple[str, ...] = ()
    """Chart and kustomization files of the target that were rendered."""
    not_assessed: tuple[NotAssessed, ...] = ()
    seconds: float = 0.0

    def parts(self) -> tuple[str, ...]:
        """One folder per chart or kustomization rendered: each is scanned on its own, since
        checkov's graph checks would otherwise let one render satisfy another's (a
        NetworkPolicy of an overlay counting for a chart's pods)."""
        return tuple(sorted({rel.split("/", 1)[0] for rel in self.sources}))

    def part(self, folder: str) -> Rendered:
        """The documents of one render, with paths relative to its own folder."""
        prefix = folder + "/"
        return Rendered(
            root=self.root / folder,
            sources=MappingProxyType(
                {k.removeprefix(prefix): v for k, v in self.sources.items() if k.startswith(prefix)}
            ),
            via=MappingProxyType(
                {k.removeprefix(prefix): v for k, v in self.via.items() if k.startswith(prefix)}
            ),
            inputs=tuple(sorted({v for k, v in self.via.items() if k.startswith(prefix)})),
        )


def charts(inventory: Inventory) -> tuple[str, ...]:
    """Folders of the target's Helm charts (a subchart in `charts/` renders with its parent)."""
    found = sorted(
        str(PurePosixPath(p).parent)
        for p in inventory.iac.get("helm", ())
        if PurePosixPath(p).name == "Chart.yaml"
    )
    return tuple(c for c in found if not any(_inside(c, other) for other in found if other != c))


def kustomizations(inventory: Inventory) -> tuple[str, ...]:
    """Kustomization files of the target (discovery files them under `kustomize`)."""
    return tuple(sorted(inventory.iac.get("kustomize", ())))


def _inside(path: str, folder: str) -> bool:
    return folder == "." or path.startswith(folder + "/")


def sandbox_argv(
    tools: RenderTools,
    root: Path,
    out: Path,
    chdir: str,
    command: tuple[str, ...],
    overlays: tuple[tuple[Path, str], ...] = (),
) -> tuple[str, ...]:
    """bwrap argv: the target read-only at /src, our output folder at /out, nothing else."""
    if tools.bwrap is None or tools.bin_dir is None or tools.prlimit is None:
        raise ValueError(f"no sandbox to render in: {tools.missing}")
    argv: list[str] = [
        tools.prlimit,
        f"--fsize={MAX_OUTPUT_BYTES}",
        "--",
        tools.bwrap,
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--setenv",
        "HOME",
        "/tmp",
        "--setenv",
        "PATH",
        "/opt/bin",
        "--ro-bind",
        str(root),
        "/src",
        "--ro-bind",
        str(tools.bin_dir),
        "/opt/bin",
        "--bind",
        str(out),
        "/out",
        "--tmpfs",
        "/tmp",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]
    for host, inside in overlays:
        argv += ["--ro-bind", str(host), inside]
    argv += ["--chdir", "/src" if chdir in ("", ".") else f"/src/{chdir}", *command]
    return tuple(argv)


def _failure(done: Any) -> str:
    if done.timed_out:
        return f"timed out after {TIMEOUT:.0f} s"
    if done.start_error:
        return f"could not start: {done.start_error}"
    text = " ".join((done.stderr or "").split())
    return f"exit {done.returncode}: {text[:400]}" if text else f"exit {done.returncode}"


def render_all(inventory: Inventory, tools: RenderTools, runner: Runner, out: Path) -> Rendered:
    """Render every chart and kustomization of the inventory into `out`."""
    start = time.monotonic()
    chart_dirs = charts(inventory)
    kusts = kustomizations(inventory)
    if not chart_dirs and not kusts:
        return Rendered(root=out)
    if tools.missing:
        missing = tuple(
            NotAssessed(SCANNER, item, f"not rendered: {tools.missing}")
            for item in [f"{c}/Chart.yaml".removeprefix("./") for c in chart_dirs] + list(kusts)
        )
        return Rendered(root=out, not_assessed=missing)
    out.mkdir(parents=True, exist_ok=True)
    known = {f.path for f in inventory.files}
    sources: dict[str, str] = {}
    via: dict[str, str] = {}
    inputs: list[str] = []
    problems: list[NotAssessed] = []
    for i, chart in enumerate(chart_dirs):
        chart_file = f"{chart}/Chart.yaml".removeprefix("./")
        dest = out / f"helm-{i}"
        dest.mkdir()
        command: tuple[str, ...] = (
            "helm",
            "template",
            "release-name",
            "/src" if chart == "." else f"/src/{chart}",
            "--skip-schema-validation",
            "--output-dir",
            "/out",
        )
        done = runner(sandbox_argv(tools, inventory.root, dest, ".", command), out, {}, TIMEOUT)
        if done.returncode != 0:
            problems.append(NotAssessed(SCANNER, chart_file, f"helm template failed: {_failure(done)}"))
            continue
        inputs.append(chart_file)
        for rendered in _files(dest):
            rel = rendered.relative_to(out).as_posix()
            inner = PurePosixPath(*rendered.relative_to(dest).parts[1:]).as_posix()  # drop the chart name
            source = f"{chart}/{inner}".removeprefix("./")
            sources[rel] = source if source in known else chart_file
            via[rel] = chart_file
    components, used = _components(inventory.root, kusts)
    for i, kust in enumerate(kusts):
        folder = str(PurePosixPath(kust).parent)
        if kust in components:
            if folder not in used:
                problems.append(NotAssessed(SCANNER, kust, UNUSED_COMPONENT))
            continue  # built, and scanned, inside each kustomization that includes it
        dest = out / f"kustomize-{i}"
        dest.mkdir()
        patched = _with_origins(inventory.root / kust, out / f".kustomization-{i}")
        if isinstance(patched, str):
            problems.append(NotAssessed(SCANNER, kust, patched))
            continue
        inside = "/src/" + kust
        command = ("kubectl", "kustomize", ".", "--output", "/out/all.yaml")
        argv = sandbox_argv(tools, inventory.root, dest, folder, command, ((patched, inside),))
        done = runner(argv, out, {}, TIMEOUT)
        if done.returncode != 0:
            problems.append(NotAssessed(SCANNER, kust, f"kustomize build failed: {_failure(done)}"))
            continue
        split = _split_kustomized(dest / "all.yaml", folder, kust)
        if isinstance(split, str):
            problems.append(NotAssessed(SCANNER, kust, split))
            continue
        inputs.append(kust)
        (dest / "all.yaml").unlink()
        for n, (doc, source) in enumerate(split):
            path = dest / f"{n:04d}.yaml"
            path.write_text(yaml.dump(doc, Dumper=_DUMPER, sort_keys=False), encoding="utf-8")
            rel = path.relative_to(out).as_posix()
            sources[rel] = source if source in known else kust
            via[rel] = kust
    return Rendered(
        root=out,
        sources=MappingProxyType(sources),
        via=MappingProxyType(via),
        inputs=tuple(inputs),
        not_assessed=tuple(problems),
        seconds=time.monotonic() - start,
    )


def _components(root: Path, kusts: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """Kustomize Components (`kind: Component`: they cannot be built on their own) and
    the folders the other kustomizations include through `components:`."""
    components: set[str] = set()
    used: set[str] = set()
    for kust in kusts:
        try:
            doc = yaml.load((root / kust).read_text(encoding="utf-8"), Loader=_LOADER)  # nosec B506
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # reported when it is built
        if not isinstance(doc, dict):
            continue
        if doc.get("kind") == "Component":
            components.add(kust)
            continue
        folder = PurePosixPath(kust).parent
        for ref in doc.get("components") or ():
            if isinstance(ref, str) and "://" not in ref:
                used.add(os.path.normpath((folder / ref).as_posix()))
    return components, used


def _files(folder: Path) -> list[Path]:
    """Regular files the renderer wrote, never following a link it may have made."""
    found = []
    for dirpath, _dirs, names in os.walk(folder, followlinks=False):
        for name in names:
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                found.append(path)
    return sorted(found)


def _with_origins(kustomization: Path, dest: Path) -> Path | str:
    """A copy of the kustomization asking for origin annotations; or why it cannot be."""
    try:
        doc = yaml.load(kustomization.read_text(encoding="utf-8"), Loader=_LOADER)  # nosec B506
    except (OSError, UnicodeDecodeError) as exc:
        return f"could not read it: {exc}"
    except yaml.YAMLError as exc:
        return f"not valid YAML: {' '.join(str(exc).split())[:300]}"
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        return "not a kustomization (the document is not a mapping)"
    meta = doc.get("buildMetadata") or []
    if not isinstance(meta, list):
        return "not a kustomization (buildMetadata is not a list)"
    doc["buildMetadata"] = sorted({*map(str, meta), "originAnnotations"})
    dest.write_text(yaml.dump(doc, Dumper=_DUMPER, sort_keys=False), encoding="utf-8")
    return dest


def _split_kustomized(path: Path, folder: str, kust: str) -> list[tuple[dict[str, Any], str]] | str:
    """Each document kustomize built, without our origin annotation, and where it came from."""
    try:
        docs = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_LOADER))  # nosec B506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return f"kustomize output unreadable: {' '.join(str(exc).split())[:300]}"
    out: list[tuple[dict[str, Any], str]] = []
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        source = kust
        metadata = doc.get("metadata")
        annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
        if isinstance(annotations, dict) and ORIGIN in annotations:
            origin = annotations.pop(ORIGIN)
            if not annotations and isinstance(metadata, dict):
                del metadata["annotations"]
            source = _origin_path(origin, folder) or kust
        out.append((doc, source))
    return out


def _origin_path(origin: Any, folder: str) -> str | None:
    """The target-relative file of an origin annotation (`path: ../base/pod.yaml`)."""
    try:
        data = yaml.load(str(origin), Loader=_LOADER)  # nosec B506
    except yaml.YAMLError:
        return None
    path = data.get("path") if isinstance(data, dict) else None
    if not isinstance(path, str) or "://" in path:
        return None
    joined = os.path.normpath(os.path.join(folder, path))
    if joined.startswith("..") or os.path.isabs(joined):
        return None
    return Path(joined).as_posix()


def clear(rendered: Rendered) -> None:
    shutil.rmtree(rendered.root, ignore_errors=True)
