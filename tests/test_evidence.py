"""The evidence bundle: golden writers, SARIF schema, HTML5, limits, manifest and verify."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import html5lib
import jsonschema
import pytest
from conftest import DATA
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from samples import HOSTILE_PATH, HOSTILE_SNIPPET, sample

from pipeline import evidence, resources
from pipeline.report import html, markdown, sarif
from pipeline.report import json as json_report

GOLDEN = Path(__file__).parent / "golden"
SARIF_SCHEMA = json.loads((DATA / "sarif" / "sarif-schema-2.1.0.json").read_text())


def _check_golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.read_text() == text, f"{name} changed: review, then refresh with pytest --update-golden"


@pytest.mark.parametrize("name", ["findings.json", "results.sarif", "summary.md", "report.html"])
def test_writers_match_golden_files(name: str, update_golden: bool) -> None:
    run = sample(12, failed_checkov=True)
    text = {
        "findings.json": lambda: json_report.render(run.report),
        "results.sarif": lambda: sarif.render(run.report),
        "summary.md": lambda: markdown.render(run.report),
        "report.html": lambda: html.render(run.report, resources.templates_dir(), "sha256:" + "2" * 64),
    }[name]()
    _check_golden(name, text, update_golden)


@pytest.mark.parametrize("n", [0, 12, 10_000])
def test_sarif_validates_against_the_oasis_schema(n: int) -> None:
    doc = sarif.to_dict(sample(n, failed_checkov=True).report)
    jsonschema.validate(doc, SARIF_SCHEMA)
    runs = {r["tool"]["driver"]["name"]: r for r in doc["runs"]}
    assert runs["checkov"]["invocations"][0]["executionSuccessful"] is False
    assert (
        "Segmentation fault"
        in runs["checkov"]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    )
    for run in doc["runs"]:
        for res in run["results"]:
            assert res["partialFingerprints"]["compliancePipeline/v1"]
        for rule in run["tool"]["driver"]["rules"]:
            assert float(rule["properties"]["security-severity"]) >= 0 and rule["help"]["text"]


def test_sarif_keeps_the_most_severe_within_limits() -> None:
    doc = sarif.to_dict(sample(400).report, max_results=50)
    for run in doc["runs"]:
        kept = run["results"]
        assert len(kept) <= 50
        if run["properties"]["resultsLeftOut"]:
            notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
            assert any("left out" in t for t in notes)
            levels = [r["properties"]["severity"] for r in kept]
            assert "critical" in levels and "info" not in levels


@pytest.mark.parametrize("n", [0, 10_000])
def test_html_is_valid_html5_and_self_contained(n: int) -> None:
    page = html.render(sample(n).report, resources.templates_dir(), "sha256:" + "2" * 64)
    html5lib.HTMLParser(strict=True).parse(page)
    assert " src=" not in page and "<link" not in page and "@import" not in page and "url(" not in page
    if n:
        assert len(page.encode()) <= 10 * 1024 * 1024


def test_hostile_content_renders_as_text() -> None:
    page = html.render(sample(3).report, resources.templates_dir(), "sha256:" + "2" * 64)
    assert "<script>window.__pwned" not in page and "</textarea><script>" not in page
    assert "&lt;/textarea&gt;&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    assert "alert(&#34;x&#34;)" in page or "alert(&quot;x&quot;)" in page
    assert 'href="javascript:' not in page
    md = markdown.render(sample(3).report)
    assert "<script>" not in md and HOSTILE_PATH not in md
    sarif_doc = sarif.to_dict(sample(3).report)
    snippets = [
        r["locations"][0]["physicalLocation"].get("region", {}).get("snippet", {}).get("text")
        for run in sarif_doc["runs"]
        for r in run["results"]
    ]
    assert HOSTILE_SNIPPET in snippets  # data formats keep the text; only HTML and Markdown escape


def test_ten_thousand_findings_all_writers(tmp_path: Path) -> None:
    run = sample(10_000)
    out = evidence.write(run, tmp_path / "ev")  # its time is measured by bench/evidence_bench.py
    doc = json.loads((out / "findings.json").read_text())
    assert doc["summary"]["findings"] == 10_002 and doc["summary"]["suppressed"] == 1


def _key_pair(tmp_path: Path) -> tuple[Ed25519PrivateKey, Path]:
    key = Ed25519PrivateKey.generate()
    pub = tmp_path / "key.pub"
    pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, pub


def test_verify_detects_every_change(tmp_path: Path) -> None:
    key, pub = _key_pair(tmp_path)
    out = evidence.write(sample(12), tmp_path / "ev", signing_key=key, make_zip=True)
    public = evidence.load_public_key(pub.read_text())
    assert evidence.verify(out, public).intact
    assert evidence.verify(out.with_suffix(".zip"), public).intact
    files = sorted(
        p for p in out.rglob("*") if p.is_file() and p.name not in ("manifest.json", "manifest.sig")
    )
    assert {p.relative_to(out).as_posix() for p in files} >= {
        "findings.json",
        "results.sarif",
        "summary.md",
        "report.html",
        "raw/bandit.json",
    }
    for path in files:
        original = path.read_bytes()
        for offset in (0, len(original) // 2, len(original) - 1):
            tampered = bytearray(original)
            tampered[offset] ^= 0x01
            path.write_bytes(bytes(tampered))
            result = evidence.verify(out, public)
            assert not result.intact and result.changed == (path.relative_to(out).as_posix(),)
        path.write_bytes(original)
    victim = out / "summary.md"
    saved = victim.read_bytes()
    victim.unlink()
    assert evidence.verify(out).missing == ("summary.md",)
    victim.write_bytes(saved)
    (out / "raw" / "extra.json").write_text("{}")
    assert evidence.verify(out).extra == ("raw/extra.json",)
    (out / "raw" / "extra.json").unlink()
    assert evidence.verify(out, public).intact


def test_signature_checks(tmp_path: Path) -> None:
    key, _ = _key_pair(tmp_path)
    (tmp_path / "other").mkdir()
    _, other_pub = _key_pair(tmp_path / "other")
    out = evidence.write(sample(3), tmp_path / "ev", signing_key=key)
    assert evidence.verify(out, evidence.load_public_key(other_pub.read_text())).signature == "invalid"
    assert not evidence.verify(out, evidence.load_public_key(other_pub.read_text())).intact
    manifest = out / "manifest.json"
    doc = json.loads(manifest.read_text())
    doc["config_digest"] = "sha256:" + "f" * 64
    manifest.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    raw = base64.b64decode(json.loads((out / "manifest.sig").read_text())["public_key"])
    own = evidence.load_public_key(base64.b64encode(raw).decode())
    assert evidence.verify(out, own).signature == "invalid", "an edited manifest breaks the signature"
    unsigned = evidence.write(sample(3), tmp_path / "plain")
    assert evidence.verify(unsigned, own).signature == "missing"
    assert not evidence.verify(unsigned, own).intact


def test_a_writer_that_raises_leaves_the_rest_of_the_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> str:
        raise TypeError("the template broke at line 3")

    monkeypatch.setattr(html, "render", broken)
    out = evidence.write(sample(5), tmp_path / "ev")
    assert json.loads((out / "findings.json").read_text())["findings"]
    assert (out / "results.sarif").stat().st_size > 100
    assert evidence.writer_errors(out) == ["report.html: TypeError: the template broke at line 3"]
    assert "could not be written" in (out / "report.html").read_text()
    assert evidence.verify(out).intact  # the failure note is part of the signed manifest
