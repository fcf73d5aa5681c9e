"""CVSS v2, v3.0, v3.1 and v4.0 base scores and ratings, computed by the `cvss` package.

A vector says which version it is: `CVSS:4.0/…`, `CVSS:3.1/…`, `CVSS:3.0/…`, or no
prefix for v2 (as OSV and NVD write v2 vectors). Whatever cannot be scored (malformed,
a metric missing, an unknown version) gives None: the caller falls back to its next
source of severity.

Ratings: v4.0 and v3.x have qualitative ratings in their specifications (None 0.0,
Low 0.1-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0). v2 has none; NVD's v2
ranges are used (Low 0.0-3.9, Medium 4.0-6.9, High 7.0-10.0), and the source says so.
"""

from __future__ import annotations

from dataclasses import dataclass

# The package ships no type information (no py.typed): its objects are Any here and
# every value taken from them is converted to a typed one before it leaves this module.
from cvss import CVSS2, CVSS3, CVSS4, CVSSError  # type: ignore[import-untyped]

VERSIONS = ("4.0", "3.1", "3.0", "2.0")
"""Every version scored, newest (preferred) first."""

_V4_BASE = ("AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA")

# The package raises CVSSError (and subclasses) for every bad vector found by fuzzing;
# the lookup/arithmetic errors are caught too so that no vector string can ever raise.
_FAILURES = (CVSSError, LookupError, ValueError, ArithmeticError)


@dataclass(frozen=True)
class CvssScore:
    version: str
    """"4.0", "3.1", "3.0" or "2.0"."""
    base: float
    rating: str
    """"None", "Low", "Medium", "High" or "Critical" (v2: NVD's Low/Medium/High)."""

    @property
    def source(self) -> str:
        """Where a severity comes from, for people: "CVSS:3.1 base 7.5"."""
        text = f"CVSS:{self.version} base {self.base:.1f}"
        return f"{text} (NVD v2 ranges)" if self.version == "2.0" else text


def _v4(vector: str) -> CvssScore:
    CVSS4(vector)  # the whole vector must be valid
    # The CVSS-B score: threat and environmental metrics would make it CVSS-BT/BE/BTE.
    fields = [f for f in vector.split("/")[1:] if f.partition(":")[0] in _V4_BASE]
    base = CVSS4("CVSS:4.0/" + "/".join(fields))
    return CvssScore("4.0", float(base.base_score), str(base.severity))


def _v3(vector: str) -> CvssScore:
    parsed = CVSS3(vector)
    return CvssScore(f"3.{int(parsed.minor_version)}", float(parsed.base_score), str(parsed.severities()[0]))


def _v2(vector: str) -> CvssScore:
    parsed = CVSS2(vector)
    return CvssScore("2.0", float(parsed.base_score), str(parsed.severities()[0]))


def score(vector: str) -> CvssScore | None:
    """The base score and rating of a CVSS v2/v3.0/v3.1/v4.0 vector, or None."""
    text = vector.strip()
    if not text:
        return None
    try:
        if text.startswith("CVSS:4.0/"):
            return _v4(text)
        if text.startswith(("CVSS:3.0/", "CVSS:3.1/")):
            return _v3(text)
        if text.startswith("CVSS:"):
            return None  # a version this module does not know
        return _v2(text)
    except _FAILURES:
        return None
