"""The quarterly report's registers beyond findings: accepted risk (baselines), the
attestations of manual controls, and the runs of other branches."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from pipeline.report.history import Lifecycle, Quarter, RunView, open_state

SEVERITIES = ("critical", "high", "medium", "low", "info")


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
