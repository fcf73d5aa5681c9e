"""Regenerate the domain lists of policies/checkov-builtin.yaml from the pinned checkov.

  CK=~/.cache/compliance-pipeline/envs/checkov-<digest>/bin/python
  $CK scripts/checkov_catalogue.py > /tmp/catalogue.json
  .venv/bin/python scripts/checkov_domains.py /tmp/catalogue.json

Each built-in check of a tracked category goes to one domain, first rule that applies:
  1. an explicit correction (`corrections`, kept from the existing file);
  2. an ENCRYPTION or NETWORKING check whose name speaks of transport (TLS, SSL, HTTPS,
     in transit, ciphers) → encryption-in-transit;
  3. an IAM or NETWORKING check whose name speaks of exposure (public, internet,
     0.0.0.0, the world, anonymous, everyone, any principal, "is private") →
     public-exposure when it names a data store or no network path, network-exposure
     when it names a network path (port, SSH, RDP, security group, NACL, firewall,
     ingress/egress, a public IP) of something that is not a data store;
  4. by category, in the order of BY_CATEGORY.
Checks of no tracked category are `unmapped` (see `unmapped_reasons`); `excluded` ones
are neither. Corrections, exclusions, severities and reasons are kept from the existing
file; review the diff. Untracked checks whose name speaks of exposure and that no
correction places are printed on stderr, to review for a correction.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "policies" / "checkov-builtin.yaml"
DOMAINS = ROOT / "policies" / "domains.yaml"
TRANSIT = re.compile(r"(?i)\btransit|\btls\b|\bssl\b|https|secure protocol|cipher")
EXPOSED = re.compile(
    r"(?i)public|internet|0\.0\.0\.0|\bworld\b|anonymous|unauthenticated (guest|access|user)"
    r"|everyone|\banyone\b|all authenticated users|any (aws )?principal|\b(is|are) private\b"
    r"|overly permissive network access"
)
NETWORK_PATH = re.compile(
    r"(?i)\bports?\b|\bssh\b|\brdp\b|security group|\bnacl\b|network acl|security list"
    r"|access control group|firewall|ingress|egress|public ip|\budp\b"
)
DATA_STORE = re.compile(
    r"(?i)\b(sql|database|db|rds|redshift|aurora|neptune|bucket|s3|storage|blob|cosmos\w*"
    r"|redis|cache|elasticsearch|opensearch|mongo\w*|mysql|postgre\w*|mariadb|snapshots?"
    r"|ami|dynamodb|msk|kafka|bigquery|dataset|glacier|sqs|queue)\b"
)
BY_CATEGORY = (
    ("SECRETS", "secrets"),
    ("BACKUP_AND_RECOVERY", "backup"),
    ("ENCRYPTION", "encryption-at-rest"),
    ("LOGGING", "audit-logging"),
    ("IAM", "access-control"),
    ("NETWORKING", "network-exposure"),
)
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


def classify(name: str, cats: set[str]) -> str:
    """The domain of a check of a tracked category, by rules 2–4 of the module docstring."""
    if cats & {"ENCRYPTION", "NETWORKING"} and TRANSIT.search(name):
        return "encryption-in-transit"
    if cats & {"IAM", "NETWORKING"} and EXPOSED.search(name):
        if NETWORK_PATH.search(name) and not DATA_STORE.search(name):
            return "network-exposure"
        return "public-exposure"
    return next(domain for category, domain in BY_CATEGORY if category in cats)


def regenerate(
    catalogue: dict[str, dict[str, Any]], current: dict[str, Any], domain_names: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """(the file's new content, notes to review) from the catalogue and the current file:
    corrections, exclusions, severities and reasons kept, domain lists and `unmapped` redone."""
    corrections: dict[str, dict[str, str]] = current["corrections"]
    excluded: dict[str, str] = current["excluded"]
    tracked = set(current["tracked_categories"])
    known = {category for category, _ in BY_CATEGORY}
    if tracked - known:
        raise SystemExit(f"tracked_categories {sorted(tracked - known)}: add them to BY_CATEGORY")
    notes: list[str] = []
    domains: dict[str, list[str]] = {d: [] for d in domain_names}
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
            if EXPOSED.search(entry["name"]):
                notes.append(f"review: {cid} ({', '.join(entry['categories'])}): {entry['name']}")
            continue
        domains[classify(entry["name"], cats)].append(cid)
    checks: dict[str, str] = current["severity"].get("checks") or {}
    reasons: dict[str, str] = current.get("unmapped_reasons") or {}
    named = [*corrections, *excluded, *checks, *(k for k in reasons if k.startswith("CKV"))]
    for cid in sorted(set(named) - set(catalogue)):
        notes.append(f"stale: {cid} is named in {TARGET.name} but not in the pinned checkov")
    ordered = sorted(checks.items(), key=lambda kv: (SEVERITY_ORDER.index(kv[1]), kv[0]))
    new = dict(current)
    new["severity"] = {**current["severity"], "checks": dict(ordered)}
    new["domains"] = {d: sorted(ids) for d, ids in domains.items() if ids or d in current["domains"]}
    new["unmapped"] = sorted(unmapped)
    return new, notes


def main() -> None:
    catalogue: dict[str, dict[str, Any]] = json.loads(Path(sys.argv[1]).read_text())
    text = TARGET.read_text()
    domain_names = list(yaml.safe_load(DOMAINS.read_text())["domains"])
    new, notes = regenerate(catalogue, yaml.safe_load(text), domain_names)
    for note in notes:
        print(note, file=sys.stderr)
    header = text.split("\n# ---\n", 1)[0]
    TARGET.write_text(header + "\n# ---\n" + yaml.safe_dump(new, sort_keys=False, width=100))


if __name__ == "__main__":
    main()
