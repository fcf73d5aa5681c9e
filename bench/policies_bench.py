"""Benchmark: loading and validating all policy data (issue 4). Target ≤ 0.3 s.

Usage: .venv/bin/python bench/policies_bench.py
Prints the cold load (first in a fresh process, YAML parsing included) and the
median of 20 further loads.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import controls, resources  # noqa: E402


def main() -> None:
    start = time.perf_counter()
    catalog = controls.load(resources.policies_dir())
    cold = time.perf_counter() - start
    runs = []
    for _ in range(20):
        start = time.perf_counter()
        controls.load(resources.policies_dir())
        runs.append(time.perf_counter() - start)
    n_controls = sum(len(f.controls) for f in catalog.frameworks.values())
    print(
        f"policy data: {len(catalog.frameworks)} frameworks, {n_controls} controls, "
        f"{len(catalog.pack)} own policies, {len(catalog.builtin_domain)} mapped and "
        f"{len(catalog.unmapped)} unmapped checkov checks"
    )
    print(
        f"load and validate: cold {cold * 1000:.0f} ms, median {statistics.median(runs) * 1000:.0f} ms "
        f"(target ≤ 300 ms): {'OK' if cold <= 0.3 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
