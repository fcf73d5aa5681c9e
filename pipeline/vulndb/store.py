"""The on-disk advisory index (SQLite): import from OSV files, query by package and version.

Records are indexed by PEP 503 name with their version ranges pre-parsed, so
a scan never re-parses thousands of YAML files. Records that share an id or
alias (a PYSEC record and the GHSA record for the same flaw) form one group:
a query answers each group once, with the union of the group's aliases, so
nothing is double-counted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import sqlite3
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.model import Severity
from pipeline.vulndb.ranges import Interval, contains, parse_version
from pipeline.vulndb.records import Advisory, canonical_name, normalise

SCHEMA_VERSION = "2"
"""2: severities from CVSS v2/v3/v4 (1 scored v3 only) and their source (`severity_source`)."""
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE advisory (
    id TEXT PRIMARY KEY, grp INTEGER NOT NULL, modified TEXT NOT NULL,
    severity INTEGER, aliases TEXT NOT NULL, record TEXT NOT NULL, severity_source TEXT
);
CREATE TABLE affected (package TEXT NOT NULL, id TEXT NOT NULL, ranges TEXT NOT NULL,
                       versions TEXT NOT NULL);
CREATE INDEX affected_package ON affected (package);
CREATE INDEX advisory_grp ON advisory (grp);
"""
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def default_path(cache_root: Path) -> Path:
    return cache_root / "vulndb" / "osv-pypi.sqlite"


class VulnDbError(Exception):
    """The advisory database is missing, unreadable or of another schema."""


@dataclass(frozen=True)
class ImportReport:
    records: int
    skipped: dict[str, int] = field(default_factory=dict)
    """Why records were left out (withdrawn, malformed, not PyPI…) → how many."""
    warnings: int = 0
    """Parts of records that were ignored (an invalid version, an unknown range type)."""
    examples: tuple[str, ...] = ()
    seconds: float = 0.0


@dataclass(frozen=True)
class DbInfo:
    path: str
    source: str
    records: int
    newest_modified: str
    digest: str
    imported_at: str

    def age_days(self, now: dt.datetime) -> float:
        newest = dt.datetime.fromisoformat(self.newest_modified.replace("Z", "+00:00"))
        return (now - newest).total_seconds() / 86400


def _documents(source: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every OSV file in a folder tree or an OSV zip export."""
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file() and path.suffix in (".yaml", ".yml", ".json"):
                yield str(path.relative_to(source)), path.read_bytes()
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as zf:
            for name in sorted(zf.namelist()):
                if name.endswith(".json"):
                    yield name, zf.read(name)
    else:
        raise VulnDbError(f"{source}: neither a folder of OSV files nor an OSV zip export")


def _load(name: str, data: bytes) -> Any:
    if name.endswith(".json"):
        return json.loads(data)
    return yaml.load(io.BytesIO(data), Loader=_LOADER)  # nosec B506 - CSafeLoader or SafeLoader


def _group(advisories: list[Advisory]) -> dict[str, int]:
    """Union-find over ids and aliases: id → group number."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for adv in advisories:
        for alias in adv.aliases:
            parent[find(alias)] = find(adv.id)
    roots: dict[str, int] = {}
    return {adv.id: roots.setdefault(find(adv.id), len(roots)) for adv in advisories}


def _ranges_json(intervals: Iterable[Interval]) -> str:
    return json.dumps(
        [
            [
                None if i.low is None else str(i.low),
                None if i.high is None else str(i.high),
                i.high_inclusive,
            ]
            for i in intervals
        ]
    )


def import_sources(sources: Iterable[Path], db_path: Path, label: str, now: dt.datetime) -> ImportReport:
    """Build the index from folders and/or zip exports; replaces db_path atomically."""
    import time

    started = time.monotonic()
    best: dict[str, Advisory] = {}
    skipped: dict[str, int] = {}
    warnings = 0
    examples: list[str] = []

    def skip(reason: str, name: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1
        if len(examples) < 20:
            examples.append(f"{name}: {reason}")

    for source in sources:
        for name, data in _documents(source):
            try:
                raw = _load(name, data)
            except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as exc:
                skip(f"unparsable {type(exc).__name__}", name)
                continue
            adv, why = normalise(raw)
            if adv is None:
                skip(why or "skipped", name)
                continue
            warnings += len(adv.warnings)
            examples.extend(adv.warnings[: max(0, 20 - len(examples))])
            old = best.get(adv.id)
            if old is None or adv.modified > old.modified:
                best[adv.id] = adv
    advisories = sorted(best.values(), key=lambda a: a.id)
    groups = _group(advisories)
    digest = hashlib.sha256()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".vulndb-", suffix=".sqlite", dir=db_path.parent)
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        con.executescript(_SCHEMA)
        for adv in advisories:
            record = json.dumps(adv.served, sort_keys=True, separators=(",", ":"))
            digest.update(record.encode())
            con.execute(
                "INSERT INTO advisory VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    adv.id,
                    groups[adv.id],
                    adv.modified,
                    None if adv.severity is None else int(adv.severity),
                    json.dumps(list(adv.aliases)),
                    record,
                    adv.severity_source,
                ),
            )
            con.executemany(
                "INSERT INTO affected VALUES (?, ?, ?, ?)",
                [
                    (
                        pkg,
                        adv.id,
                        _ranges_json(aff.intervals),
                        json.dumps([str(v) for v in aff.versions]),
                    )
                    for pkg, aff in adv.packages.items()
                ],
            )
        newest = max((a.modified for a in advisories), default="1970-01-01T00:00:00Z")
        meta = {
            "schema": SCHEMA_VERSION,
            "source": label,
            "records": str(len(advisories)),
            "newest_modified": newest,
            "digest": "sha256:" + digest.hexdigest(),
            "imported_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        con.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        con.commit()
        con.close()
        os.replace(tmp, db_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ImportReport(
        records=len(advisories),
        skipped=dict(sorted(skipped.items())),
        warnings=warnings,
        examples=tuple(examples[:20]),
        seconds=time.monotonic() - started,
    )


def _interval(row: list[Any]) -> Interval:
    low, high, inclusive = row
    return Interval(
        None if low is None else parse_version(low),
        None if high is None else parse_version(high),
        bool(inclusive),
    )


_PREFERENCE = ("PYSEC-", "GHSA-")


def _rank(vid: str) -> tuple[int, str]:
    for n, prefix in enumerate(_PREFERENCE):
        if vid.startswith(prefix):
            return n, vid
    return len(_PREFERENCE), vid


class VulnDb:
    """A read-only view of a built index; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise VulnDbError(
                f"no advisory database at {path}: build one with "
                "`compliance-pipeline vulndb update` or `vulndb import PATH`"
            )
        self.path = path
        self._local = threading.local()
        try:
            meta = dict(self._con().execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise VulnDbError(f"{path}: not an advisory database ({exc})") from None
        if meta.get("schema") != SCHEMA_VERSION:
            raise VulnDbError(
                f"{path}: advisory database of schema {meta.get('schema')!r}, this version reads "
                f"schema {SCHEMA_VERSION!r}: rebuild it with `compliance-pipeline vulndb update` "
                "or `vulndb import PATH`"
            )
        self.info = DbInfo(
            path=str(path),
            source=meta["source"],
            records=int(meta["records"]),
            newest_modified=meta["newest_modified"],
            digest=meta["digest"],
            imported_at=meta["imported_at"],
        )

    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.con = con
        return con

    def query(self, name: str, version: str) -> list[dict[str, Any]]:
        """OSV records affecting `name` at `version`: one per alias group, aliases merged."""
        v = parse_version(version)
        if v is None:
            return []
        rows = (
            self._con()
            .execute(
                "SELECT a.id, a.grp, a.aliases, a.record, f.ranges, f.versions "
                "FROM affected f JOIN advisory a ON a.id = f.id WHERE f.package = ?",
                (canonical_name(name),),
            )
            .fetchall()
        )
        groups: dict[int, list[tuple[str, list[str], str]]] = {}
        normal = str(v)  # versions are stored normalised, so equality is string equality
        for vid, grp, aliases, record, ranges, versions in rows:
            listed = normal in json.loads(versions)
            if listed or any(contains(_interval(r), v) for r in json.loads(ranges)):
                groups.setdefault(grp, []).append((vid, json.loads(aliases), record))
        out = []
        for members in groups.values():
            members.sort(key=lambda m: _rank(m[0]))
            primary_id, _, record = members[0]
            names = {x for vid, aliases, _ in members for x in (vid, *aliases)}
            doc = json.loads(record)
            doc["aliases"] = sorted(names - {primary_id})
            out.append(doc)
        return sorted(out, key=lambda d: str(d["id"]))

    def _rated(self, vid: str) -> tuple[Severity, str] | None:
        """The highest severity in the advisory's alias group, and where it comes from.

        On a tie, the source is the record asked about, then PYSEC, GHSA, others (by id).
        """
        rows = (
            self._con()
            .execute(
                "SELECT id, severity, severity_source FROM advisory WHERE severity IS NOT NULL "
                "AND grp = (SELECT grp FROM advisory WHERE id = ?)",
                (vid,),
            )
            .fetchall()
        )
        if not rows:
            return None
        rid, severity, source = min(rows, key=lambda r: (-r[1], r[0] != vid, _rank(r[0])))
        where = f"{source} (from {rid})" if rid != vid else str(source)
        return Severity(severity), where

    def severity(self, vid: str) -> Severity | None:
        """The highest severity known for the advisory's alias group (None: the policy default applies)."""
        rated = self._rated(vid)
        return None if rated is None else rated[0]

    def severity_source(self, vid: str) -> str | None:
        """Where `severity(vid)` comes from: "CVSS:4.0 base 9.3", "CVSS:3.1 base 7.5",
        "CVSS:2.0 base 5.0 (NVD v2 ranges)", "GitHub severity HIGH", with " (from ALIAS-ID)"
        when another record of the alias group gave it; None when `severity(vid)` is None
        (the policy default applies, or the id is unknown).
        """
        rated = self._rated(vid)
        return None if rated is None else rated[1]

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None
