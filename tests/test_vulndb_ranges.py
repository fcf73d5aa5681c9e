"""OSV range semantics, property-tested against plain reference implementations."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from pipeline.vulndb.ranges import Affected, intervals_from_events

VERSIONS = sorted(
    {
        Version(v)
        for v in (
            "0.0.0b0",
            "0.0.0",
            "0.1",
            "0.9.post1",
            "1.0a1",
            "1.0rc1",
            "1.0",
            "1.0.1",
            "1.1.dev0",
            "1.1",
            "1.2",
            "2.0b2",
            "2.0",
            "2.0.6",
            "2.1",
            "3.0",
            "3.1.1",
            "10.0",
        )
    }
)
version = st.sampled_from(VERSIONS)


def matches(events: list[dict[str, str]], v: Version) -> bool:
    intervals, problems = intervals_from_events(events)
    assert problems == []
    return Affected.build(intervals, ()).matches(v)


@st.composite
def pairs(draw: st.DrawFn) -> list[tuple[str, str, str]]:
    """PyPA-shaped ranges: (introduced, end kind, end) pairs in any order, overlaps allowed."""
    out = []
    for _ in range(draw(st.integers(1, 4))):
        a, b = sorted(draw(st.lists(version, min_size=2, max_size=2, unique=True)))
        start = "0" if draw(st.booleans()) and not out else str(a)
        out.append((start, draw(st.sampled_from(["fixed", "last_affected"])), str(b)))
    return draw(st.permutations(out))


def reference_pairs(ranges: list[tuple[str, str, str]], v: Version) -> bool:
    """Plain: affected when some pair contains the version."""
    for start, kind, end in ranges:
        low_ok = start == "0" or Version(start) <= v
        high_ok = v < Version(end) if kind == "fixed" else v <= Version(end)
        if low_ok and high_ok:
            return True
    return False


@given(pairs(), version)
def test_pairs_in_any_order_match_the_plain_reading(ranges: list[tuple[str, str, str]], v: Version) -> None:
    events = [e for start, kind, end in ranges for e in ({"introduced": start}, {kind: end})]
    assert matches(events, v) == reference_pairs(ranges, v)


def osv_spec_walk(events: list[dict[str, str]], v: Version) -> bool:
    """The OSV specification's evaluation: sort events, walk them, last event wins."""

    def key(e: dict[str, str]) -> tuple[Version, int]:
        ((kind, raw),) = e.items()
        at = Version("0.0.0a0.dev0") if raw == "0" else Version(raw)
        return at, 0 if kind == "introduced" else 1

    affected = False
    for e in sorted(events, key=key):
        ((kind, raw),) = e.items()
        at = None if raw == "0" else Version(raw)
        if kind == "introduced" and (at is None or at <= v):
            affected = True
        elif (kind == "fixed" and at is not None and at <= v) or (
            kind == "last_affected" and at is not None and at < v
        ):
            affected = False
    return affected


@given(st.lists(version, min_size=1, max_size=8, unique=True), st.booleans(), version)
def test_well_formed_ranges_agree_with_the_osv_specification(
    bounds: list[Version], open_end: bool, v: Version
) -> None:
    bounds = sorted(bounds)
    events: list[dict[str, str]] = []
    for i, b in enumerate(bounds):
        events.append({"introduced" if i % 2 == 0 else "fixed": str(b)})
    if open_end and len(bounds) % 2 == 0:
        events.append({"introduced": str(Version("99"))})
    assert matches(events, v) == osv_spec_walk(events, v)


def test_real_pypa_shapes() -> None:
    pyspark = [
        {"introduced": "0"},
        {"fixed": "3.1.1"},
        {"introduced": "3.2.0"},
        {"fixed": "3.2.2"},
        {"introduced": "3.1.1"},
        {"fixed": "3.2.0"},
    ]
    assert matches(pyspark, Version("3.1.1"))
    assert not matches(pyspark, Version("3.2.2"))
    wagtail = [
        {"introduced": "2.11"},
        {"fixed": "2.11.7"},
        {"introduced": "0"},
        {"fixed": "2.11.6"},
        {"introduced": "2.12"},
        {"fixed": "2.12.4"},
    ]
    assert matches(wagtail, Version("2.11.6"))
    assert not matches(wagtail, Version("2.11.7"))
    assert matches([{"introduced": "0"}, {"fixed": "1.0"}], Version("0.0.0b0"))
    assert matches([{"introduced": "0"}, {"last_affected": "1.11.0"}], Version("1.11.0"))
    assert not matches([{"introduced": "0"}, {"last_affected": "1.11.0"}], Version("1.11.1"))
    assert matches([{"introduced": "1.0"}, {"fixed": "2.0rc1"}], Version("2.0b2"))
    assert not matches([{"introduced": "1.0"}], Version("1.0rc1"))
    assert not matches([{"introduced": "0"}, {"limit": "2.0"}], Version("2.0.6"))


def test_invalid_versions_are_reported_and_never_raise() -> None:
    intervals, problems = intervals_from_events(
        [
            {"introduced": "not a version"},
            {"introduced": "1.0"},
            {"fixed": "2.0.1rc2-git"},
            {"bogus": "1"},
        ]
    )
    assert len(problems) == 3
    # The unreadable end leaves the interval open: over-report, never hide.
    assert Affected.build(intervals, ()).matches(Version("5.0"))
