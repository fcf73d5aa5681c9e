"""checkov: infrastructure as code, with our policy pack as external checks.

One invocation over the whole target (`-d .`, never several `-d`: checkov
then prints concatenated JSON documents and skips the second directory's
Terraform, upstream issue 7327), restricted to the frameworks discovery
found, with its secrets framework off (secrets are detect-secrets' job) and
no call to its vendor's platform.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pipeline import fingerprint as fp
from pipeline.discover import SKIP_DIRS
from pipeline.model import Finding, Location, NotAssessed, Severity, Suppression
from pipeline.redact import mask_line
from pipeline.runner import ToolRun
from pipeline.scanners.base import (
    Context,
    Job,
    NotApplicable,
    Parsed,
    Plan,
    load_json,
    relpath,
    stderr_excerpt,
    tail,
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
ENV = MappingProxyType(
    {
        "BC_SKIP_MAPPING": "TRUE",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
        "LOG_LEVEL": "WARNING",
    }
)
SNIPPET_LINES = 12


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
        if not frameworks:
            return NotApplicable("no infrastructure-as-code files in the target")
        n_files = sum(len(ctx.inventory.iac[fw]) for fw in frameworks)
        skip: list[str] = []
        for rx in skip_path_regexes(ctx.config.exclude):
            skip += ["--skip-path", rx]
        # checkov reads `.checkov.yaml`/`.checkov.yml` from every `-d DIR` token, the
        # working directory and HOME (checkov/common/util/config_utils.py): it runs in
        # an empty scratch folder with HOME there, and the target is named as one
        # `--directory=PATH` token, so no configuration file of the target is read.
        scratch = ctx.workdir / NAME
        scratch.mkdir(parents=True, exist_ok=True)
        argv = (
            "checkov",
            f"--directory={ctx.inventory.root}",
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
        inputs = tuple(sorted(p for fw in frameworks for p in ctx.inventory.iac[fw]))
        env = {
            **ENV,
            "HOME": str(scratch),
            "COMPLIANCE_PIPELINE_MIN_BACKUP_DAYS": str(ctx.config.min_backup_retention_days),
        }
        job = Job(
            argv=argv,
            cost=4.0 + 0.05 * n_files,
            inputs=inputs,
            env=MappingProxyType(env),
            cwd=scratch,
        )
        return Plan((job,))

    def parse(self, run: ToolRun, job: Job, ctx: Context) -> Parsed:
        parsed = parse(run.stdout, ctx.inventory.root, ctx)
        if parsed.failure is None and run.returncode not in (0, 1):
            return Parsed(failure=f"checkov exited {run.returncode}: {stderr_excerpt(run.stderr)}")
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


def _reports(data: Any) -> list[dict[str, Any]] | None:
    """checkov prints a list (several frameworks), a dict (one) or a bare summary (nothing)."""
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)]
    if isinstance(data, dict):
        if "results" in data or "check_type" in data:
            return [data]
        if "passed" in data and "failed" in data:
            return []
    return None


def _snippet(code_block: Any) -> str | None:
    if not isinstance(code_block, list):
        return None
    lines = [
        mask_line(str(item[1]))
        for item in code_block[:SNIPPET_LINES]
        if isinstance(item, list) and len(item) == 2
    ]
    return "\n".join(lines) or None


def parse(stdout: str, root: Path, ctx: Context) -> Parsed:
    """Pure: checkov JSON → failed checks as findings; unparsable files NOT_ASSESSED."""
    data, error = load_json(stdout)
    if error:
        return Parsed(failure=f"checkov {error}: {tail(stdout, 200)!r}")
    reports = _reports(data)
    if reports is None:
        return Parsed(failure="checkov output is neither a report, a list of reports nor a summary")
    known = {f.path for f in ctx.inventory.files}
    findings: list[Finding] = []
    not_assessed: list[NotAssessed] = []
    errors: list[str] = []
    rules: set[str] = set()
    version = data.get("checkov_version") if isinstance(data, dict) else None
    for report in reports:
        summary = report.get("summary") or {}
        version = version or summary.get("checkov_version")
        results = report.get("results") or {}
        for check in results.get("passed_checks") or []:
            rules.add(str(check.get("check_id")))
        failed = [(c, None) for c in results.get("failed_checks") or []]
        skipped = [
            (
                c,
                Suppression(
                    "inline",
                    str(
                        (c.get("check_result") or {}).get("suppress_comment")
                        or "checkov:skip without a reason"
                    ),
                    source="checkov:skip",
                ),
            )
            for c in results.get("skipped_checks") or []
        ]
        for check, suppression in failed + skipped:
            path = _target_rel(str(check.get("file_path", "")), root)
            if known and path not in known:
                continue  # ignored by .gitignore or our excludes: not in the inventory
            rule = str(check.get("check_id", "CKV_UNKNOWN"))
            rules.add(rule)
            resource = str(check.get("resource") or "")
            lines = check.get("file_line_range") or [None, None]
            sev_text = check.get("severity")
            try:
                severity = Severity.parse(sev_text) if sev_text else ctx.severities.of(NAME, rule)
            except ValueError:
                severity = ctx.severities.of(NAME, rule)
            findings.append(
                Finding(
                    tool=NAME,
                    rule_id=rule,
                    title=str(check.get("check_name") or rule),
                    severity=severity,
                    location=Location(path, lines[0], lines[-1], resource or None),
                    fingerprint=fp.fingerprint(NAME, rule, path, resource),
                    message=f"{resource}: {check.get('check_name') or rule}",
                    help_url=check.get("guideline") or None,
                    remediation=ctx.remediations.get(rule),
                    snippet=_snippet(check.get("code_block")),
                    suppression=suppression,
                )
            )
        for bad in results.get("parsing_errors") or []:
            path = _target_rel(str(bad), root)
            errors.append(f"{path}: checkov could not parse it ({report.get('check_type')})")
            not_assessed.append(NotAssessed(NAME, path, "checkov could not parse it"))
    return Parsed(
        findings=tuple(findings),
        errors=tuple(errors),
        not_assessed=tuple(not_assessed),
        rules_run=tuple(sorted(rules)),
        version=str(version) if version else None,
        raw=_masked_raw(data),
    )


def _masked_raw(data: Any, cache: dict[str, str] | None = None) -> Any:
    """checkov's JSON with every code block line masked.

    Each resource's code block repeats in every check of that resource, so
    masked lines are memoised for the call (measured: 262,000 lines → 2 s uncached).
    """
    memo: dict[str, str] = {} if cache is None else cache

    def masked(line: str) -> str:
        if line not in memo:
            memo[line] = mask_line(line)
        return memo[line]

    if isinstance(data, list):
        return [_masked_raw(d, memo) for d in data]
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            if k == "code_block" and isinstance(v, list):
                out[k] = [
                    [item[0], masked(str(item[1]))] if isinstance(item, list) and len(item) == 2 else item
                    for item in v
                ]
            else:
                out[k] = _masked_raw(v, memo)
        return out
    return data
