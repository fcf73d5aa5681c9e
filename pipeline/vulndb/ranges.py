"""OSV ECOSYSTEM ranges over PEP 440 versions.

Semantics (docs/vulndb.md): the events of one range are read in the order
written, each `introduced` paired with the next `fixed` (exclusive) or
`last_affected` (inclusive) event; an unpaired `introduced` is open-ended;
`limit` events cap the whole range (the version must be below one of them).
A version is affected when it lies in any interval of any range, or is
listed in the record's explicit `versions`. An end event whose version is not
PEP 440 leaves its interval open: the record over-reports rather than hide a
vulnerable version. This reading agrees with the OSV
specification's sorted walk on well-formed ranges and stays right on the real
PyPA records that write introduced/fixed pairs in arbitrary order and
overlapping (PYSEC-2023-72 pyspark, PYSEC-2021-114 wagtail), where a sorted
walk misclassifies pyspark 3.1.1 and wagtail 2.11.6.

`introduced: "0"` is below every version, pre-releases such as 0.0.0b0
included. Versions that are not valid PEP 440 are reported, never raised.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version


@dataclass(frozen=True)
class Interval:
    low: Version | None
    """None: below every version (`introduced: "0"`)."""
    high: Version | None
    """None: no upper bound."""
    high_inclusive: bool = False


def parse_version(text: object) -> Version | None:
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


def intervals_from_events(
    events: Sequence[Mapping[str, object]],
) -> tuple[list[Interval], list[str]]:
    """One range's events → intervals, and the problems met (invalid versions…)."""
    intervals: list[Interval] = []
    problems: list[str] = []
    limits: list[Version] = []
    start: Version | None = None
    open_ = False
    for event in events:
        if not isinstance(event, Mapping) or len(event) != 1:
            problems.append(f"malformed event {event!r}")
            continue
        ((kind, raw),) = event.items()
        if kind == "introduced":
            v = None if str(raw) == "0" else parse_version(raw)
            if v is None and str(raw) != "0":
                problems.append(f"invalid introduced version {raw!r}")
                continue
            # Two starts in a row: the interval starts at the lower one.
            if not open_:
                start, open_ = v, True
            elif start is not None and (v is None or v < start):
                start = v
        elif kind in ("fixed", "last_affected"):
            v = parse_version(raw)
            if v is None:
                # The end cannot be evaluated: the interval stays open (over-report,
                # never under-report) until a readable end or the end of the range.
                problems.append(f"invalid {kind} version {raw!r}")
                continue
            if open_:
                intervals.append(Interval(start, v, high_inclusive=kind == "last_affected"))
                open_ = False
        elif kind == "limit":
            v = parse_version(raw) if str(raw) != "*" else None
            if v is not None:
                limits.append(v)
        else:
            problems.append(f"unknown event {kind!r}")
    if open_:
        intervals.append(Interval(start, None))
    if limits:
        cap = max(limits)
        intervals = [_cap(i, cap) for i in intervals]
        intervals = [i for i in intervals if _non_empty(i)]
    return intervals, problems


def _cap(interval: Interval, limit: Version) -> Interval:
    high = interval.high
    if high is None or high > limit or (high == limit and interval.high_inclusive):
        return Interval(interval.low, limit, high_inclusive=False)
    return interval


def _non_empty(i: Interval) -> bool:
    if i.low is None or i.high is None:
        return True
    return i.low < i.high or (i.high_inclusive and i.low == i.high)


def contains(interval: Interval, version: Version) -> bool:
    if interval.low is not None and version < interval.low:
        return False
    if interval.high is None:
        return True
    return version <= interval.high if interval.high_inclusive else version < interval.high


@dataclass(frozen=True)
class Affected:
    """Every version range and explicit version of one package in one advisory."""

    intervals: tuple[Interval, ...] = ()
    versions: tuple[Version, ...] = ()
    """Sorted, for bisection."""

    @classmethod
    def build(cls, intervals: Iterable[Interval], versions: Iterable[Version]) -> Affected:
        return cls(tuple(intervals), tuple(sorted(set(versions))))

    def matches(self, version: Version) -> bool:
        i = bisect_right(self.versions, version)
        if i and self.versions[i - 1] == version:
            return True
        return any(contains(iv, version) for iv in self.intervals)
