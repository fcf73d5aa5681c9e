"""A true diff scan (issue 15, item 3): `scan --changed-since REF` scans only the change,
reports only findings in it, says the scan is partial, and no control is PASS. With the
real tools, on a git fixture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_demo

from pipeline import change, runner
from pipeline.report.history import RunScope

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=GIT_ENV
    ).stdout.strip()


def _scan(target: Path, out: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "scan", str(target), "-o", str(out), "--no-progress", *extra],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert (out / "findings.json").is_file(), done.stdout + done.stderr
    return done.returncode, json.loads((out / "findings.json").read_text())


def _paths(doc: dict[str, Any]) -> set[str]:
    return {f["location"]["path"] for f in doc["findings"]}


PICKLE = "\nimport pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"
TOKEN = 'GITHUB_TOKEN = "ghp_' + "q7W2e9" * 6 + '"\n'


@pytest.mark.tools
def test_a_diff_scan_reports_only_the_change_and_no_control_passes(tmp_path: Path) -> None:
    target = copy_demo(tmp_path)
    (target / "app" / "jobs.py").write_text("import subprocess\n" + PICKLE)
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "jobs")
    (target / "app" / "tokens.py").write_text(TOKEN)  # untracked, not ignored: in the change
    code, doc = _scan(
        target, tmp_path / "ev", "--only", "bandit", "--only", "detect-secrets", "--changed-since", "HEAD~1"
    )
    assert doc["scope"]["kind"] == "change" and doc["scope"]["since"] == "HEAD~1"
    assert doc["scope"]["files"] == ["app/jobs.py", "app/tokens.py"]
    assert _paths(doc) == {"app/jobs.py", "app/tokens.py"}, "findings outside the change are not reported"
    assert {f["rule_id"] for f in doc["findings"] if f["tool"] == "bandit"} >= {"B301", "B403"}
    assert any(f["tool"] == "detect-secrets" for f in doc["findings"])
    assert "PASS" not in {c["status"] for c in doc["controls"]}, "a partial scan never passes a control"
    assert code == 1, "the change's own findings still block"
    # A clean change: the checks that ran on it passed, yet the controls are not PASS.
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "tokens")
    (target / "app" / "clean.py").write_text("def add(a, b):\n    return a + b\n")
    clean_code, clean = _scan(
        target, tmp_path / "clean", "--only", "bandit", "--only", "detect-secrets", "--changed-since", "HEAD"
    )
    assert clean["findings"] == [] and clean_code == 0
    assert "PASS" not in {c["status"] for c in clean["controls"]}
    partial = [c for c in clean["controls"] if c["reason"].startswith("partial scan")]
    assert partial and all(c["status"] == "NOT_ASSESSED" for c in partial)
    _, full = _scan(target, tmp_path / "full", "--only", "bandit", "--only", "detect-secrets")
    assert full["scope"] == {"kind": "full"} and _paths(full) > _paths(doc)
    summary = (tmp_path / "ev" / "summary.md").read_text()
    assert "Partial scan" in summary and "HEAD~1" in summary
    assert "Partial scan: the change since" in (tmp_path / "ev" / "report.html").read_text()


@pytest.mark.tools
def test_a_changed_terraform_file_brings_its_root_module(tmp_path: Path) -> None:
    target = copy_demo(tmp_path)
    (target / "infra" / "network.tf").write_text(
        'resource "aws_s3_bucket" "logs" {\n  bucket = "demo-logs"\n}\n'
    )
    other = target / "other"
    other.mkdir()
    (other / "main.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = "other"\n}\n')
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "infra")
    (target / "infra" / "network.tf").write_text(
        'resource "aws_s3_bucket" "logs" {\n  bucket = "demo-logs-2"\n}\n'
    )
    _, doc = _scan(target, tmp_path / "ev", "--only", "checkov", "--changed-since", "HEAD")
    assert doc["scope"]["files"] == ["infra/network.tf"] and doc["scope"]["modules"] == ["infra"]
    paths = _paths(doc)
    assert "infra/main.tf" in paths, "the root module of the changed file is assessed whole"
    assert not any(p.startswith("other/") or p.startswith("k8s/") or p == "Dockerfile" for p in paths)


@pytest.mark.tools
@pytest.mark.parametrize("ref", ["no-such-branch", "--output=/tmp/x", "a..b"])
def test_an_unknown_or_hostile_ref_assesses_nothing_and_says_why(tmp_path: Path, ref: str) -> None:
    target = copy_demo(tmp_path)
    code, doc = _scan(target, tmp_path / "ev", "--only", "bandit", f"--changed-since={ref}")
    assert code == 2, "nothing was assessed: incomplete, never a pass"
    assert doc["scope"]["error"] and doc["findings"] == []
    (scope,) = [s for s in doc["inventory"]["skipped"] if s["path"] == "."]
    assert scope["not_assessed"] and "--changed-since" in scope["reason"]


def test_a_partial_run_in_the_ledger_closes_nothing_outside_its_change() -> None:
    record = {
        "interrupted": None,
        "scanners": [{"name": "bandit", "status": "ok", "unassessed": []}],
        "skipped": [],
        "scope": {
            "kind": "change",
            "since": "main",
            "files": ["app/a.py"],
            "modules": ["infra"],
            "error": None,
        },
    }
    scope = RunScope.of(record)
    assert scope.why_not("bandit", "app/a.py", None) is None
    assert scope.why_not("checkov", "infra/x.tf", None) == "checkov did not run"
    assert scope.why_not("bandit", "infra/x.py", None) is None, "in a module folder of the change"
    assert scope.why_not("bandit", "app/b.py", None) == "outside the change of a partial scan (since main)"
    full = RunScope.of({**record, "scope": {"kind": "full"}})
    assert full.why_not("bandit", "app/b.py", None) is None


def test_the_change_is_listed_with_git_safely(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "a.py").write_text("x = 1\n")
    (repo / "b.py").write_text("y = 1\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "one")
    # A hostile repository config: an external diff and a filter that would run programs.
    marker = tmp_path / "ran"
    _git(repo, "config", "diff.external", f"sh -c 'touch {marker}'")
    _git(repo, "config", "filter.evil.clean", f"sh -c 'touch {marker}; cat'")
    (repo / ".gitattributes").write_text("*.py filter=evil diff=evil\n")
    (repo / "a.py").write_text("x = 2\n")
    (repo / "new.py").write_text("z = 1\n")
    (repo / "ignored.log").write_text("x\n")
    (repo / ".gitignore").write_text("*.log\n")
    (repo / "b.py").unlink()
    scope = change.changed_files(repo, runner.run, dict(os.environ), "HEAD")
    assert scope.error is None and scope.base == _git(repo, "rev-parse", "HEAD")
    assert scope.files == (".gitattributes", ".gitignore", "a.py", "new.py"), (
        "deleted and ignored files are not"
    )
    assert not marker.exists(), "no program of the repository's git configuration ran"


@pytest.mark.tools
def test_a_module_call_in_the_change_brings_the_resources_it_instantiates(tmp_path: Path) -> None:
    """checkov reports a module's resources at the module's own file: a change that only
    adds the call still reports them (found in parity on terraform-aws-s3-bucket)."""
    target = tmp_path / "t"
    (target / "modules" / "bucket").mkdir(parents=True)
    (target / "modules" / "bucket" / "main.tf").write_text(
        'variable "name" {}\nresource "aws_s3_bucket" "this" {\n  bucket = var.name\n}\n'
    )
    (target / "envs" / "prod").mkdir(parents=True)
    (target / "envs" / "prod" / "main.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n')
    _git(target, "init", "-q", "-b", "main")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "base")
    call = 'module "logs" {\n  source = "../../modules/bucket"\n  name   = "logs"\n}\n'
    (target / "envs" / "prod" / "main.tf").write_text(
        (target / "envs" / "prod" / "main.tf").read_text() + call
    )
    _, doc = _scan(target, tmp_path / "ev", "--only", "checkov", "--changed-since", "HEAD")
    assert doc["scope"]["files"] == ["envs/prod/main.tf"]
    via_call = [f for f in doc["findings"] if f["location"]["resource"].startswith("module.logs.")]
    assert via_call, "the bucket the new call creates is assessed"
    assert all(f["location"]["path"] == "modules/bucket/main.tf" for f in via_call)
    assert all("instantiated by the module call in envs/prod/main.tf" in f["message"] for f in via_call)
    assert not [f for f in doc["findings"] if f["location"]["resource"] == "aws_s3_bucket.this"], (
        "the module's own file, outside the change, is not reported for itself"
    )
