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
from typing import Any

import yaml

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
    if not path.is_file():
        return ()
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML: {exc}") from None
    if root is None:
        return ()
    if not isinstance(data, dict) or not isinstance(data.get("attestations"), list):
        raise ConfigError(f"{name}:1: expected a top-level 'attestations' list")
    nodes = next(v for k, v in root.value if k.value == "attestations").value
    out: list[Attestation] = []
    seen: dict[tuple[str, str], int] = {}
    for raw, node in zip(data["attestations"], nodes, strict=True):
        line = node.start_mark.line + 1
        at = f"{name}:{line}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{at}: an attestation must be a mapping")
        unknown = set(raw) - KEYS
        if unknown:
            raise ConfigError(f"{at}: unknown keys {sorted(unknown)} (allowed: {sorted(KEYS)})")
        for key, value in raw.items():
            if isinstance(value, (list, dict)):  # also: no alias bomb is ever turned into text
                raise ConfigError(f"{at}: {key!r} must be a single value, not a list or mapping")
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
        updated = raw["updated"]
        if isinstance(updated, str):
            try:
                updated = dt.date.fromisoformat(updated)
            except ValueError:
                raise ConfigError(f"{at}: updated {updated!r} is not a YYYY-MM-DD date") from None
        if not isinstance(updated, dt.date) or isinstance(updated, dt.datetime):
            raise ConfigError(f"{at}: updated must be a YYYY-MM-DD date")
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
