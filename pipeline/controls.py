"""Compliance controls: load the policy data, and turn a run into control results.

Data (all under policies/, validated here with errors that name the file and key):
- domains.yaml: compliance domains, and the scanners whose every rule belongs to one;
- checkov-builtin.yaml: checkov's built-in checks sorted into domains, with severities;
- pack.yaml: our own checkov policies (id, title, domain, severity, rationale, remediation);
- controls/<framework>.yaml: controls and the domains or rule ids that evidence them.

Status of a control in a run: MANUAL (needs human evidence: none, or its attestation
is overdue); ATTESTED (a current attestation says it passed: human evidence, shown
apart from PASS); FAIL (an active or accepted finding of its rules, or an attestation
that says it failed; "FAIL — 12 accepted" when only accepted risk fails it); ERROR (a
scanner that evidences it failed or left something not assessed); PASS (its rules ran
on something in scope, nothing found); NOT_ASSESSED (nothing in scope, e.g. no
Terraform). Only PASS passes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from pipeline.model import (
    Attestation,
    ControlResult,
    ControlStatus,
    RunReport,
    ScanResult,
    Severity,
    Status,
)

CHECKOV = "checkov"


class PolicyError(Exception):
    """Invalid policy data: the message names the file and the key."""


@dataclass(frozen=True)
class PackPolicy:
    id: str
    title: str
    domain: str
    severity: Severity
    iac: str
    rationale: str
    remediation: str


@dataclass(frozen=True)
class Control:
    framework: str
    id: str
    title: str
    domains: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    manual: bool = False
    source: str = ""
    scope: str | None = None
    """A declared scope the control is about (`cardholder-data`): only findings there
    evidence it; undeclared, the control needs human evidence (MANUAL)."""
    assessment: str = "automated"
    """automated, partial, manual or not-applicable (ASSESSMENTS)."""
    covers: str | None = None
    """partial: which part of the requirement the scan covers."""
    reason: str | None = None
    """not-applicable: why a repository scan cannot evidence it."""


ASSESSMENTS = ("automated", "partial", "manual", "not-applicable")


SCOPES = ("cardholder-data",)


@dataclass(frozen=True)
class ControlScope:
    """A scope the operator declared (e.g. where cardholder data is stored): which paths
    are in it, and how many files of this run's inventory are."""

    name: str
    matches: Callable[[str], bool]
    files: int


@dataclass(frozen=True)
class Framework:
    id: str
    title: str
    version: str
    source: str
    controls: tuple[Control, ...]


@dataclass(frozen=True)
class Catalog:
    frameworks: Mapping[str, Framework]
    domains: Mapping[str, str]
    """domain → title."""
    domain_scanners: Mapping[str, frozenset[str]]
    domain_rules: Mapping[str, frozenset[str]]
    """domain → checkov rule ids (built-in and ours)."""
    pack: Mapping[str, PackPolicy]
    builtin_domain: Mapping[str, str]
    """built-in checkov id → domain."""
    severities: Mapping[str, Severity] = field(default_factory=dict)
    """checkov rule id → severity: our pack (pack.yaml) and the built-ins of
    checkov-builtin.yaml (severity.checks, else the severity of the check's domain); a
    built-in outside the domains is here only when severity.checks lists it."""
    excluded: Mapping[str, str] = field(default_factory=dict)
    tracked_categories: tuple[str, ...] = ()
    unmapped: tuple[str, ...] = ()
    """checkov built-in checks outside the tracked categories (default severity, no control)."""
    unmapped_reasons: Mapping[str, str] = field(default_factory=dict)
    """checkov category (or unmapped id) → why those checks are in no compliance domain."""

    def evidence(self, control: Control) -> tuple[frozenset[str], frozenset[str]]:
        """(checkov rule ids, whole scanners) that evidence a control."""
        rules = set(control.rules)
        scanners: set[str] = set()
        for d in control.domains:
            rules |= self.domain_rules.get(d, frozenset())
            scanners |= self.domain_scanners.get(d, frozenset())
        return frozenset(rules), frozenset(scanners)


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{path.name}: cannot be read as YAML: {exc}") from None


def _need(data: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise PolicyError(f"{where}: missing key {key!r}")
    value = data[key]
    if not isinstance(value, kind):
        raise PolicyError(f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _severity(text: Any, where: str) -> Severity:
    try:
        return Severity.parse(str(text))
    except ValueError as exc:
        raise PolicyError(f"{where}: {exc}") from None


def _framework(path: Path, domains: Mapping[str, str]) -> Framework:
    data = _load(path)
    where = path.name
    fid = _need(data, "framework", str, where)
    controls: list[Control] = []
    seen: set[str] = set()
    for i, raw in enumerate(_need(data, "controls", list, where)):
        at = f"{where}: controls[{i}]"
        cid = str(_need(raw, "id", (str, int, float), at))  # type: ignore[arg-type]
        if cid in seen:
            raise PolicyError(f"{at}: duplicate control id {cid!r}")
        seen.add(cid)
        unknown = set(raw) - {
            "id",
            "title",
            "domains",
            "rules",
            "manual",
            "source",
            "scope",
            "class",
            "covers",
            "reason",
        }
        if unknown:
            raise PolicyError(f"{at}: unknown keys {sorted(unknown)}")
        doms = tuple(raw.get("domains") or ())
        for d in doms:
            if d not in domains:
                raise PolicyError(f"{at} ({cid}): unknown domain {d!r}")
        manual = bool(raw.get("manual", False))
        assessment = str(raw.get("class") or ("manual" if manual else "automated"))
        if assessment not in ASSESSMENTS:
            raise PolicyError(f"{at} ({cid}): class {assessment!r}: expected one of {', '.join(ASSESSMENTS)}")
        manual = manual or assessment == "manual"
        evidenced = bool(raw.get("domains") or raw.get("rules"))
        if assessment in ("manual", "not-applicable") and evidenced:
            raise PolicyError(f"{at} ({cid}): a {assessment} requirement must not name domains or rules")
        if assessment in ("automated", "partial") and not evidenced:
            raise PolicyError(f"{at} ({cid}): an {assessment} requirement must name its domains or rules")
        if assessment == "partial" and not str(raw.get("covers") or "").strip():
            raise PolicyError(f"{at} ({cid}): a partial requirement says what the scan covers (covers:)")
        if assessment == "not-applicable" and not str(raw.get("reason") or "").strip():
            raise PolicyError(f"{at} ({cid}): a not-applicable requirement gives its reason (reason:)")
        scope = raw.get("scope")
        if scope is not None and scope not in SCOPES:
            raise PolicyError(f"{at} ({cid}): unknown scope {scope!r} (known: {', '.join(SCOPES)})")
        rules = tuple(str(r) for r in raw.get("rules") or ())
        if assessment in ("automated", "partial") and not doms and not rules:
            raise PolicyError(f"{at} ({cid}): names no domain or rule and is not manual")
        controls.append(
            Control(
                framework=fid,
                id=cid,
                title=_need(raw, "title", str, at),
                domains=doms,
                rules=rules,
                manual=manual,
                source=_need(raw, "source", str, at),
                scope=scope,
                assessment=assessment,
                covers=str(raw["covers"]).strip() if raw.get("covers") else None,
                reason=str(raw["reason"]).strip() if raw.get("reason") else None,
            )
        )
    return Framework(
        id=fid,
        title=_need(data, "title", str, where),
        version=str(_need(data, "version", (str, int), where)),  # type: ignore[arg-type]
        source=_need(data, "source", str, where),
        controls=tuple(controls),
    )


BUILTIN_KEYS = (
    "checkov_version",
    "tracked_categories",
    "severity",
    "unmapped_reasons",
    "corrections",
    "excluded",
    "domains",
    "unmapped",
)
"""The top-level keys of checkov-builtin.yaml (docs/schemas/checkov-builtin.schema.json)."""


def _builtin(
    builtin: Any, domains: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, Severity], dict[str, str]]:
    """checkov-builtin.yaml: (built-in id → domain, id → severity, unmapped reasons).

    A check's severity is severity.checks.<id> when listed, else the severity of its
    domain (severity.domains, medium when the domain has none); a listed check outside
    the domains (unmapped or excluded) takes the listed severity, the others none here
    (policies/severity.yaml's checkov default applies)."""
    where = "checkov-builtin.yaml"
    if not isinstance(builtin, dict):
        raise PolicyError(f"{where}: expected a mapping")
    unknown = sorted(set(builtin) - set(BUILTIN_KEYS))
    if unknown:
        raise PolicyError(f"{where}: unknown keys {unknown} (known: {', '.join(BUILTIN_KEYS)})")
    builtin_domain: dict[str, str] = {}
    for d, ids in _need(builtin, "domains", dict, where).items():
        if d not in domains:
            raise PolicyError(f"{where}: domains.{d}: unknown domain")
        for cid in ids or ():
            if cid in builtin_domain:
                raise PolicyError(f"{where}: {cid} is in {builtin_domain[cid]} and {d}")
            builtin_domain[cid] = d
    unmapped = [str(c) for c in builtin.get("unmapped") or ()]
    excluded = builtin.get("excluded") or {}
    if not isinstance(excluded, dict):
        raise PolicyError(f"{where}.excluded: expected dict, got {type(excluded).__name__}")
    listed = set(builtin_domain) | set(unmapped) | set(excluded)
    severity = _need(builtin, "severity", dict, where)
    unknown = sorted(set(severity) - {"domains", "checks"})
    if unknown:
        raise PolicyError(f"{where}: severity: unknown keys {unknown} (known: domains, checks)")
    by_domain: dict[str, Severity] = {}
    for d, text in _need(severity, "domains", dict, f"{where}.severity").items():
        if d not in domains:
            raise PolicyError(f"{where}: severity.domains.{d}: unknown domain")
        by_domain[d] = _severity(text, f"{where}: severity.domains.{d}")
    checks = severity.get("checks") or {}
    if not isinstance(checks, dict):
        raise PolicyError(f"{where}.severity.checks: expected dict, got {type(checks).__name__}")
    by_check: dict[str, Severity] = {}
    for cid, text in checks.items():
        at = f"{where}: severity.checks.{cid}"
        if cid not in listed:
            raise PolicyError(
                f"{at}: not a built-in check of this file (no domain lists it, nor unmapped, excluded)"
            )
        by_check[str(cid)] = _severity(text, at)
    severities = {
        cid: by_check.get(cid, by_domain.get(d, Severity.MEDIUM)) for cid, d in builtin_domain.items()
    }
    severities.update(by_check)
    reasons = builtin.get("unmapped_reasons") or {}
    if not isinstance(reasons, dict):
        raise PolicyError(f"{where}.unmapped_reasons: expected dict, got {type(reasons).__name__}")
    for key, why in reasons.items():
        at = f"{where}: unmapped_reasons.{key}"
        if not isinstance(why, str) or not why.strip():
            raise PolicyError(f"{at}: give the reason as a non-empty string")
        if str(key).startswith("CKV") and key not in unmapped:
            raise PolicyError(f"{at}: not an unmapped check (a reason names a category or an unmapped id)")
    return builtin_domain, severities, {str(k): str(v).strip() for k, v in reasons.items()}


def load(policies: Path) -> Catalog:
    """Load and validate every policy file; PolicyError names what is wrong."""
    dom_data = _need(_load(policies / "domains.yaml"), "domains", dict, "domains.yaml")
    domains = {d: str(v.get("title", d)) for d, v in dom_data.items()}
    domain_scanners = {d: frozenset(v.get("scanners") or ()) for d, v in dom_data.items()}
    builtin = _load(policies / "checkov-builtin.yaml")
    builtin_domain, severities, unmapped_reasons = _builtin(builtin, domains)
    pack: dict[str, PackPolicy] = {}
    for pid, raw in _need(_load(policies / "pack.yaml"), "policies", dict, "pack.yaml").items():
        at = f"pack.yaml: policies.{pid}"
        domain = _need(raw, "domain", str, at)
        if domain not in domains:
            raise PolicyError(f"{at}.domain: unknown domain {domain!r}")
        pack[pid] = PackPolicy(
            id=pid,
            title=_need(raw, "title", str, at),
            domain=domain,
            severity=_severity(_need(raw, "severity", str, at), f"{at}.severity"),
            iac=_need(raw, "iac", str, at),
            rationale=_need(raw, "rationale", str, at),
            remediation=_need(raw, "remediation", str, at),
        )
        severities[pid] = pack[pid].severity
    domain_rules: dict[str, set[str]] = {d: set() for d in domains}
    for cid, d in builtin_domain.items():
        domain_rules[d].add(cid)
    for p in pack.values():
        domain_rules[p.domain].add(p.id)
    frameworks = {}
    for path in sorted((policies / "controls").glob("*.yaml")):
        fw = _framework(path, domains)
        if fw.id in frameworks:
            raise PolicyError(f"{path.name}: framework {fw.id!r} defined twice")
        frameworks[fw.id] = fw
    if not frameworks:
        raise PolicyError("controls/: no framework file")
    return Catalog(
        frameworks=frameworks,
        domains=domains,
        domain_scanners=domain_scanners,
        domain_rules={d: frozenset(r) for d, r in domain_rules.items()},
        pack=pack,
        builtin_domain=builtin_domain,
        severities=severities,
        excluded=dict(builtin.get("excluded") or {}),
        tracked_categories=tuple(builtin.get("tracked_categories") or ()),
        unmapped=tuple(builtin.get("unmapped") or ()),
        unmapped_reasons=unmapped_reasons,
    )


def _manual(control: Control, attestation: Attestation | None, today: str) -> ControlResult:
    def result(status: ControlStatus, reason: str) -> ControlResult:
        return ControlResult(
            control.framework, control.id, control.title, status, reason, attestation=attestation
        )

    a = attestation
    if a is None:
        return result(ControlStatus.MANUAL, "needs human evidence: no attestation")
    by = f"{a.updated_by} on {a.updated}"
    if a.due < today:
        return result(
            ControlStatus.MANUAL, f"attestation overdue since {a.due} (last by {by}, {a.frequency})"
        )
    what = f"{a.explanation} (evidence: {a.evidence}; due {a.due})"
    if a.passed:
        return result(ControlStatus.ATTESTED, f"attested by {by}: {what}")
    return result(ControlStatus.FAIL, f"attested as failing by {by}: {what}")


def _status_of(
    control: Control,
    catalog: Catalog,
    results: Mapping[str, ScanResult],
    scope: ControlScope | None = None,
) -> ControlResult:
    def result(
        status: ControlStatus, reason: str, found: tuple[str, ...] = (), accepted: tuple[str, ...] = ()
    ) -> ControlResult:
        return ControlResult(
            control.framework, control.id, control.title, status, reason, found, tuple(scanners), accepted
        )

    rules, whole = catalog.evidence(control)
    scanners = sorted(whole | ({CHECKOV} if rules else set()))
    relevant = [results[s] for s in scanners if s in results]
    mine = [
        f
        for r in relevant
        for f in r.findings
        if (f.tool in whole or (f.tool == CHECKOV and f.rule_id in rules))
        and (scope is None or scope.matches(f.location.path))
    ]
    failing = tuple(sorted(f.fingerprint for f in mine if f.active))
    accepted = tuple(sorted(f.fingerprint for f in mine if f.accepted))
    if failing or accepted:
        parts = [f"{len(failing)} active findings"] if failing else []
        if accepted:
            parts.append(f"{len(accepted)} accepted findings (baseline: accepted risk, still open)")
        return result(ControlStatus.FAIL, "; ".join(parts), failing, accepted)
    broken = [
        f"{r.scanner} failed"
        if r.status is Status.FAILED
        else f"{r.scanner}: {len(r.not_assessed)} items not assessed"
        for r in relevant
        if r.status is Status.FAILED or r.not_assessed
    ]
    if broken:
        return result(ControlStatus.ERROR, "; ".join(broken))
    ran: list[str] = []
    for r in relevant:
        if r.status is not Status.OK:
            continue
        if r.scanner in whole and r.assessed > 0:
            ran.append(f"{r.scanner} checked {r.assessed} items")
        elif r.scanner == CHECKOV and rules & set(r.rules_run):
            ran.append(f"checkov ran {len(rules & set(r.rules_run))} of its checks")
    if ran and scope is not None and scope.files == 0:
        return result(ControlStatus.NOT_ASSESSED, f"no file of the run is in the declared {scope.name} scope")
    if ran:
        where = f" (on the {scope.files} files of the declared {scope.name} scope)" if scope else ""
        return result(ControlStatus.PASS, "; ".join(ran) + where)
    states = [f"{r.scanner} {r.status.value}" + (f" ({r.reason})" if r.reason else "") for r in relevant]
    return result(
        ControlStatus.NOT_ASSESSED,
        "nothing in scope: " + ("; ".join(states) or "no scanner of this control ran"),
    )


def evaluate(
    report: RunReport,
    catalog: Catalog,
    attestations: tuple[Attestation, ...] = (),
    scopes: Mapping[str, ControlScope] | None = None,
) -> tuple[ControlResult, ...]:
    """Every control of every framework, from the run's scanner results; a manual control
    from its attestation, judged on the run's day. A scoped control (PCI DSS 3.5.1: the
    cardholder data environment) is evaluated on the findings in its declared scope only;
    undeclared, it is manual (human evidence, or an attestation)."""
    results = {r.scanner: r for r in report.results}
    attested = {(a.framework, a.control_id): a for a in attestations}
    today = report.started_at[:10]
    declared = scopes or {}

    def one(control: Control) -> ControlResult:
        return replace(_one(control), assessment=control.assessment, covers=control.covers)

    def _one(control: Control) -> ControlResult:
        if control.assessment == "not-applicable":
            return ControlResult(
                control.framework,
                control.id,
                control.title,
                ControlStatus.NOT_APPLICABLE,
                f"not applicable to a repository scan: {control.reason}",
            )
        if control.manual:
            return _manual(control, attested.get((control.framework, control.id)), today)
        if control.scope is not None and control.scope not in declared:
            found = _manual(control, attested.get((control.framework, control.id)), today)
            if found.status is ControlStatus.MANUAL and found.attestation is None:
                why = (
                    f"applies to the {control.scope} environment only: declare where it is "
                    f"(`{control.scope}` path globs) for the scan to assess it, or attest it"
                )
                return replace(found, reason=why)
            return found
        return _status_of(control, catalog, results, declared.get(control.scope) if control.scope else None)

    return tuple(one(control) for fw in catalog.frameworks.values() for control in fw.controls)


def manual_controls(catalog: Catalog) -> tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
    """(manual (framework, control) pairs, every pair): what an attestation may name."""
    every = {(fw.id, c.id): c for fw in catalog.frameworks.values() for c in fw.controls}
    return frozenset(k for k, c in every.items() if c.manual or c.scope), frozenset(every)


def select(catalog: Catalog, frameworks: tuple[str, ...]) -> Catalog:
    """Keep only the named frameworks (all when none is named); unknown ids are errors."""
    if not frameworks:
        return catalog
    unknown = [f for f in frameworks if f not in catalog.frameworks]
    if unknown:
        known = ", ".join(sorted(catalog.frameworks))
        raise PolicyError(f"frameworks: unknown {', '.join(unknown)} (known: {known})")
    return replace(catalog, frameworks={f: catalog.frameworks[f] for f in frameworks})
