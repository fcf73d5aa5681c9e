"""Provable non-secrets (issue 16, item 3): a git commit id in a trace tag, as yor writes
them on every resource, is not a credential. With the real detect-secrets: the finding
stays visible, suppressed with the rule's reason, and no credential control fails on it;
a real hex secret beside it still counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import only, scan

from pipeline import gate
from pipeline.config import default_config
from pipeline.model import ControlStatus
from pipeline.scanners import SCANNER_NAMES

COMMIT = "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"
TAGGED = f"""resource "aws_s3_bucket" "logs" {{
  bucket = "logs"
  tags = {{
    git_commit           = "{COMMIT}"
    git_file             = "infra/main.tf"
    git_last_modified_by = "dev@example.invalid"
    yor_trace            = "0f4c2b8e-5a1d-4e3f-9b7a-2c6d8e0f1a3b"
  }}
}}
"""


@pytest.mark.tools
def test_a_trace_tag_commit_id_is_recognised_not_a_credential(tmp_path: Path) -> None:
    target = tmp_path / "t"
    (target / "infra").mkdir(parents=True)
    (target / "infra" / "main.tf").write_text(TAGGED)
    run = scan(target, only(default_config(SCANNER_NAMES), "detect-secrets"))
    (tag,) = [f for f in run.report.findings if f.location.path == "infra/main.tf"]
    assert tag.rule_id == "Hex High Entropy String" and tag.location.start_line == 4
    assert tag.suppression is not None and tag.suppression.kind == "recognised"
    assert "trace tag" in tag.suppression.reason and tag.state == "suppressed"
    assert COMMIT in (tag.snippet or ""), "a public commit id stays readable"
    credential = {
        (c.framework, c.control_id): c
        for c in run.report.controls
        if (c.framework, c.control_id) in {("soc2", "CC6.1"), ("pci-dss", "8.6.2"), ("iso27001", "A.5.17")}
    }
    assert credential and all(c.status is not ControlStatus.FAIL for c in credential.values())
    assert gate.exit_code(run.report) == 0


@pytest.mark.tools
def test_a_hex_secret_beside_it_still_counts(tmp_path: Path) -> None:
    target = tmp_path / "t"
    (target / "infra").mkdir(parents=True)
    secret = "9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c"
    (target / "infra" / "main.tf").write_text(TAGGED + f'\nlocals {{\n  api_key = "{secret}"\n}}\n')
    run = scan(target, only(default_config(SCANNER_NAMES), "detect-secrets"))
    active = [f for f in run.report.active_findings if f.tool == "detect-secrets"]
    assert active and {f.location.start_line for f in active} == {12}, "the api_key line, not the tag"
    (cc61,) = [c for c in run.report.controls if (c.framework, c.control_id) == ("soc2", "CC6.1")]
    assert cc61.status is ControlStatus.FAIL and set(cc61.findings) == {f.fingerprint for f in active}
