"""Small pure pieces: masking, fingerprints, gate, runner."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from pipeline import fingerprint as fp
from pipeline import gate, redact, runner
from pipeline.model import Finding, Location, RunReport, ScanResult, Severity, Status


def test_mask_never_reveals_length_or_body() -> None:
    assert redact.mask("hunter2") == "*****"
    assert redact.mask("ghp_0123456789abcdefghij") == "gh*****"


def test_mask_line_hides_quoted_secrets_and_high_entropy_tokens() -> None:
    assert redact.mask_line('password = "hunter2"') == 'password = "*****"'
    assert "wJalrXUtnFEMI" not in redact.mask_line("key wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY")
    assert redact.mask_line('open("/etc/hosts")') == 'open("/etc/hosts")'


def test_find_hashed_recovers_the_secret_span() -> None:
    line = 'TOKEN = "s3cr3t-Value_123"  # comment'
    assert redact.find_hashed(line, hashlib.sha1(b"s3cr3t-Value_123").hexdigest()) == "s3cr3t-Value_123"
    assert redact.find_hashed(line, "0" * 40) is None


def test_scrubber_replaces_known_values_everywhere() -> None:
    s = redact.Scrubber(["topsecretvalue1"])
    assert s.data({"a": ["x topsecretvalue1 y"], "b": 1}) == {"a": ["x to***** y"], "b": 1}


def _finding(line: int, fpr: str = "f", sev: Severity = Severity.HIGH) -> Finding:
    return Finding("bandit", "B1", "t", sev, Location("a.py", line), fpr)


def test_fingerprints_exclude_lines_and_disambiguate_repeats() -> None:
    a = fp.fingerprint("bandit", "B602", "a.py", fp.normalise_code("  call(x,  shell=True)"))
    b = fp.fingerprint("bandit", "B602", "a.py", fp.normalise_code("call(x, shell=True)"))
    assert a == b and a != fp.fingerprint("bandit", "B602", "b.py", "call(x, shell=True)")
    out = fp.disambiguate([_finding(9), _finding(3)])
    assert [(f.location.start_line, f.fingerprint) for f in out] == [(3, "f"), (9, "f:2")]


def _report(results: tuple[ScanResult, ...], threshold: Severity = Severity.HIGH) -> RunReport:
    return RunReport("t", "s", "e", "0", "d", threshold, results)


def test_gate_exit_codes() -> None:
    ok = ScanResult("bandit", Status.OK, findings=(_finding(1, sev=Severity.MEDIUM),))
    assert gate.exit_code(_report((ok,))) == 0
    assert gate.exit_code(_report((ok,), Severity.MEDIUM)) == 1
    failed = ScanResult("checkov", Status.FAILED, errors=("boom",))
    assert gate.exit_code(_report((ok, failed))) == 2
    from pipeline.model import NotAssessed

    partial = ScanResult("pip-audit", Status.OK, not_assessed=(NotAssessed("pip-audit", "x", "y"),))
    assert gate.exit_code(_report((ok, partial))) == 2
    assert gate.verdict(_report((partial,))) is gate.Verdict.INCOMPLETE


def test_runner_reports_missing_executable_and_timeout(tmp_path: Path) -> None:
    missing = runner.run(["/nonexistent/tool"], tmp_path, {}, 5)
    assert missing.returncode is None and missing.start_error
    slow = runner.run([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, {}, 0.5)
    assert slow.timed_out and slow.returncode is None
