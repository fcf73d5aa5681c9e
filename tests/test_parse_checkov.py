"""checkov parse() on real output of the pinned 3.3.30: list, dict, summary, parse errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DEMO, data, make_context

from pipeline.model import Severity
from pipeline.scanners import checkov

PLACEHOLDER = Path("/scan/target")


def test_list_output_for_several_frameworks() -> None:
    parsed = checkov.parse(data("checkov", "checkov-3.3.30-multi.json"), PLACEHOLDER, make_context(DEMO))
    assert parsed.failure is None and parsed.version == "3.3.30"
    paths = {f.location.path for f in parsed.findings}
    assert paths == {"Dockerfile", "infra/main.tf", "k8s/deployment.yaml"}
    rds = next(f for f in parsed.findings if f.rule_id == "CKV_AWS_16")
    assert rds.location.resource == "aws_db_instance.main"
    assert rds.location.start_line == 10 and rds.severity is Severity.HIGH
    assert "CKV_AWS_41" in parsed.rules_run  # passed checks count as rules that ran


def test_single_framework_dict_output() -> None:
    parsed = checkov.parse(
        data("checkov", "checkov-3.3.30-single.json"), PLACEHOLDER, make_context(DEMO / "infra")
    )
    assert parsed.failure is None
    assert {f.location.path for f in parsed.findings} == {"main.tf"}


def test_bare_summary_means_nothing_ran() -> None:
    parsed = checkov.parse(data("checkov", "checkov-3.3.30-summary.json"), PLACEHOLDER, make_context(DEMO))
    assert parsed.failure is None and parsed.findings == () and parsed.version == "3.3.30"


def test_parsing_errors_are_not_assessed(tmp_path: Path) -> None:
    (tmp_path / "bad.tf").write_text("x")
    (tmp_path / "good.tf").write_text("y")
    parsed = checkov.parse(
        data("checkov", "checkov-3.3.30-parsing-error.json"), PLACEHOLDER, make_context(tmp_path)
    )
    assert [n.item for n in parsed.not_assessed] == ["bad.tf"]
    assert any(f.location.path == "good.tf" for f in parsed.findings)


def test_garbage_and_concatenated_documents_fail() -> None:
    ctx = make_context(DEMO)
    summary = data("checkov", "checkov-3.3.30-summary.json")
    assert checkov.parse("Traceback (most recent call last):", PLACEHOLDER, ctx).failure
    assert checkov.parse(summary + summary, PLACEHOLDER, ctx).failure
    assert checkov.parse('{"unexpected": 1}', PLACEHOLDER, ctx).failure


def test_plan_restricts_frameworks_and_uses_one_directory() -> None:
    plan = checkov.Checkov().plan(make_context(DEMO))
    assert isinstance(plan, checkov.Plan)
    (job,) = plan.jobs
    argv = list(job.argv)
    # One directory, as one `--directory=PATH` token (so checkov reads no .checkov.yaml
    # of the target), run from a scratch folder that is neither the target nor HOME.
    assert "-d" not in argv and [a for a in argv if a.startswith("--directory")] == [f"--directory={DEMO}"]
    assert job.cwd is not None and job.cwd != DEMO and job.env["HOME"] == str(job.cwd)
    fw = argv[argv.index("--framework") + 1 : argv.index("--skip-framework")]
    assert fw == ["dockerfile", "kubernetes", "terraform"]
    assert argv[argv.index("--skip-framework") + 1] == "secrets"
    assert "--skip-download" in argv and "--external-checks-dir" in argv
    assert job.env["BC_SKIP_MAPPING"] == "TRUE" and job.env["CKV_SKIP_PACKAGE_UPDATE_CHECK"] == "true"


def test_not_applicable_without_iac(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    assert isinstance(checkov.Checkov().plan(make_context(tmp_path)), checkov.NotApplicable)


def test_tool_error_is_a_failure_with_its_message() -> None:
    from pipeline.runner import ToolRun

    ctx = make_context(DEMO)
    stderr = data("checkov", "checkov-3.3.30-error.stderr.txt")
    run = ToolRun(("checkov",), 2, data("checkov", "checkov-3.3.30-error.json"), stderr, 3.0)
    plan = checkov.Checkov().plan(ctx)
    assert isinstance(plan, checkov.Plan)
    parsed = checkov.Checkov().parse(run, plan.jobs[0], ctx)
    assert parsed.failure and "Invalid frameworks specified" in parsed.failure


# --- Errors stay values: every element of checkov's JSON is type-checked --------------------

_CHECK = {"check_id": "CKV_AWS_1", "file_path": "/infra/main.tf", "resource": "aws_s3_bucket.b"}


def _report(**results: object) -> dict[str, object]:
    return {"check_type": "terraform", "results": results}


WRONG_ELEMENTS = [
    (_report(failed_checks=[42]), "results.failed_checks[0]: expected an object, got 42"),
    (
        _report(failed_checks=[{**_CHECK, "file_line_range": "x"}]),
        "results.failed_checks[0].file_line_range: expected a list, got 'x'",
    ),
    (
        _report(failed_checks=[{**_CHECK, "file_line_range": [1, "9"]}]),
        "results.failed_checks[0].file_line_range[1]: expected an integer, got '9'",
    ),
    (
        _report(failed_checks=[{**_CHECK, "code_block": [[1, 2]]}]),
        "results.failed_checks[0].code_block[0][1]: expected a string, got 2",
    ),
    (
        _report(failed_checks=[{**_CHECK, "code_block": [[1]]}]),
        "results.failed_checks[0].code_block[0]: expected a [line number, text] pair, got a list of 1",
    ),
    (
        _report(failed_checks=[{**_CHECK, "severity": 3}]),
        "results.failed_checks[0].severity: expected a string, got 3",
    ),
    (
        _report(failed_checks=[{**_CHECK, "file_path": None, "check_id": 1}]),
        "results.failed_checks[0].check_id: expected a string, got 1",
    ),
    (
        _report(skipped_checks=[{**_CHECK, "check_result": {"suppress_comment": 5}}]),
        "results.skipped_checks[0].check_result.suppress_comment: expected a string, got 5",
    ),
    (_report(passed_checks=[{"check_id": 5}]), "results.passed_checks[0].check_id: expected a string, got 5"),
    (_report(passed_checks=[{}]), "results.passed_checks[0].check_id: missing"),
    (_report(parsing_errors=[1]), "results.parsing_errors[0]: expected a string, got 1"),
    (_report(failed_checks={"a": 1}), "results.failed_checks: expected a list, got an object"),
    ({"check_type": "terraform", "results": "x"}, "results: expected an object, got 'x'"),
    ({"check_type": 7, "results": {}}, "check_type: expected a string, got 7"),
    (
        {"check_type": "terraform", "results": {}, "summary": {"checkov_version": 3}},
        "summary.checkov_version: expected a string, got 3",
    ),
    ([_report(), 42], "[1]: expected an object, got 42"),
    ([_report(), _report(failed_checks=[42])], "[1].results.failed_checks[0]: expected an object, got 42"),
]


@pytest.mark.parametrize(("doc", "problem"), WRONG_ELEMENTS)
def test_wrong_element_type_is_a_failure_naming_its_place(doc: object, problem: str) -> None:
    parsed = checkov.parse(json.dumps(doc), PLACEHOLDER, make_context(DEMO))
    assert parsed.failure == f"checkov output does not match its format: {problem}"


def test_wrong_element_type_through_the_scanner_is_a_failure_not_an_exception() -> None:
    from pipeline.runner import ToolRun

    ctx = make_context(DEMO)
    plan = checkov.Checkov().plan(ctx)
    assert isinstance(plan, checkov.Plan)
    doc = _report(failed_checks=[{**_CHECK, "file_line_range": "x"}])
    parsed = checkov.Checkov().parse(ToolRun(("checkov",), 1, json.dumps(doc), "", 3.0), plan.jobs[0], ctx)
    assert parsed.failure and "results.failed_checks[0].file_line_range: expected a list" in parsed.failure


# --- A bare summary for IaC files that hold something to check --------------------------------


def test_bare_summary_for_a_terraform_resource_is_a_failure(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n')
    summary = data("checkov", "checkov-3.3.30-summary.json")
    parsed = checkov.parse(summary, PLACEHOLDER, make_context(tmp_path), inputs=("main.tf",))
    assert parsed.failure is not None
    assert parsed.failure.startswith("checkov reported no results for 1 IaC file (main.tf)")


def test_bare_summary_through_the_scanner_counts_the_files(tmp_path: Path) -> None:
    from pipeline.runner import ToolRun

    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n')
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    ctx = make_context(tmp_path, workdir=tmp_path.parent / "work")
    plan = checkov.Checkov().plan(ctx)
    assert isinstance(plan, checkov.Plan)
    run = ToolRun(("checkov",), 0, data("checkov", "checkov-3.3.30-summary.json"), "", 3.0)
    parsed = checkov.Checkov().parse(run, plan.jobs[0], ctx)
    assert parsed.failure and "checkov reported no results for 2 IaC files" in parsed.failure


@pytest.mark.parametrize(
    "text",
    [
        'variable "x" {\n  default = 1\n}\n',
        'output "y" {\n  value = 1\n}\nlocals {\n  z = 2\n}\n',
        'terraform {\n  required_version = ">= 1.0"\n}\n',
        "# only a comment\n",
        "",
    ],
)
def test_bare_summary_for_terraform_without_checked_blocks_is_right(tmp_path: Path, text: str) -> None:
    # Measured: checkov 3.3.30 prints exactly checkov-3.3.30-summary.json for each of these.
    (tmp_path / "variables.tf").write_text(text)
    summary = data("checkov", "checkov-3.3.30-summary.json")
    parsed = checkov.parse(summary, PLACEHOLDER, make_context(tmp_path), inputs=("variables.tf",))
    assert parsed.failure is None and parsed.findings == ()
