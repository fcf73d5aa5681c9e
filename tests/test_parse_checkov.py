"""checkov parse() on real output of the pinned 3.3.30: list, dict, summary, parse errors."""

from __future__ import annotations

from pathlib import Path

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
