"""Policy data: schema, consistency, and control status from scanner results."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
from pipeline.run import load_severities

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


# The auditor's findings: public data stores, world-open admin ports and wildcard IAM were
# medium and evidenced no control; GKE flow logs and Stackdriver were not audit logging.
AUDITED = {
    "CKV_AWS_17": ("public-exposure", Severity.CRITICAL),  # RDS publicly accessible
    "CKV_AWS_87": ("public-exposure", Severity.CRITICAL),  # Redshift publicly accessible
    "CKV_AWS_20": ("public-exposure", Severity.CRITICAL),  # S3 READ to everyone (was audit-logging)
    "CKV_AWS_57": ("public-exposure", Severity.CRITICAL),  # S3 WRITE to everyone (was audit-logging)
    "CKV_GCP_28": ("public-exposure", Severity.CRITICAL),  # public Cloud Storage bucket
    "CKV_GCP_11": ("public-exposure", Severity.CRITICAL),  # Cloud SQL open to the world
    "CKV_AZURE_59": ("public-exposure", Severity.CRITICAL),  # storage account public access
    "CKV_AZURE_190": ("public-exposure", Severity.CRITICAL),  # public blobs
    "CKV_AWS_24": ("network-exposure", Severity.CRITICAL),  # SSH from 0.0.0.0/0
    "CKV_AWS_25": ("network-exposure", Severity.CRITICAL),  # RDP from 0.0.0.0/0
    "CKV_AZURE_9": ("network-exposure", Severity.CRITICAL),  # RDP from the internet
    "CKV_AZURE_10": ("network-exposure", Severity.CRITICAL),  # SSH from the internet
    "CKV_AWS_62": ("access-control", Severity.CRITICAL),  # "*:*" administrative policy
    "CKV_AWS_63": ("access-control", Severity.HIGH),  # "*" actions
    "CKV_GCP_61": ("audit-logging", Severity.MEDIUM),  # VPC flow logs (category KUBERNETES)
    "CKV_GCP_1": ("audit-logging", Severity.MEDIUM),  # Stackdriver logging (category KUBERNETES)
    "CKV_AWS_23": ("network-exposure", Severity.LOW),  # security-group rule description
    "CKV2_GHA_1": ("access-control", Severity.HIGH),  # GitHub Actions write-all permissions
    "CKV_K8S_49": ("access-control", Severity.HIGH),  # wildcards in Kubernetes Roles
    "CKV_DOCKER_1": ("network-exposure", Severity.HIGH),  # Dockerfile exposes port 22
}


@pytest.mark.parametrize(("cid", "expected"), sorted(AUDITED.items()))
def test_exposure_and_iam_checks_are_evidence_with_their_severity(
    catalog: controls.Catalog, cid: str, expected: tuple[str, Severity]
) -> None:
    domain, severity = expected
    assert catalog.builtin_domain[cid] == domain
    assert catalog.severities[cid] is severity
    assert cid in catalog.domain_rules[domain] and cid not in catalog.unmapped


def test_a_check_severity_is_its_override_else_its_domain(catalog: controls.Catalog) -> None:
    builtin = yaml.safe_load((POLICIES / "checkov-builtin.yaml").read_text())
    by_domain, checks = builtin["severity"]["domains"], builtin["severity"]["checks"]
    assert set(by_domain) <= set(catalog.domains)
    for cid, domain in catalog.builtin_domain.items():
        assert catalog.severities[cid].label == checks.get(cid, by_domain.get(domain, "medium")), cid
    # severity.checks lists exceptions only, never a check's own domain default
    same = [
        c
        for c, s in checks.items()
        if c in catalog.builtin_domain and by_domain[catalog.builtin_domain[c]] == s
    ]
    assert same == []
    # an unmapped check is graded only when listed (privileged containers), else severity.yaml's default
    assert catalog.severities["CKV_K8S_16"] is Severity.HIGH
    assert "CKV_K8S_10" in catalog.unmapped and "CKV_K8S_10" not in catalog.severities


def test_severity_yaml_repeats_no_catalogue_severity(catalog: controls.Catalog) -> None:
    """checkov-builtin.yaml and pack.yaml are the single source of checkov severities."""
    rules = yaml.safe_load((POLICIES / "severity.yaml").read_text())["rules"]
    named = set(catalog.builtin_domain) | set(catalog.unmapped) | set(catalog.excluded) | set(catalog.pack)
    assert set(rules) & named == set()


def test_every_unmapped_check_category_has_a_reason(catalog: controls.Catalog) -> None:
    assert catalog.unmapped_reasons
    assert all(why.strip() for why in catalog.unmapped_reasons.values())


def _broken_builtin(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    broken = tmp_path / "policies"
    shutil.copytree(POLICIES, broken)
    path = broken / "checkov-builtin.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return broken


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["severity"]["checks"].update({"CKV_AWS_17": "urgent"}),
            r"checkov-builtin.yaml: severity.checks.CKV_AWS_17: unknown severity 'urgent'",
        ),
        (
            lambda d: d["severity"]["checks"].update({"CKV_AWS_99999": "high"}),
            r"checkov-builtin.yaml: severity.checks.CKV_AWS_99999: not a built-in check of this file",
        ),
        (
            lambda d: d["severity"]["checks"].update({"CPL_AWS_13": "low"}),  # ours: pack.yaml grades it
            r"severity.checks.CPL_AWS_13: not a built-in check",
        ),
        (
            lambda d: d["severity"].update({"checks": ["CKV_AWS_17"]}),
            r"checkov-builtin.yaml.severity.checks: expected dict, got list",
        ),
        (
            lambda d: d["severity"]["domains"].update({"public-exposur": "critical"}),
            r"checkov-builtin.yaml: severity.domains.public-exposur: unknown domain",
        ),
        (
            lambda d: d["severity"]["domains"].update({"public-exposure": "severe"}),
            r"severity.domains.public-exposure: unknown severity 'severe'",
        ),
        (
            lambda d: d["severity"].update({"rules": {}}),
            r"checkov-builtin.yaml: severity: unknown keys \['rules'\]",
        ),
        (
            lambda d: d.update({"unmaped_reasons": {}}),
            r"checkov-builtin.yaml: unknown keys \['unmaped_reasons'\]",
        ),
        (
            lambda d: d["unmapped_reasons"].update({"CKV_AWS_17": "mapped, in fact"}),
            r"unmapped_reasons.CKV_AWS_17: not an unmapped check",
        ),
        (
            lambda d: d["unmapped_reasons"].update({"CONVENTION": " "}),
            r"unmapped_reasons.CONVENTION: give the reason",
        ),
    ],
)
def test_invalid_builtin_severities_name_the_key(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    with pytest.raises(controls.PolicyError, match=message):
        controls.load(_broken_builtin(tmp_path, edit))


def test_severity_checks_reach_the_run_severity_table(catalog: controls.Catalog) -> None:
    table = load_severities(POLICIES / "severity.yaml", catalog)
    assert table.of("checkov", "CKV_AWS_17") is Severity.CRITICAL
    assert table.of("checkov", "CKV_AWS_23") is Severity.LOW
    assert table.of("checkov", "CKV_K8S_10") is Severity.MEDIUM  # unmapped: checkov default


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
