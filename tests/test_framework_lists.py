"""Complete requirement lists (issue 16, item 1): each framework file lists every
requirement of its version, each with a class (automated, partial with what the scan
covers, manual, or not applicable with the reason), and the report counts them."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from samples import sample

from pipeline import controls, resources
from pipeline.model import ControlStatus

CATALOG = controls.load(resources.policies_dir())

SOC2 = (
    [f"CC1.{i}" for i in range(1, 6)]
    + [f"CC2.{i}" for i in range(1, 4)]
    + [f"CC3.{i}" for i in range(1, 5)]
    + [f"CC4.{i}" for i in range(1, 3)]
    + [f"CC5.{i}" for i in range(1, 4)]
    + [f"CC6.{i}" for i in range(1, 9)]
    + [f"CC7.{i}" for i in range(1, 6)]
    + ["CC8.1", "CC9.1", "CC9.2", "A1.1", "A1.2", "A1.3", "C1.1", "C1.2"]
    + [f"PI1.{i}" for i in range(1, 6)]
    + ["P1.1", "P2.1", "P3.1", "P3.2", "P4.1", "P4.2", "P4.3", "P5.1", "P5.2"]
    + [f"P6.{i}" for i in range(1, 8)]
    + ["P7.1", "P8.1"]
)
"""The 2017 Trust Services Criteria: 33 common criteria, A1, C1, PI1 and the privacy criteria."""
ISO = list(
    itertools.chain(
        (f"A.5.{i}" for i in range(1, 38)),
        (f"A.6.{i}" for i in range(1, 9)),
        (f"A.7.{i}" for i in range(1, 15)),
        (f"A.8.{i}" for i in range(1, 35)),
    )
)
"""ISO/IEC 27001:2022 Annex A: 37 organisational, 8 people, 14 physical, 34 technological."""


@pytest.mark.parametrize(("framework", "expected"), [("soc2", SOC2), ("iso27001", ISO)])
def test_every_requirement_is_listed_once(framework: str, expected: list[str]) -> None:
    ids = [c.id for c in CATALOG.frameworks[framework].controls]
    assert len(expected) == len(set(expected)) and len(ids) == len(set(ids))
    assert sorted(ids) == sorted(expected), (set(expected) - set(ids), set(ids) - set(expected))


@pytest.mark.parametrize("framework", sorted(CATALOG.frameworks))
def test_every_requirement_has_a_class_and_its_explanation(framework: str) -> None:
    for c in CATALOG.frameworks[framework].controls:
        assert c.assessment in controls.ASSESSMENTS, c.id
        evidenced = bool(c.domains or c.rules)
        assert evidenced == (c.assessment in ("automated", "partial")), c.id
        assert (c.assessment == "partial") == bool(c.covers), c.id
        assert (c.assessment == "not-applicable") == bool(c.reason), c.id
        assert c.source, c.id


def test_the_loader_refuses_a_class_without_its_explanation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    policies = tmp_path / "policies"
    shutil.copytree(resources.policies_dir(), policies)
    soc2 = policies / "controls" / "soc2.yaml"
    soc2.write_text(
        soc2.read_text().replace(
            "    class: not-applicable\n    reason:", "    class: not-applicable\n    note:", 1
        )
    )
    with pytest.raises(controls.PolicyError, match=r"unknown keys|gives its reason"):
        controls.load(policies)
    shutil.copytree(resources.policies_dir() / "controls", policies / "controls", dirs_exist_ok=True)
    soc2.write_text(
        soc2.read_text().replace("    class: partial\n    covers:", "    class: partial\n    note:", 1)
    )
    with pytest.raises(controls.PolicyError, match=r"unknown keys|says what the scan covers"):
        controls.load(policies)


def test_a_run_lists_every_requirement_and_never_passes_what_it_cannot_see() -> None:
    report = sample().report
    soc2 = [c for c in report.controls if c.framework == "soc2"]
    assert len(soc2) == len(SOC2)
    by = Counter(c.status for c in soc2 if c.assessment == "not-applicable")
    assert by == Counter(
        {ControlStatus.NOT_APPLICABLE: sum(1 for c in soc2 if c.assessment == "not-applicable")}
    )
    assert all(
        c.status is not ControlStatus.PASS for c in soc2 if c.assessment in ("manual", "not-applicable")
    )
    (cc64,) = [c for c in soc2 if c.control_id == "CC6.4"]
    assert cc64.reason.startswith("not applicable to a repository scan: physical access")


def test_the_report_counts_requirements_by_class() -> None:
    from pipeline import evidence

    page = evidence.render_files(sample(), resources.templates_dir())["report.html"].decode()
    cov = Counter(c.assessment for c in CATALOG.frameworks["soc2"].controls)
    expected = (
        f"{len(SOC2)} requirements: {cov['automated']} automated, {cov['partial']} partial (the scan covers part), "
        f"{cov['manual']} manual (human evidence), {cov['not-applicable']} not applicable to a repository scan."
    )
    assert expected in page


def test_the_quarterly_report_counts_requirements_by_class(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from pipeline import ledger
    from pipeline.report import json as json_writer
    from pipeline.report import quarterly

    doc = json_writer.to_dict(sample().report)
    record = ledger.record_from_findings_json(doc, "sha256:" + "0" * 64)
    q = quarterly.load_quarter([("repo", 1, "d", record)], "2026-Q4", set(), today=dt.date(2026, 12, 1))
    s = quarterly.summarise(q, quarterly.DEFAULT_SLA_DAYS)
    cov = s["coverage"]["soc2"]
    expected = Counter(c.assessment for c in CATALOG.frameworks["soc2"].controls)
    assert cov["total"] == len(SOC2) and cov["by_class"] == {
        k: expected.get(k, 0) for k in controls.ASSESSMENTS
    }
    assert cov["assessed"] == expected["automated"] + expected["partial"]
    assert "soc2 CC6.4" not in s["never_assessed"], "not applicable is not 'never assessed'"
    page = quarterly.render_html(s, resources.templates_dir(), "2026-12-01T00:00:00Z")
    assert (
        f"{len(SOC2)} requirements: {expected['automated']} automated, {expected['partial']} partial" in page
    )


HIPAA = [
    "164.308(a)(1)(i)", "164.308(a)(1)(ii)(A)", "164.308(a)(1)(ii)(B)", "164.308(a)(1)(ii)(C)",
    "164.308(a)(1)(ii)(D)", "164.308(a)(2)", "164.308(a)(3)(i)", "164.308(a)(3)(ii)(A)",
    "164.308(a)(3)(ii)(B)", "164.308(a)(3)(ii)(C)", "164.308(a)(4)(i)", "164.308(a)(4)(ii)(A)",
    "164.308(a)(4)(ii)(B)", "164.308(a)(4)(ii)(C)", "164.308(a)(5)(i)", "164.308(a)(5)(ii)(A)",
    "164.308(a)(5)(ii)(B)", "164.308(a)(5)(ii)(C)", "164.308(a)(5)(ii)(D)", "164.308(a)(6)(i)",
    "164.308(a)(6)(ii)", "164.308(a)(7)(i)", "164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)",
    "164.308(a)(7)(ii)(C)", "164.308(a)(7)(ii)(D)", "164.308(a)(7)(ii)(E)", "164.308(a)(8)",
    "164.308(b)(1)", "164.308(b)(3)", "164.310(a)(1)", "164.310(a)(2)(i)", "164.310(a)(2)(ii)",
    "164.310(a)(2)(iii)", "164.310(a)(2)(iv)", "164.310(b)", "164.310(c)", "164.310(d)(1)",
    "164.310(d)(2)(i)", "164.310(d)(2)(ii)", "164.310(d)(2)(iii)", "164.310(d)(2)(iv)",
    "164.312(a)(1)", "164.312(a)(2)(i)", "164.312(a)(2)(ii)", "164.312(a)(2)(iii)",
    "164.312(a)(2)(iv)", "164.312(b)", "164.312(c)(1)", "164.312(c)(2)", "164.312(d)",
    "164.312(e)(1)", "164.312(e)(2)(i)", "164.312(e)(2)(ii)", "164.314(a)(1)",
    "164.314(a)(2)(i)", "164.314(a)(2)(ii)", "164.314(a)(2)(iii)", "164.314(b)(1)",
    "164.314(b)(2)", "164.316(a)", "164.316(b)(1)", "164.316(b)(2)(i)", "164.316(b)(2)(ii)",
    "164.316(b)(2)(iii)",
]  # fmt: skip
"""45 CFR 164.308–164.316: every standard and implementation specification."""

NIST_FAMILIES = {
    "AC": (25, {13, 15}),
    "AU": (16, {15}),
    "CM": (14, set()),
    "CP": (13, {5}),
    "IA": (13, set()),
    "RA": (10, {4}),
    "SA": (24, {6, 7, 12, 13, 14, 18, 19}),
    "SC": (51, {9, 14, 19, 33}),
    "SI": (23, {9}),
    "SR": (12, set()),
}
"""SP 800-53 Rev. 5 (release 5.2.0): controls per family and the withdrawn ones."""


def test_hipaa_lists_every_standard_and_implementation_specification() -> None:
    ids = [c.id for c in CATALOG.frameworks["hipaa"].controls]
    assert ids == HIPAA, "in regulation order"


def test_nist_lists_every_base_control_of_the_families_it_covers() -> None:
    ids = {c.id for c in CATALOG.frameworks["nist-800-53"].controls}
    for family, (last, withdrawn) in NIST_FAMILIES.items():
        expected = {f"{family}-{n}" for n in range(1, last + 1) if n not in withdrawn}
        base = {i for i in ids if i.startswith(family + "-") and "(" not in i}
        assert base == expected, (family, expected - base, base - expected)
    assert {i.split("-")[0] for i in ids} <= {*NIST_FAMILIES, "PL"}, (
        "the families left out are stated in the file"
    )


def test_pci_lists_the_defined_requirements_of_all_twelve() -> None:
    ids = [c.id for c in CATALOG.frameworks["pci-dss"].controls]
    assert len(ids) == len(set(ids)) and len(ids) >= 200
    assert {i.split(".")[0] for i in ids} == {str(n) for n in range(1, 13)}
    assert {"1.2.1", "3.5.1", "4.2.1", "6.3.3", "8.6.2", "10.2.1", "11.3.1", "12.10.1"} <= set(ids)
    key = [tuple(int(p) for p in i.split(".")) for i in ids]
    assert key == sorted(key), "in requirement order"
