"""Gate, baseline, waivers and inline suppressions, with the real scanners where they matter."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import copy_demo, only, scan

from pipeline import gate, suppress
from pipeline.config import ConfigError, default_config
from pipeline.model import ControlStatus
from pipeline.scanners import SCANNER_NAMES

TODAY = dt.date(2026, 11, 26)  # the tests' fixed clock
WHO = ("--owner", "sec@example.invalid", "--reason", "legacy")


def _waivers(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "compliance-waivers.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("- fingerprint: abc\n  owner: me\n  expires: 2026-12-01\n", ":3: waiver without 'reason'"),
        ("- fingerprint: abc\n  reason: r\n  expires: 2026-12-01\n", ":3: waiver without 'owner'"),
        ("- rule: B602\n  path: '*.py'\n  reason: r\n  owner: me\n", ":3: waiver without 'expires'"),
        ("- fingerprint: a\n  reason: r\n  owner: me\n  expires: 2027-12-01\n", "more than 90 days away"),
        ("- rule: B602\n  reason: r\n  owner: me\n  expires: 2026-12-01\n", "needs a 'path' glob"),
        (
            "- fingerprint: a\n  reason: r\n  owner: me\n  expires: 2026-12-01\n  colour: red\n",
            "unknown keys",
        ),
    ],
)
def test_invalid_waivers_name_their_line(tmp_path: Path, body: str, message: str) -> None:
    path = _waivers(
        tmp_path, "# waivers\nwaivers:\n" + body.replace("\n  ", "\n    ").replace("- ", "  - ", 1)
    )
    with pytest.raises(
        ConfigError, match="compliance-waivers.yaml" + r".*" + message.replace("(", r"\(").replace("*", r"\*")
    ):
        suppress.load_waivers(path, TODAY, 90)


def test_waiver_line_numbers(tmp_path: Path) -> None:
    path = _waivers(
        tmp_path,
        "waivers:\n  - fingerprint: a\n    reason: r\n    owner: o\n    expires: 2026-12-01\n"
        "  - fingerprint: b\n    owner: o\n    expires: 2026-12-01\n",
    )
    with pytest.raises(ConfigError, match=r"compliance-waivers.yaml:6: waiver without 'reason'"):
        suppress.load_waivers(path, TODAY, 90)


pytestmark_tools = pytest.mark.tools


def _cfg():  # type: ignore[no-untyped-def]
    return only(default_config(SCANNER_NAMES), "detect-secrets", "bandit")


@pytest.mark.tools
def test_baseline_survives_moved_lines_and_new_findings_fail(tmp_path: Path) -> None:
    target = copy_demo(tmp_path)
    first = scan(target, _cfg())
    assert gate.exit_code(first.report) == 1
    baseline = target / ".compliance-baseline.json"
    baseline.write_text(
        suppress.baseline_text(
            first.report.active_findings,
            owner="sec@example.invalid",
            reason="demo findings, fixed in Q1",
            created_at="2026-12-01T00:00:00Z",
            created_by="dev@example.invalid",
            review_by=TODAY + dt.timedelta(days=30),
        )
    )
    text = baseline.read_text()
    assert '"line' not in text and "AKIA" not in text and json.loads(text)["version"] == 2
    for rel in ("app/settings.py", "app/views.py"):
        p = target / rel
        p.write_text("# moved\n# down\n\n" + p.read_text())
    with_baseline = replace(_cfg(), baseline=str(baseline))
    again = scan(target, with_baseline)
    assert again.report.active_findings == ()
    assert {f.suppression.kind for f in again.report.findings if f.suppression} == {"baseline", "inline"}
    assert gate.exit_code(again.report) == 0
    # Accepted risk is still open: the credential controls fail on it, never pass.
    accepted = [f for f in again.report.findings if f.accepted]
    assert accepted and all(f.state == "accepted" for f in accepted)
    soc2 = {c.control_id: c for c in again.report.controls if c.framework == "soc2"}
    assert soc2["CC6.1"].status is ControlStatus.FAIL and soc2["CC6.1"].accepted
    assert soc2["CC6.1"].label == f"FAIL — {len(soc2['CC6.1'].accepted)} accepted"
    (target / "app" / "new.py").write_text('GITHUB_TOKEN = "ghp_' + "x1Y2z3" * 6 + '"\n')
    newer = scan(target, with_baseline)
    assert [
        f.location.path for f in newer.report.active_findings if f.severity >= newer.report.threshold
    ] == ["app/new.py"]
    assert gate.exit_code(newer.report) == 1


@pytest.mark.tools
def test_waivers_expire_and_unmatched_ones_are_reported(tmp_path: Path) -> None:
    target = copy_demo(tmp_path)
    _waivers(
        target,
        "waivers:\n"
        "  - rule: AWS Access Key\n    path: app/settings.py\n    reason: fake demo key\n"
        "    owner: sec@example.invalid\n    expires: 2026-12-20\n    approved_by: ciso\n"
        "  - rule: Secret Keyword\n    path: app/*.py\n    reason: old exception\n"
        "    owner: sec@example.invalid\n    expires: 2026-10-01\n"
        "  - rule: B999\n    path: nowhere/*\n    reason: stale\n    owner: dev\n    expires: 2026-12-01\n",
    )
    run = scan(target, _cfg())
    by_rule: dict[str, list] = {}
    for f in run.report.findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    waived = by_rule["AWS Access Key"]
    assert waived and all(f.suppression and f.suppression.kind == "waiver" for f in waived)
    assert (
        waived[0].suppression.owner == "sec@example.invalid" and waived[0].suppression.approved_by == "ciso"
    )
    assert all(f.active for f in by_rule["Secret Keyword"]), "an expired waiver's finding is active again"
    notes = " | ".join(run.report.suppression_notes)
    assert (
        "expired waiver compliance-waivers.yaml:8" in notes
        and "matches nothing: compliance-waivers.yaml:13" in notes
    )
    assert gate.exit_code(run.report) == 1


@pytest.mark.tools
def test_inline_suppressions_are_kept_and_can_be_refused(tmp_path: Path) -> None:
    target = tmp_path / "t"
    (target / "infra").mkdir(parents=True)
    (target / "run.py").write_text(
        "import subprocess\n\n\ndef go(cmd):\n"
        "    return subprocess.call(cmd, shell=True)  # nosec B602 - commands come from our own config\n"
    )
    (target / "cfg.py").write_text('API_TOKEN = "ghp_' + "a9B8c7" * 6 + '"  # pragma: allowlist secret\n')
    (target / "infra" / "s3.tf").write_text(
        'resource "aws_s3_bucket" "logs" {\n  # checkov:skip=CKV_AWS_18:this bucket receives the access logs\n'
        '  bucket = "logs"\n}\n'
    )
    cfg = only(default_config(SCANNER_NAMES), "detect-secrets", "bandit", "checkov")
    run = scan(target, cfg)
    inline = {(f.tool, f.rule_id): f.suppression for f in run.report.findings if f.suppression}
    assert "commands come from our own config" in inline[("bandit", "B602")].reason
    assert inline[("detect-secrets", "GitHub Token")].reason == "pragma: allowlist secret"
    assert inline[("checkov", "CKV_AWS_18")].reason == "this bucket receives the access logs"
    refused = scan(target, replace(cfg, allow_inline_suppressions=False))
    active = {(f.tool, f.rule_id) for f in refused.report.active_findings}
    assert {("bandit", "B602"), ("detect-secrets", "GitHub Token"), ("checkov", "CKV_AWS_18")} <= active
    assert any("inline suppressions refused" in n for n in refused.report.suppression_notes)


@pytest.mark.tools
def test_baseline_create_command(tmp_path: Path) -> None:
    target = copy_demo(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "baseline", "create", str(target), "--only", "bandit", *WHO],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads((target / ".compliance-baseline.json").read_text())
    assert {e["rule"] for e in doc["findings"]} >= {"B602", "B324"}
    record = doc["accepted"]
    assert (record["owner"], record["reason"], record["approved_by"]) == (
        "sec@example.invalid",
        "legacy",
        None,
    )
    assert record["created_by"] == "sec@example.invalid" and record["review_by"] > record["created_at"][:10]
    assert "no --approved-by" in done.stderr
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "baseline",
            "create",
            str(target),
            "--only",
            "bandit",
            "--only",
            "detect-secrets",
            *WHO,
        ],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0
    paths = {e["path"] for e in json.loads((target / ".compliance-baseline.json").read_text())["findings"]}
    assert ".compliance-baseline.json" not in paths, "the baseline (hex fingerprints) is never scanned"
    scanned = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "scan",
            str(target),
            "--only",
            "bandit",
            "-o",
            str(tmp_path / "ev"),
            "--baseline",
            str(target / ".compliance-baseline.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert scanned.returncode == 0, scanned.stdout
