"""The quarterly audit report: from the ledger's runs, what an auditor asks for.

A finding (by fingerprint, per repository) is *opened* on the first run where it
is active and *closed* on the first later run that re-assessed it and did not
report it active: a run re-assesses a finding when it was not interrupted, the
finding's scanner ran with status ok, and its file (or dependency/resource) was
neither among that scanner's not-assessed items nor skipped by discovery
(excluded, ignored, unreadable…). A run that could not re-assess an open finding
leaves it open, marked "not re-assessed in run N" — absence is not remediation.
Time to remediate is closed − opened in days. An SLA breach is
a finding closed later than its severity's SLA after it opened, or still open at
the period's end and older than the SLA. Control status at the end is the last
run's; its history is one cell per run.

A period is a calendar quarter (`2026-Q4`) or any window of dates (`date_period`,
for a SOC 2 Type II window of 6 to 12 months). A period not over on the report date
is *interim*: ages, SLA breaches, waiver expiries and days without a scan run to the
report date (`as_of`), not to the period's end. The report date is passed in, never
read from a clock here. Days without a scan count every day of the period up to
`as_of` with no run, before the first run and after the last alike; a control never
PASS or FAIL in the period is never assessed (ERROR, MANUAL and NOT_ASSESSED alike).

On paper (the HTML and its PDF, A4 or Letter) a long table shows its first rows and
names the export that has them all (`pipeline.report.exports`); controls are in natural
order (`natural_key`: PCI DSS 3.5.1 before 10.2.1) under their framework's title.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.controls import Catalog
from pipeline.report import exports
from pipeline.report.html import environment

SEVERITIES = ("critical", "high", "medium", "low", "info")
DEFAULT_SLA_DAYS = {"critical": 7, "high": 30, "medium": 90, "low": 180, "info": 365}
STATUS_COLORS = {
    "PASS": "#116329",
    "FAIL": "#b42318",
    "ERROR": "#6f2da8",
    "NOT_ASSESSED": "#8a5300",
    "MANUAL": "#57606a",
    "ATTESTED": "#0b5394",
}
PAPER_SIZES = {"a4": "A4", "letter": "letter"}
"""`--paper` → the CSS page size of the report's PDF."""
PAPER_ROWS = 25
"""Rows of a long table (breaches, findings, runs, waivers) in the HTML and PDF; its CSV
export next to the report has every row."""
PAPER_EVIDENCE_ROWS = 100
"""Runs listed in the printed evidence index (the evidence CSV lists every run)."""


def natural_key(text: str) -> tuple[tuple[tuple[str, int], ...], str]:
    """Sort key for control ids as people number them: runs of digits compare as numbers
    (`3.5.1` < `10.2.1`, `CC6.2` < `CC6.10`, `A.8.2` < `A.8.28`), letters without case;
    the text itself breaks ties, so the order is total."""
    parts = re.split(r"(\d+)", text)
    pairs = tuple((parts[i].casefold(), int(parts[i + 1])) for i in range(0, len(parts) - 1, 2))
    return (*pairs, (parts[-1].casefold(), -1)), text


def catalog_titles(catalog: Catalog) -> dict[str, str]:
    """Framework id → "title version" as the report names it (`pci-dss` → `PCI DSS 4.0`);
    a version the title already carries is not repeated."""
    return {
        fw.id: fw.title if fw.version in fw.title else f"{fw.title} {fw.version}"
        for fw in catalog.frameworks.values()
    }


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """'2026-Q4' → (2026-10-01, 2026-12-31)."""
    try:
        year_text, q_text = quarter.upper().split("-Q")
        year, q = int(year_text), int(q_text)
        if not 1 <= q <= 4:
            raise ValueError
    except ValueError:
        raise ValueError(f"{quarter!r} is not a quarter like 2026-Q4") from None
    start = dt.date(year, 3 * q - 2, 1)
    end = (dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)) - dt.timedelta(days=1)
    return start, end


@dataclass(frozen=True)
class Period:
    """The dates a report covers, both included, and the label its files are named by."""

    label: str
    start: dt.date
    end: dt.date


def quarter_period(quarter: str) -> Period:
    """'2026-q4' → Period('2026-Q4', 2026-10-01, 2026-12-31)."""
    start, end = quarter_bounds(quarter)
    return Period(f"{start.year}-Q{(start.month - 1) // 3 + 1}", start, end)


def _date(text: str, what: str) -> dt.date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"{what} {text!r} is not a date like 2026-06-01")


def date_period(start: str, end: str) -> Period:
    """`--from 2026-06-01 --to 2026-11-30` → Period('2026-06-01_2026-11-30', …)."""
    first, last = _date(start, "--from"), _date(end, "--to")
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    return Period(f"{first.isoformat()}_{last.isoformat()}", first, last)


def previous_quarter(quarter: str) -> str:
    start, _ = quarter_bounds(quarter)
    prev = start - dt.timedelta(days=1)
    return f"{prev.year}-Q{(prev.month - 1) // 3 + 1}"


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
        return cls(record.get("interrupted"), scanners, skipped, bool(record.get("skipped_capped")), items)

    def why_not(self, tool: str, path: str, resource: str | None) -> str | None:
        """Why this run could not have reported a finding of `tool` at `path`, or None when
        it assessed it (and so its absence means it is gone)."""
        if self.interrupted:
            return f"run interrupted ({self.interrupted})"
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


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(0.9 * len(ordered))  # nearest-rank percentile
    return ordered[rank - 1]


def _life_row(life: Lifecycle) -> dict[str, Any]:
    """The columns every list of findings in the report shares."""
    return {
        "repo": life.repo,
        "fingerprint": life.fingerprint,
        "severity": life.severity,
        "rule": life.rule_id,
        "title": life.title,
        "path": life.path,
        "opened": life.opened.isoformat(),
    }


def _not_reassessed(pending: Unassessed) -> str:
    return f"not re-assessed in run #{pending.seq} ({pending.day.isoformat()})"


def summarise(
    q: Quarter, sla: Mapping[str, int], framework_titles: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Every figure of the report, as plain values (the template only lays them out).
    `framework_titles` names each framework id (from the policies); an id without one is
    shown as it is."""
    runs = sorted(q.runs, key=lambda r: (r.record["started_at"], r.repo))
    lives = lifecycles(q.before + q.runs)
    in_q = [
        life for life in lives if life.opened <= q.end and (life.closed is None or life.closed >= q.start)
    ]
    opened = Counter(life.severity for life in in_q if q.start <= life.opened <= q.end)
    closed = Counter(life.severity for life in in_q if life.closed and q.start <= life.closed <= q.end)
    still_open = [life for life in in_q if life.closed is None or life.closed > q.end]
    ttr: dict[str, list[float]] = defaultdict(list)
    breaches = []
    for life in in_q:
        limit = sla.get(life.severity)
        if life.closed and q.start <= life.closed <= q.end:
            days = (life.closed - life.opened).days
            ttr[life.severity].append(days)
            if limit is not None and days > limit:
                breaches.append((life, days, "closed late"))
        elif life.closed is None or life.closed > q.end:
            age = (q.until - life.opened).days
            if limit is not None and age > limit:
                breaches.append((life, age, "still open"))
    remediation = [
        {
            "severity": s,
            "sla": sla.get(s),
            "closed": len(ttr[s]),
            "mean": round(statistics.fmean(ttr[s]), 1) if ttr[s] else None,
            "p90": _p90(ttr[s]),
        }
        for s in SEVERITIES
    ]
    # Controls: status at quarter end, history per run, runs that evidence each.
    controls: dict[tuple[str, str], dict[str, Any]] = {}
    for run in runs:
        for c in run.record.get("controls", []):
            key = (c["framework"], c["control_id"])
            entry = controls.setdefault(
                key, {"title": c["title"], "history": [], "evidence": 0, "attested": 0, "attestation": None}
            )
            entry["history"].append((run.record["started_at"][:10], c["status"]))
            entry["label"] = c.get("label") or c["status"]
            entry["attestation"] = c.get("attestation") or entry["attestation"]
            if c["status"] in ("PASS", "FAIL"):
                entry["evidence"] += 1
            elif c["status"] == "ATTESTED":
                entry["attested"] += 1
    frameworks: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (fw, cid), entry in sorted(controls.items(), key=lambda kv: (kv[0][0], natural_key(kv[0][1]))):
        statuses = [s for _, s in entry["history"]]
        frameworks[fw].append(
            {
                "id": cid,
                "title": entry["title"],
                "status": statuses[-1],
                "label": entry["label"],
                "history": entry["history"],
                "counts": dict(Counter(statuses)),
                "evidence_runs": entry["evidence"],
                "attested_runs": entry["attested"],
                "attestation": entry["attestation"],
            }
        )
    # Never assessed: no run of the period evidenced it (never PASS or FAIL) and no
    # current attestation did (never ATTESTED).
    never_rows = [
        {"control": f"{fw} {c['id']}", "framework": fw, "id": c["id"], "counts": c["counts"]}
        for fw, rows in frameworks.items()
        for c in rows
        if c["evidence_runs"] == 0 and c["attested_runs"] == 0
    ]
    never = [row["control"] for row in never_rows]
    # Coverage gaps: every day of the period up to `until` without a run, before the
    # first run and after the last included.
    scanned_days = {r.day for r in runs}
    gaps = [
        q.start + dt.timedelta(days=i)
        for i in range((q.until - q.start).days + 1)
        if q.start + dt.timedelta(days=i) not in scanned_days
    ]
    gap_ranges: list[dict[str, Any]] = []
    for day in gaps:
        if gap_ranges and dt.date.fromisoformat(gap_ranges[-1]["last"]) + dt.timedelta(days=1) == day:
            gap_ranges[-1]["last"] = day.isoformat()
            gap_ranges[-1]["days"] += 1
        else:
            gap_ranges.append({"first": day.isoformat(), "last": day.isoformat(), "days": 1})
    failed_scanners = [
        (r.record["started_at"], r.repo, s["name"])
        for r in runs
        for s in r.record["scanners"]
        if s["status"] == "failed"
    ]
    ran: Counter[str] = Counter(s["name"] for r in runs for s in r.record["scanners"])
    failures: dict[str, list[str]] = defaultdict(list)
    for when, _repo, name in failed_scanners:
        failures[name].append(when[:10])
    scanner_failures = [
        {"scanner": name, "failed": len(days), "runs": ran[name], "first": min(days), "last": max(days)}
        for name, days in sorted(failures.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    # Waiver register, from the runs' suppressed findings.
    waivers: dict[tuple[str, str], dict[str, Any]] = {}
    for r in sorted(q.before + q.runs, key=lambda r: r.record["started_at"]):
        for f in r.record["findings"]:
            sup = f.get("suppression") or {}
            if sup.get("kind") != "waiver":
                continue
            key = (r.repo, str(sup.get("source") or f["fingerprint"]))
            entry = waivers.setdefault(
                key,
                {
                    "repo": r.repo,
                    "source": sup.get("source"),
                    "reason": sup.get("reason"),
                    "owner": sup.get("owner"),
                    "approved_by": sup.get("approved_by"),
                    "expires": sup.get("expires"),
                    "first_seen": r.day,
                    "findings": set(),
                },
            )
            entry["findings"].add(f["fingerprint"])
    register = []
    for w in waivers.values():
        expires = dt.date.fromisoformat(w["expires"]) if w["expires"] else None
        register.append(
            {
                **w,
                "findings": len(w["findings"]),
                # As `suppress` decides: a waiver expiring on a day still holds that day.
                "state": "expired" if expires and expires < q.until else "active",
                "expires_in_period": bool(expires and q.until <= expires < q.end),
                "created_this_quarter": q.start <= w["first_seen"] <= q.end,
                "flags": [] if w["approved_by"] else ["no approver"],
            }
        )
    # Scope.
    tools = sorted(
        {
            f"{s['tool']['name']} {s['tool']['version']}"
            for r in runs
            for s in r.record["scanners"]
            if s["tool"]
        }
    )
    ages = [r.record["advisory_database"]["age_days"] for r in runs if r.record.get("advisory_database")]
    # Against before the period: each control's last status in the earlier runs. A control
    # no earlier run assessed is new, not a change (and with no earlier run, nothing is).
    prev_end_status: dict[tuple[str, str], str] = {}
    for r in sorted(q.before, key=lambda r: r.record["started_at"]):
        for c in r.record.get("controls", []):
            prev_end_status[(c["framework"], c["control_id"])] = c["status"]
    changes = [
        {
            "control": f"{fw} {c['id']}",
            "framework": fw,
            "id": c["id"],
            "before": prev_end_status[(fw, c["id"])],
            "now": c["status"],
        }
        for fw, rows in frameworks.items()
        for c in rows
        if (fw, c["id"]) in prev_end_status and prev_end_status[(fw, c["id"])] != c["status"]
    ]
    new_controls = [
        {"control": f"{fw} {c['id']}", "framework": fw, "id": c["id"], "now": c["status"]}
        for fw, rows in frameworks.items()
        for c in rows
        if q.before and (fw, c["id"]) not in prev_end_status
    ]
    open_at_start = Counter(
        life.severity
        for life in lives
        if life.opened < q.start and (life.closed is None or life.closed >= q.start)
    )
    open_at_end = Counter(life.severity for life in still_open)
    accepted_at_end = Counter(life.severity for life in still_open if life.acceptance is not None)
    unassessed_at_end = Counter(life.severity for life in still_open if life.pending is not None)
    # Runs of the quarter that could not re-assess findings open before them.
    blind: dict[tuple[str, int], dict[str, Any]] = {}
    for life in lives:
        for mark in life.not_reassessed:
            if not q.start <= mark.day <= q.end:
                continue
            entry = blind.setdefault(
                (life.repo, mark.seq),
                {
                    "date": mark.day.isoformat(),
                    "repo": life.repo,
                    "seq": mark.seq,
                    "why": Counter(),
                    "by": Counter(),
                },
            )
            entry["why"][mark.why] += 1
            entry["by"][life.severity] += 1
    not_reassessed_runs = [
        {
            "date": e["date"],
            "repo": e["repo"],
            "seq": e["seq"],
            "findings": sum(e["by"].values()),
            "by_severity": {sev: e["by"][sev] for sev in SEVERITIES if e["by"][sev]},
            "reasons": [f"{why} ({n})" if n > 1 else why for why, n in e["why"].most_common()],
        }
        for e in sorted(blind.values(), key=lambda e: (e["date"], e["repo"], e["seq"]))
    ]
    return {
        "quarter": q.quarter,
        "period": q.quarter,
        "start": q.start.isoformat(),
        "end": q.end.isoformat(),
        "as_of": q.until.isoformat(),
        "interim": q.interim,
        "repos": sorted({r.repo for r in runs}),
        "run_count": len(runs),
        "first_run": runs[0].record["started_at"] if runs else None,
        "last_run": runs[-1].record["started_at"] if runs else None,
        "tools": tools,
        "advisory_age": (min(ages), max(ages)) if ages else None,
        "frameworks": dict(frameworks),
        "framework_titles": {fw: (framework_titles or {}).get(fw, fw) for fw in frameworks},
        "opened": {s: opened.get(s, 0) for s in SEVERITIES},
        "closed": {s: closed.get(s, 0) for s in SEVERITIES},
        "still_open": {s: sum(1 for life in still_open if life.severity == s) for s in SEVERITIES},
        "remediation": remediation,
        "breaches": [
            {
                **_life_row(life),
                "closed": life.closed.isoformat() if life.closed else None,
                "days": days,
                "sla": sla.get(life.severity),
                "kind": kind,
                "not_reassessed": (
                    _not_reassessed(life.pending)
                    if life.pending is not None and kind == "still open"
                    else None
                ),
            }
            for life, days, kind in sorted(breaches, key=lambda b: (SEVERITIES.index(b[0].severity), -b[1]))
        ],
        "waivers": sorted(register, key=lambda w: (w["state"], w["repo"], str(w["source"]))),
        "waivers_without_approver": sum(1 for w in register if not w["approved_by"]),
        "accepted": accepted_register(still_open, q.until),
        "attestations": attestation_register(frameworks, q),
        "branch": q.branch,
        "unknown_branch_runs": sum(1 for r in runs if on_default(r.record) is None),
        "other_branches": branch_rows(q.other_branches),
        "gap_days": [d.isoformat() for d in gaps],
        "gap_ranges": gap_ranges,
        "failed_scanners": failed_scanners,
        "scanner_failures": scanner_failures,
        "never_assessed": never,
        "never_assessed_controls": never_rows,
        "evidence": [
            {
                "date": r.record["started_at"],
                "repo": r.repo,
                "seq": r.seq,
                "commit": (r.record.get("git") or {}).get("commit"),
                "manifest": r.record.get("manifest_digest"),
                "verdict": r.record["verdict"],
                "chain": "intact" if r.chain_ok else "BROKEN",
            }
            for r in runs
        ],
        "changes": changes,
        "new_controls": new_controls,
        "runs_before": len(q.before),
        "lifecycle": [
            {
                "severity": sev,
                "open_at_start": open_at_start.get(sev, 0),
                "opened": opened.get(sev, 0),
                "closed": closed.get(sev, 0),
                "open_at_end": open_at_end.get(sev, 0),
                "not_reassessed_at_end": unassessed_at_end.get(sev, 0),
                "accepted_at_end": accepted_at_end.get(sev, 0),
            }
            for sev in SEVERITIES
        ],
        "not_reassessed_runs": not_reassessed_runs,
        "open_not_reassessed": [
            {
                **_life_row(life),
                "mark": _not_reassessed(life.pending),
                "why": life.pending.why,
            }
            for life in sorted(
                (life for life in still_open if life.pending is not None),
                key=lambda life: (SEVERITIES.index(life.severity), life.opened, life.repo, life.path),
            )
            if life.pending is not None
        ],
        "severity_change": [
            {"severity": s, "open_at_start": open_at_start.get(s, 0), "open_at_end": open_at_end.get(s, 0)}
            for s in SEVERITIES
        ],
        "colors": STATUS_COLORS,
    }


def accepted_register(still_open: Iterable[Lifecycle], until: dt.date) -> list[dict[str, Any]]:
    """Accepted risk open at the end, one row per baseline: who owns it, why, until when;
    a baseline past its review date is 'review overdue', and one without an approver or
    without an owner and reason on record (a version-1 file) is flagged."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for life in still_open:
        a = life.acceptance
        if a is None:
            continue
        key = (life.repo, str(a.get("source") or "baseline"))
        row = groups.setdefault(
            key,
            {
                "repo": life.repo,
                "source": key[1],
                "reason": a.get("reason"),
                "owner": a.get("owner"),
                "approved_by": a.get("approved_by"),
                "review_by": a.get("expires"),
                "by": Counter(),
                "first_opened": life.opened,
            },
        )
        row["by"][life.severity] += 1
        row["first_opened"] = min(row["first_opened"], life.opened)
    out = []
    for row in groups.values():
        review = row["review_by"]
        flags = [] if row["approved_by"] else ["no approver"]
        if not row["owner"]:
            flags.append("no owner or reason on record")
        out.append(
            {
                **{k: v for k, v in row.items() if k != "by"},
                "first_opened": row["first_opened"].isoformat(),
                "findings": sum(row["by"].values()),
                "by_severity": {sev: row["by"][sev] for sev in SEVERITIES if row["by"][sev]},
                "state": "review overdue" if review and dt.date.fromisoformat(review) < until else "accepted",
                "flags": flags,
            }
        )
    return sorted(out, key=lambda r: (r["state"] != "review overdue", r["repo"], r["source"]))


def attestation_register(frameworks: Mapping[str, list[dict[str, Any]]], q: Quarter) -> list[dict[str, Any]]:
    """Every manual control seen in the period: its last attestation and whether it is
    current, due before the period ends, overdue (due before the report date) or missing."""
    rows = []
    for fw, controls in frameworks.items():
        for c in controls:
            a = c["attestation"]
            if a is None and c["status"] != "MANUAL":
                continue
            if a is None:
                state = "missing"
            elif dt.date.fromisoformat(a["due"]) < q.until:
                state = "overdue"
            elif dt.date.fromisoformat(a["due"]) < q.end:
                state = "due before the period ends"
            else:
                state = "current"
            rows.append(
                {
                    "control": f"{fw} {c['id']}",
                    "title": c["title"],
                    "status": c["label"],
                    "state": state,
                    **(a or {}),
                }
            )
    order = {"overdue": 0, "missing": 1, "due before the period ends": 2, "current": 3}
    return sorted(rows, key=lambda r: (order[r["state"]], r["control"]))


def on_default(record: Mapping[str, Any]) -> bool | None:
    """Whether a run was of its repository's default branch; None when it did not record it."""
    value = (record.get("git") or {}).get("on_default_branch")
    return value if isinstance(value, bool) else None


def branch_rows(runs: Iterable[RunView]) -> list[dict[str, Any]]:
    """Runs of other branches, one row per repository and branch, newest last."""
    groups: dict[tuple[str, str], list[RunView]] = defaultdict(list)
    for r in runs:
        groups[(r.repo, str((r.record.get("git") or {}).get("branch") or "(detached)"))].append(r)
    rows = []
    for (repo, branch), views in sorted(groups.items()):
        views.sort(key=lambda r: r.record["started_at"])
        last = views[-1].record
        rows.append(
            {
                "repo": repo,
                "branch": branch,
                "runs": len(views),
                "first": views[0].record["started_at"],
                "last": last["started_at"],
                "last_verdict": last["verdict"],
                "last_active": sum(1 for f in last["findings"] if open_state(f) == "active"),
            }
        )
    return rows


def _page_size(paper: str) -> str:
    try:
        return PAPER_SIZES[paper]
    except KeyError:
        raise ValueError(f"paper {paper!r}: expected one of {', '.join(PAPER_SIZES)}") from None


def render_html(summary: Mapping[str, Any], templates: Path, generated_at: str, paper: str = "a4") -> str:
    """The report page; `paper` (a4 or letter) is the page size it prints on."""
    return (
        environment(templates)
        .get_template("quarterly.html.j2")
        .render(
            q=summary,
            generated_at=generated_at,
            page_size=_page_size(paper),
            rows=PAPER_ROWS,
            evidence_rows=PAPER_EVIDENCE_ROWS,
            exports=exports.file_names(str(summary["period"])),
        )
    )


def render_pdf(html_text: str, paper: str | None = None) -> bytes:
    """The same page through WeasyPrint (needs Debian's pango libraries), on the page
    size the page asks for, or on `paper` (a4 or letter) when given."""
    from weasyprint import CSS, HTML

    sheets = [] if paper is None else [CSS(string=f"@page {{ size: {_page_size(paper)} !important }}")]
    return bytes(HTML(string=html_text).write_pdf(stylesheets=sheets))


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
