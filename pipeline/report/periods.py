"""Report periods: a calendar quarter (`2026-Q4`) or any window of dates (`--from/--to`,
for a SOC 2 Type II window of 6 to 12 months), both ends included."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """'2026-Q4' → (2026-10-01, 2026-12-31)."""
    try:
        year_text, q_text = quarter.upper().split("-Q")
        year, q = int(year_text), int(q_text)
        if not 1 <= q <= 4:
            raise ValueError
    except ValueError:
        raise ValueError(f"{quarter!r} is not a quarter like 2026-Q4") from None
    start = dt.date(year, 3 * q - 2, 1)
    end = (dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)) - dt.timedelta(days=1)
    return start, end


@dataclass(frozen=True)
class Period:
    """The dates a report covers, both included, and the label its files are named by."""

    label: str
    start: dt.date
    end: dt.date


def quarter_period(quarter: str) -> Period:
    """'2026-q4' → Period('2026-Q4', 2026-10-01, 2026-12-31)."""
    start, end = quarter_bounds(quarter)
    return Period(f"{start.year}-Q{(start.month - 1) // 3 + 1}", start, end)


def _date(text: str, what: str) -> dt.date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"{what} {text!r} is not a date like 2026-06-01")


def date_period(start: str, end: str) -> Period:
    """`--from 2026-06-01 --to 2026-11-30` → Period('2026-06-01_2026-11-30', …)."""
    first, last = _date(start, "--from"), _date(end, "--to")
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    return Period(f"{first.isoformat()}_{last.isoformat()}", first, last)


def previous_quarter(quarter: str) -> str:
    start, _ = quarter_bounds(quarter)
    prev = start - dt.timedelta(days=1)
    return f"{prev.year}-Q{(prev.month - 1) // 3 + 1}"
