"""Hostile targets through the real scanners: no crash, a clear result."""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import scan

from pipeline.model import Status

pytestmark = pytest.mark.tools


def _fake_aws_key() -> str:
    rnd = random.Random(7)
    return "AKIA" + "".join(rnd.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def _hostile_tree(root: Path) -> str:
    key = _fake_aws_key()
    (root / "outside").symlink_to("/etc")
    (root / "loop").symlink_to(root / "loop")
    (root / "a").symlink_to(root / "b")
    (root / "b").symlink_to(root / "a")
    (root / "empty").mkdir()
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + os.urandom(2048))
    # Not valid UTF-8: detect-secrets alone would skip it silently.
    (root / "latin.cfg.txt").write_bytes(f"caf\xe9 = 1\naws_key = {key}\n".encode("latin-1"))
    (root / "<script>alert('x') x.py").write_text("import pickle\npickle.loads(b'')\n")
    with open(root / "big.log", "wb") as fh:
        fh.write(b"plain text line\n" * (50 * 1024 * 1024 // 16))
    return key


def test_hostile_target(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    key = _hostile_tree(target)
    run = scan(target)
    results = {r.scanner: r for r in run.report.results}
    ds = results["detect-secrets"]
    assert ds.status is Status.OK
    assert [(f.rule_id, f.location.path) for f in ds.findings] == [("AWS Access Key", "latin.cfg.txt")]
    assert [n.item for n in ds.not_assessed] == ["big.log"], "the 50 MB file is NOT_ASSESSED, not dropped"
    bandit = results["bandit"]
    assert bandit.status is Status.OK
    assert {f.location.path for f in bandit.findings} == {"<script>alert('x') x.py"}
    skipped = {s.path for s in run.report.skipped_paths}
    assert {"outside", "loop", "a", "b"} <= skipped
    assert run.report.incomplete  # because of big.log
    assert key not in json.dumps([f.snippet for f in ds.findings])


def test_empty_directory_via_cli(tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    out = tmp_path / "ev"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "scan", str(target), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    # Nothing to scan is not a pass (issue 11): exit 2, with the evidence saying why.
    assert done.returncode == 2, done.stdout + done.stderr
    assert "not assessed: .: the inventory holds no file to scan" in done.stdout
    doc = json.loads((out / "findings.json").read_text())
    assert {s["status"] for s in doc["scanners"]} == {"not-applicable"}
    assert doc["findings"] == []
    assert doc["inventory"]["by_reason"]["scope"] == {"label": "scope of the run", "paths": 1, "files": 0}


def test_malformed_iac_is_not_assessed(tmp_path: Path) -> None:
    target = tmp_path / "iac"
    target.mkdir()
    (target / "bad.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n')
    (target / "good.tf").write_text('resource "aws_s3_bucket" "y" {\n  bucket = "y"\n}\n')
    run = scan(target)
    ck = next(r for r in run.report.results if r.scanner == "checkov")
    assert ck.status is Status.OK
    assert [n.item for n in ck.not_assessed] == ["bad.tf"]
    assert any(f.location.path == "good.tf" for f in ck.findings)
    assert run.report.incomplete


def test_pathological_blank_runs_are_scanned_not_dropped(tmp_path: Path) -> None:
    """Lines that make detect-secrets' keyword regex cubic are still scanned, correctly."""
    target = tmp_path / "docs"
    target.mkdir()
    key = _fake_aws_key()
    rows = ["# Settings", "", "| name | value |", "|---|---|"]
    # Each such row alone costs the unmodified tool about 5.7 s (measured on 1.5.0).
    rows += ['| "password"' + " " * 1000 + "| see the vault |" for _ in range(39)]
    rows.append(f"| aws_access_key_id{' ' * 1000}| {key} |")
    (target / "table.md").write_text("\n".join(rows) + "\n")
    from dataclasses import replace

    from conftest import only

    from pipeline.config import default_config
    from pipeline.scanners import SCANNER_NAMES

    run = scan(target, only(replace(default_config(SCANNER_NAMES)), "detect-secrets"))
    ds = next(r for r in run.report.results if r.scanner == "detect-secrets")
    assert ds.status is Status.OK and not ds.not_assessed
    assert [(f.rule_id, f.location.start_line) for f in ds.findings] == [("AWS Access Key", 44)]
    assert key not in (ds.findings[0].snippet or "")
