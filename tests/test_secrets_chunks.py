"""Issue 11: a file cut into chunks reports each secret once, where the tool does for the whole file.

detect-secrets keeps one finding per file, type and secret hash (the first line its
scan meets). The pipeline scans a large file as several staged chunks; these tests
compare its result with the real tool run by hand on the whole original file.
Large inputs are generated here, in tmp_path, with keys made up at run time (no
secret-looking literal in this file for the repository's own scan to find).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import string
from pathlib import Path

import pytest
from conftest import make_context, only, scan

from pipeline import runner, toolenv
from pipeline.config import default_config
from pipeline.fingerprint import disambiguate
from pipeline.model import Finding, Location, Severity, Suppression
from pipeline.scanners import SCANNER_NAMES
from pipeline.scanners import detect_secrets as ds
from pipeline.secret_id import SecretIds

AWS = "AWS Access Key"
PRAGMA = "  # pragma: allowlist secret"


def _fake_aws_key(seed: int) -> str:
    """AKIA + 16 characters: the shape of an AWS access key id, but made up."""
    rnd = random.Random(seed)
    return "AKIA" + "".join(rnd.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def _n_lines(chunks: int) -> int:
    return chunks * ds.CHUNK_BYTES // 45  # the filler lines are about 45 bytes long


def _big_file(path: Path, chunks: int, placed: dict[int, str]) -> None:
    """About `chunks` times CHUNK_BYTES of JSON-like filler; `placed[i]` replaces line i (1-based)."""
    lines = ["{"] + [
        f'  "field_{i:06d}": "an ordinary value {i:06d}",' for i in range(2, _n_lines(chunks) + 1)
    ]
    for i, text in placed.items():
        assert 1 < i <= len(lines)
        lines[i - 1] = text
    path.write_text("\n".join([*lines, '  "end": 1', "}"]) + "\n", encoding="utf-8")


def _every_chunk(chunks: int, text: str, first: int = 3) -> dict[int, str]:
    """The same line at `first` and then twice per chunk's length, wherever the cuts fall."""
    step = _n_lines(chunks) // (chunks * 2)
    return dict.fromkeys(range(first, _n_lines(chunks), step), text)


def _jobs_for(target: Path, rel: str, workdir: Path) -> int:
    """How many chunks of `rel` the plan scans (packed into however many shards)."""
    plan = ds.DetectSecrets().plan(make_context(target, workdir=workdir))
    assert isinstance(plan, ds.Plan)
    return sum(1 for job in plan.jobs for staged in job.staged.values() if staged.target_path == rel)


def _by_hand(target: Path, rel: str, *flags: str) -> list[tuple[str, int]]:
    """The real detect-secrets on the whole original file: (type, line) as it reports them."""
    setup = toolenv.setup("detect-secrets", "detect-secrets", "managed", runner.run, dict(os.environ))
    assert setup.executable is not None, setup.error
    argv = (str(setup.executable), "-c", "1", "scan", "--all-files", *flags, f"./{rel}")
    done = runner.run(argv, target, runner.tool_environment(dict(os.environ)), 300)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"].get(rel, [])
    return sorted((r["type"], r["line_number"]) for r in results)


def _ours(target: Path) -> list[Finding]:
    run = scan(target, only(default_config(SCANNER_NAMES), "detect-secrets"))
    (result,) = [r for r in run.report.results if r.scanner == "detect-secrets"]
    assert not result.errors and not result.not_assessed
    return sorted(result.findings, key=lambda f: (f.rule_id, f.location.start_line or 0))


def _lines(findings: list[Finding]) -> list[tuple[str, int]]:
    return [(f.rule_id, f.location.start_line or 0) for f in findings]


# --- through the pipeline, against the real tool -------------------------------------------


@pytest.mark.tools
def test_same_key_in_every_chunk_is_one_finding_as_for_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "t"
    target.mkdir()
    key = _fake_aws_key(11)
    _big_file(target / "big.json", 5, _every_chunk(5, f'  "aws_access_key_id": "{key}",'))
    assert _jobs_for(target, "big.json", tmp_path / "work") >= 4, "the file is scanned as several chunks"
    expected = _by_hand(target, "big.json", "--disable-filter", ds.ALLOWLIST_FILTER)
    found = _ours(target)
    assert _lines(found) == expected
    assert expected == [(AWS, 3)], "the tool itself reports the key once, at its first line"
    assert [f.fingerprint for f in found] == [ds.fp.fingerprint(ds.NAME, AWS, "big.json", _id(key))]
    assert found[0].suppression is None


@pytest.mark.tools
def test_chunk_boundaries_do_not_change_the_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = _fake_aws_key(12)
    _big_file(tmp_path / "data.json", 4, _every_chunk(4, f'  "key": "{key}",', first=700))
    expected = _by_hand(tmp_path, "data.json", "--disable-filter", ds.ALLOWLIST_FILTER)
    assert expected == [(AWS, 700)]
    runs = []
    for size in (ds.CHUNK_BYTES, 20 * 1024, 9 * 1024):  # about 4, 9 and 20 chunks
        monkeypatch.setattr(ds, "CHUNK_BYTES", size)
        found = _ours(tmp_path)
        assert _lines(found) == expected, f"cut every {size} bytes"
        runs.append([(f.fingerprint, f.suppression) for f in found])
    assert runs[0] == runs[1] == runs[2] == [(ds.fp.fingerprint(ds.NAME, AWS, "data.json", _id(key)), None)]


@pytest.mark.tools
def test_different_secrets_in_different_chunks_are_all_kept(tmp_path: Path) -> None:
    a, b, c = (_fake_aws_key(20 + i) for i in range(3))
    n = _n_lines(4)
    placed = {5: f'  "a": "{a}",', n // 2: f'  "b": "{b}",', n - 10: f'  "c": "{c}",'}
    placed |= {n // 2 + 7: f'  "a_again": "{a}",', n - 3: f'  "b_again": "{b}",'}
    _big_file(tmp_path / "keys.json", 4, placed)
    expected = _by_hand(tmp_path, "keys.json", "--disable-filter", ds.ALLOWLIST_FILTER)
    found = _ours(tmp_path)
    assert _lines(found) == expected == [(AWS, 5), (AWS, n // 2), (AWS, n - 10)]
    assert len({f.fingerprint for f in found}) == 3


@pytest.mark.tools
def test_a_pragma_on_one_occurrence_does_not_hide_the_others(tmp_path: Path) -> None:
    """The tool (allowlist filter on) skips the allowlisted line and reports the next occurrence."""
    key = _fake_aws_key(30)
    n = _n_lines(4)
    placed = _every_chunk(4, f'aws_key = "{key}"', first=n // 3)  # from the second chunk on
    placed[4] = f'aws_key = "{key}"{PRAGMA}'  # the first occurrence, alone in the first chunk
    _big_file(tmp_path / "settings.py", 4, placed)
    expected = _by_hand(tmp_path, "settings.py")  # the tool's own allowlist handling
    found = _ours(tmp_path)
    assert _lines(found) == expected == [(AWS, n // 3)]
    assert found[0].suppression is None


@pytest.mark.tools
def test_a_key_allowlisted_everywhere_is_one_suppressed_finding(tmp_path: Path) -> None:
    key = _fake_aws_key(31)
    _big_file(tmp_path / "fixtures.py", 4, _every_chunk(4, f'aws_key = "{key}"{PRAGMA}', first=9))
    assert _by_hand(tmp_path, "fixtures.py") == [], "the tool, filter on, reports nothing"
    allowlisted = _by_hand(tmp_path, "fixtures.py", "--only-allowlisted")
    found = _ours(tmp_path)
    assert _lines(found) == allowlisted == [(AWS, 9)]
    assert found[0].suppression is not None and found[0].suppression.kind == "inline"


@pytest.mark.tools
@pytest.mark.xfail(
    strict=True,
    reason="known, not chunk-related: the pipeline runs the tool with its allowlist filter off, so "
    "within one scanned file (or chunk) only the first occurrence comes back; when that one is "
    "allowlisted, a later occurrence without the pragma is not seen (the tool, filter on, reports it)",
)
def test_a_pragma_on_the_first_occurrence_in_one_small_file(tmp_path: Path) -> None:
    key = _fake_aws_key(32)
    (tmp_path / "small.py").write_text(f'a = "{key}"{PRAGMA}\n\nb = "{key}"\n', encoding="utf-8")
    assert _by_hand(tmp_path, "small.py") == [(AWS, 3)]
    found = _ours(tmp_path)
    assert _lines(found) == [(AWS, 3)] and found[0].suppression is None


# --- merge() alone -------------------------------------------------------------------------


def _sha1(value: str) -> str:
    return hashlib.sha1(value.encode()).hexdigest()


def _id(value: str) -> str:
    """The keyed identity the evidence carries (no key in the tests' environment)."""
    return SecretIds.from_environ(os.environ).of(_sha1(value))


def _finding(path: str, line: int, secret: str, rule: str = AWS, allowed: bool = False) -> Finding:
    return Finding(
        tool=ds.NAME,
        rule_id=rule,
        title=f"{rule} committed to the repository",
        severity=Severity.HIGH,
        location=Location(path, line, line),
        fingerprint=ds.fp.fingerprint(ds.NAME, rule, path, _sha1(secret)),
        snippet=f"line {line}",
        suppression=Suppression("inline", "pragma: allowlist secret", source=f"{path}:{line}")
        if allowed
        else None,
    )


def test_merge_keeps_the_lowest_line_per_file_type_and_secret() -> None:
    chunks = [_finding("a.json", 4000, "s1"), _finding("a.json", 12, "s1"), _finding("a.json", 2100, "s1")]
    merged = ds.merge(chunks)
    assert [(f.location.start_line, f.fingerprint) for f in merged] == [(12, chunks[0].fingerprint)]
    assert disambiguate(merged) == merged, "no occurrence suffix is left to depend on the cuts"


def test_merge_never_joins_different_secrets_types_or_files() -> None:
    found = [
        _finding("a.json", 9, "s1"),
        _finding("a.json", 900, "s2"),
        _finding("a.json", 9, "s1", rule="Secret Keyword"),
        _finding("b.json", 3, "s1"),
    ]
    assert sorted(ds.merge(reversed(found)), key=lambda f: f.fingerprint) == sorted(
        found, key=lambda f: f.fingerprint
    )


def test_merge_prefers_an_occurrence_that_is_not_allowlisted() -> None:
    allowed = _finding("a.py", 3, "s1", allowed=True)
    later = _finding("a.py", 3000, "s1")
    assert ds.merge([allowed, later, _finding("a.py", 5000, "s1")]) == (later,)
    assert ds.merge([_finding("a.py", 2000, "s1", allowed=True), allowed]) == (allowed,)


def test_merge_is_independent_of_job_order() -> None:
    found = [_finding("a.json", line, "s1") for line in (700, 30, 2500)] + [_finding("a.json", 40, "s2")]
    first = ds.merge(found)
    assert ds.merge(list(reversed(found))) == first == ds.merge(found[2:] + found[:2])
    assert [f.location.start_line for f in first] == [30, 40]
