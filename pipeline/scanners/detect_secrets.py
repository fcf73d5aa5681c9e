"""detect-secrets: secrets in every text file, sharded across workers.

Only the hashed secret and a masked preview leave `parse()`; the plaintext is
located (by its SHA-1) only to mask it and to scrub other tools' outputs.

Work split (see docs/architecture.md, "Secrets scanning policy"):
- binary files are not given to the tool (it cannot read them either);
- text files over `max-file-size` are NOT_ASSESSED, never silently skipped;
- text files that are not valid UTF-8 (which detect-secrets silently ignores)
  are scanned from a UTF-8 copy with invalid bytes replaced;
- runs of more than 16 spaces or tabs are shortened to 16 in the copy the
  tool reads: its keyword regular expressions take time cubic in such runs
  (measured on 1.5.0: 100 blanks after `"password"` cost 8 ms, 300 cost
  0.23 s, 1,000 cost 5.7 s, on one line). No secret contains such a run, and
  line numbers are unchanged;
- large files are cut at line boundaries into chunks, so one big file is spread
  over every worker instead of dominating the run (detect-secrets' plugins work
  line by line; config-like files whose parsers need the whole file are kept
  whole). The tool reports a secret once per file it reads, so `merge()` brings
  the chunks' findings back to one per file, type and secret, as for the whole
  file;
- shards, not chunks, are processes: the staged copies (chunks, transcoded and
  defused files), which the tool reads from the staging folder, and the target's
  own files, which it reads in place, are each packed into shards of similar
  estimated cost (longest first), within one budget of shards for the run
  (`shard_count`: at most 2 × workers, fewer when the work is small), shared in
  proportion to their cost. Each process pays the tool's start-up once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pipeline import fingerprint as fp
from pipeline.discover import LONG_LINE, FileInfo
from pipeline.model import Finding, Location, NotAssessed, Suppression
from pipeline.redact import commit_id, find_hashed, mask, mask_line
from pipeline.runner import ToolRun
from pipeline.scanners.base import (
    Context,
    Job,
    NotApplicable,
    Parsed,
    Plan,
    Staged,
    as_path_arg,
    load_json,
    pack,
    relpath,
    shard_count,
    stderr_excerpt,
    tail,
)
from pipeline.scanners.decode import DecodeError, child, field, integer, lst, mismatch, obj, optional, string

NAME = "detect-secrets"
MIN_LOCATED = 6
"""Shorter located values are a token's prefix the tool hashed, not the secret."""
BYTES_PER_SECOND = 200_000
"""Measured (bench/tool_costs.py, pinned 1.5.0, one core): ~400 KB/s of Python source,
~150 KB/s of Markdown prose; far less for long lines (LONG_LINE_FACTOR)."""
LONG_LINE_FACTOR = 8.0
START_SECONDS = 0.2
"""Measured: 0.17 to 0.19 s to start and scan one tiny file."""
SHARD_SECONDS = 4.0
CHUNK_BYTES = 48 * 1024
ALLOWLIST_FILTER = "detect_secrets.filters.allowlist.is_line_allowlisted"
_PRAGMA = re.compile(r"pragma:\s*allowlist[ -]secret", re.IGNORECASE)
_PRAGMA_NEXT = re.compile(r"pragma:\s*allowlist[ -]nextline[ -]secret", re.IGNORECASE)
MAX_BLANKS = 16
_BLANK_RUN = re.compile(rf"[ \t]{{{MAX_BLANKS + 1},}}")
WHOLE_FILE_SUFFIXES = (".yaml", ".yml", ".ini", ".cfg", ".conf", ".toml", ".properties", ".env")


TRACE_TAG = Suppression(
    "recognised",
    'a git commit id in a trace tag (`git_commit = "…"`, as tagging tools such as yor write '
    "them): a public object id, not a credential",
    source="compliance-pipeline rule: trace-tag commit ids (pipeline/redact.py commit_id)",
)
"""A provable non-secret: kept visible as suppressed with this reason, never counted
against a credential control and never blocking."""


def _cost(info: FileInfo) -> float:
    factor = LONG_LINE_FACTOR if info.max_line > LONG_LINE else 1.0
    return info.size * factor / BYTES_PER_SECOND


def _chunks(text: str, size: int) -> list[tuple[int, str]]:
    """Split at line ends into pieces of about `size` characters: (line offset, text)."""
    out: list[tuple[int, str]] = []
    lines = text.splitlines(keepends=True)
    start, buf, n = 0, [], 0
    for i, line in enumerate(lines):
        buf.append(line)
        n += len(line)
        if n >= size:
            out.append((start, "".join(buf)))
            start, buf, n = i + 1, [], 0
    if buf:
        out.append((start, "".join(buf)))
    return out


def _shards(
    base: tuple[str, ...],
    plain: list[tuple[str, float]],
    copies: list[tuple[str, float]],
    staged: Mapping[str, Staged],
    stage_root: Path,
    workers: int,
) -> list[Job]:
    """The run's jobs: one budget of shards (`shard_count` over all the work) shared by
    the target's files (read in place) and the staged copies (read from the staging
    folder, the tool's working directory for them), in proportion to their cost."""
    cost_plain, cost_copies = sum(c for _, c in plain), sum(c for _, c in copies)
    budget = shard_count(cost_plain + cost_copies, len(plain) + len(copies), workers, SHARD_SECONDS)
    for_copies = 0
    if copies:
        share = round(budget * cost_copies / max(cost_plain + cost_copies, 1e-9))
        for_copies = min(max(share, 1), budget - 1 if plain and budget > 1 else budget)
    jobs = [
        Job(argv=(*base, *map(as_path_arg, paths)), cost=START_SECONDS + load, inputs=paths)
        for paths, load in (pack(plain, max(budget - for_copies, 1)) if plain else [])
    ]
    for rels, load in pack(copies, for_copies) if copies else []:
        jobs.append(
            Job(
                argv=(*base, *map(as_path_arg, rels)),
                cost=START_SECONDS + load,
                inputs=tuple(sorted({staged[r].target_path for r in rels})),
                staged=MappingProxyType({r: staged[r] for r in rels}),
                cwd=stage_root,
            )
        )
    return jobs


class DetectSecrets:
    name = NAME
    executable = "detect-secrets"
    distribution = "detect-secrets"

    def plan(self, ctx: Context) -> Plan | NotApplicable:
        text_files = [f for f in ctx.inventory.files if not f.binary]
        if not text_files:
            return NotApplicable("no text files in the target")
        not_assessed = tuple(
            NotAssessed(
                NAME,
                f.path,
                f"larger than max-file-size ({ctx.config.max_file_size} bytes): not scanned",
            )
            for f in text_files
            if f.oversized
        )
        # One process per job: the pipeline does the parallelism (no oversubscription).
        # The allowlist filter is off so that `pragma: allowlist secret` lines are
        # reported, as suppressed findings with their marker, instead of vanishing.
        base = ("detect-secrets", "-c", "1", "scan", "--all-files", "--disable-filter", ALLOWLIST_FILTER)
        stage_root = ctx.workdir / NAME
        plain: list[tuple[str, float]] = []
        copies: list[tuple[str, float]] = []
        staged: dict[str, Staged] = {}
        for info in (f for f in text_files if not f.oversized):
            split = info.size > CHUNK_BYTES and not info.path.lower().endswith(WHOLE_FILE_SUFFIXES)
            blanks = info.blank_run > MAX_BLANKS
            if info.utf8 and not split and not blanks:
                plain.append((info.path, _cost(info)))
                continue
            text = ctx.read_text(info.path)  # invalid bytes come back replaced
            if text is None:
                not_assessed += (NotAssessed(NAME, info.path, "cannot be read"),)
                continue
            if blanks:
                text = _BLANK_RUN.sub(lambda m: m.group(0)[:MAX_BLANKS], text)
            pieces = _chunks(text, CHUNK_BYTES) if split else [(0, text)]
            for n, (offset, piece) in enumerate(pieces):
                # The tool only scans files under its working directory, so staged
                # copies keep the target's relative path below the staging folder.
                staged_rel = f"staged/{n}/{info.path}"
                dest = stage_root / staged_rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(piece, encoding="utf-8")
                staged[staged_rel] = Staged(info.path, offset)
                copies.append((staged_rel, _cost(info) * len(piece) / max(len(text), 1)))
        jobs = _shards(base, plain, copies, staged, stage_root, ctx.workers)
        return Plan(tuple(jobs), not_assessed)

    def parse(self, run: ToolRun, job: Job, ctx: Context) -> Parsed:
        parsed = parse(run.stdout, job, ctx)
        if parsed.failure and run.stderr.strip():
            return Parsed(failure=f"{parsed.failure}; stderr: {stderr_excerpt(run.stderr)}")
        return parsed

    def merge(self, findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
        """All jobs' findings → one per file, type and secret (see `merge`)."""
        return merge(findings)


def merge(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Pure: one finding per (file, type, secret), where the tool puts it for the whole file.

    detect-secrets keeps one PotentialSecret per file, type and secret hash (its
    equality), the first one its line-by-line scan meets. A file cut into chunks
    is several files to the tool, so each chunk holding the secret reports it
    once more, and how many depends on where the cuts fall. Our fingerprint is
    exactly that identity (tool, type, target path, secret hash; no line), so
    findings sharing one are one secret. The one kept is the lowest line, as the
    tool reports it with our arguments; but a line not allowlisted inline beats
    an allowlisted one, because the tool with its allowlist filter on skips
    `pragma: allowlist secret` lines and reports the first occurrence that is not
    one: a pragma on one occurrence does not hide another. (Within one chunk the
    tool, its filter off, returns only the first occurrence: an allowlisted first
    occurrence still hides a later one in the same chunk or unchunked file.)
    """
    kept: dict[str, Finding] = {}
    for f in findings:
        best = kept.get(f.fingerprint)
        if best is None or _rank(f) < _rank(best):
            kept[f.fingerprint] = f
    return tuple(sorted(kept.values(), key=lambda f: (f.location.path, _line(f), f.rule_id, f.fingerprint)))


def _line(f: Finding) -> int:
    return f.location.start_line or 0


def _rank(f: Finding) -> tuple[bool, bool, int, str]:
    # Unsuppressed first, then a known line before none, then the lowest line; the
    # snippet only breaks ties between identical reports (a job run twice).
    line = f.location.start_line
    return (f.suppression is not None, line is None, line or 0, f.snippet or "")


def _target_path(filename: str, job: Job) -> tuple[str, int]:
    staged = job.staged.get(relpath(filename))
    if staged is not None:
        return staged.target_path, staged.line_offset
    return relpath(filename), 0


def parse(stdout: str, job: Job, ctx: Context) -> Parsed:
    """Pure: detect-secrets JSON → findings with hashed secret and masked preview only."""
    data, error = load_json(stdout)
    if error:
        return Parsed(failure=f"detect-secrets {error}: {tail(stdout, 200)!r}")
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        return Parsed(failure="detect-secrets output has no 'results' object")
    try:
        return _parse(data, job, ctx)
    except DecodeError as exc:
        return Parsed(failure=mismatch(NAME, exc))


def _parse(data: dict[str, Any], job: Job, ctx: Context) -> Parsed:
    findings: list[Finding] = []
    secrets: list[str] = []
    raw_results: dict[str, list[dict[str, Any]]] = {}
    version = optional(data, "version", "", string)
    for filename, entries in data["results"].items():
        in_file = child("results", filename)
        path, offset = _target_path(filename, job)
        lines = (ctx.read_text(path) or "").splitlines()
        for i, entry in enumerate(lst(entries, in_file)):
            where = child(in_file, i)
            item = obj(entry, where)
            kind = field(item, "type", where, string, "Secret")
            hashed = field(item, "hashed_secret", where, string, "")
            identity = ctx.secret_ids.of(hashed) if hashed else ""
            line_no = field(item, "line_number", where, integer, 0) + offset
            line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
            value = find_hashed(line, hashed) if hashed else None
            previous_line = lines[line_no - 2] if line_no >= 2 and line_no - 2 < len(lines) else ""
            recognised = bool(value and commit_id(value, line, previous_line))
            if recognised:
                value = None  # a commit SHA in a trace tag stays readable everywhere
            # Shapes first (a `ghp_…` token is masked whole), then every occurrence of the
            # located value on its line, however short (`pass` of `user:pass@`, repeated).
            snippet = mask_line(line)
            if value and len(value) >= MIN_LOCATED:
                secrets.append(value)  # the Scrubber removes it everywhere if not word-like
                snippet = mask_line(line.replace(value, mask(value)))
                preview = mask(value)
            elif value and len(value) >= 3:
                snippet = snippet.replace(value, mask(value))
                preview = "*****"  # too short to be the whole secret (`ghp`), or a short password
            else:
                preview = "*****"
            previous = lines[line_no - 2] if line_no >= 2 and line_no - 2 < len(lines) else ""
            allowed = bool(_PRAGMA.search(line)) or bool(_PRAGMA_NEXT.search(previous))
            findings.append(
                Finding(
                    tool=NAME,
                    rule_id=kind,
                    title=f"{kind} committed to the repository",
                    severity=ctx.severities.of(NAME, kind),
                    location=Location(path, line_no or None, line_no or None),
                    fingerprint=fp.fingerprint(NAME, kind, path, identity),
                    legacy_fingerprint=fp.fingerprint(NAME, kind, path, hashed),
                    message=f"{kind} (preview {preview}, id {identity[:24]}…)",
                    cwe=("CWE-798",),
                    remediation=(
                        "Revoke and rotate the credential, remove it from the code and its "
                        "history, and load it from a secret store or the environment."
                    ),
                    snippet=snippet,
                    suppression=TRACE_TAG
                    if recognised
                    else Suppression("inline", "pragma: allowlist secret", source=f"{path}:{line_no}")
                    if allowed
                    else None,
                )
            )
            # The tool's unsalted SHA-1 never leaves: the raw output carries the keyed identity.
            kept = {k: v for k, v in item.items() if k != "hashed_secret"}
            raw_results.setdefault(path, []).append(
                {**kept, "secret_id": identity, "filename": path, "line_number": line_no}
            )
    raw = {k: v for k, v in data.items() if k != "results"} | {"results": raw_results}
    return Parsed(
        findings=tuple(findings),
        version=version or None,
        raw=raw,
        secrets=tuple(secrets),
    )
