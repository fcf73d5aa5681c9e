"""The change a diff scan covers: `scan --changed-since REF` (pull requests).

The files that differ between the commit REF names and the working tree (`git diff
REF`: committed, staged and unstaged changes alike), plus untracked files git does not
ignore; deleted files are gone and not scanned. REF is the operator's (a pull request's
base commit: the Action passes `github.event.pull_request.base.sha`). Everything runs
through `safegit` (no program of the target's `.git` runs; filter drivers neutralised,
no external diff or textconv), paths are relative to the scanned folder.

What a diff scan assesses (see docs/architecture.md, "Diff scans"):
- detect-secrets and bandit: the changed files only;
- pip-audit: the dependency manifests that changed;
- checkov: the Terraform root module (its folder) of every changed `.tf`/`.tfvars` file
  and every other changed IaC file; checkov still reads the whole target, so graph
  checks see every module, but only findings in that scope are reported;
- findings outside the scope are not reported; the evidence says the scan is partial;
  no control is PASS (what the change does not touch was not assessed): NOT_ASSESSED.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from pipeline.model import ChangeScope
from pipeline.runner import Runner
from pipeline.safegit import Git

_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/@{}~^-]{0,199}$")
"""A commit, branch, tag or `HEAD~1`: never an option, never a path with `..`."""
TERRAFORM = (".tf", ".tfvars", ".tf.json")


def modules_of(files: Iterable[str]) -> frozenset[str]:
    """The Terraform root modules (folders) of the changed Terraform files."""
    return frozenset(str(PurePosixPath(f).parent) for f in files if f.lower().endswith(TERRAFORM))


def module_files(root: Path, runner: Runner, environ: Mapping[str, str], modules: Iterable[str]) -> list[str]:
    """Every Terraform file git lists (tracked, or untracked and not ignored) directly in
    each root module folder: a changed module is assessed whole."""
    folders = sorted(set(modules))
    if not folders:
        return []
    git = Git(root, runner, environ)
    pathspecs = [f"{m}/" if m != "." else "." for m in folders]
    done = git.run(
        "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *pathspecs, timeout=120
    )
    if done.returncode != 0:
        return []
    wanted = set(folders)
    return sorted(
        p
        for p in done.stdout.split("\0")
        if p and p.lower().endswith(TERRAFORM) and str(PurePosixPath(p).parent) in wanted
    )


def changed_files(root: Path, runner: Runner, environ: Mapping[str, str], ref: str) -> ChangeScope:
    """List the change since REF with git, safely; errors are values."""
    if not _REF.fullmatch(ref) or ".." in ref:
        return ChangeScope(ref, error=f"--changed-since {ref!r} is not a commit, branch or tag name")
    git = Git(root, runner, environ)
    base = git.out("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if not base:
        return ChangeScope(
            ref,
            error=f"--changed-since {ref}: no such commit in this repository "
            "(a shallow clone? fetch it, e.g. actions/checkout with fetch-depth: 0)",
        )
    diff = git.run(
        "diff",
        "--name-only",
        "-z",
        "--no-renames",
        "--no-ext-diff",
        "--no-textconv",
        "--relative",
        "--diff-filter=d",
        base,
        "--",
        timeout=120,
        refreshes_index=True,
    )
    untracked = git.run("ls-files", "-z", "--others", "--exclude-standard", timeout=120)
    if diff.returncode != 0 or untracked.returncode != 0:
        why = (diff.stderr or untracked.stderr).strip().splitlines()[-1:] or ["git failed"]
        return ChangeScope(ref, base, error=f"--changed-since {ref}: cannot list the change: {why[0][:200]}")
    names = {p for p in (diff.stdout + "\0" + untracked.stdout).split("\0") if p}
    existing = tuple(sorted(p for p in names if (root / p).is_file() and not (root / p).is_symlink()))
    return ChangeScope(ref, base, existing)
