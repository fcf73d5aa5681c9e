"""pip-audit: known vulnerabilities in the dependencies the manifests declare.

Pinned dependencies (from requirements pins and every lock file format) are
audited together with `--no-deps --disable-pip`: no virtualenv, no resolver.
Unpinned requirements are audited in a second job that lets pip resolve
them. A dependency pip-audit skips (`skip_reason`), or that is missing from
its output, is NOT_ASSESSED, never clean.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pipeline import fingerprint as fp
from pipeline.environments import Environments, applies, choose
from pipeline.manifests import Dependency, canonical_name
from pipeline.model import Finding, Location, NotAssessed
from pipeline.runner import ToolRun
from pipeline.scanners.base import (
    Context,
    Job,
    NotApplicable,
    Parsed,
    Plan,
    load_json,
    stderr_excerpt,
    tail,
)
from pipeline.scanners.decode import DecodeError, child, field, list_of, lst, mismatch, obj, optional, string

NAME = "pip-audit"
_REQ_NAME = re.compile(r"[A-Za-z0-9._-]*")
DEFAULT_SEVERITY_SOURCE = "policy default (policies/severity.yaml): the advisory has no usable severity"
CHUNK_MIN = 150
"""A layer of more pins than this is split across the workers."""


def _service_args(ctx: Context) -> tuple[str, ...]:
    if ctx.osv_url:
        return ("--vulnerability-service", "osv", "--osv-url", ctx.osv_url)
    service = ctx.config.vulnerability_service
    if service == "offline":
        # run.py serves the local database and sets ctx.osv_url, or fails pip-audit
        # before planning: falling back to another service would change the answer.
        raise RuntimeError("offline vulnerability service without a local OSV API")
    if service == "osv":
        url = ctx.config.osv_url
        return ("--vulnerability-service", "osv", *(("--osv-url", url) if url else ()))
    return ("--vulnerability-service", "pypi")


@dataclass(frozen=True)
class Scope:
    """Which declared dependencies the audit covers, for the supported environments."""

    envs: Environments
    pinned: tuple[Dependency, ...]
    """Exact pins whose marker holds in a supported environment."""
    ranges: tuple[Dependency, ...]
    """Requirements with a version range (or none), marker applying."""
    elsewhere: tuple[Dependency, ...]
    """Declarations whose marker holds in no supported environment: not audited."""


def scope(ctx: Context) -> Scope:
    envs = choose(ctx.config.python_versions, ctx.config.platforms, ctx.read_text("pyproject.toml"))
    auditable = [d for d in ctx.dependencies if not d.unauditable]
    inside = [d for d in auditable if applies(d.marker, envs)]
    return Scope(
        envs=envs,
        pinned=tuple(d for d in inside if d.pinned),
        ranges=tuple(d for d in inside if not d.pinned),
        elsewhere=tuple(d for d in auditable if not applies(d.marker, envs)),
    )


def layers(pins: Iterable[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Distinct (name, version) pins into as few lists as possible with no name twice.

    pip-audit rejects a requirements file naming a package twice ("duplicate
    requirements"): the k-th version of each package goes to the k-th list.
    """
    by_name: dict[str, list[str]] = defaultdict(list)
    for name, version in sorted(set(pins)):
        by_name[name].append(version)
    out: list[list[tuple[str, str]]] = []
    for name, versions in sorted(by_name.items()):
        for k, version in enumerate(versions):
            if k == len(out):
                out.append([])
            out[k].append((name, version))
    return out


def _chunks(items: list[str], workers: int) -> list[list[str]]:
    """Large lists are split so the workers query the advisory service in parallel."""
    n = max(1, min(workers, -(-len(items) // CHUNK_MIN)))
    size = -(-len(items) // n)
    return [items[i : i + size] for i in range(0, len(items), size)]


class PipAudit:
    name = NAME
    executable = "pip-audit"
    distribution = "pip-audit"

    def plan(self, ctx: Context) -> Plan | NotApplicable:
        if not ctx.inventory.manifests:
            return NotApplicable("no dependency manifests in the target")
        not_assessed = [
            NotAssessed(NAME, p.source, f"manifest not understood: {p.message}")
            for p in ctx.manifest_problems
        ]
        not_assessed += [
            NotAssessed(NAME, _label(d), d.unauditable) for d in ctx.dependencies if d.unauditable
        ]
        sc = scope(ctx)
        notes = []
        if any(d.marker for d in ctx.dependencies):  # markers chose among declarations
            notes.append(f"environment markers evaluated for {sc.envs.describe()}")
        if sc.elsewhere:
            shown = ", ".join(_label(d) for d in sc.elsewhere[:3])
            notes.append(
                f"{len(sc.elsewhere)} declarations apply to no supported environment and are not "
                f"audited: {shown}{', …' if len(sc.elsewhere) > 3 else ''}"
            )
        versions: dict[str, set[str]] = defaultdict(set)
        for d in sc.pinned:
            versions[d.name].add(str(d.version))
        ranges = list(sc.ranges)
        if ranges and ctx.config.vulnerability_service == "offline":
            # Resolving a range needs the package index and gives a different answer
            # next quarter: offline, a range is covered by a pin of the repository
            # that satisfies it, or NOT_ASSESSED.
            for d in ranges:
                covering = sorted(v for v in versions.get(d.name, ()) if _satisfies(d.specifier, v))
                if covering:
                    continue
                why = (
                    f"not pinned, and none of the repository's pins of {d.name} "
                    f"({', '.join(sorted(versions[d.name]))}) satisfies it"
                    if d.name in versions
                    else "not pinned: pin it or audit a lock file (a range cannot be "
                    "audited offline and reproducibly)"
                )
                not_assessed.append(NotAssessed(NAME, _label(d), why))
            ranges = []
        pins = layers((d.name, str(d.version)) for d in sc.pinned)
        if not pins and not ranges:
            if not_assessed:
                return Plan((), tuple(not_assessed), notes=tuple(notes))
            return NotApplicable("the manifests declare no dependency for the supported environments")
        folder = ctx.workdir / NAME
        folder.mkdir(parents=True, exist_ok=True)
        common = ("--format", "json", "--progress-spinner", "off", *_service_args(ctx))
        jobs: list[Job] = []
        for k, layer in enumerate(pins):
            for c, chunk in enumerate(_chunks([f"{n}=={v}" for n, v in layer], ctx.workers)):
                req = folder / f"pinned-{k}-{c}.txt"
                req.write_text("\n".join(chunk) + "\n", encoding="utf-8")
                jobs.append(
                    Job(
                        argv=("pip-audit", "-r", str(req), "--no-deps", "--disable-pip", *common),
                        cost=2.0 + 0.05 * len(chunk),
                        inputs=tuple(chunk),
                        cwd=folder,
                    )
                )
        for k, layer_r in enumerate(layers((d.name, d.specifier) for d in ranges)):
            reqs = [f"{n}{spec}" for n, spec in layer_r]
            req = folder / f"unpinned-{k}.txt"
            req.write_text("\n".join(reqs) + "\n", encoding="utf-8")
            jobs.append(
                Job(
                    argv=("pip-audit", "-r", str(req), *common),
                    cost=15.0 + 1.0 * len(reqs),
                    inputs=tuple(reqs),
                    cwd=folder,
                )
            )
        return Plan(tuple(jobs), tuple(not_assessed), notes=tuple(notes))

    def parse(self, run: ToolRun, job: Job, ctx: Context) -> Parsed:
        sc = scope(ctx)
        parsed = parse(run.stdout, job.inputs, sc.pinned + sc.ranges, ctx)
        if parsed.failure and run.stderr.strip():
            return Parsed(failure=f"{parsed.failure}; stderr: {stderr_excerpt(run.stderr)}")
        return parsed


def _label(d: Dependency) -> str:
    """The declaration as written, and where: `flask>=2 (requirements.txt:3)`."""
    return f"{d.requirement or d.name + d.specifier} ({d.where})"


def _satisfies(specifier: str, version: str) -> bool:
    try:
        return SpecifierSet(specifier).contains(version, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return False


def _advisory_url(vuln_id: str) -> str:
    if vuln_id.startswith("GHSA-"):
        return f"https://github.com/advisories/{vuln_id}"
    return f"https://osv.dev/vulnerability/{vuln_id}"


def parse(stdout: str, requested: tuple[str, ...], deps: tuple[Dependency, ...], ctx: Context) -> Parsed:
    """Pure: pip-audit JSON → one finding per (advisory, place that declares the version).

    `requested` are the job's requirement lines: `name==version` pins (each audited
    once, its advisories reported at every manifest line pinning that version, never
    at a range elsewhere) or ranges pip resolved (reported at the range's line).
    """
    data, error = load_json(stdout)
    if error:
        return Parsed(failure=f"pip-audit {error}: {tail(stdout, 200)!r}")
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        return Parsed(failure="pip-audit output has no 'dependencies' list")
    try:
        return _parse(data, requested, deps, ctx)
    except DecodeError as exc:
        return Parsed(failure=mismatch(NAME, exc))


def _req_name(req: str) -> str:
    return canonical_name(_REQ_NAME.match(req).group(0) if _REQ_NAME.match(req) else req)  # type: ignore[union-attr]


def _places(
    name: str, version: str | None, requested: tuple[str, ...], deps: tuple[Dependency, ...]
) -> list[Dependency]:
    """The declarations an output entry stands for."""
    pins = {r for r in requested if "==" in r}
    if version is not None and f"{name}=={version}" in pins:
        return [d for d in deps if d.name == name and d.pinned and _same(d.version, version)]
    if version is not None:
        pinned = [d for d in deps if d.name == name and d.pinned and _same(d.version, version)]
        if any(_req_name(r) == name for r in pins) and pinned:
            return pinned  # the same version, written differently (1.0 / 1.0.0)
    ranges = {r for r in requested if "==" not in r}
    return [d for d in deps if d.name == name and not d.pinned and f"{d.name}{d.specifier}" in ranges]


def _same(a: str | None, b: str) -> bool:
    if a is None:
        return False
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _parse(
    data: dict[str, Any], requested: tuple[str, ...], deps: tuple[Dependency, ...], ctx: Context
) -> Parsed:
    findings: list[Finding] = []
    not_assessed: list[NotAssessed] = []
    seen: set[tuple[str, str | None]] = set()
    rules: set[str] = set()
    checked = 0
    for i, entry in enumerate(data["dependencies"]):
        where = child("dependencies", i)
        dep = obj(entry, where)
        name = canonical_name(field(dep, "name", where, string, ""))
        version = optional(dep, "version", where, string)
        seen.add((name, version))
        skip_reason = optional(dep, "skip_reason", where, string)
        if skip_reason:
            label = f"{name} {version}" if version else name
            not_assessed.append(NotAssessed(NAME, label, skip_reason))
            continue
        checked += 1
        places = _places(name, version, requested, deps)
        for j, item in enumerate(optional(dep, "vulns", where, lst) or ()):
            in_vuln = child(child(where, "vulns"), j)
            vuln = obj(item, in_vuln)
            vid = field(vuln, "id", in_vuln, string, "UNKNOWN")
            rules.add(vid)
            fixes = tuple(optional(vuln, "fix_versions", in_vuln, list_of(string)) or ())
            aliases = tuple(optional(vuln, "aliases", in_vuln, list_of(string)) or ())
            description = " ".join(field(vuln, "description", in_vuln, string, "").split())
            if not places:
                not_assessed.append(
                    NotAssessed(
                        NAME, f"{name} {version}", f"{vid} reported for a package no manifest declares"
                    )
                )
            for place in places:
                written = place.requirement or f"{name}=={version}"
                findings.append(
                    Finding(
                        tool=NAME,
                        rule_id=vid,
                        title=f"{name} {version} has a known vulnerability ({vid})",
                        severity=ctx.vuln_severity(vid) or ctx.severities.of(NAME, vid),
                        severity_source=ctx.vuln_severity_source(vid) or DEFAULT_SEVERITY_SOURCE,
                        location=Location(place.source, place.line, place.line, resource=written),
                        fingerprint=fp.fingerprint(
                            NAME, vid, place.source, name + (f"; {place.marker}" if place.marker else "")
                        ),
                        message=description[:500] + ("…" if len(description) > 500 else ""),
                        aliases=aliases,
                        remediation=(
                            f"Upgrade {name} to {' or '.join(fixes)} or later."
                            if fixes
                            else f"No fixed release of {name} is known: remove or replace it."
                        ),
                        help_url=_advisory_url(vid),
                        package=name,
                        installed_version=str(version) if version else None,
                        fixed_versions=fixes,
                    )
                )
    unversioned = {n for n, v in seen if v is None}
    for req in requested:
        name = _req_name(req)
        pinned = req.split("==", 1)[1] if "==" in req else None
        if name in unversioned and (pinned is None or not any(n == name and v for n, v in seen)):
            continue  # reported without a version (a skip): its own NOT_ASSESSED says why
        if not any(n == name and (pinned is None or _same(pinned, v or "")) for n, v in seen if v):
            not_assessed.append(NotAssessed(NAME, req, "missing from pip-audit's output"))
    raw: Any = data
    return Parsed(
        findings=tuple(findings),
        not_assessed=tuple(not_assessed),
        rules_run=tuple(sorted(rules)),
        raw=raw,
        assessed=checked,
    )
