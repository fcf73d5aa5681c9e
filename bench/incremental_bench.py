"""Benchmark: incremental scans, figures for issue 15, printed in one run.

Generates scan_bench's mixed repository (a git repository) plus what issue 15
asks for beside it: Terraform for three clouds (aws, azurerm, google), a
~200 KB JSON file and a 5,000-line hashed requirements lock. Then prints, with
no pass/fail thresholds:

- the four scanners by hand, one after another (scan_bench's commands; the
  lock is audited by a second pip-audit, which cannot mix hashed and unhashed
  requirements in one run): total seconds;
- `compliance-pipeline scan` cold (empty result cache), then nothing changed,
  one Python file changed, one Terraform file changed, each on the same cache,
  and `--changed-since HEAD~1` with one changed Python file when the CLI has it;
- per run: wall seconds, peak memory of the process tree, the tool processes
  started per scanner and the items each scanner reused from the cache (n/a
  when findings.json does not say).

Every pipeline run gets `XDG_CACHE_HOME` in a temporary folder whose
`compliance-pipeline/envs` and `tools` link to the real, built ones: only the
result cache starts empty. A JSON line with every number ends the output.
Usage: .venv/bin/python bench/incremental_bench.py [--files N] [--keep DIR]
       [--skip-by-hand --by-hand-seconds X]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import scan_bench  # noqa: E402

from pipeline import runner, toolenv  # noqa: E402
from pipeline.scanners import registry  # noqa: E402
from pipeline.vulndb import server as osv_server  # noqa: E402
from pipeline.vulndb.store import VulnDb, import_sources  # noqa: E402

ROOT = scan_bench.ROOT
SCANNERS = tuple(registry())
CLOUD_FILES = 40
"""Terraform files per added cloud (azurerm, google); scan_bench's own are aws."""
LOCK_PACKAGES = 1250
"""Four lines each (pin, two hashes, `# via`): a 5,000-line lock."""
BIG_JSON_BYTES = 200_000
EXTRA_FILES = 2 * CLOUD_FILES + 2
GIT_ENV = {
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@example.invalid",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@example.invalid",
}
CACHE_OVERRIDES = ("COMPLIANCE_PIPELINE_CACHE", "COMPLIANCE_PIPELINE_RESULTS_CACHE")
"""Variables that would move the caches away from XDG_CACHE_HOME: not passed to the runs."""
REUSE_KEYS = ("cache", "reused", "cached", "cache_hits")
MIB = 2**20
ABBREVIATIONS = {"detect-secrets": "ds", "bandit": "bd", "pip-audit": "pa", "checkov": "ck"}


@dataclass(frozen=True)
class Run:
    label: str
    seconds: float
    peak_mib: float
    exit_code: int
    processes: dict[str, int]
    reused: dict[str, str]
    status: dict[str, str]
    load_before: float
    """The 1-minute load average before the run: above the core count, the figures are noisy."""
    extra_args: list[str] = field(default_factory=list)


# --- the repository ---------------------------------------------------------------------------------


def _azure_tf(i: int) -> str:
    return f"""resource "azurerm_storage_account" "sa{i}" {{
  name                     = "benchsa{i}"
  resource_group_name      = "rg-bench"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "LRS"
  min_tls_version          = "TLS1_0"
}}

resource "azurerm_network_security_rule" "ssh{i}" {{
  name                        = "ssh-{i}"
  priority                    = 100
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "22"
  source_address_prefix       = "*"
  destination_address_prefix  = "*"
  resource_group_name         = "rg-bench"
  network_security_group_name = "nsg-bench"
}}
"""


def _google_tf(i: int) -> str:
    return f"""resource "google_storage_bucket" "b{i}" {{
  name     = "bench-gcs-{i}"
  location = "EU"
}}

resource "google_compute_firewall" "ssh{i}" {{
  name    = "ssh-{i}"
  network = "default"
  allow {{
    protocol = "tcp"
    ports    = ["22"]
  }}
  source_ranges = ["0.0.0.0/0"]
}}
"""


def _catalogue_item(rnd: random.Random, n: int) -> dict[str, Any]:
    return {
        "id": n,
        "name": scan_bench._rand_name(rnd),
        "tags": [scan_bench._rand_name(rnd) for _ in range(6)],
    }


def _big_json(rnd: random.Random) -> str:
    items: list[dict[str, Any]] = []
    size = 0
    while size < BIG_JSON_BYTES:
        items.append(_catalogue_item(rnd, len(items)))
        text = json.dumps(items[-1], indent=1)
        size += len(text) + 2 * text.count("\n") + 4  # nested two levels deeper in the file
    return json.dumps({"catalogue": items}, indent=1) + "\n"


def _lock(n: int) -> str:
    """pip-compile style (--generate-hashes): four lines a package."""
    lines: list[str] = []
    for i in range(n):
        h1, h2 = (hashlib.sha256(f"{i}-{k}".encode()).hexdigest() for k in range(2))
        lines += [
            f"bench-lock-{i:04d}=={1 + i % 5}.{i % 10}.0 \\",
            f"    --hash=sha256:{h1} \\",
            f"    --hash=sha256:{h2}",
            "    # via -r requirements.in",
        ]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def add_extras(repo: Path) -> None:
    """What scan_bench's generator lacks: azurerm and google Terraform, a big JSON, a lock."""
    rnd = random.Random(15)
    for i in range(CLOUD_FILES):
        _write(repo / "infra" / "azure" / f"az_{i}.tf", _azure_tf(i))
        _write(repo / "infra" / "gcp" / f"gcp_{i}.tf", _google_tf(i))
    _write(repo / "config" / "catalogue.json", _big_json(rnd))
    _write(repo / "requirements-lock.txt", _lock(LOCK_PACKAGES))


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    )
    return done.stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def build_repo(repo: Path, files: int) -> int:
    """scan_bench's repository (its first commit), the extras as a second commit: file count."""
    scan_bench.generate(repo, max(files - EXTRA_FILES, 100))
    add_extras(repo)
    commit_all(repo, "issue 15 extras")
    return len(git(repo, "ls-files").splitlines())


def change(repo: Path, rel: str, text: str, message: str) -> None:
    with open(repo / rel, "a") as fh:
        fh.write(text)
    commit_all(repo, message)


# --- by hand ----------------------------------------------------------------------------------------


def executables() -> dict[str, str]:
    """The managed scanner executables (built if missing), as scan_bench finds them."""
    exe: dict[str, str] = {}
    for name, s in registry().items():
        setup = toolenv.ensure(s.distribution, s.executable, runner.run, os.environ)
        if setup.executable is None:
            sys.exit(f"{name}: {setup.error}")
        exe[name] = str(setup.executable)
    return exe


def _pip_audit(exe: str, requirements: str, osv_url: str, *flags: str) -> list[str]:
    return [
        exe,
        "-r",
        requirements,
        *flags,
        "--disable-pip",
        "-f",
        "json",
        "--vulnerability-service",
        "osv",
        "--osv-url",
        osv_url,
    ]


def by_hand_commands(exe: Mapping[str, str], osv_url: str) -> dict[str, list[str]]:
    """scan_bench's hand-run commands, plus a pip-audit of the hashed lock."""
    return {
        "detect-secrets": [exe["detect-secrets"], "scan", "."],
        "bandit": [exe["bandit"], "-r", ".", "-f", "json", "-q"],
        "pip-audit": _pip_audit(exe["pip-audit"], "requirements.txt", osv_url, "--no-deps"),
        "pip-audit (lock)": _pip_audit(
            exe["pip-audit"], "requirements-lock.txt", osv_url, "--require-hashes"
        ),
        "checkov": [exe["checkov"], "-d", ".", "--skip-download", "-o", "json"],
    }


def run_by_hand(repo: Path, db: Path) -> dict[str, float]:
    exe = executables()
    offline = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}
    seconds: dict[str, float] = {}
    with osv_server.serve(VulnDb(db)) as api:
        for name, argv in by_hand_commands(exe, osv_server.url(api)).items():
            secs, peak, rc = scan_bench.measure(argv, repo, offline)
            seconds[name] = secs
            print(f"  {name:<18} by hand: {secs:7.2f} s  peak {peak / MIB:6.0f} MiB  exit {rc}")
    return seconds


# --- the pipeline -----------------------------------------------------------------------------------


def cache_environment(xdg: Path) -> dict[str, str]:
    """XDG_CACHE_HOME moved to `xdg`, the scanner environments linked in from the real cache."""
    real = toolenv.cache_root(os.environ)
    moved = xdg / "compliance-pipeline"
    moved.mkdir(parents=True, exist_ok=True)
    for sub in ("envs", "tools"):
        if (real / sub).is_dir() and not (moved / sub).exists():
            (moved / sub).symlink_to(real / sub, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k not in CACHE_OVERRIDES}
    env["XDG_CACHE_HOME"] = str(xdg)
    assert toolenv.env_dir("bandit", env).resolve() == toolenv.env_dir("bandit", os.environ).resolve()
    return env


def scan_help() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "scan", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout


def _count(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return str(len(value))
    return None


def _reused(scanner: Mapping[str, Any]) -> str:
    """Items the scanner took from the result cache, if findings.json says (`cache: null`: 0)."""
    for key in REUSE_KEYS:
        if key not in scanner:
            continue
        value = scanner[key]
        if value is None:
            return "0"
        if isinstance(value, Mapping):
            inner = next((_count(value[k]) for k in ("reused", "hits", "items") if k in value), None)
            return inner or json.dumps(value, sort_keys=True)
        return _count(value) or json.dumps(value, sort_keys=True)
    return "n/a"


def read_findings(out: Path) -> list[dict[str, Any]]:
    path = out / "findings.json"
    if not path.is_file():
        return []
    scanners = json.loads(path.read_text()).get("scanners", [])
    return [s for s in scanners if isinstance(s, dict)]


def pipeline_run(label: str, repo: Path, out: Path, config: Path, env: dict[str, str], *extra: str) -> Run:
    cmd = [sys.executable, "-m", "pipeline", "scan", str(repo), "-o", str(out), "--config", str(config)]
    load = round(os.getloadavg()[0], 2)
    secs, peak, rc = scan_bench.measure([*cmd, "--no-progress", *extra], ROOT, env)
    scanners = {s.get("name", "?"): s for s in read_findings(out)}
    return Run(
        label=label,
        seconds=round(secs, 2),
        peak_mib=round(peak / MIB),
        exit_code=rc,
        processes={n: len(scanners.get(n, {}).get("invocations", [])) for n in SCANNERS},
        reused={n: _reused(scanners.get(n, {})) for n in SCANNERS},
        status={n: str(scanners.get(n, {}).get("status", "missing")) for n in SCANNERS},
        load_before=load,
        extra_args=list(extra),
    )


def cache_entries(xdg: Path) -> int:
    results = xdg / "compliance-pipeline" / "results"
    return sum(1 for p in results.rglob("*") if p.is_file()) if results.is_dir() else 0


# --- output -----------------------------------------------------------------------------------------


def _row(run: Run, ratio: str) -> str:
    procs = "/".join(str(run.processes[n]) for n in SCANNERS)
    reused = "/".join(run.reused[n] for n in SCANNERS)
    bad = [f"{n}={s}" for n, s in run.status.items() if s != "ok"]
    return (
        f"  {run.label:<22} {run.seconds:8.2f} {ratio:>16} {run.peak_mib:8.0f} {run.exit_code:5d} {run.load_before:5.1f}"
        f"  {procs:<24} {reused:<26} {', '.join(bad) or 'all ok'}"
    )


def print_table(runs: list[Run], ratios: dict[str, str]) -> None:
    short = "/".join(ABBREVIATIONS[n] for n in SCANNERS)
    head = f"  {'run':<22} {'seconds':>8} {'ratio':>16} {'peak MiB':>8} {'exit':>5} {'load':>5}"
    print(f"{head}  {'processes ' + short:<24} {'reused ' + short:<26} scanners")
    for run in runs:
        print(_row(run, ratios.get(run.label, "")))


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b > 0 else float("nan")


# --- main -------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it")
    ap.add_argument("--skip-by-hand", action="store_true", help="use --by-hand-seconds instead")
    ap.add_argument("--by-hand-seconds", type=float, help="a previous by-hand total (with --skip-by-hand)")
    args = ap.parse_args()
    if args.skip_by_hand and args.by_hand_seconds is None:
        ap.error("--skip-by-hand needs --by-hand-seconds X")
    return args


def prepare(base: Path, files: int) -> tuple[Path, int, Path, Path]:
    """The repository and its file count, the advisory database, the pipeline's configuration."""
    for sub in ("repo", "xdg-cache"):
        shutil.rmtree(base / sub, ignore_errors=True)  # symlinks inside are unlinked, not followed
    repo = base / "repo"
    repo.mkdir(parents=True)
    n = build_repo(repo, files)
    print(
        f"repository: {n} files in git (Python web app, Terraform aws/azurerm/google, Kubernetes, "
        f"Markdown with a long-row table, a {BIG_JSON_BYTES // 1000} KB JSON, a "
        f"{4 * LOCK_PACKAGES}-line requirements lock)"
    )
    db = base / "osv.sqlite"
    db.unlink(missing_ok=True)
    import_sources([ROOT / "tests" / "data" / "osv"], db, "tests/data/osv", dt.datetime.now(dt.UTC))
    config = base / "config.toml"
    config.write_text(f'vulndb = "{db}"\nvulndb-warn-days = 36500\nvulndb-max-days = 36500\n')
    return repo, n, db, config


def incremental_runs(base: Path, repo: Path, config: Path, env: dict[str, str]) -> list[Run]:
    def scan(label: str, *extra: str) -> Run:
        run = pipeline_run(label, repo, base / f"evidence-{label}", config, env, *extra)
        print(f"  … {label}: {run.seconds:.2f} s, exit {run.exit_code}", flush=True)
        return run

    runs = [scan("cold"), scan("unchanged")]
    change(repo, "webapp/pkg0/mod_0.py", "BENCH_CHANGE_PY = 1\n", "one Python file changed")
    runs.append(scan("python-changed"))
    tf = 'resource "aws_s3_bucket" "bench_change" {\n  bucket = "bench-change"\n}\n'
    change(repo, "infra/module0/main_0.tf", tf, "one Terraform file changed")
    runs.append(scan("terraform-changed"))
    if "--changed-since" in scan_help():
        change(repo, "webapp/pkg1/mod_1.py", "BENCH_CHANGE_SINCE = 1\n", "another Python file changed")
        runs.append(scan("changed-since", "--changed-since", "HEAD~1"))
    return runs


def ratios_of(runs: list[Run], by_hand: float) -> dict[str, float]:
    cold = next(r for r in runs if r.label == "cold").seconds
    out = {"cold/by-hand": ratio(cold, by_hand)}
    for r in runs:
        if r.label != "cold":
            out[f"{r.label}/cold"] = ratio(r.seconds, cold)
    return out


def report(
    runs: list[Run], by_hand: float, seconds: dict[str, float], files: int, entries: int, start_load: float
) -> None:
    ratios = ratios_of(runs, by_hand)
    load = round(os.getloadavg()[0], 2)
    shown = {"cold": f"{ratios['cold/by-hand']:.2f}×by-hand"}
    shown |= {r.label: f"{ratios[f'{r.label}/cold']:.2f}×cold" for r in runs if r.label != "cold"}
    print(f"by hand, sequential total: {by_hand:.2f} s")
    print_table(runs, shown)
    if not any(r.label == "changed-since" for r in runs):
        print("  --changed-since HEAD~1: not available yet (not in `scan --help`)")
    print(f"result cache files after the runs: {entries}; load average (1 min) at the end {load}")
    record = {
        "files": files,
        "by_hand_seconds": round(by_hand, 2),
        "by_hand": {k: round(v, 2) for k, v in seconds.items()},
        "runs": [asdict(r) for r in runs],
        "ratios": ratios,
        "changed_since_available": any(r.label == "changed-since" for r in runs),
        "result_cache_files": entries,
        "load_average_start": start_load,
        "load_average_end": load,
    }
    print(json.dumps(record, sort_keys=True))


def main() -> None:
    args = parse_args()
    start_load = round(os.getloadavg()[0], 2)
    print(f"load average (1 min) at the start: {start_load} on {os.cpu_count()} cores")
    base = args.keep or Path(tempfile.mkdtemp(prefix="incr-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    executables()  # scanner environments warm before anything is timed
    repo, files, db, config = prepare(base, args.files)
    seconds = {} if args.skip_by_hand else run_by_hand(repo, db)
    by_hand = args.by_hand_seconds if args.skip_by_hand else sum(seconds.values())
    xdg = base / "xdg-cache"
    env = cache_environment(xdg)
    runs = incremental_runs(base, repo, config, env)
    report(runs, by_hand, seconds, files, cache_entries(xdg), start_load)
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
