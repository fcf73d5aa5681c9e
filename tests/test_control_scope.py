"""Overclaims (issue 16, item 3): PCI DSS 3.5.1 ("PAN is rendered unreadable wherever it
is stored") is about cardholder data, not every bucket. It is failed only by findings in
the cardholder data environment the operator declares (`cardholder-data` path globs);
undeclared, it needs human evidence. Other encryption controls are unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import copy_demo

from pipeline import controls, resources
from pipeline.model import ControlStatus, Finding, Location, RunReport, ScanResult, Severity, Status

CATALOG = controls.load(resources.policies_dir())
RULE = sorted(CATALOG.domain_rules["encryption-at-rest"])[0]


def _report(path: str) -> RunReport:
    finding = Finding(
        "checkov", RULE, "not encrypted", Severity.HIGH, Location(path, 1, 3, "aws_db_instance.x"), "f" * 32
    )
    result = ScanResult("checkov", Status.OK, findings=(finding,), rules_run=(RULE,), assessed=3)
    return RunReport(
        "/t", "2026-12-01T00:00:00Z", "2026-12-01T00:01:00Z", "0", "sha256:0", Severity.HIGH, (result,)
    )


def _status(
    report: RunReport, scopes: dict[str, controls.ControlScope] | None = None
) -> dict[str, tuple[ControlStatus, str]]:
    out = {}
    for c in controls.evaluate(report, CATALOG, (), scopes):
        out[f"{c.framework} {c.control_id}"] = (c.status, c.reason)
    return out


def _scope(prefix: str, files: int) -> dict[str, controls.ControlScope]:
    return {
        "cardholder-data": controls.ControlScope("cardholder-data", lambda p: p.startswith(prefix), files)
    }


def test_bucket_encryption_does_not_fail_pci_3_5_1_without_cardholder_scope() -> None:
    s = _status(_report("infra/main.tf"))
    status, reason = s["pci-dss 3.5.1"]
    assert status is ControlStatus.MANUAL and "declare where it is (`cardholder-data` path globs)" in reason
    assert s["soc2 CC6.1"][0] is ControlStatus.FAIL, "encryption at rest in general still fails"


def test_in_a_declared_scope_it_is_assessed_there_only() -> None:
    assert (
        _status(_report("payments/db.tf"), _scope("payments/", 4))["pci-dss 3.5.1"][0] is ControlStatus.FAIL
    )
    status, reason = _status(_report("infra/main.tf"), _scope("payments/", 4))["pci-dss 3.5.1"]
    assert status is ControlStatus.PASS and "on the 4 files of the declared cardholder-data scope" in reason
    status, reason = _status(_report("infra/main.tf"), _scope("payments/", 0))["pci-dss 3.5.1"]
    assert status is ControlStatus.NOT_ASSESSED and "no file of the run is in the declared" in reason


@pytest.mark.tools
def test_through_the_cli_with_the_operators_declaration(tmp_path: Path) -> None:
    target = copy_demo(tmp_path)

    def run(*extra: str) -> dict[str, str]:
        out = tmp_path / f"ev{len(list(tmp_path.glob('ev*')))}"
        argv = [sys.executable, "-m", "pipeline", "scan", str(target), "-o", str(out), "--no-progress"]
        subprocess.run([*argv, "--only", "checkov", *extra], capture_output=True, timeout=600, check=False)
        doc = json.loads((out / "findings.json").read_text())
        return {f"{c['framework']} {c['control_id']}": c["status"] for c in doc["controls"]}

    assert run()["pci-dss 3.5.1"] == "MANUAL"
    op = tmp_path / "op.toml"
    op.write_text('cardholder-data = ["infra"]\n')
    assert run("-c", str(op))["pci-dss 3.5.1"] == "FAIL", "the demo's unencrypted database is in scope"
    (target / "compliance-pipeline.toml").write_text('cardholder-data = ["nowhere"]\n')
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "scan",
            str(target),
            "-o",
            str(tmp_path / "x"),
            "--only",
            "checkov",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 3 and "cardholder-data" in done.stderr, (
        "a repository cannot narrow its PCI scope"
    )


def test_an_undeclared_scoped_control_may_be_attested() -> None:
    manual, _ = controls.manual_controls(CATALOG)
    assert ("pci-dss", "3.5.1") in manual and ("soc2", "CC6.1") not in manual
