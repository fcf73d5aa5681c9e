"""bandit: Python code, sharded across workers; files it cannot parse are reported.

bandit runs with `--ignore-nosec`, and `parse()` applies bandit 1.9's own `# nosec`
rules to its results, so that what bandit would skip stays visible as an inline
suppression (see `skipping_comment`). Besides bandit's own results, it reports every
`# nosec` that silences all tests: a bare `# nosec`, or one whose text names no test
bandit knows (bandit then treats it as bare, e.g. `# nosec: trusted input`).
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from types import MappingProxyType
from typing import Any

from pipeline import fingerprint as fp
from pipeline.model import Finding, Location, NotAssessed, Severity, Suppression
from pipeline.redact import mask_line
from pipeline.runner import ToolRun
from pipeline.scanners.base import (
    Context,
    Job,
    NotApplicable,
    Parsed,
    Plan,
    as_path_arg,
    load_json,
    pack,
    relpath,
    shard_count,
    stderr_excerpt,
    tail,
)
from pipeline.scanners.decode import (
    DecodeError,
    child,
    field,
    integer,
    list_of,
    lst,
    mismatch,
    obj,
    optional,
    string,
)

NAME = "bandit"
NOSEC_RULE = "CP-NOSEC-BLANKET"
BYTES_PER_SECOND = 350_000
"""Measured (bench/tool_costs.py, pinned 1.9.4, 2 cores): 2.7 to 3.0 s per MB of Python."""
START_SECONDS = 0.15
"""Measured: 0.12 to 0.14 s to start and scan one tiny file."""
SHARD_SECONDS = 4.0
# --ignore-nosec makes bandit report the findings it would otherwise silence; they are
# then marked as inline suppressions, with the suppressing comment as the reason.
BASE_ARGV = ("bandit", "-f", "json", "-q", "--ignore-nosec")
INI = "[bandit]\n"
"""An explicit, empty `.bandit` file: bandit then never looks for one in the target."""
# The same expressions bandit 1.9 uses (bandit/core/manager.py).
NOSEC_COMMENT = re.compile(r"#\s*nosec:?\s*(?P<tests>[^#]+)?#?")
NOSEC_COMMENT_TESTS = re.compile(r"(?:(B\d+|[a-z\d_]+),?)+", re.IGNORECASE)
BUILTIN_TESTS = frozenset({"B001"})
"""Ids bandit knows besides its plugins and blacklists (extension_loader.Manager.builtin)."""
STRING_TESTS = frozenset({"B104", "B105", "B108", "B608"})
"""bandit 1.9's tests on string constants (`@checks("Str")`). bandit looks a nosec up on
the line of the result only when the test set that line itself; these tests do not, and
their results carry the string's line but the line range of the string's parent: only
the nosec comments in that range count (bandit/core/node_visitor.py visit_Str)."""
FILE_TESTS: Mapping[str, tuple[int, ...]] = MappingProxyType({"B613": (0, 1)})
"""Tests on the whole file (`@checks("File")`): bandit looks their nosec up on the
result's own line and on the file context's line range, [0, 1] (node_visitor.process);
their results carry only their own line as line range."""
_SEVERITY = {"LOW": Severity.LOW, "MEDIUM": Severity.MEDIUM, "HIGH": Severity.HIGH}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ASCII_SPACE = " \t\n\r\x0b\x0c"
"""What bytes.strip() removes: bandit counts lines of code on the file's bytes."""


@dataclass(frozen=True)
class KnownTests:
    """The test ids and names of the pinned bandit (pipeline/locks/bandit-tests.txt)."""

    ids: frozenset[str] = frozenset()
    by_name: Mapping[str, str] = dataclass_field(default_factory=lambda: MappingProxyType({}))

    def resolve(self, word: str) -> str | None:
        """The test id a word of a nosec comment names, like bandit's
        `_find_test_id_from_nosec_string`: an id as written (case matters), else a
        plugin or blacklist name (`import_pickle` → B403), else nothing."""
        if word in self.ids or word in BUILTIN_TESTS:
            return word
        return self.by_name.get(word)


def load_known_tests(text: str) -> KnownTests:
    """Test ids and names from pipeline/locks/bandit-tests.txt (`<id> <name>` a line)."""
    ids: set[str] = set()
    by_name: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        test_id, *names = line.split()
        ids.add(test_id)
        by_name.update(dict.fromkeys(names, test_id))
    return KnownTests(frozenset(ids), MappingProxyType(by_name))


@dataclass(frozen=True)
class NosecComment:
    line: int
    comment: str
    tests: frozenset[str]
    """The test ids it names; empty: it silences every test (bare, or no known test)."""


def _comments(text: str) -> Iterable[tuple[int, str]]:
    """The comments bandit sees, like bandit/core/manager.py `_parse_file`: the file's
    bytes tokenized (a BOM, a coding cookie, lines split at LF only), up to the first
    tokenizer error (bandit keeps what it read and goes on)."""
    try:
        for tok in tokenize.tokenize(io.BytesIO(text.encode("utf-8")).readline):
            if tok.type == tokenize.COMMENT:
                yield tok.start[0], tok.string
    except (tokenize.TokenError, SyntaxError):
        # bandit stops at a TokenError; on a SyntaxError (a bad indentation or
        # encoding) it skips the file, which it reports in its errors.
        return


def nosec_lines(text: str, known: KnownTests) -> dict[int, NosecComment]:
    """line → its nosec comment, with the test ids bandit resolves from it."""
    found: dict[int, NosecComment] = {}
    if "nosec" not in text:
        return found  # tokenizing costs ~3 ms a file; most files have no nosec at all
    for line_no, comment in _comments(text):
        m = NOSEC_COMMENT.search(comment)
        if m:
            words = (t.group(1) for t in NOSEC_COMMENT_TESTS.finditer(m.group("tests") or ""))
            tests = frozenset(t for t in map(known.resolve, words) if t)
            found[line_no] = NosecComment(line_no, comment.strip(), tests)
    return found


def blanket_nosec_lines(text: str, known_tests: KnownTests) -> list[tuple[int, str]]:
    """Lines whose `# nosec` disables every bandit test: (line number, comment)."""
    return [(n, c.comment) for n, c in nosec_lines(text, known_tests).items() if not c.tests]


def skipping_comment(
    nosecs: Mapping[int, NosecComment], test_id: str, line_no: int, line_range: Sequence[int]
) -> NosecComment | None:
    """The nosec comment for which bandit 1.9 skips a result, or None if it reports it.

    bandit/core/tester.py `_get_nosecs_from_contexts`: the tests named on the result's
    line, joined with those of the first nosec comment in the line range of the node
    the test ran on (utils.get_nosec). No comment: reported; nothing named: skipped
    (a blanket nosec); otherwise skipped only if the result's test id is named. So a
    nosec on any line of a multi-line call counts, but only the first one, and a nosec
    naming other tests keeps a blanket one on another line from applying.
    """
    own = None if test_id in STRING_TESTS else nosecs.get(line_no)
    context = next((nosecs[n] for n in FILE_TESTS.get(test_id, line_range) if n in nosecs), None)
    present = [c for c in (own, context) if c is not None]
    if not present:
        return None
    if not any(c.tests for c in present):
        return present[0]
    return next((c for c in present if test_id in c.tests), None)


def _flagged_line(code: str, line_no: int) -> str:
    prefix = f"{line_no} "
    for line in code.splitlines():
        if line.startswith(prefix):
            return line[len(prefix) :]
    return ""


class Bandit:
    name = NAME
    executable = "bandit"
    distribution = "bandit"

    def __init__(self, known_tests: KnownTests) -> None:
        self.known_tests = known_tests

    def plan(self, ctx: Context) -> Plan | NotApplicable:
        files = [f for f in ctx.inventory.files if f.path.endswith((".py", ".pyw"))]
        if not files:
            return NotApplicable("no Python files in the target")
        costs = [(f.path, f.size / BYTES_PER_SECOND) for f in files]
        total = sum(c for _, c in costs)
        shards = shard_count(total, len(files), ctx.workers, SHARD_SECONDS)
        folder = ctx.workdir / NAME
        folder.mkdir(parents=True, exist_ok=True)
        ini = folder / "bandit.ini"
        ini.write_text(INI, encoding="utf-8")
        # No configuration from the target (`.bandit`, `[tool.bandit]` are read only
        # through --ini / -c), and `-x ''`: bandit's default excludes match as
        # substrings anywhere in a path (`CVS`, `.git`, `.tox` ...), so a file named
        # `src/CVSimport.py` would silently not be scanned. Discovery excludes folders.
        opts = (*BASE_ARGV, "--ini", str(ini), "-x", "")
        jobs = tuple(
            Job(argv=(*opts, *map(as_path_arg, paths)), cost=START_SECONDS + load, inputs=paths)
            for paths, load in pack(costs, shards)
        )
        return Plan(jobs)

    def parse(self, run: ToolRun, job: Job, ctx: Context) -> Parsed:
        parsed = parse(run.stdout, ctx, self.known_tests, job.inputs)
        if parsed.failure is None and run.returncode not in (0, 1):
            # The masked output stays the evidence: without it the raw stdout (bandit's
            # unmasked code snippets) would be recorded instead.
            return Parsed(
                failure=f"bandit exited {run.returncode}: {stderr_excerpt(run.stderr)}", raw=parsed.raw
            )
        if parsed.failure is not None:
            return parsed
        nosec = nosec_findings(job.inputs, ctx, self.known_tests)
        return Parsed(
            findings=parsed.findings + nosec,
            errors=parsed.errors,
            not_assessed=parsed.not_assessed,
            raw=parsed.raw,
            rules_run=parsed.rules_run,
        )


def nosec_findings(paths: Iterable[str], ctx: Context, known: KnownTests) -> tuple[Finding, ...]:
    out: list[Finding] = []
    for path in paths:
        text = ctx.read_text(path)
        if text is None:
            continue
        lines = text.splitlines()
        for line_no, comment in blanket_nosec_lines(text, known):
            code = lines[line_no - 1] if line_no <= len(lines) else comment
            out.append(
                Finding(
                    tool=NAME,
                    rule_id=NOSEC_RULE,
                    title="`# nosec` disables every bandit test on this line",
                    severity=ctx.severities.of(NAME, NOSEC_RULE),
                    location=Location(path, line_no, line_no),
                    fingerprint=fp.fingerprint(NAME, NOSEC_RULE, path, fp.normalise_code(code)),
                    message=(
                        f"{comment!r} names no bandit test, so bandit skips all of them here; "
                        "name the test it waives, e.g. `# nosec B602`, and give the reason."
                    ),
                    remediation="Replace it with `# nosec <test id>` and record the reason.",
                    snippet=mask_line(code),
                )
            )
    return tuple(out)


def _suppression(
    path: str,
    line_no: int,
    test_id: str,
    line_range: Sequence[int],
    ctx: Context,
    known: KnownTests,
    cache: dict[str, dict[int, NosecComment]],
) -> Suppression | None:
    if path not in cache:
        cache[path] = nosec_lines(ctx.read_text(path) or "", known)
    hit = skipping_comment(cache[path], test_id, line_no, line_range)
    if hit is None:
        return None
    return Suppression("inline", hit.comment, source=f"{path}:{hit.line}")


def has_code(text: str) -> bool:
    """Whether bandit counts a line of code in `text` (bandit/core/metrics.py count_locs).

    bandit splits the file's bytes at CR, LF or CRLF and counts the lines that are
    neither blank (ASCII whitespace) nor start with `#`: a file of comments and blank
    lines has 0 lines of code, legitimately.
    """
    for line in _LINE_BREAK.split(text):
        stripped = line.strip(_ASCII_SPACE)
        if stripped and not stripped.startswith("#"):
            return True
    return False


def parse(
    stdout: str,
    ctx: Context,
    known_tests: KnownTests | None = None,
    inputs: Iterable[str] = (),
) -> Parsed:
    """Pure: bandit JSON → findings, errors and NOT_ASSESSED files.

    `inputs` are the target files the job gave bandit: when they hold code and its
    metrics count no line of code at all, bandit analysed nothing (FAILED); a file
    its output does not mention (in neither its metrics nor its errors) is NOT_ASSESSED.
    """
    data, error = load_json(stdout)
    if error:
        return Parsed(failure=f"bandit {error}: {tail(stdout, 200)!r}")
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return Parsed(failure="bandit output has no 'results' list")
    try:
        return _parse(data, ctx, known_tests or KnownTests(), tuple(inputs))
    except DecodeError as exc:
        return Parsed(failure=mismatch(NAME, exc))


def _parse(data: dict[str, Any], ctx: Context, known_tests: KnownTests, inputs: tuple[str, ...]) -> Parsed:
    nosec_cache: dict[str, dict[int, NosecComment]] = {}
    findings: list[Finding] = []
    rules: set[str] = set()
    for i, item in enumerate(data["results"]):
        where = child("results", i)
        r = obj(item, where)
        path = relpath(field(r, "filename", where, string, ""))
        rule = field(r, "test_id", where, string, "B000")
        rules.add(rule)
        test_name = optional(r, "test_name", where, string)
        line_no = field(r, "line_number", where, integer, 0)
        # bandit 1.9's JSON always has both; the line range is where its nosec counts.
        line_range = optional(r, "line_range", where, list_of(integer)) or [line_no]
        flagged = _flagged_line(field(r, "code", where, string, ""), line_no)
        cwe = optional(r, "issue_cwe", where, obj) or {}
        cwe_id = optional(cwe, "id", child(where, "issue_cwe"), integer)
        findings.append(
            Finding(
                tool=NAME,
                rule_id=rule,
                title=(rule if test_name is None else test_name).replace("_", " "),
                severity=_SEVERITY.get(
                    field(r, "issue_severity", where, string, "").upper(), Severity.MEDIUM
                ),
                location=Location(path, line_no or None, max(line_range) if line_range else None),
                fingerprint=fp.fingerprint(NAME, rule, path, fp.normalise_code(flagged)),
                message=mask_line(field(r, "issue_text", where, string, "")),
                cwe=(f"CWE-{cwe_id}",) if cwe_id else (),
                help_url=optional(r, "more_info", where, string),
                snippet=mask_line(flagged) if flagged else None,
                confidence=field(r, "issue_confidence", where, string, "").lower() or None,
                suppression=_suppression(path, line_no, rule, line_range, ctx, known_tests, nosec_cache),
            )
        )
    errors: list[str] = []
    not_assessed: list[NotAssessed] = []
    errored: set[str] = set()
    for i, item in enumerate(optional(data, "errors", "", lst) or ()):
        where = child("errors", i)
        e = obj(item, where)
        path = relpath(field(e, "filename", where, string, "?"))
        reason = field(e, "reason", where, string, "unknown error").strip()
        errored.add(path)
        errors.append(f"{path}: {reason}")
        not_assessed.append(NotAssessed(NAME, path, f"bandit could not analyse it: {reason}"))
    total_loc, locs = _metrics_loc(field(data, "metrics", "", obj, {}))
    if inputs:
        # Read the inputs again only when nothing was counted: files of comments and
        # blank lines have 0 lines of code, legitimately.
        if total_loc == 0:
            silent = [p for p in inputs if relpath(p) not in errored and has_code(ctx.read_text(p) or "")]
            if silent:
                return Parsed(
                    failure=f"bandit reported 0 lines of code (metrics _totals.loc) for {_files(silent)} "
                    "with code: it analysed nothing"
                )
        # bandit lists every file it read in its metrics, empty ones too: a file in
        # neither its metrics nor its errors was not read, whatever it holds.
        not_assessed.extend(
            NotAssessed(NAME, p, "missing from bandit's output (not in its metrics, not in its errors)")
            for p in inputs
            if relpath(p) not in locs and relpath(p) not in errored
        )
    raw = _masked_raw(data)
    return Parsed(
        findings=tuple(findings),
        errors=tuple(errors),
        not_assessed=tuple(not_assessed),
        rules_run=tuple(sorted(rules)),
        raw=raw,
    )


def _metrics_loc(metrics: Mapping[str, Any]) -> tuple[int, dict[str, int]]:
    """bandit's metrics → (its total lines of code, {target-relative path: lines of code})."""
    total: int | None = None
    locs: dict[str, int] = {}
    for key, value in metrics.items():
        where = child("metrics", key)
        loc = field(obj(value, where), "loc", where, integer, 0)
        if key == "_totals":
            total = loc
        else:
            locs[relpath(key)] = loc
    return (sum(locs.values()) if total is None else total), locs


def _files(paths: list[str]) -> str:
    shown = ", ".join(paths[:3]) + (", …" if len(paths) > 3 else "")
    return f"{len(paths)} file{'s' if len(paths) != 1 else ''} ({shown})"


def _masked_raw(data: dict[str, Any]) -> dict[str, Any]:
    results = []
    for r in data.get("results", []):
        r = dict(r)
        if isinstance(r.get("code"), str):
            r["code"] = "\n".join(mask_line(line) for line in r["code"].splitlines())
        if isinstance(r.get("issue_text"), str):
            r["issue_text"] = mask_line(r["issue_text"])
        results.append(r)
    return {**data, "results": results}
