"""The scanner registry: adding a scanner is one new file and one line here."""

from __future__ import annotations

from pipeline import resources
from pipeline.scanners.bandit import Bandit, load_known_tests
from pipeline.scanners.base import Scanner
from pipeline.scanners.checkov import Checkov
from pipeline.scanners.detect_secrets import DetectSecrets
from pipeline.scanners.pip_audit import PipAudit

SCANNER_NAMES = ("detect-secrets", "bandit", "pip-audit", "checkov")


def registry() -> dict[str, Scanner]:
    """The scanners, in report order."""
    known_tests = load_known_tests(resources.lock_file("bandit-tests.txt").read_text("utf-8"))
    scanners: dict[str, Scanner] = {
        "detect-secrets": DetectSecrets(),
        "bandit": Bandit(known_tests),
        "pip-audit": PipAudit(),
        "checkov": Checkov(),
    }
    assert tuple(scanners) == SCANNER_NAMES
    return scanners
