"""Benchmark: the evidence writers with 10,000 findings (issue 5).

Prints the time of each writer and of all together (target ≤ 2 s), the size of
report.html (≤ 10 MB) and its load time in headless Chromium (≤ 3 s).
Usage: .venv/bin/python bench/evidence_bench.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from samples import sample  # noqa: E402

from pipeline import evidence, resources  # noqa: E402
from pipeline.report import html, markdown, sarif  # noqa: E402
from pipeline.report import json as json_report  # noqa: E402


def main() -> None:
    run = sample(10_000)
    timings = {}
    for name, fn in (
        ("findings.json", lambda: json_report.render(run.report)),
        ("results.sarif", lambda: sarif.render(run.report)),
        ("summary.md", lambda: markdown.render(run.report)),
        ("report.html", lambda: html.render(run.report, resources.templates_dir(), "sha256:" + "0" * 64)),
    ):
        start = time.perf_counter()
        fn()
        timings[name] = time.perf_counter() - start
    out = Path(tempfile.mkdtemp(prefix="evidence-bench-")) / "ev"
    start = time.perf_counter()
    evidence.write(run, out)
    total = time.perf_counter() - start
    for name, secs in timings.items():
        print(f"  {name:<14} {secs * 1000:7.0f} ms")
    print(f"all writers and the bundle on disk (manifest, digests): {total:.2f} s (target ≤ 2 s)")
    size = (out / "report.html").stat().st_size
    print(f"report.html: {size / 1e6:.1f} MB (target ≤ 10 MB)")
    chromium = shutil.which("chromium")
    if chromium is None:
        print("chromium not installed: load time not measured")
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--headless=new", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        start = time.perf_counter()
        page.goto((out / "report.html").as_uri(), wait_until="load")
        page.wait_for_function("document.getElementById('flt-count').textContent.length > 0")
        loaded = time.perf_counter() - start
        browser.close()
    print(f"report.html loaded in Chromium (filters ready): {loaded:.2f} s (target ≤ 3 s)")
    shutil.rmtree(out.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
