"""results.sarif: SARIF 2.1.0, one run per scanner, within GitHub code scanning's limits.

- rules carry help text and `properties.security-severity` (the number GitHub
  maps to critical ≥ 9.0, high ≥ 7.0, medium ≥ 4.0, low > 0);
- results carry our fingerprint in `partialFingerprints`;
- a failed scanner is a run whose invocation was not successful, with its
  errors as tool execution notifications;
- at most 25,000 results per run and 10 MB gzipped: over that, the most severe
  results are kept and the run says how many were left out.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from typing import Any

from pipeline.model import Finding, RunReport, ScanResult, Severity, Status

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 25_000
MAX_GZIP_BYTES = 10 * 1024 * 1024
FINGERPRINT_KEY = "compliancePipeline/v1"
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
TOOL_URI = {
    "detect-secrets": "https://github.com/Yelp/detect-secrets",
    "bandit": "https://github.com/PyCQA/bandit",
    "pip-audit": "https://github.com/pypa/pip-audit",
    "checkov": "https://github.com/bridgecrewio/checkov",
}


def _rule(f: Finding) -> dict[str, Any]:
    help_text = f.remediation or f.title
    rule: dict[str, Any] = {
        "id": f.rule_id,
        "name": f.rule_id,
        "shortDescription": {"text": f.title},
        "fullDescription": {"text": f.title},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": LEVEL[f.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[f.severity],
            "tags": ["security", *f.cwe],
        },
    }
    if f.help_url:
        rule["helpUri"] = f.help_url
    return rule


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    region: dict[str, Any] = {}
    if f.location.start_line:
        region["startLine"] = f.location.start_line
        if f.location.end_line and f.location.end_line >= f.location.start_line:
            region["endLine"] = f.location.end_line
    if f.snippet:
        region["snippet"] = {"text": f.snippet}
    # Relative to the repository root, which is how code scanning resolves it.
    physical: dict[str, Any] = {"artifactLocation": {"uri": f.location.path or "."}}
    if region:
        physical["region"] = region
    location: dict[str, Any] = {"physicalLocation": physical}
    if f.location.resource:
        location["logicalLocations"] = [{"name": f.location.resource}]
    extra: dict[str, Any] = {}
    if f.suppression is not None:
        extra["suppressions"] = [
            {
                "kind": "inSource" if f.suppression.kind == "inline" else "external",
                "status": "accepted",
                "justification": f.suppression.reason
                + (
                    f" (owner {f.suppression.owner}, expires {f.suppression.expires})"
                    if f.suppression.owner
                    else ""
                ),
            }
        ]
    return {
        **extra,
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[f.severity],
        "message": {"text": f.message or f.title},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {"severity": f.severity.label},
    }


def _run(result: ScanResult, findings: list[Finding], left_out: int) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    for f in findings:
        rules.setdefault(f.rule_id, _rule(f))
    index = {rid: i for i, rid in enumerate(rules)}
    driver: dict[str, Any] = {
        "name": result.scanner,
        "informationUri": TOOL_URI.get(result.scanner, "https://example.invalid"),
        "rules": list(rules.values()),
    }
    if result.tool:
        driver["version"] = result.tool.version
        driver["semanticVersion"] = result.tool.version
    notifications = [{"level": "error", "message": {"text": e}} for e in result.errors] + [
        {"level": "warning", "message": {"text": f"not assessed: {n.item}: {n.reason}"}}
        for n in result.not_assessed[:1000]
    ]
    if left_out:
        notifications.append(
            {
                "level": "warning",
                "message": {
                    "text": f"{left_out} less severe results left out to stay within GitHub's limits"
                },
            }
        )
    invocation: dict[str, Any] = {
        "executionSuccessful": result.status is not Status.FAILED,
        "toolExecutionNotifications": notifications,
    }
    if result.reason:
        invocation["properties"] = {"status": result.status.value, "reason": result.reason}
    return {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "results": [_result(f, index[f.rule_id]) for f in findings],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "resultsLeftOut": left_out,
            "status": result.status.value,
            **(
                {"reusedFromCache": {"items": result.cache.items, "runs": list(result.cache.origins)}}
                if result.cache
                else {}
            ),
        },
    }


def _most_severe(findings: Iterable[Finding], limit: int) -> list[Finding]:
    ranked = sorted(findings, key=lambda f: (-f.severity, f.location.path, f.fingerprint))
    return ranked[:limit]


def to_dict(report: RunReport, max_results: int = MAX_RESULTS) -> dict[str, Any]:
    runs = []
    for r in report.results:
        if r.status in (Status.DISABLED, Status.NOT_APPLICABLE) and not r.findings:
            continue
        kept = _most_severe(r.findings, max_results)
        runs.append(_run(r, kept, len(r.findings) - len(kept)))
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}


def render(report: RunReport) -> str:
    """The SARIF text; halves the per-run result budget until it fits 10 MB gzipped."""
    limit = MAX_RESULTS
    while True:
        text = json.dumps(to_dict(report, limit), indent=1, ensure_ascii=False) + "\n"
        if (
            len(gzip.compress(text.encode("utf-8", "backslashreplace"), compresslevel=6)) <= MAX_GZIP_BYTES
            or limit <= 1
        ):
            return text
        limit //= 2
