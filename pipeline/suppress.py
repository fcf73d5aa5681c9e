"""Baseline, waivers and inline suppressions: suppressed findings stay, with their reason.

- Inline suppressions come from the tools' own markers (`# nosec`, `checkov:skip`,
  `pragma: allowlist secret`); the parsers record them, and config can refuse them.
- Waivers (compliance-waivers.yaml) match by fingerprint, or by rule plus path glob;
  `reason`, `owner` and `expires` are required, `approved_by` optional, and no waiver
  may run longer than `waiver-max-days` from today. An expired waiver's finding is
  active again; expired and unmatched waivers are reported.
- A baseline is the set of fingerprints of accepted findings (no line numbers, no
  secret values, sorted): with one, only new findings count.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import ConfigError
from pipeline.model import Finding, ScanResult, Suppression

BASELINE_VERSION = 1
DEFAULT_BASELINE = ".compliance-baseline.json"
"""Where `baseline create` writes; never scanned, like detect-secrets' .secrets.baseline."""


def _identities(f: Finding) -> set[str]:
    """The fingerprints a waiver or baseline may name: with or without the occurrence
    suffix (`:2`), and the legacy one of a finding whose identity changed."""
    out = {f.fingerprint, f.fingerprint.split(":")[0]}
    if f.legacy_fingerprint:
        suffix = f.fingerprint[len(f.fingerprint.split(":")[0]) :]
        out |= {f.legacy_fingerprint, f.legacy_fingerprint + suffix}
    return out


WAIVER_KEYS = {"fingerprint", "rule", "path", "reason", "owner", "expires", "approved_by"}


@dataclass(frozen=True)
class Waiver:
    reason: str
    owner: str
    expires: dt.date
    line: int
    source: str
    fingerprint: str | None = None
    rule: str | None = None
    path: str | None = None
    approved_by: str | None = None

    def matches(self, f: Finding) -> bool:
        if self.fingerprint is not None:
            return self.fingerprint in _identities(f)
        return f.rule_id == self.rule and fnmatch.fnmatchcase(f.location.path, self.path or "*")

    def describe(self) -> str:
        what = f"fingerprint {self.fingerprint}" if self.fingerprint else f"rule {self.rule} on {self.path}"
        return f"{self.source}:{self.line} ({what})"


def load_waivers(path: Path, today: dt.date, max_days: int) -> tuple[Waiver, ...]:
    """Parse and validate the waivers file; ConfigError names the file and line."""
    if not path.is_file():
        return ()
    name = path.name
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML: {exc}") from None
    if root is None:
        return ()
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("waivers"), list):
        raise ConfigError(f"{name}:1: expected a top-level 'waivers' list")
    nodes = next(v for k, v in root.value if k.value == "waivers").value
    waivers = []
    for raw, node in zip(data["waivers"], nodes, strict=True):
        line = node.start_mark.line + 1
        at = f"{name}:{line}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{at}: a waiver must be a mapping")
        unknown = set(raw) - WAIVER_KEYS
        if unknown:
            raise ConfigError(f"{at}: unknown keys {sorted(unknown)} (allowed: {sorted(WAIVER_KEYS)})")
        for key in ("reason", "owner", "expires"):
            if not str(raw.get(key) or "").strip():
                raise ConfigError(f"{at}: waiver without {key!r} (reason, owner and expires are required)")
        has_fp = bool(raw.get("fingerprint"))
        if has_fp == bool(raw.get("rule")):
            raise ConfigError(f"{at}: give either 'fingerprint', or 'rule' with a 'path' glob")
        if raw.get("rule") and not raw.get("path"):
            raise ConfigError(f"{at}: a waiver by rule needs a 'path' glob")
        expires = raw["expires"]
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                raise ConfigError(f"{at}: expires {expires!r} is not a YYYY-MM-DD date") from None
        if not isinstance(expires, dt.date):
            raise ConfigError(f"{at}: expires must be a YYYY-MM-DD date")
        if (expires - today).days > max_days:
            raise ConfigError(f"{at}: expires {expires} is more than {max_days} days away (waiver-max-days)")
        waivers.append(
            Waiver(
                reason=str(raw["reason"]).strip(),
                owner=str(raw["owner"]).strip(),
                expires=expires,
                line=line,
                source=name,
                fingerprint=str(raw["fingerprint"]) if has_fp else None,
                rule=str(raw["rule"]) if raw.get("rule") else None,
                path=str(raw["path"]) if raw.get("path") else None,
                approved_by=str(raw["approved_by"]) if raw.get("approved_by") else None,
            )
        )
    return tuple(waivers)


def load_baseline(path: Path) -> frozenset[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return frozenset(str(e["fingerprint"]) for e in data["findings"])
    except FileNotFoundError:
        raise ConfigError(f"baseline {path}: no such file (create one with `baseline create`)") from None
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ConfigError(f"baseline {path}: not a baseline file ({exc})") from None


def baseline_text(findings: Iterable[Finding]) -> str:
    """Stable, diffable, no line numbers and no secret values."""
    entries = sorted(
        {(f.fingerprint, f.tool, f.rule_id, f.location.path) for f in findings},
        key=lambda e: (e[2], e[3], e[0]),
    )
    doc = {
        "version": BASELINE_VERSION,
        "findings": [{"fingerprint": fp, "tool": t, "rule": r, "path": p} for fp, t, r, p in entries],
    }
    return json.dumps(doc, indent=2) + "\n"


def apply(
    results: Iterable[ScanResult],
    waivers: tuple[Waiver, ...],
    baseline: frozenset[str],
    today: dt.date,
    allow_inline: bool = True,
) -> tuple[tuple[ScanResult, ...], tuple[str, ...]]:
    """Mark suppressed findings; return the results and notes for the evidence."""
    notes: list[str] = []
    used: set[int] = set()
    refused = 0

    def decide(f: Finding) -> Finding:
        nonlocal refused
        if f.suppression is not None and f.suppression.kind == "inline":
            if allow_inline:
                return f
            refused += 1
            f = replace(f, suppression=None)
        for i, w in enumerate(waivers):
            if not w.matches(f):
                continue
            used.add(i)
            if w.expires < today:
                continue  # expired: the finding is active again (reported below)
            return replace(
                f,
                suppression=Suppression(
                    "waiver", w.reason, w.owner, w.expires.isoformat(), w.approved_by, w.describe()
                ),
            )
        if _identities(f) & baseline:
            return replace(f, suppression=Suppression("baseline", "accepted in the baseline"))
        return f

    out = tuple(replace(r, findings=tuple(decide(f) for f in r.findings)) for r in results)
    for i, w in enumerate(waivers):
        if w.expires < today:
            notes.append(f"expired waiver {w.describe()} (expired {w.expires}, owner {w.owner})")
        elif i not in used:
            notes.append(f"waiver matches nothing: {w.describe()}")
    if refused:
        notes.append(f"{refused} inline suppressions refused (allow-inline-suppressions = false)")
    return out, tuple(notes)
