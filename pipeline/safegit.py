"""git on a hostile target: nothing in its `.git` (or anyone's config) runs a program.

The target's `.git/config` is written by whoever wrote the pull request (an
extracted archive, a cached workspace). git reads it on every call, and some of
its keys name programs git runs: `core.fsmonitor` (on `status`, `ls-files`),
filter drivers' `clean`/`process` (when `status` refreshes the index), hooks
(`post-index-change` when the index is written), a pager. Every call here:

- overrides those keys on the command line (`-c` wins over every config file),
  including every `filter.<driver>.*` the repository defines;
- reads no system or global configuration (`GIT_CONFIG_NOSYSTEM`, an empty
  `GIT_CONFIG_GLOBAL`), takes no `GIT_*` variable from the caller, never prompts,
  and never writes the index (`GIT_OPTIONAL_LOCKS=0`);
- trusts the target whoever owns it (`safe.directory=*`): git's ownership check
  protects against exactly the programs above, which are disabled here, and a CI
  checkout is often owned by another user. This is a decision: see
  docs/architecture.md, "Threat model".
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline.runner import Runner, ToolRun, tool_environment

SAFE_CONFIG = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.untrackedCache=false",
    "core.pager=cat",
    "core.askPass=",
    "credential.helper=",
    "protocol.allow=never",
    "safe.directory=*",
)


def environment(environ: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in tool_environment(environ).items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_PAGER": "cat",
            "GIT_ATTR_NOSYSTEM": "1",
        }
    )
    return env


def _argv(extra: Sequence[str], args: Sequence[str]) -> list[str]:
    argv = ["git", "--no-pager"]
    for item in (*SAFE_CONFIG, *extra):
        argv += ["-c", item]
    return [*argv, *args]


def filter_overrides(root: Path, runner: Runner, environ: Mapping[str, str]) -> tuple[str, ...]:
    """`-c` values that neutralise every filter driver the repository's config defines."""
    done = runner(
        _argv((), ["config", "--name-only", "--get-regexp", r"^filter\."]),
        root,
        environment(environ),
        30,
    )
    drivers = sorted(
        {
            line.strip()[len("filter.") :].rpartition(".")[0]
            for line in done.stdout.splitlines()
            if line.strip()
        }
    )
    out: list[str] = []
    for d in drivers:
        if d:
            out += [
                f"filter.{d}.clean=",
                f"filter.{d}.smudge=",
                f"filter.{d}.process=",
                f"filter.{d}.required=false",
            ]
    return tuple(out)


class Git:
    """Runs git in one target, safely; `run()` returns the ToolRun (errors are values)."""

    def __init__(self, root: Path, runner: Runner, environ: Mapping[str, str]) -> None:
        self.root = root
        self.runner = runner
        self.env = environment(environ)
        self._filters: tuple[str, ...] | None = None

    def run(self, *args: str, timeout: float = 60, refreshes_index: bool = False) -> ToolRun:
        extra: tuple[str, ...] = ()
        if refreshes_index:
            if self._filters is None:
                self._filters = filter_overrides(self.root, self.runner, self.env)
            extra = self._filters
        return self.runner(_argv(extra, args), self.root, self.env, timeout)

    def out(self, *args: str, refreshes_index: bool = False) -> str | None:
        done = self.run(*args, refreshes_index=refreshes_index)
        return done.stdout.strip() if done.returncode == 0 else None
