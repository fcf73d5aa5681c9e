"""Which dependency markers apply to the environments a project supports (issue 12)."""

from __future__ import annotations

from pipeline.environments import SUPPORTED_PYTHONS, applies, choose


def test_requires_python_chooses_the_pythons() -> None:
    envs = choose((), (), '[project]\nrequires-python = ">=3.10,<3.13"\n')
    assert envs.pythons == ("3.10", "3.11", "3.12")
    assert envs.platforms == ("linux", "darwin", "win32")
    assert "requires-python" in envs.source


def test_configured_versions_win_and_no_declaration_means_all() -> None:
    assert choose(("3.7",), ("linux",), '[project]\nrequires-python = ">=3.12"\n').pythons == ("3.7",)
    assert choose((), (), None).pythons == SUPPORTED_PYTHONS
    assert choose((), (), "not toml [").pythons == SUPPORTED_PYTHONS
    assert choose((), (), '[project]\nrequires-python = "~=bad"\n').pythons == SUPPORTED_PYTHONS


def test_markers() -> None:
    modern = choose(("3.11", "3.12"), ("linux",), None)
    assert applies(None, modern)
    assert applies('python_version >= "3.8"', modern)
    assert not applies('python_version < "3.8"', modern)
    assert not applies('sys_platform == "win32"', modern)
    assert applies('sys_platform == "win32"', choose(("3.12",), (), None))
    assert applies('extra == "dev"', modern)  # an extra may be installed
    assert applies("this is not a marker", modern)  # cannot tell: audited
