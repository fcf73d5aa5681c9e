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
from typing import Any

from pipeline import fingerprint as fp
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
PINNED_FILE = "pinned-requirements.txt"
UNPINNED_FILE = "unpinned-requirements.txt"


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
            NotAssessed(NAME, f"{d.name} ({d.source})", d.unauditable)
            for d in ctx.dependencies
            if d.unauditable
        ]
        pinned = sorted({f"{d.name}=={d.version}" for d in ctx.dependencies if d.pinned})
        unpinned = sorted(
            {f"{d.name}{d.specifier}" for d in ctx.dependencies if not d.pinned and not d.unauditable}
        )
        if unpinned and ctx.config.vulnerability_service == "offline":
            # Resolving a range needs the package index and gives a different answer
            # next quarter: an offline, reproducible audit covers exact pins only.
            not_assessed += [
                NotAssessed(
                    NAME,
                    f"{d.name}{d.specifier} ({d.source})",
                    "not pinned: pin it or audit a lock file (a range cannot be "
                    "audited offline and reproducibly)",
                )
                for d in ctx.dependencies
                if not d.pinned and not d.unauditable
            ]
            unpinned = []
        if not pinned and not unpinned:
            if not_assessed:
                return Plan((), tuple(not_assessed))
            return NotApplicable("the manifests declare no dependencies")
        folder = ctx.workdir / NAME
        folder.mkdir(parents=True, exist_ok=True)
        common = ("--format", "json", "--progress-spinner", "off", *_service_args(ctx))
        jobs: list[Job] = []
        if pinned:
            req = folder / PINNED_FILE
            req.write_text("\n".join(pinned) + "\n", encoding="utf-8")
            jobs.append(
                Job(
                    argv=("pip-audit", "-r", str(req), "--no-deps", "--disable-pip", *common),
                    cost=2.0 + 0.05 * len(pinned),
                    inputs=tuple(pinned),
                    cwd=folder,
                )
            )
        if unpinned:
            req = folder / UNPINNED_FILE
            req.write_text("\n".join(unpinned) + "\n", encoding="utf-8")
            jobs.append(
                Job(
                    argv=("pip-audit", "-r", str(req), *common),
                    cost=15.0 + 1.0 * len(unpinned),
                    inputs=tuple(unpinned),
                    cwd=folder,
                )
            )
        return Plan(tuple(jobs), tuple(not_assessed))

    def parse(self, run: ToolRun, job: Job, ctx: Context) -> Parsed:
        parsed = parse(run.stdout, job.inputs, ctx.dependencies, ctx)
        if parsed.failure and run.stderr.strip():
            return Parsed(failure=f"{parsed.failure}; stderr: {stderr_excerpt(run.stderr)}")
        return parsed


def _sources(deps: tuple[Dependency, ...]) -> dict[str, list[Dependency]]:
    by_name: dict[str, list[Dependency]] = defaultdict(list)
    for d in deps:
        if not d.unauditable:
            by_name[d.name].append(d)
    return by_name


def _advisory_url(vuln_id: str) -> str:
    if vuln_id.startswith("GHSA-"):
        return f"https://github.com/advisories/{vuln_id}"
    return f"https://osv.dev/vulnerability/{vuln_id}"


def parse(stdout: str, requested: tuple[str, ...], deps: tuple[Dependency, ...], ctx: Context) -> Parsed:
    """Pure: pip-audit JSON → one finding per (vulnerability, manifest) and NOT_ASSESSED skips."""
    data, error = load_json(stdout)
    if error:
        return Parsed(failure=f"pip-audit {error}: {tail(stdout, 200)!r}")
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        return Parsed(failure="pip-audit output has no 'dependencies' list")
    try:
        return _parse(data, requested, deps, ctx)
    except DecodeError as exc:
        return Parsed(failure=mismatch(NAME, exc))


def _parse(
    data: dict[str, Any], requested: tuple[str, ...], deps: tuple[Dependency, ...], ctx: Context
) -> Parsed:
    by_name = _sources(deps)
    fallback = sorted({d.source for d in deps if not d.unauditable}) or ["(dependencies)"]
    findings: list[Finding] = []
    not_assessed: list[NotAssessed] = []
    seen: set[str] = set()
    rules: set[str] = set()
    checked = 0
    for i, entry in enumerate(data["dependencies"]):
        where = child("dependencies", i)
        dep = obj(entry, where)
        name = canonical_name(field(dep, "name", where, string, ""))
        version = optional(dep, "version", where, string)
        seen.add(name)
        skip_reason = optional(dep, "skip_reason", where, string)
        if skip_reason:
            label = f"{name} {version}" if version else name
            not_assessed.append(NotAssessed(NAME, label, skip_reason))
            continue
        checked += 1
        sources = sorted({d.source for d in by_name.get(name, [])}) or fallback
        for j, item in enumerate(optional(dep, "vulns", where, lst) or ()):
            in_vuln = child(child(where, "vulns"), j)
            vuln = obj(item, in_vuln)
            vid = field(vuln, "id", in_vuln, string, "UNKNOWN")
            rules.add(vid)
            fixes = tuple(optional(vuln, "fix_versions", in_vuln, list_of(string)) or ())
            aliases = tuple(optional(vuln, "aliases", in_vuln, list_of(string)) or ())
            description = " ".join(field(vuln, "description", in_vuln, string, "").split())
            for source in sources:
                findings.append(
                    Finding(
                        tool=NAME,
                        rule_id=vid,
                        title=f"{name} {version} has a known vulnerability ({vid})",
                        severity=ctx.vuln_severity(vid) or ctx.severities.of(NAME, vid),
                        location=Location(source, resource=f"{name}=={version}"),
                        fingerprint=fp.fingerprint(NAME, vid, source, name),
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
    for req in requested:
        name = canonical_name(req.split("=")[0].split("<")[0].split(">")[0].split("!")[0].split("~")[0])
        if name not in seen:
            not_assessed.append(NotAssessed(NAME, req, "missing from pip-audit's output"))
    raw: Any = data
    return Parsed(
        findings=tuple(findings),
        not_assessed=tuple(not_assessed),
        rules_run=tuple(sorted(rules)),
        raw=raw,
        assessed=checked,
    )
