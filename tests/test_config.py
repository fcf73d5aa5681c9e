"""Configuration: every key validated, errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import config
from pipeline.model import Severity
from pipeline.scanners import SCANNER_NAMES


def load(tmp_path: Path, text: str, name: str = "compliance-pipeline.toml") -> config.Config:
    (tmp_path / name).write_text(text)
    return config.load(tmp_path, SCANNER_NAMES)


def test_defaults_without_any_file(tmp_path: Path) -> None:
    cfg = config.load(tmp_path, SCANNER_NAMES)
    assert cfg.threshold is Severity.HIGH and cfg.output == "compliance-evidence"
    assert cfg.enabled_scanners() == SCANNER_NAMES


def test_pyproject_table(tmp_path: Path) -> None:
    cfg = load(
        tmp_path,
        '[tool.compliance-pipeline]\nthreshold = "medium"\nexclude = ["docs"]\n'
        "[tool.compliance-pipeline.scanners.checkov]\nenabled = false\n"
        "[tool.compliance-pipeline.scanners.bandit]\ntimeout = 30\n",
        "pyproject.toml",
    )
    assert cfg.threshold is Severity.MEDIUM and cfg.exclude == ("docs",)
    assert not cfg.scanners["checkov"].enabled and cfg.scanners["bandit"].timeout == 30
    assert cfg.source == "pyproject.toml"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('threshhold = "high"', "tool.compliance-pipeline.threshhold"),
        ('threshold = "severe"', "tool.compliance-pipeline.threshold"),
        ("jobs = 1.5", "tool.compliance-pipeline.jobs"),
        ('exclude = "docs"', "tool.compliance-pipeline.exclude"),
        ("[scanners.trivy]\nenabled = true", "tool.compliance-pipeline.scanners.trivy"),
        ("[scanners.bandit]\ntimeout = true", "tool.compliance-pipeline.scanners.bandit.timeout"),
        ("[scanners.bandit]\ntimeot = 3", "tool.compliance-pipeline.scanners.bandit.timeot"),
        ("[scanners.bandit]\ntimeout = -1", "tool.compliance-pipeline.scanners.bandit.timeout"),
        ('tools = "docker"', "tool.compliance-pipeline.tools"),
        ("max-file-size = 0", "tool.compliance-pipeline.max-file-size"),
        ('osv-url = "ftp://x"', "tool.compliance-pipeline.osv-url"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(config.ConfigError, match=named.replace(".", r"\.")):
        load(tmp_path, text)


def test_invalid_toml_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match="not valid TOML"):
        load(tmp_path, "threshold = ")


def test_broken_pyproject_without_our_table_is_not_our_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\n")
    assert config.load(tmp_path, SCANNER_NAMES).source == "defaults"


def test_digest_changes_with_settings(tmp_path: Path) -> None:
    a = config.load(tmp_path, SCANNER_NAMES)
    b = load(tmp_path, 'threshold = "low"')
    assert a.digest() != b.digest() and a.digest() == config.load(tmp_path / "..", SCANNER_NAMES).digest()
