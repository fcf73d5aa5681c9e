"""CPL_AWS_13 / CPL_AWS_103: RDS automated backups kept for at least the minimum retention.

A Python check because the minimum is configurable: the pipeline passes
`min-backup-retention-days` (default 7) as COMPLIANCE_PIPELINE_MIN_BACKUP_DAYS.
A retention the file does not state literally (a variable) cannot be judged: UNKNOWN.
"""

from __future__ import annotations

import os
from typing import Any

from checkov.cloudformation.checks.resource.base_resource_check import (
    BaseResourceCheck as CfnResourceCheck,
)
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

NAME = "Ensure RDS automated backups are kept for at least the minimum retention (default 7 days)"


def _minimum() -> int:
    try:
        return int(os.environ.get("COMPLIANCE_PIPELINE_MIN_BACKUP_DAYS", "7"))
    except ValueError:
        return 7


def _judge(value: Any) -> CheckResult:
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return CheckResult.FAILED  # the AWS default keeps 1 day or none
    try:
        days = int(str(value))
    except ValueError:
        return CheckResult.UNKNOWN
    return CheckResult.PASSED if days >= _minimum() else CheckResult.FAILED


class RDSBackupRetention(BaseResourceCheck):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(
            name=NAME,
            id="CPL_AWS_13",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["aws_db_instance", "aws_rds_cluster"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return _judge(conf.get("backup_retention_period"))


class CfnRDSBackupRetention(CfnResourceCheck):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(
            name=NAME + " (CloudFormation)",
            id="CPL_AWS_103",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return _judge((conf.get("Properties") or {}).get("BackupRetentionPeriod"))


check = RDSBackupRetention()
cfn_check = CfnRDSBackupRetention()
