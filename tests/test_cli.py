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
