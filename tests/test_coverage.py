"""Nothing in scope is dropped silently (issue 11): the inventory lists every path it
does not hand to a scanner, with the reason, and coverage is what the tools really read.

Each case runs the real tools; each failed on the code before the fix (0 files was
PASS, ignored, vendored and binary files were listed nowhere, a malformed Kubernetes
file counted as assessed, a 3 MB manifest was "no infrastructure-as-code files").
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import only, scan

from pipeline import gate
from pipeline.config import default_config
from pipeline.discover import discover
from pipeline.model import Status
from pipeline.report.json import to_dict
from pipeline.runner import run as run_tool
from pipeline.scanners import SCANNER_NAMES

pytestmark = pytest.mark.tools

POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
  - name: c
    image: nginx
    securityContext:
      privileged: true
"""


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _skipped(run: object) -> dict[str, dict[str, object]]:
    data = to_dict(run.report)  # type: ignore[attr-defined]
    return {s["path"]: s for s in data["inventory"]["skipped"]}


def test_a_parent_gitignore_star_is_not_assessed_never_a_pass(tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    target = parent / "service"
    target.mkdir(parents=True)
    _git(parent, "init", "-q")
    (parent / ".gitignore").write_text("*\n")
    (target / "app.py").write_text("import subprocess\nsubprocess.call('ls', shell=True)\n")
    (target / "settings.py").write_text("DEBUG = False\n")
    run = scan(target, only(default_config(SCANNER_NAMES), "bandit"))
    skipped = _skipped(run)
    assert run.report.files == 0
    assert skipped["."]["not_assessed"] and skipped["."]["category"] == "scope"
    assert "no file to scan" in str(skipped["."]["reason"])
    # Each ignored path names the rule that hid it: the parent's ignore file.
    assert skipped["app.py"]["category"] == "gitignored"
    assert "../.gitignore:1: *" in str(skipped["app.py"]["reason"])
    assert gate.verdict(run.report) is gate.Verdict.INCOMPLETE
    assert gate.exit_code(run.report) == gate.EXIT_INCOMPLETE


def test_an_empty_target_is_not_assessed(tmp_path: Path) -> None:
    run = scan(tmp_path, only(default_config(SCANNER_NAMES), "detect-secrets", "bandit"))
    assert run.report.files == 0
    assert [s.path for s in run.report.inventory_not_assessed] == ["."]
    assert gate.exit_code(run.report) == gate.EXIT_INCOMPLETE


def test_ignores_that_remove_nearly_everything_are_not_assessed(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("generated/\n")
    (tmp_path / "main.py").write_text("x = 1\n")
    gen = tmp_path / "generated"
    gen.mkdir()
    for i in range(30):
        (gen / f"m{i}.py").write_text("import pickle\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "init")
    run = scan(tmp_path, only(default_config(SCANNER_NAMES), "bandit"))
    skipped = _skipped(run)
    assert skipped["generated"]["files"] == 30 and skipped["generated"]["category"] == "gitignored"
    assert "30 of 32 files" in str(skipped["."]["reason"])  # main.py and .gitignore scanned
    assert gate.exit_code(run.report) == gate.EXIT_INCOMPLETE


def test_a_few_ignored_files_are_listed_and_the_run_stands(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("*.log\n")
    for i in range(12):
        (tmp_path / f"m{i}.py").write_text("x = 1\n")
    (tmp_path / "debug.log").write_text("noise\n")
    run = scan(tmp_path, only(default_config(SCANNER_NAMES), "bandit"))
    skipped = _skipped(run)
    assert skipped["debug.log"]["category"] == "gitignored"
    assert "." not in skipped
    assert gate.exit_code(run.report) == gate.EXIT_PASS


def test_skipped_folders_binaries_and_submodules_are_listed_with_counts(tmp_path: Path) -> None:
    sub = tmp_path / "lib-repo"
    sub.mkdir()
    _git(sub, "init", "-q")
    (sub / "x.py").write_text("x = 1\n")
    _git(sub, "add", "-A")
    _git(sub, "commit", "-qm", "lib")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "app.py").write_text("x = 1\n")
    for folder, n in (("vendor/acme", 3), ("third_party", 2), ("web/node_modules/left-pad", 4)):
        (repo / folder).mkdir(parents=True)
        for i in range(n):
            (repo / folder / f"f{i}.py").write_text("import pickle\n")
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    _git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "libs/lib")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "init")
    run = scan(repo, only(default_config(SCANNER_NAMES), "bandit"))
    skipped = _skipped(run)
    assert (skipped["vendor"]["category"], skipped["vendor"]["files"]) == ("skipped-folder", 3)
    assert "vendored third-party code" in str(skipped["vendor"]["reason"])
    assert skipped["third_party"]["files"] == 2
    assert skipped["web/node_modules"]["files"] == 4
    assert skipped["logo.png"]["category"] == "binary"
    assert skipped["libs/lib"]["category"] == "submodule"
    by_reason = to_dict(run.report)["inventory"]["by_reason"]
    assert by_reason["skipped-folder"] == {
        "label": "dependency, vendored or tool folder",
        "paths": 3,
        "files": 9,
    }
    assert gate.exit_code(run.report) == gate.EXIT_PASS


def test_skipped_folders_are_listed_without_git_too(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "a.py").write_text("x = 1\n")
    (tmp_path / "vendor" / "b.py").write_text("x = 1\n")
    inv = discover(tmp_path, run_tool)
    entry = next(s for s in inv.skipped if s.path == "vendor")
    assert (entry.category, entry.files) == ("skipped-folder", 2)


def test_a_malformed_kubernetes_manifest_is_not_assessed(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(POD.format(name="good"))
    (tmp_path / "bad.yaml").write_text(POD.format(name="bad").replace("name: c", "name: [c"))
    run = scan(tmp_path, only(default_config(SCANNER_NAMES), "checkov"))
    ck = next(r for r in run.report.results if r.scanner == "checkov")
    assert ck.status is Status.OK, ck.errors
    reasons = {n.item: n.reason for n in ck.not_assessed}
    assert "not valid YAML" in reasons["bad.yaml"] and "checkov skipped it" in reasons["bad.yaml"]
    assert "good.yaml" not in reasons
    assert {f.location.path for f in ck.findings} == {"good.yaml"}
    assert gate.exit_code(run.report) == gate.EXIT_INCOMPLETE


def test_a_3_mb_kubernetes_manifest_reaches_checkov(tmp_path: Path) -> None:
    filler = "".join(
        f'---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\ndata:\n  k: "{"x" * 900}"\n'
        for i in range(3300)
    )
    (tmp_path / "cluster.yaml").write_text(POD.format(name="big") + filler)
    assert (tmp_path / "cluster.yaml").stat().st_size > 3_000_000
    run = scan(tmp_path, only(default_config(SCANNER_NAMES), "checkov"))
    ck = next(r for r in run.report.results if r.scanner == "checkov")
    assert ck.status is Status.OK, (ck.status, ck.reason, ck.errors)
    assert "CKV_K8S_16" in {f.rule_id for f in ck.findings}  # privileged container
    assert "kubernetes" in run.report.frameworks
