"""Threshold → verdict and exit code.

Exit codes: 0 nothing at or above the threshold; 1 findings at or above it;
2 incomplete (a scanner failed, timed out or is missing, or something in scope
was not assessed; unless fail-on-incomplete is off); 3 usage or configuration
error (raised before a run). Only active findings count: waived, baselined and
inline-suppressed findings stay in the evidence but never block.
Incomplete wins over findings: an incomplete run's findings are a lower bound.
"""

from __future__ import annotations

import enum

from pipeline.model import Finding, RunReport, Severity

EXIT_PASS = 0
EXIT_FINDINGS = 1
EXIT_INCOMPLETE = 2
EXIT_USAGE = 3


class Verdict(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    INCOMPLETE = "incomplete"


def blocking(report: RunReport, threshold: Severity | None = None) -> tuple[Finding, ...]:
    """Active findings at or above the threshold: suppressed ones never block."""
    limit = report.threshold if threshold is None else threshold
    return tuple(f for f in report.active_findings if f.severity >= limit)


def verdict(report: RunReport) -> Verdict:
    if report.interrupted is not None:
        return Verdict.INCOMPLETE  # a run that stopped early never passes, whatever the settings
    if report.incomplete and report.fail_on_incomplete:
        return Verdict.INCOMPLETE
    return Verdict.FAIL if blocking(report) else Verdict.PASS


def exit_code(report: RunReport) -> int:
    return {
        Verdict.PASS: EXIT_PASS,
        Verdict.FAIL: EXIT_FINDINGS,
        Verdict.INCOMPLETE: EXIT_INCOMPLETE,
    }[verdict(report)]
