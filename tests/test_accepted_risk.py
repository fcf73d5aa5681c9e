"""Accepted risk on record, attestations for manual controls, the branch of a run (issue 14,
items 2, 3 and 6), at the level of one run: the baseline's record, its review date,
controls that fail on accepted risk, ATTESTED and overdue attestations, and the branch
and default branch a run files itself under."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from samples import finding, sample

from pipeline import attest, cli, controls, resources, suppress
from pipeline.config import ConfigError
from pipeline.model import Attestation, ControlStatus
from pipeline.report import json as json_writer
from pipeline.run import git_info
from pipeline.runner import run as run_tool

TODAY = dt.date(2026, 11, 26)  # the samples' run day
CATALOG = controls.load(resources.policies_dir())
MANUAL, KNOWN = controls.manual_controls(CATALOG)


def _baseline(
    tmp_path: Path, record: dict[str, object] | None, fingerprints: list[str], version: int = 2
) -> Path:
    doc: dict[str, object] = {"version": version, "findings": [{"fingerprint": fp} for fp in fingerprints]}
    if record is not None:
        doc["accepted"] = record
    path = tmp_path / "base.json"
    path.write_text(json.dumps(doc))
    return path


RECORD = {
    "owner": "alice",
    "reason": "legacy code, fix planned",
    "review_by": "2027-01-15",
    "approved_by": "ciso",
}


# --- The baseline: accepted risk with its record --------------------------------------------


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"reason": "r", "review_by": "2027-01-01"}, "needs owner, reason and review_by"),
        ({"owner": "o", "review_by": "2027-01-01"}, "needs owner, reason and review_by"),
        ({"owner": "o", "reason": "r"}, "needs owner, reason and review_by"),
        ({"owner": "o", "reason": "r", "review_by": "soon"}, "is not a YYYY-MM-DD date"),
        ({"owner": "o", "reason": "r", "review_by": "2027-12-31"}, "more than 90 days away"),
    ],
)
def test_a_baseline_without_its_record_is_refused(
    tmp_path: Path, record: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        suppress.load_baseline(_baseline(tmp_path, record, ["a"]), TODAY, 90)


def _apply(base: suppress.Baseline, today: dt.date = TODAY) -> tuple[list[str], tuple[str, ...]]:
    report = sample().report
    results, notes = suppress.apply(report.results, (), base, today)
    return [f.state for r in results for f in r.findings if f.fingerprint == finding(1).fingerprint], notes


def test_baselined_findings_are_accepted_risk_and_fail_their_controls(tmp_path: Path) -> None:
    report = sample().report
    everything = [f.fingerprint for f in report.findings if f.active]
    base = suppress.load_baseline(_baseline(tmp_path, RECORD, everything), TODAY, 90)
    assert base.recorded and base.review_by == dt.date(2027, 1, 15)
    results, notes = suppress.apply(report.results, (), base, TODAY)
    after = replace(report, results=results)
    assert after.active_findings == () and all(f.state == "accepted" for f in after.findings if f.accepted)
    sup = next(f.suppression for f in after.findings if f.accepted)
    assert sup is not None
    assert (sup.kind, sup.reason, sup.owner, sup.expires, sup.approved_by, sup.source) == (
        "baseline",
        "legacy code, fix planned",
        "alice",
        "2027-01-15",
        "ciso",
        "base.json",
    )
    evaluated = controls.evaluate(after, CATALOG)
    by_id = {(c.framework, c.control_id): c for c in evaluated}
    # Every finding is accepted, none active: the controls they evidence still FAIL.
    cc61 = by_id[("soc2", "CC6.1")]
    assert cc61.status is ControlStatus.FAIL and not cc61.findings and cc61.accepted
    assert cc61.label == f"FAIL — {len(cc61.accepted)} accepted"
    assert not [c for c in evaluated if c.status is ControlStatus.PASS and c.accepted]
    doc = json.loads(json_writer.render(replace(after, controls=evaluated)))
    assert doc["summary"]["accepted"] == len(everything)
    assert {f["status"] for f in doc["findings"]} == {"accepted", "suppressed"}
    row = next(c for c in doc["controls"] if c["control_id"] == "CC6.1")
    assert row["label"].startswith("FAIL — ") and row["accepted"] == list(cc61.accepted)
    assert not notes  # recorded and approved: nothing to review


def test_a_baseline_past_its_review_date_lapses(tmp_path: Path) -> None:
    base = suppress.load_baseline(_baseline(tmp_path, RECORD, [finding(1).fingerprint]), TODAY, 90)
    assert _apply(base)[0] == ["accepted"]
    states, notes = _apply(base, dt.date(2027, 1, 16))
    assert states == ["active"]
    assert any("lapsed: its review date 2027-01-15 has passed" in n for n in notes)


def test_a_version_1_baseline_still_applies_but_is_reported_without_a_record(tmp_path: Path) -> None:
    base = suppress.load_baseline(_baseline(tmp_path, None, [finding(1).fingerprint], version=1), TODAY, 90)
    assert not base.recorded
    states, notes = _apply(base)
    assert states == ["accepted"]
    assert any("without an owner, reason or review date on record (version 1)" in n for n in notes)


def test_acceptances_and_waivers_without_an_approver_are_flagged(tmp_path: Path) -> None:
    record = {k: v for k, v in RECORD.items() if k != "approved_by"}
    base = suppress.load_baseline(_baseline(tmp_path, record, [finding(1).fingerprint]), TODAY, 90)
    assert any("has no approver" in n for n in _apply(base)[1])
    waivers = tmp_path / "compliance-waivers.yaml"
    waivers.write_text(
        "waivers:\n  - fingerprint: " + finding(2).fingerprint + "\n    reason: r\n    owner: o\n"
        "    expires: 2026-12-20\n"
    )
    loaded = suppress.load_waivers(waivers, TODAY, 90)
    _, notes = suppress.apply(sample().report.results, loaded, suppress.NO_BASELINE, TODAY)
    assert any(n.startswith("waiver without an approver: compliance-waivers.yaml:2") for n in notes)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ((), "the following arguments are required: --owner, --reason"),
        (("--owner", "o", "--reason", "r", "--review-by", "2099-01-01"), "must be between today and"),
        (("--owner", "o", "--reason", "r", "--review-by", "next week"), "is not a YYYY-MM-DD date"),
        (("--owner", " ", "--reason", "r"), "must not be empty"),
    ],
)
def test_baseline_create_refuses_an_acceptance_without_its_record(
    tmp_path: Path, extra: tuple[str, ...], message: str
) -> None:
    # Usage errors: refused before any scanner starts (no tools needed), exit 3.
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "baseline", "create", str(tmp_path), *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3 and message in done.stderr, done.stderr
    assert not (tmp_path / ".compliance-baseline.json").exists()


# --- Attestations ---------------------------------------------------------------------------


def _attestations(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "compliance-attestations.yaml"
    path.write_text("attestations:\n" + body)
    return path


GOOD = (
    "  - framework: soc2\n    control: CC1.1\n    explanation: Code of conduct signed at onboarding\n"
    "    evidence: https://wiki.example.invalid/coc\n    frequency: monthly\n    updated: 2026-10-31\n"
    "    updated_by: hr@example.invalid\n"
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (GOOD.replace("control: CC1.1", "control: CC99"), r":2: no control 'CC99' in framework 'soc2'"),
        (GOOD.replace("control: CC1.1", "control: CC6.1"), r":2: soc2 CC6.1 is evidenced by the scan"),
        (GOOD + GOOD, r":9: soc2 CC1.1 is already attested on line 2"),
        (GOOD.replace("2026-10-31", "2026-12-31"), r":2: updated 2026-12-31 is in the future"),
        (GOOD.replace("monthly", "fortnightly-ish"), r":2: frequency 'fortnightly-ish': expected"),
        (
            GOOD.replace("    evidence: https://wiki.example.invalid/coc\n", ""),
            r":2: attestation without 'evidence'",
        ),
        (GOOD + "    status: maybe\n", r":2: status 'maybe': expected passed or failed"),
        (GOOD + "    approved: yes\n", r":2: unknown keys \['approved'\]"),
        (
            GOOD.replace("explanation: Code of conduct signed at onboarding", "explanation: [a, b]"),
            r":2: 'explanation' must be a single value",
        ),
    ],
)
def test_invalid_attestations_name_the_file_and_line(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match="compliance-attestations.yaml" + message):
        attest.load(_attestations(tmp_path, body), MANUAL, KNOWN, TODAY)


def test_an_alias_bomb_is_refused_without_being_expanded(tmp_path: Path) -> None:
    """Nine levels of nine aliases: 9**9 strings if anything turned it into text."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 9)}]" for i in range(1, 10)]
    body = "bombs:\n" + "".join(f"  {line}\n" for line in levels)
    attestations = tmp_path / "compliance-attestations.yaml"
    attestations.write_text(body + "attestations:\n" + GOOD.replace("monthly", "*a9"))
    with pytest.raises(ConfigError, match="'frequency' must be a single value"):
        attest.load(attestations, MANUAL, KNOWN, TODAY)
    waivers = tmp_path / "compliance-waivers.yaml"
    waivers.write_text(
        body + "waivers:\n  - fingerprint: a\n    reason: *a9\n    owner: o\n    expires: 2026-12-01\n"
    )
    with pytest.raises(ConfigError, match="'reason' must be a single value"):
        suppress.load_waivers(waivers, TODAY, 90)


def test_due_dates_follow_the_calendar() -> None:
    assert attest.due_date(dt.date(2026, 1, 31), "monthly") == dt.date(2026, 2, 28)
    assert attest.due_date(dt.date(2026, 11, 30), "quarterly") == dt.date(2027, 2, 28)
    assert attest.due_date(dt.date(2026, 2, 29 - 1), "annually") == dt.date(2027, 2, 28)
    assert attest.due_date(dt.date(2026, 10, 1), "30d") == dt.date(2026, 10, 31)
    assert attest.due_date(dt.date(2026, 10, 1), "0d") is None


def _cc11(attestations: tuple[Attestation, ...], day: str) -> tuple[ControlStatus, str, str]:
    report = replace(sample().report, started_at=f"{day}T00:00:00Z")
    (c,) = [c for c in controls.evaluate(report, CATALOG, attestations) if c.control_id == "CC1.1"]
    return c.status, c.label, c.reason


def test_an_attestation_makes_a_manual_control_attested_until_it_is_due(tmp_path: Path) -> None:
    loaded = attest.load(_attestations(tmp_path, GOOD), MANUAL, KNOWN, TODAY)
    assert loaded[0].due == "2026-11-30" and loaded[0].source == "compliance-attestations.yaml:2"
    status, label, reason = _cc11((), "2026-11-26")
    assert (status, reason) == (ControlStatus.MANUAL, "needs human evidence: no attestation")
    status, label, reason = _cc11(loaded, "2026-11-30")  # the due day still holds
    assert status is ControlStatus.ATTESTED and label == "ATTESTED"
    assert "attested by hr@example.invalid on 2026-10-31" in reason and "wiki.example.invalid/coc" in reason
    status, _, reason = _cc11(loaded, "2026-12-01")
    assert status is ControlStatus.MANUAL and reason.startswith("attestation overdue since 2026-11-30")
    failed = attest.load(_attestations(tmp_path, GOOD + "    status: failed\n"), MANUAL, KNOWN, TODAY)
    status, _, reason = _cc11(failed, "2026-11-26")
    assert status is ControlStatus.FAIL and reason.startswith("attested as failing by hr@example.invalid")


def test_a_scan_reads_attestations_and_records_them(tmp_path: Path) -> None:
    """Through the CLI, with no scanner (all skipped): the attestation reaches findings.json,
    and the file itself is never scanned."""
    target = tmp_path / "repo"
    target.mkdir()
    (target / "app.py").write_text("print('hi')\n")
    _attestations(target, GOOD)
    out = tmp_path / "ev"
    skip = [a for name in ("detect-secrets", "bandit", "pip-audit", "checkov") for a in ("--skip", name)]
    code = cli.main(["scan", str(target), "-o", str(out), "--no-progress", *skip])
    assert code in (0, 2)
    doc = json.loads((out / "findings.json").read_text())
    (row,) = [c for c in doc["controls"] if (c["framework"], c["control_id"]) == ("soc2", "CC1.1")]
    day = doc["started_at"][:10]
    expected = "ATTESTED" if day <= "2026-11-30" else "MANUAL"
    assert row["status"] == expected and row["attestation"]["updated_by"] == "hr@example.invalid"
    skipped = {s["path"]: s["category"] for s in doc["inventory"]["skipped"]}
    assert skipped.get("compliance-attestations.yaml") == "own-file"


# --- The branch of a run --------------------------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_a_run_records_its_branch_and_whether_it_is_the_default(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()
    _git(origin, "init", "-q", "-b", "trunk")
    _git(origin, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "--allow-empty", "-m", "init")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, capture_output=True)
    _git(clone, "checkout", "-q", "-b", "feature/x")
    info = git_info(clone, run_tool, {})
    # From git: the current branch, and the default branch from origin/HEAD.
    assert (info.branch, info.default_branch, info.on_default_branch) == ("feature/x", "trunk", False)
    # The operator's values (the Action's: a pull request's checkout is detached) win.
    _git(clone, "checkout", "-q", "--detach")
    info = git_info(clone, run_tool, {}, branch="trunk", default_branch="trunk")
    assert (info.branch, info.on_default_branch) == ("trunk", True)
    assert git_info(clone, run_tool, {}).on_default_branch is None  # detached: unknown
    assert git_info(tmp_path / "origin", run_tool, {}, default_branch="main").on_default_branch is False


def test_branch_settings_are_the_operators_only(tmp_path: Path) -> None:
    target = tmp_path / "repo"
    target.mkdir()
    (target / "compliance-pipeline.toml").write_text('branch = "main"\n')
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "scan", str(target), "-o", str(tmp_path / "ev"), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3 and "branch" in done.stderr and "history" in done.stderr, done.stderr
