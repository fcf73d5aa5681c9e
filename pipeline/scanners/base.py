"""The one shape every scanner has: plan jobs, then parse each job's output purely."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from pipeline.config import Config
from pipeline.discover import Inventory
from pipeline.manifests import Dependency, ManifestProblem
from pipeline.model import Finding, NotAssessed, Severity
from pipeline.render import Rendered
from pipeline.runner import ToolRun
from pipeline.secret_id import SecretIds

ReadText = Callable[[str], str | None]


@dataclass(frozen=True)
class SeverityTable:
    """Severities for rules whose tool gives none (from policies/severity.yaml)."""

    defaults: Mapping[str, Severity]
    rules: Mapping[str, Severity]

    def of(self, tool: str, rule_id: str) -> Severity:
        return self.rules.get(rule_id, self.defaults.get(tool, Severity.MEDIUM))


@dataclass(frozen=True)
class Context:
    """Everything a scanner may look at; it is handed in, never global."""

    inventory: Inventory
    config: Config
    workdir: Path
    """A private scratch folder of this run (staged copies, generated requirement files)."""
    policies: Path
    severities: SeverityTable
    read_text: ReadText
    dependencies: tuple[Dependency, ...] = ()
    manifest_problems: tuple[ManifestProblem, ...] = ()
    workers: int = 2
    """How many jobs run at once: sharded scanners size their shards by it."""
    osv_url: str | None = None
    """The local OSV API of this run, when the vulnerability service is 'offline'."""
    vuln_severity: Callable[[str], Severity | None] = lambda _vid: None
    """Severity of an advisory from the advisory database, when it knows one."""
    vuln_severity_source: Callable[[str], str | None] = lambda _vid: None
    """Where that severity came from (`VulnDb.severity_source`)."""
    remediations: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """rule id → remediation text, for rules whose tool gives none (our policy pack)."""
    secret_ids: SecretIds = field(default_factory=lambda: SecretIds(None))
    """Keyed identities of secrets (pipeline/secret_id.py), never the tool's SHA-1."""
    rendered: Rendered | None = None
    """Helm charts and kustomizations rendered in the sandbox (pipeline/render.py)."""


@dataclass(frozen=True)
class Staged:
    """A copy the tool scans in place of a target file (a chunk, or a transcoded file)."""

    target_path: str
    line_offset: int = 0


@dataclass(frozen=True)
class Job:
    argv: tuple[str, ...]
    """argv[0] is the scanner's executable name; toolenv resolves it."""
    cost: float
    """Estimated seconds, used to start the longest jobs first."""
    inputs: tuple[str, ...] = ()
    """Target files this job covers: NOT_ASSESSED if the job fails."""
    staged: Mapping[str, Staged] = field(default_factory=lambda: MappingProxyType({}))
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    cwd: Path | None = None
    """Where the tool runs; None means the target root."""

    def display_argv(self) -> tuple[str, ...]:
        """argv with the file list folded, for the evidence."""
        files = set(self.inputs) | set(self.staged)
        kept = [a for a in self.argv if a not in files and a.removeprefix("./") not in files]
        return tuple(kept + ([f"<{len(self.argv) - len(kept)} files>"] if len(kept) < len(self.argv) else []))


@dataclass(frozen=True)
class NotApplicable:
    reason: str


@dataclass(frozen=True)
class Plan:
    jobs: tuple[Job, ...]
    not_assessed: tuple[NotAssessed, ...] = ()
    """What is in scope but will not be given to the tool, with the reason."""
    notes: tuple[str, ...] = ()
    """What the evidence should say about the plan (shown as the scanner's warnings)."""


@dataclass(frozen=True)
class Parsed:
    findings: tuple[Finding, ...] = ()
    errors: tuple[str, ...] = ()
    not_assessed: tuple[NotAssessed, ...] = ()
    failure: str | None = None
    """Set when the output could not be used: the scanner's result is FAILED."""
    rules_run: tuple[str, ...] = ()
    version: str | None = None
    raw: Any = None
    """The tool's output as JSON-able data with secret values masked."""
    secrets: tuple[str, ...] = ()
    """Secret values located in this output, kept in memory only, to scrub other outputs."""
    assessed: int | None = None
    """How many items the tool checked, when its output says (else: the job's inputs)."""


class Scanner(Protocol):
    name: str
    executable: str
    distribution: str

    def plan(self, ctx: Context) -> Plan | NotApplicable: ...

    def parse(self, run: ToolRun, job: Job, ctx: Context) -> Parsed: ...


@runtime_checkable
class MergesFindings(Protocol):
    """A scanner whose jobs can report one finding more than once (a file cut into chunks)."""

    def merge(self, findings: tuple[Finding, ...]) -> tuple[Finding, ...]: ...


MAX_SHARD_FILES = 4000
"""Keeps one command line far below the kernel's argument limit."""


def shard_count(total_cost: float, n_files: int, workers: int, min_seconds: float) -> int:
    """Enough shards to keep every worker busy, few enough that start-up costs stay small.

    Each shard pays the tool's start-up (0.3 to 0.5 s for bandit and
    detect-secrets), so shards smaller than `min_seconds` of work are merged.
    """
    wanted = min(math.ceil(total_cost / min_seconds), 2 * max(workers, 1))
    return max(wanted, math.ceil(n_files / MAX_SHARD_FILES), 1)


def pack(items: list[tuple[str, float]], shards: int) -> list[tuple[tuple[str, ...], float]]:
    """Longest-processing-time-first packing of (path, cost) into bins of similar cost."""
    bins: list[list[str]] = [[] for _ in range(shards)]
    loads = [0.0] * shards
    for path, cost in sorted(items, key=lambda x: (-x[1], x[0])):
        i = min(range(shards), key=lambda k: (loads[k], len(bins[k])))
        bins[i].append(path)
        loads[i] += cost
    return [(tuple(sorted(b)), load) for b, load in zip(bins, loads, strict=True) if b]


def as_path_arg(path: str) -> str:
    """A target-relative path as a tool argument that can never be read as an option.

    `--plugin=evil.py`, `-` or `-rfile` as a file name reach the tool as
    `./--plugin=evil.py`: a path, whatever the tool's option parser.
    """
    return path if path.startswith("/") else f"./{path}"


def load_json(stdout: str) -> tuple[Any, str | None]:
    """Decode a tool's JSON stdout; the error says what was wrong, briefly."""
    text = stdout.strip()
    if not text:
        return None, "no output"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"output is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"


def relpath(path: str) -> str:
    """Normalise a tool-reported path to target-relative with forward slashes."""
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def tail(text: str, limit: int = 600) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def stderr_excerpt(stderr: str, limit: int = 600) -> str:
    """The lines of a tool's stderr that say what went wrong, else its end."""
    lines = [ln.strip() for ln in stderr.splitlines() if "error" in ln.lower()]
    if lines:
        return tail(" | ".join(ln[:300] for ln in lines[-3:]), limit)
    return tail(stderr, limit)
