"""Typed configuration, from two kinds of source that are not trusted alike.

*Operator* configuration (command-line flags, `--config FILE`, the environment,
the Action's inputs, the `--policy FILE` floors) is trusted. *Repository*
configuration (`compliance-pipeline.toml`, or `[tool.compliance-pipeline]` in
the scanned `pyproject.toml`) is written by whoever wrote the pull request: it
may only set the keys of REPOSITORY_KEYS, its paths must stay inside the
target, and every key it sets is listed in the evidence (docs/configuration.md).

Unknown keys and wrong types raise ConfigError naming the full key, so a typo
is a usage error (exit 3) and never a silently ignored setting.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pipeline.model import Setting, Severity

TABLE = "tool.compliance-pipeline"
CONFIG_FILE = "compliance-pipeline.toml"
DEFAULT_TIMEOUT = 600.0
DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024


class ConfigError(Exception):
    """A configuration or usage error: the message names the bad key or flag."""


PLATFORMS = ("linux", "darwin", "win32")
OPERATOR_ONLY = MappingProxyType(
    {
        "tools": "it chooses which programs run",
        "vulnerability-service": "it chooses where the dependency list is sent and whose answer is believed",
        "osv-url": "it chooses where the dependency list is sent and whose answer is believed",
        "vulndb": "it chooses the advisory data dependencies are checked against",
        "vulndb-warn-days": "it decides how old the advisory data may be",
        "vulndb-max-days": "it decides how old the advisory data may be",
        "ledger": "it writes outside the repository",
        "branch": "it decides which history the run is filed in",
        "cache": "it decides whether results of earlier runs are trusted",
        "changed-since": "it decides how much of the repository is assessed",
        "cardholder-data": "it decides what PCI DSS 3.5.1 is assessed on",
        "cache-max-size": "it decides how much the runner's disk holds",
        "default-branch": "it decides which history the run is filed in",
        "waiver-max-days": "it decides how long a waiver may last",
        "fail-on-incomplete": "it decides whether an incomplete scan fails",
        "min-backup-retention-days": "it is the organisation's backup policy, checked by CPL_AWS_13",
    }
)
"""Keys a scanned repository may not set, and why (refused with exit 3)."""
REPOSITORY_KEYS = (
    "threshold",
    "output",
    "exclude",
    "jobs",
    "max-file-size",
    "waivers",
    "attestations",
    "baseline",
    "allow-inline-suppressions",
    "frameworks",
    "python-versions",
    "platforms",
    "scanners",
)
"""Keys a scanned repository may set; each one is listed in the evidence."""
OPERATOR = "operator"
REPOSITORY = "repository"


@dataclass(frozen=True)
class Policy:
    """The operator's floors (`--policy FILE`): what the repository cannot go below."""

    required_scanners: tuple[str, ...] = ()
    max_threshold: Severity | None = None
    """The highest threshold allowed: a run that only fails on `critical` is below `high`."""
    never_exclude: tuple[str, ...] = ()
    """Globs of paths no `exclude` of the repository may remove from the scan."""
    inline_suppressions: bool = True
    """False: `# nosec`, `checkov:skip` and `pragma: allowlist secret` do not count."""
    repository_config: bool = True
    """False: the repository's own configuration is ignored (and that is recorded)."""
    source: str = "none"

    def settings(self) -> tuple[Setting, ...]:
        if self.source == "none":
            return ()
        src = f"policy: {self.source}"
        return (
            Setting("required-scanners", ", ".join(self.required_scanners) or "(none)", src),
            Setting("max-threshold", self.max_threshold.label if self.max_threshold else "(any)", src),
            Setting("never-exclude", ", ".join(self.never_exclude) or "(none)", src),
            Setting("inline-suppressions", "counted" if self.inline_suppressions else "not counted", src),
            Setting("repository-config", "honoured" if self.repository_config else "ignored", src),
        )


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
    attestations: str = "compliance-attestations.yaml"
    """Relative to the scanned folder; a missing file means no attestations."""
    baseline: str | None = None
    waiver_max_days: int = 90
    allow_inline_suppressions: bool = True
    fail_on_incomplete: bool = True
    ledger: str | None = None
    """Append every run to this ledger (SQLite path or postgresql:// URL)."""
    cardholder_data: tuple[str, ...] = ()
    """Path globs of where cardholder data is stored (PCI DSS 3.5.1 is assessed there
    only); empty: 3.5.1 needs human evidence."""
    changed_since: str | None = None
    """A diff scan: only the change since this commit (`--changed-since REF`)."""
    cache: bool = True
    """Reuse and keep results in the result cache (`--no-cache` turns it off)."""
    cache_max_size: int = 1 << 30
    """Bytes the result cache may hold; least recently used entries go first."""
    branch: str | None = None
    """The branch the run is of (the Action passes it: a pull request's checkout is
    detached); unset: git's current branch."""
    default_branch: str | None = None
    """The repository's default branch (the Action knows it); unset: origin/HEAD, if any."""
    frameworks: tuple[str, ...] = ()
    """Compliance frameworks to evaluate (ids of policies/controls/*.yaml); empty: all."""
    python_versions: tuple[str, ...] = ()
    """Python versions ("3.11") the scanned project supports, for dependency markers;
    empty: those the project's `requires-python` admits (else every supported one)."""
    platforms: tuple[str, ...] = ()
    """`sys_platform` values the project supports (linux, darwin, win32); empty: all three."""
    source: str = "defaults"
    """Where the configuration came from, for the evidence."""
    origins: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Key (`threshold`, `scanners.bandit.enabled`, ...) → who set it: 'repository: FILE',
    'operator: FILE' or 'command line'. Keys left at their defaults are absent."""
    policy: Policy = field(default_factory=Policy)
    repository_file: str | None = None
    """The repository's configuration file, when it has one (read or, by policy, ignored)."""

    def from_repository(self, key: str) -> bool:
        return self.origins.get(key, "").startswith(REPOSITORY)

    def settings(self) -> tuple[Setting, ...]:
        """What the repository set (with its value) and the policy's floors, for the evidence."""
        defaults = Config(scanners=MappingProxyType({n: ScannerConfig() for n in self.scanners}))
        flat, base = _flatten(self.as_dict()), _flatten(defaults.as_dict())
        out = []
        for key, origin in sorted(self.origins.items()):
            if origin.startswith(REPOSITORY):
                out.append(Setting(key, _show(flat.get(key)), origin, _narrows(key, flat, base)))
        if self.repository_file and not self.policy.repository_config:
            out.append(
                Setting("(all)", "ignored by the operator policy", f"{REPOSITORY}: {self.repository_file}")
            )
        return tuple(out) + self.policy.settings()

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
            "python-versions": list(self.python_versions),
            "platforms": list(self.platforms),
            "waivers": self.waivers,
            "attestations": self.attestations,
            "baseline": self.baseline,
            "waiver-max-days": self.waiver_max_days,
            "allow-inline-suppressions": self.allow_inline_suppressions,
            "fail-on-incomplete": self.fail_on_incomplete,
            "frameworks": list(self.frameworks),
            "ledger": "set" if self.ledger else None,
            "changed-since": self.changed_since,
            "cardholder-data": list(self.cardholder_data),
            "cache": self.cache,
            "cache-max-size": self.cache_max_size,
            "branch": self.branch,
            "default-branch": self.default_branch,
            "set-by-repository": sorted(k for k in self.origins if self.from_repository(k)),
            "policy": {s.key: s.value for s in self.policy.settings()},
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


def _flatten(d: Mapping[str, Any]) -> dict[str, Any]:
    """as_dict() with the scanner tables as `scanners.<name>.<key>`."""
    out = {k: v for k, v in d.items() if k != "scanners"}
    for name, table in (d.get("scanners") or {}).items():
        out.update({f"scanners.{name}.{k}": v for k, v in table.items()})
    return out


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def _narrows(key: str, flat: Mapping[str, Any], base: Mapping[str, Any]) -> bool:
    """Does the repository's value assess less than the default would?"""
    value, default = flat.get(key), base.get(key)
    if key == "threshold":
        return bool(Severity.parse(str(value)) > Severity.parse(str(default)))
    if key.endswith(".enabled"):
        return value is False
    if key.endswith(".timeout") or key == "max-file-size":
        return isinstance(value, (int, float)) and isinstance(default, (int, float)) and value < default
    if key in ("exclude", "frameworks", "baseline", "python-versions", "platforms"):
        return bool(value)
    if key == "allow-inline-suppressions":
        return value is True and default is not True
    if key in ("waivers", "attestations"):
        return value != default
    return False


def _check(key: str, raw: Any) -> Any:
    """Validate one key's raw TOML value; return it as the typed value of the Config field."""
    k = key.removeprefix(f"{TABLE}.")
    if k == "threshold":
        _expect(key, raw, str, "a severity name")
        try:
            return Severity.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{key}: {exc}") from None
    if k in ("output", "vulndb", "waivers", "attestations", "baseline"):
        _expect(key, raw, str, "a folder path" if k == "output" else "a file path")
        if not raw.strip():
            raise ConfigError(f"{key}: must not be empty")
        return raw
    if k in ("exclude", "cardholder-data"):
        _expect(key, raw, list, "a list of glob patterns")
        for i, item in enumerate(raw):
            _expect(f"{key}[{i}]", item, str, "a glob pattern")
        return tuple(raw)
    if k == "tools":
        if raw not in ("managed", "path"):
            raise ConfigError(f"{key}: expected 'managed' or 'path', got {raw!r}")
        return raw
    if k == "jobs":
        _expect(key, raw, int, "a whole number")
        if raw < 0:
            raise ConfigError(f"{key}: must be 0 (auto) or more, got {raw}")
        return raw
    if k == "max-file-size":
        _expect(key, raw, int, "a size in bytes")
        if raw <= 0:
            raise ConfigError(f"{key}: must be greater than 0, got {raw}")
        return raw
    if k == "vulnerability-service":
        if raw not in ("offline", "osv", "pypi"):
            raise ConfigError(f"{key}: expected 'offline', 'osv' or 'pypi', got {raw!r}")
        return raw
    if k == "osv-url":
        _expect(key, raw, str, "a URL")
        if not raw.startswith(("http://", "https://")):
            raise ConfigError(f"{key}: expected an http(s) URL, got {raw!r}")
        return raw
    if k in ("vulndb-warn-days", "vulndb-max-days"):
        return _positive_number(key, raw, "a number of days")
    if k == "min-backup-retention-days":
        _expect(key, raw, int, "a whole number of days")
        if not 1 <= raw <= 35:
            raise ConfigError(f"{key}: must be between 1 and 35 (RDS allows 35), got {raw}")
        return raw
    if k == "waiver-max-days":
        _expect(key, raw, int, "a whole number of days")
        if raw < 1:
            raise ConfigError(f"{key}: must be at least 1, got {raw}")
        return raw
    if k in ("allow-inline-suppressions", "fail-on-incomplete"):
        _expect(key, raw, bool, "true or false")
        return raw
    if k == "ledger":
        _expect(key, raw, str, "a SQLite path or a postgresql:// URL")
        return raw
    if k == "cache":
        _expect(key, raw, bool, "true or false")
        return raw
    if k == "cache-max-size":
        _expect(key, raw, int, "a number of bytes")
        if raw < 0:
            raise ConfigError(f"{key}: must be 0 or more, got {raw}")
        return raw
    if k in ("branch", "default-branch", "changed-since"):
        _expect(key, raw, str, "a branch name")
        if not raw.strip():
            raise ConfigError(f"{key}: must not be empty")
        return raw.strip()
    if k == "frameworks":
        _expect(key, raw, list, "a list of framework ids")
        return tuple(str(x) for x in raw)
    if k == "python-versions":
        _expect(key, raw, list, 'a list of Python versions such as ["3.10", "3.12"]')
        for i, item in enumerate(raw):
            if not isinstance(item, str) or not re.fullmatch(r"3\.\d{1,2}", item):
                raise ConfigError(f'{key}[{i}]: expected a Python version such as "3.12", got {item!r}')
        return tuple(raw)
    if k == "platforms":
        _expect(key, raw, list, "a list of sys.platform values")
        for i, item in enumerate(raw):
            if item not in PLATFORMS:
                raise ConfigError(f"{key}[{i}]: expected one of {', '.join(PLATFORMS)}, got {item!r}")
        return tuple(raw)
    allowed = ", ".join(sorted((*FIELDS, "scanners")))
    raise ConfigError(f"{key}: unknown key (allowed: {allowed})")


FIELDS = MappingProxyType(
    {
        "threshold": "threshold",
        "output": "output",
        "exclude": "exclude",
        "tools": "tools",
        "jobs": "jobs",
        "max-file-size": "max_file_size",
        "vulnerability-service": "vulnerability_service",
        "osv-url": "osv_url",
        "vulndb": "vulndb",
        "vulndb-warn-days": "vulndb_warn_days",
        "vulndb-max-days": "vulndb_max_days",
        "min-backup-retention-days": "min_backup_retention_days",
        "waivers": "waivers",
        "attestations": "attestations",
        "baseline": "baseline",
        "waiver-max-days": "waiver_max_days",
        "allow-inline-suppressions": "allow_inline_suppressions",
        "fail-on-incomplete": "fail_on_incomplete",
        "ledger": "ledger",
        "changed-since": "changed_since",
        "cardholder-data": "cardholder_data",
        "cache": "cache",
        "cache-max-size": "cache_max_size",
        "branch": "branch",
        "default-branch": "default_branch",
        "frameworks": "frameworks",
        "python-versions": "python_versions",
        "platforms": "platforms",
    }
)
"""TOML key → Config field."""


def override(cfg: Config, origin: str, changes: Mapping[str, Any]) -> Config:
    """Set already-typed values by TOML key (`threshold`, `scanners.bandit.enabled`), noting who."""
    origins = dict(cfg.origins)
    scanners = dict(cfg.scanners)
    fields: dict[str, Any] = {}
    for key, value in changes.items():
        if key.startswith("scanners."):
            _, name, attr = key.split(".", 2)
            scanners[name] = replace(scanners[name], **{attr: value})
        else:
            fields[FIELDS[key]] = value
        origins[key] = origin
    return replace(cfg, scanners=MappingProxyType(scanners), origins=MappingProxyType(origins), **fields)


def from_mapping(
    raw: Mapping[str, Any],
    scanner_names: Iterable[str],
    source: str,
    base: Config | None = None,
    trust: str = OPERATOR,
) -> Config:
    """Apply the `[tool.compliance-pipeline]` table over `base` (defaults); validate every key.

    With trust=REPOSITORY, an operator-only key is refused (ConfigError naming it and why).
    """
    names = tuple(scanner_names)
    cfg = base or default_config(names)
    origin = f"{trust}: {source}"
    changes: dict[str, Any] = {}
    for k, v in raw.items():
        key = f"{TABLE}.{k}"
        if trust == REPOSITORY and k in OPERATOR_ONLY:
            raise ConfigError(
                f"{source}: {key} is operator-only and cannot be set by the scanned repository "
                f"({OPERATOR_ONLY[k]}): remove it there; the operator sets it (--config FILE, or a "
                "command-line flag where there is one)"
            )
        if k == "scanners":
            _expect(key, v, dict, "a table of scanner tables")
            for name, table in v.items():
                if name not in names:
                    raise ConfigError(f"{key}.{name}: unknown scanner (known: {', '.join(names)})")
                sc = _scanner_table(f"{key}.{name}", table)
                for attr in table:
                    changes[f"scanners.{name}.{attr}"] = getattr(sc, attr)
            continue
        changes[k] = _check(key, v)
    cfg = override(cfg, origin, changes)
    if cfg.vulndb_warn_days > cfg.vulndb_max_days:
        raise ConfigError(f"{TABLE}.vulndb-warn-days: must not exceed vulndb-max-days")
    return replace(cfg, source=source if cfg.source == "defaults" else f"{cfg.source} + {source}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None


def repository_table(target: Path) -> tuple[str, Mapping[str, Any]] | None:
    """The scanned repository's own configuration: (file name, table), or None."""
    own = target / CONFIG_FILE
    if own.is_file() and not own.is_symlink():
        return CONFIG_FILE, _read_toml(own)
    pyproject = target / "pyproject.toml"
    if pyproject.is_file() and not pyproject.is_symlink():
        try:
            text = pyproject.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except (OSError, UnicodeDecodeError):
            return None
        except tomllib.TOMLDecodeError as exc:
            # A broken pyproject.toml in the scanned project is not our configuration
            # error, unless it is where our configuration lives.
            if "compliance-pipeline" in text:
                raise ConfigError(f"pyproject.toml: not valid TOML: {exc}") from None
            return None
        table = data.get("tool", {}).get("compliance-pipeline")
        if table is not None:
            _expect(TABLE, table, dict, "a table")
            return "pyproject.toml", table
    return None


def _inside(target: Path, value: str) -> bool:
    root = target.resolve()
    path = (root / value).resolve()
    return path == root or root in path.parents


def load(
    target: Path,
    scanner_names: Iterable[str],
    explicit: Path | None = None,
    policy: Policy | None = None,
) -> Config:
    """The repository's configuration (untrusted), then --config FILE (the operator's) over it."""
    names = tuple(scanner_names)
    pol = policy or Policy()
    cfg = replace(default_config(names), policy=pol)
    repo = repository_table(target)
    if repo is not None:
        name, table = repo
        cfg = replace(cfg, repository_file=name)
        if pol.repository_config:
            cfg = from_mapping(table, names, name, cfg, trust=REPOSITORY)
            for key in ("output", "waivers", "attestations", "baseline"):
                value = getattr(cfg, key)
                if cfg.from_repository(key) and value and not _inside(target, value):
                    raise ConfigError(
                        f"{name}: {TABLE}.{key} = {value!r} points outside the scanned repository; "
                        "a repository may only name paths inside itself (the operator may set "
                        f"any path with --{key})"
                    )
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"--config: no such file: {explicit}")
        data = _read_toml(explicit)
        table = data.get("tool", {}).get("compliance-pipeline", data)
        _expect(f"{explicit.name}: {TABLE}", table, dict, "a table")
        cfg = from_mapping(table, names, explicit.name, cfg, trust=OPERATOR)
    return cfg


def output_path(cfg: Config, target: Path) -> Path:
    """Where the evidence goes: a repository's `output` is inside the repository."""
    if cfg.from_repository("output"):
        return target / cfg.output
    return Path(cfg.output)


def load_policy(path: Path, scanner_names: Iterable[str]) -> Policy:
    """`--policy FILE`: the operator's floors, TOML with top-level keys (or a [policy] table)."""
    names = tuple(scanner_names)
    if not path.is_file():
        raise ConfigError(f"--policy: no such file: {path}")
    data = _read_toml(path)
    table = data.get("policy", data)
    pol = Policy(source=path.name)
    for k, v in table.items():
        key = f"{path.name}: {k}"
        if k == "required-scanners":
            _expect(key, v, list, "a list of scanner names")
            for n in v:
                if n not in names:
                    raise ConfigError(f"{key}: unknown scanner {n!r} (known: {', '.join(names)})")
            pol = replace(pol, required_scanners=tuple(v))
        elif k == "max-threshold":
            _expect(key, v, str, "a severity name")
            try:
                pol = replace(pol, max_threshold=Severity.parse(v))
            except ValueError as exc:
                raise ConfigError(f"{key}: {exc}") from None
        elif k == "never-exclude":
            _expect(key, v, list, "a list of glob patterns")
            for i, item in enumerate(v):
                _expect(f"{key}[{i}]", item, str, "a glob pattern")
            pol = replace(pol, never_exclude=tuple(v))
        elif k in ("inline-suppressions", "repository-config"):
            _expect(key, v, bool, "true or false")
            pol = replace(pol, **{k.replace("-", "_"): v})
        else:
            raise ConfigError(
                f"{key}: unknown policy key (allowed: required-scanners, max-threshold, "
                "never-exclude, inline-suppressions, repository-config)"
            )
    return pol


def enforce(cfg: Config) -> Config:
    """Apply the policy's floors to the effective configuration: every violation is named."""
    pol = cfg.policy
    problems = []
    for name in pol.required_scanners:
        sc = cfg.scanners.get(name)
        if sc is not None and not sc.enabled:
            who = cfg.origins.get(f"scanners.{name}.enabled", "the command line")
            problems.append(f"scanner {name} is required by the policy but was disabled ({who})")
    if pol.max_threshold is not None and cfg.threshold > pol.max_threshold:
        who = cfg.origins.get("threshold", "default")
        problems.append(
            f"threshold {cfg.threshold.label} ({who}) is above the policy's max-threshold "
            f"{pol.max_threshold.label}"
        )
    if problems:
        raise ConfigError(f"policy {pol.source}: " + "; ".join(problems))
    if not pol.inline_suppressions and cfg.allow_inline_suppressions:
        cfg = override(cfg, f"policy: {pol.source}", {"allow-inline-suppressions": False})
    return cfg
