"""Dependency manifests → the list of Python dependencies to audit.

Pure functions of file text (the caller reads files), so every format is
tested without a filesystem. Supported: requirements*.txt (with `-r`
includes), pyproject.toml (PEP 621 and Poetry), poetry.lock, uv.lock,
Pipfile.lock, pylock.toml.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version


def _not_pep440(version: str) -> str:
    return f"{version!r} is not a PEP 440 version"


def canonical_name(name: str) -> str:
    """PEP 503 normalised name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Dependency:
    name: str
    """PEP 503 normalised."""
    source: str
    """The manifest it came from, relative to the target."""
    version: str | None = None
    """Set when the manifest pins one exact version."""
    specifier: str = ""
    """The version range when not pinned (e.g. '>=2,<3')."""
    unauditable: str | None = None
    """Why no vulnerability service can check it (a URL, a local path…)."""
    line: int | None = None
    """1-based line of the manifest where it is declared (for a lock file, its entry)."""
    requirement: str = ""
    """The requirement as written there (e.g. `Django==3.2.18; python_version < "3.8"`)."""
    marker: str | None = None
    """Its PEP 508 environment marker, if any (evaluated by pip-audit's plan)."""
    direct: bool = True
    """False for an entry of a lock file that nothing in the project names directly."""

    @property
    def pinned(self) -> bool:
        return self.version is not None

    @property
    def where(self) -> str:
        """`file:line`, or the file when the line is not known."""
        return f"{self.source}:{self.line}" if self.line else self.source


@dataclass(frozen=True)
class ManifestProblem:
    source: str
    message: str


ReadText = Callable[[str], str | None]
"""Read a file relative to the target; None when it does not exist or cannot be read."""


def parse_requirement(line: str, source: str) -> Dependency | None:
    """One requirement specifier (PEP 508: extras, markers; --hash options allowed).

    Anything pip-audit could not read is returned as unauditable, so one bad line
    never makes the tool reject the whole file.
    """
    spec = line.strip()
    if spec.startswith(("-e ", "--editable")):
        return Dependency(spec, source, unauditable="editable install, not a registry requirement")
    spec = re.split(r"\s+--?[A-Za-z]", spec)[0].strip()
    if not spec:
        return None
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        why = str(exc).splitlines()[0]
        return Dependency(spec, source, unauditable=f"not a valid requirement ({why})")
    name = canonical_name(req.name)
    if req.url:
        return Dependency(name, source, unauditable="direct URL reference, not a registry release")
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        try:
            return Dependency(name, source, version=str(Version(specs[0].version)))
        except InvalidVersion:
            return Dependency(name, source, unauditable=_not_pep440(specs[0].version))
    return Dependency(name, source, specifier=str(req.specifier))


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    buf = ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0] if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        lines.append((buf + line).strip())
        buf = ""
    if buf:
        lines.append(buf.strip())
    return [ln for ln in lines if ln]


def parse_requirements(
    path: str, read: ReadText, _seen: frozenset[str] = frozenset()
) -> tuple[list[Dependency], list[ManifestProblem]]:
    """A requirements file and the files it includes with -r (cycles are reported)."""
    deps: list[Dependency] = []
    problems: list[ManifestProblem] = []
    text = read(path)
    if text is None:
        return deps, [ManifestProblem(path, "cannot be read")]
    seen = _seen | {path}
    for line in _logical_lines(text):
        m = re.match(r"^(-r|--requirement)[\s=]+(\S+)", line)
        if m:
            inc = str(PurePosixPath(path).parent / m.group(2))
            inc = str(PurePosixPath(*_normalise_parts(inc)))
            if inc in seen:
                problems.append(ManifestProblem(path, f"include cycle through {inc}"))
                continue
            sub_deps, sub_problems = parse_requirements(inc, read, seen)
            deps.extend(sub_deps)
            problems.extend(sub_problems)
            continue
        if line.startswith("-") and not line.startswith(("-e", "--editable")):
            continue  # -c, --index-url, --hash lines and other options
        dep = parse_requirement(line, path)
        if dep is not None:
            deps.append(dep)
    return deps, problems


def _normalise_parts(path: str) -> list[str]:
    parts: list[str] = []
    for part in PurePosixPath(path).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return parts or ["."]


def _toml(text: str, source: str) -> tuple[dict[str, Any] | None, list[ManifestProblem]]:
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        return None, [ManifestProblem(source, f"not valid TOML: {exc}")]


def parse_pyproject(text: str, source: str) -> tuple[list[Dependency], list[ManifestProblem]]:
    data, problems = _toml(text, source)
    if data is None:
        return [], problems
    specs: list[str] = []
    project = data.get("project", {})
    specs.extend(project.get("dependencies", []) or [])
    for group in (project.get("optional-dependencies", {}) or {}).values():
        specs.extend(group)
    for group in (data.get("dependency-groups", {}) or {}).values():
        specs.extend(s for s in group if isinstance(s, str))
    deps = [d for s in specs if isinstance(s, str) for d in [parse_requirement(s, source)] if d]
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {}) or {}
    for name, spec in poetry.items():
        if canonical_name(name) == "python":
            continue
        version = spec if isinstance(spec, str) else (spec or {}).get("version")
        if not isinstance(version, str):
            why = "not a registry requirement"
            deps.append(Dependency(canonical_name(name), source, unauditable=why))
            continue
        constraint = version.strip()
        if constraint == "*":
            constraint = ""
        elif constraint[:1].isdigit():
            constraint = "==" + constraint  # Poetry: a bare version is an exact pin
        dep = parse_requirement(f"{name}{constraint}", source)
        if dep is None or dep.unauditable:
            why = f"Poetry constraint {version!r} is not PEP 440: audit its poetry.lock instead"
            dep = Dependency(canonical_name(name), source, unauditable=why)
        deps.append(dep)
    return deps, problems


def _locked(name: object, version: object, source: str, local: bool) -> Dependency | None:
    if not isinstance(name, str):
        return None
    if local or not isinstance(version, str):
        return Dependency(canonical_name(name), source, unauditable="not from a package index")
    try:
        return Dependency(canonical_name(name), source, version=str(Version(version)))
    except InvalidVersion:
        return Dependency(canonical_name(name), source, unauditable=_not_pep440(version))


def parse_poetry_lock(text: str, source: str) -> tuple[list[Dependency], list[ManifestProblem]]:
    data, problems = _toml(text, source)
    deps: list[Dependency] = []
    for pkg in (data or {}).get("package", []):
        src_type = (pkg.get("source") or {}).get("type")
        local = src_type in ("directory", "file", "git", "url")
        dep = _locked(pkg.get("name"), pkg.get("version"), source, local)
        if dep:
            deps.append(dep)
    return deps, problems


def parse_uv_lock(text: str, source: str) -> tuple[list[Dependency], list[ManifestProblem]]:
    data, problems = _toml(text, source)
    deps: list[Dependency] = []
    for pkg in (data or {}).get("package", []):
        src = pkg.get("source") or {}
        if "editable" in src or "virtual" in src:
            continue  # the project itself (or a workspace member), not a dependency
        local = "registry" not in src
        dep = _locked(pkg.get("name"), pkg.get("version"), source, local)
        if dep:
            deps.append(dep)
    return deps, problems


def parse_pylock(text: str, source: str) -> tuple[list[Dependency], list[ManifestProblem]]:
    data, problems = _toml(text, source)
    deps: list[Dependency] = []
    for pkg in (data or {}).get("packages", []):
        local = any(k in pkg for k in ("vcs", "directory", "archive"))
        dep = _locked(pkg.get("name"), pkg.get("version"), source, local)
        if dep:
            deps.append(dep)
    return deps, problems


def parse_pipfile_lock(text: str, source: str) -> tuple[list[Dependency], list[ManifestProblem]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [ManifestProblem(source, f"not valid JSON: {exc}")]
    deps: list[Dependency] = []
    if not isinstance(data, dict):
        return [], [ManifestProblem(source, "not a Pipfile.lock object")]
    for section in ("default", "develop"):
        for name, info in (data.get(section) or {}).items():
            version = info.get("version") if isinstance(info, dict) else None
            local = isinstance(info, dict) and any(k in info for k in ("path", "git", "file"))
            if isinstance(version, str):
                version = version.removeprefix("==")
            dep = _locked(name, version, source, local)
            if dep:
                deps.append(dep)
    return deps, []


LOCKFILES: dict[str, Callable[[str, str], tuple[list[Dependency], list[ManifestProblem]]]] = {
    "poetry.lock": parse_poetry_lock,
    "uv.lock": parse_uv_lock,
    "Pipfile.lock": parse_pipfile_lock,
    "pylock.toml": parse_pylock,
}


def manifest_kind(path: str) -> str | None:
    """Which manifest format a path is, by name; None when it is not one."""
    name = PurePosixPath(path).name
    if name in LOCKFILES:
        return name
    if re.fullmatch(r"pylock\.[^.]+\.toml", name):
        return "pylock.toml"
    if name == "pyproject.toml":
        return name
    parent = PurePosixPath(path).parent.name
    if name.endswith(".txt") and (name.startswith("requirements") or parent == "requirements"):
        return "requirements"
    return None


def collect(paths: list[str], read: ReadText) -> tuple[list[Dependency], list[ManifestProblem]]:
    """All dependencies of all manifests; a pyproject.toml next to a lock file defers to it."""
    deps: list[Dependency] = []
    problems: list[ManifestProblem] = []
    kinds = {p: manifest_kind(p) for p in paths}
    locked_dirs = {str(PurePosixPath(p).parent) for p, k in kinds.items() if k in LOCKFILES}
    for path in sorted(paths):
        kind = kinds[path]
        if kind == "requirements":
            d, pr = parse_requirements(path, read)
        else:
            text = read(path)
            if text is None:
                problems.append(ManifestProblem(path, "cannot be read"))
                continue
            if kind == "pyproject.toml":
                if str(PurePosixPath(path).parent) in locked_dirs:
                    continue
                d, pr = parse_pyproject(text, path)
            elif kind in LOCKFILES:
                d, pr = LOCKFILES[kind](text, path)
            else:
                continue
        deps.extend(d)
        problems.extend(pr)
    return deps, problems
