"""detect-secrets parse() on real output of the pinned 1.5.0."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest
from conftest import DEMO, data, make_context

from pipeline.config import default_config
from pipeline.scanners import SCANNER_NAMES
from pipeline.scanners import detect_secrets as ds
from pipeline.scanners.base import Job, Staged


def _secret_values() -> list[str]:
    text = (DEMO / "app" / "settings.py").read_text()
    return re.findall(r'AWS_\w+ = "([^"]+)"', text)


def test_findings_have_hash_and_masked_preview_only() -> None:
    ctx = make_context(DEMO)
    parsed = ds.parse(data("detect-secrets", "detect-secrets-1.5.0-findings.json"), Job(("x",), 1), ctx)
    assert parsed.failure is None
    kinds = sorted((f.rule_id, f.location.start_line) for f in parsed.findings)
    assert ("AWS Access Key", 9) in kinds and ("Secret Keyword", 10) in kinds
    secrets = _secret_values()
    assert len(secrets) == 2
    dumped = json.dumps([f.__dict__ for f in parsed.findings], default=str) + json.dumps(parsed.raw)
    for secret in secrets:
        assert secret not in dumped
    # The plaintext was located (to scrub other outputs) from its SHA-1.
    hashes = {hashlib.sha1(s.encode()).hexdigest() for s in parsed.secrets}
    assert hashes == {hashlib.sha1(s.encode()).hexdigest() for s in secrets}
    assert all("*****" in (f.snippet or "") for f in parsed.findings)
    assert parsed.version == "1.5.0"


def test_fingerprint_ignores_line_numbers() -> None:
    ctx = make_context(DEMO)
    text = data("detect-secrets", "detect-secrets-1.5.0-findings.json")
    moved = text.replace('"line_number": 9', '"line_number": 90')
    a = {f.rule_id + f.location.path: f.fingerprint for f in ds.parse(text, Job(("x",), 1), ctx).findings}
    b = {f.rule_id + f.location.path: f.fingerprint for f in ds.parse(moved, Job(("x",), 1), ctx).findings}
    assert a == b


def test_clean_output_has_no_findings() -> None:
    parsed = ds.parse(
        data("detect-secrets", "detect-secrets-1.5.0-clean.json"),
        Job(("x",), 1),
        make_context(DEMO),
    )
    assert parsed.failure is None and parsed.findings == ()


def test_tool_error_is_a_failure() -> None:
    parsed = ds.parse(
        data("detect-secrets", "detect-secrets-1.5.0-error.json"),
        Job(("x",), 1),
        make_context(DEMO),
    )
    assert parsed.failure is not None and "no output" in parsed.failure


def test_staged_chunk_maps_back_to_target_path_and_line() -> None:
    text = data("detect-secrets", "detect-secrets-1.5.0-findings.json").replace(
        '"app/settings.py"', '"chunks/1/app/settings.py"'
    )
    job = Job(
        ("x",),
        1,
        staged=MappingProxyType({"chunks/1/app/settings.py": Staged("app/settings.py", 0)}),
    )
    parsed = ds.parse(text, job, make_context(DEMO))
    assert {f.location.path for f in parsed.findings} == {"app/settings.py"}


def test_plan_chunks_long_files_and_reports_oversized(tmp_path: Path) -> None:
    (tmp_path / "big.md").write_text(("| cell " * 300 + "|\n") * 200)
    (tmp_path / "small.txt").write_text("hello\n")
    (tmp_path / "huge.txt").write_text("x" * 700_000)
    (tmp_path / "latin.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    config = replace(default_config(SCANNER_NAMES), max_file_size=600_000)
    ctx = make_context(tmp_path, config, workdir=tmp_path.parent / "work")
    plan = ds.DetectSecrets().plan(ctx)
    assert isinstance(plan, ds.Plan)
    chunks = [s for j in plan.jobs for s in j.staged.values() if s.target_path == "big.md"]
    assert len(chunks) >= 3, "a long-line file is cut into several chunks"
    assert [n.item for n in plan.not_assessed] == ["huge.txt"]
    utf8 = [j for j in plan.jobs if "latin.txt" in j.inputs]
    assert utf8 and all(j.cwd is not None for j in utf8), "the UTF-8 copy is read from the staging folder"


def test_shards_not_chunks_are_processes(tmp_path: Path) -> None:
    """Chunks, staged copies and ordinary files share one budget of at most 2 × workers
    shards; a big file's chunks are still spread over several of them."""
    (tmp_path / "big.md").write_text(("| cell " * 300 + "|\n") * 2000)  # ~3.6 MB of long lines
    (tmp_path / "latin.txt").write_bytes("caf\xe9\n".encode("latin-1"))  # a transcoded copy
    for i in range(200):
        (tmp_path / f"m{i}.py").write_text("x = 1\n" * 50)
    config = replace(default_config(SCANNER_NAMES), max_file_size=8_000_000)
    ctx = replace(make_context(tmp_path, config, workdir=tmp_path.parent / "work"), workers=3)
    plan = ds.DetectSecrets().plan(ctx)
    assert isinstance(plan, ds.Plan)
    chunks = sum(1 for j in plan.jobs for s in j.staged.values() if s.target_path == "big.md")
    assert chunks >= 50, "the big file is cut into many chunks"
    assert len(plan.jobs) <= 2 * 3, f"{len(plan.jobs)} processes for 3 workers"
    spread = [j for j in plan.jobs if any(s.target_path == "big.md" for s in j.staged.values())]
    assert len(spread) >= 2, "the chunks are spread over several shards"
    assert all(j.cwd is not None for j in spread) and all(j.cwd is None for j in plan.jobs if not j.staged)
    covered = {p for j in plan.jobs for p in j.inputs}
    assert covered == {"big.md", "latin.txt", *(f"m{i}.py" for i in range(200))}


def test_plan_shortens_blank_runs_in_the_staged_copy(tmp_path: Path) -> None:
    line = '| "password"' + " " * 1000 + ': "Xk29sLq0vB7" |\n'
    (tmp_path / "table.md").write_text("# table\n" + line * 3)
    ctx = make_context(tmp_path, workdir=tmp_path.parent / "work2")
    plan = ds.DetectSecrets().plan(ctx)
    assert isinstance(plan, ds.Plan)
    (job,) = plan.jobs
    assert job.cwd is not None
    staged = (job.cwd / job.argv[-1]).read_text()
    assert staged.count("\n") == 4 and " " * 17 not in staged
    assert staged.splitlines()[1].startswith('| "password"' + " " * 16 + ":")


def test_tool_error_reports_the_tools_own_message() -> None:
    from pipeline.runner import ToolRun

    stderr = data("detect-secrets", "detect-secrets-1.5.0-error.stderr.txt")
    run = ToolRun(("detect-secrets",), 2, "", stderr, 0.3)
    parsed = ds.DetectSecrets().parse(run, Job(("x",), 1), make_context(DEMO))
    assert parsed.failure and "unrecognized arguments" in parsed.failure


# --- Errors stay values: every element of detect-secrets' JSON is type-checked --------------

WRONG_ELEMENTS = [
    ({"results": {"a.py": [42]}}, 'results["a.py"][0]: expected an object, got 42'),
    (
        {"results": {"a.py": [{"line_number": "x"}]}},
        "results[\"a.py\"][0].line_number: expected an integer, got 'x'",
    ),
    ({"results": {"a.py": [{"type": ["x"]}]}}, 'results["a.py"][0].type: expected a string, got a list'),
    (
        {"results": {"a.py": [{"hashed_secret": 1234}]}},
        'results["a.py"][0].hashed_secret: expected a string, got 1234',
    ),
    # A file's findings that are not a list were silently dropped before.
    ({"results": {"a.py": {"type": "Secret Keyword"}}}, 'results["a.py"]: expected a list, got an object'),
    ({"version": 1.5, "results": {}}, "version: expected a string, got 1.5"),
]


@pytest.mark.parametrize(("doc", "problem"), WRONG_ELEMENTS)
def test_wrong_element_type_is_a_failure_naming_its_place(doc: object, problem: str) -> None:
    parsed = ds.parse(json.dumps(doc), Job(("x",), 1), make_context(DEMO))
    assert parsed.failure == f"detect-secrets output does not match its format: {problem}"
    assert parsed.findings == () and parsed.secrets == ()


def test_wrong_element_type_through_the_scanner_is_a_failure_not_an_exception() -> None:
    from pipeline.runner import ToolRun

    run = ToolRun(("detect-secrets",), 0, json.dumps({"results": {"a.py": [{"line_number": "x"}]}}), "", 0.3)
    parsed = ds.DetectSecrets().parse(run, Job(("x",), 1, inputs=("a.py",)), make_context(DEMO))
    assert parsed.failure and 'results["a.py"][0].line_number: expected an integer' in parsed.failure
