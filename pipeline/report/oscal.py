"""OSCAL assessment results (`oscal/assessment-results.json`, OSCAL 1.2.1): the run as an
assessment an auditor's tools can read. A pure function of the run and of the bytes of
the other evidence files it links to.

Mapping (docs/evidence-format.md, "OSCAL"):
- metadata: the pipeline and its version; `import-ap` names our policy data (there is no
  separate assessment plan: the controls files are the plan);
- one result: the run, from start to end; its props name the target, commit, branch,
  verdict and whether it was a partial (diff) scan;
- reviewed controls: every control of every framework evaluated (not the ones not
  applicable to a repository scan), as OSCAL control ids
  `<framework>-<id>` (lowercase, characters outside OSCAL's token set as `_`: `pci-dss-3.5.1`,
  `hipaa-164.312_b_`); the original id is the `control-id` prop of each finding;
- one observation per control evaluation: the scan as the method (TEST, or EXAMINE for an
  attestation), the reason as its description, and as relevant evidence the bundle's
  findings.json, SARIF and the raw outputs of the scanners behind it, each with its
  SHA-256 (the manifest covers this file too, so `verify` checks it);
- one finding per control, with the objective status: PASS → satisfied (reason pass);
  FAIL → not-satisfied (fail); ATTESTED → satisfied (reason other, "attested, not
  scanned"); ERROR, NOT_ASSESSED and MANUAL → not-satisfied with reason other and the
  status in the remarks and the `status` prop: nothing unchecked is ever satisfied.
UUIDs are derived (UUID 5) from the run's identity, so the same run gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from pipeline import gate
from pipeline.model import ControlResult, ControlStatus, RunReport

OSCAL_VERSION = "1.2.1"
FILE_NAME = "oscal/assessment-results.json"
NS = uuid.UUID("6f1c1f9e-8c55-4f0e-9f41-3d5d0b8b7a11")
_TOKEN = re.compile(r"[^A-Za-z0-9._-]")
STATE = {
    ControlStatus.PASS: ("satisfied", "pass"),
    ControlStatus.FAIL: ("not-satisfied", "fail"),
    ControlStatus.ATTESTED: ("satisfied", "other"),
}


def control_id(framework: str, cid: str) -> str:
    """An OSCAL token for one of our controls: `pci-dss-3.5.1`, `hipaa-164.312_b_`."""
    return _TOKEN.sub("_", f"{framework}-{cid}".lower())


def _uuid(run: str, *parts: str) -> str:
    return str(uuid.uuid5(NS, "\0".join((run, *parts))))


def _prop(name: str, value: object) -> dict[str, str]:
    return {"name": name, "ns": "https://compliance-pipeline.invalid/ns/oscal", "value": str(value)}


def _evidence(c: ControlResult, files: Mapping[str, bytes]) -> list[dict[str, Any]]:
    wanted = ["findings.json", "results.sarif", *(f"raw/{s}.json" for s in c.scanners)]
    return [
        {
            "href": f"../{name}",
            "description": f"{name} in this evidence bundle",
            "props": [_prop("sha256", hashlib.sha256(files[name]).hexdigest())],
        }
        for name in wanted
        if name in files
    ]


def build(report: RunReport, files: Mapping[str, bytes]) -> dict[str, Any]:
    run = f"{report.started_at}\0{report.target}\0{report.config_digest}\0{report.git.commit}"
    verdict = gate.verdict(report).value
    observations: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    reviewed = [c for c in report.controls if c.status is not ControlStatus.NOT_APPLICABLE]
    for c in reviewed:
        oid = control_id(c.framework, c.control_id)
        obs_uuid = _uuid(run, "observation", oid)
        observations.append(
            {
                "uuid": obs_uuid,
                "title": f"{c.framework} {c.control_id}: {c.label}",
                "description": c.reason or c.status.value,
                "props": [_prop("status", c.status.value), _prop("control-id", c.control_id)],
                "methods": ["EXAMINE"] if c.status is ControlStatus.ATTESTED else ["TEST"],
                "types": ["control-objective"],
                "relevant-evidence": _evidence(c, files),
                "collected": report.finished_at,
            }
        )
        state, reason = STATE.get(c.status, ("not-satisfied", "other"))
        remarks = {
            ControlStatus.ATTESTED: "attested by a person, not scanned",
            ControlStatus.ERROR: "ERROR: a scanner that evidences it failed or left something not assessed",
            ControlStatus.NOT_ASSESSED: "NOT_ASSESSED: nothing in scope was checked",
            ControlStatus.MANUAL: "MANUAL: needs human evidence",
        }.get(c.status)
        status: dict[str, Any] = {"state": state, "reason": reason}
        if remarks:
            status["remarks"] = remarks
        findings.append(
            {
                "uuid": _uuid(run, "finding", oid),
                "title": f"{c.framework} {c.control_id} {c.title}",
                "description": c.reason or c.status.value,
                "props": [
                    _prop("framework", c.framework),
                    _prop("control-id", c.control_id),
                    _prop("status", c.status.value),
                    _prop("active-findings", len(c.findings)),
                    _prop("accepted-findings", len(c.accepted)),
                ],
                "target": {
                    "type": "objective-id",
                    "target-id": f"{oid}_obj",
                    "status": status,
                },
                "related-observations": [{"observation-uuid": obs_uuid}],
            }
        )
    result_props = [
        _prop("target", report.target),
        _prop("verdict", verdict),
        _prop("scope", "change" if report.change is not None else "full"),
    ]
    if report.git.commit:
        result_props.append(_prop("commit", report.git.commit))
    if report.git.branch:
        result_props.append(_prop("branch", report.git.branch))
    doc = {
        "assessment-results": {
            "uuid": _uuid(run, "assessment-results"),
            "metadata": {
                "title": f"compliance-pipeline scan of {report.target}",
                "last-modified": report.finished_at,
                "version": report.pipeline_version,
                "oscal-version": OSCAL_VERSION,
            },
            "import-ap": {"href": "https://compliance-pipeline.invalid/policies/controls"},
            "results": [
                {
                    "uuid": _uuid(run, "result"),
                    "title": f"Scan started {report.started_at}",
                    "description": f"compliance-pipeline {report.pipeline_version}: verdict {verdict}",
                    "start": report.started_at,
                    "end": report.finished_at,
                    "props": result_props,
                    "reviewed-controls": {
                        "control-selections": [
                            {
                                "include-controls": [
                                    {"control-id": control_id(c.framework, c.control_id)} for c in reviewed
                                ]
                                or [{"control-id": "none"}]
                            }
                        ]
                    },
                    **({"observations": observations} if observations else {}),
                    **({"findings": findings} if findings else {}),
                }
            ],
        }
    }
    return doc


def render(report: RunReport, files: Mapping[str, bytes]) -> str:
    return json.dumps(build(report, files), indent=2, ensure_ascii=False) + "\n"
