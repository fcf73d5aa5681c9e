"""The one place the flow is composed: discover → plan → run in parallel → parse → report.

I/O, the clock, subprocesses and progress reporting are passed in, so tests
drive the same code with real tools or injected faults.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from pipeline import (
    __version__,
    attest,
    boundary,
    cache,
    change,
    controls,
    fingerprint,
    manifests,
    render,
    renderers,
    resources,
    reuse,
    suppress,
    toolenv,
)
from pipeline.config import Config, ConfigError, ScannerConfig
from pipeline.discover import EXCLUDED_BY, Inventory, discover, matching_pattern
from pipeline.model import (
    AdvisoryDatabase,
    Attestation,
    CacheUse,
    ChangeScope,
    Component,
    ControlStatus,
    Finding,
    GitInfo,
    Invocation,
    NotAssessed,
    RunReport,
    ScanResult,
    Severity,
    SkippedPath,
    Status,
    ToolInfo,
)
from pipeline.redact import Scrubber
from pipeline.runner import Interrupted, Runner, ToolRun, tool_environment
from pipeline.safegit import Git
from pipeline.scanners.base import (
    Context,
    Job,
    MergesFindings,
    NotApplicable,
    Parsed,
    Plan,
    Scanner,
    SeverityTable,
)
from pipeline.secret_id import SecretIds
from pipeline.vulndb import server as osv_server
from pipeline.vulndb.store import VulnDb, VulnDbError, default_path

Clock = Callable[[], str]
Progress = Callable[[str, str, int, int], None]
"""(scanner, event, jobs done, jobs total): event is 'setup', 'start', 'job', 'done'."""

IMPLEMENTATIONS = {"detect-secrets": ("detect-secrets", "bc-detect-secrets")}
"""Distributions that install the same module: which one ran is recorded."""


@dataclass(frozen=True)
class RunOutput:
    report: RunReport
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Per scanner: its invocations with the tool's own output (secret values masked)."""
    cache_entries: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    """What this run leaves in the result cache (after the redaction boundary)."""


def load_severities(path: Path, catalog: controls.Catalog | None = None) -> SeverityTable:
    """severity.yaml, over the severities of our pack and of mapped checkov checks."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules = dict(catalog.severities) if catalog else {}
    rules.update({str(k): Severity.parse(v) for k, v in (data.get("rules") or {}).items()})
    return SeverityTable(
        defaults=MappingProxyType({k: Severity.parse(v) for k, v in (data.get("defaults") or {}).items()}),
        rules=MappingProxyType(rules),
    )


def make_reader(root: Path) -> Callable[[str], str | None]:
    root = root.resolve()

    def read_text(rel: str) -> str | None:
        path = (root / rel).resolve()
        if root not in path.parents and path != root:
            return None  # never read outside the target (e.g. through ../ or a link)
        try:
            return path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            return None

    return read_text


def _strip_userinfo(url: str) -> str:
    return re.sub(r"(?<=://)[^/@]+@", "", url)


def git_info(
    root: Path,
    runner: Runner,
    environ: Mapping[str, str],
    branch: str | None = None,
    default_branch: str | None = None,
) -> GitInfo:
    """The commit, branch and remote of the target. The operator's `branch` and
    `default_branch` (the Action's, whose pull-request checkout is detached) win over what
    the repository's git says."""
    git = Git(root, runner, environ)
    commit = git.out("rev-parse", "HEAD")
    if commit is None:
        return GitInfo(branch=branch, default_branch=default_branch)
    current = git.out("rev-parse", "--abbrev-ref", "HEAD")
    if default_branch is None:
        origin_head = git.out("symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
        if origin_head and origin_head.startswith("origin/"):
            default_branch = origin_head.removeprefix("origin/") or None
    remote = git.out("remote", "get-url", "origin")
    status = git.out("status", "--porcelain", "--untracked-files=no", refreshes_index=True)
    return GitInfo(
        commit=commit,
        branch=branch or (current if current and current != "HEAD" else None),
        remote=_strip_userinfo(remote) if remote else None,
        dirty=bool(status) if status is not None else None,
        default_branch=default_branch,
    )


@dataclass
class _Acc:
    """Mutable per-scanner accumulator, private to one run."""

    name: str
    workdir: str
    root: str = ""
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    not_assessed: list[NotAssessed] = field(default_factory=list)
    rules: set[str] = field(default_factory=set)
    invocations: list[Invocation] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counted: int = 0
    covered: set[str] = field(default_factory=set)
    version: str | None = None
    failed: bool = False
    seconds: float = 0.0

    def fail(self, reason: str, items: tuple[str, ...]) -> None:
        self.failed = True
        self.errors.append(reason)
        self.not_assessed.extend(
            NotAssessed(self.name, item, f"{self.name} failed: {reason[:200]}") for item in items
        )

    def add(self, job: Job, done: ToolRun, parsed: Parsed) -> None:
        self.seconds += done.seconds
        # The scratch folder is gone after the run: name it, not its temporary path.
        argv = tuple(_shown(a.replace(self.workdir, "<workdir>"), self.root) for a in job.display_argv())
        self.invocations.append(Invocation(argv, done.returncode, round(done.seconds, 3), done.timed_out))
        self.findings.extend(parsed.findings)
        self.errors.extend(parsed.errors)
        self.not_assessed.extend(parsed.not_assessed)
        self.rules.update(parsed.rules_run)
        self.secrets.extend(parsed.secrets)
        self.version = self.version or parsed.version
        if parsed.failure:
            self.fail(parsed.failure, job.inputs)
        elif parsed.assessed is not None:
            self.counted += parsed.assessed  # the tool's output says how many it checked
        else:
            self.covered.update(job.inputs)  # a file cut into chunks counts once
        self.raw.append(
            {
                "argv": list(argv),
                "returncode": done.returncode,
                "seconds": round(done.seconds, 3),
                "timed_out": done.timed_out,
                "output": parsed.raw if parsed.raw is not None else done.stdout[-20000:],
                "stderr": done.stderr[-4000:],
            }
        )

    def result(self, scanner: Scanner, setup: toolenv.ToolSetup | None, scrub: Scrubber) -> ScanResult:
        found = tuple(self.findings)
        if isinstance(scanner, MergesFindings):
            found = scanner.merge(found)  # all jobs together: e.g. the chunks of one file
        return ScanResult(
            scanner=self.name,
            status=Status.FAILED if self.failed else Status.OK,
            findings=fingerprint.disambiguate(_scrub_finding(f, scrub) for f in found),
            errors=tuple(scrub.text(e) for e in self.errors),
            not_assessed=tuple(sorted(set(self.not_assessed), key=lambda n: (n.item, n.reason))),
            tool=_tool_info(self.name, scanner, setup, self.version),
            invocations=tuple(sorted(self.invocations, key=lambda i: i.argv)),
            seconds=round(self.seconds, 3),
            rules_run=tuple(sorted(self.rules)),
            warnings=tuple(self.warnings),
            assessed=self.counted + len(self.covered - {n.item for n in self.not_assessed}),
        )


def _job_outcome(scanner: Scanner, job: Job, done: ToolRun, ctx: Context, timeout: float) -> Parsed:
    if done.start_error:
        return Parsed(failure=f"cannot start {job.argv[0]}: {done.start_error}")
    if done.timed_out:
        return Parsed(failure=f"timed out after {timeout:g} s (process group killed)")
    parsed = scanner.parse(done, job, ctx)
    if done.returncode is not None and done.returncode < 0:
        # Killed by a signal (the OOM killer, a crash, someone's kill -9): whatever it
        # printed, it did not finish, so even output that parses is not a result. The
        # masked raw output and located secrets are kept (for the evidence and scrubbing).
        try:
            killed = f"killed by {signal.Signals(-done.returncode).name}"
        except ValueError:
            killed = f"killed by signal {-done.returncode}"
        detail = parsed.failure or "its output parsed, but a killed tool may not have finished"
        return Parsed(
            failure=f"exit code {done.returncode}: {killed}; {detail}",
            raw=parsed.raw,
            secrets=parsed.secrets,
            version=parsed.version,
        )
    if parsed.failure and done.returncode not in (0, None):
        return replace(parsed, failure=f"exit code {done.returncode}: {parsed.failure}")
    return parsed


def _plan(
    ctx: Context,
    scanners: Mapping[str, Scanner],
    skip: tuple[str, ...] = (),
    resolution: reuse.Resolution | None = None,
) -> tuple[dict[str, ScanResult], dict[str, Plan]]:
    """Plan every enabled scanner; those in `skip` failed a pre-flight check. A scanner
    whose result is reused whole, or whose every file is, is not planned; one with some
    files reused is planned for the others only."""
    results: dict[str, ScanResult] = {}
    plans: dict[str, Plan] = {}
    for name, scanner in scanners.items():
        sc = ctx.config.scanners.get(name)
        if sc is None or not sc.enabled:
            results[name] = ScanResult(name, Status.DISABLED, reason="disabled in configuration")
            continue
        if name in skip:
            continue
        reused = resolution.reused.get(name) if resolution is not None else None
        own = ctx
        if reused is not None:
            if reused.whole is not None or set(reuse.scope(name, ctx.inventory)) <= set(reused.items):
                continue
            left = tuple(f for f in ctx.inventory.files if f.path not in set(reused.items))
            own = replace(ctx, inventory=replace(ctx.inventory, files=left))
        plan = scanner.plan(own)
        if isinstance(plan, NotApplicable):
            reason = plan.reason
            if ctx.config.changed_since:  # a diff scan: it is the change that holds nothing for it
                where = f"in the change since {ctx.config.changed_since}"
                reason = (
                    reason.replace("in the target", where)
                    if "in the target" in reason
                    else f"{reason} ({where})"
                )
            results[name] = ScanResult(name, Status.NOT_APPLICABLE, reason=reason)
        else:
            plans[name] = plan
    return results, plans


def _setup_tools(
    plans: Mapping[str, Plan],
    scanners: Mapping[str, Scanner],
    config: Config,
    runner: Runner,
    environ: Mapping[str, str],
) -> dict[str, toolenv.ToolSetup]:
    """Build or find every needed tool at once (environments build in parallel)."""
    needed = [name for name, plan in plans.items() if plan.jobs]
    if not needed:
        return {}
    with ThreadPoolExecutor(max_workers=len(needed)) as pool:
        futures = {
            name: pool.submit(
                toolenv.setup,
                scanners[name].distribution,
                scanners[name].executable,
                config.tools,
                runner,
                environ,
            )
            for name in needed
        }
        return {name: fut.result() for name, fut in futures.items()}


@dataclass(frozen=True)
class _Advisories:
    db: VulnDb | None = None
    identity: AdvisoryDatabase | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()


def open_advisories(config: Config, environ: Mapping[str, str], now: dt.datetime) -> _Advisories:
    """The local advisory database for pip-audit, checked for staleness."""
    path = Path(config.vulndb) if config.vulndb else default_path(toolenv.cache_root(environ))
    try:
        db = VulnDb(path)
    except VulnDbError as exc:
        return _Advisories(error=str(exc))
    info = db.info
    age = round(info.age_days(now), 1)
    identity = AdvisoryDatabase(
        info.source, info.records, info.newest_modified, info.digest, info.imported_at, age
    )
    stated = f"advisory database: {info.records} records, newest {info.newest_modified}, {age:g} days old"
    if age > config.vulndb_max_days:
        db.close()
        return _Advisories(
            identity=identity,
            error=f"{stated}, over the {config.vulndb_max_days:g}-day limit: "
            "update it (`compliance-pipeline vulndb update`) before trusting a clean result",
        )
    warnings = (stated,)
    if age > config.vulndb_warn_days:
        warnings = (f"{stated}, over the {config.vulndb_warn_days:g}-day warning age",)
    return _Advisories(db=db, identity=identity, warnings=warnings)


@dataclass(frozen=True)
class _Inputs:
    """What the run judges with, loaded first: a configuration error stops the run before
    any scanner starts."""

    catalog: controls.Catalog
    waivers: tuple[suppress.Waiver, ...]
    attestations: tuple[Attestation, ...]
    baseline: suppress.Baseline
    today: dt.date


def _load_inputs(root: Path, config: Config, started: str) -> _Inputs:
    every_control = controls.load(resources.policies_dir())
    today = dt.date.fromisoformat(started[:10])
    return _Inputs(
        catalog=controls.select(every_control, config.frameworks),
        waivers=suppress.load_waivers(root / config.waivers, today, config.waiver_max_days),
        attestations=attest.load(root / config.attestations, *controls.manual_controls(every_control), today),
        baseline=(
            suppress.load_baseline(root / config.baseline, today, config.waiver_max_days)
            if config.baseline
            else suppress.NO_BASELINE
        ),
        today=today,
    )


def _discover(
    root: Path,
    config: Config,
    runner: Runner,
    environ: Mapping[str, str],
    output_dir: Path | None,
    only: tuple[str, ...] | None,
) -> tuple[Inventory, ChangeScope | None]:
    """The inventory; for a diff scan (`changed-since`), of the change only."""
    scope: ChangeScope | None = None
    if config.changed_since:
        scope = change.changed_files(root, runner, environ, config.changed_since)
        if scope.error is None:
            modules = change.modules_of(scope.files)
            extra = change.module_files(root, runner, environ, modules)
            scope = replace(scope, modules=tuple(sorted(modules)))
            only = tuple(sorted({*scope.files, *extra}))
        else:
            only = ()
    inventory = discover(
        root,
        runner,
        exclude=config.exclude,
        max_file_size=config.max_file_size,
        skip_paths=tuple(
            p
            for p in (
                output_dir,
                root / config.waivers,
                root / config.attestations,
                root / suppress.DEFAULT_BASELINE,
                root / config.baseline if config.baseline else None,
            )
            if p is not None
        ),
        only=only,
        exclude_source=config.origins.get("exclude", "configuration"),
    )
    if scope is not None and scope.error is not None:
        # The change could not be listed: nothing was assessed, and the evidence says why.
        failed = SkippedPath(".", scope.error, not_assessed=True, category="scope", files=0)
        inventory = replace(inventory, skipped=(*inventory.skipped, failed))
    _check_never_exclude(inventory, config)
    return inventory, scope


def _workers(config: Config) -> int:
    cores = os.cpu_count() or 2
    workers = config.jobs or cores
    if config.from_repository("jobs"):
        workers = min(workers, 2 * cores)  # the repository tunes, it does not fork-bomb the runner
    return workers


def _needs_advisories(config: Config, scanners: Mapping[str, Scanner], inventory: Inventory) -> bool:
    return (
        config.vulnerability_service == "offline"
        and "pip-audit" in scanners
        and config.scanners.get("pip-audit", ScannerConfig(enabled=False)).enabled
        and bool(inventory.manifests)
    )


def _resolve(
    root: Path,
    config: Config,
    scanners: Mapping[str, Scanner],
    inventory: Inventory,
    advisories: _Advisories,
    environ: Mapping[str, str],
    store: cache.ResultCache,
    rendered: render.Rendered | None,
) -> tuple[reuse.Keys, reuse.Resolution]:
    """Resolve from cache: the results an earlier run already established (after
    rendering: checkov's key covers what the charts and kustomizations rendered to)."""
    keys = reuse.Keys(
        code=reuse.code_digest(Path(__file__).parent, resources.templates_dir(), resources.policies_dir()),
        secret_scheme=SecretIds.from_environ(environ).identity,
        config=config,
        root=root,
        locks=reuse.lock_digests(s.distribution for s in scanners.values()),
        advisory_digest=advisories.identity.digest if advisories.identity else None,
        rendered_digest=reuse.rendered_digest(
            rendered.root if rendered is not None else None,
            rendered.not_assessed if rendered is not None else (),
        ),
    )
    enabled = [
        (n, s.distribution)
        for n, s in scanners.items()
        if n in config.scanners and config.scanners[n].enabled
    ]
    return keys, reuse.resolve(enabled, inventory, keys, store)


def _run_jobs(
    queue: list[tuple[str, Job]],
    acc: dict[str, _Acc],
    scanners: Mapping[str, Scanner],
    setups: Mapping[str, toolenv.ToolSetup],
    ctx: Context,
    runner: Runner,
    environ: Mapping[str, str],
    notify: Progress,
) -> str | None:
    """Execute the jobs, longest first, in one pool; returns why the run stopped early,
    if it did (what finished is kept, the rest marked)."""
    config, root = ctx.config, ctx.inventory.root
    tool_env = tool_environment(environ)
    queue.sort(key=lambda item: -item[1].cost)  # longest first
    totals = {name: sum(1 for n, _ in queue if n == name) for name in acc}
    finished = dict.fromkeys(acc, 0)

    def run_job(name: str, job: Job) -> tuple[str, Job, ToolRun]:
        exe = setups[name].executable
        argv = (str(exe), *job.argv[1:]) if exe else job.argv
        env = {**tool_env, **job.env}
        return name, job, runner(argv, job.cwd or root, env, config.scanners[name].timeout)

    interrupted: str | None = None
    pool = ThreadPoolExecutor(max_workers=ctx.workers)
    pending: dict[Any, tuple[str, Job]] = {}
    handled: set[Any] = set()
    try:
        for name, total in totals.items():
            if total:
                notify(name, "start", 0, total)
        pending = {pool.submit(run_job, name, job): (name, job) for name, job in queue}
        for fut in as_completed(pending):
            name, job, done = fut.result()
            timeout = config.scanners[name].timeout
            acc[name].add(job, done, _job_outcome(scanners[name], job, done, ctx, timeout))
            handled.add(fut)
            finished[name] += 1
            event = "done" if finished[name] == totals[name] else "job"
            notify(name, event, finished[name], totals[name])
    except (Interrupted, KeyboardInterrupt) as exc:
        # Asked to stop: kill running tools, keep what finished, mark the rest.
        interrupted = f"interrupted by {_signal_name(exc)}"
        _cancel(pool, runner)
    except BaseException:
        _cancel(pool, runner)
        raise
    finally:
        pool.shutdown(wait=True)
    if interrupted:
        for fut, (name, job) in pending.items():
            if fut not in handled:
                acc[name].fail(f"{interrupted} before it finished", job.inputs)
    return interrupted


def _assemble(
    results: dict[str, ScanResult],
    acc: Mapping[str, _Acc],
    scanners: Mapping[str, Scanner],
    setups: Mapping[str, toolenv.ToolSetup],
    resolution: reuse.Resolution,
    advisory_warnings: tuple[str, ...],
    skip: Iterable[str],
) -> tuple[Scrubber, dict[str, Any]]:
    """Each scanner's result from its jobs and what it reused; the raw outputs. Secrets
    any tool located are scrubbed from every other tool's text here."""
    scrub = Scrubber(s for a in acc.values() for s in a.secrets)
    raw_out: dict[str, Any] = {}
    for name, a in acc.items():
        results[name] = a.result(scanners[name], setups.get(name), scrub)
        raw_out[name] = scrub.data({"scanner": name, "invocations": sorted(a.raw, key=lambda r: r["argv"])})
    for name, reused in resolution.reused.items():
        if name in skip or (name in results and results[name].status is not Status.OK):
            continue
        merged = reuse.merge_reused(results.get(name), reused, name)
        if name == "pip-audit":
            merged = replace(merged, warnings=(*advisory_warnings, *merged.warnings))
        scanner = scanners[name]
        if isinstance(scanner, MergesFindings):
            merged = replace(merged, findings=scanner.merge(merged.findings))
        count = len(reused.items) if reused.whole is None else merged.assessed
        results[name] = replace(
            merged, findings=fingerprint.disambiguate(merged.findings), cache=CacheUse(count, reused.origins)
        )
        entry = raw_out.setdefault(name, {"scanner": name, "invocations": []})
        entry["reused"] = {"items": count, "from": list(reused.origins)}
    return scrub, raw_out


def _scopes(config: Config, inventory: Inventory) -> dict[str, controls.ControlScope]:
    """The scopes the operator declared, with how many files of this run are in each."""
    out: dict[str, controls.ControlScope] = {}
    if config.cardholder_data:
        globs = config.cardholder_data

        def matches(path: str) -> bool:
            return matching_pattern(path, globs) is not None

        files = sum(1 for f in inventory.files if matches(f.path))
        out["cardholder-data"] = controls.ControlScope("cardholder-data", matches, files)
    return out


def _judge(report: RunReport, inputs: _Inputs, config: Config, inventory: Inventory) -> RunReport:
    """Suppress (waivers, baseline, inline markers), then evaluate the controls. In a
    diff scan no control is PASS: what the change does not touch was not assessed."""
    results, notes = suppress.apply(
        report.results, inputs.waivers, inputs.baseline, inputs.today, config.allow_inline_suppressions
    )
    report = replace(
        report, results=results, suppression_notes=notes, fail_on_incomplete=config.fail_on_incomplete
    )
    evaluated = controls.evaluate(report, inputs.catalog, inputs.attestations, _scopes(config, inventory))
    if report.change is not None:
        scope = report.change
        what = f"{len(scope.files)} changed files since {scope.since}"
        evaluated = tuple(
            replace(
                c,
                status=ControlStatus.NOT_ASSESSED,
                reason=f"partial scan: only the change was assessed ({what}); its checks passed on it",
            )
            if c.status is ControlStatus.PASS
            else c
            for c in evaluated
        )
    return replace(report, controls=evaluated)


def execute(
    target: Path,
    config: Config,
    scanners: Mapping[str, Scanner],
    runner: Runner,
    clock: Clock,
    environ: Mapping[str, str],
    progress: Progress | None = None,
    output_dir: Path | None = None,
    only: tuple[str, ...] | None = None,
    store: cache.ResultCache | None = None,
) -> RunOutput:
    """One scan, as a sequence of stages: load inputs → discover → resolve from cache →
    plan → set up tools → execute jobs → assemble → judge (suppress, controls) → the
    redaction boundary. `only`: scan just these target-relative files (the pre-commit
    hook); `store`: the result cache (None: no cache); the entries this run leaves for the
    next are in `RunOutput.cache_entries`, for the caller to store once the bundle is
    written (they are named by its manifest digest)."""
    store = store or cache.ResultCache(None)
    started = clock()
    root = target.resolve()
    inputs = _load_inputs(root, config, started)
    notify: Progress = progress or (lambda *_: None)
    inventory, scope = _discover(root, config, runner, environ, output_dir, only)
    read_text = make_reader(root)
    deps, problems = manifests.collect(list(inventory.manifests), read_text)
    advisories = _Advisories()
    if _needs_advisories(config, scanners, inventory):
        now = dt.datetime.fromisoformat(started.replace("Z", "+00:00"))
        advisories = open_advisories(config, environ, now)
    workdir = Path(tempfile.mkdtemp(prefix="compliance-pipeline-"))
    stack = ExitStack()
    try:
        osv_url = None
        if advisories.db is not None:
            stack.callback(advisories.db.close)
            osv_url = osv_server.url(stack.enter_context(osv_server.serve(advisories.db)))
        db = advisories.db
        rendered = None
        wants_checkov = "checkov" in scanners and config.scanners.get("checkov", ScannerConfig()).enabled
        if wants_checkov and ("helm" in inventory.iac or "kustomize" in inventory.iac):
            notify("checkov", "setup", 0, 0)
            rendered = render.render_all(inventory, renderers.locate(environ), runner, workdir / "rendered")
        keys, resolution = _resolve(root, config, scanners, inventory, advisories, environ, store, rendered)
        ctx = Context(
            inventory=inventory,
            config=config,
            workdir=workdir,
            policies=resources.policies_dir(),
            severities=load_severities(resources.policies_dir() / "severity.yaml", inputs.catalog),
            read_text=read_text,
            dependencies=tuple(deps),
            manifest_problems=tuple(problems),
            workers=_workers(config),
            osv_url=osv_url,
            vuln_severity=db.severity if db is not None else (lambda _vid: None),
            vuln_severity_source=db.severity_source if db is not None else (lambda _vid: None),
            remediations=MappingProxyType({p.id: p.remediation for p in inputs.catalog.pack.values()}),
            rendered=rendered,
            secret_ids=SecretIds.from_environ(environ),
        )
        preflight = {"pip-audit": advisories.error} if advisories.error else {}
        results, plans = _plan(ctx, scanners, skip=tuple(preflight), resolution=resolution)
        for name, plan in plans.items():
            notify(name, "setup", 0, len(plan.jobs))
        setups = _setup_tools(plans, scanners, config, runner, environ)
        acc = {name: _Acc(name, str(workdir), str(root)) for name in plans}
        queue: list[tuple[str, Job]] = []
        for name, reason in preflight.items():
            acc[name] = _Acc(name, str(workdir), str(root))
            acc[name].fail(reason, tuple(f"{d.name} ({d.source})" for d in deps))
        if "pip-audit" in acc:
            acc["pip-audit"].warnings.extend(advisories.warnings)
        for name, plan in plans.items():
            acc[name].not_assessed.extend(plan.not_assessed)
            acc[name].warnings.extend(plan.notes)
            setup = setups.get(name)
            if setup is not None and setup.error:
                acc[name].fail(setup.error, tuple(i for j in plan.jobs for i in j.inputs))
                notify(name, "done", 0, 0)
            else:
                queue.extend((name, job) for job in plan.jobs)
        interrupted = _run_jobs(queue, acc, scanners, setups, ctx, runner, environ, notify)
        scrub, raw_out = _assemble(results, acc, scanners, setups, resolution, advisories.warnings, preflight)
    finally:
        stack.close()  # the local OSV API stops here, whatever happened above
        shutil.rmtree(workdir, ignore_errors=True)
    report = RunReport(
        target=str(root),
        started_at=started,
        finished_at=clock(),
        pipeline_version=__version__,
        config_digest=config.digest(),
        threshold=config.threshold,
        results=tuple(results[n] for n in scanners if n in results),
        git=git_info(root, runner, environ, config.branch, config.default_branch),
        files=len(inventory.files),
        skipped_paths=inventory.skipped,
        frameworks=tuple(inventory.iac),
        advisory_db=advisories.identity,
        settings=config.settings(),
        interrupted=interrupted,
        components=components(deps),
        change=scope,
    )
    judged = _judge(report, inputs, config, inventory)
    # The boundary: every string any writer will see, redacted once, here.
    clean = boundary.text_filter(scrub)
    left = (
        []
        if interrupted
        else reuse.entries(
            report.results,  # before suppression: waivers and the baseline apply anew each run
            resolution,
            inventory,
            keys,
            {"pip-audit": advisories.warnings},
            lambda r: boundary.redact_report(r, clean),
        )
    )
    return RunOutput(
        boundary.redact_report(judged, clean),
        MappingProxyType({k: boundary.redact_data(v, clean) for k, v in raw_out.items()}),
        cache_entries=tuple(left),
    )


_PACKAGE_NAME = re.compile(r"[a-z0-9]([a-z0-9._-]*[a-z0-9])?")


def components(deps: list[manifests.Dependency]) -> tuple[Component, ...]:
    """One component per (name, version), with every place that declares it."""
    grouped: dict[tuple[str, str | None], list[manifests.Dependency]] = {}
    for d in deps:
        if d.unauditable and not _PACKAGE_NAME.fullmatch(d.name):
            continue  # `-e .[socks]`, a local path: no registry package to list
        grouped.setdefault((d.name, d.version), []).append(d)
    return tuple(
        Component(
            name=name,
            version=version,
            occurrences=tuple(sorted({d.where for d in found})),
            direct=any(d.direct for d in found),
        )
        for (name, version), found in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    )


def _shown(arg: str, root: str) -> str:
    return arg.replace(root, "<target>") if root else arg


def _signal_name(exc: BaseException) -> str:
    return exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"


def _cancel(pool: ThreadPoolExecutor, runner: Runner) -> None:
    """Stop queued jobs and kill running tools' process groups instead of waiting."""
    pool.shutdown(wait=False, cancel_futures=True)
    cancel = getattr(runner, "cancel", None)
    if callable(cancel):
        cancel()


def minimal_report(target: Path, config: Config, started: str, finished: str, reason: str) -> RunReport:
    """The evidence of a run that stopped before it had results: incomplete, with why."""
    return RunReport(
        target=str(target.resolve()),
        started_at=started,
        finished_at=finished,
        pipeline_version=__version__,
        config_digest=config.digest(),
        threshold=config.threshold,
        results=(),
        settings=config.settings(),
        fail_on_incomplete=config.fail_on_incomplete,
        interrupted=reason,
    )


def _check_never_exclude(inventory: Inventory, config: Config) -> None:
    """The policy's never-exclude floor: the repository may not exclude those paths."""
    protected = config.policy.never_exclude
    if not protected or not config.from_repository("exclude"):
        return
    hit = [
        s.path
        for s in inventory.skipped
        if s.reason.startswith(EXCLUDED_BY) and matching_pattern(s.path, protected)
    ]
    if hit:
        raise ConfigError(
            f"policy {config.policy.source}: the repository's exclude ({config.origins['exclude']}) "
            f"removes {len(hit)} paths the policy says may never be excluded, e.g. "
            f"{', '.join(hit[:5])}: narrow the repository's exclude patterns"
        )


def _scrub_finding(f: Finding, scrub: Scrubber) -> Finding:
    return replace(
        f,
        message=scrub.text(f.message),
        snippet=scrub.text(f.snippet) if f.snippet else f.snippet,
        title=scrub.text(f.title),
    )


def _tool_info(
    name: str, scanner: Scanner, setup: toolenv.ToolSetup | None, reported: str | None
) -> ToolInfo | None:
    if setup is None:
        return None
    installed = setup.distributions.get(scanner.distribution)
    implementation = None
    candidates = [d for d in IMPLEMENTATIONS.get(name, ()) if d in setup.distributions]
    if candidates:
        matching = [d for d in candidates if setup.distributions[d] == reported]
        implementation = f"{(matching or candidates)[0]} {setup.distributions[(matching or candidates)[0]]}"
    return ToolInfo(
        name=scanner.distribution,
        version=reported or installed or "unknown",
        source=setup.source,
        implementation=implementation,
    )


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
