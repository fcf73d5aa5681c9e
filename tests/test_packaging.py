"""The wheel carries the package, its tool locks, policies/ and templates/."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT

from pipeline import resources


def test_wheel_contents(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("compliance_evidence_pipeline-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "pipeline/cli.py",
        "pipeline/locks/checkov.txt",
        "pipeline/locks/bandit-tests.txt",
        "pipeline/policies/severity.yaml",
        "pipeline/policies/checkov/rds_backup_retention.py",
        "pipeline/policies/controls/soc2.yaml",
        "pipeline/policies/pack.yaml",
        "pipeline/templates/report.html.j2",
    ):
        assert required in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "compliance-pipeline = pipeline.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_resources_found_in_a_checkout() -> None:
    assert (resources.policies_dir() / "severity.yaml").is_file()
    assert resources.templates_dir().is_dir()
