"""`# nosec` parity: our suppressed/active split is the real bandit's own verdict.

We run bandit with `--ignore-nosec` and re-apply its `# nosec` rules so that the
findings it would silence stay visible as suppressed. These tests run the pinned
bandit 1.9.4 twice on the same files, with the pipeline's own argv and without
`--ignore-nosec`: what bandit itself reports must be exactly our active findings,
and the findings it skips exactly our suppressed ones.

The fixtures in tests/data/bandit-nosec/ hold every form of nosec we know of: bare,
ids, `nosec:`, lists with and without spaces, test names (plugin names and blacklist
names such as `import_pickle`), mixed, unknown names, lower case, on the first, a
middle or the last line of a multi-line statement, in a string, on a decorator,
in a function body, next to other comments. Files with bidirectional control
characters (B613) are written by the test, never kept in the repository.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import DATA, DEMO, data, make_context, only, scan

from pipeline import resources, runner, toolenv
from pipeline.config import default_config
from pipeline.runner import ToolRun
from pipeline.scanners import SCANNER_NAMES, bandit, registry
from pipeline.scanners.base import Context, Job, relpath

FIXTURES = DATA / "bandit-nosec"
KNOWN = bandit.load_known_tests(resources.lock_file("bandit-tests.txt").read_text())
Key = tuple[str, str, int]
"""(target-relative path, test id, line number) of one bandit result."""

# Written at test time: bidirectional control characters are kept out of the repository.
RLO = "\u202e"
GENERATED = {
    "trojan_first_line.py": f"# nosec\nimport os\n\nx = 'abc{RLO}def'\n",
    "trojan_own_line.py": f"import os\n\nx = 'abc{RLO}def'  # nosec B613\n",
    "trojan_other_test.py": f"import os\nx = 'abc{RLO}def'  # nosec B101\n",
    "trojan_named_first.py": f"# nosec B613\nimport os\nx = 'abc{RLO}def'\n",
    # Line ends and a BOM, which bandit's tokenizer and its parser may count differently.
    "bom.py": "\ufeffimport pickle  # nosec import_pickle\nimport marshal\n",
    "crlf.py": "import pickle  # nosec B403\r\nimport subprocess\r\nsubprocess.Popen(  # nosec\r\n  'x', shell=True)\r\n",
    "cr_only.py": "import pickle\rimport subprocess  # nosec B404\rsubprocess.Popen('x', shell=True)  # nosec B602\r",
    "formfeed.py": "\x0cimport pickle  # nosec B403\n\x0c\nimport subprocess  # nosec\n",
}


@pytest.fixture(scope="module")
def real_bandit() -> Path:
    s = registry()["bandit"]
    setup = toolenv.ensure(s.distribution, s.executable, runner.run, os.environ)
    assert setup.executable is not None, setup.error
    assert setup.distributions.get("bandit") == "1.9.4", setup.distributions
    return setup.executable


def _target(tmp_path: Path) -> Path:
    target = tmp_path / "target"
    shutil.copytree(FIXTURES, target)
    for name, text in GENERATED.items():
        (target / name).write_bytes(text.encode("utf-8"))
    return target


def _job(ctx: Context) -> Job:
    plan = bandit.Bandit(KNOWN).plan(ctx)
    assert isinstance(plan, bandit.Plan) and len(plan.jobs) >= 1
    # One job for all the files: the same argv the pipeline runs, one bandit process.
    first = plan.jobs[0]
    files = tuple(sorted(p for j in plan.jobs for p in j.inputs))
    opts = tuple(a for a in first.argv if not a.startswith("./"))
    return Job(argv=(*opts, *(f"./{p}" for p in files)), cost=first.cost, inputs=files)


def _run(exe: Path, argv: tuple[str, ...], cwd: Path) -> ToolRun:
    done = runner.run([str(exe), *argv[1:]], cwd, dict(os.environ), 120)
    assert done.returncode in (0, 1), done.stderr
    return done


def _keys(results: list[dict[str, object]]) -> Counter[Key]:
    return Counter(
        (relpath(str(r["filename"])), str(r["test_id"]), int(str(r["line_number"]))) for r in results
    )


def _verdicts(
    exe: Path, target: Path, workdir: Path
) -> tuple[Counter[Key], Counter[Key], dict[str, int], Context]:
    """(bandit's own results, the ones it skipped, its nosec metrics, the context)."""
    ctx = make_context(target, workdir=workdir)
    job = _job(ctx)
    assert "--ignore-nosec" in job.argv
    everything = json.loads(_run(exe, job.argv, target).stdout)
    honoured = json.loads(_run(exe, tuple(a for a in job.argv if a != "--ignore-nosec"), target).stdout)
    assert everything["errors"] == [] and honoured["errors"] == []
    reported, total = _keys(honoured["results"]), _keys(everything["results"])
    assert reported <= total
    totals = honoured["metrics"]["_totals"]
    return reported, total - reported, {k: totals[k] for k in ("nosec", "skipped_tests")}, ctx


def _ours(exe: Path, ctx: Context) -> tuple[Counter[Key], Counter[Key], list[int]]:
    job = _job(ctx)
    parsed = bandit.Bandit(KNOWN).parse(_run(exe, job.argv, ctx.inventory.root), job, ctx)
    assert parsed.failure is None and parsed.not_assessed == ()
    found = [f for f in parsed.findings if f.rule_id != bandit.NOSEC_RULE]
    active = Counter(
        (f.location.path, f.rule_id, f.location.start_line or 0) for f in found if f.suppression is None
    )
    suppressed = Counter(
        (f.location.path, f.rule_id, f.location.start_line or 0) for f in found if f.suppression is not None
    )
    blanket = [
        f.location.start_line or 0
        for f in parsed.findings
        if f.rule_id == bandit.NOSEC_RULE and f.location.path == "single_line.py"
    ]
    return active, suppressed, blanket


@pytest.mark.tools
def test_active_and_suppressed_are_bandits_own_verdict(real_bandit: Path, tmp_path: Path) -> None:
    reported, skipped, metrics, ctx = _verdicts(real_bandit, _target(tmp_path), tmp_path / "work")
    # The fixture exercises both sides, and every file has results.
    assert sum(skipped.values()) == metrics["nosec"] + metrics["skipped_tests"] >= 40
    files = {p.name for p in FIXTURES.glob("*.py")} | set(GENERATED)
    assert {k[0] for k in reported + skipped} == files
    assert ("trojan_other_test.py", "B613", 2) in reported and ("trojan_first_line.py", "B613", 4) in skipped
    active, suppressed, _ = _ours(real_bandit, ctx)
    assert sorted((active - reported).elements()) == [], "active for us, skipped by bandit"
    assert sorted((reported - active).elements()) == [], "reported by bandit, suppressed or lost by us"
    assert suppressed == skipped


@pytest.mark.tools
def test_the_reported_cases(real_bandit: Path, tmp_path: Path) -> None:
    """The two forms of the issue, stated plainly (bandit's verdict, checked above too)."""
    reported, skipped, _, ctx = _verdicts(real_bandit, _target(tmp_path), tmp_path / "work")
    active, suppressed, _ = _ours(real_bandit, ctx)
    cases = {
        ("single_line.py", "B403", 6): "skipped",  # import pickle  # nosec: import_pickle
        ("single_line.py", "B301", 37): "skipped",  # pickle.loads(data)  # nosec pickle
        ("multi_line.py", "B602", 16): "skipped",  # subprocess.Popen(  # nosec B602 / shell=True on line 16
        ("multi_line.py", "B602", 42): "skipped",  # )  # nosec B602 on the last line
        ("multi_line.py", "B602", 81): "reported",  # nosec on the enclosing statement's first line
        ("multi_line.py", "B602", 92): "reported",  # "# nosec" inside a string
        ("single_line.py", "B602", 33): "reported",  # NOSEC in capitals is not a nosec
    }
    for key, verdict in cases.items():
        assert (skipped if verdict == "skipped" else reported)[key] == 1, (key, verdict)
        assert (suppressed if verdict == "skipped" else active)[key] == 1, (key, verdict)


BANDIT_NOSEC_LINES = """
import json, sys, tokenize
from bandit.core import manager
out = {}
for path in sys.argv[1:]:
    lines = {}
    with open(path, "rb") as fdata:
        try:
            for toktype, tokval, (lineno, _), _, _ in tokenize.tokenize(fdata.readline):
                if toktype == tokenize.COMMENT:
                    lines[lineno] = manager._parse_nosec_comment(tokval)
        except tokenize.TokenError:
            pass
    out[path] = {n: sorted(t) for n, t in lines.items() if t is not None}
print(json.dumps(out))
"""
"""bandit/core/manager.py `_parse_file`'s loop, with bandit's own comment parser."""


@pytest.mark.tools
def test_nosec_comments_resolve_like_bandit(real_bandit: Path, tmp_path: Path) -> None:
    """Per line, the test ids a nosec names (names resolved, unknown words dropped)."""
    target = _target(tmp_path)
    (target / "unclosed.py").write_text("x = 1  # nosec B101\ny = (  # nosec\n  2,\n")
    files = sorted(p.name for p in target.glob("*.py"))
    python = real_bandit.parent / "python"
    done = runner.run([str(python), "-c", BANDIT_NOSEC_LINES, *files], target, dict(os.environ), 60)
    assert done.returncode == 0, done.stderr
    theirs = json.loads(done.stdout)
    for name in files:
        text = (target / name).read_bytes().decode("utf-8", errors="replace")  # as the pipeline reads
        ours = {str(n): sorted(c.tests) for n, c in bandit.nosec_lines(text, KNOWN).items()}
        assert ours == theirs[name], name
        blanket = [n for n, _ in bandit.blanket_nosec_lines(text, KNOWN)]
        assert blanket == [int(n) for n, t in theirs[name].items() if not t], name


@pytest.mark.tools
def test_blanket_nosec_warnings_stay(real_bandit: Path, tmp_path: Path) -> None:
    """A nosec naming nothing bandit knows silences everything: still reported as such."""
    _, _, _, ctx = _verdicts(real_bandit, _target(tmp_path), tmp_path / "work")
    _, _, blanket = _ours(real_bandit, ctx)
    # bare, "no network here", B999, b405, import_marshal (no such name), "trusted input", bare
    assert blanket == [7, 9, 10, 11, 14, 19, 31, 57]


@pytest.mark.tools
def test_the_pipeline_keeps_bandits_verdict(real_bandit: Path, tmp_path: Path) -> None:
    """Through the whole scan: inline suppressions are bandit's skipped findings."""
    target = _target(tmp_path)
    reported, skipped, _, _ = _verdicts(real_bandit, target, tmp_path / "work")
    cfg = only(default_config(SCANNER_NAMES), "bandit")
    run = scan(target, cfg)
    found = [f for f in run.report.findings if f.tool == "bandit" and f.rule_id != bandit.NOSEC_RULE]
    key = lambda f: (f.location.path, f.rule_id, f.location.start_line or 0)  # noqa: E731
    assert Counter(key(f) for f in found if f.active) == reported
    inline = [f for f in found if f.suppression is not None and f.suppression.kind == "inline"]
    assert Counter(key(f) for f in inline) == skipped
    assert all("nosec" in f.suppression.reason for f in inline if f.suppression)
    refused = scan(target, replace(cfg, allow_inline_suppressions=False))
    assert Counter(key(f) for f in refused.report.active_findings if f.rule_id != bandit.NOSEC_RULE) == (
        reported + skipped
    )


def test_suppression_names_the_comment_that_skips() -> None:
    """Pure: the reason is the comment bandit honoured, its place the comment's line."""
    text = "import subprocess\nsubprocess.Popen(  # nosec B101\n    cmd,\n    shell=True,  # nosec B602 - ok\n)\n"
    nosecs = bandit.nosec_lines(text, KNOWN)
    hit = bandit.skipping_comment(nosecs, "B602", 4, [2, 3, 4, 5])
    assert hit is not None and (hit.line, hit.comment) == (4, "# nosec B602 - ok")
    assert bandit.skipping_comment(nosecs, "B101", 4, [2, 3, 4, 5]) is not None
    assert bandit.skipping_comment(nosecs, "B603", 4, [2, 3, 4, 5]) is None
    # A string test: the nosec of the string's own line does not count by itself.
    # Any other test on that line: it does.
    nosecs = bandit.nosec_lines("d = {  # nosec B101\n    'password': 'x',  # nosec B105, B106\n}\n", KNOWN)
    assert bandit.skipping_comment(nosecs, "B105", 2, [1, 2, 3]) is None
    assert bandit.skipping_comment(nosecs, "B106", 2, [1, 2, 3]) == nosecs[2]
    # A blanket nosec and one naming another test: the named one wins, bandit reports.
    nosecs = bandit.nosec_lines("subprocess.Popen(  # nosec B101\n    cmd, shell=True,  # nosec\n)\n", KNOWN)
    assert bandit.skipping_comment(nosecs, "B602", 2, [1, 2, 3]) is None


# --- Coverage: a file given to bandit and absent from its metrics and its errors -------------


def test_a_file_without_code_missing_from_the_output_is_not_assessed(tmp_path: Path) -> None:
    # Real output of bandit 1.9.4 for app/__init__.py alone. bandit lists every file it
    # read in its metrics, empty and comment-only ones too (`././empty.py`, loc 0): a
    # file in neither its metrics nor its errors was not read, whatever it holds.
    text = data("bandit", "bandit-1.9.4-clean.json")
    assert "empty.py" not in text
    shutil.copytree(DEMO / "app", tmp_path / "app")
    (tmp_path / "app" / "empty.py").write_text("")
    (tmp_path / "app" / "notes.py").write_text("# nothing to run\n")
    inputs = ("app/__init__.py", "app/empty.py", "app/notes.py")
    parsed = bandit.parse(text, make_context(tmp_path), KNOWN, inputs=inputs)
    assert parsed.failure is None
    assert [(n.item, n.reason) for n in parsed.not_assessed] == [
        (p, "missing from bandit's output (not in its metrics, not in its errors)") for p in inputs[1:]
    ]
    assert bandit.parse(text, make_context(tmp_path), KNOWN, inputs=inputs[:1]).not_assessed == ()
