"""Typed configuration from `[tool.compliance-pipeline]` or `compliance-pipeline.toml`.

Unknown keys and wrong types raise ConfigError naming the full key, so a typo
is a usage error (exit 3) and never a silently ignored setting.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pipeline.model import Severity

TABLE = "tool.compliance-pipeline"
CONFIG_FILE = "compliance-pipeline.toml"
DEFAULT_TIMEOUT = 600.0
DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024


class ConfigError(Exception):
    """A configuration or usage error: the message names the bad key or flag."""


@dataclass(frozen=True)
class ScannerConfig:
    enabled: bool = True
    timeout: float = DEFAULT_TIMEOUT
    """Seconds for one invocation of the tool (one shard, for sharded scanners)."""


@dataclass(frozen=True)
class Config:
    scanners: Mapping[str, ScannerConfig]
    threshold: Severity = Severity.HIGH
    output: str = "compliance-evidence"
    exclude: tuple[str, ...] = ()
    tools: str = "managed"
    """'managed': pinned environments built with uv; 'path': scanners found on PATH."""
    jobs: int = 0
    """Concurrent scanner processes; 0 means the number of cores."""
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    """Text files larger than this are not scanned for secrets and are reported NOT_ASSESSED."""
    vulnerability_service: str = "offline"
    """pip-audit's service: 'offline' (our local database served on 127.0.0.1),
    'osv' (osv_url, or the public OSV API) or 'pypi' (pip-audit's default)."""
    osv_url: str | None = None
    vulndb: str | None = None
    """The local advisory database file; None means the user cache."""
    vulndb_warn_days: float = 7.0
    vulndb_max_days: float = 30.0
    min_backup_retention_days: int = 7
    """RDS automated backup retention our policy CPL_AWS_13 requires."""
    waivers: str = "compliance-waivers.yaml"
    """Relative to the scanned folder; a missing file means no waivers."""
    baseline: str | None = None
    waiver_max_days: int = 90
    allow_inline_suppressions: bool = True
    fail_on_incomplete: bool = True
    ledger: str | None = None
    """Append every run to this ledger (SQLite path or postgresql:// URL)."""
    frameworks: tuple[str, ...] = ()
    """Compliance frameworks to evaluate (ids of policies/controls/*.yaml); empty: all."""
    source: str = "defaults"
    """Where the configuration came from, for the evidence."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold.label,
            "output": self.output,
            "exclude": list(self.exclude),
            "tools": self.tools,
            "jobs": self.jobs,
            "max-file-size": self.max_file_size,
            "vulnerability-service": self.vulnerability_service,
            "osv-url": self.osv_url,
            "vulndb": self.vulndb,
            "vulndb-warn-days": self.vulndb_warn_days,
            "vulndb-max-days": self.vulndb_max_days,
            "min-backup-retention-days": self.min_backup_retention_days,
            "waivers": self.waivers,
            "baseline": self.baseline,
            "waiver-max-days": self.waiver_max_days,
            "allow-inline-suppressions": self.allow_inline_suppressions,
            "fail-on-incomplete": self.fail_on_incomplete,
            "frameworks": list(self.frameworks),
            "ledger": "set" if self.ledger else None,
            "scanners": {
                name: {"enabled": sc.enabled, "timeout": sc.timeout}
                for name, sc in sorted(self.scanners.items())
            },
        }

    def digest(self) -> str:
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def enabled_scanners(self) -> tuple[str, ...]:
        return tuple(n for n, sc in self.scanners.items() if sc.enabled)


def default_config(scanner_names: Iterable[str]) -> Config:
    return Config(scanners=MappingProxyType({n: ScannerConfig() for n in scanner_names}))


def _expect(key: str, value: object, kind: type | tuple[type, ...], what: str) -> None:
    # bool is an int in Python; a timeout of `true` is still a type error.
    if isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{key}: expected {what}, got a boolean")
    if not isinstance(value, kind):
        raise ConfigError(f"{key}: expected {what}, got {type(value).__name__} {value!r}")


def _positive_number(key: str, value: object, what: str = "a number of seconds") -> float:
    _expect(key, value, (int, float), what)
    assert isinstance(value, (int, float))
    if value <= 0:
        raise ConfigError(f"{key}: must be greater than 0, got {value}")
    return float(value)


def _scanner_table(key: str, raw: object) -> ScannerConfig:
    _expect(key, raw, dict, "a table")
    assert isinstance(raw, dict)
    sc = ScannerConfig()
    for k, v in raw.items():
        sub = f"{key}.{k}"
        if k == "enabled":
            _expect(sub, v, bool, "true or false")
            sc = replace(sc, enabled=v)
        elif k == "timeout":
            sc = replace(sc, timeout=_positive_number(sub, v))
        else:
            raise ConfigError(f"{sub}: unknown key (allowed: enabled, timeout)")
    return sc


def from_mapping(raw: Mapping[str, Any], scanner_names: Iterable[str], source: str) -> Config:
    """Build a Config from the `[tool.compliance-pipeline]` table; validate every key."""
    names = tuple(scanner_names)
    cfg = default_config(names)
    scanners = dict(cfg.scanners)
    for k, v in raw.items():
        key = f"{TABLE}.{k}"
        if k == "threshold":
            _expect(key, v, str, "a severity name")
            try:
                cfg = replace(cfg, threshold=Severity.parse(v))
            except ValueError as exc:
                raise ConfigError(f"{key}: {exc}") from None
        elif k == "output":
            _expect(key, v, str, "a folder path")
            cfg = replace(cfg, output=v)
        elif k == "exclude":
            _expect(key, v, list, "a list of glob patterns")
            for i, item in enumerate(v):
                _expect(f"{key}[{i}]", item, str, "a glob pattern")
            cfg = replace(cfg, exclude=tuple(v))
        elif k == "tools":
            if v not in ("managed", "path"):
                raise ConfigError(f"{key}: expected 'managed' or 'path', got {v!r}")
            cfg = replace(cfg, tools=v)
        elif k == "jobs":
            _expect(key, v, int, "a whole number")
            if v < 0:
                raise ConfigError(f"{key}: must be 0 (auto) or more, got {v}")
            cfg = replace(cfg, jobs=v)
        elif k == "max-file-size":
            _expect(key, v, int, "a size in bytes")
            if v <= 0:
                raise ConfigError(f"{key}: must be greater than 0, got {v}")
            cfg = replace(cfg, max_file_size=v)
        elif k == "vulnerability-service":
            if v not in ("offline", "osv", "pypi"):
                raise ConfigError(f"{key}: expected 'offline', 'osv' or 'pypi', got {v!r}")
            cfg = replace(cfg, vulnerability_service=v)
        elif k == "osv-url":
            _expect(key, v, str, "a URL")
            if not v.startswith(("http://", "https://")):
                raise ConfigError(f"{key}: expected an http(s) URL, got {v!r}")
            cfg = replace(cfg, osv_url=v)
        elif k == "vulndb":
            _expect(key, v, str, "a file path")
            cfg = replace(cfg, vulndb=v)
        elif k == "vulndb-warn-days":
            cfg = replace(cfg, vulndb_warn_days=_positive_number(key, v, "a number of days"))
        elif k == "vulndb-max-days":
            cfg = replace(cfg, vulndb_max_days=_positive_number(key, v, "a number of days"))
        elif k == "min-backup-retention-days":
            _expect(key, v, int, "a whole number of days")
            if not 1 <= v <= 35:
                raise ConfigError(f"{key}: must be between 1 and 35 (RDS allows 35), got {v}")
            cfg = replace(cfg, min_backup_retention_days=v)
        elif k in ("waivers", "baseline"):
            _expect(key, v, str, "a file path")
            cfg = replace(cfg, **{k: v})
        elif k == "waiver-max-days":
            _expect(key, v, int, "a whole number of days")
            if v < 1:
                raise ConfigError(f"{key}: must be at least 1, got {v}")
            cfg = replace(cfg, waiver_max_days=v)
        elif k == "allow-inline-suppressions":
            _expect(key, v, bool, "true or false")
            cfg = replace(cfg, allow_inline_suppressions=v)
        elif k == "ledger":
            _expect(key, v, str, "a SQLite path or a postgresql:// URL")
            cfg = replace(cfg, ledger=v)
        elif k == "frameworks":
            _expect(key, v, list, "a list of framework ids")
            cfg = replace(cfg, frameworks=tuple(str(x) for x in v))
        elif k == "fail-on-incomplete":
            _expect(key, v, bool, "true or false")
            cfg = replace(cfg, fail_on_incomplete=v)
        elif k == "scanners":
            _expect(key, v, dict, "a table of scanner tables")
            for name, table in v.items():
                if name not in names:
                    raise ConfigError(f"{key}.{name}: unknown scanner (known: {', '.join(names)})")
                scanners[name] = _scanner_table(f"{key}.{name}", table)
        else:
            allowed = (
                "threshold, output, exclude, tools, jobs, max-file-size, "
                "vulnerability-service, osv-url, vulndb, vulndb-warn-days, vulndb-max-days, "
                "min-backup-retention-days, waivers, baseline, waiver-max-days, "
                "allow-inline-suppressions, fail-on-incomplete, frameworks, ledger, scanners"
            )
            raise ConfigError(f"{key}: unknown key (allowed: {allowed})")
    if cfg.vulndb_warn_days > cfg.vulndb_max_days:
        raise ConfigError(f"{TABLE}.vulndb-warn-days: must not exceed vulndb-max-days")
    return replace(cfg, scanners=MappingProxyType(scanners), source=source)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None


def load(target: Path, scanner_names: Iterable[str], explicit: Path | None = None) -> Config:
    """Find and load configuration: --config FILE, then compliance-pipeline.toml, then pyproject."""
    names = tuple(scanner_names)
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"--config: no such file: {explicit}")
        data = _read_toml(explicit)
        table = data.get("tool", {}).get("compliance-pipeline", data)
        return from_mapping(table, names, source=explicit.name)
    own = target / CONFIG_FILE
    if own.is_file():
        return from_mapping(_read_toml(own), names, source=CONFIG_FILE)
    pyproject = target / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return default_config(names)
        except tomllib.TOMLDecodeError as exc:
            # A broken pyproject.toml in the scanned project is not our configuration
            # error, unless it is where our configuration lives.
            if "compliance-pipeline" in pyproject.read_text(encoding="utf-8", errors="replace"):
                raise ConfigError(f"pyproject.toml: not valid TOML: {exc}") from None
            return default_config(names)
        table = data.get("tool", {}).get("compliance-pipeline")
        if table is not None:
            _expect(TABLE, table, dict, "a table")
            return from_mapping(table, names, source="pyproject.toml")
    return default_config(names)
