"""The content-addressed result cache (issue 15, item 2), with the real tools: a hit
reproduces the cold run's findings and fingerprints; a change to a file, the tool lock,
the policy data or code, the advisory database or a relevant setting misses; two
concurrent scans fill it; a corrupted entry is discarded; the evidence records reuse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_demo, fixed_clock

from pipeline import cache, reuse, runner
from pipeline.config import Config
from pipeline.run import RunOutput, execute
from pipeline.scanners import registry

pytestmark = pytest.mark.tools


def _scan(target: Path, cfg: Config, store: cache.ResultCache, origin: str) -> RunOutput:
    out = execute(target, cfg, registry(), runner.run, fixed_clock, dict(os.environ), store=store)
    store.put(out.cache_entries, origin)
    return out


def _findings(out: RunOutput) -> list[tuple[str, str, str, int | None, str, str]]:
    return sorted(
        (f.tool, f.fingerprint, f.location.path, f.location.start_line, f.severity.label, f.state)
        for f in out.report.findings
    )


def _by(out: RunOutput) -> dict[str, Any]:
    return {r.scanner: r for r in out.report.results}


def test_a_hit_reproduces_the_cold_run(tmp_path: Path, demo_config: Config) -> None:
    target = copy_demo(tmp_path)
    store = cache.ResultCache(tmp_path / "cache")
    cold = _scan(target, demo_config, store, "sha256:run-1")
    assert store.stats.written > 0 and store.stats.hits == 0
    warm = _scan(target, demo_config, cache.ResultCache(tmp_path / "cache"), "sha256:run-2")
    assert _findings(warm) == _findings(cold), "the same findings, fingerprints and lines"
    assert [(c.framework, c.control_id, c.status) for c in warm.report.controls] == [
        (c.framework, c.control_id, c.status) for c in cold.report.controls
    ]
    cold_by, warm_by = _by(cold), _by(warm)
    for name in ("bandit", "checkov", "pip-audit"):
        assert warm_by[name].cache is not None, name
        assert warm_by[name].cache.origins == ("sha256:run-1",)
        assert warm_by[name].invocations == (), f"{name} did not run again"
        assert warm_by[name].assessed == cold_by[name].assessed
        assert warm_by[name].rules_run == cold_by[name].rules_run
        assert warm_by[name].tool == cold_by[name].tool
    # detect-secrets: files without a finding are reused; the ones holding a secret are
    # scanned again, every run.
    secret_files = {f.location.path for f in cold.report.findings if f.tool == "detect-secrets"}
    ds = warm_by["detect-secrets"]
    assert ds.cache is not None and ds.cache.items == cold_by["detect-secrets"].assessed - len(secret_files)
    assert ds.invocations, "the files with secrets ran again"
    assert warm.raw["bandit"]["reused"] == {"items": warm_by["bandit"].cache.items, "from": ["sha256:run-1"]}


def test_no_secret_and_no_identity_of_one_is_kept(tmp_path: Path, demo_config: Config) -> None:
    target = copy_demo(tmp_path)
    cold = _scan(target, demo_config, cache.ResultCache(tmp_path / "cache"), "sha256:run-1")
    docs = [json.loads(p.read_text()) for p in (tmp_path / "cache").rglob("*.json")]
    assert docs, "entries were written"
    kept = [f for d in docs for f in d["payload"]["findings"]]
    assert not [f for f in kept if f["tool"] == "detect-secrets"], "no secret finding is ever cached"
    text = json.dumps(docs)
    secrets = [f for f in cold.report.findings if f.tool == "detect-secrets"]
    assert secrets and not [f for f in secrets if f.fingerprint.split(":")[0] in text]
    assert "AKIA" not in text and "hashed_secret" not in text and "legacy_fingerprint" not in text


def test_a_changed_file_misses_and_only_it_is_scanned(tmp_path: Path, demo_config: Config) -> None:
    target = copy_demo(tmp_path)
    store_dir = tmp_path / "cache"
    cold = _scan(target, demo_config, cache.ResultCache(store_dir), "sha256:run-1")
    views = target / "app" / "views.py"
    views.write_text(views.read_text() + "\nimport pickle\n\n\ndef load(b):\n    return pickle.loads(b)\n")
    warm = _scan(target, demo_config, cache.ResultCache(store_dir), "sha256:run-2")
    bandit = _by(warm)["bandit"]
    assert bandit.cache is not None and bandit.cache.items == _by(cold)["bandit"].assessed - 1
    assert len(bandit.invocations) == 1 and "app/views.py" in {f.location.path for f in bandit.findings}
    assert any(f.rule_id == "B301" and f.location.path == "app/views.py" for f in bandit.findings)
    assert _by(warm)["checkov"].cache is not None, "no IaC file changed: checkov's result is reused"
    tf = next(target.rglob("*.tf"))
    tf.write_text(tf.read_text() + "\n# a comment\n")
    again = _scan(target, demo_config, cache.ResultCache(store_dir), "sha256:run-3")
    assert _by(again)["checkov"].cache is None and _by(again)["checkov"].invocations


def test_a_setting_the_advisories_or_a_tool_lock_change_misses(tmp_path: Path, demo_config: Config) -> None:
    target = copy_demo(tmp_path)
    store_dir = tmp_path / "cache"
    _scan(target, demo_config, cache.ResultCache(store_dir), "sha256:run-1")
    other = replace(demo_config, python_versions=("3.12",))
    warm = _scan(target, other, cache.ResultCache(store_dir), "sha256:run-2")
    assert _by(warm)["pip-audit"].cache is None, "python-versions changes pip-audit's result"
    assert _by(warm)["bandit"].cache is not None, "but not bandit's"
    # Key material, one part at a time: each changes every key of the scanner.
    keys = reuse.Keys(
        "code", "pbkdf2-sha256", demo_config, target, {"bandit": "lock-1", "pip-audit": "l"}, "adv-1"
    )
    base = keys.scanner("bandit", "bandit")
    assert base is not None and base == replace(keys).scanner("bandit", "bandit")
    assert replace(keys, locks={"bandit": "lock-2"}).scanner("bandit", "bandit") != base
    assert replace(keys, code="code-2").scanner("bandit", "bandit") != base, "the policy data or our code"
    assert replace(keys, secret_scheme="hmac-sha256:x").scanner("bandit", "bandit") != base
    pip = keys.scanner("pip-audit", "pip-audit")
    assert replace(keys, advisory_digest="adv-2").scanner("pip-audit", "pip-audit") != pip
    assert replace(keys, config=replace(demo_config, tools="path")).scanner("bandit", "bandit") is None
    online = replace(demo_config, vulnerability_service="osv")
    assert replace(keys, config=online).scanner("pip-audit", "pip-audit") is None


def test_a_corrupted_entry_is_discarded(tmp_path: Path, demo_config: Config) -> None:
    target = copy_demo(tmp_path)
    store_dir = tmp_path / "cache"
    cold = _scan(target, demo_config, cache.ResultCache(store_dir), "sha256:run-1")
    entries = sorted(store_dir.rglob("*.json"))
    forged = json.loads(entries[0].read_text())
    forged["payload"]["assessed"] += 1  # edited, the check digest left as it was
    entries[0].write_text(json.dumps(forged))
    entries[1].write_text(entries[1].read_text()[:40])  # a half-written file
    store = cache.ResultCache(store_dir)
    warm = _scan(target, demo_config, store, "sha256:run-2")
    assert store.stats.discarded == 2
    assert _findings(warm) == _findings(cold)


def test_two_concurrent_scans_fill_the_cache(tmp_path: Path, demo_config: Config) -> None:
    targets = [copy_demo(tmp_path / str(i)) for i in range(2)]
    store_dir = tmp_path / "cache"
    outs: list[RunOutput] = []
    threads = [
        threading.Thread(
            target=lambda t=t: outs.append(_scan(t, demo_config, cache.ResultCache(store_dir), "o"))
        )
        for t in targets
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outs) == 2 and _findings(outs[0]) == _findings(outs[1])
    assert not list(store_dir.rglob(".tmp-*")), "no half-written entry is left"
    store = cache.ResultCache(store_dir)
    third = _scan(targets[0], demo_config, store, "o2")
    assert store.stats.discarded == 0 and _findings(third) == _findings(outs[0])
    assert _by(third)["bandit"].cache is not None


def test_least_recently_used_entries_are_evicted_first(tmp_path: Path) -> None:
    store = cache.ResultCache(tmp_path / "c", max_bytes=10**9)
    store.put([(cache.digest(str(i)), {"n": i, "pad": "x" * 1000}) for i in range(5)], "o")
    paths = {i: store._path(cache.digest(str(i))) for i in range(5)}
    for i, p in paths.items():
        os.utime(p, (1000 + i, 1000 + i))
    assert store.get(cache.digest("0")) is not None  # used now: the newest
    size = paths[1].stat().st_size
    store.max_bytes = 3 * size + size // 2
    assert store.evict() == 2
    assert sorted(i for i, p in paths.items() if p.exists()) == [0, 3, 4]
    assert store.clear()[0] == 3 and not any(p.exists() for p in paths.values())


def test_no_cache_and_cache_clear_through_the_cli(tmp_path: Path) -> None:
    target = copy_demo(tmp_path)
    env = {**os.environ, cache.ROOT_ENV: str(tmp_path / "cache")}

    def scan(*extra: str) -> dict[str, Any]:
        out = tmp_path / f"ev{len(list(tmp_path.glob('ev*')))}"
        argv = [sys.executable, "-m", "pipeline", "scan", str(target), "-o", str(out), "--no-progress"]
        argv += ["--only", "bandit", *extra]
        subprocess.run(argv, env=env, capture_output=True, check=False, timeout=600)
        return json.loads((out / "findings.json").read_text())

    first = scan("--no-cache")
    assert not list((tmp_path / "cache").rglob("*.json")), "--no-cache keeps nothing"
    second = scan()
    manifest = (
        "sha256:"
        + __import__("hashlib").sha256((tmp_path / "ev1" / "manifest.json").read_bytes()).hexdigest()
    )
    third = scan()
    (bandit,) = [s for s in third["scanners"] if s["name"] == "bandit"]
    assert (
        bandit["cache"] == {"reused": bandit["assessed"], "from": [manifest]} and bandit["invocations"] == []
    )
    assert [f["fingerprint"] for f in third["findings"]] == [f["fingerprint"] for f in first["findings"]]
    assert [s["cache"] for s in second["scanners"] if s["name"] == "bandit"] == [None]
    page = (tmp_path / "ev2" / "report.html").read_text()
    assert f"items reused from the result cache (run {manifest})" in page
    sarif = json.loads((tmp_path / "ev2" / "results.sarif").read_text())
    (run,) = [r for r in sarif["runs"] if r["tool"]["driver"]["name"] == "bandit"]
    assert run["properties"]["reusedFromCache"] == {"items": bandit["assessed"], "runs": [manifest]}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "cache", "clear"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "entries deleted" in done.stdout
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_with_the_operators_key_an_entry_written_without_it_is_forged(tmp_path: Path) -> None:
    key = cache.digest("k")
    cache.ResultCache(tmp_path / "c").put([(key, {"findings": []})], "sha256:someone")
    keyed = cache.ResultCache(tmp_path / "c", mac_key=b"operator secret")
    assert keyed.get(key) is None and keyed.stats.discarded == 1
    keyed.put([(key, {"findings": []})], "sha256:us")
    hit = cache.ResultCache(tmp_path / "c", mac_key=b"operator secret").get(key)
    assert hit is not None and hit.origin == "sha256:us"
    assert cache.ResultCache(tmp_path / "c", mac_key=b"another key").get(key) is None


def test_the_advisory_database_changes_pip_audits_key(tmp_path: Path, demo_config: Config) -> None:
    from conftest import OSV_RECORDS, build_vulndb

    target = copy_demo(tmp_path)
    store_dir = tmp_path / "cache"
    _scan(target, demo_config, cache.ResultCache(store_dir), "sha256:run-1")
    fewer = tmp_path / "osv"
    fewer.mkdir()
    for record in sorted(OSV_RECORDS.iterdir())[1:]:  # one advisory less: another digest
        (fewer / record.name).write_bytes(record.read_bytes())
    other_db = build_vulndb(tmp_path / "other.sqlite", fewer)
    warm = _scan(
        target, replace(demo_config, vulndb=str(other_db)), cache.ResultCache(store_dir), "sha256:run-2"
    )
    assert _by(warm)["pip-audit"].cache is None and _by(warm)["pip-audit"].invocations
    assert _by(warm)["bandit"].cache is not None


def test_a_change_to_the_policy_data_changes_every_key(tmp_path: Path) -> None:
    from pipeline import resources

    policies = tmp_path / "policies"
    __import__("shutil").copytree(resources.policies_dir(), policies)
    package = Path(reuse.__file__).parent
    before = reuse.code_digest(package, resources.templates_dir(), policies)
    assert before == reuse.code_digest(package, resources.templates_dir(), policies)
    pack = policies / "pack.yaml"
    pack.write_text(pack.read_text() + "\n# reviewed\n")
    assert reuse.code_digest(package, resources.templates_dir(), policies) != before


def test_a_kustomization_reading_any_file_is_keyed_on_what_it_rendered(tmp_path: Path) -> None:
    """kustomize may read a file of any name (`resources: [deploy.k8s]`): checkov's entry
    is keyed on the rendered output, so a change to that file misses (found in parity)."""
    from conftest import only

    from pipeline.config import default_config
    from pipeline.scanners import SCANNER_NAMES

    target = tmp_path / "t"
    (target / "app").mkdir(parents=True)
    (target / "app" / "kustomization.yaml").write_text("resources:\n  - deploy.k8s\n")
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        "    - name: web\n      image: nginx@sha256:" + "a" * 64 + "\n"
    )
    (target / "app" / "deploy.k8s").write_text(pod)
    cfg = only(default_config(SCANNER_NAMES), "checkov")
    store_dir = tmp_path / "cache"
    first = _scan(target, cfg, cache.ResultCache(store_dir), "sha256:run-1")
    assert not [f for f in first.report.findings if f.rule_id == "CKV_K8S_16"]
    same = _scan(target, cfg, cache.ResultCache(store_dir), "sha256:run-2")
    assert _by(same)["checkov"].cache is not None, "nothing changed: reused"
    (target / "app" / "deploy.k8s").write_text(pod + "      securityContext:\n        privileged: true\n")
    changed = _scan(target, cfg, cache.ResultCache(store_dir), "sha256:run-3")
    assert _by(changed)["checkov"].cache is None
    assert [f for f in changed.report.findings if f.rule_id == "CKV_K8S_16"], (
        "the privileged container is found"
    )


def test_a_diff_scan_never_reuses_checkov(tmp_path: Path, demo_config: Config) -> None:
    """checkov reads the whole target: a diff scan's key (its change) cannot stand for it."""
    target = copy_demo(tmp_path)
    (target / "infra" / "main.tf").write_text((target / "infra" / "main.tf").read_text() + "\n# edit\n")
    cfg = replace(demo_config, changed_since="HEAD")
    store_dir = tmp_path / "cache"
    _scan(target, cfg, cache.ResultCache(store_dir), "sha256:run-1")
    again = _scan(target, cfg, cache.ResultCache(store_dir), "sha256:run-2")
    assert _by(again)["checkov"].cache is None and _by(again)["checkov"].invocations
