"""Attestations: human evidence for manual controls (compliance-attestations.yaml).

In the style of MITRE Heimdall's attestations:

```yaml
attestations:
  - framework: soc2
    control: CC1.1
    status: passed            # or failed
    explanation: Code of conduct signed by every employee at onboarding.
    evidence: https://wiki.example.com/hr/code-of-conduct-2026
    frequency: annually       # daily, weekly, monthly, quarterly, semiannually, annually, or 30d
    updated: 2026-10-01
    updated_by: hr-lead@example.com
```

Every key is required but `status` (default `passed`). Only a manual control may be
attested (and a scoped one, PCI DSS 3.5.1, while its scope is not declared): an automated
one is evidenced by the scan. An attestation holds from `updated`
through `updated` + `frequency` (its due date); after that it is *overdue*: the control is
MANUAL again and the overdue attestation is listed. A valid attestation with `passed`
makes the control ATTESTED (never PASS: a person, not the scan, vouches for it); with
`failed`, FAIL. Errors are ConfigError naming the file and line, like waivers.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from pathlib import Path

from pipeline import listfile
from pipeline.config import ConfigError
from pipeline.model import Attestation

KEYS = {"framework", "control", "status", "explanation", "evidence", "frequency", "updated", "updated_by"}
REQUIRED = ("framework", "control", "explanation", "evidence", "frequency", "updated", "updated_by")
MONTHS = {"monthly": 1, "quarterly": 3, "semiannually": 6, "annually": 12, "yearly": 12}
DAYS = {"daily": 1, "weekly": 7, "every2weeks": 14}
_N_DAYS = re.compile(r"(\d{1,4})d")


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_date(updated: dt.date, frequency: str) -> dt.date | None:
    """The last day an attestation updated on `updated` holds; None for an unknown frequency."""
    if frequency in MONTHS:
        return _add_months(updated, MONTHS[frequency])
    if frequency in DAYS:
        return updated + dt.timedelta(days=DAYS[frequency])
    m = _N_DAYS.fullmatch(frequency)
    if m and int(m.group(1)) > 0:
        return updated + dt.timedelta(days=int(m.group(1)))
    return None


def load(
    path: Path, manual: frozenset[tuple[str, str]], known: frozenset[tuple[str, str]], today: dt.date
) -> tuple[Attestation, ...]:
    """Parse and validate the attestations file. `manual`: the (framework, control) pairs
    that may be attested; `known`: every control of every framework."""
    out: list[Attestation] = []
    seen: dict[tuple[str, str], int] = {}
    for raw, line in listfile.entries(path, "attestations", "an attestation", KEYS):
        at = f"{path.name}:{line}"
        for key in REQUIRED:
            if not str(raw.get(key) or "").strip():
                raise ConfigError(f"{at}: attestation without {key!r} (required: {', '.join(REQUIRED)})")
        control = (str(raw["framework"]).strip(), str(raw["control"]).strip())
        if control not in known:
            raise ConfigError(f"{at}: no control {control[1]!r} in framework {control[0]!r}")
        if control not in manual:
            raise ConfigError(
                f"{at}: {control[0]} {control[1]} is evidenced by the scan, not by attestation "
                "(only manual controls, and scoped ones whose scope is not declared, may be attested)"
            )
        if control in seen:
            raise ConfigError(f"{at}: {control[0]} {control[1]} is already attested on line {seen[control]}")
        seen[control] = line
        status = str(raw.get("status") or "passed").strip().lower()
        if status not in ("passed", "failed"):
            raise ConfigError(f"{at}: status {raw.get('status')!r}: expected passed or failed")
        updated = listfile.date(raw["updated"], at, "updated")
        if updated > today:
            raise ConfigError(f"{at}: updated {updated} is in the future")
        frequency = str(raw["frequency"]).strip().lower()
        due = due_date(updated, frequency)
        if due is None:
            allowed = ", ".join([*DAYS, *MONTHS, "or a number of days like 30d"])
            raise ConfigError(f"{at}: frequency {raw['frequency']!r}: expected {allowed}")
        out.append(
            Attestation(
                framework=control[0],
                control_id=control[1],
                passed=status == "passed",
                explanation=str(raw["explanation"]).strip(),
                evidence=str(raw["evidence"]).strip(),
                frequency=frequency,
                updated=updated.isoformat(),
                updated_by=str(raw["updated_by"]).strip(),
                due=due.isoformat(),
                source=at,
            )
        )
    return tuple(out)
