"""The quarterly audit report: from the ledger's runs, what an auditor asks for.

The period's runs and the lifecycles of their findings come from `history` (a finding
closes only on a run that re-assessed it: absence is not remediation; accepted risk stays
open), the registers of accepted risk, attestations and other branches from `registers`,
the periods from `periods`. Here: every figure of the report, as plain values.

Time to remediate is closed − opened in days. An SLA breach is a finding closed later
than its severity's SLA after it opened, or still open at the period's end and older
than the SLA. Control status at the end is the last run's; its history is one cell per
run. A period not over on the report date is *interim*: ages, SLA breaches, waiver
expiries and days without a scan run to the report date (`as_of`), not to the period's
end; the report date is passed in, never read from a clock here. Days without a scan
count every day of the period up to `as_of` with no run of the branch reported on,
before the first run and after the last alike; a control never PASS, FAIL or ATTESTED in
the period is never assessed (ERROR, MANUAL and NOT_ASSESSED alike).

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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.controls import Catalog
from pipeline.report import exports
from pipeline.report.history import (
    Lifecycle,
    Quarter,
    RunScope,
    Unassessed,
    lifecycles,
    load_period,
    load_quarter,
    on_default,
)
from pipeline.report.html import coverage, environment
from pipeline.report.periods import Period, date_period, previous_quarter, quarter_bounds, quarter_period
from pipeline.report.registers import accepted_register, attestation_register, branch_rows

__all__ = [
    "DEFAULT_SLA_DAYS",
    "PAPER_SIZES",
    "SEVERITIES",
    "Period",
    "Quarter",
    "RunScope",
    "catalog_titles",
    "date_period",
    "lifecycles",
    "load_period",
    "load_quarter",
    "natural_key",
    "previous_quarter",
    "quarter_bounds",
    "quarter_period",
    "render_html",
    "render_pdf",
    "summarise",
]

SEVERITIES = ("critical", "high", "medium", "low", "info")
DEFAULT_SLA_DAYS = {"critical": 7, "high": 30, "medium": 90, "low": 180, "info": 365}
STATUS_COLORS = {
    "PASS": "#116329",
    "FAIL": "#b42318",
    "ERROR": "#6f2da8",
    "NOT_ASSESSED": "#8a5300",
    "MANUAL": "#57606a",
    "ATTESTED": "#0b5394",
    "NOT_APPLICABLE": "#8c959f",
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
            entry["assessment"] = c.get("assessment", "automated")
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
                "assessment": entry.get("assessment", "automated"),
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
        if c["evidence_runs"] == 0 and c["attested_runs"] == 0 and c["status"] != "NOT_APPLICABLE"
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
        "coverage": {fw: coverage(rows) for fw, rows in frameworks.items()},
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
