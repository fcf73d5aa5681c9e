"""A dead tool is a failed tool; output that does not fit its format is a failed tool.

Each fake scanner is a small Python script first on PATH (`tools = "path"`), run
through the whole pipeline like the real one. Only the faked scanner is enabled, so
these tests need no real tool; the two marked `tools` check our line counting
against the real, pinned bandit.

The captures `bandit-1.9.4-excluded.json` and `bandit-1.9.4-comments-only.json` are
real output of the pinned bandit, from the folder holding the file:
`bandit -f json -q ./CVSimport.py` (a file with code whose name matches bandit's
default excludes: bandit reads nothing and says so only in its metrics) and
`bandit -f json -q ./comments.py` (comments and blank lines only: 0 lines of code).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import DATA, copy_demo, only, scan

from pipeline import gate, runner, toolenv
from pipeline.config import Config
from pipeline.model import ScanResult, Status
from pipeline.scanners import SCANNER_NAMES, bandit, registry
from pipeline.scanners.base import relpath

CAPTURED = {
    "detect-secrets": DATA / "detect-secrets" / "detect-secrets-1.5.0-findings.json",
    "bandit": DATA / "bandit" / "bandit-1.9.4-findings.json",
    "pip-audit": DATA / "pip-audit" / "pip-audit-2.10.1-vulns.json",
    "checkov": DATA / "checkov" / "checkov-3.3.30-multi.json",
}
WRONG_ELEMENT = {
    "bandit": (
        {"results": [{"line_number": "x"}], "errors": [], "metrics": {}},
        "results[0].line_number: expected an integer, got 'x'",
    ),
    "detect-secrets": (
        {"version": "1.5.0", "results": {"app/settings.py": [42]}},
        'results["app/settings.py"][0]: expected an object, got 42',
    ),
    "pip-audit": (
        {"dependencies": [{"name": 1, "vulns": [42]}], "fixes": []},
        "dependencies[0].name: expected a string, got 1",
    ),
    "checkov": (
        {"check_type": "terraform", "results": {"failed_checks": [42]}},
        "results.failed_checks[0]: expected an object, got 42",
    ),
}
PRINT_FILE = "import sys\nsys.stdout.write(open({path!r}).read())\nsys.stdout.flush()\n"
KILL_SELF = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"


def _fake_tool(tmp_path: Path, scanner: str, body: str) -> dict[str, str]:
    """An environment whose PATH has a fake `scanner` (a Python script) and git."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / registry()[scanner].executable
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(0o755)
    git_dir = os.path.dirname(shutil.which("git") or "/usr/bin/git")
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{git_dir}"}


def _scan_with(target: Path, cfg: Config, scanner: str, environ: dict[str, str]) -> ScanResult:
    run = scan(target, only(replace(cfg, tools="path"), scanner), environ)
    results = {r.scanner: r for r in run.report.results}
    assert run.report.incomplete and gate.exit_code(run.report) == 2
    return results[scanner]


def _assert_failed(result: ScanResult, reason: str) -> None:
    assert result.status is Status.FAILED
    assert any(reason in e for e in result.errors), result.errors
    assert result.findings == ()
    assert result.not_assessed, "what the failed scanner covered is NOT_ASSESSED"


@pytest.mark.parametrize("scanner", SCANNER_NAMES)
def test_tool_killed_after_printing_valid_output_is_failed(
    scanner: str, tmp_path: Path, demo_config: Config
) -> None:
    target = copy_demo(tmp_path)
    body = PRINT_FILE.format(path=str(CAPTURED[scanner])) + KILL_SELF
    environ = _fake_tool(tmp_path, scanner, body)
    run = scan(target, only(replace(demo_config, tools="path"), scanner), environ)
    (result,) = [r for r in run.report.results if r.scanner == scanner]
    _assert_failed(result, "exit code -9: killed by SIGKILL")
    assert run.report.incomplete and gate.exit_code(run.report) == 2
    # What it printed stays in the evidence as the masked output, never the raw stdout.
    (invocation,) = run.raw[scanner]["invocations"]
    assert isinstance(invocation["output"], dict | list)
    if scanner == "bandit":
        password = json.loads(CAPTURED["bandit"].read_text())["results"][0]["issue_text"].split("'")[1]
        assert password not in json.dumps(run.raw[scanner], default=dict)


@pytest.mark.parametrize("scanner", SCANNER_NAMES)
def test_output_with_a_wrong_element_type_is_failed_with_its_place(
    scanner: str, tmp_path: Path, demo_config: Config
) -> None:
    target = copy_demo(tmp_path)
    doc, problem = WRONG_ELEMENT[scanner]
    out = tmp_path / "output.json"
    out.write_text(json.dumps(doc))
    result = _scan_with(
        target, demo_config, scanner, _fake_tool(tmp_path, scanner, PRINT_FILE.format(path=str(out)))
    )
    _assert_failed(result, f"{scanner} output does not match its format: {problem}")


def test_bandit_counting_no_code_in_files_with_code_is_failed(tmp_path: Path, demo_config: Config) -> None:
    target = copy_demo(tmp_path)
    capture = DATA / "bandit" / "bandit-1.9.4-excluded.json"
    result = _scan_with(
        target, demo_config, "bandit", _fake_tool(tmp_path, "bandit", PRINT_FILE.format(path=str(capture)))
    )
    _assert_failed(result, "bandit reported 0 lines of code (metrics _totals.loc) for 3 files")


def test_checkov_bare_summary_for_terraform_is_failed(tmp_path: Path, demo_config: Config) -> None:
    target = copy_demo(tmp_path)
    capture = DATA / "checkov" / "checkov-3.3.30-summary.json"
    result = _scan_with(
        target, demo_config, "checkov", _fake_tool(tmp_path, "checkov", PRINT_FILE.format(path=str(capture)))
    )
    _assert_failed(result, "checkov reported no results for 3 IaC files")


def _real_bandit() -> str:
    s = registry()["bandit"]
    setup = toolenv.ensure(s.distribution, s.executable, runner.run, os.environ)
    assert setup.executable is not None, setup.error
    return str(setup.executable)


TRICKY = {
    "cr_only.py": b"# comment\rx = 1\r",
    "bom_comment.py": b"\xef\xbb\xbf# comment\n",
    "formfeed.py": b"\x0c\n# c\n",
    "docstring.py": b'"""doc"""\n',
    "tabs.py": b"\t\t# c\n\t\n",
    "crlf.py": b"# c\r\n\r\n",
    "empty.py": b"",
    "nel.py": "# a\u0085x = 1\n".encode(),
    "code.py": b"import os\n",
}


@pytest.mark.tools
def test_has_code_agrees_with_the_real_bandit(tmp_path: Path) -> None:
    for name, content in TRICKY.items():
        (tmp_path / name).write_bytes(content)
    done = runner.run(
        [_real_bandit(), "-f", "json", "-q", *(f"./{n}" for n in TRICKY)], tmp_path, dict(os.environ), 60
    )
    metrics = json.loads(done.stdout)["metrics"]
    counted = {relpath(k): v["loc"] > 0 for k, v in metrics.items() if k != "_totals"}
    ours = {n: bandit.has_code(c.decode("utf-8", errors="replace")) for n, c in TRICKY.items()}
    assert counted == ours


@pytest.mark.tools
def test_real_bandit_on_a_comment_only_file_is_ok(tmp_path: Path, demo_config: Config) -> None:
    target = tmp_path / "t"
    target.mkdir()
    (target / "notes.py").write_text("# nothing to run here\n\n# really\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "bandit").symlink_to(_real_bandit())
    git_dir = os.path.dirname(shutil.which("git") or "/usr/bin/git")
    environ = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{git_dir}"}
    run = scan(target, only(replace(demo_config, tools="path"), "bandit"), environ)
    (result,) = [r for r in run.report.results if r.scanner == "bandit"]
    assert result.status is Status.OK, result.errors
    assert result.not_assessed == () and result.errors == ()
