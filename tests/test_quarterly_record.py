"""A generated period an auditor reads (issue 14, items 2, 3 and 6, with 1, 4 and 5): a
failed-scanner run, a baseline run, a pull-request branch, an attestation that goes
overdue and an interim end date. Every expected figure is worked out by hand below.

2026-Q4 reported on 2026-12-01 (interim: figures run to 12-01). Default SLAs (high 30).

Runs of `main` (the default branch):
  R1 10-01  A high (bandit) active · B medium (detect-secrets) active · C low (bandit) active
  R2 10-10  bandit FAILED: A and C not reported (not re-assessed) · B active.
            Its record predates `on_default_branch` (counted as default, and counted).
  R3 10-20  baseline b.json (owner alice, review 12-15, no approver) accepts A and B;
            C absent with bandit ok: C closes 10-20. soc2 CC1.1 ATTESTED (due 11-15).
  R5 11-20  A still accepted · B absent, detect-secrets ok: B closes 11-20 ·
            F low accepted by old.json (owner bob, approved carol, review 11-25) ·
            G low accepted by v1.json (no owner, reason or approver on record).
            CC1.1 MANUAL: its attestation is overdue (due 11-15).
Run of `feature/x` (a pull request): R4 10-25  D critical active, C low active.

Hand-computed:
  opened  high 1 (A) · medium 1 (B) · low 3 (C, F, G) · critical 0 (D is on the PR branch)
  closed  medium 1 (B, 11-20) · low 1 (C, 10-20)
  open at end  high 1 · low 2 = start 0 + opened − closed; all three accepted risk
  not re-assessed: R2, 2 findings (A high, C low), "bandit failed"
  SLA breach: A, still open, 10-01 → 12-01 = 61 days > 30 (accepted risk is still open)
  accepted register: old.json review overdue (11-25 < 12-01); b.json accepted, no
    approver; v1.json accepted, no approver, no owner or reason on record
  soc2 CC6.1 ends "FAIL — 3 accepted" (never PASS); soc2 CC1.1 attested once, overdue at
    the end; pci 3.5.1 MANUAL throughout without attestation: missing, never assessed
  days without a default-branch scan: 10-01 … 12-01 is 62 days, 4 scanned: 58
    (the PR run on 10-25 does not cover the default branch)
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli, ledger
from pipeline.report import quarterly

SCANNERS = ("detect-secrets", "bandit", "pip-audit", "checkov")
TOOL = {"A": "bandit", "B": "detect-secrets", "C": "bandit", "D": "bandit", "F": "checkov", "G": "checkov"}
SEVERITY = {"A": "high", "B": "medium", "C": "low", "D": "critical", "F": "low", "G": "low"}
BASELINES: dict[str, dict[str, Any]] = {
    "b.json": {
        "reason": "legacy, fix planned",
        "owner": "alice",
        "approved_by": None,
        "expires": "2026-12-15",
    },
    "old.json": {"reason": "vendored", "owner": "bob", "approved_by": "carol", "expires": "2026-11-25"},
    "v1.json": {
        "reason": "accepted in a baseline without a recorded reason",
        "owner": None,
        "approved_by": None,
        "expires": None,
    },
}
ATTESTATION = {
    "passed": True,
    "updated": "2026-10-15",
    "updated_by": "hr@example.invalid",
    "due": "2026-11-15",
    "frequency": "monthly",
    "evidence": "https://wiki.example.invalid/coc",
    "source": "compliance-attestations.yaml:2",
}


def _finding(fp: str, baseline: str | None = None) -> dict[str, Any]:
    f: dict[str, Any] = {
        "fingerprint": fp,
        "tool": TOOL[fp],
        "rule_id": f"R-{fp}",
        "title": f"finding {fp}",
        "severity": SEVERITY[fp],
        "location": {"path": f"{fp}.py", "start_line": 1, "end_line": 1, "resource": None},
        "status": "active",
        "suppression": None,
    }
    if baseline is not None:
        f["status"] = "accepted"
        f["suppression"] = {"kind": "baseline", "source": baseline, **BASELINES[baseline]}
    return f


def _control(key: str, status: str, label: str | None = None, attestation: bool = False) -> dict[str, Any]:
    fw, cid = key.split()
    return {
        "framework": fw,
        "control_id": cid,
        "title": key,
        "status": status,
        "label": label or status,
        "accepted": [],
        "attestation": dict(ATTESTATION) if attestation else None,
    }


def _doc(
    day: str,
    findings: list[dict[str, Any]],
    controls: list[dict[str, Any]],
    branch: str = "main",
    failed: tuple[str, ...] = (),
    legacy: bool = False,
) -> dict[str, Any]:
    git: dict[str, Any] = {"commit": "c" * 40, "branch": branch, "remote": "git@example.invalid:a/b.git"}
    if not legacy:
        git |= {"default_branch": "main", "on_default_branch": branch == "main"}
    return {
        "started_at": f"2026-{day}T06:00:00Z",
        "finished_at": f"2026-{day}T06:01:00Z",
        "target": "/repo",
        "git": git,
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
        "controls": controls,
    }


def _docs() -> list[dict[str, Any]]:
    cc11, cc61, pci = "soc2 CC1.1", "soc2 CC6.1", "pci 3.5.1"
    return [
        _doc(
            "10-01",
            [_finding("A"), _finding("B"), _finding("C")],
            [_control(cc11, "MANUAL"), _control(cc61, "FAIL"), _control(pci, "MANUAL")],
        ),
        _doc(
            "10-10",
            [_finding("B")],
            [_control(cc11, "MANUAL"), _control(cc61, "FAIL"), _control(pci, "MANUAL")],
            failed=("bandit",),
            legacy=True,
        ),
        _doc(
            "10-20",
            [_finding("A", "b.json"), _finding("B", "b.json")],
            [
                _control(cc11, "ATTESTED", attestation=True),
                _control(cc61, "FAIL", "FAIL — 2 accepted"),
                _control(pci, "MANUAL"),
            ],
        ),
        _doc(
            "10-25",
            [_finding("D"), _finding("C")],
            [_control(cc11, "MANUAL"), _control(cc61, "FAIL"), _control(pci, "MANUAL")],
            branch="feature/x",
        ),
        _doc(
            "11-20",
            [_finding("A", "b.json"), _finding("F", "old.json"), _finding("G", "v1.json")],
            [
                _control(cc11, "MANUAL", attestation=True),
                _control(cc61, "FAIL", "FAIL — 3 accepted"),
                _control(pci, "MANUAL"),
            ],
        ),
    ]


def _ledger(tmp_path: Path) -> str:
    db = str(tmp_path / f"{uuid.uuid4().hex}.sqlite")  # a fresh ledger per call
    book = ledger.Ledger(db)
    for doc in _docs():
        key = "sha256:" + uuid.uuid4().hex
        book.append("repo", key, doc["started_at"], ledger.record_from_findings_json(doc, key))
    book.close()
    return db


def _summary(tmp_path: Path, branch: str | None = None) -> dict[str, Any]:
    book = ledger.Ledger(_ledger(tmp_path))
    try:
        q = quarterly.load_quarter(list(book.records()), "2026-Q4", set(), today=dt.date(2026, 12, 1))
        if branch is not None:
            q = quarterly.load_period(
                list(book.records()),
                quarterly.quarter_period("2026-Q4"),
                set(),
                today=dt.date(2026, 12, 1),
                branch=branch,
            )
    finally:
        book.close()
    return quarterly.summarise(q, quarterly.DEFAULT_SLA_DAYS)


def _by(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    return {r["severity"]: r[key] for r in rows if r[key]}


def test_the_generated_period_reads_as_computed_by_hand(tmp_path: Path) -> None:
    s = _summary(tmp_path)
    assert s["interim"] and s["as_of"] == "2026-12-01" and s["run_count"] == 4
    life = s["lifecycle"]
    assert _by(life, "open_at_start") == {}
    assert _by(life, "opened") == {"high": 1, "medium": 1, "low": 3}
    assert _by(life, "closed") == {"medium": 1, "low": 1}
    assert _by(life, "open_at_end") == {"high": 1, "low": 2}
    assert _by(life, "accepted_at_end") == {"high": 1, "low": 2}
    for row in life:  # reconciles
        assert row["open_at_start"] + row["opened"] - row["closed"] == row["open_at_end"]
    (blind,) = s["not_reassessed_runs"]
    assert (blind["date"], blind["findings"], blind["by_severity"]) == (
        "2026-10-10",
        2,
        {"high": 1, "low": 1},
    )
    assert blind["reasons"] == ["bandit failed (2)"]
    assert [(b["fingerprint"], b["days"], b["kind"]) for b in s["breaches"]] == [("A", 61, "still open")]


def test_accepted_risk_has_its_register_and_never_turns_a_control_green(tmp_path: Path) -> None:
    s = _summary(tmp_path)
    register = [(a["source"], a["state"], a["findings"], a["flags"]) for a in s["accepted"]]
    assert register == [
        ("old.json", "review overdue", 1, []),
        ("b.json", "accepted", 1, ["no approver"]),
        ("v1.json", "accepted", 1, ["no approver", "no owner or reason on record"]),
    ]
    b = s["accepted"][1]
    assert (b["owner"], b["reason"], b["review_by"], b["by_severity"]) == (
        "alice",
        "legacy, fix planned",
        "2026-12-15",
        {"high": 1},
    )
    controls = {f"{fw} {c['id']}": c for fw, rows in s["frameworks"].items() for c in rows}
    assert (controls["soc2 CC6.1"]["status"], controls["soc2 CC6.1"]["label"]) == (
        "FAIL",
        "FAIL — 3 accepted",
    )


def test_attestations_are_listed_and_go_overdue(tmp_path: Path) -> None:
    s = _summary(tmp_path)
    rows = {a["control"]: a for a in s["attestations"]}
    assert set(rows) == {"soc2 CC1.1", "pci 3.5.1"}
    assert (rows["soc2 CC1.1"]["state"], rows["soc2 CC1.1"]["due"], rows["soc2 CC1.1"]["updated_by"]) == (
        "overdue",
        "2026-11-15",
        "hr@example.invalid",
    )
    assert rows["pci 3.5.1"]["state"] == "missing"
    controls = {f"{fw} {c['id']}": c for fw, rows_ in s["frameworks"].items() for c in rows_}
    assert controls["soc2 CC1.1"]["attested_runs"] == 1
    # CC1.1 was attested once: assessed by a person. pci 3.5.1 never.
    assert s["never_assessed"] == ["pci 3.5.1"]


def test_other_branches_are_listed_apart_and_not_counted(tmp_path: Path) -> None:
    s = _summary(tmp_path)
    assert s["unknown_branch_runs"] == 1  # R2's record predates on_default_branch
    assert s["other_branches"] == [
        {
            "repo": "repo",
            "branch": "feature/x",
            "runs": 1,
            "first": "2026-10-25T06:00:00Z",
            "last": "2026-10-25T06:00:00Z",
            "last_verdict": "fail",
            "last_active": 2,
        }
    ]
    assert len(s["gap_days"]) == 58 and "2026-10-25" in s["gap_days"]
    # The pull request's own history, when asked for by name.
    pr = _summary(tmp_path, branch="feature/x")
    assert pr["run_count"] == 1 and [(b["branch"], b["runs"]) for b in pr["other_branches"]] == [("main", 4)]
    assert _by(pr["lifecycle"], "opened") == {"critical": 1, "low": 1}


def test_the_report_page_shows_the_registers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _ledger(tmp_path)
    out = tmp_path / "out"
    monkeypatch.setattr(cli, "utc_now", lambda: "2026-12-01T09:00:00Z")
    assert (
        cli.main(["report", "quarterly", "--quarter", "2026-Q4", "--ledger", db, "-o", str(out), "--no-pdf"])
        == 0
    )
    page = (out / "compliance-2026-Q4.html").read_text()
    assert "Accepted risk register (3 findings)" in page and "review overdue" in page
    assert "FAIL — 3 accepted" in page and "no owner or reason on record" in page
    assert "Attestations for manual controls (2)" in page and "overdue" in page
    assert "Other branches (1 runs)" in page and "<code>feature/x</code>" in page
    assert "1 runs did not record whether they were of the default branch" in page
