"""Deterministic RunReports for the writer tests (golden files, limits, hostile content)."""

from __future__ import annotations

from pipeline import controls, resources
from pipeline.model import (
    AdvisoryDatabase,
    Finding,
    GitInfo,
    Location,
    NotAssessed,
    RunReport,
    ScanResult,
    Severity,
    Status,
    Suppression,
    ToolInfo,
)
from pipeline.run import RunOutput

HOSTILE_PATH = "web/<script>alert(\"x\")</script> 'q'.py"
HOSTILE_SNIPPET = 'x = "</textarea><script>window.__pwned = 1</script>"'


def finding(i: int, tool: str = "bandit", severity: Severity = Severity.HIGH) -> Finding:
    return Finding(
        tool=tool,
        rule_id=f"R{i % 7}",
        title=f"Rule {i % 7} title",
        severity=severity,
        location=Location(f"src/mod_{i % 50}.py", i % 300 + 1, i % 300 + 1),
        fingerprint=f"{i:032x}",
        message=f"message {i}",
        cwe=("CWE-78",),
        remediation="Fix it.",
        help_url="https://example.invalid/rule",
        snippet=f"call({i}, shell=True)",
    )


def sample(n: int = 12, failed_checkov: bool = False) -> RunOutput:
    sevs = list(Severity)
    tools = ("detect-secrets", "bandit", "pip-audit", "checkov")
    found = [finding(i, tools[i % 4], sevs[i % 5]) for i in range(n)]
    if n:
        found.append(
            Finding(
                "bandit",
                "B105",
                "hardcoded <b>password</b>",
                Severity.CRITICAL,
                Location(HOSTILE_PATH, 3, 3),
                "f" * 32,
                message="msg with 'quotes' & \"doubles\"",
                snippet=HOSTILE_SNIPPET,
                help_url="javascript:alert(1)",
            )
        )
        found.append(
            Finding(
                "bandit",
                "B602",
                "subprocess with shell",
                Severity.HIGH,
                Location("tools/run.py", 9, 9),
                "e" * 32,
                suppression=Suppression(
                    "waiver",
                    "input is a constant",
                    "alice@example.invalid",
                    "2026-12-31",
                    "bob",
                    "compliance-waivers.yaml:3",
                ),
            )
        )
    by_tool = {t: tuple(f for f in found if f.tool == t) for t in tools}
    results = tuple(
        ScanResult(
            t,
            Status.FAILED if (t == "checkov" and failed_checkov) else Status.OK,
            findings=() if (t == "checkov" and failed_checkov) else by_tool[t],
            errors=("checkov exited -11: Segmentation fault",) if (t == "checkov" and failed_checkov) else (),
            not_assessed=(NotAssessed(t, "infra/main.tf", "checkov failed"),)
            if (t == "checkov" and failed_checkov)
            else (),
            tool=ToolInfo(t, "1.0", "managed"),
            seconds=1.5,
            assessed=3,
            rules_run=("CKV_AWS_2",) if t == "checkov" else (),
        )
        for t in tools
    )
    report = RunReport(
        target="/scan/target",
        started_at="2026-11-26T00:00:00Z",
        finished_at="2026-11-26T00:00:10Z",
        pipeline_version="0.1.0",
        config_digest="sha256:" + "0" * 64,
        threshold=Severity.HIGH,
        results=results,
        git=GitInfo("a" * 40, "main", "https://example.invalid/repo.git", False),
        files=42,
        advisory_db=AdvisoryDatabase(
            "tests/data/osv", 14, "2024-02-08T18:22:28Z", "sha256:" + "1" * 64, "2026-11-26T00:00:00Z", 3.0
        ),
    )
    from dataclasses import replace

    catalog = controls.load(resources.policies_dir())
    report = replace(report, controls=controls.evaluate(report, catalog))
    raw = {t: {"scanner": t, "invocations": []} for t in tools}
    return RunOutput(report, raw)
