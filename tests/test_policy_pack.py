"""Our checkov pack through the real, pinned checkov: one run over every fixture."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from conftest import DATA, ROOT

from pipeline import controls, resources, runner, toolenv
from pipeline.scanners import registry
from pipeline.scanners.checkov import ENV

pytestmark = pytest.mark.tools
FIXTURES = DATA / "policies"


def _checkov() -> toolenv.ToolSetup:
    s = registry()["checkov"]
    setup = toolenv.ensure(s.distribution, s.executable, runner.run, os.environ)
    assert setup.executable is not None, setup.error
    return setup


def _run(
    folder: Path, ids: list[str], extra_env: dict[str, str] | None = None
) -> dict[str, list[tuple[str, str]]]:
    """check id → [(fixture file, PASSED/FAILED)] for one checkov run over `folder`."""
    argv = [
        str(_checkov().executable),
        "-d",
        str(folder),
        "--framework",
        "terraform",
        "cloudformation",
        "--external-checks-dir",
        str(resources.policies_dir() / "checkov"),
        "--check",
        ",".join(ids),
        "--skip-download",
        "--output",
        "json",
    ]
    env = {**os.environ, **ENV, **(extra_env or {})}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    data = json.loads(done.stdout)
    outcome: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for report in data if isinstance(data, list) else [data]:
        for key, verdict in (("passed_checks", "PASSED"), ("failed_checks", "FAILED")):
            for check in report["results"][key]:
                outcome[check["check_id"]].append((check["file_path"].lstrip("/"), verdict))
    return outcome


def test_every_policy_passes_its_passing_fixture_and_fails_its_failing_one() -> None:
    pack = controls.load(resources.policies_dir()).pack
    outcome = _run(FIXTURES, sorted(pack))
    for pid in pack:
        own = [(Path(f).name, v) for f, v in outcome[pid] if Path(f).parent.name == pid]
        assert own, f"{pid} evaluated nothing in its fixtures"
        assert {v for f, v in own if f.startswith("pass")} == {"PASSED"}, (pid, own)
        assert {v for f, v in own if f.startswith("fail")} == {"FAILED"}, (pid, own)


def test_backup_retention_minimum_is_configurable(tmp_path: Path) -> None:
    folder = tmp_path / "CPL_AWS_13"
    folder.mkdir()
    (folder / "pass.tf").write_text((FIXTURES / "CPL_AWS_13" / "pass.tf").read_text())  # 14 days
    strict = _run(folder, ["CPL_AWS_13"], {"COMPLIANCE_PIPELINE_MIN_BACKUP_DAYS": "30"})
    assert [v for _, v in strict["CPL_AWS_13"]] == ["FAILED"]


def test_builtin_catalogue_matches_the_pinned_checkov() -> None:
    """Fails when a new checkov adds a check that is neither mapped, unmapped nor excluded."""
    setup = _checkov()
    assert setup.env_dir is not None
    python = setup.env_dir / "bin" / "python"
    done = subprocess.run(
        [str(python), str(ROOT / "scripts" / "checkov_catalogue.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    live = json.loads(done.stdout)
    catalog = controls.load(resources.policies_dir())
    listed = set(catalog.builtin_domain) | set(catalog.unmapped) | set(catalog.excluded)
    assert set(live) - listed == set(), "checks of the pinned checkov missing from checkov-builtin.yaml"
    assert listed - set(live) == set(), "checkov-builtin.yaml names checks the pinned checkov lacks"
    tracked = set(catalog.tracked_categories)
    stray = [cid for cid in catalog.unmapped if set(live[cid]["categories"]) & tracked]
    assert stray == [], "checks of a tracked category must be in a domain or excluded"
    reasons = catalog.unmapped_reasons
    unexplained = [
        c for c in catalog.unmapped if c not in reasons and not set(live[c]["categories"]) & set(reasons)
    ]
    assert unexplained == [], "unmapped checks whose category (or id) has no unmapped_reasons entry"
    # The file is what scripts/checkov_domains.py makes of the pinned checkov: no hand edits.
    spec = importlib.util.spec_from_file_location("checkov_domains", ROOT / "scripts" / "checkov_domains.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    current = yaml.safe_load((resources.policies_dir() / "checkov-builtin.yaml").read_text())
    names = list(yaml.safe_load((resources.policies_dir() / "domains.yaml").read_text())["domains"])
    regenerated, notes = script.regenerate(live, current, names)
    assert regenerated == current, "run `make checkov-domains` and review the diff"
    assert not [n for n in notes if n.startswith("stale")], notes
