"""Benchmark: the pre-commit hook's fast paths (issue 6).

Targets: one staged Python file (no IaC, no manifest) ≤ 1.5 s wall; one staged
Terraform file ≤ checkov's own start-up + 1 s. Prints the median of 3 runs each.
Usage: .venv/bin/python bench/hook_bench.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import runner, toolenv  # noqa: E402
from pipeline.scanners import registry  # noqa: E402

CLI = str(Path(sys.executable).parent / "compliance-pipeline")


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, capture_output=True, env=env or os.environ.copy())
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    repo = Path(tempfile.mkdtemp(prefix="hook-bench-"))
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / "app.py").write_text("import os\n\n\ndef home():\n    return os.environ.get('HOME')\n")
    (repo / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n')
    python = timed([CLI, "hook", "app.py"], repo)
    print(f"hook, one staged Python file: {python:.2f} s (target ≤ 1.5 s)")
    s = registry()["checkov"]
    setup = toolenv.ensure(s.distribution, s.executable, runner.run, os.environ)
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}
    startup = timed([str(setup.executable), "--version"], repo, env)
    terraform = timed([CLI, "hook", "main.tf"], repo)
    print(
        f"hook, one staged Terraform file: {terraform:.2f} s; checkov --version alone {startup:.2f} s "
        f"(target ≤ {startup + 1:.2f} s)"
    )


if __name__ == "__main__":
    main()
