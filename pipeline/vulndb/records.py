"""One OSV record → a normalised PyPI advisory, and the JSON served to pip-audit.

Pure: a raw dict in, an Advisory (or the reason it was skipped) out. The
served JSON is what api.osv.dev would answer, made safe for pip-audit:
canonical (PEP 503) package names, timestamps as `%Y-%m-%dT%H:%M:%SZ` (pip-audit
crashes on `+00:00`), and no event version pip-audit could not parse.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.version import Version

from pipeline.model import Severity
from pipeline.vulndb.cvss import VERSIONS, CvssScore, score
from pipeline.vulndb.ranges import Affected, Interval, intervals_from_events, parse_version

RANGE_TYPES = ("ECOSYSTEM", "SEMVER")
IGNORED_RANGE_TYPES = ("GIT",)
_SEVERITY_WORDS = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
}
CVSS_TYPES = ("CVSS_V4", "CVSS_V3", "CVSS_V2")
_RATINGS = {
    "Critical": Severity.CRITICAL,
    "High": Severity.HIGH,
    "Medium": Severity.MEDIUM,
    "Low": Severity.LOW,
    "None": Severity.INFO,
}


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    modified: str
    packages: Mapping[str, Affected]
    severity: Severity | None
    served: Mapping[str, Any]
    warnings: tuple[str, ...] = field(default=())
    severity_source: str | None = None
    """Where `severity` comes from ("CVSS:3.1 base 7.5", "GitHub severity HIGH"); None without one."""


def timestamp(value: object) -> str | None:
    """An RFC 3339 timestamp in the one form pip-audit parses (UTC, trailing Z)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.strftime(fmt)


@dataclass(frozen=True)
class Rated:
    """A record's severity and where it comes from ("CVSS:4.0 base 9.3", "GitHub severity HIGH")."""

    severity: Severity
    source: str


def _from_vectors(entries: object) -> tuple[Rated | None, list[str]]:
    """The newest CVSS version's vector (4.0 > 3.1 > 3.0 > 2.0); of one version, the highest base."""
    scores: list[CvssScore] = []
    problems: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        kind = str(entry.get("type", "")) if isinstance(entry, Mapping) else ""
        if kind not in CVSS_TYPES:
            continue  # another kind of severity (e.g. "Ubuntu"), not a CVSS vector
        vector = entry.get("score")
        found = score(vector) if isinstance(vector, str) else None
        if found is None:
            problems.append(f"{kind} vector {vector!r:.120} cannot be scored: ignored")
        else:
            scores.append(found)
    if not scores:
        return None, problems
    best = min(scores, key=lambda s: (VERSIONS.index(s.version), -s.base))
    return Rated(_RATINGS[best.rating], best.source), problems


def severity_of(record: Mapping[str, Any]) -> tuple[Rated | None, list[str]]:
    """(severity and its source, or None; the record's unusable vectors).

    From the CVSS vectors, else `database_specific.severity`; None when neither gives one
    (then the policy default applies).
    """
    rated, problems = _from_vectors(record.get("severity"))
    if rated is not None:
        return rated, problems
    specific = record.get("database_specific")
    if isinstance(specific, Mapping):
        word = str(specific.get("severity", "")).upper()
        if word in _SEVERITY_WORDS:
            who = (
                "GitHub severity"
                if str(record.get("id", "")).startswith("GHSA-")
                else "database_specific.severity"
            )
            return Rated(_SEVERITY_WORDS[word], f"{who} {word}"), problems
    return None, problems


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return timestamp(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _valid_event(event: Any) -> bool:
    if not isinstance(event, Mapping) or len(event) != 1:
        return False
    ((kind, raw),) = event.items()
    if kind == "introduced" and str(raw) == "0":
        return True
    if kind == "limit" and str(raw) == "*":
        return True
    return parse_version(raw) is not None


def normalise(raw: Any) -> tuple[Advisory | None, str | None]:
    """(advisory, None), or (None, why it is skipped). Warnings ride on the advisory."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
        return None, "not an OSV record (no id)"
    vid = raw["id"]
    if raw.get("withdrawn"):
        return None, "withdrawn"
    warnings: list[str] = []
    packages: dict[str, Affected] = {}
    served_affected: list[dict[str, Any]] = []
    for affected in raw.get("affected") or []:
        pkg = affected.get("package") if isinstance(affected, Mapping) else None
        if not isinstance(pkg, Mapping) or pkg.get("ecosystem") != "PyPI" or not pkg.get("name"):
            continue
        name = canonical_name(str(pkg["name"]))
        intervals: list[Interval] = []
        served_ranges: list[dict[str, Any]] = []
        for rng in affected.get("ranges") or []:
            kind = rng.get("type") if isinstance(rng, Mapping) else None
            if kind in IGNORED_RANGE_TYPES:
                served_ranges.append(_jsonable(rng))
                continue
            if kind not in RANGE_TYPES:
                warnings.append(f"{vid}: unknown range type {kind!r} ignored")
                continue
            events = rng.get("events") or []
            found, problems = intervals_from_events(events)
            intervals.extend(found)
            warnings.extend(f"{vid}: {p}" for p in problems)
            served_ranges.append(
                {**_jsonable(rng), "events": [_jsonable(e) for e in events if _valid_event(e)]}
            )
        versions: list[Version] = []
        for text in affected.get("versions") or []:
            v = parse_version(text)
            if v is None:
                warnings.append(f"{vid}: invalid version {text!r} in versions skipped")
            else:
                versions.append(v)
        previous = packages.get(name)
        if previous is not None:
            intervals.extend(previous.intervals)
            versions.extend(previous.versions)
        packages[name] = Affected.build(intervals, versions)
        served_affected.append(
            {
                **_jsonable(affected),
                "package": {**_jsonable(pkg), "name": name},
                "ranges": served_ranges,
            }
        )
    if not packages:
        return None, "no PyPI package affected"
    modified = timestamp(raw.get("modified")) or "1970-01-01T00:00:00Z"
    served = {**_jsonable(raw), "affected": served_affected, "modified": modified}
    for key in ("published",):
        if key in raw:
            served[key] = timestamp(raw[key])
    aliases = tuple(str(a) for a in raw.get("aliases") or [] if str(a) != vid)
    rated, problems = severity_of(raw)
    warnings.extend(f"{vid}: {p}" for p in problems)
    return (
        Advisory(
            id=vid,
            aliases=aliases,
            modified=modified,
            packages=packages,
            severity=None if rated is None else rated.severity,
            served=served,
            warnings=tuple(warnings),
            severity_source=None if rated is None else rated.source,
        ),
        None,
    )
