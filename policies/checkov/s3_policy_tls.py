"""CPL_AWS_12: S3 bucket policies deny requests that do not use TLS.

A Python check: the policy is often `jsonencode(...)` or a heredoc, which a
graph check's attribute paths cannot read reliably. Passes when the policy
has a Deny statement conditioned on `aws:SecureTransport` being false.
"""

from __future__ import annotations

import json
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def _statements(policy: Any) -> list[dict[str, Any]]:
    if isinstance(policy, list):
        policy = policy[0] if policy else None
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except json.JSONDecodeError:
            return []
    if not isinstance(policy, dict):
        return []
    statements = policy.get("Statement", [])
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, dict)]


def denies_insecure_transport(policy: Any) -> bool:
    for st in _statements(policy):
        if str(st.get("Effect", "")).lower() != "deny":
            continue
        condition = json.dumps(st.get("Condition", {})).lower()
        if "aws:securetransport" in condition and "false" in condition:
            return True
    return False


class S3PolicyDeniesInsecureTransport(BaseResourceCheck):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(
            name="Ensure S3 bucket policies deny requests without TLS (aws:SecureTransport)",
            id="CPL_AWS_12",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_s3_bucket_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        policy = conf.get("policy")
        if policy is None:
            return CheckResult.FAILED
        text = policy[0] if isinstance(policy, list) and policy else policy
        if isinstance(text, str) and "${" in text:
            return CheckResult.UNKNOWN  # built from variables: cannot be judged here
        return CheckResult.PASSED if denies_insecure_transport(policy) else CheckResult.FAILED


check = S3PolicyDeniesInsecureTransport()
