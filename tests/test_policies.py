"""Policy data: schema, consistency, and control status from scanner results."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import DATA, ROOT

from pipeline import controls, resources
from pipeline.model import (
    ControlStatus,
    Finding,
    Location,
    NotAssessed,
    RunReport,
    ScanResult,
    Severity,
    Status,
)

POLICIES = resources.policies_dir()


@pytest.fixture(scope="module")
def catalog() -> controls.Catalog:
    return controls.load(POLICIES)


def test_framework_files_validate_against_their_schema() -> None:
    schema = json.loads((ROOT / "docs" / "schemas" / "controls.schema.json").read_text())
    files = sorted((POLICIES / "controls").glob("*.yaml"))
    assert {p.stem for p in files} == {"soc2", "iso27001", "pci-dss", "hipaa", "nist-800-53"}
    for path in files:
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)


@pytest.mark.parametrize(
    ("data", "schema"),
    [
        ("pack.yaml", "pack.schema.json"),
        ("domains.yaml", "domains.schema.json"),
        ("checkov-builtin.yaml", "checkov-builtin.schema.json"),
        ("severity.yaml", "severity.schema.json"),
    ],
)
def test_policy_files_validate_against_their_schemas(data: str, schema: str) -> None:
    doc = yaml.safe_load((POLICIES / data).read_text())
    jsonschema.validate(doc, json.loads((ROOT / "docs" / "schemas" / schema).read_text()))


def test_every_domain_is_evidence_in_every_framework(catalog: controls.Catalog) -> None:
    for fw in catalog.frameworks.values():
        used = {d for c in fw.controls for d in c.domains}
        assert used == set(catalog.domains), fw.id
        assert any(c.manual for c in fw.controls), f"{fw.id} names the controls that need people"


def test_every_named_rule_exists(catalog: controls.Catalog) -> None:
    known = set(catalog.builtin_domain) | set(catalog.unmapped) | set(catalog.pack)
    for fw in catalog.frameworks.values():
        for c in fw.controls:
            assert set(c.rules) <= known, (fw.id, c.id, set(c.rules) - known)


def test_every_pack_policy_has_a_check_and_both_fixtures(catalog: controls.Catalog) -> None:
    sources = "\n".join(
        p.read_text() for p in (POLICIES / "checkov").iterdir() if p.suffix in (".yaml", ".py")
    )
    for pid, policy in catalog.pack.items():
        assert f"id: {pid}\n" in sources or f'id="{pid}"' in sources, pid
        suffix = ".tf" if policy.iac == "terraform" else ".yaml"
        assert (DATA / "policies" / pid / f"pass{suffix}").is_file(), pid
        assert (DATA / "policies" / pid / f"fail{suffix}").is_file(), pid
    fixtures = {p.name for p in (DATA / "policies").iterdir()}
    assert fixtures == set(catalog.pack)


def test_severities_cover_mapped_and_ours(catalog: controls.Catalog) -> None:
    assert catalog.severities["CKV_AWS_19"] is Severity.HIGH  # corrected into encryption-at-rest
    assert catalog.builtin_domain["CKV_AWS_21"] == "backup"  # corrected out of LOGGING
    assert catalog.severities["CPL_AWS_15"] is Severity.HIGH
    assert set(catalog.builtin_domain).isdisjoint(catalog.unmapped)


def test_invalid_data_names_the_file_and_key(tmp_path: Path) -> None:
    broken = tmp_path / "policies"
    shutil.copytree(POLICIES, broken)
    soc2 = broken / "controls" / "soc2.yaml"
    soc2.write_text(soc2.read_text().replace("domains: [backup]", "domains: [backups]"))
    with pytest.raises(
        controls.PolicyError, match=r"soc2.yaml: controls\[34\] \(A1.2\): unknown domain 'backups'"
    ):
        controls.load(broken)
    soc2.write_text(soc2.read_text().replace("id: A1.2", "id: CC6.1").replace("[backups]", "[backup]"))
    with pytest.raises(controls.PolicyError, match=r"duplicate control id 'CC6\.1'"):
        controls.load(broken)


def _report(*results: ScanResult) -> RunReport:
    return RunReport("t", "s", "e", "0", "d", Severity.HIGH, results)


def _status(catalog: controls.Catalog, report: RunReport, fw: str, cid: str) -> ControlStatus:
    results = {(c.framework, c.control_id): c for c in controls.evaluate(report, catalog)}
    return results[(fw, cid)].status


OK_OTHERS = (
    ScanResult("detect-secrets", Status.OK, assessed=10),
    ScanResult("bandit", Status.OK, assessed=3),
    ScanResult("pip-audit", Status.OK, assessed=2),
)


def test_failed_checkov_is_error_never_pass(catalog: controls.Catalog) -> None:
    report = _report(*OK_OTHERS, ScanResult("checkov", Status.FAILED, errors=("crashed",)))
    for fw, cid in [
        ("soc2", "CC6.7"),
        ("soc2", "A1.2"),
        ("iso27001", "A.8.15"),
        ("nist-800-53", "CP-9"),
    ]:
        assert _status(catalog, report, fw, cid) is ControlStatus.ERROR
    assert _status(catalog, report, "soc2", "CC8.1") is ControlStatus.PASS  # bandit-only control


def test_no_iac_means_not_assessed(catalog: controls.Catalog) -> None:
    report = _report(*OK_OTHERS, ScanResult("checkov", Status.NOT_APPLICABLE, reason="no IaC"))
    iac_only = [c for c in controls.evaluate(report, catalog) if c.scanners == ("checkov",)]
    assert iac_only and all(c.status is ControlStatus.NOT_ASSESSED for c in iac_only)


def test_findings_fail_and_clean_checks_pass(catalog: controls.Catalog) -> None:
    finding = Finding("checkov", "CPL_AWS_13", "t", Severity.HIGH, Location("main.tf"), "fp1")
    failing = ScanResult("checkov", Status.OK, findings=(finding,), rules_run=("CPL_AWS_13",), assessed=1)
    report = _report(*OK_OTHERS, failing)
    results = {(c.framework, c.control_id): c for c in controls.evaluate(report, catalog)}
    assert results[("soc2", "A1.2")].status is ControlStatus.FAIL
    assert results[("soc2", "A1.2")].findings == ("fp1",)
    assert results[("soc2", "CC6.7")].status is ControlStatus.NOT_ASSESSED  # no TLS check ran
    clean = ScanResult("checkov", Status.OK, rules_run=("CKV_AWS_2",), assessed=1)
    assert _status(catalog, _report(*OK_OTHERS, clean), "soc2", "CC6.7") is ControlStatus.PASS
    assert _status(catalog, _report(*OK_OTHERS, clean), "soc2", "CC1.1") is ControlStatus.MANUAL


def test_partially_assessed_scanner_is_error(catalog: controls.Catalog) -> None:
    partial = ScanResult(
        "checkov",
        Status.OK,
        rules_run=("CKV_AWS_2",),
        not_assessed=(NotAssessed("checkov", "bad.tf", "x"),),
    )
    assert _status(catalog, _report(*OK_OTHERS, partial), "soc2", "CC6.7") is ControlStatus.ERROR
