"""A period's runs from the ledger, and the lifecycles of their findings.

A finding (by fingerprint, per repository) is *opened* on the first run where it is open
(active, or accepted in a baseline: accepted risk is still open) and *closed* on the first
later run that re-assessed it and did not report it open: a run re-assesses a finding
when it was not interrupted, the finding's scanner ran with status ok, and its file (or
dependency/resource) was neither among that scanner's not-assessed items nor skipped by
discovery (excluded, ignored, unreadable…). A run that could not re-assess an open
finding leaves it open, marked "not re-assessed in run N" — absence is not remediation.

A period's runs are those of the branch reported on: by default each repository's
default branch (runs that recorded being of it, and runs that recorded nothing either
way); runs of other branches are kept apart (`Quarter.other_branches`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.report.periods import Period, quarter_period


def _day(ts: str) -> dt.date:
    return dt.date.fromisoformat(ts[:10])


@dataclass(frozen=True)
class Unassessed:
    """A run in which an open finding was absent but could not have been reported."""

    seq: int
    day: dt.date
    why: str


@dataclass
class Lifecycle:
    repo: str
    fingerprint: str
    severity: str
    title: str
    rule_id: str
    path: str
    opened: dt.date
    closed: dt.date | None = None
    tool: str = ""
    resource: str | None = None
    not_reassessed: list[Unassessed] = field(default_factory=list)
    """Runs (while it was open) that did not report it and could not have: it stayed open."""
    pending: Unassessed | None = None
    """The latest such run when no run since reported it: open only because nothing looked."""
    acceptance: Mapping[str, Any] | None = None
    """The baseline that accepts it, as the last run reporting it recorded (accepted risk:
    still open); None while it is active."""


@dataclass
class RunView:
    repo: str
    seq: int
    digest: str
    record: Mapping[str, Any]
    chain_ok: bool = True

    @property
    def day(self) -> dt.date:
        return _day(self.record["started_at"])


@dataclass
class Quarter:
    """A period's runs as loaded (a quarter or any window: `quarter` is its label)."""

    quarter: str
    start: dt.date
    end: dt.date
    runs: list[RunView] = field(default_factory=list)
    before: list[RunView] = field(default_factory=list)
    """Runs before the period (to know what was open when it began)."""
    as_of: dt.date | None = None
    """The date ages, expiries and gaps run to: the report date when the period is not
    over on it (interim), else the period's end. None means the period's end."""
    branch: str | None = None
    """The branch reported on; None: each repository's default branch."""
    other_branches: list[RunView] = field(default_factory=list)
    """The period's runs of other branches (pull requests…): listed apart, never mixed in."""

    @property
    def until(self) -> dt.date:
        return self.as_of if self.as_of is not None else self.end

    @property
    def interim(self) -> bool:
        return self.until < self.end


def _ancestors(path: str) -> Iterator[str]:
    """`a/b/c.py` → `a/b/c.py`, `a/b`, `a`, `.`: a skipped or not-assessed folder covers its files."""
    parts = [p for p in path.strip("/").split("/") if p not in ("", ".")]
    for i in range(len(parts), 0, -1):
        yield "/".join(parts[:i])
    yield "."


@dataclass
class RunScope:
    """What one run assessed, from its ledger record (see `record_from_findings_json`)."""

    interrupted: str | None
    scanners: dict[str, Mapping[str, Any]]
    skipped: dict[str, str] | None
    """Path → category of what discovery gave no scanner; None for records older than that."""
    skipped_capped: bool
    items: dict[str, set[str]]
    """Per scanner that ran ok: its not-assessed items, and for a dependency label
    `flask>=2 (requirements.txt:3)` also the requirement `flask>=2`."""
    change: Mapping[str, Any] | None = None
    """A diff scan's change (`scope` of the record): only it was assessed."""

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> RunScope:
        scanners = {str(s["name"]): s for s in record.get("scanners", [])}
        items: dict[str, set[str]] = {}
        for name, sc in scanners.items():
            found: set[str] = set()
            for item in sc.get("unassessed") or []:
                found.add(item.strip("/") or ".")
                if item.endswith(")") and " (" in item:
                    found.add(item.rsplit(" (", 1)[0])
            items[name] = found
        skipped = (
            {str(k["path"]).strip("/") or ".": str(k.get("category", "other")) for k in record["skipped"]}
            if "skipped" in record
            else None
        )
        return cls(
            record.get("interrupted"),
            scanners,
            skipped,
            bool(record.get("skipped_capped")),
            items,
            record.get("scope"),
        )

    def why_not(self, tool: str, path: str, resource: str | None) -> str | None:
        """Why this run could not have reported a finding of `tool` at `path`, or None when
        it assessed it (and so its absence means it is gone)."""
        if self.interrupted:
            return f"run interrupted ({self.interrupted})"
        change = self.change
        if change and change.get("kind") == "change":
            parent = path.rsplit("/", 1)[0] if "/" in path else "."
            if change.get("error") or (
                path not in change.get("files", ()) and parent not in change.get("modules", ())
            ):
                return f"outside the change of a partial scan (since {change.get('since')})"
        sc = self.scanners.get(tool)
        if sc is None:
            return f"{tool} did not run"
        if sc.get("status") != "ok":
            return f"{tool} {sc.get('status')}"
        if "unassessed" not in sc:  # a record written before item lists were kept
            if sc.get("not_assessed", 0):
                return f"{tool}: {sc['not_assessed']} items not assessed (not listed in this record)"
        elif sc.get("unassessed_capped"):
            return f"{tool}: too many items not assessed to list"
        else:
            found = self.items.get(tool, set())
            if resource and resource in found:
                return f"{resource} not assessed by {tool}"
            for place in _ancestors(path):
                if place in found:
                    return f"{place} not assessed by {tool}"
        if self.skipped is not None:
            if self.skipped_capped:
                return "too many skipped paths to list"
            for place in _ancestors(path):
                if place in self.skipped:
                    return f"{place} skipped ({self.skipped[place]})"
        return None


def open_state(finding: Mapping[str, Any]) -> str | None:
    """'active', 'accepted' (baselined: accepted risk, still open) or None (waived or
    inline-suppressed). Records written before the 'accepted' status say 'suppressed'
    with a baseline suppression."""
    status = finding.get("status", "active")
    if status == "active":
        return "active"
    if status == "accepted" or (finding.get("suppression") or {}).get("kind") == "baseline":
        return "accepted"
    return None


def lifecycles(runs: Iterable[RunView]) -> list[Lifecycle]:
    """Open/close events of every finding, per repository, in run order. An open finding
    that a run does not report closes only when that run re-assessed it (`RunScope`);
    otherwise it stays open and the run is recorded against it."""
    by_repo: dict[str, list[RunView]] = defaultdict(list)
    for r in runs:
        by_repo[r.repo].append(r)
    out: list[Lifecycle] = []
    for repo, seq in by_repo.items():
        open_now: dict[str, Lifecycle] = {}
        for run in sorted(seq, key=lambda r: (r.record["started_at"], r.seq)):
            active = {f["fingerprint"]: f for f in run.record["findings"] if open_state(f)}
            reported = {f["fingerprint"] for f in run.record["findings"]}
            scope: RunScope | None = None
            for fp, life in list(open_now.items()):
                if fp in active:
                    life.pending = None
                    life.acceptance = _acceptance(active[fp])
                    continue
                why = None
                if fp not in reported:  # reported but suppressed: assessed (see the docs)
                    scope = scope or RunScope.of(run.record)
                    why = scope.why_not(life.tool, life.path, life.resource)
                if why is None:
                    life.closed = run.day
                    life.pending = None
                    del open_now[fp]
                else:
                    life.pending = Unassessed(run.seq, run.day, why)
                    life.not_reassessed.append(life.pending)
            for fp, f in active.items():
                if fp not in open_now:
                    life = Lifecycle(
                        repo,
                        fp,
                        f["severity"],
                        f["title"],
                        f["rule_id"],
                        f["path"],
                        run.day,
                        tool=f.get("tool", ""),
                        resource=f.get("resource"),
                        acceptance=_acceptance(f),
                    )
                    open_now[fp] = life
                    out.append(life)
    return out


def _acceptance(finding: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if open_state(finding) != "accepted":
        return None
    return dict(finding.get("suppression") or {"kind": "baseline", "reason": None})


def on_default(record: Mapping[str, Any]) -> bool | None:
    """Whether a run was of its repository's default branch; None when it did not record it."""
    value = (record.get("git") or {}).get("on_default_branch")
    return value if isinstance(value, bool) else None


def load_quarter(
    records: Iterable[tuple[str, int, str, dict[str, Any]]],
    quarter: str,
    broken: set[tuple[str, int]],
    repo: str | None = None,
    today: dt.date | None = None,
) -> Quarter:
    """The quarter's runs (and earlier ones, for what was already open) from ledger records."""
    return load_period(records, quarter_period(quarter), broken, repo, today=today)


def load_period(
    records: Iterable[tuple[str, int, str, dict[str, Any]]],
    period: Period,
    broken: set[tuple[str, int]],
    repo: str | None = None,
    today: dt.date | None = None,
    branch: str | None = None,
) -> Quarter:
    """The period's runs (and earlier ones, for what was already open) from ledger records.
    `branch` None keeps each repository's default-branch runs: those that recorded being
    of the default branch, and those that recorded nothing either way (older records, a
    scan that knew no default branch; the report counts them). Runs of other branches
    are kept apart in `other_branches`. A named `branch` keeps only that branch's runs.
    `today` is the report date: a period not over on it is interim and figures run to it;
    None reports as of the period's end (a past period, or a replay)."""
    start, end = period.start, period.end
    if today is not None and today < start:
        raise ValueError(f"the period {period.label} has not begun on the report date {today}")
    as_of = today if today is not None and today < end else None
    q = Quarter(period.label, start, end, as_of=as_of, branch=branch)
    for name, seq, digest, record in records:
        if repo is not None and name != repo:
            continue
        view = RunView(name, seq, digest, record, chain_ok=(name, seq) not in broken)
        mine = (
            (record.get("git") or {}).get("branch") == branch
            if branch is not None
            else on_default(record) is not False
        )
        if not mine:
            if start <= view.day <= end:
                q.other_branches.append(view)
            continue
        if view.day < start:
            q.before.append(view)
        elif view.day <= end:
            q.runs.append(view)
    return q
