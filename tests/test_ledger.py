"""The ledger on SQLite and PostgreSQL: chain, tampering, concurrency, import, quarterly report."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pipeline import ledger
from pipeline.report import quarterly

PG_ADMIN = os.environ.get(
    "COMPLIANCE_PIPELINE_TEST_POSTGRES",
    "postgresql://postgres@/postgres?host=/tmp/compliance-pipeline-pgsock&port=54329",
)


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "ledger.sqlite")
        return
    admin = sa.create_engine(ledger.url_of(PG_ADMIN), isolation_level="AUTOCOMMIT")
    name = "ledger_" + uuid.uuid4().hex[:12]
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not running ({exc.__class__.__name__}): `make test` starts it")
    yield PG_ADMIN.replace("/postgres?", f"/{name}?")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    admin.dispose()


def _record(day: str, findings: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "started_at": f"{day}T06:00:00Z",
        "finished_at": f"{day}T06:01:00Z",
        "target": "/repo",
        "git": {
            "commit": "c" * 40,
            "branch": "main",
            "remote": "git@example.invalid:a/b.git",
            "dirty": False,
        },
        "pipeline_version": "0.1.0",
        "verdict": "fail" if findings else "pass",
        "manifest_digest": "sha256:" + uuid.uuid4().hex,
        "advisory_database": None,
        "scanners": [
            {
                "name": "bandit",
                "status": "ok",
                "tool": {"name": "bandit", "version": "1.9.4"},
                "not_assessed": 0,
            }
        ],
        "findings": findings or [],
        "controls": [],
        **extra,
    }


def test_chain_detects_altered_deleted_and_swapped_records(target: str) -> None:
    book = ledger.Ledger(target)
    for i in range(5):
        assert book.append("repo-a", f"k{i}", f"2026-10-0{i + 1}", _record(f"2026-10-0{i + 1}"))
    assert book.append("repo-b", "kb", "2026-10-01", _record("2026-10-01"))
    assert book.verify() == []
    table = ledger.runs
    with book.engine.begin() as conn:  # alter the content of #2
        conn.execute(
            table.update().where(table.c.run_key == "k1").values(record=json.dumps({"forged": True}))
        )
    assert [(p.repo, p.seq, p.kind) for p in book.verify()] == [("repo-a", 2, "altered")]
    with book.engine.begin() as conn:  # delete #4
        conn.execute(table.delete().where(table.c.run_key == "k3"))
    kinds = {(p.seq, p.kind) for p in book.verify()}
    assert (2, "altered") in kinds and (5, "missing") in kinds
    book.close()


def test_chain_detects_reordering(target: str) -> None:
    book = ledger.Ledger(target)
    for i in range(3):
        book.append("r", f"k{i}", f"2026-10-0{i + 1}", _record(f"2026-10-0{i + 1}"))
    table = ledger.runs
    with book.engine.begin() as conn:  # swap #2 and #3 (content and links), keeping the seq numbers
        rows = {r.seq: r for r in conn.execute(sa.select(table).where(table.c.repo == "r"))}
        for seq in (2, 3):
            conn.execute(
                table.update().where(table.c.run_key == rows[seq].run_key).values(run_key=f"tmp{seq}")
            )
        for seq, other in ((2, 3), (3, 2)):
            src = rows[other]
            conn.execute(
                table.update()
                .where(table.c.run_key == f"tmp{seq}")
                .values(
                    run_key=src.run_key,
                    record=src.record,
                    prev_digest=src.prev_digest,
                    digest=src.digest,
                    started_at=src.started_at,
                )
            )
    assert {p.kind for p in book.verify()} >= {"reordered"}
    book.close()


def _writer(target: str, writer: int, count: int) -> None:
    book = ledger.Ledger(target)
    for i in range(count):
        book.append("shared", f"w{writer}-{i}", "2026-10-01", _record("2026-10-01", writer=writer, i=i))
    book.close()


def test_eight_concurrent_writers_neither_lose_nor_fork(target: str) -> None:
    ctx = multiprocessing.get_context("spawn")  # the 8 also race to create the schema
    procs = [ctx.Process(target=_writer, args=(target, w, 50)) for w in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    book = ledger.Ledger(target)
    seqs = [seq for _, seq, _, _ in book.records("shared")]
    assert seqs == list(range(1, 401))
    assert book.verify() == []
    book.close()


# A generated quarter: 90 daily runs, findings opening and closing on known days.
Q4 = dt.date(2026, 10, 1)


def _f(fp: str, severity: str) -> dict[str, Any]:
    return {
        "fingerprint": fp,
        "tool": "bandit",
        "rule_id": "B602",
        "title": "t",
        "severity": severity,
        "path": "a.py",
        "status": "active",
        "suppression": None,
    }


def _quarter_runs() -> list[tuple[str, dict[str, Any]]]:
    """Day 0..89 of 2026-Q4 (Oct 1 = day 0). Hand-set lifecycles:
    A critical: open days 0-9 (closed on day 10: 10 days > SLA 7, a breach)
    B critical: open days 20-24 (closed day 25: 5 days)
    C high: open days 5-44 (closed day 45: 40 days > SLA 30, a breach)
    D high: open days 50-59 (closed day 60: 10 days)
    E medium: open from day 30 to the end (still open, 61 days old at Dec 31: within 90)
    F low: waived from day 40 (suppressed, never active)
    Control soc2 CC8.1 FAIL while any finding is open, else PASS; day 70 has no run."""
    runs = []
    for day in range(90):
        if day == 70:
            continue
        date = Q4 + dt.timedelta(days=day)
        findings = []
        if day < 10:
            findings.append(_f("A", "critical"))
        if 20 <= day < 25:
            findings.append(_f("B", "critical"))
        if 5 <= day < 45:
            findings.append(_f("C", "high"))
        if 50 <= day < 60:
            findings.append(_f("D", "high"))
        if day >= 30:
            findings.append(_f("E", "medium"))
        if day >= 40:
            waived = _f("F", "low") | {
                "status": "suppressed",
                "suppression": {
                    "kind": "waiver",
                    "reason": "accepted",
                    "owner": "alice",
                    "expires": "2026-11-30",
                    "approved_by": "bob",
                    "source": "compliance-waivers.yaml:2",
                },
            }
            findings.append(waived)
        active = [f for f in findings if f["status"] == "active"]
        status = "FAIL" if active else "PASS"
        rec = _record(date.isoformat(), findings)
        rec["controls"] = [
            {"framework": "soc2", "control_id": "CC8.1", "title": "Change management", "status": status}
        ]
        runs.append((date.isoformat(), rec))
    return runs


def test_generated_quarter_matches_hand_computed_figures(target: str) -> None:
    book = ledger.Ledger(target)
    for i, (_day, rec) in enumerate(_quarter_runs()):
        book.append("repo", f"q{i}", rec["started_at"], rec)
    q = quarterly.load_quarter(book.records(), "2026-Q4", set())
    book.close()
    s = quarterly.summarise(q, quarterly.DEFAULT_SLA_DAYS)
    assert s["run_count"] == 89 and s["gap_days"] == [
        "2026-12-10",
        "2026-12-30",
        "2026-12-31",
    ]  # runs on days 0-89 of a 92-day quarter
    assert s["opened"] == {"critical": 2, "high": 2, "medium": 1, "low": 0, "info": 0}
    assert s["closed"] == {"critical": 2, "high": 2, "medium": 0, "low": 0, "info": 0}
    assert s["still_open"]["medium"] == 1
    rem = {r["severity"]: r for r in s["remediation"]}
    assert rem["critical"]["mean"] == 7.5 and rem["critical"]["p90"] == 10
    assert rem["high"]["mean"] == 25.0 and rem["high"]["p90"] == 40
    assert [(b["fingerprint"], b["days"], b["kind"]) for b in s["breaches"]] == [
        ("A", 10, "closed late"),
        ("C", 40, "closed late"),
    ]
    (control,) = s["frameworks"]["soc2"]
    statuses = [st for _, st in control["history"]]
    # Some finding is active on every day: A/C cover days 0-44 and E days 30-89.
    assert statuses == ["FAIL"] * 89 and control["status"] == "FAIL"
    (waiver,) = s["waivers"]
    assert waiver["owner"] == "alice" and waiver["approved_by"] == "bob" and waiver["state"] == "expired"
    assert waiver["created_this_quarter"] is True


def test_import_is_idempotent_and_the_report_renders_to_pdf(tmp_path: Path) -> None:
    from samples import sample

    from pipeline import evidence

    bundle = evidence.write(sample(5), tmp_path / "ev")
    db = str(tmp_path / "l.sqlite")
    cli = [sys.executable, "-m", "pipeline"]
    first = subprocess.run(
        [*cli, "ledger", "import", str(bundle), "--ledger", db], capture_output=True, text=True
    )
    again = subprocess.run(
        [*cli, "ledger", "import", str(bundle), "--ledger", db], capture_output=True, text=True
    )
    assert first.returncode == 0 and "recorded" in first.stdout
    assert again.returncode == 0 and "already in the ledger" in again.stdout
    assert sum(1 for _ in ledger.Ledger(db).records()) == 1
    (bundle / "summary.md").write_text("tampered")
    bad = subprocess.run(
        [*cli, "ledger", "import", str(bundle), "--ledger", db], capture_output=True, text=True
    )
    assert bad.returncode == 3 and "not intact" in bad.stderr
    out = tmp_path / "q"
    done = subprocess.run(
        [*cli, "report", "quarterly", "--quarter", "2026-Q4", "--ledger", db, "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    pdf = out / "compliance-2026-Q4.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(out / "page")], check=True
    )
    (png,) = out.glob("page-*.png")  # pdftoppm pads the page number to the page count's width
    assert png.stat().st_size > 5_000
    page = (out / "compliance-2026-Q4.html").read_text()
    import html5lib

    html5lib.HTMLParser(strict=True).parse(page)
    assert "<script" not in page and "Sign-off" in page


def test_ledger_verify_command(tmp_path: Path) -> None:
    db = str(tmp_path / "l.sqlite")
    book = ledger.Ledger(db)
    book.append("r", "k1", "2026-10-01", _record("2026-10-01"))
    book.append("r", "k2", "2026-10-02", _record("2026-10-02"))
    cli = [sys.executable, "-m", "pipeline", "ledger", "verify", "--ledger", db]
    assert subprocess.run(cli, capture_output=True, text=True).returncode == 0
    with book.engine.begin() as conn:
        conn.execute(ledger.runs.update().where(ledger.runs.c.run_key == "k1").values(record="{}"))
    book.close()
    done = subprocess.run(cli, capture_output=True, text=True)
    assert done.returncode == 1 and "altered: r #1" in done.stdout
