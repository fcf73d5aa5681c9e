"""The quarterly report's full data, written next to it: CSV tables and one JSON file.

On paper (the HTML and its PDF) a long table shows its first rows and names its export
here, which has every row: SLA breaches, findings open only because nothing re-assessed
them, runs that could not re-assess, waivers, accepted risk, attestations, runs of other
branches, the evidence index (full commit and full
manifest digest of every run), controls with their history, scanner failures. The JSON
file is the whole summary the report is laid out from.

Pure functions from the summary dict (`quarterly.summarise`) to bytes; the CLI writes
them and lists each in the report's manifest with its SHA-256.

Finding titles and paths come from the scanned repositories, which are hostile input: a
CSV cell a spreadsheet would read as a formula (first non-blank character one of
`= + - @`, their full-width forms, a tab or a line break) starts with a `'` instead, which
spreadsheets show as text (OWASP "CSV injection"). Numbers stay numbers. The JSON keeps
every value as it was. CSV files are UTF-8 with a byte-order mark (so that spreadsheets
read it as UTF-8) and CRLF line ends (RFC 4180).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.model import ControlStatus, Severity

SCHEMA = "compliance-pipeline/quarterly-report-data/1"
SEVERITIES = tuple(s.label for s in sorted(Severity, reverse=True))
STATUSES = tuple(s.value for s in ControlStatus)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

Row = Mapping[str, Any]
FINDING = ("severity", "repo", "rule", "title", "path", "fingerprint", "opened")


@dataclass(frozen=True)
class Table:
    """One export: its columns, and its rows (mappings with at least those keys) from the
    summary."""

    key: str
    columns: tuple[str, ...]
    rows: Callable[[Row], Iterable[Row]] | None = None
    """None: the summary's list under `key`, as it is."""

    def of(self, summary: Row) -> list[Row]:
        return list(self.rows(summary) if self.rows is not None else summary.get(self.key) or [])


def _blind_runs(summary: Row) -> Iterator[Row]:
    for run in summary.get("not_reassessed_runs") or []:
        by = run.get("by_severity") or {}
        yield {**run, **{sev: by.get(sev, 0) for sev in SEVERITIES}, "reasons": "; ".join(run["reasons"])}


def _failures(summary: Row) -> Iterator[Row]:
    for when, repo, scanner in summary.get("failed_scanners") or []:
        yield {"date": when, "repo": repo, "scanner": scanner}


def _accepted(summary: Row) -> Iterator[Row]:
    for row in summary.get("accepted") or []:
        by = row.get("by_severity") or {}
        yield {**row, **{sev: by.get(sev, 0) for sev in SEVERITIES}, "flags": "; ".join(row["flags"])}


def _controls(summary: Row) -> Iterator[Row]:
    titles = summary.get("framework_titles") or {}
    for fw, controls in (summary.get("frameworks") or {}).items():
        for c in controls:
            history = c.get("history") or []
            counts = c.get("counts") or {}
            yield {
                "framework": fw,
                "framework_title": titles.get(fw, fw),
                "control": c["id"],
                "title": c["title"],
                "status": c["status"],
                "evidence_runs": c["evidence_runs"],
                "runs": len(history),
                "first_run": history[0][0] if history else None,
                "last_run": history[-1][0] if history else None,
                **{status: counts.get(status, 0) for status in STATUSES},
                "history": "; ".join(f"{day} {status}" for day, status in history),
            }


TABLES = {
    "breaches": Table("breaches", (*FINDING, "closed", "kind", "days", "sla", "not_reassessed")),
    "open-not-reassessed": Table("open_not_reassessed", (*FINDING, "mark", "why")),
    "not-reassessed-runs": Table(
        "not_reassessed_runs", ("date", "repo", "seq", "findings", *SEVERITIES, "reasons"), _blind_runs
    ),
    "waivers": Table(
        "waivers",
        (
            "state",
            "repo",
            "source",
            "reason",
            "owner",
            "approved_by",
            "expires",
            "expires_in_period",
            "created_this_quarter",
            "first_seen",
            "findings",
        ),
    ),
    "evidence": Table("evidence", ("date", "repo", "seq", "commit", "manifest", "verdict", "chain")),
    "accepted": Table(
        "accepted",
        (
            "state",
            "repo",
            "source",
            "reason",
            "owner",
            "approved_by",
            "review_by",
            "first_opened",
            "findings",
            *SEVERITIES,
            "flags",
        ),
        _accepted,
    ),
    "attestations": Table(
        "attestations",
        (
            "control",
            "title",
            "state",
            "status",
            "passed",
            "updated",
            "updated_by",
            "due",
            "frequency",
            "evidence",
            "source",
        ),
    ),
    "other-branches": Table(
        "other_branches", ("repo", "branch", "runs", "first", "last", "last_verdict", "last_active")
    ),
    "controls": Table(
        "frameworks",
        (
            "framework",
            "framework_title",
            "control",
            "title",
            "status",
            "evidence_runs",
            "runs",
            "first_run",
            "last_run",
            *STATUSES,
            "history",
        ),
        _controls,
    ),
    "scanner-failures": Table("failed_scanners", ("date", "repo", "scanner"), _failures),
}
"""Export name → the table it holds (`compliance-PERIOD-<name>.csv`)."""


def file_names(period: str) -> dict[str, str]:
    """Export name → file name: `breaches` → `compliance-2026-Q4-breaches.csv`, and
    `json` → `compliance-2026-Q4.json`."""
    return {
        **{name: f"compliance-{period}-{name}.csv" for name in TABLES},
        "json": f"compliance-{period}.json",
    }


def guard(text: str) -> str:
    """A cell a spreadsheet would evaluate as a formula, made text by a leading `'`."""
    return "'" + text if text.lstrip(" ").startswith(FORMULA_STARTS) else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    return guard(str(value))


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not part of a report summary")


def plain(summary: Row) -> dict[str, Any]:
    """The summary as JSON has it (dates as text, tuples as lists): what both the JSON and
    the CSV files are written from, so that they agree."""
    result: dict[str, Any] = json.loads(json.dumps(summary, default=_json_default))
    return result


def csv_bytes(columns: Iterable[str], rows: Iterable[Row]) -> bytes:
    """A header row and one line per row, every text cell guarded."""
    header = list(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in header])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_files(summary: Row) -> dict[str, bytes]:
    """Every table of the report in full, one CSV file each, by file name."""
    data = plain(summary)
    names = file_names(str(data["period"]))
    return {names[name]: csv_bytes(table.columns, table.of(data)) for name, table in TABLES.items()}


def json_file(summary: Row, generated_at: str) -> bytes:
    """The whole summary, every row of every table."""
    doc = {"schema": SCHEMA, "generated_at": generated_at, "summary": plain(summary)}
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def files(summary: Row, generated_at: str) -> dict[str, bytes]:
    """Every export by file name: the CSV tables and the JSON file."""
    return {
        **csv_files(summary),
        file_names(str(summary["period"]))["json"]: json_file(summary, generated_at),
    }
