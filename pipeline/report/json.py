"""findings.json: the machine-readable run (schema in docs/findings-schema.json)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from typing import Any

from pipeline import gate
from pipeline.model import SKIP_CATEGORIES, Finding, RunReport, ScanResult, Severity

SCHEMA_ID = "https://compliance-pipeline.invalid/schemas/findings/1.6.0"
SCHEMA_VERSION = "1.6.0"


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "fingerprint": f.fingerprint,
        "tool": f.tool,
        "rule_id": f.rule_id,
        "title": f.title,
        "severity": f.severity.label,
        "location": {
            "path": f.location.path,
            "start_line": f.location.start_line,
            "end_line": f.location.end_line,
            "resource": f.location.resource,
        },
        "message": f.message,
        "cwe": list(f.cwe),
        "aliases": list(f.aliases),
        "remediation": f.remediation,
        "help_url": f.help_url,
        "snippet": f.snippet,
        "confidence": f.confidence,
        "package": f.package,
        "installed_version": f.installed_version,
        "fixed_versions": list(f.fixed_versions),
        "severity_source": f.severity_source,
        "status": f.state,
        "suppression": None
        if f.suppression is None
        else {
            "kind": f.suppression.kind,
            "reason": f.suppression.reason,
            "owner": f.suppression.owner,
            "expires": f.suppression.expires,
            "approved_by": f.suppression.approved_by,
            "source": f.suppression.source,
        },
    }


def scanner_dict(r: ScanResult) -> dict[str, Any]:
    return {
        "name": r.scanner,
        "status": r.status.value,
        "complete": r.complete,
        "reason": r.reason,
        "tool": None
        if r.tool is None
        else {
            "name": r.tool.name,
            "version": r.tool.version,
            "source": r.tool.source,
            "implementation": r.tool.implementation,
        },
        "seconds": r.seconds,
        "finding_count": len(r.findings),
        "assessed": r.assessed,
        "errors": list(r.errors),
        "warnings": list(r.warnings),
        "not_assessed": [{"item": n.item, "reason": n.reason} for n in r.not_assessed],
        "rules_run": list(r.rules_run),
        "cache": None if r.cache is None else {"reused": r.cache.items, "from": list(r.cache.origins)},
        "invocations": [
            {
                "argv": list(i.argv),
                "returncode": i.returncode,
                "seconds": i.seconds,
                "timed_out": i.timed_out,
            }
            for i in r.invocations
        ],
    }


def severity_counts(findings: tuple[Finding, ...]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings)
    return {s.label: counts.get(s, 0) for s in sorted(Severity, reverse=True)}


def to_dict(report: RunReport) -> dict[str, Any]:
    findings = sorted(
        report.findings,
        key=lambda f: (
            -f.severity,
            f.tool,
            f.location.path,
            f.location.start_line or 0,
            f.fingerprint,
        ),
    )
    return {
        "$schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "pipeline_version": report.pipeline_version,
        "target": report.target,
        "git": {
            "commit": report.git.commit,
            "branch": report.git.branch,
            "remote": report.git.remote,
            "dirty": report.git.dirty,
            "default_branch": report.git.default_branch,
            "on_default_branch": report.git.on_default_branch,
        },
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "config_digest": report.config_digest,
        "threshold": report.threshold.label,
        "verdict": gate.verdict(report).value,
        "exit_code": gate.exit_code(report),
        "interrupted": report.interrupted,
        "scope": {"kind": "full"}
        if report.change is None
        else {
            "kind": "change",
            "since": report.change.since,
            "base": report.change.base,
            "files": list(report.change.files),
            "modules": list(report.change.modules),
            "error": report.change.error,
        },
        "settings": [
            {"key": s.key, "value": s.value, "source": s.source, "narrows": s.narrows}
            for s in report.settings
        ],
        "summary": {
            "findings": len(findings),
            "active": len(report.active_findings),
            "suppressed": len(findings) - len(report.active_findings),
            "accepted": sum(1 for f in findings if f.accepted),
            "by_severity": severity_counts(report.active_findings),
            "by_scanner": {r.scanner: len(r.findings) for r in report.results},
            "at_or_above_threshold": len(gate.blocking(report)),
            "not_assessed": sum(len(r.not_assessed) for r in report.results),
            "failed_scanners": [r.scanner for r in report.results if r.status.value == "failed"],
            "fail_on_incomplete": report.fail_on_incomplete,
            "suppression_notes": list(report.suppression_notes),
        },
        "inventory": {
            "files": report.files,
            "frameworks": list(report.frameworks),
            "skipped": [
                {
                    "path": s.path,
                    "reason": s.reason,
                    "category": s.category,
                    "files": s.files,
                    "not_assessed": s.not_assessed,
                }
                for s in report.skipped_paths
            ],
            "by_reason": {
                category: {"label": SKIP_CATEGORIES[category], "paths": paths, "files": files}
                for category, (paths, files) in report.skipped_by_reason().items()
            },
            "excluded": sum(1 for s in report.skipped_paths if s.category == "excluded"),
        },
        "advisory_database": None if report.advisory_db is None else asdict(report.advisory_db),
        "scanners": [scanner_dict(r) for r in report.results],
        "controls": [
            {
                "framework": c.framework,
                "control_id": c.control_id,
                "title": c.title,
                "status": c.status.value,
                "reason": c.reason,
                "findings": list(c.findings),
                "scanners": list(c.scanners),
                "accepted": list(c.accepted),
                "label": c.label,
                "assessment": c.assessment,
                "covers": c.covers,
                "attestation": None if c.attestation is None else asdict(c.attestation),
            }
            for c in report.controls
        ],
        "findings": [finding_dict(f) for f in findings],
    }


def render(report: RunReport) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"
