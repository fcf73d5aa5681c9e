"""Print the pinned checkov's built-in checks as JSON: id → name, categories, frameworks.

Run with checkov's own interpreter (the tests and `make checkov-domains` do):
  ~/.cache/compliance-pipeline/envs/checkov-<digest>/bin/python scripts/checkov_catalogue.py
Categories are upper-cased; a check whose category differs between frameworks
lists all of them.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

logging.disable(logging.CRITICAL)
os.environ.setdefault("BC_SKIP_MAPPING", "TRUE")
os.environ.setdefault("CKV_SKIP_PACKAGE_UPDATE_CHECK", "true")

from checkov.cloudformation.checks.resource.registry import cfn_registry  # noqa: E402
from checkov.common.checks_infra.registry import get_graph_checks_registry  # noqa: E402
from checkov.dockerfile.registry import registry as docker_registry  # noqa: E402
from checkov.kubernetes.checks.resource.registry import registry as k8s_registry  # noqa: E402
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
):
    for checks in list(registry.checks.values()) + list(getattr(registry, "wildcard_checks", {}).values()):
        for check in checks:
            add(check, framework)
for framework in ("terraform", "cloudformation", "kubernetes"):
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
