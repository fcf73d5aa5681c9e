"""The only subprocess wrapper: argv, cwd, env, timeout -> ToolRun.

A missing executable, a timeout or a crash are values in the returned ToolRun,
never exceptions. On timeout the whole process group is killed, so a scanner
that forks workers leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PASSTHROUGH_ENV = re.compile(
    r"^(PATH|HOME|USER|LOGNAME|LANG|LC_[A-Z]+|TZ|TMPDIR|TEMP|TMP|SYSTEMROOT|"
    r"XDG_CACHE_HOME|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|"
    r"PIP_[A-Z_]+|UV_[A-Z_]+|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy)$"
)


def tool_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """A small, predictable environment: no cloud credentials or tokens of the caller."""
    env = {k: v for k, v in environ.items() if PASSTHROUGH_ENV.match(k)}
    env.update({"PYTHONUTF8": "1", "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"})
    env.setdefault("PATH", os.defpath)
    return env


class Interrupted(BaseException):
    """The run was asked to stop (SIGTERM, SIGHUP): like KeyboardInterrupt, not an error."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


@dataclass(frozen=True)
class ToolRun:
    argv: tuple[str, ...]
    returncode: int | None
    """None when the process could not be started or was killed on timeout."""
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    start_error: str | None = None
    """Why the process could not be started (e.g. executable not found)."""


Runner = Callable[[Sequence[str], Path, Mapping[str, str], float], ToolRun]
"""The signature scanners are run through: (argv, cwd, env, timeout) -> ToolRun."""


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return


def run(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    live: Callable[[subprocess.Popen[bytes] | None, subprocess.Popen[bytes] | None], bool] | None = None,
) -> ToolRun:
    """Run argv in its own session and process group; never raises for tool failures.

    `live(added, removed)` lets a Supervisor track running processes; it returns
    False when the run is being cancelled, and the process is then killed at once.
    """
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        return ToolRun(
            argv=tuple(argv),
            returncode=None,
            stdout="",
            stderr="",
            seconds=time.monotonic() - start,
            start_error=f"{type(exc).__name__}: {exc.strerror or exc}",
        )
    if live is not None and not live(proc, None):
        _kill_group(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        timed_out = True
    finally:
        # A tool's own children must not outlive it, whatever happened.
        _kill_group(proc)
        if live is not None:
            live(None, proc)
    return ToolRun(
        argv=tuple(argv),
        returncode=None if timed_out else proc.returncode,
        stdout=out.decode("utf-8", errors="replace"),
        stderr=err.decode("utf-8", errors="replace"),
        seconds=time.monotonic() - start,
        timed_out=timed_out,
    )


class Supervisor:
    """A Runner that can cancel: `cancel()` kills every running tool's process group.

    Tools run in their own sessions, so a Ctrl-C in the terminal does not reach
    them; the CLI cancels them here instead of waiting for their timeouts.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[bytes]] = set()
        self._cancelled = False

    def _track(self, added: subprocess.Popen[bytes] | None, removed: subprocess.Popen[bytes] | None) -> bool:
        with self._lock:
            if added is not None:
                self._live.add(added)
            if removed is not None:
                self._live.discard(removed)
            return not self._cancelled

    def __call__(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float) -> ToolRun:
        return run(argv, cwd, env, timeout, live=self._track)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            procs = list(self._live)
        for proc in procs:
            _kill_group(proc)
