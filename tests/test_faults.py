"""Fault injection: each scanner missing, crashing, hanging, printing garbage or truncated JSON.

The faulty scanner is a fake executable on PATH (`tools = "path"`); the
other scanner in the run is the real pinned tool, linked onto the same PATH,
so the test shows its findings survive the fault.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import DATA, copy_demo, only, scan

from pipeline import runner, toolenv
from pipeline.config import default_config
from pipeline.model import Status
from pipeline.scanners import SCANNER_NAMES, registry

pytestmark = pytest.mark.tools

CAPTURED = {
    "detect-secrets": DATA / "detect-secrets" / "detect-secrets-1.5.0-findings.json",
    "bandit": DATA / "bandit" / "bandit-1.9.4-findings.json",
    "pip-audit": DATA / "pip-audit" / "pip-audit-2.10.1-vulns.json",
    "checkov": DATA / "checkov" / "checkov-3.3.30-multi.json",
}
FAKE = {
    "crash": "import os, signal, sys\nsys.stderr.write('Fatal Python error: Segmentation fault\\n')\n"
    "os.kill(os.getpid(), signal.SIGSEGV)\n",
    "timeout": "import subprocess, sys, time\n"
    "child = subprocess.Popen(['sleep', '300'])\n"
    "open({pidfile!r}, 'w').write(str(child.pid))\ntime.sleep(300)\n",
    "garbage": "print('Traceback (most recent call last):\\n  oops, not JSON')\n",
    "truncated": "text = open({captured!r}).read()\nprint(text[: len(text) // 2])\n",
}
PARTNER = {
    "detect-secrets": "bandit",
    "bandit": "detect-secrets",
    "pip-audit": "bandit",
    "checkov": "bandit",
}
EXPECTED_REASON = {
    "missing": "not found on PATH",
    "crash": "exit code -11",
    "timeout": "timed out after 2 s",
    "garbage": "not valid JSON",
    "truncated": "not valid JSON",
}


def _real_executable(name: str) -> str:
    s = registry()[name]
    setup = toolenv.ensure(s.distribution, s.executable, runner.run, os.environ)
    assert setup.executable is not None, setup.error
    return str(setup.executable)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("fault", ["missing", "crash", "timeout", "garbage", "truncated"])
@pytest.mark.parametrize("scanner", SCANNER_NAMES)
def test_fault_is_contained(scanner: str, fault: str, tmp_path: Path, demo_config) -> None:  # type: ignore[no-untyped-def]
    target = copy_demo(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    partner = PARTNER[scanner]
    (bin_dir / registry()[partner].executable).symlink_to(_real_executable(partner))
    pidfile = tmp_path / "child.pid"
    if fault != "missing":
        script = bin_dir / registry()[scanner].executable
        body = FAKE[fault].format(pidfile=str(pidfile), captured=str(CAPTURED[scanner]))
        script.write_text(f"#!{sys.executable}\n{body}")
        script.chmod(0o755)
    git_dir = os.path.dirname(shutil.which("git") or "/usr/bin/git")
    environ = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{git_dir}"}
    cfg = only(replace(demo_config, tools="path"), scanner, partner, **{scanner.replace("-", "_"): 2.0})
    run = scan(target, cfg, environ)
    results = {r.scanner: r for r in run.report.results}
    broken, healthy = results[scanner], results[partner]
    assert broken.status is Status.FAILED
    assert any(EXPECTED_REASON[fault] in e for e in broken.errors), broken.errors
    assert broken.not_assessed, "what the failed scanner covered is NOT_ASSESSED"
    assert broken.findings == ()
    assert healthy.status is Status.OK and healthy.findings, healthy.errors
    assert run.report.incomplete
    from pipeline import gate

    assert gate.exit_code(run.report) == 2
    if fault == "timeout":
        deadline = time.monotonic() + 5
        child = int(pidfile.read_text())
        while _pid_alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _pid_alive(child), "the tool's process group was killed"


def test_all_scanners_fail_and_evidence_is_still_written(tmp_path: Path) -> None:
    import subprocess

    target = copy_demo(tmp_path)
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    git_dir = os.path.dirname(shutil.which("git") or "/usr/bin/git")
    env = {
        **os.environ,
        "PATH": f"{empty_bin}{os.pathsep}{git_dir}{os.pathsep}{os.path.dirname(sys.executable)}",
    }
    out = tmp_path / "ev"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "scan", str(target), "-o", str(out), "--tools", "path"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert (out / "findings.json").is_file()
    assert "FAILED" in done.stdout and "not found on PATH" in done.stdout
    import json

    doc = json.loads((out / "findings.json").read_text())
    assert doc["verdict"] == "incomplete"
    assert sorted(doc["summary"]["failed_scanners"]) == sorted(SCANNER_NAMES)
    assert default_config(SCANNER_NAMES).tools == "managed"


def test_ctrl_c_kills_running_tools_and_exits_promptly(tmp_path: Path) -> None:
    import signal
    import subprocess

    target = tmp_path / "t"
    target.mkdir()
    (target / "a.py").write_text("x = 1\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pidfile = tmp_path / "child.pid"
    fake = bin_dir / "bandit"
    fake.write_text(f"#!{sys.executable}\n" + FAKE["timeout"].format(pidfile=str(pidfile), captured=""))
    fake.chmod(0o755)
    git_dir = os.path.dirname(shutil.which("git") or "/usr/bin/git")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{git_dir}"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline",
            "scan",
            str(target),
            "--only",
            "bandit",
            "--tools",
            "path",
            "-o",
            str(tmp_path / "ev"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pidfile.exists(), "the fake tool started"
    proc.send_signal(signal.SIGINT)
    # The fake tool sleeps 300 s under a 600 s timeout: returning at all within 30 s
    # means the run killed it instead of waiting.
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "interrupted by SIGINT" in err
    doc = json.loads((tmp_path / "ev" / "findings.json").read_text())
    assert doc["verdict"] == "incomplete" and doc["interrupted"] == "interrupted by SIGINT"
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _pid_alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _pid_alive(child)
