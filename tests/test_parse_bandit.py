"""bandit parse() on real output of the pinned 1.9.4, and the blanket-nosec check."""

from __future__ import annotations

import json

from conftest import DEMO, data, make_context

from pipeline import resources
from pipeline.model import Severity
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
