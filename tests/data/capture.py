"""Re-capture the real tool outputs in tests/data/ from the pinned scanners.

Run after changing a lock file:  .venv/bin/python tests/data/capture.py
Absolute paths of this machine are replaced with /scan/target so that no
machine path enters the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import datetime as dt  # noqa: E402

from pipeline import runner, toolenv  # noqa: E402
from pipeline.vulndb import server  # noqa: E402
from pipeline.vulndb.store import VulnDb, import_sources  # noqa: E402
from pipeline.scanners import registry  # noqa: E402

PLACEHOLDER = "/scan/target"


def exe(name: str) -> str:
    s = registry()[name]
    setup = toolenv.ensure(s.distribution, s.executable, runner.run, os.environ)
    assert setup.executable, setup.error
    return str(setup.executable)


def capture(name: str, argv: list[str], cwd: Path, out: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    folder = HERE / name
    folder.mkdir(exist_ok=True)
    real = str(cwd.resolve())
    text = done.stdout.replace(real + "/", PLACEHOLDER + "/").replace(real, PLACEHOLDER)
    (folder / out).write_text(text)
    if done.stderr.strip():
        err = done.stderr.replace(real, PLACEHOLDER)
        (folder / out.replace(".json", ".stderr.txt")).write_text(err)
    print(f"{name}/{out}: exit {done.returncode}, {len(text)} bytes")


def main() -> None:
    work = Path(tempfile.mkdtemp())
    demo = work / "demo"
    shutil.copytree(ROOT / "examples" / "demo-repo", demo)
    ds, bandit, pa, ck = exe("detect-secrets"), exe("bandit"), exe("pip-audit"), exe("checkov")
    v = {"ds": "1.5.0", "bandit": "1.9.4", "pa": "2.10.1", "ck": "3.3.30"}
    capture("detect-secrets", [ds, "scan", "--all-files", "app/settings.py", "app/views.py"], demo,
            f"detect-secrets-{v['ds']}-findings.json")
    capture("detect-secrets", [ds, "scan", "--all-files", "README.md"], demo,
            f"detect-secrets-{v['ds']}-clean.json")
    capture("detect-secrets", [ds, "scan", "--no-such-flag"], demo,
            f"detect-secrets-{v['ds']}-error.json")

    capture("bandit", [bandit, "-f", "json", "-q", "app/settings.py", "app/views.py"], demo,
            f"bandit-{v['bandit']}-findings.json")
    capture("bandit", [bandit, "-f", "json", "-q", "app/__init__.py"], demo,
            f"bandit-{v['bandit']}-clean.json")
    broken = work / "broken"
    broken.mkdir()
    (broken / "broken.py").write_text("def f(:\n    pass\n")
    (broken / "ok.py").write_text("import os\n")
    capture("bandit", [bandit, "-f", "json", "-q", "broken.py", "ok.py"], broken,
            f"bandit-{v['bandit']}-errors.json")

    reqs = work / "reqs"
    reqs.mkdir()
    (reqs / "vulnerable.txt").write_text("pyyaml==5.3.1\njinja2==2.10.1\nurllib3==1.26.5\n")
    (reqs / "clean.txt").write_text("rich==13.7.1\n")
    common = ["--no-deps", "--disable-pip", "-f", "json", "--progress-spinner", "off"]
    db_path = work / "osv.sqlite"
    import_sources([HERE / "osv"], db_path, "tests/data/osv", dt.datetime.now(dt.timezone.utc))
    with server.serve(VulnDb(db_path)) as api:
        osv = ["-s", "osv", "--osv-url", server.url(api)]
        capture("pip-audit", [pa, "-r", "vulnerable.txt", *common, *osv], reqs,
                f"pip-audit-{v['pa']}-vulns.json")
        capture("pip-audit", [pa, "-r", "clean.txt", *common, *osv], reqs,
                f"pip-audit-{v['pa']}-clean.json")
    # No reachable PyPI JSON API here: every dependency comes back skipped.
    capture("pip-audit", [pa, "-r", "vulnerable.txt", *common], reqs,
            f"pip-audit-{v['pa']}-skipped.json")
    capture("pip-audit", [pa, "-r", "missing.txt", *common], reqs,
            f"pip-audit-{v['pa']}-error.json")

    ck_env = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}
    ck_args = ["--skip-framework", "secrets", "--skip-download", "-o", "json"]
    capture("checkov", [ck, "-d", ".", "--framework", "dockerfile", "kubernetes", "terraform",
                        *ck_args], demo, f"checkov-{v['ck']}-multi.json", ck_env)
    capture("checkov", [ck, "-d", ".", "--framework", "terraform", *ck_args], demo / "infra",
            f"checkov-{v['ck']}-single.json", ck_env)
    empty = work / "empty"
    empty.mkdir()
    capture("checkov", [ck, "-d", ".", "--framework", "terraform", *ck_args], empty,
            f"checkov-{v['ck']}-summary.json", ck_env)
    bad = work / "bad"
    bad.mkdir()
    (bad / "bad.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n')
    (bad / "good.tf").write_text('resource "aws_s3_bucket" "y" {\n  bucket = "y"\n}\n')
    capture("checkov", [ck, "-d", ".", "--framework", "terraform", *ck_args], bad,
            f"checkov-{v['ck']}-parsing-error.json", ck_env)
    capture("checkov", [ck, "-d", ".", "--framework", "no_such_framework", "-o", "json"], empty,
            f"checkov-{v['ck']}-error.json", ck_env)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
