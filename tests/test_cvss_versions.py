"""Severity from every CVSS version (v2, v3.0, v3.1, v4.0): scores, precedence, sources."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import OSV_RECORDS

from pipeline.model import Severity
from pipeline.vulndb.cvss import score
from pipeline.vulndb.records import normalise, severity_of
from pipeline.vulndb.store import VulnDb, VulnDbError, import_sources

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)

V4_CRITICAL = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"  # 9.3
V4_LOW = "CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"
V31_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
V31_MEDIUM = "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N"  # 4.3
V30_MEDIUM = "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"  # 6.1
V2_HIGH = "AV:N/AC:L/Au:N/C:P/I:P/A:P"  # 7.5


@pytest.mark.parametrize(
    ("vector", "version", "base", "rating"),
    [
        # CVSS v4.0 (FIRST's calculator)
        (V4_CRITICAL, "4.0", 9.3, "Critical"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", "4.0", 10.0, "Critical"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", "4.0", 0.0, "None"),
        # threat and environmental metrics do not change the *base* score (CVSS-B)
        (V4_CRITICAL + "/E:U/CR:L/MAV:P", "4.0", 9.3, "Critical"),
        # CVSS v3.1 / v3.0 (NVD)
        (V31_CRITICAL, "3.1", 9.8, "Critical"),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N", "3.1", 8.1, "High"),  # PYSEC-2023-192
        ("CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N", "3.1", 4.2, "Medium"),  # PYSEC-2023-212
        (V31_MEDIUM, "3.1", 4.3, "Medium"),  # PYSEC-2024-32
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "3.1", 10.0, "Critical"),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "3.1", 7.8, "High"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "3.1", 0.0, "None"),
        (V30_MEDIUM, "3.0", 6.1, "Medium"),
        # CVSS v2 (NVD; ratings from NVD's v2 ranges)
        (V2_HIGH, "2.0", 7.5, "High"),
        ("AV:N/AC:M/Au:N/C:N/I:P/A:N", "2.0", 4.3, "Medium"),
        ("AV:N/AC:L/Au:N/C:C/I:C/A:C", "2.0", 10.0, "High"),
        ("AV:L/AC:H/Au:M/C:N/I:N/A:P", "2.0", 0.8, "Low"),
        ("AV:N/AC:L/Au:N/C:N/I:N/A:N", "2.0", 0.0, "Low"),  # NVD: Low is 0.0-3.9
    ],
)
def test_published_scores(vector: str, version: str, base: float, rating: str) -> None:
    got = score(vector)
    assert got is not None
    assert (got.version, got.base, got.rating) == (version, base, rating)


def test_score_sources_name_version_and_base() -> None:
    assert [
        s.source if s else None for s in map(score, (V4_CRITICAL, V31_CRITICAL, V30_MEDIUM, V2_HIGH))
    ] == [
        "CVSS:4.0 base 9.3",
        "CVSS:3.1 base 9.8",
        "CVSS:3.0 base 6.1",
        "CVSS:2.0 base 7.5 (NVD v2 ranges)",
    ]


@pytest.mark.parametrize(
    "vector",
    [
        "",
        "   ",
        "not-a-vector",
        "CVSS:3.1",
        "CVSS:3.1/",
        "CVSS:3.1/AV:N/AC:L",  # mandatory metrics missing
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q",  # unknown value
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # duplicate metric
        "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # no such version
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H",  # subsequent system missing
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/XX:Y",
        "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",  # OSV's v2 vectors carry no prefix
        "AV:N/AC:L/Au:N/C:P/I:P",
        "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # a v3 vector without its prefix
        "9.8",
    ],
)
def test_invalid_vectors_give_no_score(vector: str) -> None:
    assert score(vector) is None


def test_surrounding_whitespace_is_tolerated() -> None:
    got = score(f"  {V31_CRITICAL}\n")
    assert got is not None and got.base == 9.8


def _record(*severity: tuple[str, Any], word: str | None = None, vid: str = "PYSEC-0000-1") -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": vid,
        "modified": "2025-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "demo"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}],
            }
        ],
    }
    if severity:
        record["severity"] = [{"type": t, "score": s} for t, s in severity]
    if word is not None:
        record["database_specific"] = {"severity": word}
    return record


def _rated(record: dict[str, Any]) -> tuple[Severity, str] | None:
    rated, _ = severity_of(record)
    return None if rated is None else (rated.severity, rated.source)


def test_v4_only_record_is_rated_from_its_vector() -> None:
    assert _rated(_record(("CVSS_V4", V4_CRITICAL))) == (Severity.CRITICAL, "CVSS:4.0 base 9.3")
    assert _rated(_record(("CVSS_V4", V4_LOW))) == (Severity.LOW, "CVSS:4.0 base 1.0")


def test_v2_only_record_is_rated_from_its_vector() -> None:
    assert _rated(_record(("CVSS_V2", V2_HIGH))) == (Severity.HIGH, "CVSS:2.0 base 7.5 (NVD v2 ranges)")
    assert _rated(_record(("CVSS_V2", "AV:N/AC:M/Au:N/C:N/I:P/A:N"))) == (
        Severity.MEDIUM,
        "CVSS:2.0 base 4.3 (NVD v2 ranges)",
    )


def test_a_zero_score_is_info() -> None:
    none = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"
    assert _rated(_record(("CVSS_V3", none))) == (Severity.INFO, "CVSS:3.1 base 0.0")


def test_newest_version_wins_whatever_the_order_and_the_scores() -> None:
    entries = [("CVSS_V2", V2_HIGH), ("CVSS_V3", V31_CRITICAL), ("CVSS_V4", V4_LOW)]
    for ordered in (entries, entries[::-1]):
        assert _rated(_record(*ordered, word="CRITICAL")) == (Severity.LOW, "CVSS:4.0 base 1.0")
    assert _rated(_record(("CVSS_V2", V2_HIGH), ("CVSS_V3", V31_MEDIUM))) == (
        Severity.MEDIUM,
        "CVSS:3.1 base 4.3",
    )
    assert _rated(_record(("CVSS_V3", V30_MEDIUM), ("CVSS_V3", V31_MEDIUM))) == (
        Severity.MEDIUM,
        "CVSS:3.1 base 4.3",
    )


def test_several_vectors_of_one_version_take_the_highest() -> None:
    for pair in ((V31_MEDIUM, V31_CRITICAL), (V31_CRITICAL, V31_MEDIUM)):
        assert _rated(_record(*(("CVSS_V3", v) for v in pair))) == (Severity.CRITICAL, "CVSS:3.1 base 9.8")


def test_vectors_beat_the_database_word() -> None:
    assert _rated(_record(("CVSS_V3", V31_MEDIUM), word="CRITICAL")) == (Severity.MEDIUM, "CVSS:3.1 base 4.3")


def test_database_word_when_no_vector_scores() -> None:
    ghsa = _record(("CVSS_V4", "CVSS:4.0/AV:N"), word="MODERATE", vid="GHSA-aaaa-bbbb-cccc")
    assert _rated(ghsa) == (Severity.MEDIUM, "GitHub severity MODERATE")
    other = _record(word="high", vid="PYSEC-0000-2")
    assert _rated(other) == (Severity.HIGH, "database_specific.severity HIGH")
    assert _rated(_record(word="SEVERE")) is None


def test_invalid_vectors_fall_back_to_the_next_source_never_raise() -> None:
    record = _record(
        ("CVSS_V4", "CVSS:4.0/AV:N/AC:L"),
        ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:X/C:H/I:H/A:H"),
        ("CVSS_V2", V2_HIGH),
    )
    assert _rated(record) == (Severity.HIGH, "CVSS:2.0 base 7.5 (NVD v2 ranges)")
    junk = _record(("CVSS_V4", "garbage"), ("CVSS_V3", 9.8), ("CVSS_V2", None))  # type: ignore[arg-type]
    junk["severity"] += ["not a mapping", {"type": "Ubuntu", "score": "high"}, {"score": V31_CRITICAL}]
    assert _rated(junk) is None
    _, problems = severity_of(junk)
    assert len(problems) == 3 and all("ignored" in p for p in problems)
    assert _rated({"id": "X", "severity": "CVSS:3.1/oops"}) is None


def test_a_vector_is_scored_by_its_own_version_prefix() -> None:
    # the vector says what it is; a mislabelled type does not discard a valid vector
    assert _rated(_record(("CVSS_V3", V4_CRITICAL))) == (Severity.CRITICAL, "CVSS:4.0 base 9.3")


def test_normalise_records_the_source_and_warns_about_unusable_vectors() -> None:
    adv, _ = normalise(_record(("CVSS_V4", V4_CRITICAL)))
    assert adv is not None
    assert (adv.severity, adv.severity_source) == (Severity.CRITICAL, "CVSS:4.0 base 9.3")
    adv, _ = normalise(_record(("CVSS_V3", "CVSS:3.1/AV:N"), word="LOW", vid="GHSA-xxxx-yyyy-zzzz"))
    assert adv is not None
    assert (adv.severity, adv.severity_source) == (Severity.LOW, "GitHub severity LOW")
    assert any("GHSA-xxxx-yyyy-zzzz: CVSS_V3 vector" in w for w in adv.warnings)
    adv, _ = normalise(_record())
    assert adv is not None and adv.severity is None and adv.severity_source is None


def _db(tmp_path: Path, *records: dict[str, Any]) -> VulnDb:
    src = tmp_path / "src"
    src.mkdir()
    for record in records:
        (src / f"{record['id']}.json").write_text(json.dumps(record))
    import_sources([src], tmp_path / "db.sqlite", "src", NOW)
    return VulnDb(tmp_path / "db.sqlite")


def test_database_severity_and_source_for_every_version(tmp_path: Path) -> None:
    db = _db(
        tmp_path,
        _record(("CVSS_V4", V4_CRITICAL), vid="PYSEC-4"),
        _record(("CVSS_V2", V2_HIGH), vid="PYSEC-2"),
        _record(("CVSS_V2", V2_HIGH), ("CVSS_V3", V31_MEDIUM), ("CVSS_V4", V4_LOW), vid="PYSEC-ALL"),
        _record(("CVSS_V3", "CVSS:3.1/broken"), vid="PYSEC-NONE"),
    )
    assert (db.severity("PYSEC-4"), db.severity_source("PYSEC-4")) == (Severity.CRITICAL, "CVSS:4.0 base 9.3")
    assert (db.severity("PYSEC-2"), db.severity_source("PYSEC-2")) == (
        Severity.HIGH,
        "CVSS:2.0 base 7.5 (NVD v2 ranges)",
    )
    assert (db.severity("PYSEC-ALL"), db.severity_source("PYSEC-ALL")) == (Severity.LOW, "CVSS:4.0 base 1.0")
    # no usable source: None, so the policy default applies
    assert (db.severity("PYSEC-NONE"), db.severity_source("PYSEC-NONE")) == (None, None)
    assert (db.severity("NOPE-1"), db.severity_source("NOPE-1")) == (None, None)


def test_group_source_names_the_alias_it_came_from(tmp_path: Path) -> None:
    pysec = _record(("CVSS_V3", V31_MEDIUM), vid="PYSEC-9")
    pysec["aliases"] = ["GHSA-gggg-hhhh-iiii"]
    ghsa = _record(("CVSS_V4", V4_CRITICAL), word="CRITICAL", vid="GHSA-gggg-hhhh-iiii")
    db = _db(tmp_path, pysec, ghsa)
    assert db.severity("PYSEC-9") is Severity.CRITICAL
    assert db.severity_source("PYSEC-9") == "CVSS:4.0 base 9.3 (from GHSA-gggg-hhhh-iiii)"
    assert db.severity_source("GHSA-gggg-hhhh-iiii") == "CVSS:4.0 base 9.3"


def test_group_tie_prefers_the_record_asked_about(tmp_path: Path) -> None:
    pysec = _record(("CVSS_V3", V31_CRITICAL), vid="PYSEC-7", word=None)
    pysec["aliases"] = ["GHSA-tttt-uuuu-vvvv"]
    ghsa = _record(word="CRITICAL", vid="GHSA-tttt-uuuu-vvvv")
    db = _db(tmp_path, pysec, ghsa)
    assert db.severity_source("PYSEC-7") == "CVSS:3.1 base 9.8"
    assert db.severity_source("GHSA-tttt-uuuu-vvvv") == "GitHub severity CRITICAL"


def test_real_records_keep_their_severities(vulndb: Path) -> None:
    db = VulnDb(vulndb)
    assert db.severity("PYSEC-2023-192") is Severity.HIGH
    assert db.severity_source("PYSEC-2023-192") == "CVSS:3.1 base 8.1"
    assert db.severity_source("PYSEC-2023-212") == "CVSS:3.1 base 4.2"
    assert (db.severity("PYSEC-2021-142"), db.severity_source("PYSEC-2021-142")) == (None, None)


def test_old_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    import_sources([OSV_RECORDS], db, "records", NOW)
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    con.commit()
    con.close()
    with pytest.raises(VulnDbError, match=r"schema '1'.*vulndb update.*vulndb import"):
        VulnDb(db)
