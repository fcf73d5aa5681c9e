"""Any period, honest dates; coverage as an auditor counts it (issue 14, items 4 and 5).

A period is a calendar quarter or any `--from/--to` window (a SOC 2 Type II window is 6 to
12 months). A period not over at the report date is *interim*: ages, SLA breaches, waiver
expiries and days without a scan run to the report date, not to the period's end. Days
without a scan include those before the first and after the last run; a control never
PASS or FAIL in the period is never assessed; scanner failures are counted per scanner.
The report date is passed in (the CLI reads the clock once); every figure below is worked
out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli, ledger, resources
from pipeline.report import quarterly

SCANNERS = ("detect-secrets", "bandit", "pip-audit", "checkov")
SLA_HIGH_20 = {**quarterly.DEFAULT_SLA_DAYS, "high": 20}


def _finding(fp: str, severity: str, waiver_expires: str | None = None) -> dict[str, Any]:
    f: dict[str, Any] = {
        "fingerprint": fp,
        "tool": "bandit",
        "rule_id": f"R-{fp}",
        "title": f"finding {fp}",
        "severity": severity,
        "location": {"path": f"{fp}.py", "start_line": 1, "end_line": 1, "resource": None},
        "status": "active",
        "suppression": None,
    }
    if waiver_expires is not None:
        f["status"] = "suppressed"
        f["suppression"] = {
            "kind": "waiver",
            "reason": "accepted",
            "owner": "alice",
            "approved_by": "bob",
            "expires": waiver_expires,
            "source": f"compliance-waivers.yaml:{fp}",
        }
    return f


def _doc(
    day: dt.date,
    findings: list[dict[str, Any]],
    failed: tuple[str, ...] = (),
    controls: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A findings.json with the fields `record_from_findings_json` reads; `controls` maps
    "framework control_id" to its status in this run."""
    return {
        "started_at": f"{day.isoformat()}T06:00:00Z",
        "finished_at": f"{day.isoformat()}T06:01:00Z",
        "target": "/repo",
        "git": {
            "commit": "c" * 40,
            "branch": "main",
            "remote": "git@example.invalid:a/b.git",
            "dirty": False,
        },
        "pipeline_version": "0.1.0",
        "verdict": "fail",
        "interrupted": None,
        "advisory_database": None,
        "inventory": {"files": 10, "skipped": []},
        "scanners": [
            {
                "name": name,
                "status": "failed" if name in failed else "ok",
                "tool": {"name": name, "version": "1"},
                "not_assessed": [],
            }
            for name in SCANNERS
        ],
        "findings": findings,
        "controls": [
            {"framework": key.split()[0], "control_id": key.split()[1], "title": key, "status": status}
            for key, status in (controls or {}).items()
        ],
    }


def _ledger(tmp_path: Path, docs: list[dict[str, Any]]) -> str:
    db = str(tmp_path / "l.sqlite")
    book = ledger.Ledger(db)
    for doc in docs:
        key = "sha256:" + uuid.uuid4().hex
        book.append("repo", key, doc["started_at"], ledger.record_from_findings_json(doc, key))
    book.close()
    return db


def _records(db: str) -> list[tuple[str, int, str, dict[str, Any]]]:
    book = ledger.Ledger(db)
    try:
        return list(book.records())
    finally:
        book.close()


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# --- Interim: 2026-Q4 reported on 1 December 2026 -----------------------------------------


def _interim_docs() -> list[dict[str, Any]]:
    """Daily runs 2026-10-01 … 2026-11-15, then one on 2026-12-01 (the report date).

    G high: active from 11-01 on every run (11-01 … 11-15 and 12-01): still open.
    H high: first seen on 12-01, the report date: still open, 0 days old.
    W1 low, waived until 2026-12-15 (after the report date): an active waiver.
    W2 low, waived until 2026-11-20 (before the report date): expired.
    """
    docs = []
    for day in [*_days(dt.date(2026, 10, 1), dt.date(2026, 11, 15)), dt.date(2026, 12, 1)]:
        findings = [_finding("W1", "low", "2026-12-15"), _finding("W2", "low", "2026-11-20")]
        if day >= dt.date(2026, 11, 1):
            findings.append(_finding("G", "high"))
        if day == dt.date(2026, 12, 1):
            findings.append(_finding("H", "high"))
        docs.append(_doc(day, findings))
    return docs


def test_an_interim_period_computes_ages_and_expiries_to_the_report_date(tmp_path: Path) -> None:
    db = _ledger(tmp_path, _interim_docs())
    q = quarterly.load_quarter(_records(db), "2026-Q4", set(), today=dt.date(2026, 12, 1))
    s = quarterly.summarise(q, SLA_HIGH_20)
    assert (s["period"], s["start"], s["end"]) == ("2026-Q4", "2026-10-01", "2026-12-31")
    assert s["interim"] is True and s["as_of"] == "2026-12-01"
    assert s["run_count"] == 46 + 1  # 31 days of October + 15 of November, and 12-01
    assert s["still_open"]["high"] == 2
    # G: 11-01 → 12-01 = 30 days > 20, a breach. H: 12-01 → 12-01 = 0 days, none.
    # (To the quarter's end they were 60 and 30: both "breaches" that have not happened.)
    assert [(b["fingerprint"], b["days"], b["kind"]) for b in s["breaches"]] == [("G", 30, "still open")]
    # W1 expires 12-15, after the report date: active (to 12-31 it was "expired").
    states = {w["source"]: w["state"] for w in s["waivers"]}
    assert states == {"compliance-waivers.yaml:W1": "active", "compliance-waivers.yaml:W2": "expired"}
    # Days without a scan: 11-16 … 11-30 (15 days), not December's days after the report date.
    assert s["gap_days"] == [d.isoformat() for d in _days(dt.date(2026, 11, 16), dt.date(2026, 11, 30))]
    page = quarterly.render_html(s, resources.templates_dir(), "2026-12-01T09:00:00Z")
    assert "Interim" in page and "as of 2026-12-01" in page
    assert "2026-11-16 to 2026-11-30 (15 days)" in page


def test_a_period_over_at_the_report_date_is_not_interim(tmp_path: Path) -> None:
    db = _ledger(tmp_path, _interim_docs())
    q = quarterly.load_quarter(_records(db), "2026-Q4", set(), today=dt.date(2027, 1, 10))
    s = quarterly.summarise(q, SLA_HIGH_20)
    assert s["interim"] is False and s["as_of"] == "2026-12-31"
    # To 12-31: G 60 days, H 30 days, both past 20; W1 (12-15) expired by the period's end.
    assert [(b["fingerprint"], b["days"]) for b in s["breaches"]] == [("G", 60), ("H", 30)]
    assert {w["state"] for w in s["waivers"]} == {"expired"}
    # Gaps: 11-16 … 11-30 (15) and 12-02 … 12-31 (30).
    assert len(s["gap_days"]) == 45 and s["gap_days"][-1] == "2026-12-31"
    page = quarterly.render_html(s, resources.templates_dir(), "2027-01-10T09:00:00Z")
    assert "Interim" not in page


def test_a_period_not_begun_at_the_report_date_is_refused() -> None:
    with pytest.raises(ValueError, match="has not begun"):
        quarterly.load_quarter([], "2027-Q1", set(), today=dt.date(2026, 12, 1))


# --- A 6-month window across two quarters ------------------------------------------------


def _window_docs() -> list[dict[str, Any]]:
    """One run on 2026-05-20 (before the window), then daily runs 2026-06-01 … 2026-11-30
    except 2026-09-30 and 2026-10-01 (the quarter boundary).

    P high:     active 05-20 … 06-30, gone 07-01: open at start, closed 07-01 (42 days).
    S low:      active 06-10 … 06-19, gone 06-20: opened and closed (10 days).
    Q medium:   active 08-15 … 10-14, gone 10-15: crosses Q3 into Q4 (61 days).
    R critical: active from 11-20: still open at 11-30, 10 days old (> 7).
    """
    docs = [_doc(dt.date(2026, 5, 20), [_finding("P", "high")])]
    for day in _days(dt.date(2026, 6, 1), dt.date(2026, 11, 30)):
        if day in (dt.date(2026, 9, 30), dt.date(2026, 10, 1)):
            continue
        findings = []
        if day < dt.date(2026, 7, 1):
            findings.append(_finding("P", "high"))
        if dt.date(2026, 6, 10) <= day < dt.date(2026, 6, 20):
            findings.append(_finding("S", "low"))
        if dt.date(2026, 8, 15) <= day < dt.date(2026, 10, 15):
            findings.append(_finding("Q", "medium"))
        if day >= dt.date(2026, 11, 20):
            findings.append(_finding("R", "critical"))
        docs.append(_doc(day, findings))
    return docs


def test_a_six_month_window_spanning_two_quarters(tmp_path: Path) -> None:
    db = _ledger(tmp_path, _window_docs())
    period = quarterly.date_period("2026-06-01", "2026-11-30")
    assert (period.label, period.start, period.end) == (
        "2026-06-01_2026-11-30",
        dt.date(2026, 6, 1),
        dt.date(2026, 11, 30),
    )
    q = quarterly.load_period(_records(db), period, set(), today=dt.date(2026, 12, 1))
    s = quarterly.summarise(q, SLA_HIGH_20)
    # 30 + 31 + 31 + 30 + 31 + 30 = 183 days, 2 without a run.
    assert s["run_count"] == 181 and s["interim"] is False and s["as_of"] == "2026-11-30"
    assert s["gap_days"] == ["2026-09-30", "2026-10-01"]
    keys = ("open_at_start", "opened", "closed", "open_at_end")
    rows = {r["severity"]: tuple(r[k] for k in keys) for r in s["lifecycle"]}
    assert rows == {
        "critical": (0, 1, 0, 1),
        "high": (1, 0, 1, 0),
        "medium": (0, 1, 1, 0),
        "low": (0, 1, 1, 0),
        "info": (0, 0, 0, 0),
    }
    rem = {r["severity"]: r["mean"] for r in s["remediation"]}
    # P 05-20 → 07-01: 11 + 30 + 1 = 42; Q 08-15 → 10-15: 16 + 30 + 15 = 61; S: 10.
    assert (rem["high"], rem["medium"], rem["low"]) == (42.0, 61.0, 10.0)
    assert [(b["fingerprint"], b["days"], b["kind"]) for b in s["breaches"]] == [
        ("R", 10, "still open"),
        ("P", 42, "closed late"),
    ]


# --- Coverage: runs stopping mid-period, failed scanners, controls never assessed -------------


def _stopping_docs() -> list[dict[str, Any]]:
    """2026-Q4, runs daily from 10-03 to 11-15 (44 runs), then none. checkov failed on
    10-10, 10-11 and 10-12, bandit on 11-01.

    Controls, every run: soc2 CC8.1 PASS; soc2 CC6.1 ERROR (0 of 44 evidencing it);
    soc2 CC1.1 MANUAL; pci 3.5.1 NOT_ASSESSED; soc2 CC7.1 NOT_ASSESSED except FAIL on
    11-01 (1 of 44)."""
    docs = []
    for day in _days(dt.date(2026, 10, 3), dt.date(2026, 11, 15)):
        failed: tuple[str, ...] = ()
        if dt.date(2026, 10, 10) <= day <= dt.date(2026, 10, 12):
            failed = ("checkov",)
        if day == dt.date(2026, 11, 1):
            failed = ("bandit",)
        controls = {
            "soc2 CC8.1": "PASS",
            "soc2 CC6.1": "ERROR",
            "soc2 CC1.1": "MANUAL",
            "pci 3.5.1": "NOT_ASSESSED",
            "soc2 CC7.1": "FAIL" if day == dt.date(2026, 11, 1) else "NOT_ASSESSED",
        }
        docs.append(_doc(day, [], failed=failed, controls=controls))
    return docs


def test_days_without_a_scan_include_those_after_the_last_run(tmp_path: Path) -> None:
    db = _ledger(tmp_path, _stopping_docs())
    s = quarterly.summarise(quarterly.load_quarter(_records(db), "2026-Q4", set()), SLA_HIGH_20)
    assert s["run_count"] == 44
    # Before the first run: 10-01, 10-02. After the last: 11-16 … 11-30 (15) and December (31).
    expected = [
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 2),
        *_days(dt.date(2026, 11, 16), dt.date(2026, 12, 31)),
    ]
    assert s["gap_days"] == [d.isoformat() for d in expected]
    assert [(g["first"], g["last"], g["days"]) for g in s["gap_ranges"]] == [
        ("2026-10-01", "2026-10-02", 2),
        ("2026-11-16", "2026-12-31", 46),
    ]
    # Interim on 11-20: after the last run only 11-16 … 11-20 (5 days).
    interim = quarterly.summarise(
        quarterly.load_quarter(_records(db), "2026-Q4", set(), today=dt.date(2026, 11, 20)), SLA_HIGH_20
    )
    assert [(g["first"], g["last"], g["days"]) for g in interim["gap_ranges"]] == [
        ("2026-10-01", "2026-10-02", 2),
        ("2026-11-16", "2026-11-20", 5),
    ]


def test_scanner_failures_are_counted_per_scanner(tmp_path: Path) -> None:
    db = _ledger(tmp_path, _stopping_docs())
    s = quarterly.summarise(quarterly.load_quarter(_records(db), "2026-Q4", set()), SLA_HIGH_20)
    assert [(f["scanner"], f["failed"], f["runs"], f["first"], f["last"]) for f in s["scanner_failures"]] == [
        ("checkov", 3, 44, "2026-10-10", "2026-10-12"),
        ("bandit", 1, 44, "2026-11-01", "2026-11-01"),
    ]
    page = quarterly.render_html(s, resources.templates_dir(), "2027-01-05T00:00:00Z")
    assert "checkov</td><td>3 of 44 runs" in page


def test_a_control_evidenced_by_no_run_is_never_assessed(tmp_path: Path) -> None:
    db = _ledger(tmp_path, _stopping_docs())
    s = quarterly.summarise(quarterly.load_quarter(_records(db), "2026-Q4", set()), SLA_HIGH_20)
    evidence = {f"{fw} {c['id']}": c["evidence_runs"] for fw, rows in s["frameworks"].items() for c in rows}
    assert evidence == {"pci 3.5.1": 0, "soc2 CC1.1": 0, "soc2 CC6.1": 0, "soc2 CC7.1": 1, "soc2 CC8.1": 44}
    # Never PASS or FAIL in the period: ERROR, MANUAL and NOT_ASSESSED alike. CC7.1 was
    # assessed once (FAIL on 11-01); CC8.1 on every run.
    assert s["never_assessed"] == ["pci 3.5.1", "soc2 CC1.1", "soc2 CC6.1"]
    page = quarterly.render_html(s, resources.templates_dir(), "2027-01-05T00:00:00Z")
    assert "soc2 CC6.1</th><td>ERROR 44</td>" in page


# --- The command ----------------------------------------------------------------------------


def _run(monkeypatch: pytest.MonkeyPatch, now: str, *argv: str) -> int:
    monkeypatch.setattr(cli, "utc_now", lambda: now)
    return cli.main(["report", "quarterly", *argv, "--no-pdf"])


def test_cli_from_to_names_the_file_by_the_period(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _ledger(tmp_path, _window_docs())
    out = tmp_path / "out"
    argv = ("--from", "2026-06-01", "--to", "2026-11-30", "--ledger", db, "-o", str(out))
    assert _run(monkeypatch, "2026-12-01T09:00:00Z", *argv) == 0
    page = (out / "compliance-2026-06-01_2026-11-30.html").read_text()
    assert "2026-06-01 to 2026-11-30" in page and "Interim" not in page
    assert (out / "compliance-2026-06-01_2026-11-30.manifest.json").exists()


def test_cli_quarter_is_interim_on_the_report_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _ledger(tmp_path, _interim_docs())
    out = tmp_path / "out"
    argv = ("--quarter", "2026-Q4", "--sla", "high=20", "--ledger", db, "-o", str(out))
    assert _run(monkeypatch, "2026-12-01T09:00:00Z", *argv) == 0
    page = (out / "compliance-2026-Q4.html").read_text()
    assert "Interim" in page and "SLA breaches (1)" in page


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "one of the arguments --quarter --from is required"),
        (["--quarter", "2026-Q4", "--from", "2026-06-01"], "not allowed with argument"),
        (["--from", "2026-06-01"], "--from needs --to"),
        (["--quarter", "2026-Q4", "--to", "2026-11-30"], "--to goes with --from"),
        (["--from", "2026-06-01", "--to", "2026-13-01"], "--to '2026-13-01' is not a date like 2026-06-01"),
        (["--from", "1 June", "--to", "2026-11-30"], "--from '1 June' is not a date like 2026-06-01"),
        (["--from", "2026-11-30", "--to", "2026-06-01"], "--to 2026-06-01 is before --from 2026-11-30"),
        (["--from", "2027-01-01", "--to", "2027-06-30"], "has not begun on the report date 2026-12-01"),
        (["--quarter", "2026-Q5"], "--quarter"),
    ],
)
def test_cli_period_usage_errors_exit_3(
    argv: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = str(tmp_path / "l.sqlite")
    assert _run(monkeypatch, "2026-12-01T09:00:00Z", *argv, "--ledger", db, "-o", str(tmp_path / "o")) == 3
    assert message in " ".join(capsys.readouterr().err.split())
