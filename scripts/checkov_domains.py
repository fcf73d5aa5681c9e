"""Regenerate the domain lists of policies/checkov-builtin.yaml from the pinned checkov.

  CK=~/.cache/compliance-pipeline/envs/checkov-<digest>/bin/python
  $CK scripts/checkov_catalogue.py > /tmp/catalogue.json
  .venv/bin/python scripts/checkov_domains.py /tmp/catalogue.json

Each built-in check of a tracked category goes to one domain: an explicit
correction first, then encryption checks whose name speaks of transport
(TLS, SSL, HTTPS, in transit) to encryption-in-transit, then by category.
Corrections and exclusions are kept from the existing file; review the diff.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "policies" / "checkov-builtin.yaml"
TRANSIT = re.compile(r"(?i)\btransit|\btls\b|\bssl\b|https|secure protocol|cipher")
BY_CATEGORY = (
    ("SECRETS", "secrets"),
    ("BACKUP_AND_RECOVERY", "backup"),
    ("ENCRYPTION", "encryption-at-rest"),
    ("LOGGING", "audit-logging"),
)


def main() -> None:
    catalogue = json.loads(Path(sys.argv[1]).read_text())
    current = yaml.safe_load(TARGET.read_text())
    corrections: dict[str, dict[str, str]] = current["corrections"]
    excluded: dict[str, str] = current["excluded"]
    tracked = set(current["tracked_categories"])
    domains: dict[str, list[str]] = {d: [] for d in current["domains"]}
    unmapped: list[str] = []
    for cid, entry in catalogue.items():
        if cid in excluded:
            continue
        if cid in corrections:
            domains[corrections[cid]["domain"]].append(cid)
            continue
        cats = set(entry["categories"]) & tracked
        if not cats:
            unmapped.append(cid)
            continue
        if "ENCRYPTION" in cats and TRANSIT.search(entry["name"]):
            domains["encryption-in-transit"].append(cid)
            continue
        for category, domain in BY_CATEGORY:
            if category in cats:
                domains[domain].append(cid)
                break
    current["domains"] = {d: sorted(ids) for d, ids in domains.items()}
    current["unmapped"] = sorted(unmapped)
    header = TARGET.read_text().split("\n# ---\n", 1)[0]
    body = yaml.safe_dump(current, sort_keys=False, width=100)
    TARGET.write_text(header + "\n# ---\n" + body)


if __name__ == "__main__":
    main()
