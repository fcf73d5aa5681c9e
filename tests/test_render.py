"""Helm charts and kustomize overlays are rendered in the sandbox and scanned (issue 11).

Before: a chart's templates counted as Kubernetes files, checkov skipped them (it
drops any file with `{{ .Values.`), and the run said PASS; overlays were never
built. These run the real helm, kubectl kustomize, bubblewrap and checkov.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import only, scan

from pipeline import gate, render, renderers
from pipeline.config import default_config
from pipeline.discover import discover
from pipeline.model import Status
from pipeline.runner import run as run_tool
from pipeline.scanners import SCANNER_NAMES

pytestmark = pytest.mark.tools


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: "nginx:{{ .Values.tag }}"
        securityContext:
          privileged: {{ .Values.privileged }}
"""
POD = """apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: c
    image: nginx
"""


def _chart(folder: Path, name: str = "web", extra_chart: str = "") -> Path:
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n{extra_chart}")
    (folder / "values.yaml").write_text("replicas: 2\ntag: '1.25'\nprivileged: true\n")
    (folder / "templates" / "deployment.yaml").write_text(DEPLOYMENT)
    return folder


def _checkov(run: object) -> object:
    return next(r for r in run.report.results if r.scanner == "checkov")  # type: ignore[attr-defined]


def _config() -> object:
    return only(default_config(SCANNER_NAMES), "checkov")


def test_a_helm_chart_is_rendered_and_its_findings_name_the_template(tmp_path: Path) -> None:
    # The chart's folder name differs from its name: checkov's own helm framework
    # reports such findings at a path that does not exist.
    _chart(tmp_path / "deploy" / "chart", name="web")
    run = scan(tmp_path, _config())  # type: ignore[arg-type]
    ck = _checkov(run)
    assert ck.status is Status.OK, ck.errors  # type: ignore[attr-defined]
    privileged = [f for f in ck.findings if f.rule_id == "CKV_K8S_16"]  # type: ignore[attr-defined]
    assert [f.location.path for f in privileged] == ["deploy/chart/templates/deployment.yaml"]
    assert "rendered from deploy/chart/Chart.yaml" in privileged[0].location.resource
    assert privileged[0].location.start_line is None  # rendered lines are not the template's
    assert not ck.not_assessed  # type: ignore[attr-defined]
    assert "helm" in run.report.frameworks
    assert gate.exit_code(run.report) == gate.EXIT_FINDINGS


def test_a_kustomize_overlay_is_built_and_findings_point_at_the_base_file(tmp_path: Path) -> None:
    base = tmp_path / "k8s" / "base"
    prod = tmp_path / "k8s" / "overlays" / "prod"
    base.mkdir(parents=True)
    prod.mkdir(parents=True)
    (base / "pod.yaml").write_text(POD)
    (base / "kustomization.yaml").write_text("resources:\n- pod.yaml\n")
    (prod / "privileged.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n"
        "  - name: c\n    securityContext:\n      privileged: true\n"
    )
    (prod / "kustomization.yaml").write_text(
        "namePrefix: prod-\nresources:\n- ../../base\npatches:\n- path: privileged.yaml\n"
    )
    run = scan(tmp_path, _config())  # type: ignore[arg-type]
    ck = _checkov(run)
    assert ck.status is Status.OK, ck.errors  # type: ignore[attr-defined]
    privileged = [
        f
        for f in ck.findings  # type: ignore[attr-defined]
        if f.rule_id == "CKV_K8S_16" and f.location.path == "k8s/base/pod.yaml"
    ]
    assert len(privileged) == 1  # the base alone is not privileged: only the overlay's build is
    assert "prod-app" in privileged[0].location.resource
    assert "rendered from k8s/overlays/prod/kustomization.yaml" in privileged[0].location.resource
    assert not ck.not_assessed  # type: ignore[attr-defined]


def test_a_chart_with_unvendored_dependencies_is_not_assessed(tmp_path: Path) -> None:
    deps = "dependencies:\n- name: redis\n  version: 17.0.0\n  repository: https://charts.example.invalid\n"
    _chart(tmp_path / "chart", extra_chart=deps)
    run = scan(tmp_path, _config())  # type: ignore[arg-type]
    ck = _checkov(run)
    reasons = {n.item: n.reason for n in ck.not_assessed}  # type: ignore[attr-defined]
    assert "helm template failed" in reasons["chart/Chart.yaml"]
    assert "missing in charts/ directory" in reasons["chart/Chart.yaml"]
    assert not (tmp_path / "chart" / "Chart.lock").exists()  # never written into the target
    assert gate.exit_code(run.report) == gate.EXIT_INCOMPLETE


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: remote\n")

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture
def http_server() -> Iterator[str]:
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_hostile_charts_and_overlays_reach_neither_the_network_nor_outside(
    tmp_path: Path, http_server: str
) -> None:
    outside = tmp_path / "outside-secret.txt"
    outside.write_text("OUTSIDE-MARKER-7731\n")
    target = tmp_path / "t"
    chart = _chart(target / "chart")
    (chart / "values.schema.json").write_text(f'{{"$ref": "{http_server}/schema.json"}}')
    (chart / "leak.txt").symlink_to(outside)
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n"
        '  a: {{ .Files.Get "leak.txt" | quote }}\n'
        '  b: {{ .Files.Get "../../outside-secret.txt" | quote }}\n'
    )
    remote = target / "remote"
    remote.mkdir()
    (remote / "kustomization.yaml").write_text(f"resources:\n- {http_server}/pod.yaml\n")
    escape = target / "escape"
    escape.mkdir()
    (escape / "kustomization.yaml").write_text("resources:\n- ../../outside-secret.txt\n")
    run = scan(target, _config())  # type: ignore[arg-type]
    ck = _checkov(run)
    assert _Recorder.hits == []
    raw = str(run.raw)
    assert "OUTSIDE-MARKER-7731" not in raw
    assert "OUTSIDE-MARKER-7731" not in str(run.report)
    reasons = {n.item: n.reason for n in ck.not_assessed}  # type: ignore[attr-defined]
    assert "kustomize build failed" in reasons["remote/kustomization.yaml"]
    assert "kustomize build failed" in reasons["escape/kustomization.yaml"]
    assert sorted(p.name for p in target.iterdir()) == ["chart", "escape", "remote"]


def test_without_renderers_charts_and_overlays_are_not_assessed(tmp_path: Path) -> None:
    _chart(tmp_path / "chart")
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "kustomization.yaml").write_text("resources: []\n")
    inv = discover(tmp_path, run_tool)
    tools = renderers.locate(
        {"PATH": str(tmp_path / "none"), "COMPLIANCE_PIPELINE_CACHE": str(tmp_path / "c")}
    )
    got = render.render_all(inv, tools, run_tool, tmp_path / "out")
    reasons = {n.item: n.reason for n in got.not_assessed}
    assert set(reasons) == {"chart/Chart.yaml", "k/kustomization.yaml"}
    assert "helm and kubectl not installed" in reasons["chart/Chart.yaml"]
    assert "bubblewrap" in reasons["k/kustomization.yaml"]
    assert inv.iac["helm"] == ("chart/Chart.yaml", "chart/templates/deployment.yaml")
    assert "kubernetes" not in inv.iac  # templates are not manifests checkov reads as they are


def test_a_manifest_that_looks_like_a_helm_template_is_not_assessed(tmp_path: Path) -> None:
    # checkov drops any Kubernetes file with `{{ .Values.` in it, a comment included.
    (tmp_path / "pod.yaml").write_text("# {{ .Values.hidden }}\n" + POD)
    (tmp_path / "ok.yaml").write_text(POD.replace("name: app", "name: ok"))
    run = scan(tmp_path, _config())  # type: ignore[arg-type]
    ck = _checkov(run)
    reasons = {n.item: n.reason for n in ck.not_assessed}  # type: ignore[attr-defined]
    assert "takes it for a Helm template" in reasons["pod.yaml"]
    assert "ok.yaml" not in reasons
    assert gate.exit_code(run.report) == gate.EXIT_INCOMPLETE


NETWORK_POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-all
spec:
  podSelector: {}
  ingress:
  - {}
"""


def test_each_render_is_its_own_graph(tmp_path: Path) -> None:
    # A NetworkPolicy of an overlay must not count for the chart's pods (CKV2_K8S_6):
    # with one checkov job for every render, it did (12 findings missed on a real repository).
    _chart(tmp_path / "chart")
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "netpol.yaml").write_text(NETWORK_POLICY)
    (tmp_path / "k" / "kustomization.yaml").write_text("resources:\n- netpol.yaml\n")
    run = scan(tmp_path, _config())  # type: ignore[arg-type]
    ck = _checkov(run)
    assert ck.status is Status.OK, ck.errors  # type: ignore[attr-defined]
    graph = [f for f in ck.findings if f.rule_id == "CKV2_K8S_6"]  # type: ignore[attr-defined]
    assert [f.location.path for f in graph] == ["chart/templates/deployment.yaml"]
    rendered_jobs = [i for i in ck.invocations if "<workdir>/rendered" in " ".join(i.argv)]  # type: ignore[attr-defined]
    assert len(rendered_jobs) == 2


def test_kustomize_components_are_built_inside_the_overlays_that_include_them(tmp_path: Path) -> None:
    component = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
    for name in ("used", "unused"):
        (tmp_path / "components" / name).mkdir(parents=True)
        (tmp_path / "components" / name / "kustomization.yaml").write_text(
            component + "patches:\n- path: priv.yaml\n  target: {kind: Pod}\n"
        )
        (tmp_path / "components" / name / "priv.yaml").write_text(
            "- op: add\n  path: /spec/hostNetwork\n  value: true\n"
        )
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "pod.yaml").write_text(POD)
    (tmp_path / "app" / "kustomization.yaml").write_text(
        "resources:\n- pod.yaml\ncomponents:\n- ../components/used\n"
    )
    run = scan(tmp_path, _config())  # type: ignore[arg-type]
    ck = _checkov(run)
    reasons = {n.item: n.reason for n in ck.not_assessed}  # type: ignore[attr-defined]
    assert reasons == {"components/unused/kustomization.yaml": render.UNUSED_COMPONENT}
    host_network = [f for f in ck.findings if f.rule_id == "CKV_K8S_19"]  # type: ignore[attr-defined]
    assert [f.location.path for f in host_network] == ["app/pod.yaml"]  # the component's patch, built
