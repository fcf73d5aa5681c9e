"""report.html in real headless Chromium (Debian's chromium, driven by Playwright; no download)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from samples import sample

from pipeline import evidence

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: .ci/run installs Debian's chromium")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser, bundle: Path):  # type: ignore[no-untyped-def]
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    url = (bundle / "report.html").as_uri()
    page.goto(url)
    return page, errors, [r for r in requests if r != url]


def test_report_opens_clean_filters_work_and_is_inert(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bundle = evidence.write(sample(40, failed_checkov=True), tmp_path / "ev")
    page, errors, requests = _open(browser, bundle)
    assert errors == [] and requests == []
    total = page.locator("#finding-list .finding").count()
    assert total == 31  # checkov failed: its 10 findings are gone; 30 + the hostile one
    assert page.locator("#flt-count").inner_text() == f"{total} of {total} shown"
    page.select_option("#flt-severity", "critical")
    critical = page.locator("#finding-list .finding:visible").count()
    assert 0 < critical < total
    assert page.locator("#flt-count").inner_text() == f"{critical} of {total} shown"
    page.select_option("#flt-severity", "")
    page.fill("#flt-path", "<script>")
    assert page.locator("#finding-list .finding:visible").count() == 1
    page.select_option("#flt-scanner", "pip-audit")
    assert page.locator("#finding-list .finding:visible").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined", "scanned content never runs"
    hostile = page.locator("#f-" + "f" * 32).text_content() or ""
    assert "</textarea><script>window.__pwned = 1</script>" in hostile  # shown as text
    assert "Scanners that failed" in page.locator("[role=alert]").inner_text()
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_everything_readable_with_javascript_off(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bundle = evidence.write(sample(12), tmp_path / "ev")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto((bundle / "report.html").as_uri())
    assert page.locator("#filters").is_hidden()  # the filters need the script; nothing else does
    assert page.locator("#finding-list .finding").count() == 13
    assert "Compliance controls" in page.locator("h2#compliance").inner_text()
    context.close()


def test_ten_thousand_findings_load(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bundle = evidence.write(sample(10_000), tmp_path / "ev")
    page, errors, requests = _open(browser, bundle)
    assert errors == [] and requests == []
    assert page.locator("#finding-list .finding").count() == 10_001
