"""The advisory database: import (folders, zip exports, malformed input), queries, the local API."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import threading
import zipfile
from pathlib import Path

import pytest
from conftest import DATA, OSV_RECORDS, build_vulndb

from pipeline.model import Severity
from pipeline.vulndb import server
from pipeline.vulndb.store import VulnDb, VulnDbError, import_sources

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def ids(db: VulnDb, name: str, version: str) -> list[str]:
    return [d["id"] for d in db.query(name, version)]


def test_import_real_records(tmp_path: Path) -> None:
    report = import_sources([OSV_RECORDS], tmp_path / "db.sqlite", "records", NOW)
    assert report.records == 14 and report.skipped == {"withdrawn": 1}
    assert report.warnings >= 3
    assert any("bulbasaur" in e for e in report.examples)
    db = VulnDb(tmp_path / "db.sqlite")
    assert db.info.records == 14 and db.info.digest.startswith("sha256:")
    assert db.info.newest_modified == "2024-10-10T17:22:00.587279Z" or db.info.newest_modified > "2024"


def test_matching_on_real_records(vulndb: Path) -> None:
    db = VulnDb(vulndb)
    assert ids(db, "pyspark", "3.1.1") == ["PYSEC-2023-72"]
    assert "PYSEC-2021-114" in ids(db, "wagtail", "2.11.6")
    assert "PYSEC-2021-114" not in ids(db, "wagtail", "2.11.7")
    assert ids(db, "vantage6", "0.0.0b0") == ["PYSEC-2024-32"]
    assert ids(db, "py", "1.11.0") == ["PYSEC-2022-42969"]
    assert ids(db, "paramiko", "2.9.2") == ["PYSEC-2022-166"]
    assert ids(db, "PyYAML", "5.4") == []
    assert ids(db, "pyyaml", "not-a-version") == []
    assert ids(db, "redis", "4.5.3") == [], "withdrawn records are excluded"


def test_served_records_suit_pip_audit(vulndb: Path) -> None:
    db = VulnDb(vulndb)
    (jw,) = db.query("jw.util", "1.0.0")
    assert jw["affected"][0]["package"]["name"] == "jw-util"
    (urllib3,) = [d for d in db.query("urllib3", "1.26.5") if d["id"] == "PYSEC-2023-192"]
    assert urllib3["modified"] == "2023-10-10T14:28:19.389317Z"
    assert urllib3["published"].endswith("Z") and "+00:00" not in json.dumps(urllib3)
    (paramiko,) = db.query("paramiko", "2.9.2")
    events = [e for r in paramiko["affected"][0]["ranges"] for e in r["events"]]
    assert all("bulbasaur" not in json.dumps(e) for e in events)
    assert db.severity("PYSEC-2023-192") is Severity.HIGH  # CVSS:3.1 … 8.1
    assert db.severity_source("PYSEC-2023-192") == "CVSS:3.1 base 8.1"


def test_zip_export_merges_aliases_without_double_counting(tmp_path: Path) -> None:
    export = tmp_path / "all.zip"
    with zipfile.ZipFile(export, "w") as zf:
        for p in (DATA / "osv-export").glob("*.json"):
            zf.write(p, p.name)
    db = VulnDb(build_vulndb(tmp_path / "db.sqlite", OSV_RECORDS, export))
    (found,) = db.query("pyyaml", "5.3.1")
    assert found["id"] == "PYSEC-2021-142"
    assert {"GHSA-8q59-q68h-6hv4", "CVE-2020-14343"} <= set(found["aliases"])
    assert db.severity("PYSEC-2021-142") is Severity.CRITICAL  # from the GHSA record
    assert db.severity_source("PYSEC-2021-142") == "GitHub severity CRITICAL (from GHSA-8q59-q68h-6hv4)"


def test_malformed_records_are_counted_not_fatal(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "bad.yaml").write_text("id: [unclosed\n")
    (src / "bad.json").write_text("{")
    (src / "noid.json").write_text('{"affected": []}')
    (src / "npm.json").write_text(
        json.dumps({"id": "X-1", "affected": [{"package": {"ecosystem": "npm", "name": "x"}}]})
    )
    (src / "odd.json").write_text(
        json.dumps(
            {
                "id": "X-2",
                "modified": "2024-01-01T00:00:00+00:00",
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "Odd_Pkg"},
                        "ranges": [
                            {"type": "WEIRD", "events": []},
                            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "??"}]},
                        ],
                        "versions": ["1.0", "nope-1"],
                    }
                ],
            }
        )
    )
    report = import_sources([src], tmp_path / "db.sqlite", "src", NOW)
    assert report.records == 1
    assert sum(report.skipped.values()) == 4
    assert report.warnings == 3
    db = VulnDb(tmp_path / "db.sqlite")
    (odd,) = db.query("odd-pkg", "7.0")
    assert odd["modified"] == "2024-01-01T00:00:00Z"


def test_missing_or_foreign_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(VulnDbError, match="no advisory database"):
        VulnDb(tmp_path / "nope.sqlite")
    (tmp_path / "junk.sqlite").write_text("not sqlite")
    with pytest.raises(VulnDbError, match="not an advisory database"):
        VulnDb(tmp_path / "junk.sqlite")


def _post(
    port: int, path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, object]]:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    con.request("POST", path, body=body, headers=headers or {})
    resp = con.getresponse()
    data = resp.read()
    con.close()
    return resp.status, json.loads(data or b"{}")


def test_local_api_answers_like_osv(vulndb: Path) -> None:
    with server.serve(VulnDb(vulndb)) as api:
        host, port = api.server_address[:2]
        assert host == "127.0.0.1"
        query = {"package": {"name": "pyyaml", "ecosystem": "PyPI"}, "version": "5.3.1"}
        status, body = _post(port, "/v1/query", json.dumps(query).encode())  # no Content-Type
        assert status == 200 and [v["id"] for v in body["vulns"]] == ["PYSEC-2021-142"]  # type: ignore[union-attr]
        clean = {"package": {"name": "rich", "ecosystem": "PyPI"}, "version": "13.7.1"}
        assert _post(port, "/v1/query", json.dumps(clean).encode()) == (200, {})
        batch = {"queries": [query, clean]}
        status, body = _post(port, "/v1/querybatch", json.dumps(batch).encode())
        assert status == 200
        results = body["results"]
        assert results[0]["vulns"][0]["id"] == "PYSEC-2021-142" and results[1] == {}  # type: ignore[index]
        oversized = {"Content-Length": str(server.MAX_BODY + 1)}
        assert _post(port, "/v1/query", b"", oversized)[0] == 413  # refused before reading it
        assert _post(port, "/v1/query", b"not json")[0] == 400
        assert _post(port, "/v1/nothing", b"{}")[0] == 404
    with pytest.raises(ConnectionRefusedError):
        _post(port, "/v1/query", b"{}")


def test_api_is_stopped_when_the_block_fails(vulndb: Path) -> None:
    with pytest.raises(KeyboardInterrupt), server.serve(VulnDb(vulndb)) as api:
        port = api.server_address[1]
        raise KeyboardInterrupt
    with pytest.raises(ConnectionRefusedError):
        _post(port, "/v1/query", b"{}")
    assert not [t for t in threading.enumerate() if t.name == "osv-api"]
