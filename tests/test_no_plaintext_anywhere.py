"""Issue 13: no canary secret in any byte the pipeline writes, and IaC evidence stays readable.

One test drives the real CLI over the canary corpus of tests/canaries.py (60 kinds
in 22 files): `scan --zip --ledger`, `report quarterly` (HTML and PDF), `hook`,
`baseline create`, a waiver error and a scan stopped by SIGTERM, every one with
TMPDIR pointing at a private folder. It then greps every byte they wrote (bundle,
zip members, raw/, stdout and stderr, the ledger database, the quarterly HTML and
the PDF's text, the baseline, what is left in TMPDIR, anything new in the target)
for every canary, and measures on the IaC fixture which non-secret tokens stay
readable in the snippets of findings.json and report.html.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import markupsafe
import pytest
from canaries import Canary, Corpus, build, iac_fixture

pytestmark = pytest.mark.tools

READABLE_SHARE = 0.95
TAIL = 20
"""Characters at the end of a long value that must not survive either (a partly scrubbed value)."""
PIECE = 64
"""Very long single-line values are searched for as 64-character pieces of their middle."""
TIMEOUT = 300


def _cli() -> list[str]:
    exe = Path(sys.executable).with_name("compliance-pipeline")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "pipeline"]


@dataclass(frozen=True)
class Output:
    """One thing the pipeline wrote: where it is, and its bytes."""

    where: str
    data: bytes


@dataclass(frozen=True)
class Needle:
    canary: Canary
    form: str
    """What is searched for: the value, an escaped form, a key line, its tail, its SHA-1."""
    text: bytes


@dataclass(frozen=True)
class Command:
    name: str
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float


_WHITESPACE = b" \t\r\n\x0b\x0c"


def _flat(data: bytes) -> bytes:
    """Without whitespace: a token the terminal, the HTML or the PDF wrapped is found too."""
    return data.translate(None, _WHITESPACE)


def needles(c: Canary) -> Iterator[Needle]:
    if c.multiline:
        for line in c.body_lines():
            yield Needle(c, "private key line", line.encode())
        return
    v = c.value
    forms = {
        "value": v,
        "value, HTML-escaped": html.escape(v),
        "value, HTML-escaped (jinja)": str(markupsafe.escape(v)),
        "value, JSON-escaped": json.dumps(v)[1:-1],
    }
    seen: set[str] = set()
    for form, text in forms.items():
        if text not in seen:
            seen.add(text)
            yield Needle(c, form, text.encode())
    if len(v) > 4 * PIECE:
        for i in range(PIECE, len(v) - PIECE, PIECE):
            yield Needle(c, f"{PIECE}-character piece", v[i : i + PIECE].encode())
    elif len(v) >= 2 * TAIL:
        yield Needle(c, f"last {TAIL} characters", v[-TAIL:].encode())
    for whole in filter(None, (v, c.whole)):
        yield Needle(
            c, "unsalted SHA-1", hashlib.sha1(whole.encode(), usedforsecurity=False).hexdigest().encode()
        )


def _files_under(root: Path, label: str) -> Iterator[Output]:
    if not root.exists():
        return
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            rel = p.relative_to(root).as_posix()
            yield Output(f"{label}/{rel}", p.read_bytes())
            if p.suffix == ".zip":
                try:
                    with zipfile.ZipFile(p) as zf:
                        for name in zf.namelist():
                            yield Output(f"{label}/{rel}!{name}", zf.read(name))
                except zipfile.BadZipFile:
                    pass  # its raw bytes are searched anyway


def _pdf_text(pdf: Path) -> bytes | None:
    if shutil.which("pdftotext"):
        done = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=False)
        if done.returncode == 0:
            return done.stdout
    try:
        import pypdf  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    reader = pypdf.PdfReader(str(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages).encode()


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for p in root.rglob("*"):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not rel.startswith(".git/"):
            st = p.stat()
            out[rel] = (st.st_size, st.st_mtime_ns)
    return out


class Session:
    """Runs the CLI with a private TMPDIR and keeps what each command printed."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp = tmp
        self.env = env
        self.commands: list[Command] = []

    def run(self, name: str, *args: str, cwd: Path) -> Command:
        argv = (*_cli(), *args)
        t0 = time.monotonic()
        done = subprocess.run(argv, cwd=cwd, env=self.env, capture_output=True, timeout=TIMEOUT, check=False)
        cmd = Command(name, argv, done.returncode, done.stdout, done.stderr, time.monotonic() - t0)
        self.commands.append(cmd)
        return cmd

    def run_and_terminate(self, name: str, *args: str, cwd: Path, tmpdir: Path) -> Command:
        """Start a scan, send SIGTERM once its tools run (at most ~3 s in), wait for it."""
        argv = (*_cli(), *args)
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, cwd=cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = t0 + 3.0
        while time.monotonic() < deadline and proc.poll() is None:
            if any(tmpdir.glob("compliance-pipeline-*/*")):  # the run's scratch folder is in use
                time.sleep(0.4)
                break
            time.sleep(0.05)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            stdout, stderr = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        cmd = Command(name, argv, proc.returncode, stdout, stderr, time.monotonic() - t0)
        self.commands.append(cmd)
        return cmd

    def printed(self) -> Iterator[Output]:
        for c in self.commands:
            yield Output(f"stdout of `{c.name}`", c.stdout)
            yield Output(f"stderr of `{c.name}`", c.stderr)


def _table(header: tuple[str, ...], rows: Iterable[tuple[object, ...]]) -> str:
    cells = [tuple(str(x) for x in r) for r in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(header)]

    def line(row: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    sep = "|-" + "-|-".join("-" * w for w in widths) + "-|"
    return "\n".join([line(header), sep, *(line(r) for r in cells)])


def _lines_of(text: str, probe: str) -> set[int]:
    out, start = set(), 0
    while (i := text.find(probe, start)) >= 0:
        out.add(text.count("\n", 0, i) + 1)
        start = i + 1
    return out


def detection_gaps(corpus: Corpus, findings: dict[str, Any]) -> list[Canary]:
    """Canaries with no detect-secrets finding on their line (the BEGIN line for keys)."""
    at: dict[str, set[int]] = defaultdict(set)
    for f in findings.get("findings", []):
        if f["tool"] == "detect-secrets" and f["location"].get("start_line"):
            at[f["location"]["path"]].add(int(f["location"]["start_line"]))
    gaps = []
    for c in corpus.values:
        path = corpus.root / c.file
        if c.file.startswith(".git/"):
            gaps.append(c)
            continue
        text = path.read_text(encoding="utf-8")
        if c.multiline:  # the tool reports a key at its BEGIN line (or the YAML key above it)
            body = c.body_lines()
            first, last = min(_lines_of(text, body[0])), max(_lines_of(text, body[-1]))
            lines = set(range(first - 3, last + 1))
        else:
            lines = _lines_of(text, c.value)
        if not lines & at[c.file]:
            gaps.append(c)
    return gaps


def leak_map(corpus: Corpus, outputs: list[Output]) -> dict[tuple[str, str, str], list[str]]:
    """(kind, planted in, form) → every output that holds it."""
    flat = [(o.where, o.data, _flat(o.data)) for o in outputs]
    hits: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for c in corpus.values:
        for n in needles(c):
            for where, data, flattened in flat:
                if n.text in data or n.text in flattened:
                    key = (c.kind, c.file, n.form)
                    if where not in hits[key]:
                        hits[key].append(where)
    return hits


@dataclass(frozen=True)
class Readability:
    token: str
    shown: int
    """Snippets (findings.json) whose lines include a line holding the token."""
    in_json: int
    """Of those, snippets that hold the token verbatim."""
    in_html: bool

    @property
    def readable(self) -> bool:
        return self.shown > 0 and self.in_json == self.shown and self.in_html


def readability(iac: Path, tokens: tuple[str, ...], bundle: Path) -> list[Readability]:
    doc = json.loads((bundle / "findings.json").read_text(encoding="utf-8"))
    page = (bundle / "report.html").read_text(encoding="utf-8")
    sources = {
        p.relative_to(iac).as_posix(): p.read_text(encoding="utf-8") for p in iac.rglob("*") if p.is_file()
    }
    windows: list[tuple[str, int, int, str]] = []
    for f in doc["findings"]:
        loc, snippet = f["location"], f.get("snippet")
        if snippet and loc.get("start_line") and loc["path"] in sources:
            start = int(loc["start_line"])
            windows.append((loc["path"], start, start + len(snippet.splitlines()) - 1, snippet))
    out = []
    for token in tokens:
        lines = {(path, n) for path, text in sources.items() for n in _lines_of(text, token)}
        showing = [s for path, a, b, s in windows if any(p == path and a <= n <= b for p, n in lines)]
        verbatim = [s for s in showing if token in s]
        out.append(Readability(token, len(showing), len(verbatim), str(markupsafe.escape(token)) in page))
    return out


def test_no_canary_in_any_byte_written_and_iac_stays_readable(tmp_path: Path, vulndb: Path) -> None:
    t0 = time.monotonic()
    corpus = build(tmp_path / "target")
    assert len(corpus.kinds) >= 40
    assert len({Path(f).suffix or Path(f).name for f in corpus.files}) >= 10
    planted = [Output(f, (corpus.root / f).read_bytes()) for f in corpus.files]
    matched = {kind for kind, _, _ in leak_map(corpus, planted)}
    assert matched == corpus.kinds, f"the search misses planted canaries: {sorted(corpus.kinds - matched)}"
    iac = tmp_path / "iac"
    tokens = iac_fixture(iac)

    out = tmp_path / "out"  # every file the commands write goes below here
    private_tmp = tmp_path / "tmpdir"
    for d in (out, out / "ledger", private_tmp):
        d.mkdir()
    op = tmp_path / "operator" / "OP.toml"
    op.parent.mkdir()
    op.write_text(
        f'vulndb = "{vulndb}"\nvulndb-warn-days = 36500\nvulndb-max-days = 36500\n', encoding="utf-8"
    )
    env = {**os.environ, "TMPDIR": str(private_tmp), "TEMP": str(private_tmp), "TMP": str(private_tmp)}
    target = corpus.root
    before = _snapshot(target)
    s = Session(tmp_path, env)

    scan = s.run(
        "scan --zip --ledger",
        "scan",
        str(target),
        "-o",
        str(out / "EV"),
        "--zip",
        "--ledger",
        str(out / "ledger" / "LEDGER.sqlite"),
        "-c",
        str(op),
        "--no-progress",
        cwd=out,
    )
    assert scan.returncode in (1, 2), scan.stderr.decode(errors="replace")
    findings = json.loads((out / "EV" / "findings.json").read_text(encoding="utf-8"))
    started = findings["started_at"]
    quarter = f"{started[:4]}-Q{(int(started[5:7]) - 1) // 3 + 1}"
    qrep = s.run(
        "report quarterly",
        "report",
        "quarterly",
        "--quarter",
        quarter,
        "--ledger",
        str(out / "ledger" / "LEDGER.sqlite"),
        "-o",
        str(out / "quarterly"),
        cwd=out,
    )
    assert qrep.returncode == 0, qrep.stderr.decode(errors="replace")
    hook_files = [f for f in corpus.files if not f.startswith(".git/")]
    s.run("hook", "hook", "-c", str(op), *hook_files, cwd=target)
    base = s.run(
        "baseline create",
        "baseline",
        "create",
        str(target),
        "-o",
        str(out / "baseline.json"),
        "-c",
        str(op),
        cwd=out,
    )
    if not (out / "baseline.json").exists():
        # The full scan is incomplete (a VCS requirement cannot be audited), and a baseline
        # of an incomplete scan is refused: write one without pip-audit to grep it too.
        base = s.run(
            "baseline create --skip pip-audit",
            "baseline",
            "create",
            str(target),
            "-o",
            str(out / "baseline.json"),
            "-c",
            str(op),
            "--skip",
            "pip-audit",
            "--owner",
            "sec@example.invalid",
            "--reason",
            "canary corpus",
            cwd=out,
        )
    assert (out / "baseline.json").exists(), base.stderr.decode(errors="replace")

    aws_id = next(c.value for c in corpus.values if c.kind == "aws-access-key-id")
    stripe = next(c.value for c in corpus.values if c.kind == "stripe-secret-key")
    waivers = tmp_path / "waivers" / "compliance-waivers.yaml"
    waivers.parent.mkdir()
    waivers.write_text(
        "waivers:\n"
        "  - rule: AWS Access Key\n"
        "    path: infra/terraform/main.tf\n"
        f'    reason: "{aws_id} and {stripe} are rotated in the next sprint"\n'
        "    owner: platform-team\n"
        "    expires: 31/12/2026\n",
        encoding="utf-8",
    )
    bad = s.run(
        "scan --waivers (malformed expiry)",
        "scan",
        str(target),
        "-o",
        str(out / "EV-waivers"),
        "--waivers",
        str(waivers),
        "-c",
        str(op),
        "--no-progress",
        cwd=out,
    )
    assert bad.returncode == 3, bad.stderr.decode(errors="replace")
    s.run_and_terminate(
        "scan, SIGTERM mid-run",
        "scan",
        str(target),
        "-o",
        str(out / "EV-sigterm"),
        "-c",
        str(op),
        "--no-progress",
        cwd=out,
        tmpdir=private_tmp,
    )
    iac_scan = s.run(
        "scan (IaC fixture)",
        "scan",
        str(iac),
        "-o",
        str(out / "EV-iac"),
        "-c",
        str(op),
        "--no-progress",
        cwd=out,
    )
    assert (out / "EV-iac" / "findings.json").exists(), iac_scan.stderr.decode(errors="replace")

    # --- every byte written -------------------------------------------------------------
    outputs: list[Output] = [*_files_under(out, "out"), *s.printed(), *_files_under(private_tmp, "TMPDIR")]
    pdfs = sorted((out / "quarterly").glob("*.pdf"))
    notes = [f"{c.name}: exit {c.returncode} in {c.seconds:.1f} s" for c in s.commands]
    for pdf in pdfs:
        text = _pdf_text(pdf)
        if text is None:
            notes.append(f"{pdf.name}: no pdftotext or pypdf, its text was not searched")
        else:
            outputs.append(Output(f"text of out/quarterly/{pdf.name}", text))
    after = _snapshot(target)
    for rel in sorted(set(after) - set(before)) + [r for r in before if r in after and after[r] != before[r]]:
        outputs.append(Output(f"target/{rel} (written into the target)", (target / rel).read_bytes()))
    notes.append(f"searched {len(outputs)} outputs, {sum(len(o.data) for o in outputs):,} bytes")
    left = sorted(p.relative_to(private_tmp).as_posix() for p in private_tmp.rglob("*") if p.is_file())
    notes.append(f"left in TMPDIR: {len(left)} files" + (f" (e.g. {', '.join(left[:3])})" if left else ""))
    interrupted = (
        json.loads((out / "EV-sigterm" / "findings.json").read_text()).get("interrupted")
        if (out / "EV-sigterm" / "findings.json").exists()
        else None
    )
    notes.append(f"SIGTERM scan: {interrupted or 'finished before the signal (nothing interrupted)'}")

    hits = leak_map(corpus, outputs)
    gaps = detection_gaps(corpus, findings)
    rows = [
        (kind, file, form, ", ".join(sorted(places))) for (kind, file, form), places in sorted(hits.items())
    ]
    leaked_kinds = sorted({k for k, _, _ in hits})

    read = readability(iac, tokens, out / "EV-iac")
    shown = [r for r in read if r.shown]
    share = sum(r.readable for r in shown) / len(shown) if shown else 0.0

    problems = []
    if hits:
        problems.append(
            f"{len(leaked_kinds)} of {len(corpus.kinds)} canary kinds leaked "
            f"({len(rows)} kind/file/form combinations):\n"
            + _table(("canary kind", "planted in", "found as", "leaked into"), rows)
        )
    if share < READABLE_SHARE or len(shown) < 0.8 * len(read):
        problems.append(
            f"readable non-secret IaC tokens: {share:.1%} of {len(shown)} shown in snippets "
            f"(want >= {READABLE_SHARE:.0%}; {len(read) - len(shown)} of {len(read)} never shown):\n"
            + _table(
                (
                    "token",
                    "snippets showing its line",
                    "verbatim in findings.json",
                    "in report.html",
                    "readable",
                ),
                ((r.token, r.shown, r.in_json, r.in_html, "yes" if r.readable else "NO") for r in read),
            )
        )
    detail = (
        "\n\n".join(problems)
        + "\n\ncanaries detect-secrets did not report on their line (informational):\n"
        + _table(("canary kind", "planted in"), ((c.kind, c.file) for c in gaps))
        + "\n\n"
        + "\n".join(notes)
        + f"\ntotal {time.monotonic() - t0:.1f} s"
    )
    print(detail)
    assert not problems, detail
