"""report.html: a self-contained page (inline CSS, SVG and a little JavaScript).

jinja2 with autoescape and StrictUndefined: scanned code ends up in the report,
so every value is escaped, and a missing value is an error, not an empty cell.
Only http(s) links are rendered as links. Everything is readable with
JavaScript off; the script only adds the filters.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2

from pipeline import gate
from pipeline.model import SKIP_CATEGORIES, Finding, RunReport, Severity, Status
from pipeline.report.sbom import FILE_NAME as SBOM_FILE

COLORS = {
    "critical": "#8b0000",
    "high": "#b42318",
    "medium": "#8a5300",
    "low": "#0b5394",
    "info": "#444c56",
}
SNIPPET_CHARS = 1200
MAX_LISTED = 500
"""Paths listed per skip reason in the HTML report (findings.json has them all)."""
"""The full masked snippet is in findings.json; the page keeps 10,000 findings under 10 MB."""
FRAMEWORK_NAMES = {
    "soc2": "SOC 2",
    "iso27001": "ISO/IEC 27001:2022",
    "pci-dss": "PCI DSS 4.0",
    "hipaa": "HIPAA Security Rule",
    "nist-800-53": "NIST SP 800-53 r5",
}


def environment(templates: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _safe_url(url: str | None) -> str | None:
    return url if url and url.startswith(("https://", "http://")) else None


def _finding(f: Finding) -> dict[str, Any]:
    links: list[tuple[str, str]] = []
    for cwe in f.cwe:
        number = cwe.removeprefix("CWE-")
        if number.isdigit():
            links.append((cwe, f"https://cwe.mitre.org/data/definitions/{number}.html"))
    url = _safe_url(f.help_url)
    if url:
        links.append(("advisory" if f.tool == "pip-audit" else "rule documentation", url))
    snippet = f.snippet or ""
    if len(snippet) > SNIPPET_CHARS:
        snippet = snippet[:SNIPPET_CHARS] + "…"
    line = f":{f.location.start_line}" if f.location.start_line else ""
    return {
        "fingerprint": f.fingerprint,
        "tool": f.tool,
        "rule_id": f.rule_id,
        "title": f.title,
        "severity": f.severity.label,
        "path": f.location.path,
        "where": f"{f.location.path}{line}",
        "resource": f.location.resource,
        "message": f.message if f.message != f.title else "",
        "snippet": snippet,
        "remediation": f.remediation,
        "links": links,
        "aliases": ", ".join(f.aliases),
        "status": f.state,
        "status_reason": ""
        if f.suppression is None
        else f"{f.suppression.kind}: {f.suppression.reason}"
        + (f" (owner {f.suppression.owner}" if f.suppression.owner else "")
        + (f", expires {f.suppression.expires}" if f.suppression.expires else "")
        + (f", approved by {f.suppression.approved_by}" if f.suppression.approved_by else "")
        + (")" if f.suppression.owner else ""),
    }


def coverage(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per framework: requirements by class, and PASS over those the scan assesses
    (automated and partial)."""
    by = {
        k: sum(1 for r in rows if r["assessment"] == k)
        for k in ("automated", "partial", "manual", "not-applicable")
    }
    assessed = [r for r in rows if r["assessment"] in ("automated", "partial")]
    passed = sum(1 for r in assessed if r["status"] == "PASS")
    return {
        "total": len(rows),
        "by_class": by,
        "passed": passed,
        "assessed": len(assessed),
        "percent": round(100 * passed / len(assessed)) if assessed else None,
    }


def view(report: RunReport, evidence_digest: str) -> dict[str, Any]:
    """The template's whole input: plain values only."""
    counts = Counter(f.severity for f in report.active_findings)
    top = max(counts.values(), default=0)
    severity_counts = [
        (s.label, counts.get(s, 0), 0 if not top else round(280 * counts.get(s, 0) / top))
        for s in sorted(Severity, reverse=True)
    ]
    order = {Status.FAILED: 0, Status.OK: 1, Status.NOT_APPLICABLE: 2, Status.DISABLED: 3}
    scanners = [
        {
            "name": r.scanner,
            "status": r.status.value,
            "reason": r.reason
            or (
                f"{r.cache.items} items reused from the result cache (run {', '.join(r.cache.origins[:3])})"
                if r.cache
                else ""
            ),
            "tool": (
                f"{r.tool.name} {r.tool.version}"
                + (f" ({r.tool.implementation})" if r.tool.implementation else "")
                + f", {r.tool.source}"
                if r.tool
                else "—"
            ),
            "findings": len(r.findings),
            "assessed": r.assessed,
            "not_assessed": len(r.not_assessed),
            "not_assessed_items": [(n.item, n.reason) for n in r.not_assessed[:200]],
            "seconds": f"{r.seconds:.1f}",
            "errors": list(r.errors[:5]),
        }
        for r in sorted(report.results, key=lambda r: order[r.status])
    ]
    frameworks: dict[str, list[dict[str, Any]]] = {}
    for c in report.controls:
        frameworks.setdefault(c.framework, []).append(
            {
                "control_id": c.control_id,
                "title": c.title,
                "status": c.status.value,
                "label": c.label,
                "assessment": c.assessment,
                "covers": c.covers,
                "reason": c.reason,
                "scanners": ", ".join(c.scanners),
                "findings": list(c.findings) + list(c.accepted),
            }
        )
    findings = sorted(
        report.findings,
        key=lambda f: (-f.severity, f.tool, f.location.path, f.location.start_line or 0),
    )
    adv = report.advisory_db
    return {
        "target": report.target,
        "target_name": PurePosixPath(report.target).name or report.target,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "pipeline_version": report.pipeline_version,
        "config_digest": report.config_digest,
        "commit": report.git.commit,
        "branch": report.git.branch,
        "remote": report.git.remote,
        "dirty": bool(report.git.dirty),
        "verdict": gate.verdict(report).value,
        "exit_code": gate.exit_code(report),
        "threshold": report.threshold.label,
        "total": len(report.active_findings),
        "blocking": len(gate.blocking(report)),
        "severity_counts": severity_counts,
        "colors": COLORS,
        "scanners": scanners,
        "failed_scanners": [s for s in scanners if s["status"] == Status.FAILED.value],
        "frameworks": [
            {"name": FRAMEWORK_NAMES.get(fw, fw), "controls": rows, "coverage": coverage(rows)}
            for fw, rows in frameworks.items()
        ],
        "active": [_finding(f) for f in findings if f.active],
        "suppressed": [_finding(f) for f in findings if not f.active],
        "notes": list(report.suppression_notes),
        "scanner_names": [r.scanner for r in report.results],
        "severity_names": [s.label for s in sorted(Severity, reverse=True)],
        "advisory": None if adv is None else asdict(adv),
        "evidence_digest": evidence_digest,
        "sbom_file": SBOM_FILE,
        "files": report.files,
        "skipped": [(s.path, s.reason) for s in report.skipped_paths],
        "excluded": [(s.path, s.reason) for s in report.skipped_paths if s.category == "excluded"],
        "inventory_not_assessed": [(s.path, s.reason) for s in report.inventory_not_assessed],
        "skipped_by_reason": [
            {
                "label": SKIP_CATEGORIES[category],
                "paths": paths,
                "files": files,
                "listed": [
                    (s.path, s.reason, s.files) for s in report.skipped_paths if s.category == category
                ][:MAX_LISTED],
            }
            for category, (paths, files) in report.skipped_by_reason().items()
        ],
        "interrupted": report.interrupted,
        "change": None
        if report.change is None
        else {
            "since": report.change.since,
            "files": list(report.change.files),
            "modules": list(report.change.modules),
            "error": report.change.error,
        },
        "repository_settings": [s for s in report.settings if not s.source.startswith("policy")],
        "narrowing": sum(1 for s in report.settings if s.narrows),
        "policy": [s for s in report.settings if s.source.startswith("policy")],
    }


def render(report: RunReport, templates: Path, evidence_digest: str) -> str:
    template = environment(templates).get_template("report.html.j2")
    return template.render(run=view(report, evidence_digest))
