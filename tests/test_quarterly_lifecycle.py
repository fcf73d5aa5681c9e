"""Lifecycles from assessment, not absence (issue 14, item 1).

A finding closes only on a later run that re-assessed it: its scanner ran ok and its file
or dependency was neither not-assessed nor skipped, and the run did not report it. Runs
are built as findings.json documents and go through `record_from_findings_json` and a
real ledger, so what the ledger keeps of a run's scope is tested with the figures.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from pipeline import ledger, resources
from pipeline.report import quarterly

SCANNERS = ("detect-secrets", "bandit", "pip-audit", "checkov")


def _finding(fp: str, tool: str, severity: str, path: str, resource: str | None = None) -> dict[str, Any]:
    return {
        "fingerprint": fp,
        "tool": tool,
        "rule_id": f"R-{fp}",
        "title": f"finding {fp}",
        "severity": severity,
        "location": {"path": path, "start_line": 1, "end_line": 1, "resource": resource},
        "status": "active",
        "suppression": None,
    }


def _doc(
    day: str,
    findings: list[dict[str, Any]],
    failed: tuple[str, ...] = (),
    not_assessed: dict[str, list[str]] | None = None,
    skipped: tuple[tuple[str, str], ...] = (),
    interrupted: str | None = None,
) -> dict[str, Any]:
    """A findings.json with the fields `record_from_findings_json` reads."""
    na = not_assessed or {}
    return {
        "started_at": f"{day}T06:00:00Z",
        "finished_at": f"{day}T06:01:00Z",
        "target": "/repo",
        "git": {
            "commit": "c" * 40,
            "branch": "main",
            "remote": "git@example.invalid:a/b.git",
            "dirty": False,
        },
        "pipeline_version": "0.1.0",
        "verdict": "fail",
        "interrupted": interrupted,
        "advisory_database": None,
        "inventory": {
            "files": 10,
            "skipped": [
                {"path": p, "reason": "r", "category": c, "files": 1, "not_assessed": c == "unreadable"}
                for p, c in skipped
            ],
        },
        "scanners": [
            {
                "name": name,
                "status": "failed" if name in failed else "ok",
                "tool": {"name": name, "version": "1"},
                "not_assessed": [
                    {"item": item, "reason": "r"}
                    for item in (["infra/main.tf"] if name in failed else na.get(name, []))
                ],
            }
            for name in SCANNERS
        ],
        "findings": findings,
        "controls": [],
    }


A = ("A", "checkov", "high", "infra/main.tf", "aws_s3_bucket.logs")
B = ("B", "bandit", "medium", "legacy.py", None)
C = ("C", "bandit", "critical", "app.py", None)
D = ("D", "pip-audit", "low", "requirements.txt", "flask==1.0")
E = ("E", "pip-audit", "low", "requirements.txt", "jinja2==2.10")
F = ("F", "bandit", "high", "app.py", None)


def _period() -> list[dict[str, Any]]:
    """Six runs of one repository (seq 1..6), two before 2026-Q4:

    run  day         scope                                          reported
    1    2026-09-29  all ok                                         A B C
    2    2026-09-30  all ok                                         A B C
    3    2026-10-01  checkov FAILED                                 B D E
    4    2026-10-02  all ok                                         B D E F
    5    2026-10-03  bandit: legacy.py NOT_ASSESSED                 D E F
    6    2026-10-04  legacy.py excluded; pip-audit: flask NOT_ASS.  F

    A (checkov) is absent from run 3 because checkov failed: it stays open, "not
    re-assessed in run 3", and closes on run 4 (checkov ok, not reported), not run 3.
    C (bandit) is absent from run 3 too, where bandit was ok: it closes on run 3.
    B is absent from run 5 (its file NOT_ASSESSED) and run 6 (its file excluded): open.
    D is absent from run 6 where its dependency was NOT_ASSESSED: open. E, in the same
    manifest, was assessed in run 6: it closes there."""
    f = {x[0]: _finding(*x) for x in (A, B, C, D, E, F)}
    return [
        _doc("2026-09-29", [f["A"], f["B"], f["C"]]),
        _doc("2026-09-30", [f["A"], f["B"], f["C"]]),
        _doc("2026-10-01", [f["B"], f["D"], f["E"]], failed=("checkov",)),
        _doc("2026-10-02", [f["B"], f["D"], f["E"], f["F"]]),
        _doc("2026-10-03", [f["D"], f["E"], f["F"]], not_assessed={"bandit": ["legacy.py"]}),
        _doc(
            "2026-10-04",
            [f["F"]],
            not_assessed={"pip-audit": ["flask==1.0 (requirements.txt:3)"]},
            skipped=(("legacy.py", "excluded"),),
        ),
    ]


def _summary(tmp_path: Path) -> dict[str, Any]:
    book = ledger.Ledger(str(tmp_path / "l.sqlite"))
    for doc in _period():
        key = "sha256:" + uuid.uuid4().hex
        book.append("repo", key, doc["started_at"], ledger.record_from_findings_json(doc, key))
    q = quarterly.load_quarter(book.records(), "2026-Q4", set())
    book.close()
    return quarterly.summarise(q, quarterly.DEFAULT_SLA_DAYS)


def test_a_finding_closes_only_on_a_run_that_reassessed_it(tmp_path: Path) -> None:
    s = _summary(tmp_path)
    rows = {r["severity"]: r for r in s["lifecycle"]}
    # Open at start (opened before 10-01, not closed before it): C critical, A high, B medium.
    # Opened in the quarter: F high (10-02), D and E low (10-01).
    # Closed in the quarter: C on 10-01 (run 3, bandit ok), A on 10-02 (run 4, not run 3
    # where checkov failed), E on 10-04 (run 6, its dependency assessed).
    # Open at end: F high (reported), B medium and D low (never re-assessed since).
    # (Absence-as-remediation closed A on 10-01, B on 10-03, D on 10-04: medium 1, low 2.)
    expected = {
        "critical": (1, 0, 1, 0, 0),
        "high": (1, 1, 1, 1, 0),
        "medium": (1, 0, 0, 1, 1),
        "low": (0, 2, 1, 1, 1),
        "info": (0, 0, 0, 0, 0),
    }
    keys = ("open_at_start", "opened", "closed", "open_at_end", "not_reassessed_at_end")
    assert {sev: tuple(r[k] for k in keys) for sev, r in rows.items()} == expected
    assert s["closed"] == {"critical": 1, "high": 1, "medium": 0, "low": 1, "info": 0}
    assert s["still_open"] == {"critical": 0, "high": 1, "medium": 1, "low": 1, "info": 0}
    rem = {r["severity"]: r for r in s["remediation"]}
    # C 09-29 → 10-01: 2 days; A 09-29 → 10-02 (run 4): 3 days, not 2; E 10-01 → 10-04: 3.
    assert (rem["critical"]["mean"], rem["high"]["mean"], rem["low"]["mean"]) == (2.0, 3.0, 3.0)
    assert rem["medium"]["closed"] == 0
    # Still open at 12-31: F high 90 days > 30; B medium 93 days (from 09-29, its SLA
    # clock never restarted) > 90, and marked as not re-assessed in run 6.
    assert [(b["fingerprint"], b["days"], b["kind"], b["not_reassessed"]) for b in s["breaches"]] == [
        ("F", 90, "still open", None),
        ("B", 93, "still open", "not re-assessed in run #6 (2026-10-04)"),
    ]
    assert [(o["fingerprint"], o["mark"], o["why"]) for o in s["open_not_reassessed"]] == [
        ("B", "not re-assessed in run #6 (2026-10-04)", "legacy.py skipped (excluded)"),
        ("D", "not re-assessed in run #6 (2026-10-04)", "flask==1.0 not assessed by pip-audit"),
    ]
    assert [(r["seq"], r["date"], r["by_severity"], r["reasons"]) for r in s["not_reassessed_runs"]] == [
        (3, "2026-10-01", {"high": 1}, ["checkov failed"]),
        (5, "2026-10-03", {"medium": 1}, ["legacy.py not assessed by bandit"]),
        (
            6,
            "2026-10-04",
            {"medium": 1, "low": 1},
            ["legacy.py skipped (excluded)", "flask==1.0 not assessed by pip-audit"],
        ),
    ]


def test_the_per_severity_table_reconciles_and_is_rendered(tmp_path: Path) -> None:
    s = _summary(tmp_path)
    for row in s["lifecycle"]:
        assert row["open_at_start"] + row["opened"] - row["closed"] == row["open_at_end"], row
        assert 0 <= row["not_reassessed_at_end"] <= row["open_at_end"]
    assert [r["open_at_end"] for r in s["lifecycle"]] == [
        s["still_open"][sev] for sev in quarterly.SEVERITIES
    ]
    page = quarterly.render_html(
        {**s, "chain_heads": [], "chain_records": 6}, resources.templates_dir(), "2026-10-05T00:00:00Z"
    )
    assert "Open at start" in page and "Open at end" in page
    assert "Runs that could not re-assess open findings (3)" in page
    assert "checkov failed" in page and "not re-assessed in run #6 (2026-10-04)" in page


def test_reconciles_on_a_long_period_with_blind_runs() -> None:
    """90 daily runs, every 7th with bandit failed and every 11th with half the files
    NOT_ASSESSED; findings come and go: the table reconciles per severity."""
    records = []
    for day in range(-10, 90):
        date = (dt.date(2026, 10, 1) + dt.timedelta(days=day)).isoformat()
        present = [
            _finding(f"X{i}", "bandit", quarterly.SEVERITIES[i % 5], f"f{i}.py")
            for i in range(40)
            if (day + i) % (3 + i % 4) != 0
        ]
        doc = _doc(
            date,
            [] if day % 7 == 0 else present,
            failed=("bandit",) if day % 7 == 0 else (),
            not_assessed={"bandit": [f"f{i}.py" for i in range(0, 40, 2)]} if day % 11 == 0 else None,
        )
        records.append(("r", day + 11, "d", ledger.record_from_findings_json(doc, "k")))
    s = quarterly.summarise(quarterly.load_quarter(records, "2026-Q4", set()), quarterly.DEFAULT_SLA_DAYS)
    assert any(r["open_at_start"] for r in s["lifecycle"]) and any(r["closed"] for r in s["lifecycle"])
    for row in s["lifecycle"]:
        assert row["open_at_start"] + row["opened"] - row["closed"] == row["open_at_end"], row
    blind = {r["seq"] for r in s["not_reassessed_runs"]}
    assert {day + 11 for day in range(0, 90, 7)} <= blind  # every failed-bandit run


def _legacy(status: str, not_assessed: int) -> dict[str, Any]:
    """A record written before scopes were kept: no item lists, no skipped paths."""
    return {
        "started_at": "2026-10-01T00:00:00Z",
        "scanners": [{"name": "bandit", "status": status, "tool": None, "not_assessed": not_assessed}],
        "findings": [],
    }


def test_scope_of_old_records_and_capped_lists_fails_closed() -> None:
    why = quarterly.RunScope.of
    assert why(_legacy("ok", 0)).why_not("bandit", "a.py", None) is None
    assert why(_legacy("ok", 2)).why_not("bandit", "a.py", None) == (
        "bandit: 2 items not assessed (not listed in this record)"
    )
    assert why(_legacy("failed", 0)).why_not("bandit", "a.py", None) == "bandit failed"
    assert why(_legacy("ok", 0)).why_not("checkov", "main.tf", None) == "checkov did not run"
    many = [f"f{i}.py" for i in range(501)]
    capped = ledger.record_from_findings_json(_doc("2026-10-01", [], not_assessed={"bandit": many}), "k")
    (bandit,) = [sc for sc in capped["scanners"] if sc["name"] == "bandit"]
    assert len(bandit["unassessed"]) == 500 and bandit["unassessed_capped"] is True
    assert why(capped).why_not("bandit", "other.py", None) == "bandit: too many items not assessed to list"
    assert why(capped).why_not("checkov", "main.tf", None) is None
    skipped = ledger.record_from_findings_json(
        _doc("2026-10-01", [], skipped=tuple((f"s{i}", "gitignored") for i in range(501))), "k"
    )
    assert skipped["skipped_capped"] is True
    assert why(skipped).why_not("bandit", "a.py", None) == "too many skipped paths to list"
    folder = ledger.record_from_findings_json(
        _doc("2026-10-01", [], skipped=(("vendor", "skipped-folder"),)), "k"
    )
    assert why(folder).why_not("bandit", "vendor/x/y.py", None) == "vendor skipped (skipped-folder)"
    assert why(folder).why_not("bandit", "vendored.py", None) is None
    scope = ledger.record_from_findings_json(_doc("2026-10-01", [], skipped=((".", "scope"),)), "k")
    assert why(scope).why_not("bandit", "a.py", None) == ". skipped (scope)"
    stopped = ledger.record_from_findings_json(
        _doc("2026-10-01", [], interrupted="interrupted by SIGTERM"), "k"
    )
    assert why(stopped).why_not("bandit", "a.py", None) == "run interrupted (interrupted by SIGTERM)"
