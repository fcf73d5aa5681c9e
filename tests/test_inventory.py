"""Nothing in scope is dropped silently (issue 11): the inventory's edge cases, real tools."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import only, scan

from pipeline.config import default_config
from pipeline.discover import looks_binary
from pipeline.model import Status
from pipeline.scanners import SCANNER_NAMES

pytestmark = pytest.mark.tools

AWS_KEY = "AKIAZ3MHQ7PXWJ2KLRTV"  # made up, shaped like an AWS key  # pragma: allowlist secret
BUCKET = 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n  acl    = "public-read-write"\n}\n'
PICKLE = "import pickle\npickle.loads(b'')\n"


def _cli(target: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    console = Path(sys.executable).parent / "compliance-pipeline"
    return subprocess.run(
        [str(console), "scan", str(target), "-o", str(out), "--no-progress", *extra],
        capture_output=True,
        text=True,
        cwd=out.parent,
        timeout=600,
    )


def test_a_nul_byte_does_not_make_a_text_file_binary(tmp_path: Path) -> None:
    (tmp_path / "nul.env").write_bytes(b"\0\nAWS_ACCESS_KEY_ID=" + AWS_KEY.encode() + b"\n")
    run = scan(tmp_path, only(default_config(SCANNER_NAMES), "detect-secrets"))
    ds = next(r for r in run.report.results if r.scanner == "detect-secrets")
    assert [(f.location.path, f.rule_id, f.location.start_line) for f in ds.findings] == [
        ("nul.env", "AWS Access Key", 2)
    ]


def test_binary_by_content() -> None:
    import random
    import zlib

    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00"
    rnd = random.Random(1)
    for _ in range(50):  # compressed image data: ~10 % control bytes, under 1 % NULs
        body = zlib.compress(bytes(rnd.getrandbits(8) for _ in range(9000)))
        assert looks_binary((png + body)[:8192])
    assert looks_binary(bytes(range(256)) * 8)
    assert not looks_binary(b"\0\nAWS_ACCESS_KEY_ID=x\n")
    assert not looks_binary(("plain text\n" * 500).encode() + b"\0\0")


def test_an_empty_pyvenv_cfg_does_not_hide_a_folder(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "pyvenv.cfg").write_text("")
    (tmp_path / "app" / "views.py").write_text(PICKLE)
    venv = tmp_path / "env"  # a real layout: a home, an interpreter, site-packages
    (venv / "bin").mkdir(parents=True)
    (venv / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = {Path(sys.executable).parent}\n")
    (venv / "bin" / "python").symlink_to(sys.executable)
    (venv / "lib" / "python3.11" / "site-packages" / "dep.py").write_text(PICKLE)
    run = scan(tmp_path, only(default_config(SCANNER_NAMES), "bandit"))
    bandit = next(r for r in run.report.results if r.scanner == "bandit")
    assert {f.location.path for f in bandit.findings} == {"app/views.py"}


@pytest.mark.parametrize("folder", [".deploy", ".github/terraform"])
def test_iac_in_hidden_folders_is_scanned(tmp_path: Path, folder: str) -> None:
    (tmp_path / folder).mkdir(parents=True)
    (tmp_path / folder / "main.tf").write_text(BUCKET)
    run = scan(tmp_path, only(default_config(SCANNER_NAMES), "checkov"))
    ck = next(r for r in run.report.results if r.scanner == "checkov")
    assert ck.status is Status.OK
    assert f"{folder}/main.tf" in {f.location.path for f in ck.findings if f.rule_id == "CKV_AWS_20"}


def test_a_file_name_that_is_not_utf8_still_gets_evidence(tmp_path: Path) -> None:
    target = tmp_path / "t"
    target.mkdir()
    with open(os.path.join(os.fsencode(target), b"bad\xff\xfe.py"), "wb") as fh:
        fh.write(PICKLE.encode())
    out = tmp_path / "ev"
    done = _cli(target, out, "--only", "bandit", "--threshold", "medium")
    assert done.returncode == 1, done.stdout + done.stderr
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert [f["location"]["path"] for f in doc["findings"] if f["rule_id"] == "B301"] == [
        "bad\udcff\udcfe.py"
    ]
    assert "bad\\udcff\\udcfe.py" in (out / "report.html").read_text(encoding="utf-8")


def test_a_path_too_long_to_open_is_not_assessed_and_the_run_writes_evidence(tmp_path: Path) -> None:
    target = tmp_path / "t"
    target.mkdir()
    (target / "app.py").write_text("x = 1\n")
    cwd = os.getcwd()
    try:
        os.chdir(target)
        for _ in range(200):  # 200 folders of 24 characters: about 5,000 characters
            os.mkdir("d" * 24)
            os.chdir("d" * 24)
        Path("deep.py").write_text(PICKLE)
    finally:
        os.chdir(cwd)
    out = tmp_path / "ev"
    done = _cli(target, out, "--only", "bandit")
    assert done.returncode == 2, done.stdout + done.stderr
    doc = json.loads((out / "findings.json").read_text())
    assert doc["interrupted"] is None, "not an internal error"
    unread = [s for s in doc["inventory"]["skipped"] if s["not_assessed"]]
    assert len(unread) == 1 and "File name too long" in unread[0]["reason"]
    assert doc["verdict"] == "incomplete"


def _without_root_powers(argv: list[str]) -> list[str]:
    """As root, permissions bind only without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH."""
    if os.geteuid() != 0:
        return argv
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *argv]


@pytest.mark.parametrize("git", [False, True], ids=["walk", "git"])
def test_unreadable_folders_and_files_are_not_assessed_and_evidence_is_written(
    tmp_path: Path, git: bool
) -> None:
    target = tmp_path / "t"
    (target / "locked").mkdir(parents=True)
    (target / "locked" / "app.py").write_text(PICKLE)
    (target / "env").mkdir()
    (target / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (target / "ok.py").write_text(PICKLE)
    (target / "secret.env").write_text(f"AWS_ACCESS_KEY_ID={AWS_KEY}\n")
    if git:
        subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    out = tmp_path / "ev"
    console = Path(sys.executable).parent / "compliance-pipeline"
    argv = [str(console), "scan", str(target), "-o", str(out), "--no-progress", "--only", "bandit"]
    for path in (target / "locked", target / "env" / "pyvenv.cfg", target / "secret.env"):
        path.chmod(0)
    try:
        done = subprocess.run(
            _without_root_powers(argv), capture_output=True, text=True, cwd=tmp_path, timeout=600
        )
    finally:
        for path in (target / "locked", target / "env" / "pyvenv.cfg", target / "secret.env"):
            path.chmod(0o755)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "internal error" not in done.stderr
    doc = json.loads((out / "findings.json").read_text())
    skipped = {s["path"]: s for s in doc["inventory"]["skipped"]}
    assert skipped["secret.env"]["not_assessed"] and skipped["secret.env"]["category"] == "unreadable"
    locked = [s for p, s in skipped.items() if p.startswith("locked")]
    assert locked and all(s["not_assessed"] and s["category"] == "unreadable" for s in locked), skipped
    assert "Permission denied" in locked[0]["reason"]
    # An unreadable pyvenv.cfg is no virtualenv: env/ is not hidden.
    assert skipped["env/pyvenv.cfg"]["category"] == "unreadable"
    assert {f["location"]["path"] for f in doc["findings"]} == {"ok.py"}
