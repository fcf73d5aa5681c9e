"""pip-audit parse() on real output of the pinned 2.10.1."""

from __future__ import annotations

import json

import pytest
from conftest import DEMO, data, make_context

from pipeline.manifests import Dependency
from pipeline.scanners import pip_audit

DEPS = (
    Dependency("pyyaml", "requirements.txt", version="5.3.1"),
    Dependency("jinja2", "requirements-base.txt", version="2.10.1"),
    Dependency("urllib3", "requirements-base.txt", version="1.26.5"),
)
REQ = ("jinja2==2.10.1", "pyyaml==5.3.1", "urllib3==1.26.5")


def test_vulnerabilities_become_findings_per_manifest() -> None:
    parsed = pip_audit.parse(data("pip-audit", "pip-audit-2.10.1-vulns.json"), REQ, DEPS, make_context(DEMO))
    assert parsed.failure is None and parsed.not_assessed == ()
    yaml_vuln = next(f for f in parsed.findings if f.rule_id == "PYSEC-2021-142")
    assert yaml_vuln.location.path == "requirements.txt"
    assert yaml_vuln.package == "pyyaml" and yaml_vuln.installed_version == "5.3.1"
    assert "CVE-2020-14343" in yaml_vuln.aliases
    assert yaml_vuln.fixed_versions == ("5.4",)
    assert {f.package for f in parsed.findings} == {"pyyaml", "jinja2", "urllib3"}


def test_skipped_dependencies_are_not_assessed_never_clean() -> None:
    parsed = pip_audit.parse(
        data("pip-audit", "pip-audit-2.10.1-skipped.json"), REQ, DEPS, make_context(DEMO)
    )
    assert parsed.findings == ()
    assert sorted(n.item.split()[0] for n in parsed.not_assessed) == ["jinja2", "pyyaml", "urllib3"]
    assert all("could not be audited" in n.reason for n in parsed.not_assessed)


def test_dependency_missing_from_output_is_not_assessed() -> None:
    parsed = pip_audit.parse(
        data("pip-audit", "pip-audit-2.10.1-clean.json"),
        ("rich==13.7.1", "absent==1.0"),
        (),
        make_context(DEMO),
    )
    assert [n.item for n in parsed.not_assessed] == ["absent==1.0"]


def test_error_output_is_a_failure() -> None:
    parsed = pip_audit.parse(data("pip-audit", "pip-audit-2.10.1-error.json"), REQ, DEPS, make_context(DEMO))
    assert parsed.failure


def test_plan_splits_pinned_and_unpinned(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "requirements.txt").write_text("flask>=2\nrequests==2.31.0\n-e ./local\n")
    from dataclasses import replace

    from pipeline.config import default_config
    from pipeline.scanners import SCANNER_NAMES

    osv = replace(default_config(SCANNER_NAMES), vulnerability_service="osv")
    ctx = replace(make_context(tmp_path, osv, workdir=tmp_path / "w"), osv_url="http://127.0.0.1:9/v1/query")
    plan = pip_audit.PipAudit().plan(ctx)
    assert isinstance(plan, pip_audit.Plan)
    pinned, unpinned = plan.jobs
    assert "--no-deps" in pinned.argv and "--disable-pip" in pinned.argv
    assert pinned.inputs == ("requests==2.31.0",)
    assert "--no-deps" not in unpinned.argv and unpinned.inputs == ("flask>=2",)
    assert [n.reason for n in plan.not_assessed] == ["editable install, not a registry requirement"]
    assert pinned.argv[-4:] == (
        "--vulnerability-service",
        "osv",
        "--osv-url",
        "http://127.0.0.1:9/v1/query",
    )


def test_offline_service_never_falls_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    (tmp_path / "requirements.txt").write_text("requests==2.31.0\n")
    with pytest.raises(RuntimeError, match="offline"):
        pip_audit.PipAudit().plan(make_context(tmp_path, workdir=tmp_path / "w"))


def test_offline_audit_reports_ranges_as_not_assessed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    (tmp_path / "requirements.txt").write_text("flask>=2\nrequests==2.31.0\n")
    ctx = replace(make_context(tmp_path, workdir=tmp_path / "w"), osv_url="http://127.0.0.1:9/v1/query")
    plan = pip_audit.PipAudit().plan(ctx)
    assert isinstance(plan, pip_audit.Plan)
    (job,) = plan.jobs
    assert job.inputs == ("requests==2.31.0",)
    (na,) = plan.not_assessed
    assert na.item == "flask>=2 (requirements.txt:1)" and na.reason.startswith("not pinned")


# --- Errors stay values: every element of pip-audit's JSON is type-checked ------------------

WRONG_ELEMENTS = [
    ({"dependencies": [{"name": 1, "vulns": [42]}]}, "dependencies[0].name: expected a string, got 1"),
    (
        {"dependencies": [{"name": "pyyaml", "vulns": [42]}]},
        "dependencies[0].vulns[0]: expected an object, got 42",
    ),
    # A dependency that is not an object was silently skipped before.
    ({"dependencies": [42]}, "dependencies[0]: expected an object, got 42"),
    (
        {"dependencies": [{"name": "pyyaml", "version": 5.3}]},
        "dependencies[0].version: expected a string, got 5.3",
    ),
    (
        {"dependencies": [{"name": "pyyaml", "skip_reason": ["x"]}]},
        "dependencies[0].skip_reason: expected a string, got a list",
    ),
    (
        {"dependencies": [{"name": "pyyaml", "vulns": {"id": "X"}}]},
        "dependencies[0].vulns: expected a list, got an object",
    ),
    (
        {"dependencies": [{"name": "pyyaml", "vulns": [{"id": "PYSEC-1", "fix_versions": [5.4]}]}]},
        "dependencies[0].vulns[0].fix_versions[0]: expected a string, got 5.4",
    ),
    (
        {"dependencies": [{"name": "pyyaml", "vulns": [{"id": "PYSEC-1", "aliases": "CVE-1"}]}]},
        "dependencies[0].vulns[0].aliases: expected a list, got 'CVE-1'",
    ),
    (
        {"dependencies": [{"name": "pyyaml", "vulns": [{"id": None, "description": {}}]}]},
        "dependencies[0].vulns[0].description: expected a string, got an object",
    ),
]


@pytest.mark.parametrize(("doc", "problem"), WRONG_ELEMENTS)
def test_wrong_element_type_is_a_failure_naming_its_place(doc: object, problem: str) -> None:
    parsed = pip_audit.parse(json.dumps(doc), REQ, DEPS, make_context(DEMO))
    assert parsed.failure == f"pip-audit output does not match its format: {problem}"
    assert parsed.findings == ()


def test_wrong_element_type_through_the_scanner_is_a_failure_not_an_exception() -> None:
    from pipeline.runner import ToolRun
    from pipeline.scanners.base import Job

    run = ToolRun(("pip-audit",), 0, json.dumps({"dependencies": [{"name": 1, "vulns": [42]}]}), "", 2.0)
    parsed = pip_audit.PipAudit().parse(run, Job(("pip-audit",), 1, inputs=REQ), make_context(DEMO))
    assert parsed.failure and "dependencies[0].name: expected a string, got 1" in parsed.failure


def test_empty_dependency_list_leaves_every_pin_not_assessed() -> None:
    # pip-audit reporting zero work: nothing is clean, every requested pin is NOT_ASSESSED.
    parsed = pip_audit.parse('{"dependencies": [], "fixes": []}', REQ, DEPS, make_context(DEMO))
    assert parsed.failure is None and parsed.findings == () and parsed.assessed == 0
    assert [(n.item, n.reason) for n in parsed.not_assessed] == [
        (req, "missing from pip-audit's output") for req in REQ
    ]
