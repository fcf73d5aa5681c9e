"""The "resolve from cache" stage: which results an earlier run already established, and
the cache entries this run leaves for the next one.

What a key covers (any change misses):
- every scanner: the scanner, the pinned tool's lock digest (only `tools = "managed"`:
  a tool found on PATH is whatever is there, so it is never cached), the pipeline's own
  code (a digest of every `pipeline/*.py` and the templates), the policy data
  (`policies/`), the identity scheme of secrets (a digest of the HMAC key, never the
  key), and the configuration keys that change the tool's result;
- detect-secrets and bandit, per file: the file's path and content digest. A file cut
  into chunks is one entry (its content fixes its chunks). detect-secrets entries are
  kept only for files with no finding and nothing not assessed: a file holding a secret
  is always scanned again, so its value is located afresh to scrub other tools' output
  and no identity of a secret is ever stored; bandit entries only for files assessed
  without a problem;
- checkov: every IaC file it reads (paths and content digests of all its frameworks,
  charts and kustomizations included), the renderers' lock and the backup-retention
  setting: a change to any IaC file misses, so graph checks across files stay right;
- pip-audit (offline only: an online service's answer changes without us): every
  dependency manifest's path and content digest, the supported Python versions and
  platforms, and the advisory database's digest.
Only a scanner result with status ok is stored; a failed or interrupted one never is.
The entries hold what the evidence holds, after the redaction boundary.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline import cache as cache_mod
from pipeline import toolenv
from pipeline.config import Config
from pipeline.discover import Inventory
from pipeline.model import (
    Finding,
    Location,
    NotAssessed,
    ScanResult,
    Severity,
    Status,
    Suppression,
    ToolInfo,
)

PER_FILE = {"detect-secrets": "text", "bandit": "python"}
"""Scanners cached per file, and which files are theirs."""
WHOLE = ("checkov", "pip-audit")


def _tree_digest(folder: Path, pattern: str) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob(pattern)):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(path.relative_to(folder).as_posix().encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def code_digest(package: Path, templates: Path, policies: Path) -> str:
    """The pipeline's own code and locks (the renderers' too), templates and policy data:
    any change misses."""
    return cache_mod.digest(
        _tree_digest(package, "*.py"),
        _tree_digest(package / "locks", "*"),
        _tree_digest(templates, "*"),
        _tree_digest(policies, "*"),
    )


def rendered_digest(folder: Path | None, problems: Iterable[NotAssessed] = ()) -> str:
    """The renderers' output, for checkov's key: every rendered file and every problem."""
    listed = [f"{n.item}\0{n.reason}" for n in problems]
    if folder is None or not folder.is_dir():
        return cache_mod.digest("nothing rendered", *listed)
    return cache_mod.digest(_tree_digest(folder, "*"), *listed)


def lock_digests(distributions: Iterable[str]) -> dict[str, str]:
    """Each pinned tool's lock digest (a missing lock: not cached)."""
    out = {}
    for d in distributions:
        try:
            out[d] = toolenv.lock_digest(d)
        except OSError:
            continue
    return out


def content_digest(root: Path, rel: str) -> str | None:
    """SHA-256 of a target file (discovery listed it as a regular file inside the target)."""
    try:
        with open(root / rel, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


# --- Codec: a scanner's findings and what it could not assess, as JSON ------------------


def finding_to_dict(f: Finding) -> dict[str, Any]:
    d = asdict(f)
    d["severity"] = f.severity.label
    d["fingerprint"] = f.fingerprint.split(":")[0]  # the occurrence suffix is given again
    d.pop("legacy_fingerprint", None)  # never written out (see Finding)
    return d


def finding_from_dict(d: Mapping[str, Any]) -> Finding:
    sup = d.get("suppression")
    return Finding(
        tool=d["tool"],
        rule_id=d["rule_id"],
        title=d["title"],
        severity=Severity.parse(d["severity"]),
        location=Location(**d["location"]),
        fingerprint=d["fingerprint"],
        message=d.get("message", ""),
        cwe=tuple(d.get("cwe") or ()),
        aliases=tuple(d.get("aliases") or ()),
        remediation=d.get("remediation"),
        help_url=d.get("help_url"),
        snippet=d.get("snippet"),
        confidence=d.get("confidence"),
        package=d.get("package"),
        installed_version=d.get("installed_version"),
        fixed_versions=tuple(d.get("fixed_versions") or ()),
        suppression=Suppression(**sup) if sup else None,
        severity_source=d.get("severity_source"),
    )


def result_to_dict(r: ScanResult) -> dict[str, Any]:
    return {
        "findings": [finding_to_dict(f) for f in r.findings],
        "errors": list(r.errors),
        "not_assessed": [asdict(n) for n in r.not_assessed],
        "rules_run": list(r.rules_run),
        "assessed": r.assessed,
        "tool": asdict(r.tool) if r.tool else None,
    }


def _unsuppressed(f: Finding) -> Finding:
    """A finding as the tool reported it: waivers and the baseline are applied every run."""
    return f if f.suppression is None or f.suppression.kind == "inline" else replace(f, suppression=None)


# --- Keys -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """The key material of one run, computed once."""

    code: str
    secret_scheme: str
    config: Config
    root: Path
    locks: Mapping[str, str]
    """Distribution → its lock's digest (`toolenv.lock_digest`)."""
    advisory_digest: str | None = None
    rendered_digest: str = ""
    """Digest of what the renderers produced (every rendered document and what could not be
    rendered): a chart or kustomization may read any file of the target (`resources:
    [deploy.k8s]`), so its checkov result is keyed on its output, not on a list of inputs."""
    digests: dict[str, str | None] = field(default_factory=dict)

    def content(self, rel: str) -> str | None:
        if rel not in self.digests:
            self.digests[rel] = content_digest(self.root, rel)
        return self.digests[rel]

    def scanner(self, name: str, distribution: str) -> str | None:
        """The part every key of this scanner shares; None: never cached."""
        cfg = self.config
        if cfg.tools != "managed":
            return None
        if name == "pip-audit" and cfg.vulnerability_service != "offline":
            return None
        if name == "checkov" and cfg.changed_since:
            return None  # checkov reads the whole target, a diff scan's key would cover the change only
        lock = self.locks.get(distribution)
        if lock is None:
            return None
        relevant: dict[str, Any] = {"max-file-size": cfg.max_file_size}
        if name == "checkov":
            relevant |= {
                "min-backup-retention-days": cfg.min_backup_retention_days,
                "exclude": list(cfg.exclude),
                "rendered": self.rendered_digest,
            }
        if name == "pip-audit":
            relevant |= {
                "python-versions": list(cfg.python_versions),
                "platforms": list(cfg.platforms),
                "advisories": self.advisory_digest,
            }
        return cache_mod.digest(
            name, lock, self.code, self.secret_scheme, json.dumps(relevant, sort_keys=True)
        )

    def per_file(self, base: str, rel: str) -> str | None:
        content = self.content(rel)
        return None if content is None else cache_mod.digest(base, "file", rel, content)

    def whole(self, base: str, files: Iterable[str]) -> str | None:
        parts = [base, "whole"]
        for rel in sorted(set(files)):
            content = self.content(rel)
            if content is None:
                return None
            parts += [rel, content]
        return cache_mod.digest(*parts)


def scope(name: str, inventory: Inventory) -> tuple[str, ...]:
    """The files a scanner's result depends on (its per-file items, or its whole input)."""
    if name == "detect-secrets":
        return tuple(f.path for f in inventory.files if not f.binary and not f.oversized)
    if name == "bandit":
        return inventory.python_files
    if name == "checkov":
        # checkov reads every file of its frameworks under the target (`--directory`),
        # not only those discovery recognised: every file it could read is in the key.
        iac = {p for files in inventory.iac.values() for p in files}
        return tuple(sorted(iac | {f.path for f in inventory.files if _checkov_may_read(f.path)}))
    if name == "pip-audit":
        return tuple(sorted(inventory.manifests))
    return ()


CHECKOV_SUFFIXES = (
    ".tf",
    ".tfvars",
    ".tf.json",
    ".hcl",
    ".bicep",
    ".yml",
    ".yaml",
    ".json",
    ".template",
    ".tpl",
)


def _checkov_may_read(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith(CHECKOV_SUFFIXES) or "dockerfile" in name


# --- Resolution -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reused:
    """What one scanner takes from the cache in this run."""

    scanner: str
    items: tuple[str, ...] = ()
    """Per-file scanners: the files whose results are reused (they are not scanned)."""
    payloads: tuple[Mapping[str, Any], ...] = ()
    origins: tuple[str, ...] = ()
    whole: Mapping[str, Any] | None = None
    """Whole-input scanners: the whole result, when it is reused."""


@dataclass(frozen=True)
class Resolution:
    reused: Mapping[str, Reused]
    keys: Mapping[str, str]
    """Scanner → its shared key part (absent: not cached)."""


def resolve(
    names: Iterable[tuple[str, str]], inventory: Inventory, keys: Keys, store: cache_mod.ResultCache
) -> Resolution:
    """Look every in-scope item of every (scanner, distribution) up in the cache."""
    reused: dict[str, Reused] = {}
    bases: dict[str, str] = {}
    if not store.enabled:
        return Resolution({}, {})
    for name, distribution in names:
        base = keys.scanner(name, distribution)
        if base is None:
            continue
        bases[name] = base
        files = scope(name, inventory)
        if name in PER_FILE:
            items, payloads, origins = [], [], set()
            for rel in files:
                key = keys.per_file(base, rel)
                hit = store.get(key) if key else None
                if hit is not None:
                    items.append(rel)
                    payloads.append(hit.payload)
                    origins.add(hit.origin)
            if items:
                reused[name] = Reused(name, tuple(items), tuple(payloads), tuple(sorted(origins)))
        elif name in WHOLE and files:
            key = keys.whole(base, files)
            hit = store.get(key) if key else None
            if hit is not None:
                reused[name] = Reused(name, (), (), (hit.origin,), whole=hit.payload)
    return Resolution(reused, bases)


def merge_reused(result: ScanResult | None, reused: Reused, name: str) -> ScanResult:
    """A scanner's result with its reused part: the whole cached result, or the fresh
    jobs' result plus the reused files' findings and counts."""
    if reused.whole is not None:
        return _from_payload(name, reused.whole)
    fresh = result or ScanResult(name, Status.OK)
    parts = [_from_payload(name, p) for p in reused.payloads]
    tool = fresh.tool or next((p.tool for p in parts if p.tool), None)
    return replace(
        fresh,
        findings=fresh.findings + tuple(f for p in parts for f in p.findings),
        rules_run=tuple(sorted(set(fresh.rules_run).union(*(p.rules_run for p in parts)))),
        assessed=fresh.assessed + sum(p.assessed for p in parts),
        tool=tool,
    )


def _from_payload(name: str, d: Mapping[str, Any]) -> ScanResult:
    tool = d.get("tool")
    return ScanResult(
        name,
        Status.OK,
        findings=tuple(finding_from_dict(f) for f in d.get("findings") or ()),
        errors=tuple(d.get("errors") or ()),
        not_assessed=tuple(NotAssessed(**n) for n in d.get("not_assessed") or ()),
        rules_run=tuple(d.get("rules_run") or ()),
        assessed=int(d.get("assessed") or 0),
        tool=ToolInfo(**tool) if tool else None,
        warnings=tuple(d.get("warnings") or ()),
    )


# --- What this run leaves for the next ----------------------------------------------------


def entries(
    results: Iterable[ScanResult],
    resolution: Resolution,
    inventory: Inventory,
    keys: Keys,
    fresh_warnings: Mapping[str, tuple[str, ...]],
    clean: Callable[[ScanResult], ScanResult],
) -> list[tuple[str, dict[str, Any]]]:
    """Cache entries from this run's results (before suppression, after the boundary via
    `clean`): per file for detect-secrets and bandit, whole for checkov and pip-audit;
    nothing for a scanner that did not finish ok, nor for what was reused already."""
    out: list[tuple[str, dict[str, Any]]] = []
    for r in results:
        base = resolution.keys.get(r.scanner)
        reused = resolution.reused.get(r.scanner)
        if base is None or r.status is not Status.OK:
            continue
        if r.scanner in PER_FILE:
            if r.errors and r.scanner == "bandit":
                continue  # an error we cannot tie to one file: nothing from this run is kept
            skip = set(reused.items) if reused else set()
            unassessed = {n.item for n in r.not_assessed}
            by_file: dict[str, list[Finding]] = {}
            for f in r.findings:
                by_file.setdefault(f.location.path, []).append(f)
            kept: list[tuple[str, list[Finding]]] = []
            for rel in scope(r.scanner, inventory):
                if rel in skip or rel in unassessed:
                    continue  # reused already (its entry stands), or not assessed
                found = by_file.get(rel, [])
                if r.scanner == "detect-secrets" and found:
                    continue  # a file with a secret is scanned again every run (see above)
                key = keys.per_file(base, rel)
                if key is not None:
                    kept.append((key, found))
            # Through the boundary only what is stored (not the reused findings again).
            shown = clean(
                replace(
                    r,
                    findings=tuple(_unsuppressed(f) for _, fs in kept for f in fs),
                    not_assessed=(),
                    errors=(),
                )
            )
            at = 0  # the boundary keeps the findings' order: split them back by count
            for key, found in kept:
                part = replace(shown, findings=shown.findings[at : at + len(found)], assessed=1)
                at += len(found)
                out.append((key, result_to_dict(part)))
        elif r.scanner in WHOLE and not (reused and reused.whole is not None):
            key = keys.whole(base, scope(r.scanner, inventory))
            if key is not None:
                shown = clean(replace(r, findings=tuple(_unsuppressed(f) for f in r.findings)))
                payload = result_to_dict(shown)
                payload["warnings"] = [
                    w for w in shown.warnings if w not in fresh_warnings.get(r.scanner, ())
                ]
                out.append((key, payload))
    return out
