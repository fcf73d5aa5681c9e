"""bandit parse() on real output of the pinned 1.9.4, and the blanket-nosec check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DEMO, data, make_context

from pipeline import resources
from pipeline.model import Severity
from pipeline.runner import ToolRun
from pipeline.scanners import bandit
from pipeline.scanners.base import Job

KNOWN = bandit.load_known_tests(resources.lock_file("bandit-tests.txt").read_text())


def test_findings_carry_rule_severity_cwe_and_location() -> None:
    parsed = bandit.parse(data("bandit", "bandit-1.9.4-findings.json"), make_context(DEMO))
    assert parsed.failure is None
    by_rule = {f.rule_id: f for f in parsed.findings}
    assert by_rule["B602"].severity is Severity.HIGH
    assert by_rule["B602"].location.path == "app/views.py"
    assert by_rule["B602"].cwe == ("CWE-78",)
    assert by_rule["B506"].severity is Severity.MEDIUM
    assert "subprocess.check_output" in (by_rule["B602"].snippet or "")


def test_hardcoded_password_text_is_masked() -> None:
    raw = data("bandit", "bandit-1.9.4-findings.json")
    parsed = bandit.parse(raw, make_context(DEMO))
    b105 = next(f for f in parsed.findings if f.rule_id == "B105")
    secret = json.loads(raw)["results"][0]["issue_text"].split("'")[1]
    assert len(secret) > 20
    assert secret not in b105.message and secret not in (b105.snippet or "")
    assert secret not in json.dumps(parsed.raw)


def test_clean_output() -> None:
    parsed = bandit.parse(data("bandit", "bandit-1.9.4-clean.json"), make_context(DEMO))
    assert parsed.failure is None and parsed.findings == () and parsed.errors == ()


def test_unparsable_file_is_an_error_and_not_assessed() -> None:
    parsed = bandit.parse(data("bandit", "bandit-1.9.4-errors.json"), make_context(DEMO))
    assert parsed.failure is None
    assert [n.item for n in parsed.not_assessed] == ["broken.py"]
    assert "syntax error" in parsed.errors[0]


def test_truncated_output_is_a_failure() -> None:
    text = data("bandit", "bandit-1.9.4-findings.json")
    assert bandit.parse(text[: len(text) // 2], make_context(DEMO)).failure


def test_blanket_nosec_detection_follows_bandit_rules() -> None:
    src = "\n".join(
        [
            "a()  # nosec",
            "b()  # nosec B602",
            "c()  # nosec: trusted input",  # names no test: bandit skips all
            "d()  # nosec B999 - reason",  # unknown id: bandit skips all
            "e()  # nosec subprocess_popen_with_shell_equals_true",
            "s = '# nosec'",  # inside a string: not a comment
        ]
    )
    lines = [n for n, _ in bandit.blanket_nosec_lines(src, KNOWN)]
    assert lines == [1, 3, 4]


def test_nosec_findings_from_demo() -> None:
    ctx = make_context(DEMO)
    found = bandit.nosec_findings(["app/views.py"], ctx, KNOWN)
    assert [(f.rule_id, f.location.start_line) for f in found] == [("CP-NOSEC-BLANKET", 26)]


def test_plan_shards_python_files() -> None:
    plan = bandit.Bandit(KNOWN).plan(make_context(DEMO))
    assert not isinstance(plan, bandit.NotApplicable)
    covered = sorted(p for j in plan.jobs for p in j.inputs)
    assert covered == ["app/__init__.py", "app/settings.py", "app/views.py"]
    assert all(j.argv[:4] == ("bandit", "-f", "json", "-q") for j in plan.jobs)
    assert isinstance(Job(("x",), 1).display_argv(), tuple)


# --- Errors stay values: every element of bandit's JSON is type-checked ---------------------

WRONG_ELEMENTS = [
    ({"results": [42]}, "results[0]: expected an object, got 42"),
    ({"results": [{"line_number": "x"}]}, "results[0].line_number: expected an integer, got 'x'"),
    ({"results": [{"line_number": True}]}, "results[0].line_number: expected an integer, got true"),
    ({"results": [{"line_range": [1, "2"]}]}, "results[0].line_range[1]: expected an integer, got '2'"),
    ({"results": [{"code": ["a"]}]}, "results[0].code: expected a string, got a list"),
    ({"results": [{"issue_cwe": {"id": "79"}}]}, "results[0].issue_cwe.id: expected an integer, got '79'"),
    ({"results": [{"issue_cwe": "CWE-79"}]}, "results[0].issue_cwe: expected an object, got 'CWE-79'"),
    ({"results": [{"test_id": 105}]}, "results[0].test_id: expected a string, got 105"),
    ({"results": [], "errors": [42]}, "errors[0]: expected an object, got 42"),
    ({"results": [], "errors": [{"filename": 3}]}, "errors[0].filename: expected a string, got 3"),
    ({"results": [], "errors": {"a.py": "x"}}, "errors: expected a list, got an object"),
    ({"results": [], "metrics": []}, "metrics: expected an object, got a list"),
    (
        {"results": [], "metrics": {"_totals": {"loc": "3"}}},
        "metrics._totals.loc: expected an integer, got '3'",
    ),
    ({"results": [], "metrics": {"./a.py": 7}}, 'metrics["./a.py"]: expected an object, got 7'),
]


@pytest.mark.parametrize(("doc", "problem"), WRONG_ELEMENTS)
def test_wrong_element_type_is_a_failure_naming_its_place(doc: object, problem: str) -> None:
    parsed = bandit.parse(json.dumps(doc), make_context(DEMO))
    assert parsed.failure == f"bandit output does not match its format: {problem}"
    assert parsed.findings == ()


def test_wrong_element_type_through_the_scanner_is_a_failure_not_an_exception() -> None:
    ctx = make_context(DEMO)
    run = ToolRun(("bandit",), 1, json.dumps({"results": [{"line_number": "x"}]}), "", 0.4)
    parsed = bandit.Bandit(KNOWN).parse(run, Job(("bandit",), 1, inputs=("app/views.py",)), ctx)
    assert parsed.failure and "results[0].line_number: expected an integer, got 'x'" in parsed.failure


# --- Zero work for non-empty input -----------------------------------------------------------


def test_no_line_of_code_counted_for_files_with_code_is_a_failure() -> None:
    # Real output of bandit 1.9.4 for `./CVSimport.py` without `-x ''`: its default
    # excludes match `CVS` anywhere in a path, so it read nothing and said so only in metrics.
    text = data("bandit", "bandit-1.9.4-excluded.json")
    parsed = bandit.parse(text, make_context(DEMO), KNOWN, inputs=("app/views.py", "app/settings.py"))
    assert parsed.failure is not None
    assert "0 lines of code" in parsed.failure and "2 files (app/views.py, app/settings.py)" in parsed.failure
    assert bandit.parse(text, make_context(DEMO), KNOWN).failure is None, "without inputs: undecidable"


def test_comment_only_file_has_no_code_legitimately(tmp_path: Path) -> None:
    # Real output of bandit 1.9.4 for a file of comments and blank lines: loc 0, and right.
    (tmp_path / "comments.py").write_text(
        "#!/usr/bin/env python\n# Only comments and blank lines: bandit counts 0 lines of code.\n\n"
        "    # indented comment\n"
    )
    text = data("bandit", "bandit-1.9.4-comments-only.json")
    parsed = bandit.parse(text, make_context(tmp_path), KNOWN, inputs=("comments.py",))
    assert parsed.failure is None and parsed.not_assessed == ()


def test_a_file_with_code_missing_from_the_output_is_not_assessed() -> None:
    text = data("bandit", "bandit-1.9.4-findings.json")  # bandit was given settings.py and views.py
    inputs = ("app/__init__.py", "app/settings.py", "app/views.py")
    parsed = bandit.parse(text, make_context(DEMO), KNOWN, inputs=inputs)
    assert parsed.failure is None
    assert [(n.item, n.reason) for n in parsed.not_assessed] == [
        ("app/__init__.py", "missing from bandit's output (not in its metrics, not in its errors)")
    ]
    full = bandit.parse(text, make_context(DEMO), KNOWN, inputs=inputs[1:])
    assert full.failure is None and full.not_assessed == ()


def test_files_bandit_could_not_read_are_errors_not_a_failure(tmp_path: Path) -> None:
    # bandit puts a file it cannot open in `errors` and counts nothing for it.
    (tmp_path / "a.py").write_text("import os\n")
    doc = {
        "errors": [{"filename": "./a.py", "reason": "Permission denied"}],
        "metrics": {"_totals": {"loc": 0, "nosec": 0, "skipped_tests": 0}},
        "results": [],
    }
    parsed = bandit.parse(json.dumps(doc), make_context(tmp_path), KNOWN, inputs=("a.py",))
    assert parsed.failure is None
    assert [n.item for n in parsed.not_assessed] == ["a.py"]
    errors = bandit.parse(data("bandit", "bandit-1.9.4-errors.json"), make_context(DEMO), KNOWN)
    assert errors.failure is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", False),
        ("# c\n\n   \t\n", False),
        ("# c\r\n\r\n", False),
        ("\x0c\n# c\n", False),
        ('"""doc"""\n', True),
        ("# comment\rx = 1\r", True),  # bandit splits at CR too
        ("\ufeff# comment\n", True),  # bandit does not strip a BOM: it counts the line
        ("\u00a0\n", True),  # not ASCII whitespace: bandit counts it
        ("# a\u0085x = 1\n", False),  # NEL is not a line break for bandit
    ],
)
def test_has_code_counts_like_bandit(text: str, code: bool) -> None:
    assert bandit.has_code(text) is code
