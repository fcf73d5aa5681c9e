"""sbom.cdx.json: a CycloneDX 1.6 SBOM of the declared dependencies and their known vulnerabilities.

Built with cyclonedx-python-lib and serialised by its JSON outputter for schema 1.6.
The choices (docs/evidence-format.md, "The SBOM"):

- components: one per `RunReport.components` entry (name, version), type library, with
  its purl and, as `evidence.occurrences`, every manifest line that declares it
  (`location` = the manifest, `line` = its line when known);
- direct vs transitive: the dependency graph, the CycloneDX way: the scanned target
  (`metadata.component`) `dependsOn` its direct dependencies. Every component also
  carries the property `compliance-pipeline:dependency` = `direct` | `transitive`.
  `scope` is not used: it says whether a component is needed at runtime
  (required / optional / excluded), which the manifests do not tell us;
- vulnerabilities: one per advisory id of the pip-audit findings, `affects` every
  component version it was found in (with the fixed versions as `unaffected`),
  `source` the advisory data it came from, `references` its aliases,
  `recommendation` from the fixed versions, one rating (our severity level, see
  SEVERITIES; with the CVSS method and base score when the level came from a vector,
  else `method: other` and no score), and an `analysis` when every finding of the
  advisory is suppressed (state `exploitable`, response `will_not_fix`, the
  suppression's reason, owner and expiry as detail: a waiver accepts the risk, it
  does not claim the version is unaffected).

A pure function of the RunReport: the timestamp is the run's start, the serial number
a UUIDv5 of the run's identity, every bom-ref is derived from the data, and the library
sorts every collection, so the same RunReport gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import warnings
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from pathlib import PurePosixPath
from urllib.parse import quote

from cyclonedx.exception.model import InvalidUriException
from cyclonedx.model import ExternalReference, ExternalReferenceType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.impact_analysis import (
    ImpactAnalysisAffectedStatus,
    ImpactAnalysisResponse,
    ImpactAnalysisState,
)
from cyclonedx.model.tool import ToolRepository
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    Vulnerability,
    VulnerabilityAdvisory,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL
from packaging.utils import canonicalize_name

from pipeline.model import Component, Finding, RunReport, Severity

FILE_NAME = "sbom.cdx.json"
TOOL = "pip-audit"
"""The scanner whose findings are the SBOM's vulnerabilities."""
PREFIX = "compliance-pipeline"
"""Namespace of our properties."""
SERIAL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:compliance-pipeline:sbom")
SEVERITIES = {
    Severity.CRITICAL: VulnerabilitySeverity.CRITICAL,
    Severity.HIGH: VulnerabilitySeverity.HIGH,
    Severity.MEDIUM: VulnerabilitySeverity.MEDIUM,
    Severity.LOW: VulnerabilitySeverity.LOW,
    Severity.INFO: VulnerabilitySeverity.INFO,
}
"""Our one scale onto CycloneDX's severities, name for name."""
CVSS_METHODS = {
    "4.0": VulnerabilityScoreSource.CVSS_V4,
    "3.1": VulnerabilityScoreSource.CVSS_V3_1,
    "3.0": VulnerabilityScoreSource.CVSS_V3,
    "2.0": VulnerabilityScoreSource.CVSS_V2,
}
CVSS_SOURCE = re.compile(r"CVSS:(\d\.\d) base (\d{1,2}(?:\.\d)?)\b")
"""`Finding.severity_source` of a scored vector: "CVSS:3.1 base 7.5" (docs/vulndb.md, Severity)."""
RATING_JUSTIFICATION = "compliance-pipeline severity level from {source} (docs/vulndb.md, Severity)"
"""The rating's method is `other` unless the level came from a CVSS vector: our level is
not a score, and the score is the vector's base score."""
GRAPH_NOTE = (
    "the target dependsOn its direct dependencies; edges between dependencies are not "
    "recorded, so a dependency's empty dependsOn means unknown, not none"
)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _timestamp(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return EPOCH
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def serial_number(report: RunReport) -> uuid.UUID:
    """The same run always gets the same serial number; another run another one."""
    return uuid.uuid5(SERIAL_NAMESPACE, "\n".join((report.config_digest, report.started_at, report.target)))


def _uri(url: str | None) -> XsUri | None:
    """http(s) URLs only (a help_url of `javascript:` is not a link)."""
    if not url or not url.startswith(("https://", "http://")):
        return None
    try:
        return XsUri(url)
    except InvalidUriException:
        return None


def _purl(name: str, version: str | None) -> PackageURL | None:
    try:
        return PackageURL(type="pypi", name=name, version=version or None)
    except ValueError:
        return None


def _occurrence(where: str, ref: str) -> Occurrence:
    """`manifest:line` or `manifest`.

    With a bom-ref: the library orders (and de-duplicates) occurrences by bom-ref
    first, and without one their order would follow object ids from run to run.
    """
    path, sep, line = where.rpartition(":")
    if sep and path and line.isascii() and line.isdigit():
        return Occurrence(bom_ref=ref, location=path, line=int(line))
    return Occurrence(bom_ref=ref, location=where)


def _alias_source(alias: str) -> VulnerabilitySource:
    quoted = quote(alias, safe="")  # always a valid URI, whatever the alias
    if alias.startswith("GHSA-"):
        return VulnerabilitySource(
            name="GitHub Advisory Database", url=XsUri(f"https://github.com/advisories/{quoted}")
        )
    if alias.startswith("CVE-"):
        return VulnerabilitySource(name="NVD", url=XsUri(f"https://nvd.nist.gov/vuln/detail/{quoted}"))
    return VulnerabilitySource(name="OSV", url=XsUri(f"https://osv.dev/vulnerability/{quoted}"))


class _Refs:
    """Unique, data-derived bom-refs (the library would otherwise draw random ones)."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def make(self, wanted: str) -> str:
        ref, n = wanted or "ref", 1
        while ref in self._used:
            n += 1
            ref = f"{wanted}#{n}"
        self._used.add(ref)
        return ref


def _prop(key: str, value: object) -> Property:
    return Property(name=f"{PREFIX}:{key}", value=str(value))


def _component(c: Component, refs: _Refs, origin: str | None = None) -> CdxComponent:
    purl = _purl(c.name, c.version)
    ref = refs.make(purl.to_string() if purl else f"pypi:{c.name}@{c.version or ''}")
    occurrences = [_occurrence(o, refs.make(f"{ref}|{o}")) for o in sorted(set(c.occurrences)) if o]
    props = [_prop("dependency", "direct" if c.direct else "transitive")]
    if origin:
        props.append(_prop("origin", origin))
    return CdxComponent(
        type=ComponentType.LIBRARY,
        name=c.name,
        version=c.version or None,
        purl=purl,
        bom_ref=ref,
        evidence=ComponentEvidence(occurrences=occurrences) if occurrences else None,
        properties=props,
    )


def _key(name: str | None, version: str | None) -> tuple[str, str | None]:
    return canonicalize_name(name or ""), version or None


def _package(f: Finding) -> tuple[str, str | None]:
    """(name, installed version) of a pip-audit finding."""
    return f.package or "", f.installed_version or None


def _target(report: RunReport, refs: _Refs) -> CdxComponent:
    git = report.git
    name = PurePosixPath(report.target).name or report.target or "target"
    props = [_prop("target", report.target)]
    if git.commit:
        props.append(_prop("git:commit", git.commit))
    if git.branch:
        props.append(_prop("git:branch", git.branch))
    if git.dirty is not None:
        props.append(_prop("git:dirty", str(git.dirty).lower()))
    remote = _uri(git.remote) if git.remote and "@" not in git.remote else None
    return CdxComponent(
        type=ComponentType.APPLICATION,
        name=name,
        version=git.commit or None,
        bom_ref=refs.make("target"),
        properties=props,
        external_references=[ExternalReference(type=ExternalReferenceType.VCS, url=remote)] if remote else [],
    )


def _tools(report: RunReport, refs: _Refs) -> ToolRepository:
    tools = [
        CdxComponent(
            type=ComponentType.APPLICATION,
            name="compliance-pipeline",
            version=report.pipeline_version,
            bom_ref=refs.make("tool:compliance-pipeline"),
        )
    ]
    for r in report.results:
        if r.scanner == TOOL and r.tool is not None:
            tools.append(
                CdxComponent(
                    type=ComponentType.APPLICATION,
                    name=r.tool.name,
                    version=r.tool.version,
                    bom_ref=refs.make(f"tool:{r.tool.name}"),
                )
            )
    return ToolRepository(components=tools)


def _metadata_properties(report: RunReport) -> list[Property]:
    props = [_prop("config-digest", report.config_digest), _prop("dependency-graph", GRAPH_NOTE)]
    adv = report.advisory_db
    if adv is not None:
        props += [
            _prop("advisory-database:source", adv.source),
            _prop("advisory-database:records", adv.records),
            _prop("advisory-database:digest", adv.digest),
            _prop("advisory-database:newest-modified", adv.newest_modified),
            _prop("advisory-database:imported-at", adv.imported_at),
        ]
    return props


def _service_name(report: RunReport) -> str:
    """Which advisory data pip-audit was checked against."""
    if report.advisory_db is not None:
        return "OSV (local advisory database)"
    for r in report.results:
        if r.scanner != TOOL:
            continue
        for inv in r.invocations:
            argv = list(inv.argv)
            if "--vulnerability-service" in argv[:-1]:
                service = argv[argv.index("--vulnerability-service") + 1]
                return {"osv": "OSV", "pypi": "PyPI"}.get(service, service)
    return "pip-audit vulnerability service"


def _recommendation(findings: list[Finding]) -> str:
    fixes: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        fixes[_package(f)[0] or "the package"].update(f.fixed_versions)
    return " ".join(
        f"Upgrade {name} to {' or '.join(sorted(fixes[name]))} or later."
        if fixes[name]
        else f"No fixed release of {name} is known: remove or replace it."
        for name in sorted(fixes)
    )


def _analysis(findings: list[Finding]) -> VulnerabilityAnalysis | None:
    """Only when every finding of the advisory is suppressed (else it still counts)."""
    suppressed = [(f.location.path, f.suppression) for f in findings if f.suppression is not None]
    if not findings or len(suppressed) < len(findings):
        return None
    details = {
        f"{path}: {s.kind}: {s.reason}"
        + (f"; owner {s.owner}" if s.owner else "")
        + (f"; approved by {s.approved_by}" if s.approved_by else "")
        + (f"; expires {s.expires}" if s.expires else "")
        + (f"; declared in {s.source}" if s.source else "")
        for path, s in suppressed
    }
    return VulnerabilityAnalysis(
        state=ImpactAnalysisState.EXPLOITABLE,
        responses=[ImpactAnalysisResponse.WILL_NOT_FIX],
        detail="Suppressed (accepted, not shown to be unaffected). " + " | ".join(sorted(details)),
    )


def _cwes(findings: Iterable[Finding]) -> list[int]:
    numbers = {c.removeprefix("CWE-") for f in findings for c in f.cwe}
    return sorted(int(n) for n in numbers if n.isascii() and n.isdigit())


def _rating(f: Finding) -> VulnerabilityRating:
    """Our severity; with the CVSS version and base score it came from when it did."""
    match = CVSS_SOURCE.match(f.severity_source or "")
    method = CVSS_METHODS.get(match.group(1)) if match else None
    return VulnerabilityRating(
        source=VulnerabilitySource(name="compliance-pipeline"),
        severity=SEVERITIES[f.severity],
        method=method or VulnerabilityScoreSource.OTHER,
        score=Decimal(match.group(2)) if match and method else None,
        justification=RATING_JUSTIFICATION.format(source=f.severity_source or "the advisory data or policy"),
    )


def _vulnerability(
    vid: str, findings: list[Finding], refs_of: dict[tuple[str, str | None], str], service: str, refs: _Refs
) -> Vulnerability:
    findings = sorted(findings, key=lambda f: (f.fingerprint, f.location.path))
    url = next((u for u in (_uri(f.help_url) for f in findings) if u is not None), None)
    versions: dict[str, set[tuple[str, ImpactAnalysisAffectedStatus]]] = defaultdict(set)
    for f in findings:
        name, installed = _package(f)
        ref = refs_of.get(_key(name, installed)) if name else None
        if ref is None:  # no package named: nothing to point to
            continue
        if installed:
            versions[ref].add((installed, ImpactAnalysisAffectedStatus.AFFECTED))
        versions[ref].update(
            (fix, ImpactAnalysisAffectedStatus.UNAFFECTED) for fix in f.fixed_versions if fix
        )
    suppressed = sum(1 for f in findings if f.suppression is not None)
    status = (
        "active" if not suppressed else "suppressed" if suppressed == len(findings) else "partly suppressed"
    )
    props = [_prop("status", status)]
    props += [_prop("fingerprint", f.fingerprint) for f in findings]
    props += [
        _prop(
            "declared-in",
            f"{f.location.path}:{f.location.start_line}" if f.location.start_line else f.location.path,
        )
        for f in findings
        if f.location.path
    ]
    aliases = sorted({a for f in findings for a in f.aliases if a and a != vid})
    return Vulnerability(
        bom_ref=refs.make(f"vulnerability:{vid}"),
        id=vid,
        source=VulnerabilitySource(name=service, url=url),
        references=[VulnerabilityReference(id=a, source=_alias_source(a)) for a in aliases],
        ratings=[_rating(max(findings, key=lambda f: (f.severity, f.severity_source is not None)))],
        cwes=_cwes(findings),
        description=next((f.message for f in findings if f.message), None),
        recommendation=_recommendation(findings),
        advisories=[VulnerabilityAdvisory(url=url, title=vid)] if url else [],
        analysis=_analysis(findings),
        affects=[
            BomTarget(ref=ref, versions=[BomTargetVersionRange(version=v, status=s) for v, s in sorted(vs)])
            for ref, vs in sorted(versions.items())
        ],
        properties=props,
    )


def build(report: RunReport) -> Bom:
    """The CycloneDX model of the run (the outputter checks it as it serialises)."""
    refs = _Refs()
    target = _target(report, refs)
    tools = _tools(report, refs)
    components: list[CdxComponent] = []
    refs_of: dict[tuple[str, str | None], str] = {}
    direct: list[CdxComponent] = []
    for c in sorted(report.components, key=lambda c: (c.name, c.version or "", c.occurrences)):
        cdx = _component(c, refs)
        components.append(cdx)
        refs_of.setdefault(_key(c.name, c.version), str(cdx.bom_ref))
        if c.direct:
            direct.append(cdx)
    audited = sorted((f for f in report.findings if f.tool == TOOL), key=lambda f: (f.rule_id, f.fingerprint))
    for f in audited:
        name, installed = _package(f)
        key = _key(name, installed)
        if not key[0] or key in refs_of:
            continue
        if _key(name, None) in refs_of:  # declared with a range; pip-audit resolved this version
            refs_of[key] = refs_of[_key(name, None)]
            continue
        # Reported by pip-audit but declared by no manifest (a dependency of a range it resolved).
        extra = _component(
            Component(key[0], installed, (), direct=False), refs, origin="pip-audit resolution"
        )
        components.append(extra)
        refs_of[key] = str(extra.bom_ref)
    by_id: dict[str, list[Finding]] = defaultdict(list)
    for f in audited:
        by_id[f.rule_id].append(f)
    service = _service_name(report)
    bom = Bom(
        serial_number=serial_number(report),
        metadata=BomMetaData(
            timestamp=_timestamp(report.started_at),
            tools=tools,
            component=target,
            properties=_metadata_properties(report),
        ),
        components=components,
        vulnerabilities=[
            _vulnerability(vid, fs, refs_of, service, refs) for vid, fs in sorted(by_id.items())
        ],
    )
    # As Bom.register_dependency(target, direct) would, without its quadratic search
    # (2.3 s for 1,262 components): the target depends on the direct components, each of
    # them is listed with no further dependency.
    bom.dependencies.update(
        [
            Dependency(ref=target.bom_ref, dependencies=[Dependency(ref=c.bom_ref) for c in direct]),
            *(Dependency(ref=c.bom_ref) for c in direct),
        ]
    )
    return bom


def render(report: RunReport) -> str:
    """The SBOM as CycloneDX 1.6 JSON: the same RunReport gives the same bytes."""
    outputter = JsonV1Dot6(build(report))
    with warnings.catch_warnings():
        # The library warns when the target has no direct dependency to point to (a
        # project with only a lock file): the graph is then honestly empty.
        warnings.filterwarnings(
            "ignore", message="The Component this BOM is describing", category=UserWarning
        )
        return outputter.output_as_string(indent=2) + "\n"
