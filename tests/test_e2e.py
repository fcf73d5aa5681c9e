"""End to end with the real, pinned tools on the demo repository."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from conftest import DEMO, ROOT, copy_demo, scan

from pipeline import evidence
from pipeline.model import Status
from pipeline.run import RunOutput

pytestmark = pytest.mark.tools


def _planted_secrets() -> list[str]:
    return re.findall(r'AWS_\w+ = "([^"]+)"', (DEMO / "app" / "settings.py").read_text())


def test_each_scanner_finds_its_planted_issue(demo_run: RunOutput) -> None:
    results = {r.scanner: r for r in demo_run.report.results}
    assert all(r.status is Status.OK for r in results.values()), [r.errors for r in results.values()]
    rules = {(f.tool, f.rule_id, f.location.path) for f in demo_run.report.findings}
    assert ("detect-secrets", "AWS Access Key", "app/settings.py") in rules
    assert ("bandit", "B602", "app/views.py") in rules
    assert ("bandit", "CP-NOSEC-BLANKET", "app/views.py") in rules
    assert ("pip-audit", "PYSEC-2021-142", "requirements.txt") in rules
    assert ("pip-audit", "PYSEC-2021-66", "requirements-base.txt") in rules
    assert ("checkov", "CKV_AWS_16", "infra/main.tf") in rules
    assert ("checkov", "CKV_K8S_16", "k8s/deployment.yaml") in rules
    assert ("checkov", "CKV_DOCKER_3", "Dockerfile") in rules


def test_run_records_tools_versions_and_implementation(demo_run: RunOutput) -> None:
    tools = {r.scanner: r.tool for r in demo_run.report.results}
    assert tools["detect-secrets"] is not None
    assert tools["detect-secrets"].implementation == "detect-secrets 1.5.0"
    assert tools["checkov"] is not None and tools["checkov"].version == "3.3.30"
    assert tools["bandit"] is not None and tools["bandit"].version == "1.9.4"
    assert tools["pip-audit"] is not None and tools["pip-audit"].version == "2.10.1"
    assert all(t is not None and t.source == "managed" for t in tools.values())
    assert demo_run.report.git.commit and demo_run.report.git.branch == "main"
    assert set(demo_run.report.frameworks) == {"dockerfile", "kubernetes", "terraform"}


def test_fingerprints_stable_across_runs_and_line_moves(
    demo_run: RunOutput, tmp_path: Path, demo_config
) -> None:  # type: ignore[no-untyped-def]
    target = copy_demo(tmp_path)
    for rel in ("app/settings.py", "app/views.py", "infra/main.tf", "requirements.txt"):
        p = target / rel
        p.write_text("# inserted line\n# another\n\n" + p.read_text())
    moved = scan(target, demo_config)
    first = {f.fingerprint: f for f in demo_run.report.findings}
    second = {f.fingerprint: f for f in moved.report.findings}
    assert set(first) == set(second)
    shifted = [
        fp
        for fp in first
        if first[fp].location.start_line and second[fp].location.start_line != first[fp].location.start_line
    ]
    assert shifted, "lines really moved"
    assert len(first) == len(demo_run.report.findings), "no two findings share a fingerprint"


def test_same_fingerprints_on_a_second_run(demo_run: RunOutput, tmp_path: Path, demo_config) -> None:  # type: ignore[no-untyped-def]
    again = scan(copy_demo(tmp_path), demo_config)
    assert sorted(f.fingerprint for f in again.report.findings) == sorted(
        f.fingerprint for f in demo_run.report.findings
    )


def test_findings_json_matches_its_schema(demo_run: RunOutput, tmp_path: Path) -> None:
    out = evidence.write(demo_run, tmp_path / "evidence")
    schema = json.loads((ROOT / "docs" / "findings-schema.json").read_text())
    doc = json.loads((out / "findings.json").read_text())
    jsonschema.validate(doc, schema)
    assert doc["summary"]["by_scanner"]["checkov"] > 0
    assert sorted(p.name for p in (out / "raw").iterdir()) == [
        "bandit.json",
        "checkov.json",
        "detect-secrets.json",
        "pip-audit.json",
    ]


def test_no_plaintext_secret_in_any_output(tmp_path: Path, vulndb: Path) -> None:
    """The real CLI: findings.json, raw outputs and the terminal carry no secret value."""
    target = copy_demo(tmp_path)
    operator = tmp_path / "operator.toml"  # operator-only keys: never from the repository
    operator.write_text(f'vulndb = "{vulndb}"\nvulndb-warn-days = 36500\nvulndb-max-days = 36500\n')
    out = tmp_path / "evidence"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "scan", str(target), "--output", str(out), "-c", str(operator)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr  # findings at or above high, nothing incomplete
    secrets = _planted_secrets()
    assert len(secrets) == 2
    texts = [done.stdout, done.stderr] + [p.read_text() for p in out.rglob("*") if p.is_file()]
    for secret in secrets:
        for text in texts:
            assert secret not in text
    assert "detect-secrets" in done.stdout and "FAIL" in done.stdout


def test_rerun_replaces_evidence_atomically(demo_run: RunOutput, tmp_path: Path) -> None:
    out = tmp_path / "ev"
    evidence.write(demo_run, out)
    (out / "stale.txt").write_text("from an older run")
    evidence.write(demo_run, out)
    assert not (out / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["ev"]


def test_scanner_with_nothing_to_scan_is_not_applicable(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# notes\n")
    run = scan(tmp_path)
    status = {r.scanner: r.status for r in run.report.results}
    assert status == {
        "detect-secrets": Status.OK,
        "bandit": Status.NOT_APPLICABLE,
        "pip-audit": Status.NOT_APPLICABLE,
        "checkov": Status.NOT_APPLICABLE,
    }
    reasons = {r.scanner: r.reason for r in run.report.results}
    assert "no Python files" in reasons["bandit"]
    from pipeline.model import ControlStatus

    iac = [c for c in run.report.controls if c.scanners == ("checkov",)]
    assert iac and all(c.status is ControlStatus.NOT_ASSESSED for c in iac)
    shutil.rmtree(tmp_path / "notes.md", ignore_errors=True)


def test_demo_controls(demo_run: RunOutput) -> None:
    from pipeline.model import ControlStatus

    status = {(c.framework, c.control_id): c for c in demo_run.report.controls}
    assert status[("soc2", "CC6.1")].status is ControlStatus.FAIL  # unencrypted RDS, AWS keys in code
    assert status[("soc2", "A1.2")].status is ControlStatus.FAIL  # RDS backups not kept
    assert status[("soc2", "CC1.1")].status is ControlStatus.MANUAL
    rds = next(f for f in demo_run.report.findings if f.rule_id == "CPL_AWS_13")
    assert rds.remediation and "backup_retention_period" in rds.remediation
    assert rds.fingerprint in status[("pci-dss", "10.3.3")].findings


def test_assessed_counts(demo_run: RunOutput) -> None:
    assessed = {r.scanner: r.assessed for r in demo_run.report.results}
    assert assessed["bandit"] == 3  # the three Python files
    assert assessed["pip-audit"] == 3  # pyyaml, jinja2, urllib3
    assert assessed["checkov"] == 3  # main.tf, deployment.yaml, Dockerfile
    # Every file of the demo: all are text.
    assert assessed["detect-secrets"] == len([p for p in DEMO.rglob("*") if p.is_file()])
