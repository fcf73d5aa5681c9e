"""Print the pinned checkov's built-in checks as JSON: id → name, categories, frameworks.

Run with checkov's own interpreter (the tests and `make checkov-domains` do):
  ~/.cache/compliance-pipeline/envs/checkov-<digest>/bin/python scripts/checkov_catalogue.py
Every framework the checkov scanner runs (pipeline/scanners/checkov.py SUPPORTED;
terraform_json shares terraform's checks): resource, data, provider, module and
parameter registries, and the graph checks of each framework. Categories are
upper-cased; a check whose category differs between frameworks lists all of them.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

logging.disable(logging.CRITICAL)
os.environ.setdefault("BC_SKIP_MAPPING", "TRUE")
os.environ.setdefault("CKV_SKIP_PACKAGE_UPDATE_CHECK", "true")

from checkov.arm.registry import arm_parameter_registry, arm_resource_registry  # noqa: E402
from checkov.azure_pipelines.checks.registry import registry as azure_pipelines_registry  # noqa: E402
from checkov.bicep.checks.param.registry import registry as bicep_param_registry  # noqa: E402
from checkov.bicep.checks.resource.registry import registry as bicep_registry  # noqa: E402
from checkov.bitbucket_pipelines.runner import Runner as BitbucketRunner  # noqa: E402
from checkov.circleci_pipelines.runner import Runner as CircleciRunner  # noqa: E402
from checkov.cloudformation.checks.resource.registry import cfn_registry  # noqa: E402
from checkov.common.checks_infra.registry import get_graph_checks_registry  # noqa: E402
from checkov.dockerfile.registry import registry as docker_registry  # noqa: E402
from checkov.github_actions.checks.registry import registry as gha_registry  # noqa: E402
from checkov.gitlab_ci.checks.registry import registry as gitlab_ci_registry  # noqa: E402
from checkov.kubernetes.checks.resource.registry import registry as k8s_registry  # noqa: E402
from checkov.openapi.checks.registry import openapi_registry  # noqa: E402
from checkov.serverless.checks.complete.registry import complete_registry  # noqa: E402
from checkov.serverless.checks.custom.registry import custom_registry  # noqa: E402
from checkov.serverless.checks.function.registry import function_registry  # noqa: E402
from checkov.serverless.checks.layer.registry import layer_registry  # noqa: E402
from checkov.serverless.checks.package.registry import package_registry  # noqa: E402
from checkov.serverless.checks.plugin.registry import plugin_registry  # noqa: E402
from checkov.serverless.checks.provider.registry import provider_registry as sls_provider_registry  # noqa: E402
from checkov.serverless.checks.service.registry import service_registry  # noqa: E402
from checkov.terraform.checks.data.registry import data_registry  # noqa: E402
from checkov.terraform.checks.module.registry import module_registry  # noqa: E402
from checkov.terraform.checks.provider.registry import provider_registry  # noqa: E402
from checkov.terraform.checks.resource.registry import resource_registry  # noqa: E402

catalogue: dict[str, dict[str, Any]] = {}


def add(check: Any, framework: str) -> None:
    raw = getattr(check, "categories", None) or [getattr(check, "category", None)]
    cats = {str(getattr(c, "name", c)).upper() for c in raw if c}
    entry = catalogue.setdefault(check.id, {"name": check.name, "categories": set(), "frameworks": set()})
    entry["categories"].update(cats)
    entry["frameworks"].add(framework)


for registry, framework in (
    (resource_registry, "terraform"),
    (data_registry, "terraform"),
    (provider_registry, "terraform"),
    (module_registry, "terraform"),
    (cfn_registry, "cloudformation"),
    (k8s_registry, "kubernetes"),
    (docker_registry, "dockerfile"),
    (gha_registry, "github_actions"),
    (gitlab_ci_registry, "gitlab_ci"),
    (azure_pipelines_registry, "azure_pipelines"),
    (BitbucketRunner().import_registry(), "bitbucket_pipelines"),
    (CircleciRunner().import_registry(), "circleci_pipelines"),
    (arm_resource_registry, "arm"),
    (arm_parameter_registry, "arm"),
    (bicep_registry, "bicep"),
    (bicep_param_registry, "bicep"),
    (openapi_registry, "openapi"),
    *(
        (r, "serverless")
        for r in (
            complete_registry,
            custom_registry,
            function_registry,
            layer_registry,
            package_registry,
            plugin_registry,
            sls_provider_registry,
            service_registry,
        )
    ),
):
    for checks in list(registry.checks.values()) + list(getattr(registry, "wildcard_checks", {}).values()):
        for check in checks:
            add(check, framework)
GRAPH_FRAMEWORKS = (
    "terraform",
    "cloudformation",
    "kubernetes",
    "dockerfile",
    "github_actions",
    "arm",
    "bicep",
)
for framework in GRAPH_FRAMEWORKS:
    graph = get_graph_checks_registry(framework)
    graph.load_checks()
    for check in graph.checks:
        add(check, framework)

print(
    json.dumps(
        {
            cid: {
                "name": e["name"],
                "categories": sorted(e["categories"]),
                "frameworks": sorted(e["frameworks"]),
            }
            for cid, e in sorted(catalogue.items())
        },
        indent=1,
    )
)
