"""Real pip-audit against the local OSV API; staleness; the vulndb commands."""

from __future__ import annotations

import datetime as dt
import http.server
import subprocess
import sys
import threading
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import DATA, OSV_RECORDS, offline, only, scan

from pipeline import gate
from pipeline.config import default_config
from pipeline.model import Severity, Status
from pipeline.scanners import SCANNER_NAMES

pytestmark = pytest.mark.tools


def _pip_audit(target: Path, config) -> tuple[object, object]:  # type: ignore[no-untyped-def]
    run = scan(target, only(config, "pip-audit"))
    return run, next(r for r in run.report.results if r.scanner == "pip-audit")


def test_known_vulnerable_pins_found_fixed_ones_not(tmp_path: Path, vulndb: Path) -> None:
    target = tmp_path / "app"
    target.mkdir()
    (target / "requirements.txt").write_text(
        "pyyaml==5.3.1\nwagtail==2.11.6\npyspark==3.1.1\nparamiko==2.10.1\nrich==13.7.1\nurllib3==1.26.18\n"
    )
    run, result = _pip_audit(target, offline(default_config(SCANNER_NAMES), vulndb))
    assert result.status is Status.OK and result.not_assessed == (), result.errors
    found = {(f.package, f.rule_id) for f in result.findings}
    assert ("pyyaml", "PYSEC-2021-142") in found
    assert ("wagtail", "PYSEC-2021-114") in found
    assert ("pyspark", "PYSEC-2023-72") in found
    assert {p for p, _ in found} == {"pyyaml", "wagtail", "pyspark"}, (
        "fixed versions and unknown packages are clean"
    )
    yaml_finding = next(f for f in result.findings if f.rule_id == "PYSEC-2021-142")
    assert "CVE-2020-14343" in yaml_finding.aliases and yaml_finding.fixed_versions == ("5.4",)
    assert yaml_finding.help_url == "https://osv.dev/vulnerability/PYSEC-2021-142"
    db = run.report.advisory_db
    assert db is not None and db.records == 14 and db.digest.startswith("sha256:")
    assert any("advisory database: 14 records" in w for w in result.warnings)


def test_severity_comes_from_the_advisory(tmp_path: Path, vulndb: Path) -> None:
    target = tmp_path / "app"
    target.mkdir()
    (target / "requirements.txt").write_text("urllib3==1.26.5\n")
    _, result = _pip_audit(target, offline(default_config(SCANNER_NAMES), vulndb))
    sev = {f.rule_id: f.severity for f in result.findings}
    assert sev["PYSEC-2023-192"] is Severity.HIGH  # CVSS 3.1 base score 8.1


def test_stale_database_fails_the_dependency_scan(tmp_path: Path, vulndb: Path) -> None:
    target = tmp_path / "app"
    target.mkdir()
    (target / "requirements.txt").write_text("pyyaml==5.3.1\n")
    strict = replace(default_config(SCANNER_NAMES), vulndb=str(vulndb))  # 7 days warn, 30 error
    run, result = _pip_audit(target, strict)
    assert result.status is Status.FAILED
    assert "over the 30-day limit" in result.errors[0]
    assert [n.item for n in result.not_assessed] == ["pyyaml (requirements.txt)"]
    assert gate.exit_code(run.report) == 2  # type: ignore[attr-defined]
    assert run.report.advisory_db is not None and run.report.advisory_db.age_days > 30  # type: ignore[attr-defined]
    warn_only = replace(strict, vulndb_warn_days=1, vulndb_max_days=36500)
    _, result = _pip_audit(target, warn_only)
    assert result.status is Status.OK and "over the 1-day warning age" in result.warnings[0]


def test_missing_database_fails_closed(tmp_path: Path) -> None:
    target = tmp_path / "app"
    target.mkdir()
    (target / "requirements.txt").write_text("pyyaml==5.3.1\n")
    cfg = replace(default_config(SCANNER_NAMES), vulndb=str(tmp_path / "none.sqlite"))
    _, result = _pip_audit(target, cfg)
    assert result.status is Status.FAILED and "no advisory database" in result.errors[0]


def _cli(*args: str, env_db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "vulndb", *args, "--db", str(env_db)],
        capture_output=True,
        text=True,
    )


def test_vulndb_commands(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    assert _cli("status", env_db=db).returncode == 2
    done = _cli("import", str(OSV_RECORDS), env_db=db)
    assert done.returncode == 0 and "14 advisories indexed" in done.stdout and "1 withdrawn" in done.stdout
    status = _cli("status", env_db=db)
    assert "records: 14" in status.stdout and "days old" in status.stdout and "sha256:" in status.stdout


def test_vulndb_update_downloads_an_export(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "all.zip", "w") as zf:
        for p in (DATA / "osv-export").glob("*.json"):
            zf.write(p, p.name)
    (served / "not-a-zip").write_text("hello")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):  # type: ignore[no-untyped-def]
            super().__init__(*a, directory=str(served), **kw)

        def log_message(self, *args: object) -> None:
            return

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        db = tmp_path / "db.sqlite"
        done = _cli("update", "--url", f"{base}/all.zip", env_db=db)
        assert done.returncode == 0 and "1 advisories indexed" in done.stdout, done.stderr
        assert f"source: {base}/all.zip" in _cli("status", env_db=db).stdout
        bad = _cli("update", "--url", f"{base}/not-a-zip", env_db=db)
        assert bad.returncode == 2 and "did not return a zip" in bad.stderr
        assert "records: 1" in _cli("status", env_db=db).stdout, "a failed update keeps the old database"
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert dt.datetime.now(dt.UTC).year >= 2026


def test_api_stops_when_the_scan_is_interrupted(tmp_path: Path, vulndb: Path) -> None:
    import os

    from pipeline import runner
    from pipeline.run import execute
    from pipeline.scanners import registry

    target = tmp_path / "app"
    target.mkdir()
    (target / "requirements.txt").write_text("pyyaml==5.3.1\n")
    seen: list[str] = []

    def interrupt(name: str, event: str, done: int, total: int) -> None:
        seen.extend(t.name for t in threading.enumerate())
        if event == "start":
            raise KeyboardInterrupt

    cfg = only(offline(default_config(SCANNER_NAMES), vulndb), "pip-audit")
    run = execute(
        target,
        cfg,
        registry(),
        runner.run,
        lambda: "2026-11-26T00:00:00Z",
        dict(os.environ),
        interrupt,
    )
    assert run.report.interrupted == "interrupted by SIGINT" and run.report.incomplete
    assert "osv-api" in seen, "the API was up while the scan ran"
    assert not [t for t in threading.enumerate() if t.name == "osv-api"]
