"""summary.md: short enough for $GITHUB_STEP_SUMMARY and a pull-request comment."""

from __future__ import annotations

from pipeline import gate
from pipeline.model import SKIP_CATEGORIES, ControlStatus, Finding, RunReport, Severity, Status

TOP = 10
ICON = {"pass": "✅", "fail": "❌", "incomplete": "⚠️"}


def _cell(text: str) -> str:
    """Table-safe and inert: no pipes, no HTML, no Markdown links from scanned content."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("[", "\\[")
        .replace("`", "'")
        .replace("\n", " ")
    )


def _where(f: Finding) -> str:
    line = f":{f.location.start_line}" if f.location.start_line else ""
    return _cell(f"{f.location.path}{line}")


def render(report: RunReport) -> str:
    verdict = gate.verdict(report)
    suppressed = len(report.findings) - len(report.active_findings)
    lines = [
        f"## {ICON[verdict.value]} Compliance scan: {verdict.value.upper()}",
        "",
        f"{len(report.active_findings)} active findings ({suppressed} suppressed), "
        f"{len(gate.blocking(report))} at or above "
        f"**{report.threshold.label}**; exit code {gate.exit_code(report)}.",
        "",
        "| severity | " + " | ".join(s.label for s in sorted(Severity, reverse=True)) + " |",
        "|---|" + "---|" * len(Severity),
        "| findings | "
        + " | ".join(
            str(sum(1 for f in report.active_findings if f.severity == s))
            for s in sorted(Severity, reverse=True)
        )
        + " |",
        "",
        "| scanner | status | tool | findings | not assessed |",
        "|---|---|---|---|---|",
    ]
    for r in report.results:
        tool = f"{r.tool.name} {r.tool.version}" if r.tool else ""
        status = "**FAILED**" if r.status is Status.FAILED else r.status.value
        lines.append(
            f"| {r.scanner} | {status} | {_cell(tool)} | {len(r.findings)} | {len(r.not_assessed)} |"
        )
    if report.change is not None:
        lines += ["", _partial(report)]
    if report.interrupted:
        lines += ["", f"**The run did not finish:** {_cell(report.interrupted)}; the verdict is incomplete."]
    if report.inventory_not_assessed:
        lines += ["", "**In scope but not assessed:**", ""]
        lines += [f"- `{_cell(s.path)}`: {_cell(s.reason)}" for s in report.inventory_not_assessed[:20]]
    by_reason = report.skipped_by_reason()
    if by_reason:
        counts = "; ".join(f"{SKIP_CATEGORIES[c]} {p}" for c, (p, _) in by_reason.items())
        lines += ["", f"Not given to any scanner (paths, listed in findings.json): {_cell(counts)}"]
    repo = [s for s in report.settings if not s.source.startswith("policy")]
    if repo:
        excluded = sum(1 for s in report.skipped_paths if s.category == "excluded")
        lines += ["", "**Set by the scanned repository** (untrusted; listed so a reviewer sees it):", ""]
        lines += [
            f"- `{_cell(s.key)}` = `{_cell(s.value)}` ({_cell(s.source)})"
            + (" — **narrows the assessment**" if s.narrows else "")
            for s in repo
        ]
        if excluded:
            lines.append(f"- {excluded} paths excluded by configuration (listed in findings.json)")
    failed = [r for r in report.results if r.status is Status.FAILED]
    if failed:
        lines += ["", "**Failed scanners** (their controls are ERROR, never PASS):", ""]
        lines += [f"- {r.scanner}: {_cell(r.errors[0] if r.errors else 'failed')}" for r in failed]
    bad = [c for c in report.controls if c.status in (ControlStatus.FAIL, ControlStatus.ERROR)]
    if bad:
        lines += ["", f"**Controls failed or in error** ({len(bad)}):", ""]
        lines += [
            f"- {c.framework} {_cell(c.control_id)} {_cell(c.label)}: {_cell(c.title)} ({_cell(c.reason)})"
            for c in bad[:30]
        ]
        if len(bad) > 30:
            lines.append(f"- … and {len(bad) - 30} more")
    if report.suppression_notes:
        lines += ["", "**Suppressions to review:**", ""]
        lines += [f"- {_cell(n)}" for n in report.suppression_notes[:20]]
    top = sorted(report.active_findings, key=lambda f: (-f.severity, f.tool, f.location.path, f.fingerprint))[
        :TOP
    ]
    if top:
        lines += ["", f"**Top findings** ({len(top)} of {len(report.active_findings)} active):", ""]
        lines += ["| severity | scanner | rule | where | finding |", "|---|---|---|---|---|"]
        lines += [
            f"| {f.severity.label} | {f.tool} | {_cell(f.rule_id)} | {_where(f)} | {_cell(f.title)} |"
            for f in top
        ]
    lines += [
        "",
        f"<sub>compliance-pipeline {report.pipeline_version}, run {report.started_at}"
        + (f", commit {report.git.commit[:12]}" if report.git.commit else "")
        + "</sub>",
        "",
    ]
    return "\n".join(lines)


def _partial(report: RunReport) -> str:
    scope = report.change
    assert scope is not None
    if scope.error:
        return f"**Diff scan, nothing assessed:** {_cell(scope.error)}"
    return (
        f"**Partial scan:** only the change since `{_cell(scope.since)}` was assessed "
        f"({len(scope.files)} changed files); findings elsewhere are not reported and no control is PASS."
    )
