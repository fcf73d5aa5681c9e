"""The finding model: typed, frozen values that every later stage passes around.

This module is the bottom of the import graph: it imports nothing of ours and
does no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.IntEnum):
    """One scale for every tool, ordered so that comparisons work."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Parse a severity name case-insensitively; ValueError names the choices."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (choose one of {choices})") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class Status(enum.Enum):
    """What happened to one scanner in one run."""

    OK = "ok"
    FAILED = "failed"
    NOT_APPLICABLE = "not-applicable"
    DISABLED = "disabled"


@dataclass(frozen=True)
class Location:
    """Where a finding is: a path relative to the target, optional lines and resource."""

    path: str
    start_line: int | None = None
    end_line: int | None = None
    resource: str | None = None


@dataclass(frozen=True)
class Suppression:
    """Why a finding does not count: it stays in every output with this record."""

    kind: str
    """'inline' (# nosec, checkov:skip, pragma: allowlist secret), 'waiver', 'baseline', or
    'recognised' (a provable non-secret our rules recognise, e.g. a commit id in a trace tag).
    A baselined finding is *accepted risk*: it does not block the gate, but it is still
    open and still fails the controls its rule evidences ("FAIL — 12 accepted")."""
    reason: str
    owner: str | None = None
    expires: str | None = None
    """ISO date, for waivers."""
    approved_by: str | None = None
    source: str | None = None
    """Where it was declared: the waivers file and line, the baseline file, the code line."""


@dataclass(frozen=True)
class Finding:
    tool: str
    rule_id: str
    title: str
    severity: Severity
    location: Location
    fingerprint: str
    message: str = ""
    cwe: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    remediation: str | None = None
    help_url: str | None = None
    snippet: str | None = None
    """Masked: never the plaintext of a secret."""
    confidence: str | None = None
    package: str | None = None
    installed_version: str | None = None
    fixed_versions: tuple[str, ...] = ()
    suppression: Suppression | None = None
    """None: the finding is active and counts for the gate and the controls."""
    severity_source: str | None = None
    """Where the severity came from when it is not the tool's own ("CVSS:3.1 base 7.5",
    "GitHub severity HIGH", "policy default (policies/severity.yaml)")."""
    legacy_fingerprint: str | None = None
    """The fingerprint an earlier version gave this finding (detect-secrets' from the raw
    SHA-1): baselines and waivers written then still match it. Never written out."""

    @property
    def active(self) -> bool:
        return self.suppression is None

    @property
    def accepted(self) -> bool:
        """Accepted risk (the baseline): not blocking, but open and failing its controls."""
        return self.suppression is not None and self.suppression.kind == "baseline"

    @property
    def state(self) -> str:
        """'active', 'accepted' (baseline) or 'suppressed' (waiver, inline marker)."""
        return "active" if self.active else "accepted" if self.accepted else "suppressed"


@dataclass(frozen=True)
class NotAssessed:
    """Something in scope that a scanner could not check: never counted as clean."""

    tool: str
    item: str
    reason: str


@dataclass(frozen=True)
class SkippedPath:
    """A path discovery did not hand to any scanner, and why (e.g. a symbolic link)."""

    path: str
    reason: str
    not_assessed: bool = False
    """In scope but unreadable (permissions, a path too long to open): the run is incomplete."""
    category: str = "other"
    """One of SKIP_CATEGORIES: what findings.json and the report count by."""
    files: int = 1
    """Files under it (a skipped folder is listed once, with its count)."""


SKIP_CATEGORIES = {
    "excluded": "excluded by configuration",
    "gitignored": "ignored by .gitignore",
    "skipped-folder": "dependency, vendored or tool folder",
    "virtualenv": "virtual environment",
    "binary": "binary content",
    "link": "symbolic link (not followed)",
    "submodule": "git submodule",
    "special": "not a regular file",
    "own-file": "the pipeline's own file",
    "unreadable": "could not be read",
    "scope": "scope of the run",
    "other": "other",
}
"""Reason categories of skipped paths, with the label the reports show."""


@dataclass(frozen=True)
class Component:
    """A dependency the manifests declare, for the SBOM: one per (name, version)."""

    name: str
    """PEP 503 normalised."""
    version: str | None
    """None when no manifest pins one (a range only)."""
    occurrences: tuple[str, ...]
    """Where it is declared: `manifest:line` (or the manifest), sorted."""
    direct: bool = True
    """Named by the project itself (not only pulled in through a lock file)."""

    @property
    def purl(self) -> str:
        return f"pkg:pypi/{self.name}@{self.version}" if self.version else f"pkg:pypi/{self.name}"


@dataclass(frozen=True)
class Setting:
    """A setting that came from somewhere other than the operator: the evidence lists it."""

    key: str
    value: str
    source: str
    """e.g. 'repository: compliance-pipeline.toml', or 'policy: FILE' for a floor."""
    narrows: bool = False
    """True when it narrows the assessment (a scanner off, paths excluded, a higher threshold...)."""


@dataclass(frozen=True)
class ToolInfo:
    """The exact tool that ran: distribution name, version, and where it came from."""

    name: str
    version: str
    source: str
    """'managed' (our pinned environment) or 'path' (found on PATH)."""
    implementation: str | None = None
    """For detect-secrets: which distribution provided the `detect_secrets` module."""


@dataclass(frozen=True)
class Invocation:
    """One subprocess run of a scanner, as it is recorded in the evidence."""

    argv: tuple[str, ...]
    returncode: int | None
    seconds: float
    timed_out: bool = False


@dataclass(frozen=True)
class CacheUse:
    """What a scanner's result took from the result cache instead of running the tool."""

    items: int
    """Files (detect-secrets, bandit) or the whole input's items (checkov, pip-audit)."""
    origins: tuple[str, ...]
    """The runs the reused results come from: their manifest digests."""


@dataclass(frozen=True)
class ScanResult:
    scanner: str
    status: Status
    findings: tuple[Finding, ...] = ()
    errors: tuple[str, ...] = ()
    not_assessed: tuple[NotAssessed, ...] = ()
    tool: ToolInfo | None = None
    invocations: tuple[Invocation, ...] = ()
    seconds: float = 0.0
    reason: str = ""
    """Why the scanner was not applicable or disabled."""
    rules_run: tuple[str, ...] = ()
    """Rule ids the tool evaluated with at least one result (pass or fail)."""
    warnings: tuple[str, ...] = ()
    """What the reader should know but does not make the result incomplete."""
    assessed: int = 0
    """Items checked: files (detect-secrets, bandit, checkov) or dependencies (pip-audit)."""
    cache: CacheUse | None = None
    """None: nothing reused; else what came from earlier runs (still part of this
    complete assessment: the same tool, configuration and content)."""

    @property
    def complete(self) -> bool:
        """True when the scanner ran and assessed everything in its scope."""
        return self.status is not Status.FAILED and not self.not_assessed


class ControlStatus(enum.Enum):
    """Only PASS is a pass."""

    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    NOT_ASSESSED = "NOT_ASSESSED"
    MANUAL = "MANUAL"
    ATTESTED = "ATTESTED"
    """A manual control with a current attestation (human evidence): never shown as PASS."""
    NOT_APPLICABLE = "NOT_APPLICABLE"
    """A requirement a repository scan cannot evidence at all (physical security…): listed
    with the reason, never counted as assessed."""


@dataclass(frozen=True)
class Attestation:
    """Human evidence for a manual control (compliance-attestations.yaml, Heimdall's style):
    it holds from `updated` until `due` (= updated + frequency); after that it is overdue."""

    framework: str
    control_id: str
    passed: bool
    """The attester's verdict: `status: passed` (ATTESTED) or `failed` (FAIL)."""
    explanation: str
    evidence: str
    """A reference to the evidence (a URL, a ticket, a document id)."""
    frequency: str
    updated: str
    """ISO date."""
    updated_by: str
    due: str
    """ISO date: the last day the attestation holds."""
    source: str
    """The attestations file and line."""


@dataclass(frozen=True)
class ControlResult:
    framework: str
    control_id: str
    title: str
    status: ControlStatus
    reason: str
    findings: tuple[str, ...] = ()
    """Fingerprints of the active findings behind a FAIL."""
    scanners: tuple[str, ...] = ()
    """The scanners whose results evidence this control."""
    accepted: tuple[str, ...] = ()
    """Fingerprints of the accepted (baselined) findings behind a FAIL."""
    attestation: Attestation | None = None
    """The attestation behind ATTESTED, or the overdue one behind a MANUAL."""
    assessment: str = "automated"
    """How the requirement is assessed: automated, partial (the scan covers part of it:
    `covers`), manual or not-applicable (policies/controls/, docs/control-mapping.md)."""
    covers: str | None = None
    """For a partial requirement: which part the scan covers, and which not."""

    @property
    def label(self) -> str:
        """The status as a report shows it: "FAIL — 12 accepted" when only accepted risk fails it."""
        if self.status is ControlStatus.FAIL and self.accepted and not self.findings:
            return f"FAIL — {len(self.accepted)} accepted"
        return self.status.value


@dataclass(frozen=True)
class AdvisoryDatabase:
    """The identity of the advisory data pip-audit was checked against."""

    source: str
    records: int
    newest_modified: str
    digest: str
    imported_at: str
    age_days: float
    """Days between the newest record and the run's start."""


@dataclass(frozen=True)
class GitInfo:
    commit: str | None = None
    branch: str | None = None
    remote: str | None = None
    dirty: bool | None = None
    default_branch: str | None = None
    """The repository's default branch, from the operator (--default-branch) or origin/HEAD."""

    @property
    def on_default_branch(self) -> bool | None:
        """Whether the run is of the default branch; None when either is unknown."""
        if self.branch is None or self.default_branch is None:
            return None
        return self.branch == self.default_branch


@dataclass(frozen=True)
class ChangeScope:
    """The change a diff scan covers (`scan --changed-since REF`, pipeline/change.py)."""

    since: str
    """REF as the operator gave it."""
    base: str | None = None
    """The commit REF resolved to."""
    files: tuple[str, ...] = ()
    """Changed files that exist, relative to the target."""
    modules: tuple[str, ...] = ()
    """Terraform root modules (folders) of changed Terraform files: assessed whole."""
    error: str | None = None
    """Why the change could not be listed (then nothing is assessed: fail closed)."""


@dataclass(frozen=True)
class RunReport:
    target: str
    started_at: str
    """UTC, ISO 8601 with a trailing Z."""
    finished_at: str
    pipeline_version: str
    config_digest: str
    threshold: Severity
    results: tuple[ScanResult, ...]
    git: GitInfo = field(default_factory=GitInfo)
    files: int = 0
    """Files in the inventory handed to the scanners."""
    skipped_paths: tuple[SkippedPath, ...] = ()
    frameworks: tuple[str, ...] = ()
    """IaC frameworks discovery found."""
    advisory_db: AdvisoryDatabase | None = None
    controls: tuple[ControlResult, ...] = ()
    fail_on_incomplete: bool = True
    suppression_notes: tuple[str, ...] = ()
    """Expired waivers, waivers that matched nothing, refused inline suppressions."""
    settings: tuple[Setting, ...] = ()
    """What the scanned repository configured (untrusted), and the operator policy's floors."""
    interrupted: str | None = None
    """Why the run stopped before it finished (a signal, an internal error): incomplete."""
    components: tuple[Component, ...] = ()
    """Every dependency the manifests declare (the SBOM's components)."""
    change: ChangeScope | None = None
    """A diff scan's change (`--changed-since`); None: the whole target was scanned."""

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for r in self.results for f in r.findings)

    @property
    def active_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.active)

    @property
    def nothing_ran(self) -> bool:
        """Every scanner was disabled: nothing was assessed, whatever the findings say."""
        return bool(self.results) and all(r.status is Status.DISABLED for r in self.results)

    @property
    def inventory_not_assessed(self) -> tuple[SkippedPath, ...]:
        """Paths (or the whole scope, path ".") that were in scope and not assessed."""
        return tuple(s for s in self.skipped_paths if s.not_assessed)

    def skipped_by_reason(self) -> dict[str, tuple[int, int]]:
        """Category → (paths listed, files under them), in SKIP_CATEGORIES order."""
        tally: dict[str, tuple[int, int]] = {}
        for s in self.skipped_paths:
            paths, files = tally.get(s.category, (0, 0))
            tally[s.category] = (paths + 1, files + s.files)
        return {c: tally[c] for c in SKIP_CATEGORIES if c in tally}

    @property
    def incomplete(self) -> bool:
        return (
            self.interrupted is not None
            or self.nothing_ran
            or any(s.not_assessed for s in self.skipped_paths)
            or any(not r.complete for r in self.results)
        )
