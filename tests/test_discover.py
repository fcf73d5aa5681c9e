"""Discovery: inventory, ignores, frameworks, and hostile trees."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pipeline import runner
from pipeline.discover import discover, excluded


def test_frameworks_and_skipped_folders(tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text('resource "x" "y" {}\n')
    (tmp_path / "cfn.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n")
    (tmp_path / "pod.yml").write_text("apiVersion: v1\nkind: Pod\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    for skipped in ("node_modules/x", ".venv/lib", "vendor/y", "myenv"):
        (tmp_path / skipped).mkdir(parents=True)
        (tmp_path / skipped / "a.py").write_text("x = 1\n")
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "myenv" / "bin").mkdir()
    (tmp_path / "myenv" / "bin" / "python").write_text("")  # a virtualenv's layout, not only its marker
    inv = discover(tmp_path, runner.run)
    assert dict(inv.iac) == {
        "cloudformation": ("cfn.yaml",),
        "dockerfile": ("Dockerfile",),
        "github_actions": (".github/workflows/ci.yml",),
        "kubernetes": ("pod.yml",),
        "terraform": ("infra/main.tf",),
    }
    assert inv.python_files == ()
    assert not inv.git


def test_gitignore_is_honoured_in_a_git_repository(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text("build/\n*.log\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "gen.py").write_text("x = 1\n")
    (tmp_path / "app.log").write_text("log\n")
    (tmp_path / "main.py").write_text("x = 1\n")
    (tmp_path / "env" / "lib").mkdir(parents=True)
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "env" / "bin").mkdir()
    (tmp_path / "env" / "bin" / "python").write_text("")
    (tmp_path / "env" / "lib" / "site.py").write_text("x = 1\n")
    inv = discover(tmp_path, runner.run)
    assert inv.git
    assert sorted(f.path for f in inv.files) == [".gitignore", "main.py"]


def test_excludes_match_paths_and_parents() -> None:
    assert excluded("docs/a/b.md", ("docs",))
    assert excluded("docs/a/b.md", ("docs/*",))
    assert excluded("x/y.min.js", ("*.min.js",))
    assert not excluded("src/docs.py", ("docs",))


def test_hostile_tree(tmp_path: Path) -> None:
    (tmp_path / "outside").symlink_to("/etc")
    (tmp_path / "passwd-link").symlink_to("/etc/passwd")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    (tmp_path / "bin.dat").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9\n")
    (tmp_path / "<script>alert('x') x.py").write_text("x = 1\n")
    (tmp_path / "empty").mkdir()
    big = tmp_path / "big.log"
    with open(big, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    with open(big, "r+b") as fh:
        fh.write(b"text, not binary\n" * 1000)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    inv = discover(tmp_path, runner.run, max_file_size=2 * 1024 * 1024)
    files = {f.path: f for f in inv.files}
    skipped = {s.path: s.reason for s in inv.skipped}
    for link in ("outside", "passwd-link", "loop", "a", "b"):
        assert "symbolic link" in skipped[link]
    assert "not a regular file" in skipped["pipe"]
    assert "binary content" in skipped["bin.dat"] and "bin.dat" not in files
    assert not files["latin.txt"].utf8
    assert files["<script>alert('x') x.py"].utf8
    assert files["big.log"].oversized
