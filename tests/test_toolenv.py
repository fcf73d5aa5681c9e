"""Pinned tool environments: lock files, cache keys, and tool data kept in step with the pins."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pipeline import resources, runner, toolenv
from pipeline.scanners import registry


def test_every_scanner_has_a_hash_pinned_lock() -> None:
    for s in registry().values():
        text = toolenv.lock_path(s.distribution).read_text()
        assert f"{s.distribution}==" in text
        pins = [ln for ln in text.splitlines() if "==" in ln and not ln.startswith((" ", "#"))]
        assert pins and "--hash=sha256:" in text


def test_cache_key_follows_the_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"COMPLIANCE_PIPELINE_CACHE": str(tmp_path)}
    a = toolenv.env_dir("bandit", env)
    assert a.parent == tmp_path / "envs" and a.name.startswith("bandit-")
    assert toolenv.env_dir("bandit", env) == a
    assert toolenv.env_dir("checkov", env) != a
    assert toolenv.cache_root({"XDG_CACHE_HOME": "/x"}) == Path("/x/compliance-pipeline")


@pytest.mark.tools
def test_checkov_and_detect_secrets_stay_apart() -> None:
    """checkov's env carries bc-detect-secrets; ours runs Yelp's detect-secrets alone."""
    envs = {}
    for s in registry().values():
        setup = toolenv.ensure(s.distribution, s.executable, runner.run, os.environ)
        assert setup.error is None, setup.error
        envs[s.distribution] = setup
    assert "bc-detect-secrets" in envs["checkov"].distributions
    assert "bc-detect-secrets" not in envs["detect-secrets"].distributions
    assert envs["detect-secrets"].distributions["detect-secrets"] == "1.5.0"


@pytest.mark.tools
def test_bandit_test_list_matches_the_pinned_bandit() -> None:
    s = registry()["bandit"]
    setup = toolenv.ensure(s.distribution, s.executable, runner.run, os.environ)
    assert setup.env_dir is not None
    python = setup.env_dir / "bin" / "python"
    code = (
        "from bandit.core import extension_loader as el; m = el.MANAGER\n"
        "rows = sorted(set((p.plugin._test_id, p.name) for p in m.plugins)"
        " | set((b['id'], b['name']) for bl in m.blacklist.values() for b in bl))\n"
        "print('\\n'.join(f'{i} {n}' for i, n in rows))"
    )
    live = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout
    kept = resources.lock_file("bandit-tests.txt").read_text()
    assert [ln for ln in kept.splitlines() if not ln.startswith("#")] == live.splitlines()


@pytest.mark.tools
def test_environment_builds_once_under_concurrent_first_use(tmp_path: Path) -> None:
    """Two threads and a fresh cache: one build, both get the same pinned bandit."""
    from concurrent.futures import ThreadPoolExecutor

    env = {**os.environ, "COMPLIANCE_PIPELINE_CACHE": str(tmp_path)}
    with ThreadPoolExecutor(max_workers=2) as pool:
        setups = list(pool.map(lambda _: toolenv.ensure("bandit", "bandit", runner.run, env), range(2)))
    assert [s.error for s in setups] == [None, None]
    assert setups[0].env_dir == setups[1].env_dir and setups[0].env_dir is not None
    assert setups[0].env_dir.parent == tmp_path / "envs"
    assert setups[0].distributions["bandit"] == "1.9.4"
    done = subprocess.run([str(setups[0].executable), "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and "1.9.4" in done.stdout
    assert toolenv.list_environments(("bandit",), env)[0]["status"] == "installed"
