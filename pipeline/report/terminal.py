"""The terminal summary: failed scanners first, counts by scanner and severity."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline import gate
from pipeline.model import SKIP_CATEGORIES, RunReport, ScanResult, Severity, Status

_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_SHORT = {
    Severity.CRITICAL: "crit",
    Severity.HIGH: "high",
    Severity.MEDIUM: "med",
    Severity.LOW: "low",
    Severity.INFO: "info",
}
_STATUS_ORDER = {Status.FAILED: 0, Status.OK: 1, Status.NOT_APPLICABLE: 2, Status.DISABLED: 3}


def _status(r: ScanResult) -> Text:
    if r.status is Status.FAILED:
        return Text("FAILED", style="bold red")
    if r.status is Status.OK and r.not_assessed:
        return Text("partial", style="bold yellow")
    if r.status is Status.OK:
        return Text("ok", style="green")
    return Text(r.status.value, style="dim")


def print_summary(report: RunReport, console: Console, output_dir: str | None = None) -> None:
    table = Table(title="Scanners", title_justify="left")
    table.add_column("scanner", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("tool", no_wrap=True)
    for sev in sorted(Severity, reverse=True):
        table.add_column(_SHORT[sev], justify="right", style=_STYLE[sev])
    table.add_column("not assessed", justify="right")
    table.add_column("seconds", justify="right")
    for r in sorted(report.results, key=lambda r: _STATUS_ORDER[r.status]):
        tool = f"{r.tool.name} {r.tool.version}" if r.tool else ""
        counts = [
            str(sum(1 for f in r.findings if f.active and f.severity == s))
            for s in sorted(Severity, reverse=True)
        ]
        table.add_row(r.scanner, _status(r), tool, *counts, str(len(r.not_assessed)), f"{r.seconds:.1f}")
    console.print(table)
    if report.change is not None and report.change.error is None:
        console.print(
            Text(
                f"  partial scan: the change since {report.change.since} ({len(report.change.files)} files); "
                "findings elsewhere are not reported, no control is PASS",
                style="bold yellow",
            )
        )
    for r in report.results:
        if r.status is Status.FAILED:
            for err in r.errors[:5]:
                console.print(Text(f"  {r.scanner}: {err}", style="red"))
        elif r.status in (Status.NOT_APPLICABLE, Status.DISABLED):
            console.print(Text(f"  {r.scanner}: {r.reason}", style="dim"))
        if r.cache is not None:
            origins = ", ".join(o[:19] for o in r.cache.origins[:2])
            console.print(
                Text(
                    f"  {r.scanner}: {r.cache.items} items reused from the result cache ({origins})",
                    style="dim",
                )
            )
        for warning in r.warnings:
            console.print(Text(f"  {r.scanner}: {warning}", style="yellow"))
        if r.not_assessed:
            first = r.not_assessed[0]
            more = f" (and {len(r.not_assessed) - 1} more)" if len(r.not_assessed) > 1 else ""
            console.print(
                Text(
                    f"  {r.scanner} not assessed: {first.item}: {first.reason}{more}",
                    style="yellow",
                )
            )
    for s in report.inventory_not_assessed[:5]:
        console.print(Text(f"  not assessed: {s.path}: {s.reason}", style="bold yellow"))
    by_reason = report.skipped_by_reason()
    if by_reason:
        parts = ", ".join(f"{paths} {SKIP_CATEGORIES[c]}" for c, (paths, _) in by_reason.items())
        console.print(Text(f"  not given to any scanner: {parts}", style="dim"))
    if report.controls:
        by_fw: dict[str, dict[str, int]] = {}
        for c in report.controls:
            tally = by_fw.setdefault(c.framework, {})
            tally[c.status.value] = tally.get(c.status.value, 0) + 1
        order = ("FAIL", "ERROR", "NOT_ASSESSED", "PASS", "ATTESTED", "MANUAL", "NOT_APPLICABLE")
        for fw, tally in by_fw.items():
            parts = ", ".join(f"{tally[s]} {s}" for s in order if s in tally)
            console.print(Text(f"  controls {fw}: {parts}"))
    for note in report.suppression_notes:
        console.print(Text(f"  suppression: {note}", style="yellow"))
    suppressed = len(report.findings) - len(report.active_findings)
    accepted = sum(1 for f in report.findings if f.accepted)
    blocking = gate.blocking(report)
    verdict = gate.verdict(report)
    style = {"pass": "bold green", "fail": "bold red", "incomplete": "bold yellow"}[verdict.value]
    console.print(
        Text(
            f"{verdict.value.upper()}: {len(report.active_findings)} active findings"
            f" ({suppressed} suppressed"
            + (f", of which {accepted} accepted risk" if accepted else "")
            + "), "
            f"{len(blocking)} at or above {report.threshold.label}; exit {gate.exit_code(report)}",
            style=style,
        )
    )
    if output_dir:
        console.print(f"Evidence written to {output_dir}", soft_wrap=True)
