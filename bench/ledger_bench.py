"""Benchmark: the ledger and the quarterly report (issue 7).

Fills a SQLite ledger with 365 daily runs of 1,000 findings each (findings open and
close over time), then times one append (median of 20 more) and the quarterly HTML.
Targets: quarterly report HTML ≤ 5 s on SQLite; one append ≤ 50 ms.
Usage: .venv/bin/python bench/ledger_bench.py
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import ledger, resources  # noqa: E402
from pipeline.report import quarterly  # noqa: E402

SEVERITIES = ("critical", "high", "medium", "low", "info")


def record(day: dt.date, findings: list[dict[str, object]]) -> dict[str, object]:
    return {
        "started_at": f"{day.isoformat()}T06:00:00Z",
        "finished_at": f"{day.isoformat()}T06:02:00Z",
        "target": "/repo",
        "git": {
            "commit": "c" * 40,
            "branch": "main",
            "remote": "git@example.invalid:org/app.git",
            "dirty": False,
        },
        "pipeline_version": "0.1.0",
        "verdict": "fail",
        "manifest_digest": "sha256:" + f"{day.toordinal():064x}",
        "advisory_database": {
            "source": "osv",
            "records": 2651,
            "newest_modified": day.isoformat(),
            "digest": "sha256:" + "0" * 64,
            "age_days": 1.0,
        },
        "scanners": [
            {"name": n, "status": "ok", "tool": {"name": n, "version": "1"}, "not_assessed": 0}
            for n in ("detect-secrets", "bandit", "pip-audit", "checkov")
        ],
        "findings": findings,
        "controls": [
            {
                "framework": fw,
                "control_id": f"C{i}",
                "title": f"control {i}",
                "status": random.choice(["PASS", "FAIL"]),
            }
            for fw in ("soc2", "iso27001", "pci-dss", "hipaa", "nist-800-53")
            for i in range(8)
        ],
    }


def main() -> None:
    rnd = random.Random(1)
    random.seed(1)
    db = Path(tempfile.mkdtemp(prefix="ledger-bench-")) / "ledger.sqlite"
    book = ledger.Ledger(str(db))
    pool = [
        {
            "fingerprint": f"{i:032x}",
            "tool": "checkov",
            "rule_id": f"CKV_{i % 300}",
            "title": "t",
            "severity": SEVERITIES[i % 5],
            "path": f"infra/m{i % 40}.tf",
            "status": "active",
            "suppression": None,
        }
        for i in range(3000)
    ]
    current = set(range(1000))
    start_day = dt.date(2026, 1, 1)
    t0 = time.perf_counter()
    for d in range(365):
        for _ in range(15):  # 15 fixed, 15 new each day
            current.discard(rnd.choice(sorted(current)))
            current.add(rnd.randrange(3000))
        while len(current) < 1000:
            current.add(rnd.randrange(3000))
        day = start_day + dt.timedelta(days=d)
        book.append(
            "org/app", f"run-{d}", f"{day}T06:00:00Z", record(day, [pool[i] for i in sorted(current)])
        )
    fill = time.perf_counter() - t0
    appends = []
    for k in range(20):
        day = dt.date(2027, 1, 1) + dt.timedelta(days=k)
        rec = record(day, [pool[i] for i in sorted(current)])
        start = time.perf_counter()
        book.append("org/app", f"extra-{k}", f"{day}T06:00:00Z", rec)
        appends.append(time.perf_counter() - start)
    print(f"ledger: 365 runs x 1,000 findings written in {fill:.1f} s ({db.stat().st_size / 1e6:.0f} MB)")
    print(f"one append (1,000 findings): median {statistics.median(appends) * 1000:.1f} ms (target ≤ 50 ms)")
    start = time.perf_counter()
    broken = {(p.repo, p.seq) for p in book.verify()}
    q = quarterly.load_quarter(book.records(), "2026-Q4", broken)
    summary = quarterly.summarise(q, quarterly.DEFAULT_SLA_DAYS)
    page = quarterly.render_html(summary, resources.templates_dir(), "2027-01-21T00:00:00Z")
    secs = time.perf_counter() - start
    print(
        f"quarterly report 2026-Q4 HTML (chain verified, 365 runs read): {secs:.2f} s, "
        f"{len(page) / 1e6:.1f} MB (target ≤ 5 s)"
    )
    book.close()


if __name__ == "__main__":
    main()
