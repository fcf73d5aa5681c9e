"""checkov: infrastructure as code, with our policy pack as external checks.

One invocation over the whole target (`-d .`, never several `-d`: checkov
then prints concatenated JSON documents and skips the second directory's
Terraform, upstream issue 7327), restricted to the frameworks discovery
found, with its secrets framework off (secrets are detect-secrets' job) and
no call to its vendor's platform.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from pipeline import fingerprint as fp
from pipeline.discover import SKIP_DIRS
from pipeline.model import Finding, Location, NotAssessed, Severity, Suppression
from pipeline.redact import MAX_LINE, mask_line
from pipeline.render import Rendered
from pipeline.runner import ToolRun
from pipeline.scanners.base import (
    Context,
    Job,
    NotApplicable,
    Parsed,
    Plan,
    Staged,
    load_json,
    relpath,
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
    required,
    string,
)

NAME = "checkov"
SUPPORTED = frozenset(
    {
        "terraform",
        "terraform_json",
        "cloudformation",
        "kubernetes",
        "dockerfile",
        "github_actions",
        "gitlab_ci",
        "bitbucket_pipelines",
        "azure_pipelines",
        "circleci_pipelines",
        "serverless",
        "arm",
        "bicep",
        "openapi",
    }
)
MAX_IAC_FILE_SIZE = 50_000_000
"""checkov's own limit (CHECKOV_MAX_IAC_FILE_SIZE, set explicitly in ENV)."""
ENV = MappingProxyType(
    {
        "BC_SKIP_MAPPING": "TRUE",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
        "LOG_LEVEL": "WARNING",
        # checkov skips every dot-folder by default: `.deploy/main.tf` or
        # `.github/terraform/` would be counted as assessed while nothing looked at them.
        # Discovery decides what is in scope; the folders it skips (.git, .terraform, ...)
        # are passed as --skip-path.
        "CKV_IGNORE_HIDDEN_DIRECTORIES": "false",
        "CHECKOV_MAX_IAC_FILE_SIZE": str(MAX_IAC_FILE_SIZE),
    }
)
SNIPPET_LINES = 12
YAML_SUFFIXES = (".yml", ".yaml", ".json", ".template")


def skip_path_regexes(exclude: tuple[str, ...]) -> tuple[str, ...]:
    """checkov's --skip-path takes regular expressions; ours are globs."""
    dirs = tuple(f"(^|/){d.replace('.', '[.]')}/" for d in sorted(SKIP_DIRS))
    globs = tuple(fnmatch.translate(g.rstrip("/")).replace(r"\Z", "") for g in exclude)
    return dirs + globs


class Checkov:
    name = NAME
    executable = "checkov"
    distribution = "checkov"

    def plan(self, ctx: Context) -> Plan | NotApplicable:
        frameworks = sorted(fw for fw in ctx.inventory.iac if fw in SUPPORTED)
        rendered = ctx.rendered
        jobs: list[Job] = []
        if frameworks:
            skip: list[str] = []
            for rx in skip_path_regexes(ctx.config.exclude):
                skip += ["--skip-path", rx]
            inputs = tuple(sorted(p for fw in frameworks for p in ctx.inventory.iac[fw]))
            jobs.append(self._job(ctx, ctx.inventory.root, frameworks, skip, inputs, "checkov"))
        for i, folder in enumerate(rendered.parts() if rendered is not None else ()):
            part = rendered.part(folder) if rendered is not None else None
            if part is None:
                break
            staged = MappingProxyType({f"{folder}/{rel}": Staged(src) for rel, src in part.sources.items()})
            job = self._job(ctx, part.root, ["kubernetes"], [], part.inputs, f"checkov-rendered-{i}")
            jobs.append(replace(job, staged=staged))
        not_assessed = rendered.not_assessed if rendered is not None else ()
        if not jobs and not not_assessed:
            return NotApplicable("no infrastructure-as-code files in the target")
        return Plan(tuple(jobs), not_assessed=not_assessed)

    @staticmethod
    def _job(
        ctx: Context,
        root: Path,
        frameworks: list[str],
        skip: list[str],
        inputs: tuple[str, ...],
        scratch_name: str,
    ) -> Job:
        # checkov reads `.checkov.yaml`/`.checkov.yml` from every `-d DIR` token, the
        # working directory and HOME (checkov/common/util/config_utils.py): it runs in
        # an empty scratch folder with HOME there, and the target is named as one
        # `--directory=PATH` token, so no configuration file of the target is read.
        scratch = ctx.workdir / scratch_name
        scratch.mkdir(parents=True, exist_ok=True)
        argv = (
            "checkov",
            f"--directory={root}",
            "--framework",
            *frameworks,
            "--skip-framework",
            "secrets",
            "--skip-download",
            "--output",
            "json",
            "--external-checks-dir",
            str(ctx.policies / "checkov"),
            *skip,
        )
        env = {
            **ENV,
            "HOME": str(scratch),
            "COMPLIANCE_PIPELINE_MIN_BACKUP_DAYS": str(ctx.config.min_backup_retention_days),
        }
        return Job(
            argv=argv,
            cost=4.0 + 0.05 * len(inputs),
            inputs=inputs,
            env=MappingProxyType(env),
            cwd=scratch,
        )

    def parse(self, run: ToolRun, job: Job, ctx: Context) -> Parsed:
        if job.staged and ctx.rendered is not None:
            folder = next(iter(job.staged)).split("/", 1)[0]
            parsed = parse_rendered(run.stdout, ctx.rendered.part(folder), ctx)
        else:
            parsed = parse(run.stdout, ctx.inventory.root, ctx, job.inputs)
        if parsed.failure is None and run.returncode not in (0, 1):
            # The masked output stays the evidence (not the raw stdout with code blocks).
            return Parsed(
                failure=f"checkov exited {run.returncode}: {stderr_excerpt(run.stderr)}", raw=parsed.raw
            )
        if parsed.failure and run.stderr.strip():
            return Parsed(failure=f"{parsed.failure}; stderr: {stderr_excerpt(run.stderr)}")
        return parsed


def _target_rel(path: str, root: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            return p.relative_to(root).as_posix()
        except ValueError:
            pass
    return relpath(path)


def _reports(data: Any) -> list[tuple[str, Mapping[str, Any]]] | None:
    """checkov prints a list (several frameworks), a dict (one) or a bare summary (nothing).

    Each report comes with its path in the document, for DecodeError messages.
    """
    if isinstance(data, list):
        return [(child("", i), obj(r, child("", i))) for i, r in enumerate(data)]
    if isinstance(data, dict):
        if "results" in data or "check_type" in data:
            return [("", data)]
        if "passed" in data and "failed" in data:
            return []
    return None


def _code_line(value: Any, where: str) -> tuple[int, str]:
    """One `[line number, text]` item of a check's code_block."""
    pair = lst(value, where)
    if len(pair) != 2:
        raise DecodeError(where, f"expected a [line number, text] pair, got a list of {len(pair)}")
    return integer(pair[0], child(where, 0)), string(pair[1], child(where, 1))


def _code_block(value: Any, where: str) -> list[tuple[int, str]]:
    """A check's code_block. The same block repeats in every check of a resource (262,000
    lines in a large run), so the path of an item is built only when it is wrong."""
    block = lst(value, where)
    for i, item in enumerate(block):
        if not (type(item) is list and len(item) == 2 and type(item[0]) is int and type(item[1]) is str):
            _code_line(item, child(where, i))
    return [(item[0], item[1]) for item in block]


def _snippet(code_block: list[tuple[int, str]] | None) -> str | None:
    """The first lines of the resource, masked as one block: a `password: |` value or a
    `variable "db_password"` default is only recognisable with its neighbouring lines."""
    if not code_block:
        return None
    block = "".join(text if text.endswith("\n") else text + "\n" for _, text in code_block[:SNIPPET_LINES])
    masked = mask_line(block, max_line=None)
    lines = [ln if len(ln) <= MAX_LINE else ln[:MAX_LINE] + "…" for ln in masked.splitlines()]
    return "\n".join(lines) or None


_TF_CHECKED_BLOCK = re.compile(r"(?m)^[ \t]*(resource|data|module|provider)[ \t]*[\"A-Za-z_]")
_TF_JSON_CHECKED_BLOCK = re.compile(r'"(resource|data|module|provider)"\s*:')


CHECKED_KINDS = frozenset(
    {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"}
)
"""Kubernetes kinds checkov 3.3 always has checks for (a ConfigMap or a NetworkPolicy
alone legitimately gets the bare summary)."""


def _checkable(path: str, text: str, kubernetes: bool = False) -> bool:
    """Whether checkov has something to check in a file of the target.

    checkov's checks apply to Terraform's resource, data, provider and module blocks;
    a file of variables, outputs or locals only (or of comments) gets the bare summary
    legitimately (measured on 3.3.30). A block of a type no check covers (e.g.
    `random_id`) gets it too: that case is not told apart and reads as "no results".
    A Kubernetes file counts only with a workload of CHECKED_KINDS in it (one that
    does not load is NOT_ASSESSED instead, see `_unread`).
    """
    lower = path.lower()
    if lower.endswith(".tf"):
        return bool(_TF_CHECKED_BLOCK.search(text))
    if lower.endswith(".tf.json"):
        return bool(_TF_JSON_CHECKED_BLOCK.search(text))
    if kubernetes:
        return _has_workload(text)
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "//")):
            return True
    return False


def _has_workload(text: str) -> bool:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        docs = list(yaml.load_all(text, Loader=loader))  # nosec B506 - a safe loader
    except (yaml.YAMLError, ValueError, RecursionError):
        return False
    return any(isinstance(d, dict) and d.get("kind") in CHECKED_KINDS for d in docs)


_HELM_LOOKALIKE = re.compile(r"\{\{-?\s*\.(Release|Values)\.")
"""checkov's kubernetes parser drops a file matching this (taken for a Helm template)."""


def _unread(path: str, size: int, read: Callable[[], str | None], kubernetes: bool) -> str | None:
    """Why checkov assessed nothing in a file it was given, if we can tell.

    checkov drops a YAML or JSON file it cannot load without a word (its
    `parsing_errors` stays empty for Kubernetes, measured on 3.3.30), a Kubernetes
    file with `{{ .Values.` or `{{ .Release.` anywhere in it (a comment will do), and
    files over its size limit: all NOT_ASSESSED. A file that loads but has nothing
    checkov checks (a ConfigMap, a Terraform file of variables) is assessed, empty.
    """
    if size > MAX_IAC_FILE_SIZE:
        return f"larger than checkov's limit ({MAX_IAC_FILE_SIZE} bytes): checkov skips it"
    if not path.lower().endswith(YAML_SUFFIXES):
        return None
    text = read()
    if text is None:
        return "could not be read to check what checkov skipped"
    if kubernetes and _HELM_LOOKALIKE.search(text):
        return "holds `{{ .Values.` or `{{ .Release.`: checkov takes it for a Helm template and skips it"
    problem = yaml_problem(text)
    return f"not valid YAML or JSON ({problem}): checkov skipped it" if problem else None


def yaml_problem(text: str) -> str | None:
    """Why the text does not load as YAML (JSON is YAML), or None."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for _ in yaml.load_all(text, Loader=loader):  # nosec B506 - a safe loader
            pass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        return f"{problem}{where}"
    except (ValueError, RecursionError) as exc:  # e.g. a tag's bad value, alias bombs
        return type(exc).__name__
    return None


def parse(stdout: str, root: Path, ctx: Context, inputs: Iterable[str] = ()) -> Parsed:
    """Pure: checkov JSON → failed checks as findings; unparsable files NOT_ASSESSED.

    `inputs` are the IaC files the job gave checkov: a bare summary (no report at all)
    while one of them holds something checkov checks means checkov read nothing (FAILED).
    """
    data, error = load_json(stdout)
    if error:
        return Parsed(failure=f"checkov {error}: {tail(stdout, 200)!r}")
    try:
        return _parse(data, root, ctx, tuple(inputs))
    except DecodeError as exc:
        return Parsed(failure=mismatch(NAME, exc))


def parse_rendered(stdout: str, rendered: Rendered, ctx: Context) -> Parsed:
    """Pure: checkov JSON over the rendered charts and overlays → findings at their sources.

    A finding names the template or base file it came from, and the chart or
    kustomization that rendered it; rendered line numbers mean nothing in the source,
    so none is given. A rendered document checkov skipped is NOT_ASSESSED at its source.
    """
    data, error = load_json(stdout)
    if error:
        return Parsed(failure=f"checkov {error}: {tail(stdout, 200)!r}")
    try:
        return _parse(data, rendered.root, ctx, (), rendered)
    except DecodeError as exc:
        return Parsed(failure=mismatch(NAME, exc))


def _read_rendered(rendered: Rendered, rel: str) -> Callable[[], str | None]:
    def read() -> str | None:
        try:
            return (rendered.root / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    return read


def _parse(
    data: Any, root: Path, ctx: Context, inputs: tuple[str, ...], rendered: Rendered | None = None
) -> Parsed:
    reports = _reports(data)
    if reports is None:
        return Parsed(failure="checkov output is neither a report, a list of reports nor a summary")
    if not reports and inputs:
        k8s = set(ctx.inventory.iac.get("kubernetes", ()))
        unread = [p for p in inputs if _checkable(p, ctx.read_text(p) or "", p in k8s)]
        if unread:
            shown = ", ".join(unread[:3]) + (", …" if len(unread) > 3 else "")
            plural = "s" if len(unread) != 1 else ""
            return Parsed(
                failure=f"checkov reported no results for {len(unread)} IaC file{plural} ({shown}): "
                "its output is only the bare summary"
            )
    known = {f.path for f in ctx.inventory.files}
    calls: dict[str, str] | None = None
    seen: set[str] = set()
    """Files checkov reported a result or a parsing error for."""
    findings: list[Finding] = []
    not_assessed: list[NotAssessed] = []
    errors: list[str] = []
    rules: set[str] = set()
    version = optional(data, "checkov_version", "", string) if isinstance(data, dict) else None
    for where, report in reports:
        summary = optional(report, "summary", where, obj) or {}
        version = version or optional(summary, "checkov_version", child(where, "summary"), string)
        check_type = optional(report, "check_type", where, string)
        results = optional(report, "results", where, obj) or {}
        in_results = child(where, "results")
        in_passed = child(in_results, "passed_checks")
        for i, item in enumerate(optional(results, "passed_checks", in_results, lst) or ()):
            passed = obj(item, child(in_passed, i))
            rules.add(required(passed, "check_id", child(in_passed, i), string))
            seen.add(_target_rel(field(passed, "file_path", child(in_passed, i), string, ""), root))
        checks: list[tuple[str, Mapping[str, Any], Suppression | None]] = []
        for key in ("failed_checks", "skipped_checks"):
            in_key = child(in_results, key)
            for i, item in enumerate(optional(results, key, in_results, lst) or ()):
                w = child(in_key, i)
                check = obj(item, w)
                suppression = None
                if key == "skipped_checks":
                    result = optional(check, "check_result", w, obj) or {}
                    comment = optional(result, "suppress_comment", child(w, "check_result"), string)
                    suppression = Suppression(
                        "inline", comment or "checkov:skip without a reason", source="checkov:skip"
                    )
                checks.append((w, check, suppression))
        for w, check, suppression in checks:
            path = _target_rel(field(check, "file_path", w, string, ""), root)
            seen.add(path)
            via = None
            if rendered is not None:
                via = rendered.via.get(path)
                path = rendered.sources.get(path, "")
            rule = field(check, "check_id", w, string, "CKV_UNKNOWN")
            resource = field(check, "resource", w, string, "")
            lines = optional(check, "file_line_range", w, list_of(integer)) or []
            sev_text = optional(check, "severity", w, string)
            check_name = optional(check, "check_name", w, string)
            guideline = optional(check, "guideline", w, string)
            code_block = optional(check, "code_block", w, _code_block)
            if via is not None:
                lines = []  # lines of the rendered document, not of the template
                resource = f"{resource} (rendered from {via})"
            caller_rel = None
            if known and path not in known:
                # Ignored by .gitignore or our excludes, or outside a diff scan's change; a
                # resource a module call in the inventory instantiates (checkov reports it
                # at the module's file, `module.NAME.…`) is kept: the call brought it in.
                calls = module_calls(ctx) if calls is None else calls
                caller_rel = calls.get(resource.split(".", 2)[1]) if resource.startswith("module.") else None
                if caller_rel is None:
                    continue
            rules.add(rule)
            try:
                severity = Severity.parse(sev_text) if sev_text else ctx.severities.of(NAME, rule)
            except ValueError:
                severity = ctx.severities.of(NAME, rule)
            findings.append(
                Finding(
                    tool=NAME,
                    rule_id=rule,
                    title=check_name or rule,
                    severity=severity,
                    location=Location(
                        path, lines[0] if lines else None, lines[-1] if lines else None, resource or None
                    ),
                    fingerprint=fp.fingerprint(NAME, rule, path, resource),
                    message=f"{resource}: {check_name or rule}"
                    + (f" (instantiated by the module call in {caller_rel})" if caller_rel else ""),
                    help_url=guideline or None,
                    remediation=ctx.remediations.get(rule),
                    snippet=_snippet(code_block),
                    suppression=suppression,
                )
            )
        for bad in optional(results, "parsing_errors", in_results, list_of(string)) or ():
            path = _target_rel(bad, root)
            seen.add(path)
            if rendered is None and known and path not in known:
                continue  # not in the inventory (ignored, excluded, outside a diff scan's change)
            if rendered is not None:
                path = f"{rendered.sources.get(path, path)} (rendered from {rendered.via.get(path, '?')})"
            errors.append(f"{path}: checkov could not parse it ({check_type})")
            not_assessed.append(NotAssessed(NAME, path, "checkov could not parse it"))
    if rendered is not None:
        for rel, source in sorted(rendered.sources.items()):
            if rel not in seen:
                why = _unread(rel, 0, _read_rendered(rendered, rel), kubernetes=True)
                if why:
                    not_assessed.append(
                        NotAssessed(NAME, source, f"{why} (rendered from {rendered.via[rel]})")
                    )
    sizes = {f.path: f.size for f in ctx.inventory.files}
    k8s = set(ctx.inventory.iac.get("kubernetes", ()))
    for path in inputs:
        if path not in seen:
            why = _unread(path, sizes.get(path, 0), functools.partial(ctx.read_text, path), path in k8s)
            if why:
                not_assessed.append(NotAssessed(NAME, path, why))
    return Parsed(
        findings=tuple(findings),
        errors=tuple(errors),
        not_assessed=tuple(not_assessed),
        rules_run=tuple(sorted(rules)),
        version=str(version) if version else None,
        raw=_masked_raw(data),
    )


_MODULE_CALL = re.compile(r'^\s*module\s+"([^"]+)"\s*\{', re.MULTILINE)


def module_calls(ctx: Context) -> dict[str, str]:
    """Module call name → the inventory's Terraform file that declares it."""
    out: dict[str, str] = {}
    for path in ctx.inventory.iac.get("terraform", ()):
        for name in _MODULE_CALL.findall(ctx.read_text(path) or ""):
            out.setdefault(name, path)
    return out


RAW_CHECK_KEYS = (
    "check_id",
    "bc_check_id",
    "check_name",
    "check_class",
    "file_path",
    "repo_file_path",
    "file_line_range",
    "resource",
    "caller_file_path",
    "caller_file_line_range",
    "guideline",
    "severity",
)
"""What the evidence keeps of each checkov result: ids, paths, lines, resources, results.
`entity` (every attribute of a resource, passwords included), `code_block`, evaluated
variables and fixed definitions are dropped: the finding's masked snippet shows the code."""


def _masked_raw(data: Any) -> Any:
    """checkov's JSON as evidence, not a dump: each result reduced to RAW_CHECK_KEYS and
    its `check_result.result` (and the suppression comment of a skipped check)."""
    if isinstance(data, list):
        return [_masked_raw(d) for d in data]
    if not isinstance(data, dict):
        return data
    if "results" not in data:
        return data  # the bare summary
    results = data.get("results")
    kept: dict[str, Any] = {}
    if isinstance(results, dict):
        for key, value in results.items():
            if key.endswith("_checks") and isinstance(value, list):
                kept[key] = [_raw_check(c) for c in value]
            elif key == "parsing_errors":
                kept[key] = value
    return {**{k: v for k, v in data.items() if k != "results"}, "results": kept}


def _raw_check(check: Any) -> Any:
    if not isinstance(check, dict):
        return check
    out = {k: check[k] for k in RAW_CHECK_KEYS if k in check}
    result = check.get("check_result")
    if isinstance(result, dict):
        out["check_result"] = {k: result[k] for k in ("result", "suppress_comment") if k in result}
    return out
