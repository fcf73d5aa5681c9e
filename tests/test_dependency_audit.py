"""The dependency audit on real repository shapes (issue 12), real pip-audit, local OSV API.

Before: every pin of every manifest went into one file, so two services pinning
different versions of one package failed the whole audit ("duplicate
requirements"), and a range in pyproject.toml received the findings of a pin
in requirements.txt.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import offline, only, scan

from pipeline import gate
from pipeline.config import default_config
from pipeline.model import Status
from pipeline.scanners import SCANNER_NAMES

pytestmark = pytest.mark.tools

# From tests/data/osv: jinja2 < 2.10.1 has PYSEC-2019-217, < 2.11.3 has PYSEC-2021-66;
# pyyaml 5.1 <= v < 5.3.1 has PYSEC-2020-96, < 5.4 has PYSEC-2021-142.
OLD_JINJA = {"PYSEC-2019-217", "PYSEC-2021-66"}


def _audit(target: Path, vulndb: Path, **settings: object) -> tuple[object, object]:
    cfg = replace(offline(default_config(SCANNER_NAMES), vulndb), **settings)  # type: ignore[arg-type]
    run = scan(target, only(cfg, "pip-audit"))
    return run, next(r for r in run.report.results if r.scanner == "pip-audit")


def _found(result: object) -> set[tuple[str, int | None, str]]:
    return {
        (f.location.path, f.location.start_line, f.rule_id)
        for f in result.findings  # type: ignore[attr-defined]
    }


def test_two_services_pinning_different_versions_are_both_audited(tmp_path: Path, vulndb: Path) -> None:
    for svc, pins in (("svc-a", "rich==13.7.1\njinja2==2.10\n"), ("svc-b", "jinja2==2.11.2\nrich==13.7.1\n")):
        (tmp_path / svc).mkdir()
        (tmp_path / svc / "requirements.txt").write_text(pins)
    run, result = _audit(tmp_path, vulndb)
    assert result.status is Status.OK, result.errors  # type: ignore[attr-defined]
    assert result.not_assessed == ()  # type: ignore[attr-defined]
    assert _found(result) == {
        ("svc-a/requirements.txt", 2, "PYSEC-2019-217"),
        ("svc-a/requirements.txt", 2, "PYSEC-2021-66"),
        ("svc-b/requirements.txt", 1, "PYSEC-2021-66"),
    }
    located = {f.location.path: f.location.resource for f in result.findings}  # type: ignore[attr-defined]
    assert located == {"svc-a/requirements.txt": "jinja2==2.10", "svc-b/requirements.txt": "jinja2==2.11.2"}
    sources = {f.severity_source for f in result.findings}  # type: ignore[attr-defined]
    assert None not in sources and all(
        s.startswith(("CVSS:", "GitHub", "policy default", "database")) for s in sources
    )
    assert gate.exit_code(run.report) == gate.EXIT_FINDINGS  # type: ignore[attr-defined]


def test_the_same_version_in_many_manifests_is_audited_once_reported_everywhere(
    tmp_path: Path, vulndb: Path
) -> None:
    for i in range(3):
        (tmp_path / f"s{i}").mkdir()
        (tmp_path / f"s{i}" / "requirements.txt").write_text("jinja2==2.10\n")
    _, result = _audit(tmp_path, vulndb)
    assert {(p, r) for p, _, r in _found(result)} == {
        (f"s{i}/requirements.txt", vid) for i in range(3) for vid in OLD_JINJA
    }
    (inv,) = [i for i in result.invocations]  # type: ignore[attr-defined]
    assert sum(1 for a in inv.argv if a == "-r") == 1


def test_markers_choose_the_alternatives_for_the_supported_pythons(tmp_path: Path, vulndb: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        'pyyaml==5.1; python_version < "3.8"\npyyaml==5.3.1; python_version >= "3.8"\n'
    )
    _, default = _audit(tmp_path, vulndb)
    # No supported Python is older than 3.8: only 5.3.1 is audited, and the evidence says so.
    assert _found(default) == {("requirements.txt", 2, "PYSEC-2021-142")}
    assert any("apply to no supported environment" in w for w in default.warnings)  # type: ignore[attr-defined]
    _, both = _audit(tmp_path, vulndb, python_versions=("3.7", "3.12"))
    assert _found(both) == {
        ("requirements.txt", 1, "PYSEC-2020-96"),
        ("requirements.txt", 1, "PYSEC-2021-142"),
        ("requirements.txt", 2, "PYSEC-2021-142"),
    }


def test_requires_python_of_the_project_chooses_the_environments(tmp_path: Path, vulndb: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\nrequires-python = "<3.8"\n'
    )
    (tmp_path / "requirements.txt").write_text(
        'pyyaml==5.1; python_version < "3.8"\npyyaml==5.3.1; python_version >= "3.8"\n'
    )
    _, result = _audit(tmp_path, vulndb)
    # An old project (`<3.8`): its own Pythons decide, so 5.1 is audited and 5.3.1 is not.
    assert _found(result) == {
        ("requirements.txt", 1, "PYSEC-2020-96"),
        ("requirements.txt", 1, "PYSEC-2021-142"),
    }


def test_a_range_gets_no_findings_of_a_pin_elsewhere_and_counts_as_covered(
    tmp_path: Path, vulndb: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\ndependencies = ["jinja2>=2"]\n'
    )
    (tmp_path / "requirements.txt").write_text("jinja2==2.10\n")
    _, result = _audit(tmp_path, vulndb)
    assert {p for p, _, _ in _found(result)} == {"requirements.txt"}
    assert len(result.findings) == 2  # type: ignore[attr-defined]
    assert result.not_assessed == ()  # type: ignore[attr-defined]


def test_a_range_no_pin_satisfies_is_not_assessed(tmp_path: Path, vulndb: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\ndependencies = ["jinja2>=3"]\n'
    )
    (tmp_path / "requirements.txt").write_text("jinja2==2.10\n")
    run, result = _audit(tmp_path, vulndb)
    (na,) = result.not_assessed  # type: ignore[attr-defined]
    assert na.item.startswith("jinja2>=3 (pyproject.toml")
    assert "none of the repository's pins of jinja2 (2.10) satisfies it" in na.reason
    assert gate.exit_code(run.report) == gate.EXIT_INCOMPLETE  # type: ignore[attr-defined]


def test_a_uv_lock_with_two_versions_of_one_package(tmp_path: Path, vulndb: Path) -> None:
    registry = 'source = { registry = "https://pypi.org/simple" }'
    (tmp_path / "uv.lock").write_text(
        'version = 1\nrequires-python = ">=3.7"\n\n'
        f'[[package]]\nname = "pyyaml"\nversion = "5.1"\n{registry}\n\n'
        f'[[package]]\nname = "pyyaml"\nversion = "5.3.1"\n{registry}\n'
    )
    _, result = _audit(tmp_path, vulndb)
    assert result.status is Status.OK, result.errors  # type: ignore[attr-defined]
    assert {(f.installed_version, f.rule_id) for f in result.findings} == {  # type: ignore[attr-defined]
        ("5.1", "PYSEC-2020-96"),
        ("5.1", "PYSEC-2021-142"),
        ("5.3.1", "PYSEC-2021-142"),
    }
