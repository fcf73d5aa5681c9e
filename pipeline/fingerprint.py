"""Stable finding identities that survive line moves.

A fingerprint is a hash of the tool, the rule, the path and a content key (the
secret's hash, the normalised code line, the IaC resource address or the
package). Line numbers are never part of it. When two findings share every
part (the same rule on two identical lines of one file), `disambiguate`
appends an occurrence number in line order, so two different findings never
share a fingerprint.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import replace

from pipeline.model import Finding

_WS = re.compile(r"\s+")


def normalise_code(line: str) -> str:
    """Whitespace-insensitive form of a code line, so re-indenting keeps the identity."""
    return _WS.sub(" ", line).strip()


def fingerprint(tool: str, rule_id: str, path: str, content_key: str) -> str:
    material = "\0".join((tool, rule_id, path, content_key))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def disambiguate(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Give repeated fingerprints an occurrence suffix (`:2`, `:3`…) in line order."""
    ordered = sorted(
        findings,
        key=lambda f: (f.fingerprint, f.location.start_line or 0, f.location.resource or ""),
    )
    seen: dict[str, int] = {}
    out: list[Finding] = []
    for f in ordered:
        n = seen.get(f.fingerprint, 0) + 1
        seen[f.fingerprint] = n
        out.append(f if n == 1 else replace(f, fingerprint=f"{f.fingerprint}:{n}"))
    return tuple(out)
