"""Benchmark: the offline advisory database (issue 3).

Prints: import of the full PyPA snapshot, opening the built index, and an
end-to-end `compliance-pipeline scan --only pip-audit` of 300 pinned
dependencies against the local OSV API.
Targets: import ≤ 10 s; open ≤ 0.5 s; 300 pinned dependencies ≤ 3 s.

Usage: .venv/bin/python bench/vulndb_bench.py [SNAPSHOT]
(default: ../shared/data/pypa-advisory-database/vulns beside the checkout)
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.vulndb.store import VulnDb, import_sources  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "data" / "pypa-advisory-database" / "vulns"


def _valid(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def pins(snapshot: Path, n: int) -> list[str]:
    """n pinned dependencies from the snapshot: real names, a listed (vulnerable) version."""
    rnd = random.Random(3)
    folders = sorted(p for p in snapshot.iterdir() if p.is_dir())
    rnd.shuffle(folders)
    out: list[str] = []
    for folder in folders:
        record = yaml.safe_load(next(folder.glob("*.yaml")).read_text())
        versions = [
            str(v) for a in record.get("affected", []) for v in a.get("versions", []) if _valid(str(v))
        ]
        if versions:
            out.append(f"{folder.name}=={rnd.choice(versions)}")
        if len(out) == n:
            break
    return out


def main() -> None:
    snapshot = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not snapshot.is_dir():
        sys.exit(f"no snapshot at {snapshot}")
    work = Path(tempfile.mkdtemp(prefix="vulndb-bench-"))
    db = work / "osv.sqlite"
    report = import_sources([snapshot], db, str(snapshot), dt.datetime.now(dt.UTC))
    print(
        f"import: {report.records} records in {report.seconds:.2f} s (target ≤ 10 s); "
        f"skipped {report.skipped}, {report.warnings} warnings"
    )
    start = time.monotonic()
    records = VulnDb(db).info.records
    print(f"opened index of {records} records")
    print(f"open: {(time.monotonic() - start) * 1000:.1f} ms (target ≤ 500 ms)")
    target = work / "app"
    target.mkdir()
    deps = pins(snapshot, 300)
    (target / "requirements.txt").write_text("\n".join(deps) + "\n")
    config = work / "config.toml"
    config.write_text(f'vulndb = "{db}"\nvulndb-warn-days = 36500\nvulndb-max-days = 36500\n')
    out = work / "evidence"
    cmd = [
        sys.executable,
        "-m",
        "pipeline",
        "scan",
        str(target),
        "--only",
        "pip-audit",
        "--config",
        str(config),
        "--output",
        str(out),
        "--no-progress",
    ]
    start = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.monotonic() - start
    doc = json.loads((out / "findings.json").read_text())
    (pa,) = [s for s in doc["scanners"] if s["name"] == "pip-audit"]
    print(
        f"audit of {len(deps)} pinned dependencies end to end: {secs:.2f} s (target ≤ 3 s); "
        f"pip-audit itself {pa['seconds']:.2f} s; {pa['finding_count']} findings, "
        f"{len(pa['not_assessed'])} not assessed, exit {done.returncode}"
    )


if __name__ == "__main__":
    main()
