"""Baseline, waivers and inline suppressions: suppressed findings stay, with their reason.

- Inline suppressions come from the tools' own markers (`# nosec`, `checkov:skip`,
  `pragma: allowlist secret`); the parsers record them, and config can refuse them.
- Waivers (compliance-waivers.yaml) match by fingerprint, or by rule plus path glob;
  `reason`, `owner` and `expires` are required, `approved_by` optional, and no waiver
  may run longer than `waiver-max-days` from today. An expired waiver's finding is
  active again; expired and unmatched waivers are reported.
- A baseline is accepted risk on record: the fingerprints of the accepted findings (no
  line numbers, no secret values, sorted) with who accepted them, when, why, who owns
  the risk and when it must be reviewed. With one, only new findings block the gate; the
  accepted ones stay open ("accepted") and still fail their controls. Past its review
  date the baseline lapses: its findings are active again. A version-1 baseline (no
  record) still applies and is reported as accepted without a record.
- A waiver or baseline without `approved_by` is reported (the notes), not refused.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline import listfile
from pipeline.config import ConfigError
from pipeline.model import Finding, ScanResult, Suppression

BASELINE_VERSION = 2
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
    waivers = []
    for raw, line in listfile.entries(path, "waivers", "a waiver", WAIVER_KEYS):
        at = f"{path.name}:{line}"
        for key in ("reason", "owner", "expires"):
            if not str(raw.get(key) or "").strip():
                raise ConfigError(f"{at}: waiver without {key!r} (reason, owner and expires are required)")
        has_fp = bool(raw.get("fingerprint"))
        if has_fp == bool(raw.get("rule")):
            raise ConfigError(f"{at}: give either 'fingerprint', or 'rule' with a 'path' glob")
        if raw.get("rule") and not raw.get("path"):
            raise ConfigError(f"{at}: a waiver by rule needs a 'path' glob")
        expires = listfile.date(raw["expires"], at, "expires")
        if (expires - today).days > max_days:
            raise ConfigError(f"{at}: expires {expires} is more than {max_days} days away (waiver-max-days)")
        waivers.append(
            Waiver(
                reason=str(raw["reason"]).strip(),
                owner=str(raw["owner"]).strip(),
                expires=expires,
                line=line,
                source=path.name,
                fingerprint=str(raw["fingerprint"]) if has_fp else None,
                rule=str(raw["rule"]) if raw.get("rule") else None,
                path=str(raw["path"]) if raw.get("path") else None,
                approved_by=str(raw["approved_by"]) if raw.get("approved_by") else None,
            )
        )
    return tuple(waivers)


@dataclass(frozen=True)
class Baseline:
    """Accepted risk: the findings accepted, and the record of who accepted them and why."""

    fingerprints: frozenset[str]
    source: str
    """The baseline file's name."""
    owner: str | None = None
    reason: str | None = None
    created_at: str | None = None
    created_by: str | None = None
    review_by: dt.date | None = None
    approved_by: str | None = None

    @property
    def recorded(self) -> bool:
        """Whether it says who owns the risk and why (a version-1 file does not)."""
        return bool(self.owner and self.reason)


NO_BASELINE = Baseline(frozenset(), "")


def load_baseline(path: Path, today: dt.date, max_days: int) -> Baseline:
    """Parse a baseline; its review date, like a waiver's expiry, may be at most
    `waiver-max-days` away (ConfigError otherwise). A symbolic link is refused, as for
    the waivers file: it could name a file outside the scanned folder."""
    if path.is_symlink():
        raise ConfigError(f"baseline {path.name}: a symbolic link, not read")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        fingerprints = frozenset(str(e["fingerprint"]) for e in data["findings"])
        record = data.get("accepted") or {}
        if not isinstance(record, dict):
            raise TypeError("'accepted' is not an object")
    except FileNotFoundError:
        raise ConfigError(f"baseline {path}: no such file (create one with `baseline create`)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"baseline {path}: not UTF-8 text") from None
    except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"baseline {path}: not a baseline file ({exc})") from None
    review = record.get("review_by")
    try:
        review_by = dt.date.fromisoformat(str(review)) if review else None
    except ValueError:
        raise ConfigError(f"baseline {path}: review_by {review!r} is not a YYYY-MM-DD date") from None
    if data.get("version", 1) >= 2 and not (record.get("owner") and record.get("reason") and review_by):
        raise ConfigError(f"baseline {path}: 'accepted' needs owner, reason and review_by")
    if review_by is not None and (review_by - today).days > max_days:
        raise ConfigError(
            f"baseline {path}: review_by {review_by} is more than {max_days} days away (waiver-max-days)"
        )

    def text(key: str) -> str | None:
        value = record.get(key)
        return str(value).strip() or None if value is not None else None

    return Baseline(
        fingerprints,
        path.name,
        owner=text("owner"),
        reason=text("reason"),
        created_at=text("created_at"),
        created_by=text("created_by"),
        review_by=review_by,
        approved_by=text("approved_by"),
    )


def baseline_text(
    findings: Iterable[Finding],
    *,
    owner: str,
    reason: str,
    created_at: str,
    created_by: str,
    review_by: dt.date,
    approved_by: str | None = None,
) -> str:
    """Stable, diffable, no line numbers and no secret values; with the acceptance record."""
    entries = sorted(
        {(f.fingerprint, f.tool, f.rule_id, f.location.path, f.severity.value) for f in findings},
        key=lambda e: (e[2], e[3], e[0]),
    )
    doc = {
        "version": BASELINE_VERSION,
        "accepted": {
            "owner": owner,
            "reason": reason,
            "created_at": created_at,
            "created_by": created_by,
            "review_by": review_by.isoformat(),
            "approved_by": approved_by,
        },
        "findings": [
            {"fingerprint": fp, "tool": t, "rule": r, "path": p, "severity": sev}
            for fp, t, r, p, sev in entries
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def apply(
    results: Iterable[ScanResult],
    waivers: tuple[Waiver, ...],
    baseline: Baseline,
    today: dt.date,
    allow_inline: bool = True,
) -> tuple[tuple[ScanResult, ...], tuple[str, ...]]:
    """Mark suppressed findings; return the results and notes for the evidence."""
    notes: list[str] = []
    used: set[int] = set()
    refused = 0
    accepted = 0
    lapsed = baseline.review_by is not None and baseline.review_by < today

    def decide(f: Finding) -> Finding:
        nonlocal refused, accepted
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
        if lapsed or not _identities(f) & baseline.fingerprints:
            return f
        accepted += 1
        return replace(
            f,
            suppression=Suppression(
                "baseline",
                baseline.reason or "accepted in a baseline without a recorded reason",
                baseline.owner,
                baseline.review_by.isoformat() if baseline.review_by else None,
                baseline.approved_by,
                baseline.source,
            ),
        )

    out = tuple(replace(r, findings=tuple(decide(f) for f in r.findings)) for r in results)
    for i, w in enumerate(waivers):
        if w.expires < today:
            notes.append(f"expired waiver {w.describe()} (expired {w.expires}, owner {w.owner})")
        elif i not in used:
            notes.append(f"waiver matches nothing: {w.describe()}")
        if w.expires >= today and not w.approved_by:
            notes.append(f"waiver without an approver: {w.describe()} (owner {w.owner})")
    if refused:
        notes.append(f"{refused} inline suppressions refused (allow-inline-suppressions = false)")
    if baseline.fingerprints:
        if lapsed:
            notes.append(
                f"baseline {baseline.source} lapsed: its review date {baseline.review_by} has passed; "
                f"its {len(baseline.fingerprints)} findings are active again (review it and create a new one)"
            )
        elif not baseline.recorded:
            notes.append(
                f"baseline {baseline.source} accepts {accepted} findings without an owner, reason or review "
                "date on record (version 1): recreate it with `baseline create --owner --reason`"
            )
        elif not baseline.approved_by:
            notes.append(f"baseline {baseline.source} ({accepted} accepted findings) has no approver")
    return out, tuple(notes)
