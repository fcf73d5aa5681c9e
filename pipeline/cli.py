"""Thin CLI: arguments → Config → run → exit code. One handler maps errors to exit codes."""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import signal
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from pipeline import (
    __version__,
    cache,
    config,
    controls,
    evidence,
    gate,
    ledger,
    redact,
    renderers,
    resources,
    runner,
    secret_id,
    suppress,
    toolenv,
)
from pipeline.model import Severity
from pipeline.redact import mask_line
from pipeline.report import exports, quarterly
from pipeline.report.terminal import print_summary
from pipeline.run import RunOutput, execute, minimal_report, utc_now
from pipeline.scanners import SCANNER_NAMES, registry
from pipeline.vulndb.download import OSV_EXPORT_URL, DownloadError, download
from pipeline.vulndb.store import VulnDb, VulnDbError, default_path, import_sources

POLICY_ENV = "COMPLIANCE_PIPELINE_POLICY"


class UsageError(Exception):
    """A bad flag or argument (exit 3)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="compliance-pipeline",
        description="Run security scanners on a repository and write audit-grade evidence.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    scan = sub.add_parser(
        "scan",
        help="scan a repository and write findings.json and raw tool outputs",
        description=(
            "Scan PATH with detect-secrets, bandit, pip-audit and checkov in parallel. "
            "Exit 0: nothing at or above the threshold; 1: findings at or above it; "
            "2: incomplete (a scanner failed or something was not assessed); 3: usage error."
        ),
    )
    scan.add_argument("path", nargs="?", default=".", help="the repository to scan (default: .)")
    scan.add_argument("-o", "--output", help="evidence folder (default: ./compliance-evidence)")
    scan.add_argument("-c", "--config", type=Path, help="configuration file (TOML)")
    scan.add_argument("--threshold", help="lowest severity that fails the run (default: high)")
    scan.add_argument("-j", "--jobs", type=int, help="concurrent scanner processes (default: cores)")
    scan.add_argument("--tools", choices=("managed", "path"), help="pinned environments (managed) or PATH")
    scan.add_argument("--skip", action="append", default=[], metavar="SCANNER", help="disable a scanner")
    scan.add_argument(
        "--only", action="append", default=[], metavar="SCANNER", help="run only these scanners"
    )
    scan.add_argument("--no-progress", action="store_true", help="no live progress display")
    scan.add_argument("--zip", action="store_true", help="also write <output>.zip")
    scan.add_argument("--ledger", help="append the run to this ledger (SQLite path or postgresql:// URL)")
    scan.add_argument(
        "--frameworks", help="comma-separated: soc2,iso27001,pci-dss,hipaa,nist-800-53 (default: all)"
    )
    scan.add_argument("--baseline", help="baseline file: only findings not in it count")
    scan.add_argument("--waivers", help="waivers file (default: compliance-waivers.yaml in PATH)")
    scan.add_argument(
        "--changed-since",
        metavar="REF",
        help="a diff scan: only what changed since this commit (a pull request's base); "
        "the evidence says it is partial and no control is PASS",
    )
    scan.add_argument(
        "--no-cache",
        action="store_true",
        help="run every scanner on everything: neither reuse nor keep results in the result cache",
    )
    scan.add_argument("--branch", help="the branch this run is of (default: git's current branch)")
    scan.add_argument(
        "--default-branch",
        help="the repository's default branch; the quarterly report covers its runs (default: origin/HEAD)",
    )
    scan.add_argument(
        "--attestations",
        help="attestations for manual controls (default: compliance-attestations.yaml in PATH)",
    )
    scan.add_argument(
        "--fail-on-incomplete",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="exit 2 when a scanner failed or something was not assessed (default: on)",
    )
    scan.add_argument(
        "--policy",
        help=f"operator policy (TOML): floors the scanned repository cannot go below; or ${POLICY_ENV}",
    )
    scan.add_argument(
        "--sign-key",
        type=Path,
        help=f"Ed25519 private key (PEM or base64 seed) to sign manifest.json; or ${evidence.KEY_ENV}",
    )

    base = sub.add_parser("baseline", help="accept the current findings: only new ones will count")
    bsub = base.add_subparsers(dest="baseline_command", required=True, parser_class=_Parser)
    bcreate = bsub.add_parser("create", help="scan PATH and write its findings' fingerprints")
    bcreate.add_argument("path", nargs="?", default=".", help="the repository (default: .)")
    bcreate.add_argument("-o", "--output", help="baseline file (default: PATH/.compliance-baseline.json)")
    bcreate.add_argument("--owner", required=True, help="who owns the accepted risk (required)")
    bcreate.add_argument("--reason", required=True, help="why the findings are accepted (required)")
    bcreate.add_argument(
        "--review-by",
        metavar="YYYY-MM-DD",
        help="when the acceptance must be reviewed; after it the findings count again "
        "(default and limit: waiver-max-days from today)",
    )
    bcreate.add_argument("--by", dest="created_by", help="who creates the baseline (default: the owner)")
    bcreate.add_argument(
        "--approved-by", help="who approved the acceptance (recommended; flagged when missing)"
    )
    hook = sub.add_parser("hook", help="pre-commit entry: scan only the given files")
    hook.add_argument("files", nargs="*", help="the staged files pre-commit passes")
    hook.add_argument("-o", "--output", help="also write an evidence bundle here")
    for p in (bcreate, hook):
        p.add_argument("-c", "--config", type=Path, help="configuration file (TOML)")
        p.add_argument("--threshold", help="lowest severity that fails (default: high)")
        p.add_argument("--only", action="append", default=[], metavar="SCANNER", help="run only these")
        p.add_argument("--skip", action="append", default=[], metavar="SCANNER", help="disable a scanner")
        p.add_argument("--baseline", help="baseline file")
        p.add_argument("--waivers", help="waivers file")
        p.add_argument("-j", "--jobs", type=int, help="concurrent scanner processes")
        p.add_argument("--tools", choices=("managed", "path"), help="pinned environments or PATH")
        p.add_argument("--fail-on-incomplete", action=argparse.BooleanOptionalAction, default=None)
        p.add_argument("--no-cache", action="store_true", help="do not use the result cache")
        p.add_argument("--policy", help=f"operator policy (TOML); or ${POLICY_ENV}")

    led = sub.add_parser("ledger", help="the tamper-evident history of runs")
    lsub = led.add_subparsers(dest="ledger_command", required=True, parser_class=_Parser)
    limp = lsub.add_parser("import", help="add evidence bundles (folders or zips), each verified first")
    limp.add_argument("bundles", nargs="+", type=Path)
    limp.add_argument("--key", type=Path, help="Ed25519 public key: refuse bundles whose signature fails")
    limp.add_argument(
        "--sign-key", help=f"Ed25519 private key (PEM) to sign each record; or ${evidence.KEY_ENV}"
    )
    lver = lsub.add_parser(
        "verify", help="walk every hash chain: altered, missing, re-ordered, forged or truncated records"
    )
    lver.add_argument("--key", type=Path, help="Ed25519 public key: every record's signature must verify")
    lver.add_argument(
        "--head",
        action="append",
        help="REPO=SEQ:DIGEST printed by an earlier verify or report: the chain must still reach it",
    )
    rep = sub.add_parser("report", help="reports from the ledger")
    rsub = rep.add_subparsers(dest="report_command", required=True, parser_class=_Parser)
    rq = rsub.add_parser(
        "quarterly",
        help="the audit report of a quarter or any period (HTML and PDF)",
        description="The audit report of a calendar quarter (--quarter) or any period (--from/--to, "
        "e.g. a SOC 2 Type II window). A period not over on the report date (today, UTC) is "
        "marked interim and its ages, SLA breaches, waiver expiries and gaps run to today.",
    )
    period = rq.add_mutually_exclusive_group(required=True)
    period.add_argument("--quarter", help="a calendar quarter, e.g. 2026-Q4")
    period.add_argument("--from", dest="period_from", metavar="YYYY-MM-DD", help="first day of the period")
    rq.add_argument(
        "--to", dest="period_to", metavar="YYYY-MM-DD", help="last day of the period (with --from)"
    )
    rq.add_argument("--repo", help="only this repository (default: all)")
    rq.add_argument(
        "--branch",
        help="only this branch's runs (default: each repository's default branch; "
        "other branches' runs are listed apart)",
    )
    rq.add_argument("-o", "--output", default="quarterly-report", help="output folder")
    rq.add_argument("--sla", help="days per severity, e.g. critical=7,high=30 (defaults: 7/30/90/180/365)")
    rq.add_argument("--no-pdf", action="store_true", help="HTML only")
    rq.add_argument(
        "--paper",
        choices=sorted(quarterly.PAPER_SIZES),
        default="a4",
        help="the PDF's page size (default a4)",
    )
    rq.add_argument(
        "--sign-key", help=f"Ed25519 private key (PEM) to sign the report's manifest; or ${evidence.KEY_ENV}"
    )
    for p in (limp, lver, rq):
        p.add_argument("--ledger", required=True, help="SQLite path or postgresql:// URL")

    ver = sub.add_parser(
        "verify",
        help="check an evidence bundle's digests (and signature)",
        description="Exit 0 only when every file matches manifest.json (and the signature, with --key).",
    )
    ver.add_argument("bundle", type=Path, help="evidence folder or its zip")
    ver.add_argument("--key", type=Path, help="Ed25519 public key (PEM or base64) to check manifest.sig")

    vdb = sub.add_parser("vulndb", help="the local advisory database pip-audit is checked against")
    vsub = vdb.add_subparsers(dest="vulndb_command", required=True, parser_class=_Parser)
    imp = vsub.add_parser("import", help="build the database from OSV files (folders or all.zip)")
    imp.add_argument("paths", nargs="+", type=Path, help="a folder of OSV YAML/JSON, or an OSV zip")
    upd = vsub.add_parser("update", help="download OSV's PyPI export and build the database")
    upd.add_argument("--url", default=OSV_EXPORT_URL, help=f"export to download ({OSV_EXPORT_URL})")
    stat = vsub.add_parser("status", help="source, records, newest record, digest and age")
    for p in (imp, upd, stat):
        p.add_argument("--db", type=Path, help="database file (default: in the user cache)")

    ctl = sub.add_parser("controls", help="print the control table of a run's evidence")
    ctl.add_argument("run_dir", nargs="?", default="compliance-evidence", type=Path, help="evidence folder")
    ctl.add_argument("--framework", help="only this framework (soc2, iso27001, pci-dss, hipaa, nist-800-53)")
    pol = sub.add_parser("policies", help="our compliance policies")
    psub = pol.add_subparsers(dest="policies_command", required=True, parser_class=_Parser)
    plist = psub.add_parser("list", help="our checkov policies, or (--builtin) checkov's checks by domain")
    plist.add_argument("--builtin", action="store_true", help="checkov's built-in checks: mapped and not")

    tools = sub.add_parser("tools", help="manage the scanners' pinned environments")
    tsub = tools.add_subparsers(dest="tools_command", required=True, parser_class=_Parser)
    tsub.add_parser("install", help="build every scanner environment from the locks now")
    tsub.add_parser("list", help="show each scanner environment, its lock digest and status")
    cache_p = sub.add_parser("cache", help="the result cache of earlier runs")
    csub = cache_p.add_subparsers(dest="cache_command", required=True, parser_class=_Parser)
    csub.add_parser("info", help="where the result cache is, its entries and size")
    csub.add_parser("clear", help="delete every entry of the result cache")
    return parser


def _scanner_names(names: list[str], flag: str) -> list[str]:
    for n in names:
        if n not in SCANNER_NAMES:
            raise UsageError(f"{flag} {n}: unknown scanner (known: {', '.join(SCANNER_NAMES)})")
    return names


CLI = "command line"


def _effective_config(args: argparse.Namespace, target: Path) -> config.Config:
    """The repository's configuration, the operator's --config over it, then the flags."""
    policy_file = getattr(args, "policy", None) or os.environ.get(POLICY_ENV) or None
    policy = config.load_policy(Path(policy_file), SCANNER_NAMES) if policy_file else None
    cfg = config.load(target, SCANNER_NAMES, args.config, policy)
    changes: dict[str, object] = {}
    if args.threshold:
        try:
            changes["threshold"] = Severity.parse(args.threshold)
        except ValueError as exc:
            raise UsageError(f"--threshold: {exc}") from None
    if getattr(args, "output", None):
        changes["output"] = args.output
    if args.jobs is not None:
        if args.jobs < 0:
            raise UsageError("--jobs: must be 0 (auto) or more")
        changes["jobs"] = args.jobs
    if args.tools:
        changes["tools"] = args.tools
    if getattr(args, "baseline", None):
        changes["baseline"] = str(Path(args.baseline).resolve())
    if getattr(args, "waivers", None):
        changes["waivers"] = str(Path(args.waivers).resolve())
    if getattr(args, "changed_since", None):
        changes["changed-since"] = args.changed_since
    if getattr(args, "no_cache", False):
        changes["cache"] = False
    for flag in ("branch", "default_branch"):
        if getattr(args, flag, None):
            changes[flag.replace("_", "-")] = getattr(args, flag)
    if getattr(args, "attestations", None):
        changes["attestations"] = str(Path(args.attestations).resolve())
    if getattr(args, "frameworks", None):
        changes["frameworks"] = tuple(f.strip() for f in args.frameworks.split(",") if f.strip())
    if getattr(args, "fail_on_incomplete", None) is not None:
        changes["fail-on-incomplete"] = args.fail_on_incomplete
    skip = set(_scanner_names(args.skip, "--skip"))
    only = set(_scanner_names(args.only, "--only"))
    for name in cfg.scanners:
        if name in skip or (only and name not in only):
            changes[f"scanners.{name}.enabled"] = False
    return config.enforce(config.override(cfg, CLI, changes))


def result_cache(cfg: config.Config | None) -> cache.ResultCache:
    """The user's result cache (`<cache>/compliance-pipeline/results`), or a disabled one."""
    if cfg is not None and not cfg.cache:
        return cache.ResultCache(None)
    size = cfg.cache_max_size if cfg is not None else cache.DEFAULT_MAX_BYTES
    folder = os.environ.get(cache.ROOT_ENV) or cache.default_root(toolenv.cache_root(os.environ))
    key = os.environ.get(secret_id.KEY_ENV)
    return cache.ResultCache(Path(folder), size, key.encode("utf-8") if key else None)


def _keep(store: cache.ResultCache, result: RunOutput, origin: str, err: Console) -> None:
    """Store this run's cache entries (named by the run they come from), then trim."""
    if not store.enabled or not result.cache_entries:
        return
    try:
        store.put(result.cache_entries, origin)
        store.evict()
    except Exception as exc:  # the cache is an optimisation: it never fails a run
        store.stats.problems.append(f"{type(exc).__name__}")
    for problem in store.stats.problems[:1]:
        err.print(f"warning: result cache: {problem}", markup=False)


def _execute(
    target: Path,
    cfg: config.Config,
    err: Console,
    show: bool,
    output_dir: Path | None,
    only: tuple[str, ...] | None = None,
    store: cache.ResultCache | None = None,
) -> RunOutput:
    scanners = registry()
    with Progress(
        TextColumn("{task.description:<15}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[state]}"),
        TimeElapsedColumn(),
        console=err,
        disable=not show,
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def on_progress(name: str, event: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=max(total, 1), state="")
            state = {"setup": "preparing", "start": "running", "job": "running", "done": "done"}
            progress.update(tasks[name], completed=done, total=max(total, 1), state=state[event])

        return execute(
            target,
            cfg,
            scanners,
            runner.Supervisor(),
            utc_now,
            os.environ,
            progress=on_progress,
            output_dir=output_dir,
            only=only,
            store=store,
        )


def cmd_scan(args: argparse.Namespace, out: Console, err: Console) -> int:
    target = Path(args.path)
    if not target.is_dir():
        raise UsageError(f"PATH {args.path}: not a folder")
    cfg = _effective_config(args, target)
    output = config.output_path(cfg, target)
    try:
        evidence.check_destination(output)
    except evidence.EvidenceError as exc:
        who = cfg.origins.get("output", "default")
        raise UsageError(f"output ({who}): {exc}") from None
    started = utc_now()
    store = result_cache(cfg)
    try:
        result = _execute(target, cfg, err, not args.no_progress and err.is_terminal, output, store=store)
    except (config.ConfigError, UsageError, controls.PolicyError):
        raise  # configuration errors stay exit 3, named
    except (runner.Interrupted, KeyboardInterrupt) as exc:
        name = exc.signal_name if isinstance(exc, runner.Interrupted) else "SIGINT"
        result = RunOutput(minimal_report(target, cfg, started, utc_now(), f"interrupted by {name}"))
    except Exception as exc:  # still write evidence: "internal error" never means "no evidence"
        reason = f"internal error: {type(exc).__name__}: {mask_line(str(exc))[:500]}"
        err.print(reason, markup=False)
        if args.debug:
            err.print(traceback.format_exc(), markup=False)
        result = RunOutput(minimal_report(target, cfg, started, utc_now(), reason))
    if result.report.interrupted:
        err.print(f"incomplete: {result.report.interrupted}; writing the evidence of what ran", markup=False)
    ledger_target = getattr(args, "ledger", None) or cfg.ledger
    written = evidence.write(result, output, signing_key=_signing_key(args), make_zip=bool(args.zip))
    print_summary(result.report, out, output_dir=str(written))
    broken = evidence.writer_errors(written)
    if not broken:
        manifest = evidence.read_bundle(written)["manifest.json"]
        _keep(store, result, "sha256:" + evidence.sha256(manifest), err)
    for line in broken:
        err.print(f"internal error: a writer failed, {line} (findings.json stands)", markup=False)
    if ledger_target:
        key = _signing_key(args)
        public = key.public_key() if key is not None else None
        _import_bundles(ledger_target, [written], out, public, key)
    code = gate.exit_code(result.report)
    return max(code, gate.EXIT_INCOMPLETE) if broken else code


def _import_bundles(
    target: str,
    bundles: list[Path],
    out: Console,
    public_key: Any = None,
    signing_key: Any = None,
) -> int:
    """Verify each bundle (its signature too, with a public key) before it is recorded;
    with a signing key each new ledger record is signed."""
    book = ledger.Ledger(target)
    added = 0
    try:
        for bundle in bundles:
            check = evidence.verify(bundle, public_key)
            signed = public_key is None or check.signature == "valid"
            if not check.intact or not signed:
                problems = [*check.changed, *check.missing, *check.extra, *check.problems]
                if not signed:
                    problems.append(f"signature {check.signature} for --key")
                raise UsageError(f"{bundle}: not intact ({', '.join(problems) or 'unknown'}): not recorded")
            files = evidence.read_bundle(bundle)
            doc = json.loads(files["findings.json"])
            key = "sha256:" + evidence.sha256(files["manifest.json"])
            record = ledger.record_from_findings_json(doc, key)
            if book.append(ledger.repo_name(doc), key, doc["started_at"], record, signing_key):
                added += 1
                out.print(f"recorded {bundle} ({key[:19]}…)", markup=False)
            else:
                out.print(f"already in the ledger: {bundle}", markup=False)
    finally:
        book.close()
    return added


def cmd_ledger(args: argparse.Namespace, out: Console, err: Console) -> int:
    public = _public_key(args.key) if getattr(args, "key", None) else None
    if args.ledger_command == "import":
        _import_bundles(args.ledger, list(args.bundles), out, public, _signing_key(args))
        return gate.EXIT_PASS
    expect = dict(_head(h) for h in (args.head or ()))
    book = ledger.Ledger(args.ledger)
    try:
        problems = book.verify(public, expect)
        total = sum(1 for _ in book.records())
        heads = book.heads()
    finally:
        book.close()
    for p in problems:
        out.print(f"{p.kind}: {p.repo} #{p.seq}: {p.detail}", markup=False)
    for repo, (seq, digest) in sorted(heads.items()):
        out.print(f"head {repo}={seq}:{digest}", markup=False)
    checked = ", signatures checked" if public is not None else " (signatures not checked: no --key)"
    out.print(
        f"{total} records{checked}, {len(problems)} problems: {'INTACT' if not problems else 'NOT INTACT'}",
        markup=False,
    )
    return gate.EXIT_PASS if not problems else gate.EXIT_FINDINGS


def _public_key(path: Path) -> Any:
    try:
        return evidence.load_public_key(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--key {path}: {exc.strerror}") from None
    except evidence.EvidenceError as exc:
        raise UsageError(f"--key {path}: {exc}") from None


def _head(text: str) -> tuple[str, tuple[int, str]]:
    """`REPO=SEQ:DIGEST`, as `ledger verify` and the quarterly report print it."""
    repo, _, rest = text.rpartition("=")
    seq, _, digest = rest.partition(":")
    if not repo or not seq.isdigit() or len(digest) != 64:
        raise UsageError(f"--head {text!r}: expected REPO=SEQ:DIGEST (as `ledger verify` prints it)")
    return repo, (int(seq), digest)


def _sla(text: str | None) -> dict[str, int]:
    sla = dict(quarterly.DEFAULT_SLA_DAYS)
    for part in (text or "").split(","):
        if not part.strip():
            continue
        sev, _, days = part.partition("=")
        if sev.strip() not in sla or not days.strip().isdigit():
            raise UsageError(f"--sla {part!r}: expected severity=days, severities {', '.join(sla)}")
        sla[sev.strip()] = int(days)
    return sla


def _framework_titles() -> dict[str, str]:
    """Framework id → "title version" from our policies (the ledger keeps only ids)."""
    return quarterly.catalog_titles(controls.load(resources.policies_dir()))


def cmd_report(args: argparse.Namespace, out: Console, err: Console) -> int:
    now = utc_now()  # the report date: a period not over on it is interim
    today = dt.date.fromisoformat(now[:10])
    if args.quarter is not None:
        if args.period_to is not None:
            raise UsageError("--to goes with --from, not with --quarter")
        try:
            period = quarterly.quarter_period(args.quarter)
        except ValueError as exc:
            raise UsageError(f"--quarter: {exc}") from None
    else:
        if args.period_to is None:
            raise UsageError("--from needs --to (the last day of the period)")
        try:
            period = quarterly.date_period(args.period_from, args.period_to)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if today < period.start:
        raise UsageError(f"the period {period.label} has not begun on the report date {today}")
    book = ledger.Ledger(args.ledger)
    try:
        broken = {(p.repo, p.seq) for p in book.verify()}
        q = quarterly.load_period(book.records(), period, broken, args.repo, today=today, branch=args.branch)
        chain_heads = [
            f"{repo}={seq}:{digest}"
            for repo, (seq, digest) in sorted(book.heads().items())
            if args.repo is None or repo == args.repo
        ]
        n_records = sum(1 for r in book.records() if args.repo is None or r[0] == args.repo)
    finally:
        book.close()
    summary = {
        **quarterly.summarise(q, _sla(args.sla), _framework_titles()),
        "chain_heads": chain_heads,
        "chain_records": n_records,
    }
    page = quarterly.render_html(summary, resources.templates_dir(), now, args.paper)
    folder = Path(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"compliance-{period.label}"
    (folder / f"{name}.html").write_text(page, encoding="utf-8")
    interim = f", interim as of {q.until}" if q.interim else ""
    out.print(f"{folder / (name + '.html')}: {q.quarter}, {len(q.runs)} runs{interim}", markup=False)
    written = {f"{name}.html": page.encode("utf-8")}
    for export, data in exports.files(summary, now).items():  # every row of every table
        (folder / export).write_bytes(data)
        written[export] = data
    out.print(f"{folder / (name + '.json')} and its tables as CSV files", markup=False)
    if not args.no_pdf:
        pdf = quarterly.render_pdf(page, args.paper)
        (folder / f"{name}.pdf").write_bytes(pdf)
        written[f"{name}.pdf"] = pdf
        out.print(f"{folder / (name + '.pdf')}", markup=False)
    manifest = folder / f"{name}.manifest.json"
    manifest_bytes = report_manifest(written, period.label, chain_heads, n_records, now)
    manifest.write_bytes(manifest_bytes)
    key = _signing_key(args)
    if key is not None:
        signature = {
            "algorithm": "ed25519",
            "public_key": evidence.public_key_text(key),
            "signature": base64.b64encode(key.sign(manifest_bytes)).decode(),
        }
        (folder / f"{name}.manifest.sig").write_text(json.dumps(signature, indent=2) + "\n")
    out.print(f"{manifest}{' (signed)' if key is not None else ''}", markup=False)
    if broken:
        err.print(
            f"warning: the ledger chain is broken at {len(broken)} records (marked in the report)",
            markup=False,
        )
    return gate.EXIT_PASS if not broken else gate.EXIT_FINDINGS


def report_manifest(files: dict[str, bytes], period: str, heads: list[str], records: int, now: str) -> bytes:
    """The quarterly report's own manifest: each file's digest and the ledger it covers."""
    doc = {
        "schema": "compliance-pipeline/report-manifest/1",
        "period": period,
        "generated_at": now,
        "ledger": {"records": records, "chain_heads": heads},
        "files": {
            n: {"sha256": evidence.sha256(data), "bytes": len(data)} for n, data in sorted(files.items())
        },
    }
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def cmd_baseline(args: argparse.Namespace, out: Console, err: Console) -> int:
    target = Path(args.path)
    if not target.is_dir():
        raise UsageError(f"PATH {args.path}: not a folder")
    cfg = replace(_effective_config(args, target), baseline=None)
    today = dt.date.fromisoformat(utc_now()[:10])
    longest = today + dt.timedelta(days=cfg.waiver_max_days)
    try:
        review_by = dt.date.fromisoformat(args.review_by) if args.review_by else longest
    except ValueError:
        raise UsageError(f"--review-by {args.review_by!r} is not a YYYY-MM-DD date") from None
    if not today <= review_by <= longest:
        raise UsageError(f"--review-by {review_by}: must be between today and {longest} (waiver-max-days)")
    if not args.owner.strip() or not args.reason.strip():
        raise UsageError("--owner and --reason must not be empty: accepted risk needs both on record")
    result = _execute(target, cfg, err, err.is_terminal, None)
    if result.report.incomplete:
        print_summary(result.report, out)
        err.print("error: the scan is incomplete; a baseline would accept what was not checked", markup=False)
        return gate.EXIT_INCOMPLETE
    dest = Path(args.output) if args.output else target / suppress.DEFAULT_BASELINE
    text = suppress.baseline_text(
        result.report.active_findings,
        owner=args.owner.strip(),
        reason=args.reason.strip(),
        created_at=result.report.started_at,
        created_by=args.created_by or args.owner,
        review_by=review_by,
        approved_by=args.approved_by,
    )
    dest.write_text(text, encoding="utf-8")
    out.print(
        f"baseline of {len(result.report.active_findings)} findings accepted by {args.owner} "
        f"until review on {review_by} written to {dest}",
        markup=False,
    )
    if not args.approved_by:
        err.print("warning: no --approved-by: the acceptance has no approver on record", markup=False)
    return gate.EXIT_PASS


def cmd_hook(args: argparse.Namespace, out: Console, err: Console) -> int:
    """pre-commit: scan only the files given, print new findings compactly, no bundle by default."""
    target = Path.cwd()
    files = tuple(dict.fromkeys(Path(f).as_posix().removeprefix("./") for f in args.files))
    cfg = _effective_config(args, target)
    output = Path(args.output) if args.output else None
    if output is not None:
        try:
            evidence.check_destination(output)
        except evidence.EvidenceError as exc:
            raise UsageError(f"--output: {exc}") from None
    store = result_cache(cfg)
    result = _execute(target, cfg, err, False, output, only=files, store=store)
    origin = f"pre-commit hook run at {result.report.started_at} (no bundle)"
    if output is not None:
        written = evidence.write(result, output)
        origin = "sha256:" + evidence.sha256(evidence.read_bundle(written)["manifest.json"])
    _keep(store, result, origin, err)
    report = result.report
    for r in report.results:
        if r.status.value == "failed":
            out.print(f"{r.scanner} FAILED: {'; '.join(r.errors[:2])}", markup=False)
        for n in r.not_assessed[:5]:
            out.print(f"{r.scanner} could not check {n.item}: {n.reason}", markup=False)
    blocking = gate.blocking(report)
    for f in sorted(
        report.active_findings, key=lambda f: (-f.severity, f.location.path, f.location.start_line or 0)
    ):
        mark = "✗" if f in blocking else "·"
        line = f":{f.location.start_line}" if f.location.start_line else ""
        out.print(
            f"{mark} {f.severity.label:<8} {f.location.path}{line}  {f.tool} {f.rule_id}: {f.title}"
            + (f"  [{f.fingerprint[:12]}]" if f in blocking else ""),
            markup=False,
            soft_wrap=True,
        )
    code = gate.exit_code(report)
    if code == gate.EXIT_FINDINGS:
        out.print(
            f"blocked: {len(blocking)} new findings at or above {report.threshold.label}. Fix them, or "
            "waive one in compliance-waivers.yaml (fingerprint, reason, owner, expires).",
            markup=False,
        )
    elif code == gate.EXIT_INCOMPLETE:
        out.print("blocked: the scan is incomplete (see above).", markup=False)
    return code


def cmd_cache(args: argparse.Namespace, out: Console, err: Console) -> int:
    store = result_cache(None)
    if args.cache_command == "clear":
        n, size = store.clear()
        out.print(f"{store.root}: {n} entries deleted ({size / 1e6:.1f} MB)", markup=False)
        return gate.EXIT_PASS
    entries = store.entries()
    size = sum(e[1] for e in entries)
    table = Table("folder", "entries", "MB", "limit (MB)", title="Result cache")
    table.add_row(
        Text(str(store.root)), str(len(entries)), f"{size / 1e6:.1f}", f"{store.max_bytes / 1e6:.0f}"
    )
    out.print(table)
    return gate.EXIT_PASS


def cmd_tools(args: argparse.Namespace, out: Console, err: Console) -> int:
    scanners = registry()
    if args.tools_command == "install":
        failed = 0
        with ThreadPoolExecutor(max_workers=len(scanners)) as pool:
            setups = list(
                pool.map(
                    lambda s: toolenv.ensure(s.distribution, s.executable, runner.run, os.environ),
                    scanners.values(),
                )
            )
        for s in setups:
            if s.error:
                failed += 1
                err.print(f"[red]{s.distribution}: {s.error}[/red]")
            else:
                version = s.distributions.get(s.distribution, "?")
                out.print(f"{s.distribution} {version}: {s.env_dir}", soft_wrap=True)
        problem = renderers.install(runner.run, os.environ)
        if problem:
            failed += 1
            err.print(f"helm/kustomize renderers: {problem}", markup=False)
        else:
            versions = ", ".join(f"{k} {v}" for k, v in renderers.VERSIONS.items())
            out.print(f"renderers ({versions}): {renderers.bin_dir(os.environ)}", soft_wrap=True)
            sandbox = renderers.locate(os.environ).missing
            if sandbox:
                err.print(f"helm/kustomize renderers: {sandbox}", markup=False)
        return gate.EXIT_INCOMPLETE if failed else gate.EXIT_PASS
    rows = toolenv.list_environments(tuple(s.distribution for s in scanners.values()), os.environ)
    if not out.is_terminal:
        out.print_json(json.dumps(rows))
        return 0
    table = Table("scanner", "version", "lock", "status", "path")
    for r in rows:
        table.add_row(r["distribution"], r["version"], r["lock"], r["status"], r["path"])
    out.print(table)
    return 0


def _signing_key(args: argparse.Namespace) -> Any:
    if args.sign_key is not None:
        try:
            text = Path(args.sign_key).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--sign-key {args.sign_key}: {exc.strerror}") from None
    else:
        text = os.environ.get(evidence.KEY_ENV, "")
        if not text:
            return None
    try:
        return evidence.load_private_key(text)
    except evidence.EvidenceError as exc:
        raise UsageError(f"signing key: {exc}") from None


def cmd_verify(args: argparse.Namespace, out: Console, err: Console) -> int:
    key = None
    if args.key is not None:
        try:
            key = evidence.load_public_key(Path(args.key).read_text(encoding="utf-8"))
        except (OSError, evidence.EvidenceError) as exc:
            raise UsageError(f"--key {args.key}: {exc}") from None
    try:
        result = evidence.verify(Path(args.bundle), key)
    except (OSError, evidence.EvidenceError) as exc:
        raise UsageError(f"BUNDLE {args.bundle}: {exc}") from None
    for label, paths in (
        ("changed", result.changed),
        ("missing", result.missing),
        ("extra", result.extra),
    ):
        for p in paths:
            out.print(f"{label}: {p}", markup=False)
    for problem in result.problems:
        out.print(f"problem: {problem}", markup=False)
    out.print(f"signature: {result.signature}", markup=False)
    out.print("INTACT" if result.intact else "NOT INTACT", markup=False)
    return gate.EXIT_PASS if result.intact else gate.EXIT_FINDINGS


def _db_path(args: argparse.Namespace) -> Path:
    if args.db is not None:
        return Path(args.db)
    return default_path(toolenv.cache_root(os.environ))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def cmd_vulndb(args: argparse.Namespace, out: Console, err: Console) -> int:
    path = _db_path(args)
    if args.vulndb_command == "status":
        try:
            info = VulnDb(path).info
        except VulnDbError as exc:
            err.print(f"error: {exc}", markup=False)
            return gate.EXIT_INCOMPLETE
        age = info.age_days(_now())
        out.print(
            f"database: {info.path}\nsource: {info.source}\nrecords: {info.records}\n"
            f"newest record: {info.newest_modified} ({age:.1f} days old)\n"
            f"digest: {info.digest}\nimported: {info.imported_at}",
            markup=False,
            soft_wrap=True,
        )
        return gate.EXIT_PASS
    if args.vulndb_command == "import":
        for p in args.paths:
            if not p.exists():
                raise UsageError(f"vulndb import: no such file or folder: {p}")
        sources, label = list(args.paths), ", ".join(str(p) for p in args.paths)
        report = import_sources(sources, path, label, _now())
    else:
        try:
            downloaded = download(args.url, path.parent)
        except DownloadError as exc:
            err.print(f"error: {exc}", markup=False)
            return gate.EXIT_INCOMPLETE
        try:
            report = import_sources([downloaded], path, args.url, _now())
        finally:
            downloaded.unlink(missing_ok=True)
    skipped = ", ".join(f"{n} {why}" for why, n in report.skipped.items()) or "none"
    out.print(
        f"{report.records} advisories indexed into {path} in {report.seconds:.1f} s; "
        f"skipped: {skipped}; {report.warnings} warnings",
        markup=False,
        soft_wrap=True,
    )
    for example in report.examples[:10]:
        err.print(f"  {example}", markup=False)
    return gate.EXIT_PASS


_STATUS_STYLE = {
    "PASS": "green",
    "FAIL": "bold red",
    "ERROR": "bold magenta",
    "NOT_ASSESSED": "yellow",
    "MANUAL": "dim",
    "ATTESTED": "blue",
}


def cmd_controls(args: argparse.Namespace, out: Console, err: Console) -> int:
    path = Path(args.run_dir) / "findings.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"RUN_DIR {args.run_dir}: no readable findings.json ({exc})") from None
    rows = [c for c in doc.get("controls", []) if not args.framework or c["framework"] == args.framework]
    if args.framework and not rows:
        known = sorted({c["framework"] for c in doc.get("controls", [])})
        raise UsageError(f"--framework {args.framework}: not in this run (known: {', '.join(known)})")
    table = Table("framework", "control", "status", "title", "reason", title="Controls")
    for c in rows:
        style = _STATUS_STYLE.get(c["status"], "")
        # Text, not markup: a reason may quote an attestation from the scanned repository.
        table.add_row(
            *(Text(str(v)) for v in (c["framework"], c["control_id"])),
            Text(str(c.get("label") or c["status"]), style=style),
            Text(str(c["title"])),
            Text(str(c["reason"])),
        )
    out.print(table)
    return gate.EXIT_PASS


def cmd_policies(args: argparse.Namespace, out: Console, err: Console) -> int:
    catalog = controls.load(resources.policies_dir())
    if args.builtin:
        table = Table("domain", "checks", "severities", title="checkov built-in checks by domain")
        severities = catalog.severities
        for domain in catalog.domains:
            ids = [c for c, d in catalog.builtin_domain.items() if d == domain]
            if ids:
                count = Counter(severities[c] for c in ids)
                graded = ", ".join(f"{count[s]} {s.label}" for s in sorted(count, reverse=True))
                table.add_row(domain, str(len(ids)), graded)
        out.print(table)
        graded_unmapped = sorted(c for c in catalog.unmapped if c in severities)
        out.print(
            f"{len(catalog.unmapped)} checks outside these domains are not mapped to controls "
            "and take the checkov default severity of policies/severity.yaml"
            + (
                f" (but {', '.join(graded_unmapped)}: checkov-builtin.yaml severity.checks)"
                if graded_unmapped
                else ""
            )
            + ": "
            + ", ".join(catalog.unmapped),
            markup=False,
            soft_wrap=True,
        )
        for key, why in catalog.unmapped_reasons.items():
            out.print(f"  unmapped {key}: {why}", markup=False, soft_wrap=True)
        if catalog.excluded:
            out.print("Excluded on purpose: " + ", ".join(sorted(catalog.excluded)), markup=False)
        return gate.EXIT_PASS
    evidences: dict[str, list[str]] = {}
    for fw in catalog.frameworks.values():
        for control in fw.controls:
            rules, _ = catalog.evidence(control)
            for pid in catalog.pack:
                if pid in rules:
                    evidences.setdefault(pid, []).append(f"{fw.id} {control.id}")
    table = Table("id", "severity", "domain", "iac", "title", "controls", title="Our checkov policies")
    for p in catalog.pack.values():
        table.add_row(p.id, p.severity.label, p.domain, p.iac, p.title, ", ".join(evidences.get(p.id, [])))
    out.print(table)
    return gate.EXIT_PASS


def _hook_file_names(argv: list[str]) -> list[str]:
    """pre-commit appends the staged files' names to the hook's command line, and a name
    is chosen by whoever wrote the commit: `--only`, `checkov` or `--output=/x` as file
    names would be read as our options. After `hook`, every argument that starts with `-`
    and names an existing path is passed as `./NAME`: a file, never an option. (A real
    option that collides with a file name is then read as a file: the hook only gets
    stricter — more scanners, no baseline, the default threshold.)"""
    if "hook" not in argv:
        return argv
    at = argv.index("hook")
    rest = [f"./{a}" if a.startswith("-") and os.path.lexists(a) else a for a in argv[at + 1 :]]
    return [*argv[: at + 1], *rest]


def _stop_on_signals() -> None:
    """SIGTERM (what CI sends on cancel) and SIGHUP stop a scan like Ctrl-C does: the tools'
    process groups are killed, the scratch folder removed, the evidence of what ran written
    (incomplete). A second signal while the evidence is written is ignored."""

    def handler(signum: int, _frame: object) -> None:
        for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(s, signal.SIG_IGN)
        raise runner.Interrupted(signal.Signals(signum).name)

    if threading.current_thread() is threading.main_thread():
        for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(s, handler)


def main(argv: Sequence[str] | None = None) -> int:
    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False, soft_wrap=True)  # messages stay one line
    if not out.is_terminal:
        out = Console(highlight=False, width=120)  # logs and CI: do not squeeze to 80
    raw = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in raw
    try:
        args = build_parser().parse_args(_hook_file_names(raw))
        args.debug = debug
        if args.command in ("scan", "hook", "baseline"):
            _stop_on_signals()
        if args.command == "scan":
            return cmd_scan(args, out, err)
        if args.command == "vulndb":
            return cmd_vulndb(args, out, err)
        if args.command == "baseline":
            return cmd_baseline(args, out, err)
        if args.command == "hook":
            return cmd_hook(args, out, err)
        if args.command == "ledger":
            return cmd_ledger(args, out, err)
        if args.command == "report":
            return cmd_report(args, out, err)
        if args.command == "verify":
            return cmd_verify(args, out, err)
        if args.command == "controls":
            return cmd_controls(args, out, err)
        if args.command == "policies":
            return cmd_policies(args, out, err)
        if args.command == "cache":
            return cmd_cache(args, out, err)
        return cmd_tools(args, out, err)
    except (UsageError, config.ConfigError, controls.PolicyError, ledger.LedgerError) as exc:
        err.print(f"error: {_redacted(str(exc))}", markup=False)  # a waiver may quote a secret
        return gate.EXIT_USAGE
    except (KeyboardInterrupt, runner.Interrupted):
        err.print("interrupted", markup=False)
        return gate.EXIT_INCOMPLETE
    except Exception as exc:  # the one place internal errors become an exit code
        err.print(f"internal error: {type(exc).__name__}: {_redacted(str(exc))}", markup=False)
        if debug:
            err.print(_redacted(traceback.format_exc()), markup=False)
        return gate.EXIT_INCOMPLETE


def _redacted(text: str) -> str:
    """Credential shapes masked in a message that is not part of a run's report."""
    return redact.redact_text(text)
