"""The CLI: help for every command, usage errors exit 3 naming the flag or key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import cli


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["scan"],
        ["tools"],
        ["tools", "install"],
        ["tools", "list"],
        ["vulndb"],
        ["vulndb", "import"],
        ["vulndb", "update"],
        ["vulndb", "status"],
        ["controls"],
        ["policies"],
        ["policies", "list"],
        ["verify"],
    ],
)
def test_every_command_has_help(argv: list[str]) -> None:
    done = run_cli(*argv, "--help")
    assert done.returncode == 0 and "usage: compliance-pipeline" in done.stdout


def test_scan_help_documents_exit_codes() -> None:
    assert "3: usage error" in " ".join(run_cli("scan", "--help").stdout.split())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["scan", "--threshold", "severe"], "--threshold"),
        (["scan", "--skip", "trivy"], "--skip trivy"),
        (["scan", "--bogus"], "unrecognized arguments: --bogus"),
        (["scan", "/nonexistent/folder"], "not a folder"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_3(argv: list[str], message: str, tmp_path: Path) -> None:
    assert cli.main(argv) == 3
    done = run_cli(*argv, cwd=tmp_path)
    assert done.returncode == 3 and message in done.stderr


def test_config_error_exit_3_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "compliance-pipeline.toml").write_text("threshhold = 'high'\n")
    done = run_cli("scan", str(tmp_path))
    assert done.returncode == 3
    assert "tool.compliance-pipeline.threshhold: unknown key" in done.stderr


def test_tools_list_reports_every_scanner() -> None:
    import json

    done = run_cli("tools", "list")
    rows = json.loads(done.stdout)
    assert [r["distribution"] for r in rows] == ["detect-secrets", "bandit", "pip-audit", "checkov"]
    assert all(len(r["lock"]) == 16 for r in rows)


def test_version() -> None:
    assert run_cli("--version").stdout.startswith("compliance-pipeline ")


def test_policies_list_shows_our_pack_and_checkov_domains() -> None:
    done = run_cli("policies", "list")
    assert done.returncode == 0 and "CPL_AWS_13" in done.stdout and "A1.2" in done.stdout
    builtin = run_cli("policies", "list", "--builtin")
    assert "encryption-at-rest" in builtin.stdout and "not mapped to controls" in builtin.stdout


def test_controls_reads_a_run(tmp_path: Path) -> None:
    import json

    (tmp_path / "findings.json").write_text(
        json.dumps(
            {
                "controls": [
                    {
                        "framework": "soc2",
                        "control_id": "CC6.1",
                        "title": "t",
                        "status": "FAIL",
                        "reason": "2 active findings",
                        "findings": [],
                        "scanners": ["checkov"],
                    }
                ]
            }
        )
    )
    done = run_cli("controls", str(tmp_path), "--framework", "soc2")
    assert done.returncode == 0 and "CC6.1" in done.stdout and "FAIL" in done.stdout
    assert run_cli("controls", str(tmp_path), "--framework", "gdpr").returncode == 3
    assert run_cli("controls", str(tmp_path / "missing")).returncode == 3


def test_scan_writes_a_signed_bundle_that_verify_checks(tmp_path: Path) -> None:
    import base64
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    target = tmp_path / "t"
    target.mkdir()
    (target / "notes.md").write_text("# nothing secret\n")
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pub = tmp_path / "key.pub"
    pub.write_text(
        base64.b64encode(
            key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        ).decode()
    )
    env = {**os.environ, "COMPLIANCE_PIPELINE_SIGNING_KEY": base64.b64encode(seed).decode()}
    out = tmp_path / "ev"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "scan", str(target), "-o", str(out), "--zip"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (out / "manifest.sig").is_file() and out.with_suffix(".zip").is_file()
    ok = run_cli("verify", str(out), "--key", str(pub))
    assert ok.returncode == 0 and "signature: valid" in ok.stdout and "INTACT" in ok.stdout
    assert run_cli("verify", str(out.with_suffix(".zip")), "--key", str(pub)).returncode == 0
    (out / "summary.md").write_text("edited")
    bad = run_cli("verify", str(out))
    assert bad.returncode == 1 and "changed: summary.md" in bad.stdout and "NOT INTACT" in bad.stdout
    assert run_cli("verify", str(tmp_path / "nothing")).returncode == 3
