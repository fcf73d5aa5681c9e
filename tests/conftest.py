"""Shared fixtures: contexts for pure parse tests, and real scans for end-to-end tests."""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pipeline import controls, resources, runner
from pipeline.config import Config, ScannerConfig, default_config
from pipeline.discover import discover
from pipeline.manifests import collect
from pipeline.run import RunOutput, execute, load_severities, make_reader
from pipeline.scanners import SCANNER_NAMES, registry
from pipeline.scanners.base import Context, SeverityTable
from pipeline.vulndb.store import import_sources

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
DEMO = ROOT / "examples" / "demo-repo"


@pytest.fixture(autouse=True)
def _own_result_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets an empty result cache of its own (the CLI's and its subprocesses'),
    so tests never see each other's cached results; the scanner environments stay shared."""
    monkeypatch.setenv("COMPLIANCE_PIPELINE_RESULTS_CACHE", str(tmp_path_factory.mktemp("results-cache")))


def data(tool: str, name: str) -> str:
    return (DATA / tool / name).read_text(encoding="utf-8")


@functools.cache
def _severities() -> SeverityTable:
    """As a run grades: severity.yaml over the catalogue's (pack and checkov built-ins)."""
    return load_severities(
        resources.policies_dir() / "severity.yaml", controls.load(resources.policies_dir())
    )


def make_context(root: Path, config: Config | None = None, workdir: Path | None = None) -> Context:
    cfg = config or default_config(SCANNER_NAMES)
    inv = discover(root, runner.run, exclude=cfg.exclude, max_file_size=cfg.max_file_size)
    read = make_reader(root)
    deps, problems = collect(list(inv.manifests), read)
    return Context(
        inventory=inv,
        config=cfg,
        workdir=workdir or Path(tempfile.mkdtemp(prefix="ctx-work-")),  # never inside the target
        policies=resources.policies_dir(),
        severities=_severities(),
        read_text=read,
        dependencies=tuple(deps),
        manifest_problems=tuple(problems),
    )


def fixed_clock() -> str:
    return "2026-11-26T00:00:00Z"


def scan(target: Path, config: Config | None = None, environ: dict[str, str] | None = None) -> RunOutput:
    cfg = config or default_config(SCANNER_NAMES)
    return execute(target, cfg, registry(), runner.run, fixed_clock, environ or dict(os.environ))


def only(config: Config, *names: str, **timeouts: float) -> Config:
    scanners = {
        n: ScannerConfig(enabled=n in names, timeout=timeouts.get(n.replace("-", "_"), sc.timeout))
        for n, sc in config.scanners.items()
    }
    return replace(config, scanners=MappingProxyType(scanners))


OSV_RECORDS = DATA / "osv"


def build_vulndb(path: Path, *sources: Path) -> Path:
    now = dt.datetime.now(dt.UTC)
    import_sources(list(sources or (OSV_RECORDS,)), path, "tests/data/osv", now)
    return path


@pytest.fixture(scope="session")
def vulndb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local advisory database built from the real PyPA records in tests/data/osv."""
    return build_vulndb(tmp_path_factory.mktemp("vulndb") / "osv.sqlite")


def offline(config: Config, db: Path) -> Config:
    """Use a test database; its records date from 2019-2024, so its age is accepted here."""
    return replace(
        config,
        vulnerability_service="offline",
        vulndb=str(db),
        vulndb_warn_days=36500,
        vulndb_max_days=36500,
    )


@pytest.fixture(scope="session")
def demo_config(vulndb: Path) -> Config:
    return offline(default_config(SCANNER_NAMES), vulndb)


def copy_demo(dest: Path) -> Path:
    target = dest / "demo-repo"
    shutil.copytree(DEMO, target)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    for argv in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "-m", "demo"],
    ):
        subprocess.run(argv, cwd=target, check=True, env=env)
    return target


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory, demo_config: Config) -> RunOutput:
    """One real scan of the demo repository, shared by the end-to-end assertions."""
    return scan(copy_demo(tmp_path_factory.mktemp("demo")), demo_config)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite tests/golden/ from the current writers"
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
