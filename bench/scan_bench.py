"""Benchmark: the pipeline against the four scanners run by hand, one after another.

Generates a mixed repository (a Python web app, Terraform, Kubernetes,
Markdown docs with one pathological table, JSON/YAML config, pinned
requirements; several thousand files), then prints:

- each tool alone, run by hand the way its documentation suggests;
- the sum of the four (the sequential hand-run);
- `compliance-pipeline scan`, cold (a new process; scanner environments built);
- peak memory (resident set of the whole process tree, sampled every 50 ms).

Targets (issue 2): pipeline ≤ 0.5 × sequential; peak memory ≤ 1 GiB.
Usage: .venv/bin/python bench/scan_bench.py [--files N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import runner, toolenv  # noqa: E402
from pipeline.scanners import registry  # noqa: E402
from pipeline.vulndb import server as osv_server  # noqa: E402
from pipeline.vulndb.store import VulnDb, import_sources  # noqa: E402

WORDS = [
    "account",
    "audit",
    "backup",
    "bucket",
    "cache",
    "client",
    "config",
    "cursor",
    "data",
    "event",
    "export",
    "handler",
    "index",
    "job",
    "key",
    "log",
    "model",
    "order",
    "queue",
    "record",
    "report",
    "request",
    "session",
    "store",
    "task",
    "token",
    "user",
    "value",
]


def _rand_name(rnd: random.Random) -> str:
    return "_".join(rnd.choice(WORDS) for _ in range(2))


def _python_module(rnd: random.Random, i: int) -> str:
    lines = [
        f'"""Module {i} of the benchmark web app."""',
        "",
        "import hashlib",
        "import json",
        "import subprocess",
        "",
    ]
    for f in range(12):
        name = f"{_rand_name(rnd)}_{f}"
        lines += [
            f"def {name}(request, payload):",
            f'    """Handle {name}."""',
            "    data = json.loads(payload)",
        ]
        kind = rnd.random()
        if kind < 0.05:
            lines.append("    subprocess.call('convert ' + data['file'], shell=True)")
        elif kind < 0.10:
            lines.append("    digest = hashlib.md5(payload.encode()).hexdigest()")
        else:
            lines.append("    digest = hashlib.sha256(payload.encode()).hexdigest()")
        lines += [
            "    result = {'id': data.get('id'), 'digest': digest if 'digest' in dir() else None}",
            "    return result",
            "",
        ]
    return "\n".join(lines) + "\n"


def _terraform(rnd: random.Random, i: int) -> str:
    return f"""resource "aws_s3_bucket" "b{i}" {{
  bucket = "bench-{i}-{_rand_name(rnd).replace("_", "-")}"
}}

resource "aws_db_instance" "db{i}" {{
  identifier        = "db-{i}"
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  allocated_storage = 20
  storage_encrypted = {"true" if rnd.random() < 0.5 else "false"}
  manage_master_user_password = true
}}

resource "aws_security_group" "sg{i}" {{
  name = "sg-{i}"
  ingress {{
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}
"""


def _k8s(i: int) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{i}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: svc-{i}
  template:
    metadata:
      labels:
        app: svc-{i}
    spec:
      containers:
        - name: app
          image: registry.example.invalid/svc-{i}:1.{i}
          ports:
            - containerPort: 8080
"""


def _markdown(rnd: random.Random, i: int) -> str:
    paras = []
    for _ in range(8):
        paras.append(" ".join(rnd.choice(WORDS) for _ in range(40)))
    return f"# Page {i}\n\n" + "\n\n".join(paras) + "\n"


def _pathological_table(rnd: random.Random) -> str:
    """A 156 KB Markdown table; four padded rows make detect-secrets' keyword regex cubic."""
    rows = ["| setting | description | default |", "|---|---|---|"]
    for n in range(4):
        rows.append(f'| "password"{" " * 1000}| where the password_{n} comes from | vault |')
    while sum(len(r) + 1 for r in rows) < 156_000:
        rows.append(
            f"| {_rand_name(rnd)} | "
            + " ".join(rnd.choice(WORDS) for _ in range(25))
            + f" | {rnd.randint(0, 999)} |"
        )
    return "\n".join(rows) + "\n"


def generate(root: Path, files: int) -> int:
    rnd = random.Random(42)
    counts = {
        "py": files * 40 // 100,
        "tf": files * 7 // 100,
        "k8s": files * 3 // 100,
        "md": files * 35 // 100,
    }
    counts["cfg"] = files - sum(counts.values()) - 3
    for i in range(counts["py"]):
        p = root / "webapp" / f"pkg{i % 30}" / f"mod_{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(_python_module(rnd, i))
    for i in range(counts["tf"]):
        p = root / "infra" / f"module{i % 20}" / f"main_{i}.tf"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(_terraform(rnd, i))
    for i in range(counts["k8s"]):
        p = root / "k8s" / f"svc_{i}.yaml"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(_k8s(i))
    for i in range(counts["md"]):
        p = root / "docs" / f"section{i % 15}" / f"page_{i}.md"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(_markdown(rnd, i))
    for i in range(counts["cfg"]):
        p = root / "config" / f"c{i % 10}" / f"settings_{i}.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(
            json.dumps(
                {
                    "name": _rand_name(rnd),
                    "retries": i % 7,
                    "endpoint": f"https://svc.example.invalid/{i}",
                }
            )
            + "\n"
        )
    (root / "docs" / "settings-reference.md").write_text(_pathological_table(rnd))
    key = "AKIA" + "".join(rnd.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    (root / "webapp" / "settings.py").write_text(f'AWS_ACCESS_KEY_ID = "{key}"\n')
    (root / "requirements.txt").write_text(
        "\n".join(
            [
                "flask==2.2.2",
                "jinja2==3.1.2",
                "werkzeug==2.2.2",
                "pyyaml==5.3.1",
                "requests==2.28.1",
                "urllib3==1.26.12",
                "sqlalchemy==1.4.41",
                "celery==5.2.7",
                "redis==4.3.4",
                "gunicorn==20.1.0",
            ]
        )
        + "\n"
    )
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@example.invalid",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@example.invalid",
    }
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "bench"]):
        subprocess.run(argv, cwd=root, check=True, env=env)
    return sum(1 for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)


def _tree_rss(pid: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/statm") as fh:
                rss[int(entry)] = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total


def measure(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int, int]:
    """Wall seconds, peak RSS of the process tree, exit code."""
    start = time.monotonic()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env or os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    rc = proc.wait()
    done.set()
    t.join()
    return time.monotonic() - start, peak, rc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--keep", type=Path, help="generate the repository here and keep it")
    args = ap.parse_args()
    exe = {}
    for name, s in registry().items():
        setup = toolenv.ensure(s.distribution, s.executable, runner.run, os.environ)
        if setup.executable is None:
            sys.exit(f"{name}: {setup.error}")
        exe[name] = str(setup.executable)
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-"))
    repo = base / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    n = generate(repo, args.files)
    print(f"repository: {n} files (Python web app, Terraform, Kubernetes, Markdown, JSON, requirements.txt)")
    offline = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}
    # Both sides check dependencies against the same advisories: the PyPA records of
    # tests/data/osv, served by the pipeline's local OSV API (by hand: started here).
    db = base / "osv.sqlite"
    import_sources([ROOT / "tests" / "data" / "osv"], db, "tests/data/osv", dt.datetime.now(dt.UTC))
    config = base / "config.toml"
    config.write_text(f'vulndb = "{db}"\nvulndb-warn-days = 36500\nvulndb-max-days = 36500\n')
    api_cm = osv_server.serve(VulnDb(db))
    api = api_cm.__enter__()
    by_hand = {
        "detect-secrets": [exe["detect-secrets"], "scan", "."],
        "bandit": [exe["bandit"], "-r", ".", "-f", "json", "-q"],
        "pip-audit": [
            exe["pip-audit"],
            "-r",
            "requirements.txt",
            "--no-deps",
            "--disable-pip",
            "-f",
            "json",
            "--vulnerability-service",
            "osv",
            "--osv-url",
            osv_server.url(api),
        ],
        "checkov": [exe["checkov"], "-d", ".", "--skip-download", "-o", "json"],
    }
    rows = []
    for name, argv in by_hand.items():
        secs, peak, rc = measure(argv, repo, offline)
        rows.append((name, secs, peak, rc))
        print(f"  {name:<16} alone, by hand: {secs:7.2f} s  peak {peak / 2**20:7.0f} MiB  exit {rc}")
    api_cm.__exit__(None, None, None)
    sequential = sum(r[1] for r in rows)
    print(f"  {'sequential':<16} (sum of the four): {sequential:7.2f} s")
    out = base / "evidence"
    cmd = [
        sys.executable,
        "-m",
        "pipeline",
        "scan",
        str(repo),
        "--output",
        str(out),
        "--config",
        str(config),
        "--no-progress",
    ]
    secs, peak, rc = measure(cmd, ROOT)
    ratio = secs / sequential
    print(f"  {'pipeline':<16} cold:            {secs:7.2f} s  peak {peak / 2**20:7.0f} MiB  exit {rc}")
    print(f"ratio pipeline / sequential: {ratio:.2f} (target ≤ 0.50): {'OK' if ratio <= 0.5 else 'MISSED'}")
    print(f"peak memory: {peak / 2**20:.0f} MiB (target ≤ 1024 MiB): {'OK' if peak <= 2**30 else 'MISSED'}")
    # The pathological file alone: the tool by hand, then the pipeline's detect-secrets.
    lone = base / "pathological"
    lone.mkdir(exist_ok=True)
    shutil.copy(repo / "docs" / "settings-reference.md", lone / "settings-reference.md")
    secs_hand, _, _ = measure([*by_hand["detect-secrets"][:2], "--all-files", "settings-reference.md"], lone)
    cmd = [
        sys.executable,
        "-m",
        "pipeline",
        "scan",
        str(lone),
        "--only",
        "detect-secrets",
        "--output",
        str(base / "lone-evidence"),
        "--no-progress",
    ]
    secs_pipe, _, _ = measure(cmd, ROOT)
    print(
        f"156 KB Markdown table alone: detect-secrets by hand {secs_hand:.2f} s, "
        f"pipeline (detect-secrets only, whole run) {secs_pipe:.2f} s"
    )
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
