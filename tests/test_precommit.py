"""The hook with the real pre-commit (from PyPI), in a throw-away git repository."""

from __future__ import annotations

import os
import random
import string
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.tools
GIT_ENV = {
    "GIT_AUTHOR_NAME": "dev",
    "GIT_AUTHOR_EMAIL": "dev@example.invalid",
    "GIT_COMMITTER_NAME": "dev",
    "GIT_COMMITTER_EMAIL": "dev@example.invalid",
}


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env, check=check)


def _head() -> str:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode != 0:
        pytest.fail("this checkout has no commit for pre-commit to install from")
    return head.stdout.strip()


def test_hook_blocks_a_secret_until_it_is_waived(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT}\n    rev: {_head()}\n    hooks:\n      - id: compliance-pipeline\n"
    )
    (repo / "README.md").write_text("# app\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "initial")
    install = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"], cwd=repo, capture_output=True, text=True
    )
    assert install.returncode == 0, install.stderr
    rnd = random.Random(5)
    key = "AKIA" + "".join(rnd.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    (repo / "creds.py").write_text(f'KEY_ID = "{key}"\n')
    _git(repo, "add", "creds.py")
    blocked = _git(repo, "commit", "-m", "add credentials", check=False)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert "AWS Access Key" in output and "creds.py:1" in output and "blocked:" in output
    assert key not in output
    (repo / "compliance-waivers.yaml").write_text(
        "waivers:\n  - rule: AWS Access Key\n    path: creds.py\n"
        "    reason: a fake key for the integration test\n    owner: dev@example.invalid\n"
        "    expires: 2099-01-01\n".replace("2099-01-01", _soon())
    )
    _git(repo, "add", "compliance-waivers.yaml", "creds.py")
    waived = _git(repo, "commit", "-m", "add credentials, waived", check=False)
    assert waived.returncode == 0, waived.stdout + waived.stderr
    (repo / "notes.md").write_text("# unrelated notes\n")
    _git(repo, "add", "notes.md")
    unrelated = _git(repo, "commit", "-m", "notes", check=False)
    assert unrelated.returncode == 0, unrelated.stdout + unrelated.stderr


def _soon() -> str:
    import datetime as dt

    return (dt.date.today() + dt.timedelta(days=30)).isoformat()
