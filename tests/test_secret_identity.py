"""Keyed identities instead of detect-secrets' raw SHA-1; raw checkov output as evidence,
not a dump (issue 13).

Before: raw/detect-secrets.json kept the unsalted SHA-1 of every secret (a short
password is recovered offline), findings said `sha1 …`, and raw/checkov.json kept
each resource's `entity` (every attribute, passwords included).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from conftest import data, make_context, only, scan

from pipeline import suppress
from pipeline.config import default_config
from pipeline.scanners import SCANNER_NAMES, checkov
from pipeline.secret_id import KEY_ENV, SecretIds

# Made up at runtime, shaped like an AWS key: nothing here for the self-scan to find.
KEY_ID = "AKIA" + "Q7PXWJ2KLRTVZ3MH"


def _run(target: Path, environ: dict[str, str]) -> object:
    return scan(target, only(default_config(SCANNER_NAMES), "detect-secrets"), environ)


def test_no_raw_sha1_leaves_and_identities_are_stable(tmp_path: Path) -> None:
    (tmp_path / "settings.env").write_text(f"AWS_ACCESS_KEY_ID={KEY_ID}\n")
    sha1 = hashlib.sha1(KEY_ID.encode()).hexdigest()  # what the tool computes
    first = _run(tmp_path, dict(os.environ))
    again = _run(tmp_path, dict(os.environ))
    dumped = json.dumps(dict(first.raw)) + repr(first.report)  # type: ignore[attr-defined]
    assert sha1 not in dumped and sha1[:12] not in dumped
    (finding,) = first.report.findings  # type: ignore[attr-defined]
    assert "sha1" not in finding.message and "pbkdf2-sha256:" in finding.message
    raw_entry = first.raw["detect-secrets"]["invocations"][0]["output"]["results"]["settings.env"][0]  # type: ignore[attr-defined]
    assert "hashed_secret" not in raw_entry and raw_entry["secret_id"].startswith("pbkdf2-sha256:")
    assert [f.fingerprint for f in again.report.findings] == [finding.fingerprint]  # type: ignore[attr-defined]


def test_an_operator_key_gives_hmac_identities(tmp_path: Path) -> None:
    (tmp_path / "settings.env").write_text(f"AWS_ACCESS_KEY_ID={KEY_ID}\n")
    keyed = _run(tmp_path, {**os.environ, KEY_ENV: "ci-secret-1"})
    other = _run(tmp_path, {**os.environ, KEY_ENV: "ci-secret-2"})
    (a,) = keyed.report.findings  # type: ignore[attr-defined]
    (b,) = other.report.findings  # type: ignore[attr-defined]
    assert "hmac-sha256:" in a.message and a.fingerprint != b.fingerprint
    assert SecretIds("k").of("ab" * 20) == SecretIds("k").of("AB" * 20)  # hex case does not matter


def test_a_baseline_written_with_the_old_fingerprints_still_matches(tmp_path: Path) -> None:
    (tmp_path / "settings.env").write_text(f"AWS_ACCESS_KEY_ID={KEY_ID}\n")
    run = _run(tmp_path, dict(os.environ))
    (finding,) = run.report.findings  # type: ignore[attr-defined]
    assert finding.legacy_fingerprint and finding.legacy_fingerprint != finding.fingerprint
    results, _ = suppress.apply(
        run.report.results,  # type: ignore[attr-defined]
        (),
        suppress.Baseline(frozenset({finding.legacy_fingerprint}), "old-baseline.json"),
        __import__("datetime").date(2026, 12, 1),
        True,
    )
    (kept,) = [f for r in results for f in r.findings]
    assert kept.suppression is not None and kept.suppression.kind == "baseline"
    assert "legacy_fingerprint" not in json.dumps(dict(run.raw))  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["checkov-3.3.30-single.json", "checkov-3.3.30-multi.json"])
def test_raw_checkov_keeps_ids_paths_and_results_but_no_entity_or_code(name: str) -> None:
    doc = json.loads(data("checkov", name))
    parsed = checkov.parse(json.dumps(doc), Path("/nonexistent"), make_context(Path("/nonexistent")))
    text = json.dumps(parsed.raw)
    assert '"entity"' in json.dumps(doc) or '"code_block"' in json.dumps(doc)  # the tool's output has them
    assert '"entity"' not in text and '"code_block"' not in text and '"evaluations"' not in text
    reports = parsed.raw if isinstance(parsed.raw, list) else [parsed.raw]
    failed = [c for r in reports for c in r["results"].get("failed_checks", [])]
    assert failed and all({"check_id", "file_path", "resource", "check_result"} <= set(c) for c in failed)


def test_a_secret_equal_to_a_word_does_not_censor_the_evidence(tmp_path: Path) -> None:
    # Found on this repository's own scan: a located value `bandit` renamed the tool and
    # every path containing it to `*****` across the whole report.
    for word in ("checkov", "bandit"):
        (tmp_path / f"{word}_settings.py").write_text(f'password = "{word}"\n')
    run = scan(tmp_path, only(default_config(SCANNER_NAMES), "detect-secrets", "bandit"))
    tools = {f.tool for f in run.report.findings}
    assert "bandit" in tools and "*****" not in tools
    assert {f.location.path for f in run.report.findings} <= {"checkov_settings.py", "bandit_settings.py"}
    assert {r.scanner for r in run.report.results} >= {"bandit", "checkov", "detect-secrets"}
    snippets = " ".join(f.snippet or "" for f in run.report.findings)
    assert '"checkov"' not in snippets and '"bandit"' not in snippets  # masked where assigned


def test_every_occurrence_of_a_short_secret_on_its_line_is_masked(tmp_path: Path) -> None:
    # psf/requests' tests: `("http://user:pass@complex.url.com/…", ("user", "pass"))`.
    line = '    ("http://user:' + "pa" + 'ss@complex.url.com/path?query=yes", ("user", "pa' + 'ss")),\n'
    (tmp_path / "test_utils.py").write_text("CASES = [\n" + line + "]\n")
    run = scan(tmp_path, only(default_config(SCANNER_NAMES), "detect-secrets"))
    (finding,) = run.report.findings  # type: ignore[attr-defined]
    assert finding.rule_id == "Basic Auth Credentials"
    assert '"pass"' not in (finding.snippet or "") and ":pass@" not in (finding.snippet or "")


def test_only_a_full_commit_id_under_a_commit_key_escapes_the_scrub() -> None:
    from pipeline.redact import commit_id

    sha = "8957" * 10  # a 40-hex object id
    assert commit_id(sha, f'    git_commit = "{sha}"', "")
    assert commit_id(sha, f'      Value: "{sha}"', "    - Key: git_commit")
    assert not commit_id(sha, f'  api_key = "{sha}"', "")
    assert not commit_id(sha, f'  sha = "{sha}"', "")  # too generic a key to exempt a detected secret
    assert not commit_id(sha[:32], f'  git_commit = "{sha[:32]}"', "")  # not an object id
