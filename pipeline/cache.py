"""The content-addressed result cache (`<user cache>/compliance-pipeline/results/`).

An entry is one JSON file named by its key (a SHA-256 over everything its result depends
on: see `pipeline/reuse.py`), holding the result, the run it came from (that run's
manifest digest) and a check over both: a SHA-256, or an HMAC with the operator's secret
key (`COMPLIANCE_PIPELINE_SECRET_KEY`) when one is set, so that without the key nobody can
write an entry this run trusts. Entries are written to a temporary file
in the same folder and renamed into place, so a reader sees a whole entry or none, and
two scans writing the same key both write the same result. An entry that does not load,
or whose check digest, key or schema does not match, is deleted and counted as
discarded, never trusted. Every hit touches the entry's modification time; after a run
the cache is trimmed to `max_bytes` (default 1 GiB) by deleting the least recently used
entries. The cache holds what the evidence holds (after the redaction boundary), never
a secret value: see docs/architecture.md, "Result cache".
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = 1
DEFAULT_MAX_BYTES = 1 << 30
FOLDER = "results"
ROOT_ENV = "COMPLIANCE_PIPELINE_RESULTS_CACHE"
"""Where the result cache lives instead of `<cache root>/results` (the tests give each
test its own)."""


def digest(*parts: str) -> str:
    """The SHA-256 of the parts, each length-prefixed (no two part lists collide)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def _canonical(value: Any) -> str:
    # ASCII: a path that is not UTF-8 (kept as surrogate escapes) is written as \udcff.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True)
class Hit:
    payload: Mapping[str, Any]
    origin: str
    """The run it came from: that run's manifest digest (or why there is none)."""


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0
    discarded: int = 0
    written: int = 0
    evicted: int = 0
    problems: list[str] = field(default_factory=list)


class ResultCache:
    """The on-disk cache; `root=None` is a disabled cache (`--no-cache`): every lookup
    misses and nothing is written."""

    def __init__(
        self, root: Path | None, max_bytes: int = DEFAULT_MAX_BYTES, mac_key: bytes | None = None
    ) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.stats = Stats()
        self._mac_key = mac_key

    def _check(self, key: str, origin: str, payload: Any) -> str:
        """The entry's check: a SHA-256, or with the operator's secret key an HMAC, so that
        an entry written by someone without the key is discarded as forged."""
        text = digest(key, origin, _canonical(payload))
        if self._mac_key is None:
            return text
        return "hmac:" + hmac.new(self._mac_key, text.encode(), hashlib.sha256).hexdigest()

    @property
    def enabled(self) -> bool:
        return self.root is not None

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Hit | None:
        if self.root is None:
            return None
        path = self._path(key)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            payload, origin = doc["payload"], str(doc["origin"])
            ok = (
                doc.get("schema") == SCHEMA
                and doc.get("key") == key
                and hmac.compare_digest(str(doc.get("check")), self._check(key, origin, payload))
                and isinstance(payload, dict)
            )
        except FileNotFoundError:
            self.stats.misses += 1
            return None
        except (OSError, ValueError, KeyError, TypeError):
            ok, payload, origin = False, {}, ""
        if not ok:
            self.stats.discarded += 1
            self.stats.misses += 1
            path.unlink(missing_ok=True)
            return None
        self.stats.hits += 1
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently used is evicted first
        return Hit(payload, origin)

    def put(self, entries: Iterable[tuple[str, Mapping[str, Any]]], origin: str) -> int:
        """Write each (key, payload) atomically; returns how many were written."""
        if self.root is None:
            return 0
        written = 0
        for key, payload in entries:
            doc = {
                "schema": SCHEMA,
                "key": key,
                "origin": origin,
                "payload": payload,
                "check": self._check(key, origin, payload),
            }
            path = self._path(key)
            tmp: str | None = None
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(_canonical(doc))
                os.replace(tmp, path)
                written += 1
            except (OSError, ValueError) as exc:
                self.stats.problems.append(f"cannot write a cache entry: {type(exc).__name__}")
                if tmp is not None:
                    Path(tmp).unlink(missing_ok=True)
                break
        self.stats.written += written
        return written

    def entries(self) -> list[tuple[Path, int, float]]:
        """(path, size, last used) of every entry."""
        if self.root is None or not self.root.is_dir():
            return []
        out = []
        for path in self.root.glob("??/*.json"):
            try:
                st = path.stat()
            except OSError:
                continue
            out.append((path, st.st_size, st.st_mtime))
        return out

    def evict(self) -> int:
        """Delete least recently used entries until the cache is within `max_bytes`."""
        found = sorted(self.entries(), key=lambda e: e[2])
        total = sum(size for _, size, _ in found)
        removed = 0
        for path, size, _ in found:
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        self.stats.evicted += removed
        return removed

    def clear(self) -> tuple[int, int]:
        """Delete every entry: (entries, bytes) removed."""
        found = self.entries()
        for path, _, _ in found:
            path.unlink(missing_ok=True)
        if self.root is not None and self.root.is_dir():
            for tmp in self.root.glob("??/.tmp-*"):
                tmp.unlink(missing_ok=True)
        return len(found), sum(size for _, size, _ in found)


def default_root(cache_root: Path) -> Path:
    return cache_root / FOLDER
