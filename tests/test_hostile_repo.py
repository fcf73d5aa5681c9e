"""The scanned repository is hostile input (issue 10): each attack, through the real tools.

A file name, a configuration file, a tool's own configuration or the `.git`
folder of the target must never run code, reach outside the target, or
weaken the scan without the evidence and the verdict saying so.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, only, scan

from pipeline import config
from pipeline.config import default_config
from pipeline.model import Status
from pipeline.scanners import SCANNER_NAMES

pytestmark = pytest.mark.tools

AWS_KEY = "AKIAZ3MHQ7PXWJ2KLRTV"  # made up, shaped like an AWS key  # pragma: allowlist secret
ACTION_POLICY = ROOT / "policies" / "action-policy.toml"


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env or dict(os.environ),
        timeout=600,
    )


def _result(run: object, name: str) -> object:
    return next(r for r in run.report.results if r.scanner == name)  # type: ignore[attr-defined]


# --- 1. No path is ever an option ----------------------------------------------------------


def test_detect_secrets_file_names_that_are_its_options(tmp_path: Path) -> None:
    marker = tmp_path / "plugin-ran"
    t = tmp_path / "t"
    t.mkdir()
    # As a plugin, evil.py would run at import time and write the marker.
    (t / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    for name in ("--plugin=evil.py", "--exclude-files=.*", "--exclude-lines=.*", "-", "-c"):
        (t / name).write_text("")
    (t / "--help.py").write_text(f"aws_access_key_id = '{AWS_KEY}'\n")
    (t / "settings.env").write_text(f"AWS_ACCESS_KEY_ID={AWS_KEY}\n")
    run = scan(t, only(default_config(SCANNER_NAMES), "detect-secrets"))
    ds = _result(run, "detect-secrets")
    assert not marker.exists(), "a file name loaded a plugin"
    assert ds.status is Status.OK, ds.errors  # type: ignore[attr-defined]
    found = {(f.location.path, f.rule_id) for f in ds.findings}  # type: ignore[attr-defined]
    assert {("--help.py", "AWS Access Key"), ("settings.env", "AWS Access Key")} <= found
    argv = [a for inv in ds.invocations for a in inv.argv]  # type: ignore[attr-defined]
    assert not any(a.startswith("--plugin") or a.startswith("--exclude") for a in argv)


def test_bandit_file_names_that_are_its_options(tmp_path: Path) -> None:
    t = tmp_path / "t"
    t.mkdir()
    code = "import pickle\npickle.loads(b'')\n"
    # `--exclude=*.py` with a long run of blanks, `-` (stdin for bandit), `-rfile`, `-c`.
    names = ["--exclude=" + " " * 40 + "*.py", "-.py", "-rfile.py", "-c.py", "--help.py", "app.py"]
    for name in names:
        (t / name).write_text(code)
    # bandit's default excludes match as substrings: a file under a name with `CVS`
    # in it would silently not be scanned.
    (t / "CVSimport.py").write_text(code)
    run = scan(t, only(default_config(SCANNER_NAMES), "bandit"))
    b = _result(run, "bandit")
    assert b.status is Status.OK, b.errors  # type: ignore[attr-defined]
    flagged = {f.location.path for f in b.findings if f.rule_id == "B301"}  # type: ignore[attr-defined]
    assert flagged == {*names, "CVSimport.py"}


def test_checkov_file_names_never_reach_its_command_line(tmp_path: Path) -> None:
    t = tmp_path / "t"
    t.mkdir()
    bucket = 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n  acl = "public-read-write"\n}\n'
    (t / "--framework=x.tf").write_text(bucket)
    (t / "-d").mkdir()
    (t / "-d" / "main.tf").write_text(bucket.replace('"b"', '"c"'))
    run = scan(t, only(default_config(SCANNER_NAMES), "checkov"))
    ck = _result(run, "checkov")
    assert ck.status is Status.OK, ck.errors  # type: ignore[attr-defined]
    paths = {f.location.path for f in ck.findings if f.rule_id == "CKV_AWS_20"}  # type: ignore[attr-defined]
    assert paths == {"--framework=x.tf", "-d/main.tf"}


# --- 2. Two kinds of configuration ------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        'vulnerability-service = "osv"',
        'osv-url = "https://attacker.invalid/v1"',
        'tools = "path"',
        'vulndb = "/tmp/their.sqlite"',
        "vulndb-max-days = 100000",
        'ledger = "/tmp/anywhere.sqlite"',
        "fail-on-incomplete = false",
        "waiver-max-days = 100000",
    ],
)
def test_operator_only_keys_are_refused_from_the_repository(tmp_path: Path, line: str) -> None:
    (tmp_path / "compliance-pipeline.toml").write_text(line + "\n")
    key = line.split(" =")[0]
    with pytest.raises(config.ConfigError, match=f"tool.compliance-pipeline.{key} is operator-only"):
        config.load(tmp_path, SCANNER_NAMES)
    # The same key from the operator's own file is accepted.
    op = tmp_path / "op" / "operator.toml"
    op.parent.mkdir()
    op.write_text(line + "\n")
    (tmp_path / "compliance-pipeline.toml").unlink()
    assert config.load(tmp_path, SCANNER_NAMES, op).origins[key] == "operator: operator.toml"


def test_repository_refusal_through_the_cli_names_the_key(tmp_path: Path) -> None:
    t = tmp_path / "t"
    t.mkdir()
    ledger = tmp_path / "elsewhere" / "x.sqlite"
    (t / "pyproject.toml").write_text(f'[tool.compliance-pipeline]\nledger = "{ledger}"\n')
    done = _cli("scan", str(t), "-o", str(tmp_path / "ev"), cwd=tmp_path)
    assert done.returncode == 3
    assert "tool.compliance-pipeline.ledger is operator-only" in done.stderr
    assert not ledger.parent.exists(), "nothing was written where the repository pointed"


@pytest.mark.parametrize("key", ["output", "waivers", "baseline"])
def test_repository_paths_stay_inside_the_repository(tmp_path: Path, key: str) -> None:
    t = tmp_path / "t"
    t.mkdir()
    (t / "compliance-pipeline.toml").write_text(f'{key} = "../victim"\n')
    with pytest.raises(config.ConfigError, match=f"{key} = '../victim' points outside"):
        config.load(t, SCANNER_NAMES)


def test_an_existing_folder_that_is_not_a_bundle_is_never_replaced(tmp_path: Path) -> None:
    t = tmp_path / "t"
    t.mkdir()
    (t / "a.md").write_text("# a\n")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    done = _cli("scan", str(t), "-o", str(victim), "--no-progress", cwd=tmp_path)
    assert done.returncode == 3 and "is not an evidence bundle" in done.stderr
    assert (victim / "precious.txt").read_text() == "keep me"
    # Inside the repository, a repository-set output is refused the same way.
    (t / "docs").mkdir()
    (t / "docs" / "index.md").write_text("# docs\n")
    (t / "compliance-pipeline.toml").write_text('output = "docs"\n')
    done = _cli("scan", str(t), "--no-progress", cwd=tmp_path)
    assert done.returncode == 3 and "output (repository: compliance-pipeline.toml)" in done.stderr
    assert (t / "docs" / "index.md").exists()


def test_repository_narrowing_is_evidence(tmp_path: Path) -> None:
    t = tmp_path / "t"
    t.mkdir()
    (t / "app.py").write_text("import pickle\npickle.loads(b'')\n")
    (t / "settings.env").write_text(f"AWS_ACCESS_KEY_ID={AWS_KEY}\n")
    (t / "compliance-pipeline.toml").write_text(
        'threshold = "critical"\nexclude = ["*.env"]\n[scanners.checkov]\nenabled = false\n'
    )
    out = tmp_path / "ev"
    done = _cli("scan", str(t), "-o", str(out), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr  # the repository's own threshold: nothing critical
    doc = json.loads((out / "findings.json").read_text())
    settings = {s["key"]: s for s in doc["settings"]}
    assert settings["threshold"]["value"] == "critical" and settings["threshold"]["narrows"]
    assert (
        settings["exclude"]["narrows"]
        and settings["exclude"]["source"] == "repository: compliance-pipeline.toml"
    )
    assert settings["scanners.checkov.enabled"]["narrows"]
    assert doc["inventory"]["excluded"] == 1
    assert {
        "path": "settings.env",
        "reason": "excluded by repository: compliance-pipeline.toml (pattern '*.env')",
        "category": "excluded",
        "files": 1,
        "not_assessed": False,
    } in (doc["inventory"]["skipped"])
    assert "Set by the scanned repository" in (out / "report.html").read_text()
    summary = (out / "summary.md").read_text()
    assert "`threshold` = `critical`" in summary and "narrows the assessment" in summary


def test_policy_floors_refuse_a_weakened_run(tmp_path: Path) -> None:
    t = tmp_path / "t"
    t.mkdir()
    (t / "app.py").write_text("x = 1\n")
    (t / "compliance-pipeline.toml").write_text(
        'threshold = "critical"\n[scanners.bandit]\nenabled = false\n[scanners.checkov]\nenabled = false\n'
    )
    done = _cli("scan", str(t), "-o", str(tmp_path / "ev"), "--policy", str(ACTION_POLICY), cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "scanner bandit is required by the policy" in done.stderr
    assert "scanner checkov is required by the policy" in done.stderr  # every violation, not the first
    assert "above the policy's max-threshold high" in done.stderr
    assert not (tmp_path / "ev").exists()


def test_policy_never_exclude_and_ignored_repository_config(tmp_path: Path) -> None:
    t = tmp_path / "t"
    t.mkdir()
    (t / "app.py").write_text("import pickle\npickle.loads(b'')\n")
    (t / "compliance-pipeline.toml").write_text('exclude = ["*"]\n')
    policy = tmp_path / "policy.toml"
    policy.write_text('never-exclude = ["*.py"]\n')
    done = _cli(
        "scan", str(t), "-o", str(tmp_path / "ev"), "--only", "bandit", "--policy", str(policy), cwd=tmp_path
    )
    assert done.returncode == 3 and "may never be excluded" in done.stderr and "app.py" in done.stderr
    policy.write_text("repository-config = false\ninline-suppressions = false\n")
    (t / "app.py").write_text("import pickle\npickle.loads(b'')  # nosec\n")
    args = ("scan", str(t), "-o", str(tmp_path / "ev"), "--only", "bandit", "--policy", str(policy))
    done = _cli(*args, "--threshold", "medium", cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # the nosec does not count, nothing is excluded
    doc = json.loads((tmp_path / "ev" / "findings.json").read_text())
    assert {"key": "(all)", "value": "ignored by the operator policy"}.items() <= next(
        s for s in doc["settings"] if s["key"] == "(all)"
    ).items()
    assert any(f["rule_id"] == "B301" and f["status"] == "active" for f in doc["findings"])


def test_every_scanner_disabled_by_the_repository_is_not_a_pass(tmp_path: Path) -> None:
    t = tmp_path / "t"
    t.mkdir()
    (t / "app.py").write_text("import pickle\npickle.loads(b'')\n")
    (t / "compliance-pipeline.toml").write_text(
        "".join(f"[scanners.{n}]\nenabled = false\n" for n in SCANNER_NAMES)
    )
    out = tmp_path / "ev"
    done = _cli("scan", str(t), "-o", str(out), "--no-progress", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    doc = json.loads((out / "findings.json").read_text())
    assert doc["verdict"] == "incomplete"
    assert all(s["narrows"] for s in doc["settings"] if s["key"].endswith(".enabled"))


# --- 3. Tool-native configuration in the target changes nothing ------------------------------------


def test_native_tool_configuration_in_the_target_is_ignored(tmp_path: Path) -> None:
    t = tmp_path / "t"
    t.mkdir()
    (t / "main.tf").write_text(
        'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n  acl = "public-read-write"\n}\n'
    )
    (t / ".checkov.yaml").write_text("check:\n  - CKV_NOPE_1\nskip-check:\n  - CKV_AWS_20\n")
    (t / ".checkov.yml").write_text("soft-fail: true\nframework:\n  - dockerfile\n")
    (t / "app.py").write_text("import pickle\npickle.loads(b'')\n")
    (t / ".bandit").write_text("[bandit]\nskips: B301,B403\nexclude: ./app.py\n")
    (t / "setup.cfg").write_text("[bandit]\nskips = B301,B403\n")
    (t / "pyproject.toml").write_text('[tool.bandit]\nskips = ["B301", "B403"]\nexclude_dirs = ["."]\n')
    (t / "settings.env").write_text(f"AWS_ACCESS_KEY_ID={AWS_KEY}\n")
    (t / ".secrets.baseline").write_text(
        json.dumps(
            {
                "version": "1.5.0",
                "plugins_used": [],
                "filters_used": [
                    {"path": "detect_secrets.filters.regex.should_exclude_file", "pattern": [".*"]}
                ],
                "results": {},
            }
        )
    )
    cfg = only(default_config(SCANNER_NAMES), "detect-secrets", "bandit", "checkov")
    run = scan(t, cfg)
    rules = {(r.scanner, f.rule_id) for r in run.report.results for f in r.findings}
    assert ("checkov", "CKV_AWS_20") in rules
    assert ("bandit", "B301") in rules
    assert ("detect-secrets", "AWS Access Key") in rules


# --- 4. git runs safely on the target --------------------------------------------------------


def _git(target: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x.invalid"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x.invalid"}
    subprocess.run(["git", *args], cwd=target, check=True, env=env, capture_output=True)


def test_git_config_of_the_target_runs_nothing(tmp_path: Path) -> None:
    t = tmp_path / "t"
    t.mkdir()
    (t / "app.py").write_text("x = 1\n")
    (t / ".gitattributes").write_text("*.py filter=evil diff=evil\n")
    _git(t, "init", "-q", "-b", "main")
    _git(t, "add", "-A")
    _git(t, "commit", "-qm", "init")
    markers = {k: tmp_path / f"ran-{k}" for k in ("fsmonitor", "filter", "hook", "pager", "textconv")}
    for key, value in (
        ("core.fsmonitor", f"touch {markers['fsmonitor']}; false"),
        ("filter.evil.clean", f"touch {markers['filter']}; cat"),
        ("filter.evil.process", f"touch {markers['filter']}"),
        ("core.pager", f"touch {markers['pager']}; cat"),
        ("diff.evil.textconv", f"touch {markers['textconv']}; cat"),
        ("core.hooksPath", "hooks"),
    ):
        _git(t, "config", key, value)
    hooks = t / "hooks"
    hooks.mkdir()
    for hook in ("post-index-change", "post-checkout", "pre-commit"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch {markers['hook']}\n")
        (hooks / hook).chmod(0o755)
    os.utime(t / "app.py", (time.time() + 5, time.time() + 5))  # stat-dirty: git status re-reads it
    run = scan(t, only(default_config(SCANNER_NAMES), "bandit"))
    assert [k for k, m in markers.items() if m.exists()] == []
    assert run.report.git.commit is not None and run.report.git.dirty is False
    assert run.report.files == 5  # app.py, .gitattributes and the three untracked hooks


# --- 5. Tools never see the caller's secrets ---------------------------------------------------


def test_version_probe_and_tools_get_the_allow_listed_environment(tmp_path: Path) -> None:
    t = tmp_path / "t"
    t.mkdir()
    (t / "app.py").write_text("x = 1\n")
    (t / "json.py").write_text(f"open({str(tmp_path / 'hijacked')!r}, 'w')\n")  # on sys.path if cwd is
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    dump = tmp_path / "env-dumps"
    dump.mkdir()
    python = bin_dir / "python-wrapper"
    python.write_text(f'#!/bin/sh\nenv > "{dump}/$$.env"\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    captured = ROOT / "tests" / "data" / "bandit" / "bandit-1.9.4-findings.json"
    bandit = bin_dir / "bandit"
    bandit.write_text(f"#!{python}\nimport sys\nsys.stdout.write(open({str(captured)!r}).read())\n")
    bandit.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "AWS_SECRET_ACCESS_KEY": "caller-secret-aws",  # pragma: allowlist secret
        "GITHUB_TOKEN": "caller-secret-gh",
        "ACTIONS_RUNTIME_TOKEN": "caller-secret-actions",
    }
    # The console script (as the hook runs it, from inside the target): `python -m` would
    # itself put the working directory on sys.path.
    console = Path(sys.executable).parent / "compliance-pipeline"
    done = subprocess.run(
        [str(console), "scan", str(t), "--only", "bandit", "--tools", "path", "-o", str(tmp_path / "ev")],
        capture_output=True,
        text=True,
        cwd=t,
        env=env,
        timeout=300,
    )
    # The fake prints another project's captured output: what matters here is what it saw.
    assert (tmp_path / "ev" / "findings.json").is_file(), done.stdout + done.stderr
    dumps = [p.read_text() for p in dump.iterdir()]
    assert len(dumps) >= 2, "the version probe and the scan both ran through the wrapper"
    for text in dumps:
        assert "caller-secret" not in text
    assert not (tmp_path / "hijacked").exists(), "the probe imported json.py from the target"


# --- 6. Cancel cleanly ----------------------------------------------------------------------


def test_sigterm_kills_the_tools_removes_scratch_and_writes_incomplete_evidence(tmp_path: Path) -> None:
    t = tmp_path / "t"
    t.mkdir()
    # A file over 48 KiB is staged (cut into chunks) in the scratch folder: with a key.
    filler = "".join(f"line {i} of an ordinary log\n" for i in range(4000))
    (t / "big.txt").write_text(filler + f"aws_secret = '{AWS_KEY}'\n" + filler)
    for i in range(60):  # enough Terraform to keep checkov busy for a few seconds
        (t / f"m{i}.tf").write_text(
            f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "b{i}"\n  acl = "public-read-write"\n}}\n'
        )
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "ev"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "scan", str(t), "-o", str(out), "--no-progress"],
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _checkov_running(t):
        time.sleep(0.2)
    assert _checkov_running(t), "checkov started"
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert "interrupted by SIGTERM" in err
    deadline = time.monotonic() + 10
    while _checkov_running(t) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _checkov_running(t), "checkov was killed with the run"
    left = [p for p in scratch.rglob("*") if p.name.startswith("compliance-pipeline-")]
    assert left == [], "the scratch folder was removed"
    assert not any(AWS_KEY in p.read_text(errors="replace") for p in scratch.rglob("*") if p.is_file())
    doc = json.loads((out / "findings.json").read_text())
    assert doc["verdict"] == "incomplete" and doc["interrupted"] == "interrupted by SIGTERM"
    checkov = next(s for s in doc["scanners"] if s["name"] == "checkov")
    assert checkov["status"] == "failed" and "interrupted by SIGTERM" in checkov["errors"][0]
    for p in out.rglob("*"):
        if p.is_file():
            assert AWS_KEY not in p.read_text(errors="replace")


def _checkov_running(target: Path) -> bool:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"checkov" in part for part in cmdline[:2]) and f"--directory={target}".encode() in cmdline:
            return True
    return False


def test_hook_file_names_are_never_its_options(tmp_path: Path) -> None:
    """pre-commit appends staged file names to the hook's command line."""
    t = tmp_path / "t"
    t.mkdir()
    names = ["--only", "checkov", "--output=ev", "--threshold=critical", "settings.env"]
    for name in names:
        (t / name).write_text("x\n")
    (t / "settings.env").write_text(f"AWS_ACCESS_KEY_ID={AWS_KEY}\n")
    console = Path(sys.executable).parent / "compliance-pipeline"
    done = subprocess.run([str(console), "hook", *names], capture_output=True, text=True, cwd=t, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "settings.env:1  detect-secrets AWS Access Key" in done.stdout  # not `--only checkov`
    assert not (t / "ev").exists()


@pytest.mark.parametrize("name", ["compliance-waivers.yaml", "compliance-attestations.yaml"])
def test_a_list_file_linking_outside_the_target_is_not_read(tmp_path: Path, name: str) -> None:
    """A repository's waivers or attestations file that is a symbolic link to a file
    outside it is refused: YAML's error message would otherwise quote that file."""
    outside = tmp_path / "operator-secrets.txt"
    outside.write_text("db_password: [s3cr3t-OUTSIDE-value\n")  # invalid YAML, quoted by the parser
    target = tmp_path / "repo"
    target.mkdir()
    (target / "app.py").write_text("x = 1\n")
    (target / name).symlink_to(outside)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "scan",
            str(target),
            "-o",
            str(tmp_path / "ev"),
            "--skip",
            "pip-audit",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 3 and "symbolic link" in done.stderr, done.stderr
    assert "s3cr3t-OUTSIDE" not in done.stdout + done.stderr


@pytest.mark.parametrize("name", ["compliance-waivers.yaml", "compliance-attestations.yaml"])
def test_a_list_file_that_is_not_utf8_is_a_configuration_error(tmp_path: Path, name: str) -> None:
    target = tmp_path / "repo"
    target.mkdir()
    (target / "app.py").write_text("x = 1\n")
    (target / name).write_bytes(b"waivers:\n  - reason: caf\xe9\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "scan",
            str(target),
            "-o",
            str(tmp_path / "ev"),
            "--skip",
            "pip-audit",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 3 and f"{name}: cannot be read as UTF-8 text" in done.stderr, done.stderr
