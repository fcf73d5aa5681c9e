"""sbom.cdx.json: CycloneDX 1.6, validated by cyclonedx-python-lib, cross-checked with the run."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_demo, only, scan
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from samples import sample

from pipeline import evidence, resources
from pipeline.config import Config
from pipeline.model import Component, Finding, Location, RunReport, Severity, Suppression
from pipeline.report import html, sbom
from pipeline.run import RunOutput

VALIDATOR = JsonStrictValidator(SchemaVersion.V1_6)
WAIVER = Suppression("waiver", "not reachable from our code", "alice@example.invalid", "2026-12-31", "bob")


def _validate(text: str) -> dict[str, Any]:
    errors = VALIDATOR.validate_str(text, all_errors=True)
    assert errors is None, [str(e)[:300] for e in errors]
    doc: dict[str, Any] = json.loads(text)
    # Formats the schema declares, checked here too: jsonschema checks date-time and
    # iri-reference only with its format extras installed.
    dt.datetime.fromisoformat(doc["metadata"]["timestamp"])
    return doc


def vuln(
    vid: str,
    package: str | None,
    version: str | None,
    where: str,
    line: int | None = None,
    *,
    severity: Severity = Severity.HIGH,
    aliases: tuple[str, ...] = (),
    fixed: tuple[str, ...] = (),
    suppression: Suppression | None = None,
    help_url: str | None = None,
    severity_source: str | None = None,
) -> Finding:
    return Finding(
        tool="pip-audit",
        rule_id=vid,
        title=f"{package} {version} has a known vulnerability ({vid})",
        severity=severity,
        location=Location(where, line, line, resource=f"{package}=={version}"),
        fingerprint=f"{vid}|{where}|{package}",
        message=f"{vid} in {package}",
        aliases=aliases,
        help_url=help_url if help_url is not None else f"https://osv.dev/vulnerability/{vid}",
        package=package,
        installed_version=version,
        fixed_versions=fixed,
        suppression=suppression,
        severity_source=severity_source,
    )


COMPONENTS = (
    Component("jinja2", "2.10.1", ("requirements-base.txt:1",), direct=True),
    Component("pyyaml", "5.3.1", ("poetry.lock", "requirements.txt:3"), direct=True),
    Component("requests", None, ("pyproject.toml:12",), direct=True),
    Component("urllib3", "1.26.5", ("poetry.lock",), direct=False),
    Component("rich", "13.7.1", (), direct=False),
)
FINDINGS = (
    vuln(
        "PYSEC-2021-142",
        "pyyaml",
        "5.3.1",
        "requirements.txt",
        3,
        severity=Severity.CRITICAL,
        aliases=("CVE-2020-14343", "GHSA-8q59-q68h-6hv4"),
        fixed=("5.4",),
        severity_source="CVSS:3.1 base 9.8",
    ),
    vuln(
        "PYSEC-2021-142",
        "pyyaml",
        "5.3.1",
        "poetry.lock",
        severity=Severity.CRITICAL,
        aliases=("CVE-2020-14343",),
        fixed=("5.4",),
        suppression=WAIVER,
    ),
    vuln("PYSEC-2019-217", "jinja2", "2.10.1", "requirements-base.txt", 1, fixed=("2.10.2",)),
    vuln("GHSA-h5c8-rqwp-cp95", "jinja2", "2.10.1", "requirements-base.txt", 1, severity=Severity.MEDIUM),
    vuln(
        "PYSEC-2023-192",
        "urllib3",
        "1.26.5",
        "poetry.lock",
        severity=Severity.LOW,
        fixed=("1.26.17", "2.0.6"),
        suppression=Suppression("baseline", "known at adoption", source=".compliance-baseline.json"),
    ),
    # declared with a range: pip-audit resolved it to 2.19.0
    vuln("PYSEC-2018-28", "requests", "2.19.0", "pyproject.toml", 12, fixed=("2.20.0",)),
    # declared by no manifest: a dependency of the range pip-audit resolved
    vuln("PYSEC-2019-99", "idna", "2.7", "pyproject.toml", 12, severity=Severity.INFO),
)


def sbom_run(
    components: tuple[Component, ...] = COMPONENTS, findings: tuple[Finding, ...] = FINDINGS
) -> RunOutput:
    """The writers' sample run, with components and realistic pip-audit findings."""
    run = sample(12)
    results = tuple(
        replace(r, findings=findings) if r.scanner == "pip-audit" else r for r in run.report.results
    )
    return RunOutput(replace(run.report, results=results, components=components), run.raw)


def _components(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["bom-ref"]: c for c in doc.get("components", [])}


def _occurrences(component: dict[str, Any]) -> list[dict[str, Any]]:
    """Without their bom-refs (`<component ref>|<where>`), sorted by location."""
    found = component.get("evidence", {}).get("occurrences", [])
    for o in found:
        assert o["bom-ref"].startswith(component["bom-ref"] + "|")
    return sorted(
        ({k: v for k, v in o.items() if k != "bom-ref"} for o in found), key=lambda o: o["location"]
    )


def _prop(item: dict[str, Any], name: str) -> list[str]:
    return sorted(
        p["value"] for p in item.get("properties", []) if p["name"] == f"compliance-pipeline:{name}"
    )


def _cross_check(report: RunReport, doc: dict[str, Any]) -> None:
    """Components are the run's, vulnerabilities its pip-audit advisories, every ref resolves."""
    comps = _components(doc)
    declared = {(c.name, c.version) for c in report.components}
    found = {(c["name"], c.get("version")) for c in comps.values()}
    extras = {(c["name"], c.get("version")) for c in comps.values() if _prop(c, "origin")}
    assert found - extras == declared and not (extras & declared)
    audited = [f for f in report.findings if f.tool == "pip-audit"]
    assert extras <= {(f.package, f.installed_version) for f in audited}
    vulns = doc.get("vulnerabilities", [])
    assert sorted(v["id"] for v in vulns) == sorted({f.rule_id for f in audited})
    refs = [c["bom-ref"] for c in comps.values()] + [doc["metadata"]["component"]["bom-ref"]]
    refs += [v["bom-ref"] for v in vulns] + [t["bom-ref"] for t in doc["metadata"]["tools"]["components"]]
    assert len(refs) == len(set(refs)), "bom-refs are unique"
    for c in report.components:
        ref = next(
            r for r, x in comps.items() if (x["name"], x.get("version")) == (c.name, c.version or None)
        )
        written = {o["location"] + (f":{o['line']}" if "line" in o else "") for o in _occurrences(comps[ref])}
        assert written == {o for o in c.occurrences if o}
    for v in vulns:
        for target in v.get("affects", []):
            assert target["ref"] in comps
    for d in doc.get("dependencies", []):
        assert d["ref"] in set(refs) and set(d.get("dependsOn", [])) <= set(comps)


def test_hand_built_run_is_valid_and_matches_the_findings() -> None:
    run = sbom_run()
    doc = _validate(sbom.render(run.report))
    _cross_check(run.report, doc)
    assert doc["specVersion"] == "1.6" and doc["bomFormat"] == "CycloneDX"


def test_components_purls_occurrences_and_the_graph() -> None:
    doc = _validate(sbom.render(sbom_run().report))
    comps = {(c["name"], c.get("version")): c for c in doc["components"]}
    pyyaml = comps[("pyyaml", "5.3.1")]
    assert pyyaml["bom-ref"] == pyyaml["purl"] == "pkg:pypi/pyyaml@5.3.1"
    assert pyyaml["type"] == "library" and "scope" not in pyyaml
    assert _occurrences(pyyaml) == [
        {"location": "poetry.lock"},
        {"location": "requirements.txt", "line": 3},
    ]
    assert comps[("requests", None)]["purl"] == "pkg:pypi/requests"
    assert "evidence" not in comps[("rich", "13.7.1")], "no occurrences: no empty evidence"
    assert _prop(pyyaml, "dependency") == ["direct"]
    assert _prop(comps[("urllib3", "1.26.5")], "dependency") == ["transitive"]
    assert _prop(comps[("idna", "2.7")], "origin") == ["pip-audit resolution"]
    graph = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert graph["target"] == sorted(
        c["bom-ref"] for (n, _), c in comps.items() if n in {"jinja2", "pyyaml", "requests"}
    )


def test_vulnerabilities_affects_ratings_references_and_analysis() -> None:
    doc = _validate(sbom.render(sbom_run().report))
    vulns = {v["id"]: v for v in doc["vulnerabilities"]}
    yaml = vulns["PYSEC-2021-142"]
    assert yaml["affects"] == [
        {
            "ref": "pkg:pypi/pyyaml@5.3.1",
            "versions": [
                {"version": "5.3.1", "status": "affected"},
                {"version": "5.4", "status": "unaffected"},
            ],
        }
    ]
    assert yaml["ratings"] == [
        {
            "source": {"name": "compliance-pipeline"},
            "score": 9.8,
            "severity": "critical",
            "method": "CVSSv31",
            "justification": "compliance-pipeline severity level from CVSS:3.1 base 9.8 (docs/vulndb.md, Severity)",
        }
    ]
    assert yaml["source"] == {
        "name": "OSV (local advisory database)",
        "url": "https://osv.dev/vulnerability/PYSEC-2021-142",
    }
    assert yaml["references"] == [
        {
            "id": "CVE-2020-14343",
            "source": {"name": "NVD", "url": "https://nvd.nist.gov/vuln/detail/CVE-2020-14343"},
        },
        {
            "id": "GHSA-8q59-q68h-6hv4",
            "source": {
                "name": "GitHub Advisory Database",
                "url": "https://github.com/advisories/GHSA-8q59-q68h-6hv4",
            },
        },
    ]
    assert yaml["recommendation"] == "Upgrade pyyaml to 5.4 or later."
    assert "analysis" not in yaml, "active in requirements.txt: not analysed away"
    assert _prop(yaml, "status") == ["partly suppressed"]
    assert _prop(yaml, "declared-in") == ["poetry.lock", "requirements.txt:3"]
    assert _prop(yaml, "fingerprint") == sorted(
        f.fingerprint for f in FINDINGS if f.rule_id == "PYSEC-2021-142"
    )
    urllib3 = vulns["PYSEC-2023-192"]
    assert urllib3["analysis"]["state"] == "exploitable"
    assert urllib3["analysis"]["response"] == ["will_not_fix"]
    assert "baseline: known at adoption" in urllib3["analysis"]["detail"]
    assert urllib3["recommendation"] == "Upgrade urllib3 to 1.26.17 or 2.0.6 or later."
    assert vulns["GHSA-h5c8-rqwp-cp95"]["recommendation"].startswith("No fixed release of jinja2")
    requests = vulns["PYSEC-2018-28"]["affects"]
    assert requests[0]["ref"] == "pkg:pypi/requests" and requests[0]["versions"][0] == {
        "version": "2.19.0",
        "status": "affected",
    }


def test_every_severity_maps_to_its_cyclonedx_name() -> None:
    found = tuple(
        vuln(f"PYSEC-0-{s.value}", "pyyaml", "5.3.1", "requirements.txt", 3, severity=s) for s in Severity
    )
    doc = _validate(sbom.render(sbom_run(findings=found).report))
    assert {v["id"]: v["ratings"][0]["severity"] for v in doc["vulnerabilities"]} == {
        f"PYSEC-0-{s.value}": s.label for s in Severity
    }


@pytest.mark.parametrize(
    ("source", "method", "score"),
    [
        ("CVSS:4.0 base 9.3", "CVSSv4", 9.3),
        ("CVSS:3.1 base 7.5 (from GHSA-8q59-q68h-6hv4)", "CVSSv31", 7.5),
        ("CVSS:3.0 base 6.1", "CVSSv3", 6.1),
        ("CVSS:2.0 base 5.0 (NVD v2 ranges)", "CVSSv2", 5.0),
        ("CVSS:3.2 base 5.0", "other", None),
        ("GitHub severity HIGH", "other", None),
        ("policy default (policies/severity.yaml): the advisory has no usable severity", "other", None),
        (None, "other", None),
    ],
)
def test_rating_method_and_score_come_from_the_severity_source(
    source: str | None, method: str, score: float | None
) -> None:
    found = (vuln("PYSEC-1", "pyyaml", "5.3.1", "requirements.txt", 3, severity_source=source),)
    rating = _validate(sbom.render(sbom_run(findings=found).report))["vulnerabilities"][0]["ratings"][0]
    assert (rating["method"], rating.get("score"), rating["severity"]) == (method, score, "high")
    assert (source or "the advisory data or policy") in rating["justification"]


def test_metadata_is_the_run() -> None:
    report = sbom_run().report
    doc = _validate(sbom.render(report))
    meta = doc["metadata"]
    assert dt.datetime.fromisoformat(meta["timestamp"]) == dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    assert doc["serialNumber"] == sbom.serial_number(report).urn
    assert uuid.UUID(doc["serialNumber"]).version == 5
    assert doc["serialNumber"] != sbom.serial_number(replace(report, started_at="2026-11-27T00:00:00Z")).urn
    tools = {t["name"]: t["version"] for t in meta["tools"]["components"]}
    assert tools == {"compliance-pipeline": "0.1.0", "pip-audit": "1.0"}
    target = meta["component"]
    assert target["type"] == "application" and target["name"] == "target"
    assert target["version"] == "a" * 40 and _prop(target, "git:commit") == ["a" * 40]
    assert target["externalReferences"] == [{"type": "vcs", "url": "https://example.invalid/repo.git"}]
    assert _prop(meta, "advisory-database:digest") == ["sha256:" + "1" * 64]
    assert _prop(meta, "config-digest") == [report.config_digest]


def test_same_run_same_bytes_whatever_the_order() -> None:
    run = sbom_run()
    first = sbom.render(run.report)
    assert sbom.render(run.report) == first
    shuffled = list(FINDINGS)
    random.Random(7).shuffle(shuffled)
    components = list(COMPONENTS)
    random.Random(3).shuffle(components)
    assert sbom.render(sbom_run(tuple(components), tuple(shuffled)).report) == first


def test_same_bytes_in_another_process_and_hash_seed() -> None:
    """Nothing in the output may follow set iteration or object ids."""
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        "from test_sbom import sbom_run, ODD_COMPONENTS, ODD_FINDINGS; from pipeline.report import sbom; "
        "sys.stdout.write(sbom.render(sbom_run().report) + sbom.render(sbom_run(ODD_COMPONENTS, ODD_FINDINGS).report))"
    )
    expected = sbom.render(sbom_run().report) + sbom.render(sbom_run(ODD_COMPONENTS, ODD_FINDINGS).report)
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONIOENCODING": "utf-8:surrogateescape"},
            capture_output=True,
            check=True,
            encoding="utf-8",
            errors="surrogateescape",
        ).stdout
        assert out == expected


ODD_COMPONENTS = (
    Component("name with spaces", "1.0 beta", ("req s.txt:2",), direct=True),
    Component("", None, (), direct=False),
    Component("nover", None, (), direct=True),
    Component("ünïcödé", "1!2.0.post1+local", ("dir:with:colons", "bad\udcff.txt:7", ""), direct=False),
    Component("nover", "1", ("x.txt:0",), direct=True),
    Component("Foo_Bar", "1", (), direct=True),
    Component("foo-bar", "1", (), direct=True),
)
ODD_FINDINGS = (
    vuln("ODD ID #1 %zz", "name with spaces", "1.0 beta", "req s.txt", aliases=("alias with space", "%zz")),
    vuln("PYSEC-1", None, None, "requirements.txt", help_url="javascript:alert(1)"),
    vuln("PYSEC-2", "ünïcödé", "1!2.0.post1+local", "dir:with:colons", help_url="https://x.invalid/#a#b"),
    vuln("", "nover", None, "x.txt", fixed=("", "2")),
    vuln("PYSEC-3", "foo-bar", "1", "x.txt"),
)


def test_odd_input_never_raises_and_stays_valid() -> None:
    run = sbom_run(ODD_COMPONENTS, ODD_FINDINGS)
    doc = _validate(sbom.render(run.report))
    _cross_check(run.report, doc)
    comps = {(c["name"], c.get("version")): c for c in doc["components"]}
    assert comps[("name with spaces", "1.0 beta")]["purl"] == "pkg:pypi/name%20with%20spaces@1.0%20beta"
    assert "purl" not in comps[("", None)]
    occurrences = _occurrences(comps[("ünïcödé", "1!2.0.post1+local")])
    assert {"location": "dir:with:colons"} in occurrences and {
        "location": "bad\udcff.txt",
        "line": 7,
    } in occurrences
    assert sorted(c["bom-ref"] for c in doc["components"] if c["name"].lower().startswith("foo")) == [
        "pkg:pypi/foo-bar@1",
        "pkg:pypi/foo-bar@1#2",
    ]
    vulns = {v["id"]: v for v in doc["vulnerabilities"]}
    assert "url" not in vulns["PYSEC-1"]["source"] and "affects" not in vulns["PYSEC-1"]


@pytest.mark.parametrize("n", [0, 12, 2000])
def test_writer_samples_are_valid(n: int) -> None:
    report = sample(n).report
    doc = _validate(sbom.render(report))
    _cross_check(report, doc)
    if not n:
        assert "vulnerabilities" not in doc and "components" not in doc


def test_an_empty_project_with_only_transitive_components_does_not_warn(
    recwarn: pytest.WarningsRecorder,
) -> None:
    run = sbom_run((Component("urllib3", "1.26.5", ("poetry.lock",), direct=False),), ())
    _validate(sbom.render(run.report))
    assert not [w for w in recwarn if "Component this BOM" in str(w.message)]


def test_bundle_carries_the_sbom_in_its_manifest(tmp_path: Path) -> None:
    run = sbom_run()
    out = evidence.write(run, tmp_path / "ev")
    text = (out / "sbom.cdx.json").read_text(encoding="utf-8")
    assert text == sbom.render(run.report)
    _validate(text)
    listed = json.loads((out / "manifest.json").read_text())["files"]
    assert listed["sbom.cdx.json"]["sha256"] == evidence.sha256(text.encode())
    assert evidence.verify(out).intact and evidence.writer_errors(out) == []
    files = evidence.render_files(run, resources.templates_dir())
    data = {p: b for p, b in files.items() if p != "report.html"}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert evidence.evidence_digest(data) in page, "the report's evidence digest covers the SBOM"
    assert '<a href="sbom.cdx.json">sbom.cdx.json</a> (CycloneDX 1.6)' in page
    (out / "sbom.cdx.json").write_text(text.replace("pyyaml", "pyyam1"))
    assert evidence.verify(out).changed == ("sbom.cdx.json",)


def test_a_failing_sbom_writer_is_recorded_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_report: RunReport) -> str:
        raise ValueError("no SBOM today")

    monkeypatch.setattr(sbom, "render", broken)
    out = evidence.write(sbom_run(), tmp_path / "ev")
    assert evidence.writer_errors(out) == ["sbom.cdx.json: ValueError: no SBOM today"]
    assert "could not be written" in (out / "sbom.cdx.json").read_text()
    assert json.loads((out / "findings.json").read_text())["findings"]
    assert evidence.verify(out).intact


def test_report_links_the_sbom() -> None:
    page = html.render(sample(0).report, resources.templates_dir(), "sha256:" + "2" * 64)
    assert "Software bill of materials" in page and 'href="sbom.cdx.json"' in page


@pytest.mark.tools
def test_demo_repository_sbom(tmp_path: Path, demo_config: Config) -> None:
    """A real pip-audit run on the demo repository (offline advisory database)."""
    run = scan(copy_demo(tmp_path), only(demo_config, "pip-audit"))
    report = run.report
    assert report.components and any(f.tool == "pip-audit" for f in report.findings)
    doc = _validate(sbom.render(report))
    _cross_check(report, doc)
    assert not [c for c in doc["components"] if _prop(c, "origin")], "every package is declared"
    assert {(c["name"], c["version"]) for c in doc["components"]} >= {
        ("pyyaml", "5.3.1"),
        ("jinja2", "2.10.1"),
    }
    for c in doc["components"]:
        assert c["evidence"]["occurrences"], "every declared component says where"
    vulns = {v["id"]: v for v in doc["vulnerabilities"]}
    for f in report.findings:
        if f.tool == "pip-audit":
            v = vulns[f.rule_id]
            assert (
                v["ratings"][0]["severity"] == f.severity.label
                or f.severity < Severity[v["ratings"][0]["severity"].upper()]
            )
            assert set(f.aliases) - {f.rule_id} <= {r["id"] for r in v.get("references", [])}
            assert v["source"]["name"] == "OSV (local advisory database)"
    assert sbom.render(report) == sbom.render(report)
