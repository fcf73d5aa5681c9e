"""OSCAL assessment results (issue 16, item 5): every bundle holds
`oscal/assessment-results.json`, loaded here by compliance-trestle's OSCAL models, with
the same controls and statuses as findings.json, evidence links whose digests match the
bundle, and covered by the manifest (`verify`)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_demo
from samples import sample
from trestle.oscal.assessment_results import AssessmentResults

from pipeline import evidence, resources
from pipeline.report import oscal


def _load(path: Path) -> Any:
    return AssessmentResults.oscal_read(path)


def _cross_check(bundle: Path) -> None:
    ar = _load(bundle / oscal.FILE_NAME)
    doc = json.loads((bundle / "findings.json").read_text())
    (result,) = ar.results
    reviewed = [c.control_id for c in result.reviewed_controls.control_selections[0].include_controls]
    assessed = [c for c in doc["controls"] if c["status"] != "NOT_APPLICABLE"]  # not reviewed: listed only
    assert reviewed == [oscal.control_id(c["framework"], c["control_id"]) for c in assessed]
    by_id = {
        (p["framework"], p["control-id"]): (f.target.status.state.value, p["status"])
        for f in result.findings
        for p in [{prop.name: prop.value for prop in f.props}]
    }
    for c in assessed:
        state, status = by_id[(c["framework"], c["control_id"])]
        assert status == c["status"]
        assert state == ("satisfied" if c["status"] in ("PASS", "ATTESTED") else "not-satisfied"), c
    for obs in result.observations:
        for ev in obs.relevant_evidence or []:
            target = (bundle / oscal.FILE_NAME).parent / ev.href
            digest = {p.name: p.value for p in ev.props}["sha256"]
            assert hashlib.sha256(target.resolve().read_bytes()).hexdigest() == digest, ev.href


def test_the_sample_run_is_valid_oscal_and_matches_findings_json(tmp_path: Path) -> None:
    evidence.write(sample(), tmp_path / "ev", templates=resources.templates_dir())
    _cross_check(tmp_path / "ev")
    doc = json.loads((tmp_path / "ev" / oscal.FILE_NAME).read_text())
    again = evidence.render_files(sample(), resources.templates_dir())[oscal.FILE_NAME]
    assert json.loads(again) == doc, "the same run gives the same OSCAL (derived UUIDs)"


def test_nothing_unchecked_is_satisfied() -> None:
    files = evidence.render_files(sample(failed_checkov=True), resources.templates_dir())
    doc = json.loads(files[oscal.FILE_NAME])
    for f in doc["assessment-results"]["results"][0]["findings"]:
        status = {p["name"]: p["value"] for p in f["props"]}["status"]
        if status in ("ERROR", "NOT_ASSESSED", "MANUAL"):
            assert f["target"]["status"] == {
                "state": "not-satisfied",
                "reason": "other",
                "remarks": f["target"]["status"]["remarks"],
            } and f["target"]["status"]["remarks"].startswith(status)


def test_trestle_really_validates(tmp_path: Path) -> None:
    files = evidence.render_files(sample(), resources.templates_dir())
    doc = json.loads(files[oscal.FILE_NAME])
    doc["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] = "half-satisfied"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(Exception, match="state"):
        _load(bad)


@pytest.mark.tools
def test_a_real_scan_writes_oscal_that_verify_covers(tmp_path: Path) -> None:
    target = copy_demo(tmp_path)
    out = tmp_path / "ev"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "scan",
            str(target),
            "-o",
            str(out),
            "--no-progress",
            "--skip",
            "pip-audit",
        ],
        capture_output=True,
        timeout=900,
        check=False,
    )
    _cross_check(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert oscal.FILE_NAME in json.dumps(manifest)
    assert evidence.verify(out).intact
    path = out / oscal.FILE_NAME
    path.write_text(path.read_text().replace('"state": "satisfied"', '"state": "not-satisfied"') + " ")
    assert not evidence.verify(out).intact, "verify covers the OSCAL file"
