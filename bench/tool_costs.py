"""Benchmark: start-up and per-MB cost of the pinned detect-secrets and bandit.

Runs each tool from the project's managed environment, with the arguments the
pipeline gives it (detect-secrets `-c 1 scan --all-files`, bandit `-f json -q
--ignore-nosec --ini … -x ''`) and the pipeline's tool environment:

- start-up: one tiny Python file, median of 5 (after one unrecorded warm-up);
- per MB: ~1, 2 and 4 MB of ordinary generated Python source (scan_bench's web
  app modules) split across files, one process each; a least-squares line
  seconds = start + per_mb × MB over the three (MB = 10^6 bytes).

Prints both figures per tool, the shard size at which start-up is 10 % of a
shard's time (start / (start + per_mb × MB) = 0.1, so MB = 9 × start / per_mb),
and the constants the scanners assume (START_SECONDS, SHARD_SECONDS,
BYTES_PER_SECOND) beside them. A JSON line with every number ends the output.
Usage: .venv/bin/python bench/tool_costs.py [--repeat N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import scan_bench  # noqa: E402

from pipeline import runner, toolenv  # noqa: E402
from pipeline.scanners import bandit, detect_secrets, registry  # noqa: E402

MB = 1_000_000
SIZES_MB = (1, 2, 4)
STARTUP_RUNS = 5
START_SHARE = 0.10
TINY = "x = 1\n"

Argv = Callable[[Sequence[str]], list[str]]
"""The tool's command line for some target-relative paths."""


@dataclass(frozen=True)
class Assumed:
    start_seconds: float
    shard_seconds: float
    bytes_per_second: int

    @property
    def seconds_per_mb(self) -> float:
        return MB / self.bytes_per_second

    @property
    def shard_mb_at_share(self) -> float:
        return shard_mb(self.start_seconds, self.seconds_per_mb)


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float
    """User + system seconds of the tool's process tree: what contention does not change."""


@dataclass(frozen=True)
class Measured:
    tool: str
    startup_seconds: float
    startup_runs: list[float]
    points: list[tuple[float, float, float]]
    """(MB scanned, wall seconds, CPU seconds) of each sized run."""
    fit_start: float
    per_mb: float
    startup_cpu: float
    fit_start_cpu: float
    per_mb_cpu: float

    @property
    def shard_mb_at_share(self) -> float:
        return shard_mb(self.startup_seconds, self.per_mb)


ASSUMED = {
    "detect-secrets": Assumed(
        detect_secrets.START_SECONDS, detect_secrets.SHARD_SECONDS, detect_secrets.BYTES_PER_SECOND
    ),
    "bandit": Assumed(bandit.START_SECONDS, bandit.SHARD_SECONDS, bandit.BYTES_PER_SECOND),
}


def shard_mb(start: float, per_mb: float) -> float:
    """The shard size whose start-up is START_SHARE of its whole time."""
    return start * (1 - START_SHARE) / START_SHARE / per_mb if per_mb > 0 else float("nan")


def executable(name: str) -> str:
    s = registry()[name]
    setup = toolenv.ensure(s.distribution, s.executable, runner.run, os.environ)
    if setup.executable is None:
        sys.exit(f"{name}: {setup.error}")
    return str(setup.executable)


def command_lines(work: Path) -> dict[str, Argv]:
    """The pipeline's own arguments for each tool (see the scanners' plan())."""
    ds = executable("detect-secrets")
    bd = executable("bandit")
    ini = work / "bandit.ini"
    ini.write_text(bandit.INI)
    ds_base = [ds, "-c", "1", "scan", "--all-files", "--disable-filter", detect_secrets.ALLOWLIST_FILTER]
    bd_base = [bd, *bandit.BASE_ARGV[1:], "--ini", str(ini), "-x", ""]
    return {
        "detect-secrets": lambda paths: [*ds_base, *paths],
        "bandit": lambda paths: [*bd_base, *paths],
    }


def corpus(folder: Path, megabytes: int) -> list[str]:
    """Ordinary Python modules totalling about `megabytes` MB: their relative paths."""
    rnd = random.Random(megabytes)
    paths: list[str] = []
    size = 0
    while size < megabytes * MB:
        rel = f"mb{megabytes}/pkg{len(paths) % 20}/mod_{len(paths)}.py"
        text = scan_bench._python_module(rnd, len(paths))
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
        paths.append(f"./{rel}")
        size += len(text.encode())
    return paths


def size_of(folder: Path, paths: Sequence[str]) -> float:
    return sum((folder / p).stat().st_size for p in paths) / MB


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], cwd: Path) -> Sample:
    env = runner.tool_environment(os.environ)
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sample = Sample(time.perf_counter() - start, _children_cpu() - cpu)
    if done.returncode not in (0, 1):
        sys.exit(f"{argv[0]} exited {done.returncode}: {done.stderr.decode(errors='replace')[-400:]}")
    return sample


def median_sample(samples: Sequence[Sample]) -> Sample:
    return Sample(statistics.median(s.wall for s in samples), statistics.median(s.cpu for s in samples))


def fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least squares: (intercept, slope) of seconds against MB."""
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept, slope


def measure_tool(name: str, argv: Argv, work: Path, corpora: dict[int, list[str]], repeat: int) -> Measured:
    timed(argv(["./tiny.py"]), work)  # warm-up: page cache, .pyc files
    startup = [timed(argv(["./tiny.py"]), work) for _ in range(STARTUP_RUNS)]
    points = []
    for paths in corpora.values():
        s = median_sample([timed(argv(paths), work) for _ in range(repeat)])
        points.append((round(size_of(work, paths), 3), round(s.wall, 3), round(s.cpu, 3)))
        print(
            f"  … {name} on {points[-1][0]:.2f} MB ({len(paths)} files): {s.wall:.2f} s wall, {s.cpu:.2f} s CPU",
            flush=True,
        )
    mbs = [p[0] for p in points]
    intercept, slope = fit(mbs, [p[1] for p in points])
    intercept_cpu, slope_cpu = fit(mbs, [p[2] for p in points])
    first = median_sample(startup)
    return Measured(
        tool=name,
        startup_seconds=round(first.wall, 3),
        startup_runs=[round(s.wall, 3) for s in startup],
        points=points,
        fit_start=round(intercept, 3),
        per_mb=round(slope, 3),
        startup_cpu=round(first.cpu, 3),
        fit_start_cpu=round(intercept_cpu, 3),
        per_mb_cpu=round(slope_cpu, 3),
    )


def print_report(results: list[Measured]) -> None:
    share = f"{START_SHARE:.0%}"
    print(
        f"  {'tool':<16} {'':<9} {'start-up s':>10} {'s per MB':>9} {'KB/s':>7} "
        f"{'shard MB @' + share:>14} {'shard s @' + share:>13} {'SHARD_SECONDS':>13}"
    )
    for m in results:
        a = ASSUMED[m.tool]
        print(
            f"  {m.tool:<16} {'measured':<9} {m.startup_seconds:10.3f} {m.per_mb:9.2f} "
            f"{MB / m.per_mb / 1000:7.1f} {m.shard_mb_at_share:14.3f} {m.startup_seconds * 10:13.2f} {'':>13}"
        )
        print(
            f"  {'':<16} {'assumed':<9} {a.start_seconds:10.3f} {a.seconds_per_mb:9.2f} "
            f"{a.bytes_per_second / 1000:7.1f} {a.shard_mb_at_share:14.3f} {a.start_seconds * 10:13.2f} "
            f"{a.shard_seconds:13.1f}"
        )
        print(
            f"  {'':<16} line fit: seconds = {m.fit_start:.3f} + {m.per_mb:.3f} × MB "
            f"over {', '.join(f'{mb:.2f} MB {s:.2f} s' for mb, s, _ in m.points)}; "
            f"start-up runs {m.startup_runs}"
        )
        print(
            f"  {'':<16} CPU (user+sys): start-up {m.startup_cpu:.3f} s, "
            f"seconds = {m.fit_start_cpu:.3f} + {m.per_mb_cpu:.3f} × MB, "
            f"shard MB @{share} {shard_mb(m.startup_cpu, m.per_mb_cpu):.3f}"
        )
        print(f"  {'':<16} {_realised(m, a)}")


def _realised(m: Measured, a: Assumed) -> str:
    """What a shard the code sizes at SHARD_SECONDS really costs at the measured rate."""
    mb = a.shard_seconds * a.bytes_per_second / MB
    real = m.startup_seconds + m.per_mb * mb
    return (
        f"a shard the code sizes at SHARD_SECONDS={a.shard_seconds:g} s ({mb:.2f} MB) takes {real:.2f} s: "
        f"start-up {m.startup_seconds / real:.0%} of it (assumed {a.start_seconds / (a.start_seconds + a.shard_seconds):.0%}); "
        f"{a.shard_seconds:g} s of real work is {a.shard_seconds / m.per_mb:.2f} MB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="runs per size (median); default 1")
    ap.add_argument("--keep", type=Path, help="generate the corpora here and keep them")
    args = ap.parse_args()
    start_load = os.getloadavg()[0]
    work = args.keep or Path(tempfile.mkdtemp(prefix="tool-costs-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "tiny.py").write_text(TINY)
    argvs = command_lines(work)
    corpora = {mb: corpus(work, mb) for mb in SIZES_MB}
    results = [measure_tool(name, argv, work, corpora, max(args.repeat, 1)) for name, argv in argvs.items()]
    print_report(results)
    load = os.getloadavg()
    print(f"load average: {start_load:.2f} at the start, {load[0]:.2f} at the end, on {os.cpu_count()} cores")
    record = {
        "load_average": {"start": round(start_load, 2), "end": round(load[0], 2)},
        "measured": [asdict(m) | {"shard_mb_at_10pct": round(m.shard_mb_at_share, 3)} for m in results],
        "assumed": {
            k: asdict(a)
            | {
                "seconds_per_mb": round(a.seconds_per_mb, 3),
                "shard_mb_at_10pct": round(a.shard_mb_at_share, 3),
            }
            for k, a in ASSUMED.items()
        },
    }
    print(json.dumps(record, sort_keys=True))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
