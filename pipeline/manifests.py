"""Dependency manifests → the list of Python dependencies to audit.

Pure functions of file text (the caller reads files), so every format is
tested without a filesystem. Nothing in a manifest is ever executed or
imported: setup.py is read with `ast`, YAML is composed with the safe loader.

Kinds (`manifest_kind`, docs/dependencies.md): requirements files (`-r`/`-c`
includes, cycles reported), constraints files, pyproject.toml (PEP 621,
PEP 735 dependency groups, Poetry, PDM, Hatch, uv), setup.cfg, setup.py,
Pipfile, Pipfile.lock, poetry.lock, uv.lock, pdm.lock, pylock.toml and conda
environment files.

Every record carries the line where it is declared (for a lock file, the line
of its entry's name), the requirement as written there and its PEP 508
marker. A package declared twice with different markers, or locked at two
versions, gives two records. Whatever cannot be read becomes a
ManifestProblem ("line N: …") or an unauditable Dependency; the rest of the
manifest is still read, and no input makes these functions raise.
"""

from __future__ import annotations

import ast
import configparser
import json
import re
import tomllib
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

import yaml
from packaging.markers import InvalidMarker, Marker
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
    """Starts with "line N: " when the line is known."""
    line: int | None = None


ReadText = Callable[[str], str | None]
"""Read a file relative to the target; None when it does not exist or cannot be read."""

Parsed = tuple[list[Dependency], list[ManifestProblem]]
TextParser = Callable[[str, str], Parsed]


def _redact(text: str) -> str:
    """Drop the user:password@ of URLs: what we report must not carry the credentials in them."""
    return re.sub(r"(?<=://)[^/@\s]*@", "", text) if "@" in text else text


def _problem(source: str, line: int | None, message: str) -> ManifestProblem:
    message = _redact(message)
    return ManifestProblem(source, f"line {line}: {message}" if line else message, line)


def _type(value: object) -> str:
    return type(value).__name__


# --- markers --------------------------------------------------------------------------


def _marker(text: object) -> str | None:
    """A PEP 508 marker, normalised as packaging prints it; None when absent or invalid."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return str(Marker(text))
    except (InvalidMarker, RecursionError):
        return None


def _any_of(markers: list[str]) -> str | None:
    """Markers joined by `or`; None (applies everywhere) when one is unknown."""
    if not markers:
        return None
    if len(markers) == 1:
        return _marker(markers[0])
    return _marker(" or ".join(f"({m})" for m in dict.fromkeys(markers)))


def _all_of(*markers: str | None) -> str | None:
    present = [m for m in markers if m]
    if len(present) <= 1:
        return _marker(present[0]) if present else None
    return _marker(" and ".join(f"({m})" for m in present))


# --- one requirement ----------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s*=\s*|\s+)?(.*)$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^file:")
_PATHLIKE = re.compile(r"^(?:\.\.?(?:[/\\]|$)|[/\\~]|[A-Za-z]:[/\\])")
_ARCHIVE = re.compile(r"\.(?:whl|zip|tar\.gz|tgz|tar\.bz2|tbz|tar\.xz|txz|tar)$", re.IGNORECASE)


def parse_requirement(
    text: str, source: str, lineno: int | None = None, *, direct: bool = True
) -> Dependency | None:
    """One requirement specifier (PEP 508: extras, markers; --hash options allowed).

    Anything pip-audit could not read is returned as unauditable, so one bad line
    never makes the tool reject the whole file.
    """
    raw = _redact(text.strip())
    if not raw:
        return None

    def unauditable(name: str, why: str, marker: str | None = None) -> Dependency:
        return Dependency(
            name, source, unauditable=why, line=lineno, requirement=spec, marker=marker, direct=direct
        )

    editable = _EDITABLE.match(raw)
    if editable:
        spec = raw
        egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", raw)
        name = canonical_name(egg.group(1)) if egg else editable.group(1).strip() or raw
        return unauditable(name, "editable install, not a registry requirement")
    # pip's own rule: the requirement ends at the first token starting with "-" (--hash=…)
    args: list[str] = []
    for token in raw.split(" "):
        if token.startswith("-"):
            break
        args.append(token)
    spec = " ".join(args).strip()
    if not spec:
        return None
    if _URL.match(spec) or _PATHLIKE.match(spec) or (_ARCHIVE.search(spec) and "@" not in spec):
        return unauditable(spec, "a local path or URL, not a registry requirement")
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        why = str(exc).splitlines()[0]
        return unauditable(spec, f"not a valid requirement ({why})")
    except RecursionError:
        return unauditable(spec, "not a valid requirement (nested too deeply)")
    name = canonical_name(req.name)
    marker = str(req.marker) if req.marker else None
    if req.url:
        return unauditable(name, "direct URL reference, not a registry release", marker)
    dep = Dependency(name, source, line=lineno, requirement=spec, marker=marker, direct=direct)
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        try:
            return replace(dep, version=str(Version(specs[0].version)))
        except InvalidVersion:
            return replace(dep, unauditable=_not_pep440(specs[0].version))
    return replace(dep, specifier=str(req.specifier))


def _named(
    name: str, constraint: str, source: str, line: int | None, requirement: str, marker: str | None
) -> Dependency:
    """A dependency given as a name and a PEP 440 constraint (Poetry, Pipfile)."""
    base = Dependency(canonical_name(name), source, line=line, requirement=requirement, marker=marker)
    if not _NAME.fullmatch(name):
        return replace(base, name=name, unauditable=f"{name!r} is not a valid package name")
    dep = parse_requirement(f"{name}{constraint}", source, line)
    if dep is None:
        return replace(base, unauditable="not a valid requirement")
    return replace(dep, requirement=requirement, marker=marker)


def _inline(value: object, depth: int = 0) -> str:
    """A TOML value as it could be written inline (for `requirement`)."""
    if depth > 4:
        return "…"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v, depth + 1) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_inline(v, depth + 1)}" for k, v in value.items()) + "}"
    return str(value)


# --- requirements files ---------------------------------------------------------------------

_INCLUDE = re.compile(r"^(--requirement|--constraint|-r|-c)(?:\s*=\s*|\s+)?(.*)$")


def _strip_comment(line: str) -> str:
    """pip's `(^|\\s+)#.*$` without its quadratic backtracking on long blank runs."""
    i = line.find("#")
    while i != -1:
        if i == 0 or line[i - 1].isspace():
            return line[:i]
        i = line.find("#", i + 1)
    return line


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """pip's join_lines and ignore_comments: (first physical line, logical line)."""
    out: list[tuple[int, str]] = []
    parts: list[str] = []
    first = 0
    for number, line in enumerate(text.splitlines(), 1):
        comment = line.lstrip().startswith("#")
        if line.endswith("\\") and not comment:
            if not parts:
                first = number
            parts.append(line.strip("\\"))
            continue
        if parts:
            joined, start = "".join([*parts, " " + line if comment else line]), first
            parts = []
        else:
            joined, start = line, number
        cleaned = _strip_comment(joined).strip()
        if cleaned:
            out.append((start, cleaned))
    if parts:
        cleaned = _strip_comment("".join(parts)).strip()
        if cleaned:
            out.append((first, cleaned))
    return out


def _relative(base: str, target: str) -> tuple[str | None, str]:
    """`target`, named in the manifest `base`, as a target-relative path; else why not."""
    if _URL.match(target):
        return None, "a URL, not read"
    if target.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[/\\]", target):
        return None, "an absolute path, not read"
    parts = list(PurePosixPath(base).parent.parts)
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None, "outside the target, not read"
            parts.pop()
        else:
            parts.append(part)
    if not parts:
        return None, "not a file"
    return "/".join(parts), ""


def _read_elsewhere(source: str, target: str, label: str, line: int | None) -> list[ManifestProblem]:
    """A file that a manifest names (`file:`, `-r` in a conda file): fine when collect() reads it."""
    if not target:
        return [_problem(source, line, f"{label}: no file name")]
    path, why = _relative(source, target)
    if path is None:
        return [_problem(source, line, f"{label}: {why}")]
    if manifest_kind(path) in ("requirements", "constraints"):
        return []
    why = f"{path} is not a requirements file name we read: not assessed"
    return [_problem(source, line, f"{label}: {why}")]


def parse_requirements(path: str, read: ReadText, *, constraint: bool = False) -> Parsed:
    """A requirements file and the files it includes with -r/-c (cycles are reported).

    Entries of a constraints file (`-c`, or `constraint=True` for the file
    itself) pin versions without being requirements: `direct=False`. Each
    included file is read once, however many times it is named.
    """
    text = read(path)
    if text is None:
        return [], [ManifestProblem(path, "cannot be read")]
    deps: list[Dependency] = []
    problems: list[ManifestProblem] = []
    visited = {(path, constraint)}
    frames = [(path, constraint, iter(_logical_lines(text)))]
    chain = [path]
    while frames:
        current, is_constraint, lines = frames[-1]
        item = next(lines, None)
        if item is None:
            frames.pop()
            chain.pop()
            continue
        number, line = item
        include = _INCLUDE.match(line)
        if include:
            option, rest = include.group(1), include.group(2).split()
            target = rest[0] if rest else ""
            nested = option in ("-c", "--constraint")  # pip: -r inside a constraints file is a requirement
            inc, why = _relative(current, target) if target else (None, "")
            if not target:
                problems.append(_problem(current, number, f"{option} without a file name"))
            elif inc is None:
                problems.append(_problem(current, number, f"{option} {target}: {why}"))
            elif inc in chain:
                problems.append(_problem(current, number, f"include cycle through {inc}"))
            elif (inc, nested) not in visited:
                visited.add((inc, nested))
                sub = read(inc)
                if sub is None:
                    why = f"{option} {target}: the included file ({inc}) cannot be read"
                    problems.append(_problem(current, number, why))
                else:
                    frames.append((inc, nested, iter(_logical_lines(sub))))
                    chain.append(inc)
            continue
        if line.startswith("-") and not _EDITABLE.match(line):
            continue  # --index-url, --hash, --pre and the other options
        dep = parse_requirement(line, current, number, direct=not is_constraint)
        if dep is not None:
            deps.append(dep)
    return _dedupe(deps), list(dict.fromkeys(problems))


# --- where things are in a TOML file ---------------------------------------------------------

_TOML_KEY = r"""(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_-]+)"""
_HEADER = re.compile(rf"^\s*\[\[?\s*({_TOML_KEY}(?:\s*\.\s*{_TOML_KEY})*)\s*\]\]?\s*(?:#.*)?$")
_KEY_LINE = re.compile(rf"^\s*({_TOML_KEY}(?:\s*\.\s*{_TOML_KEY})*)\s*=")
_KEY_PART = re.compile(_TOML_KEY)
# A string runs to its closing quote or to the end of the line, so the scan never backtracks
# (a line of `"\"\"\"…` would otherwise cost quadratic time).
_STRING = re.compile(r""""(?:[^"\\\n]|\\.?)*(?:"|$)|'[^'\n]*(?:'|$)|#""")


def _unquote(literal: str) -> str | None:
    if literal.startswith("'"):
        return literal[1:-1]
    if "\\" not in literal:
        return literal[1:-1]
    try:
        value = json.loads(literal)  # TOML basic-string escapes are JSON's, bar a few
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _key_parts(dotted: str) -> tuple[str, ...]:
    parts = []
    for raw in _KEY_PART.findall(dotted):
        value = _unquote(raw) if raw[:1] in "\"'" else raw
        parts.append(value if value is not None else raw)
    return tuple(parts)


@dataclass(frozen=True)
class _TomlLines:
    """Line numbers of a TOML file's tables, keys and string literals, found in one pass."""

    keys: dict[tuple[str, ...], int]
    """Absolute dotted path of a table header or an assigned key → its first line."""
    strings: dict[str, list[int]] = field(default_factory=dict)
    """String literal value → the lines where it appears, in order."""

    @staticmethod
    def of(text: str, strings: bool = True) -> _TomlLines:
        keys: dict[tuple[str, ...], int] = {}
        found: dict[str, list[int]] = {}
        table: tuple[str, ...] = ()
        for number, line in enumerate(text.split("\n"), 1):
            stripped = line.lstrip()
            if stripped.startswith("["):
                header = _HEADER.match(line)
                if header:
                    table = _key_parts(header.group(1))
                    keys.setdefault(table, number)
                    continue
            else:
                key = _KEY_LINE.match(line)
                if key:
                    keys.setdefault(table + _key_parts(key.group(1)), number)
            if strings and ('"' in line or "'" in line):
                for literal in _STRING.findall(line):
                    if literal == "#":
                        break
                    if len(literal) < 2 or literal[-1] != literal[0]:
                        continue  # not closed on this line
                    value = _unquote(literal)
                    if value is not None:
                        found.setdefault(value, []).append(number)
        return _TomlLines(keys, found)

    def line_of(self, path: tuple[str, ...]) -> int | None:
        """The line of a key or table; else of its closest enclosing one that is written out."""
        for end in range(len(path), 0, -1):
            line = self.keys.get(path[:end])
            if line:
                return line
        return None


def _claim(unclaimed: dict[str, list[int]], value: str, after: int) -> int | None:
    """The first line at or after `after` holding the literal `value`, not claimed before."""
    lines = unclaimed.get(value)
    if not lines:
        return None
    i = bisect_left(lines, after)
    return lines.pop(i) if i < len(lines) else None


def _toml(text: str, source: str) -> tuple[dict[str, Any] | None, list[ManifestProblem]]:
    try:
        return tomllib.loads(text), []
    except ValueError as exc:  # TOMLDecodeError, and integers past Python's digit limit
        message = str(exc)
        at = re.search(r"\s*\(at line (\d+), column \d+\)", message)
        line = int(at.group(1)) if at else None
        message = message.replace(at.group(0), "") if at else message
        return None, [_problem(source, line, f"not valid TOML ({message})")]
    except RecursionError:
        return None, [_problem(source, None, "not valid TOML (nested too deeply)")]


# --- pyproject.toml -----------------------------------------------------------------------------


def _poetry_specifier(constraint: str) -> tuple[str, str | None]:
    """A Poetry version constraint as a PEP 440 specifier; else why it has none."""
    text = constraint.strip()
    if "|" in text:
        return "", "is a union of ranges ('||'), not one PEP 440 specifier"
    text = re.sub(r"(\^|~=|~|===|==|!=|<=|>=|<|>|=)\s+", r"\1", text)
    out: list[str] = []
    for term in re.split(r"[\s,]+", text):
        if not term or term == "*":
            continue
        if term[0] in "^~" and not term.startswith("~="):
            bounds = _caret_tilde(term[0], term[1:])
            if bounds is None:
                return "", "is not PEP 440"
            out.extend(bounds)
        elif term.startswith(("~=", "==", "!=", "<=", ">=", "<", ">")):
            out.append(term)
        elif term[0] == "=":
            out.append("=" + term)
        else:
            out.append("==" + term)  # Poetry: a bare version is an exact pin
    return ",".join(out), None


def _caret_tilde(operator: str, version: str) -> list[str] | None:
    """Poetry's ^ and ~ as the range poetry-core gives them (next_breaking / next minor)."""
    try:
        release = Version(version).release
    except InvalidVersion:
        return None
    n = len(release)
    if operator == "~":
        upper = (release[0] + 1,) if n == 1 else (release[0], release[1] + 1, *(0,) * (n - 2))
    elif release[0] > 0 or n == 1:
        upper = (release[0] + 1, *(0,) * (n - 1))
    elif release[1] > 0 or n == 2:
        upper = (0, release[1] + 1, *(0,) * (n - 2))
    else:
        upper = (0, 0, release[2] + 1, *(0,) * (n - 3))
    return [f">={version}", "<" + ".".join(str(p) for p in upper)]


def _python_marker(constraint: object) -> str | None:
    """Poetry's `python = "^3.8"` as a marker; None for any Python or when it cannot be said."""
    if not isinstance(constraint, str):
        return None
    alternatives: list[str] = []
    for alternative in constraint.split("||"):
        spec, why = _poetry_specifier(alternative)
        terms = [t for t in spec.split(",") if t]
        if why or not terms:
            return None
        parts = []
        for term in terms:
            m = re.fullmatch(r"(===|~=|==|!=|<=|>=|<|>)(\S+)", term)
            if not m:
                return None
            op, ver = m.groups()
            var = "python_full_version" if ver.count(".") >= 2 and not ver.endswith("*") else "python_version"
            parts.append(f'{var} {op} "{ver}"')
        alternatives.append(" and ".join(parts))
    if len(alternatives) == 1:
        return _marker(alternatives[0])
    return _marker(" or ".join(f"({a})" for a in alternatives))


_VCS_OR_LOCAL = ("git", "hg", "svn", "bzr", "path", "file", "url")


def _table_version(base: Dependency, spec: object, marker: str | None, kind: str) -> str | Dependency:
    """The version constraint of a Poetry or Pipfile entry (`"^1.2"` or `{version = …}`),
    or the entry as unauditable (a VCS or local source, a version of the wrong type)."""
    if isinstance(spec, str):
        return spec
    if not isinstance(spec, dict):
        return replace(base, unauditable=f"not a {kind} specification ({_type(spec)})")
    local = next((k for k in _VCS_OR_LOCAL if k in spec), None)
    if local:
        return replace(base, marker=marker, unauditable=f"a {local} dependency, not a registry release")
    version = spec.get("version", "*")
    if not isinstance(version, str):
        return replace(base, marker=marker, unauditable=f"its version is not a string ({_type(version)})")
    return version


def _poetry_dependency(name: str, spec: object, source: str, line: int | None) -> Dependency:
    requirement = _redact(f"{name} = {_inline(spec)}")
    base = Dependency(canonical_name(name), source, line=line, requirement=requirement)
    marker = None
    if isinstance(spec, dict):
        marker = _all_of(_python_marker(spec.get("python")), _marker(spec.get("markers")))
    version = _table_version(base, spec, marker, "Poetry dependency")
    if isinstance(version, Dependency):
        return version
    pep440, why = _poetry_specifier(version)
    audit_lock = "audit its poetry.lock instead"
    if why:
        return replace(base, marker=marker, unauditable=f"Poetry constraint {version!r} {why}: {audit_lock}")
    dep = _named(name, pep440, source, line, requirement, marker)
    if dep.unauditable and _NAME.fullmatch(name):
        why = f"Poetry constraint {version!r} is not PEP 440: {audit_lock}"
        return replace(dep, unauditable=why)
    return dep


class _Pyproject:
    """Reads one pyproject.toml (internal accumulator of `parse_pyproject`)."""

    def __init__(self, text: str, source: str, data: dict[str, Any]) -> None:
        self.source = source
        self.data = data
        self.lines = _TomlLines.of(text)
        self.unclaimed = {value: list(lines) for value, lines in self.lines.strings.items()}
        self.deps: list[Dependency] = []
        self.problems: list[ManifestProblem] = []

    def wrong(self, path: tuple[str, ...], value: object, expected: str, line: int | None = None) -> None:
        why = f"{'.'.join(path)}: expected {expected}, got {_type(value)}"
        self.problems.append(_problem(self.source, line or self.lines.line_of(path), why))

    def table(self, path: tuple[str, ...]) -> dict[str, Any] | None:
        node: object = self.data
        for i, key in enumerate(path):
            if not isinstance(node, dict):
                self.wrong(path[:i], node, "a table")
                return None
            node = node.get(key)
            if node is None:
                return None
        if not isinstance(node, dict):
            self.wrong(path, node, "a table")
            return None
        return node

    def requirements(self, path: tuple[str, ...], value: object, groups: bool = False) -> None:
        """A list of PEP 508 strings (PEP 621, PEP 735, PDM, Hatch, uv)."""
        if value is None:
            return
        if not isinstance(value, list):
            self.wrong(path, value, "a list of requirement strings")
            return
        anchor = self.lines.line_of(path)
        for i, item in enumerate(value):
            if isinstance(item, str):
                line = _claim(self.unclaimed, item, anchor or 0) or anchor
                dep = parse_requirement(item, self.source, line)
                if dep is not None:
                    self.deps.append(dep)
            elif groups and isinstance(item, dict) and isinstance(item.get("include-group"), str):
                continue  # PEP 735: the included group is read on its own
            else:
                self.wrong((*path[:-1], f"{path[-1]}[{i}]"), item, "a requirement string", anchor)

    def requirement_tables(self, path: tuple[str, ...], groups: bool = False) -> None:
        table = self.table(path)
        for name, value in (table or {}).items():
            self.requirements((*path, name), value, groups)

    def poetry(self, path: tuple[str, ...]) -> None:
        for name, spec in (self.table(path) or {}).items():
            if canonical_name(name) == "python":
                continue
            line = self.lines.line_of((*path, name))
            alternatives = spec if isinstance(spec, list) else [spec]
            if not alternatives:
                why = "an empty list of Poetry constraints"
                self.deps.append(Dependency(canonical_name(name), self.source, unauditable=why, line=line))
            for alternative in alternatives:
                self.deps.append(_poetry_dependency(name, alternative, self.source, line))

    def setuptools_dynamic(self) -> None:
        """`dynamic` dependencies read from files: fine when those files are requirements files."""
        path = ("tool", "setuptools", "dynamic")
        dynamic = self.table(path)
        if not dynamic:
            return
        specs: list[tuple[tuple[str, ...], object]] = []
        if "dependencies" in dynamic:
            specs.append(((*path, "dependencies"), dynamic["dependencies"]))
        extras = dynamic.get("optional-dependencies")
        if isinstance(extras, dict):
            specs += [((*path, "optional-dependencies", k), v) for k, v in extras.items()]
        elif extras is not None:
            self.wrong((*path, "optional-dependencies"), extras, "a table")
        for where, spec in specs:
            files = spec.get("file") if isinstance(spec, dict) else None
            names = [files] if isinstance(files, str) else files
            if not isinstance(names, list) or not all(isinstance(f, str) for f in names):
                self.wrong((*where, "file"), files, "a file name or a list of them")
                continue
            for name in names:
                line = self.lines.line_of(where)
                self.problems += _read_elsewhere(self.source, name, ".".join(path), line)


def parse_pyproject(text: str, source: str) -> Parsed:
    data, problems = _toml(text, source)
    if data is None:
        return [], problems
    r = _Pyproject(text, source, data)
    project = r.table(("project",))
    if project is not None:
        r.requirements(("project", "dependencies"), project.get("dependencies"))
        r.requirement_tables(("project", "optional-dependencies"))
    r.requirement_tables(("dependency-groups",), groups=True)
    r.poetry(("tool", "poetry", "dependencies"))
    for group, table in (r.table(("tool", "poetry", "group")) or {}).items():
        if isinstance(table, dict):
            r.poetry(("tool", "poetry", "group", group, "dependencies"))
        else:
            r.wrong(("tool", "poetry", "group", group), table, "a table")
    r.poetry(("tool", "poetry", "dev-dependencies"))
    uv = r.table(("tool", "uv"))
    if uv is not None:
        r.requirements(("tool", "uv", "dev-dependencies"), uv.get("dev-dependencies"))
    r.requirement_tables(("tool", "pdm", "dev-dependencies"))
    for env, config in (r.table(("tool", "hatch", "envs")) or {}).items():
        if not isinstance(config, dict):
            r.wrong(("tool", "hatch", "envs", env), config, "a table")
            continue
        for key in ("dependencies", "extra-dependencies"):
            r.requirements(("tool", "hatch", "envs", env, key), config.get(key))
    r.setuptools_dynamic()
    own = project.get("name") if project is not None else None
    if isinstance(own, str) and own.strip():
        # `requests[socks]` in requests' own dependency groups is the project itself
        # with an extra, not a dependency to audit.
        r.deps = [d for d in r.deps if d.name != canonical_name(own.strip())]
    return r.deps, list(dict.fromkeys(r.problems))


# --- setup.cfg -------------------------------------------------------------------------------------


def _cfg_options(text: str) -> dict[tuple[str, str], tuple[int, list[tuple[int, str]]]]:
    """(section, option) → its line and the (line, text) of each line of its value."""
    out: dict[tuple[str, str], tuple[int, list[tuple[int, str]]]] = {}
    section: str | None = None
    option: tuple[str, str] | None = None
    for number, raw in enumerate(text.split("\n"), 1):
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if raw[0] in " \t" and option is not None:
            out[option][1].append((number, stripped))
            continue
        header = re.match(r"^\[([^\]]+)\]", raw)
        if header:
            section, option = header.group(1).strip(), None
            continue
        delimiter = re.search("[=:]", raw)
        if delimiter and section is not None and raw[: delimiter.start()].strip():
            option = (section, raw[: delimiter.start()].strip().lower())
            value = raw[delimiter.end() :].strip()
            out.setdefault(option, (number, [(number, value)] if value else []))
        else:
            option = None
    return out


def _cfg_list(value: str) -> list[str]:
    """setuptools' list-semi: one per line, or `;`-separated on one line; `#` lines dropped."""
    chunks = value.splitlines() if "\n" in value else value.split(";")
    return [c.strip() for c in chunks if c.strip() and not c.strip().startswith("#")]


def parse_setup_cfg(text: str, source: str) -> Parsed:
    """setup.cfg `[options] install_requires` and `[options.extras_require]`."""
    blanks = re.search(r"[ \t]{200}", text)
    if blanks:
        # configparser's option pattern takes time quadratic in a run of blanks
        at = text.count("\n", 0, blanks.start()) + 1
        why = "a run of 200 or more blanks: not read (configparser is quadratic in it)"
        return [], [_problem(source, at, why)]
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=source)
    except configparser.Error as exc:
        errors = getattr(exc, "errors", None)
        where: int | None = getattr(exc, "lineno", None) or (errors[0][0] if errors else None)
        why = exc.message.splitlines()[0]
        return [], [_problem(source, where, f"not a valid setup.cfg ({why})")]
    options = _cfg_options(text)
    values: list[tuple[str, str, str | None]] = []  # (section, option, value)
    if parser.has_section("options"):
        for option in ("install_requires", "install-requires"):
            values.append(("options", option, parser.get("options", option, fallback=None)))
    for section in ("options.extras_require", "options.extras-require"):
        if parser.has_section(section):
            values += [(section, k, v) for k, v in parser.items(section, raw=True)]
    deps: list[Dependency] = []
    problems: list[ManifestProblem] = []
    for section, option, value in values:
        if value is None:
            continue
        key_line, lines = options.get((section, option), (None, []))
        label = option if section == "options" else f"extras_require[{option!r}]"
        if value.strip().startswith("file:"):
            for name in value.strip()[len("file:") :].split(","):
                problems += _read_elsewhere(source, name.strip(), label, key_line)
            continue
        position = 0
        for spec in _cfg_list(value):
            line = key_line
            for i in range(position, len(lines)):
                if spec == lines[i][1]:
                    line, position = lines[i][0], i + 1
                    break
                if spec in lines[i][1]:
                    line, position = lines[i][0], i
                    break
            dep = parse_requirement(spec, source, line)
            if dep is not None:
                deps.append(dep)
    return deps, problems


# --- setup.py (read with ast, never executed) ---------------------------------------------------

_SETUP_MODULES = ("setuptools", "distutils.core", "setuptools._distutils.core")


def _short(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):
        text = "…"
    return text if len(text) <= 40 else text[:39] + "…"


class _SetupPy:
    """Finds setup() calls and the literal values of their dependency arguments."""

    def __init__(self, tree: ast.Module, source: str) -> None:
        self.source = source
        self.setup_names = {"setup"}
        self.modules = set(_SETUP_MODULES)
        self.imports_setup: int | None = None
        self.bindings: dict[str, int] = {}
        self.mutated: set[str] = set()
        self.deps: list[Dependency] = []
        self.problems: list[ManifestProblem] = []
        nodes = list(ast.walk(tree))
        for node in nodes:
            self._note(node)
        self.calls = [n for n in nodes if isinstance(n, ast.Call) and self._is_setup(n.func)]
        self.assigned: dict[str, ast.expr] = {}
        for stmt in tree.body:
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                self.assigned[stmt.targets[0].id] = stmt.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
                self.assigned[stmt.target.id] = stmt.value

    def _bind(self, name: str) -> None:
        self.bindings[name] = self.bindings.get(name, 0) + 1

    def _note(self, node: ast.AST) -> None:
        if isinstance(node, ast.ImportFrom):
            if node.module in _SETUP_MODULES:
                self.imports_setup = self.imports_setup or node.lineno
                self.setup_names |= {a.asname or a.name for a in node.names if a.name == "setup"}
            for alias in node.names:
                self._bind(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in (*_SETUP_MODULES, "distutils"):
                    self.imports_setup = self.imports_setup or node.lineno
                    self.modules.add(alias.asname or alias.name)
                self._bind(alias.asname or alias.name.split(".")[0])
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            self._bind(node.id)
        elif isinstance(node, ast.arg):
            self._bind(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            self._bind(node.name)
        elif isinstance(node, ast.Attribute | ast.Subscript) and isinstance(node.value, ast.Name):
            self.mutated.add(node.value.id)  # REQ.append(...), REQ[0] = ...: no longer a literal

    def _dotted(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def _is_setup(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return func.id in self.setup_names
        return (
            isinstance(func, ast.Attribute)
            and func.attr == "setup"
            and self._dotted(func.value) in self.modules
        )

    def resolve(self, node: ast.expr) -> ast.expr | None:
        """A name bound once, at module level, to a value never changed afterwards."""
        if not isinstance(node, ast.Name):
            return node
        value = self.assigned.get(node.id)
        if value is None or self.bindings.get(node.id) != 1 or node.id in self.mutated:
            return None
        return None if isinstance(value, ast.Name) else value

    def computed(self, node: ast.AST, label: str) -> None:
        line = getattr(node, "lineno", None)
        self.problems.append(
            _problem(self.source, line, f"{label} computed in setup.py, not read statically")
        )

    def strings(self, node: ast.expr, label: str, marker: str | None = None) -> None:
        value = self.resolve(node)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            for offset, text in enumerate(value.value.split("\n")):
                if text.strip() and not text.strip().startswith("#"):
                    self.add(text, value.lineno + offset, marker)
        elif isinstance(value, ast.List | ast.Tuple | ast.Set):
            for i, elt in enumerate(value.elts):
                if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                    self.add(elt.value, elt.lineno, marker)
                elif isinstance(elt, ast.Constant):
                    why = f"{label}[{i}]: not a requirement string ({_type(elt.value)})"
                    self.problems.append(_problem(self.source, elt.lineno, why))
                else:
                    self.computed(elt, f"{label}[{i}]")
        else:
            self.computed(node, label)

    def add(self, text: str, line: int, marker: str | None) -> None:
        dep = parse_requirement(text, self.source, line)
        if dep is not None:
            self.deps.append(replace(dep, marker=_all_of(marker, dep.marker)) if marker else dep)

    def extras(self, node: ast.expr) -> None:
        value = self.resolve(node)
        if not isinstance(value, ast.Dict):
            self.computed(node, "extras_require")
            return
        for key, item in zip(value.keys, value.values, strict=True):
            if key is None:
                self.computed(item, f"extras_require: **{_short(item)}")
            elif not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                self.computed(key, "an extras_require key")
            else:
                condition = key.value.partition(":")[2]  # setuptools: "extra:marker"
                self.strings(
                    item, f"extras_require[{key.value!r}]", _marker(condition) if condition else None
                )

    def read(self) -> Parsed:
        for call in self.calls:
            for keyword in call.keywords:
                if keyword.arg is None:
                    self.computed(keyword.value, f"setup(**{_short(keyword.value)})")
                elif keyword.arg == "install_requires":
                    self.strings(keyword.value, "install_requires")
                elif keyword.arg == "extras_require":
                    self.extras(keyword.value)
        if not self.calls and self.imports_setup:
            self.problems.append(
                _problem(self.source, self.imports_setup, "no setup() call found: dependencies not read")
            )
        return self.deps, self.problems


def parse_setup_py(text: str, source: str) -> Parsed:
    """setup.py's `install_requires` and `extras_require`, read statically (never executed)."""
    try:
        tree = ast.parse(text, filename=source)
    except SyntaxError as exc:
        return [], [_problem(source, exc.lineno, f"not valid Python ({exc.msg})")]
    except (ValueError, RecursionError, MemoryError) as exc:
        return [], [_problem(source, None, f"not valid Python ({str(exc) or _type(exc)})")]
    try:
        return _SetupPy(tree, source).read()
    except RecursionError:
        return [], [_problem(source, None, "setup.py nested too deeply to read")]


# --- Pipfile -------------------------------------------------------------------------------------

_PIPFILE_NOT_PACKAGES = ("source", "requires", "pipenv", "scripts")
_MARKER_VARIABLES = (
    "os_name",
    "sys_platform",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_version",
    "python_full_version",
    "implementation_name",
    "implementation_version",
)


def _pipfile_dependency(name: str, spec: object, source: str, line: int | None) -> Dependency:
    requirement = _redact(f"{name} = {_inline(spec)}")
    base = Dependency(canonical_name(name), source, line=line, requirement=requirement)
    marker = None
    if isinstance(spec, dict):
        conditions = [spec["markers"]] if isinstance(spec.get("markers"), str) else []
        conditions += [f"{k} {spec[k]}" for k in _MARKER_VARIABLES if isinstance(spec.get(k), str)]
        marker = _all_of(*(_marker(c) for c in conditions))
    version = _table_version(base, spec, marker, "Pipfile package")
    if isinstance(version, Dependency):
        return version
    constraint = version.strip()
    if constraint == "*":
        constraint = ""
    elif constraint[:1].isdigit():
        constraint = "==" + constraint
    return _named(name, constraint, source, line, requirement, marker)


def parse_pipfile(text: str, source: str) -> Parsed:
    """Pipfile [packages], [dev-packages] and custom package categories."""
    data, problems = _toml(text, source)
    if data is None:
        return [], problems
    lines = _TomlLines.of(text, strings=False)
    deps: list[Dependency] = []
    for section, table in data.items():
        if section in _PIPFILE_NOT_PACKAGES:
            continue
        if not isinstance(table, dict):
            if section in ("packages", "dev-packages"):
                why = f"{section}: expected a table, got {_type(table)}"
                problems.append(_problem(source, lines.line_of((section,)), why))
            continue
        for name, spec in table.items():
            deps.append(_pipfile_dependency(name, spec, source, lines.line_of((section, name))))
    return deps, problems


# --- lock files ----------------------------------------------------------------------------------------


def _entry_lines(text: str, table: str) -> list[int]:
    """For each `[[table]]`, the line of its `name = …` (else of the header itself)."""
    out: list[int] = []
    pending = False
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip()
        if stripped.startswith("["):
            header = _HEADER.match(line)
            if header:
                pending = stripped.startswith("[[") and _key_parts(header.group(1)) == (table,)
                if pending:
                    out.append(number)
        elif pending and stripped.startswith("name") and re.match(r"name\s*=", stripped):
            out[-1] = number
            pending = False
    return out


def _lock_entries(
    text: str, source: str, data: dict[str, Any], table: str, problems: list[ManifestProblem]
) -> list[tuple[dict[str, Any], int | None]]:
    entries = data.get(table, [])
    if not isinstance(entries, list):
        line = _TomlLines.of(text, strings=False).line_of((table,))
        problems.append(_problem(source, line, f"{table}: expected an array of tables, got {_type(entries)}"))
        return []
    lines: list[int | None] = list(_entry_lines(text, table))
    if len(lines) != len(entries):
        lines = [None] * len(entries)  # written inline: the entries have no lines of their own
    out = []
    for i, (entry, line) in enumerate(zip(entries, lines, strict=True)):
        if isinstance(entry, dict):
            out.append((entry, line))
        else:
            problems.append(_problem(source, line, f"{table}[{i}]: expected a table, got {_type(entry)}"))
    return out


def _locked(
    entry: dict[str, Any],
    source: str,
    line: int | None,
    problems: list[ManifestProblem],
    *,
    local: bool,
    marker: str | None,
    version: object,
) -> Dependency | None:
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(_problem(source, line, f"a locked package without a name ({_type(name)})"))
        return None
    written = f"{name}=={version}" if isinstance(version, str) and version not in ("", "*") else name
    dep = Dependency(
        canonical_name(name), source, line=line, requirement=written, marker=marker, direct=False
    )
    if local:
        return replace(dep, unauditable="not from a package index")
    if not isinstance(version, str) or version in ("", "*"):
        shown = (
            "" if not version else f" ({version!r})" if isinstance(version, str) else f" ({_type(version)})"
        )
        return replace(dep, unauditable=f"not locked to one version{shown}")
    try:
        return replace(dep, version=str(Version(version)))
    except InvalidVersion:
        return replace(dep, unauditable=_not_pep440(version))


def _strings(value: object) -> list[str] | None:
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def _poetry_lock_marker(markers: object, groups: object) -> str | None:
    if isinstance(markers, str):
        return _marker(markers)
    if not isinstance(markers, dict) or not all(isinstance(m, str) for m in markers.values()):
        return None
    in_groups = _strings(groups)
    if in_groups is not None and any(g not in markers for g in in_groups):
        return None  # unconditional in a group without a marker
    return _any_of(list(markers.values()))


def parse_poetry_lock(text: str, source: str) -> Parsed:
    data, problems = _toml(text, source)
    deps: list[Dependency] = []
    for entry, line in _lock_entries(text, source, data or {}, "package", problems):
        src = entry.get("source")
        local = isinstance(src, dict) and src.get("type") in ("directory", "file", "git", "url")
        marker = _poetry_lock_marker(entry.get("markers"), entry.get("groups"))
        dep = _locked(entry, source, line, problems, local=local, marker=marker, version=entry.get("version"))
        if dep:
            deps.append(dep)
    return deps, problems


def _parse_uv_lock(text: str, source: str) -> tuple[list[Dependency], list[ManifestProblem], list[str]]:
    """uv.lock's dependencies, and the folders of the projects it locks (itself, workspace members)."""
    data, problems = _toml(text, source)
    deps: list[Dependency] = []
    projects: list[str] = []
    for entry, line in _lock_entries(text, source, data or {}, "package", problems):
        src = entry.get("source")
        project = src.get("editable", src.get("virtual")) if isinstance(src, dict) else None
        if project is not None:
            if isinstance(project, str):
                projects.append(project)
            continue  # the project itself or a workspace member, not a dependency
        local = not (isinstance(src, dict) and "registry" in src)
        forks = _strings(entry.get("resolution-markers"))
        marker = _any_of(forks) if forks else None
        dep = _locked(entry, source, line, problems, local=local, marker=marker, version=entry.get("version"))
        if dep:
            deps.append(dep)
    return deps, problems, projects


def parse_uv_lock(text: str, source: str) -> Parsed:
    deps, problems, _ = _parse_uv_lock(text, source)
    return deps, problems


def parse_pdm_lock(text: str, source: str) -> Parsed:
    data, problems = _toml(text, source)
    deps: list[Dependency] = []
    for entry, line in _lock_entries(text, source, data or {}, "package", problems):
        local = any(k in entry for k in ("path", "url", "git", "hg", "svn", "bzr")) or bool(
            entry.get("editable")
        )
        marker = _marker(entry.get("marker"))
        dep = _locked(entry, source, line, problems, local=local, marker=marker, version=entry.get("version"))
        if dep:
            deps.append(dep)
    return deps, problems


def parse_pylock(text: str, source: str) -> Parsed:
    data, problems = _toml(text, source)
    deps: list[Dependency] = []
    for entry, line in _lock_entries(text, source, data or {}, "packages", problems):
        local = any(k in entry for k in ("vcs", "directory", "archive"))
        marker = _marker(entry.get("marker"))
        dep = _locked(entry, source, line, problems, local=local, marker=marker, version=entry.get("version"))
        if dep:
            deps.append(dep)
    return deps, problems


def _json_key_lines(text: str) -> dict[str, list[int]]:
    keys: dict[str, list[int]] = {}
    for number, line in enumerate(text.split("\n"), 1):
        for literal in re.findall(r'("(?:[^"\\\n]|\\.)*")\s*:', line):
            key = _unquote(literal)
            if key is not None:
                keys.setdefault(key, []).append(number)
    return keys


def parse_pipfile_lock(text: str, source: str) -> Parsed:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [_problem(source, exc.lineno, f"not valid JSON ({exc.msg})")]
    except (ValueError, RecursionError) as exc:
        return [], [_problem(source, None, f"not valid JSON ({str(exc) or _type(exc)})")]
    if not isinstance(data, dict):
        return [], [ManifestProblem(source, "not a Pipfile.lock object")]
    keys = _json_key_lines(text)

    def line_of(key: str, after: int) -> int | None:
        lines = keys.get(key, [])
        i = bisect_left(lines, after)
        return lines[i] if i < len(lines) else None

    deps: list[Dependency] = []
    problems: list[ManifestProblem] = []
    for section, packages in data.items():
        if section == "_meta":
            continue
        anchor = line_of(section, 0) or 0
        if not isinstance(packages, dict):
            problems.append(_problem(source, anchor, f"{section}: expected an object, got {_type(packages)}"))
            continue
        for name, info in packages.items():
            line = line_of(name, anchor)
            if not isinstance(info, dict):
                why = f"not a Pipfile.lock entry ({_type(info)})"
                deps.append(
                    Dependency(canonical_name(name), source, unauditable=why, line=line, direct=False)
                )
                continue
            version = info.get("version")
            if isinstance(version, str):
                version = version.removeprefix("===").removeprefix("==")
            local = any(k in info for k in ("path", "file", "git", "hg", "svn", "bzr"))
            marker = _marker(info.get("markers"))
            entry = {"name": name}
            dep = _locked(entry, source, line, problems, local=local, marker=marker, version=version)
            if dep:
                deps.append(dep)
    return deps, problems


# --- conda environment files -------------------------------------------------------------------------

_YAML_STR = "tag:yaml.org,2002:str"


def parse_conda_environment(text: str, source: str) -> Parsed:
    """The pip entries of a conda environment file; conda packages are listed as unauditable."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        why = getattr(exc, "problem", None) or _type(exc)
        return [], [_problem(source, mark.line + 1 if mark else None, f"not valid YAML ({why})")]
    except RecursionError:
        return [], [_problem(source, None, "not valid YAML (nested too deeply)")]
    if not isinstance(root, yaml.MappingNode):
        return [], []  # not a conda environment (some other YAML file of that name)
    entries = next(
        (v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "dependencies"), None
    )
    if entries is None:
        return [], []
    deps: list[Dependency] = []
    problems: list[ManifestProblem] = []

    def line(node: yaml.Node) -> int:
        return int(node.start_mark.line) + 1

    if not isinstance(entries, yaml.SequenceNode):
        return [], [_problem(source, line(entries), "dependencies: expected a list")]
    conda = "a conda package, not a PyPI release: pip-audit cannot check it"
    for item in entries.value:
        if isinstance(item, yaml.ScalarNode) and item.tag == _YAML_STR and item.value.strip():
            name = re.match(r"^(?:[^:\s]+::)?([A-Za-z0-9_.-]*)", item.value.strip())
            spec = _redact(item.value.strip())
            dep_name = canonical_name(name.group(1)) if name and name.group(1) else spec
            deps.append(Dependency(dep_name, source, unauditable=conda, line=line(item), requirement=spec))
            continue
        pip = None
        if isinstance(item, yaml.MappingNode):
            pip = next(
                (v for k, v in item.value if isinstance(k, yaml.ScalarNode) and k.value == "pip"), None
            )
        if not isinstance(pip, yaml.SequenceNode):
            problems.append(_problem(source, line(item), "dependencies: not a package or a pip list"))
            continue
        for entry in pip.value:
            if not (isinstance(entry, yaml.ScalarNode) and entry.tag == _YAML_STR):
                problems.append(_problem(source, line(entry), "pip: not a requirement string"))
                continue
            text_line = entry.value.strip()
            include = _INCLUDE.match(text_line)
            if include:
                rest = include.group(2).split()
                target = rest[0] if rest else ""
                label = f"{include.group(1)} {target}".strip()
                problems += _read_elsewhere(source, target, label, line(entry))
            elif not text_line.startswith("-") or _EDITABLE.match(text_line):
                dep = parse_requirement(text_line, source, line(entry))
                if dep is not None:
                    deps.append(dep)
    return deps, problems


# --- kinds and the whole target --------------------------------------------------------------------------

PARSERS: dict[str, TextParser] = {
    "pyproject.toml": parse_pyproject,
    "setup.cfg": parse_setup_cfg,
    "setup.py": parse_setup_py,
    "Pipfile": parse_pipfile,
    "Pipfile.lock": parse_pipfile_lock,
    "poetry.lock": parse_poetry_lock,
    "uv.lock": parse_uv_lock,
    "pdm.lock": parse_pdm_lock,
    "pylock.toml": parse_pylock,
    "environment.yml": parse_conda_environment,
}
"""Kind → parser of its text. Requirements and constraints files need `parse_requirements` (includes)."""

LOCKFILES: dict[str, TextParser] = {
    k: PARSERS[k] for k in ("poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock", "pylock.toml")
}

_DECLARATIONS = ("pyproject.toml", "setup.py", "setup.cfg", "Pipfile")


def manifest_kind(path: str) -> str | None:
    """Which manifest format a path is, by name; None when it is not one."""
    p = PurePosixPath(path)
    name = p.name
    if name in PARSERS and name != "environment.yml":
        return name
    if re.fullmatch(r"pylock\.[^.]+\.toml", name):
        return "pylock.toml"
    lower = name.lower()
    if re.fullmatch(r"environment(?:[-_.][^/]+)?\.ya?ml", lower):
        return "environment.yml"
    if lower.endswith(".txt"):
        if lower.startswith("constraints"):
            return "constraints"
        if "requirements" in lower or "requirements" in p.parent.parts:
            return "requirements"
    return None


def _dedupe(deps: Iterable[Dependency]) -> list[Dependency]:
    """One record per declaration (a file reached directly and through -r); direct wins."""
    index: dict[Dependency, int] = {}
    out: list[Dependency] = []
    for dep in deps:
        key = replace(dep, direct=True)
        i = index.get(key)
        if i is None:
            index[key] = len(out)
            out.append(dep)
        elif dep.direct and not out[i].direct:
            out[i] = dep
    return out


def _folder(path: str) -> str:
    return str(PurePosixPath(path).parent)


def collect(paths: list[str], read: ReadText) -> Parsed:
    """All dependencies of all manifests.

    A pyproject.toml, setup.py or setup.cfg next to a lock file (or inside a uv
    workspace whose uv.lock names its folder), and a Pipfile next to its
    Pipfile.lock, defer to the lock: they declare ranges, the lock has the pins
    that get installed. They are still read, to mark the lock's entries they
    name as direct.
    """
    kinds = {p: manifest_kind(p) for p in sorted(paths)}
    results: dict[str, Parsed] = {}
    problems: list[ManifestProblem] = []
    locks_of: dict[str, set[str]] = {}  # folder → the lock files that pin it
    for path, kind in kinds.items():
        if kind not in LOCKFILES:
            continue
        text = read(path)
        if text is None:
            problems.append(ManifestProblem(path, "cannot be read"))
            continue
        if kind == "uv.lock":
            d, pr, projects = _parse_uv_lock(text, path)
            results[path] = (d, pr)
            for project in projects:
                folder, _ = _relative(path, project.rstrip("/") + "/pyproject.toml")
                if folder:
                    locks_of.setdefault(_folder(folder), set()).add(path)
        else:
            results[path] = LOCKFILES[kind](text, path)
        locks_of.setdefault(_folder(path), set()).add(path)
    declared: dict[str, set[str]] = {}  # lock → names its project's manifests declare
    for path, kind in kinds.items():
        if kind in LOCKFILES or kind is None:
            continue
        if kind in ("requirements", "constraints"):
            results[path] = parse_requirements(path, read, constraint=kind == "constraints")
            continue
        covering = locks_of.get(_folder(path), set())
        if kind == "Pipfile":
            covering = {lock for lock in covering if kinds[lock] == "Pipfile.lock"}
        text = read(path)
        if text is None:
            if not covering:
                problems.append(ManifestProblem(path, "cannot be read"))
            continue
        d, pr = PARSERS[kind](text, path)
        if covering:
            for lock in covering:
                declared.setdefault(lock, set()).update(dep.name for dep in d)
            continue
        results[path] = (d, pr)
    deps: list[Dependency] = []
    for path in kinds:
        if path not in results:
            continue
        d, pr = results[path]
        names = declared.get(path)
        deps += [replace(dep, direct=True) if names and dep.name in names else dep for dep in d]
        problems += pr
    return _dedupe(deps), list(dict.fromkeys(problems))
