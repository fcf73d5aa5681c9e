"""Every manifest kind: discovery by name, then text in, Dependency records out.

Each case checks name, version, line, requirement and marker. The lock files
under tests/data/manifests/ were written by the real tools (uv 0.13.9, Poetry
2.5.1, PDM 2.25.9, pipenv 2026.10.3) from the pyproject.toml / Pipfile beside
them; only the wheel/file/hash lists were cut out.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import data
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import manifests as m

Row = tuple[Any, ...]


def rows(deps: list[m.Dependency]) -> list[Row]:
    """(name, version, specifier, line, requirement, marker) of the auditable ones."""
    return [
        (d.name, d.version, d.specifier, d.line, d.requirement, d.marker) for d in deps if not d.unauditable
    ]


def unauditable(deps: list[m.Dependency]) -> list[tuple[str, int | None, str]]:
    return [(d.name, d.line, d.unauditable or "") for d in deps if d.unauditable]


def messages(problems: list[m.ManifestProblem]) -> list[str]:
    return [p.message for p in problems]


def fixture(name: str) -> str:
    return data("manifests", name)


# --- discovery by name -------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("requirements.txt", "requirements"),
        ("dev-requirements.txt", "requirements"),
        ("test-requirements.txt", "requirements"),
        ("requirements-dev.txt", "requirements"),
        ("requirements_test.txt", "requirements"),
        ("svc/Requirements.txt", "requirements"),
        ("requirements/prod.txt", "requirements"),
        ("requirements/ci/lint.txt", "requirements"),
        ("constraints.txt", "constraints"),
        ("constraints-py311.txt", "constraints"),
        ("requirements/constraints.txt", "constraints"),
        ("pyproject.toml", "pyproject.toml"),
        ("lib/setup.cfg", "setup.cfg"),
        ("lib/setup.py", "setup.py"),
        ("Pipfile", "Pipfile"),
        ("Pipfile.lock", "Pipfile.lock"),
        ("poetry.lock", "poetry.lock"),
        ("uv.lock", "uv.lock"),
        ("pdm.lock", "pdm.lock"),
        ("pylock.toml", "pylock.toml"),
        ("a/pylock.web.toml", "pylock.toml"),
        ("environment.yml", "environment.yml"),
        ("environment.yaml", "environment.yml"),
        ("envs/environment-dev.yml", "environment.yml"),
        ("notes.txt", None),
        ("docs/requirements.md", None),
        ("requirements", None),
        ("setup.py.orig", None),
        ("pylock.a.b.toml", None),
        ("my-environment.yml", None),
        ("pipfile", None),
    ],
)
def test_kind_by_name(path: str, kind: str | None) -> None:
    assert m.manifest_kind(path) == kind


# --- requirements files ----------------------------------------------------------


def test_requirements_lines_requirements_and_markers() -> None:
    text = (
        "# comment\n"
        'Django==3.2.18; python_version < "3.8"\n'
        'django==4.2 ; python_version >= "3.8"\n'
        "requests[socks] == 2.31.0 \\\n"
        "    --hash=sha256:abc\n"
        "flask>=2,<3\t# web\n"
        "\n"
        "rich\\\n"
        ">=13\n"
    )
    deps, problems = m.parse_requirements("requirements.txt", {"requirements.txt": text}.get)
    assert problems == []
    assert rows(deps) == [
        ("django", "3.2.18", "", 2, 'Django==3.2.18; python_version < "3.8"', 'python_version < "3.8"'),
        ("django", "4.2", "", 3, 'django==4.2 ; python_version >= "3.8"', 'python_version >= "3.8"'),
        ("requests", "2.31.0", "", 4, "requests[socks] == 2.31.0", None),
        ("flask", None, "<3,>=2", 6, "flask>=2,<3", None),
        ("rich", None, ">=13", 8, "rich>=13", None),
    ]
    assert all(d.direct for d in deps)


def test_requirements_exported_by_uv_with_hashes_and_markers() -> None:
    deps, problems = m.parse_requirements(
        "requirements.txt", {"requirements.txt": fixture("uv-0.13.9/requirements.txt")}.get
    )
    assert problems == []
    assert rows(deps) == [
        ("click", "8.5.1", "", 3, "click==8.5.1", None),
        ("idna", "3.20", "", 6, "idna==3.20", None),
        (
            "packaging",
            "23.2",
            "",
            10,
            "packaging==23.2 ; python_full_version < '3.11'",
            'python_full_version < "3.11"',
        ),
        (
            "packaging",
            "26.4",
            "",
            14,
            "packaging==26.4 ; python_full_version >= '3.11'",
            'python_full_version >= "3.11"',
        ),
    ]


def test_includes_and_constraints_with_or_without_space_or_equals() -> None:
    files = {
        "requirements.txt": (
            "-rdeps/prod.txt\n"
            "--requirement=deps/dev.txt\n"
            "-r   deps/test.txt\n"
            "-cconstraints.txt\n"
            "--constraint c2.txt\n"
            "-c=c3.txt\n"
        ),
        "deps/prod.txt": "attrs==23.1.0\n",
        "deps/dev.txt": "ruff==0.6.0\n",
        "deps/test.txt": "# tests\npytest==8.0.0\n",
        "constraints.txt": "urllib3==1.26.5\n",
        "c2.txt": "idna==3.4\n",
        "c3.txt": "certifi==2024.2.2\n",
    }
    deps, problems = m.parse_requirements("requirements.txt", files.get)
    assert problems == []
    got = [(d.source, d.line, d.name, d.version, d.direct) for d in deps]
    assert got == [
        ("deps/prod.txt", 1, "attrs", "23.1.0", True),
        ("deps/dev.txt", 1, "ruff", "0.6.0", True),
        ("deps/test.txt", 2, "pytest", "8.0.0", True),
        ("constraints.txt", 1, "urllib3", "1.26.5", False),
        ("c2.txt", 1, "idna", "3.4", False),
        ("c3.txt", 1, "certifi", "2024.2.2", False),
    ]


def test_bad_includes_are_problems_with_file_and_line() -> None:
    files = {
        "requirements.txt": "-r requirements/base.txt\nok==1.0\n",
        "requirements/base.txt": (
            "# base\n-r ../requirements.txt\n-r ../../outside.txt\n-r https://example.invalid/r.txt\n-r\n-r missing.txt\n"
        ),
    }
    deps, problems = m.parse_requirements("requirements.txt", files.get)
    assert [(d.name, d.line) for d in deps] == [("ok", 2)]
    assert [(p.source, p.line, p.message) for p in problems] == [
        ("requirements/base.txt", 2, "line 2: include cycle through requirements.txt"),
        ("requirements/base.txt", 3, "line 3: -r ../../outside.txt: outside the target, not read"),
        ("requirements/base.txt", 4, "line 4: -r https://example.invalid/r.txt: a URL, not read"),
        ("requirements/base.txt", 5, "line 5: -r without a file name"),
        (
            "requirements/base.txt",
            6,
            "line 6: -r missing.txt: the included file (requirements/missing.txt) cannot be read",
        ),
    ]


def test_a_diamond_of_includes_reads_each_file_once() -> None:
    depth = 16
    files = {
        f"r{i}.txt": f"-r r{i + 1}.txt\n-r r{i + 1}.txt\n--requirement r{i + 1}.txt\npkg{i}==1.0\n"
        for i in range(depth)
    }
    files[f"r{depth}.txt"] = "leaf==1.0\n"
    reads: list[str] = []

    def read(path: str) -> str | None:
        reads.append(path)
        return files.get(path)

    deps, problems = m.parse_requirements("r0.txt", read)
    assert problems == []
    assert len(reads) == depth + 1
    assert sorted(d.name for d in deps) == sorted([*(f"pkg{i}" for i in range(depth)), "leaf"])


def test_editable_path_url_and_invalid_lines_are_unauditable_with_their_line() -> None:
    text = (
        "-e ./mine\n"
        "--editable=git+https://example.invalid/x.git#egg=xpkg\n"
        "./local-dir\n"
        "https://example.invalid/p-1.0-py3-none-any.whl\n"
        "pkg @ https://example.invalid/p.whl\n"
        "odd==0.9-eevee\n"
        "bad line here\n"
        "--index-url https://example.invalid/simple\n"
        "good==1.0\n"
    )
    deps, problems = m.parse_requirements("requirements.txt", {"requirements.txt": text}.get)
    assert problems == []
    assert rows(deps) == [("good", "1.0", "", 9, "good==1.0", None)]
    got = unauditable(deps)
    assert [(name, line) for name, line, _ in got] == [
        ("./mine", 1),
        ("xpkg", 2),
        ("./local-dir", 3),
        ("https://example.invalid/p-1.0-py3-none-any.whl", 4),
        ("pkg", 5),
        ("odd==0.9-eevee", 6),
        ("bad line here", 7),
    ]
    assert [why.split(" (")[0] for _, _, why in got] == [
        "editable install, not a registry requirement",
        "editable install, not a registry requirement",
        "a local path or URL, not a registry requirement",
        "a local path or URL, not a registry requirement",
        "direct URL reference, not a registry release",
        "not a valid requirement",
        "not a valid requirement",
    ]


# --- pyproject.toml ----------------------------------------------------------------------

PYPROJECT = """\
[project]
name = "app"
dependencies = [
    "rich>=13",
    'django==3.2.18; python_version < "3.8"',
    "django==4.2; python_version >= '3.8'",
]

[project.optional-dependencies]
web = ["flask==2.3.3"]

[dependency-groups]
test = ["pytest==8.0.0", {include-group = "lint"}]
lint = ["ruff==0.6.0"]

[tool.uv]
dev-dependencies = ["pytest==8.0.0"]

[tool.pdm.dev-dependencies]
docs = [
    "mkdocs==1.5.0",
    "-e file:///${PROJECT_ROOT}/sub#egg=sub",
]

[tool.hatch.envs.default]
dependencies = ["coverage==7.4.0"]

[tool.hatch.envs.lint]
extra-dependencies = ["mypy==1.8.0"]
"""


def test_pyproject_pep621_groups_pdm_hatch_uv() -> None:
    deps, problems = m.parse_pyproject(PYPROJECT, "pyproject.toml")
    assert problems == []
    assert rows(deps) == [
        ("rich", None, ">=13", 4, "rich>=13", None),
        ("django", "3.2.18", "", 5, 'django==3.2.18; python_version < "3.8"', 'python_version < "3.8"'),
        ("django", "4.2", "", 6, "django==4.2; python_version >= '3.8'", 'python_version >= "3.8"'),
        ("flask", "2.3.3", "", 10, "flask==2.3.3", None),
        ("pytest", "8.0.0", "", 13, "pytest==8.0.0", None),
        ("ruff", "0.6.0", "", 14, "ruff==0.6.0", None),
        ("pytest", "8.0.0", "", 17, "pytest==8.0.0", None),
        ("mkdocs", "1.5.0", "", 21, "mkdocs==1.5.0", None),
        ("coverage", "7.4.0", "", 26, "coverage==7.4.0", None),
        ("mypy", "1.8.0", "", 29, "mypy==1.8.0", None),
    ]
    assert unauditable(deps) == [("sub", 22, "editable install, not a registry requirement")]


POETRY = """\
[tool.poetry]
name = "app"

[tool.poetry.dependencies]
python = "^3.8"
requests = "2.31.0"
flask = "^2.0"
tiny = "^0.2.3"
zero = "^0.0.3"
tilde = "~1.2"
tilde1 = "~1"
compat = "~=1.4"
spaced = ">= 1.2, < 1.5"
wild = "1.2.*"
anyv = "*"
rich = { version = ">=13", markers = "sys_platform != 'win32'" }
pendulum = [{version = "^1.5", python = "<3.4"}, {version = "^2.0", python = "^3.4"}]
union = "^1.0 || ^2.0"
mine = { path = "../mine", develop = true }
gitdep = { git = "https://example.invalid/x.git" }

[tool.poetry.dependencies.multi]
version = "1.0"
python = "~2.7 || ^3.4"

[tool.poetry.group.dev.dependencies]
pytest = "^8.0"

[tool.poetry.dev-dependencies]
black = "23.1.0"
"""


def test_poetry_constraints_alternatives_groups() -> None:
    deps, problems = m.parse_pyproject(POETRY, "pyproject.toml")
    assert problems == []
    assert rows(deps) == [
        ("requests", "2.31.0", "", 6, 'requests = "2.31.0"', None),
        ("flask", None, "<3.0,>=2.0", 7, 'flask = "^2.0"', None),
        ("tiny", None, "<0.3.0,>=0.2.3", 8, 'tiny = "^0.2.3"', None),
        ("zero", None, "<0.0.4,>=0.0.3", 9, 'zero = "^0.0.3"', None),
        ("tilde", None, "<1.3,>=1.2", 10, 'tilde = "~1.2"', None),
        ("tilde1", None, "<2,>=1", 11, 'tilde1 = "~1"', None),
        ("compat", None, "~=1.4", 12, 'compat = "~=1.4"', None),
        ("spaced", None, "<1.5,>=1.2", 13, 'spaced = ">= 1.2, < 1.5"', None),
        ("wild", None, "==1.2.*", 14, 'wild = "1.2.*"', None),
        ("anyv", None, "", 15, 'anyv = "*"', None),
        (
            "rich",
            None,
            ">=13",
            16,
            """rich = {version = ">=13", markers = "sys_platform != 'win32'"}""",
            'sys_platform != "win32"',
        ),
        (
            "pendulum",
            None,
            "<2.0,>=1.5",
            17,
            'pendulum = {version = "^1.5", python = "<3.4"}',
            'python_version < "3.4"',
        ),
        (
            "pendulum",
            None,
            "<3.0,>=2.0",
            17,
            'pendulum = {version = "^2.0", python = "^3.4"}',
            'python_version >= "3.4" and python_version < "4.0"',
        ),
        (
            "multi",
            "1.0",
            "",
            22,
            'multi = {version = "1.0", python = "~2.7 || ^3.4"}',
            '(python_version >= "2.7" and python_version < "2.8") or (python_version >= "3.4" and python_version < "4.0")',
        ),
        ("pytest", None, "<9.0,>=8.0", 27, 'pytest = "^8.0"', None),
        ("black", "23.1.0", "", 30, 'black = "23.1.0"', None),
    ]
    assert unauditable(deps) == [
        (
            "union",
            18,
            "Poetry constraint '^1.0 || ^2.0' is a union of ranges ('||'), not one PEP 440 specifier: audit its poetry.lock instead",
        ),
        ("mine", 19, "a path dependency, not a registry release"),
        ("gitdep", 20, "a git dependency, not a registry release"),
    ]


def test_poetry_multiple_constraints_list_does_not_crash() -> None:
    text = '[tool.poetry.dependencies]\npendulum = [{version = "^1.5", python = "<3.4"}, {version = "^2.0", python = "^3.4"}]\n'
    deps, problems = m.parse_pyproject(text, "pyproject.toml")
    assert problems == []
    assert [(d.name, d.specifier, d.line, d.marker) for d in deps] == [
        ("pendulum", "<2.0,>=1.5", 2, 'python_version < "3.4"'),
        ("pendulum", "<3.0,>=2.0", 2, 'python_version >= "3.4" and python_version < "4.0"'),
    ]


def test_setuptools_dynamic_file_that_is_not_read_is_a_problem() -> None:
    text = (
        '[project]\nname = "x"\ndynamic = ["dependencies", "optional-dependencies"]\n\n'
        "[tool.setuptools.dynamic]\n"
        'dependencies = {file = ["requirements.txt"]}\n'
        'optional-dependencies.dev = {file = ["deps/dev.in"]}\n'
    )
    deps, problems = m.parse_pyproject(text, "svc/pyproject.toml")
    assert deps == []
    assert [(p.line, p.message) for p in problems] == [
        (
            7,
            "line 7: tool.setuptools.dynamic: svc/deps/dev.in is not a requirements file name we read: not assessed",
        ),
    ]


# --- setup.cfg / setup.py ------------------------------------------------------------------

SETUP_CFG = """\
[metadata]
name = app

[options]
install_requires =
    requests==2.31.0
    django>=4; python_version >= "3.8"
    # a comment

    click

[options.extras_require]
dev =
    pytest==8.0.0
docs = sphinx==7.2.0
"""


def test_setup_cfg_install_requires_and_extras() -> None:
    deps, problems = m.parse_setup_cfg(SETUP_CFG, "setup.cfg")
    assert problems == []
    assert rows(deps) == [
        ("requests", "2.31.0", "", 6, "requests==2.31.0", None),
        ("django", None, ">=4", 7, 'django>=4; python_version >= "3.8"', 'python_version >= "3.8"'),
        ("click", None, "", 10, "click", None),
        ("pytest", "8.0.0", "", 14, "pytest==8.0.0", None),
        ("sphinx", "7.2.0", "", 15, "sphinx==7.2.0", None),
    ]


def test_setup_cfg_file_directive_and_garbage() -> None:
    text = "[options]\ninstall_requires = file: requirements.txt, deps.list\n"
    deps, problems = m.parse_setup_cfg(text, "lib/setup.cfg")
    assert deps == []
    assert messages(problems) == [
        "line 2: install_requires: lib/deps.list is not a requirements file name we read: not assessed"
    ]
    deps, problems = m.parse_setup_cfg("no section header\n", "setup.cfg")
    assert deps == [] and messages(problems)[0].startswith("line 1: not a valid setup.cfg")


SETUP_PY = """\
from setuptools import setup

DEV = ["pytest==8.0.0"]
raise SystemExit("setup.py must never be executed")

setup(
    name="app",
    install_requires=[
        "requests==2.31.0",
        'django>=4; python_version >= "3.8"',
        VERSIONED,
    ],
    extras_require={
        "dev": DEV,
        "docs": ["sphinx==7.2.0"],
        "all": [r for r in DEV],
        ":sys_platform == 'win32'": ["colorama==0.4.6"],
    },
)
"""


def test_setup_py_is_read_statically() -> None:
    deps, problems = m.parse_setup_py(SETUP_PY, "setup.py")
    assert rows(deps) == [
        ("requests", "2.31.0", "", 9, "requests==2.31.0", None),
        ("django", None, ">=4", 10, 'django>=4; python_version >= "3.8"', 'python_version >= "3.8"'),
        ("pytest", "8.0.0", "", 3, "pytest==8.0.0", None),
        ("sphinx", "7.2.0", "", 15, "sphinx==7.2.0", None),
        ("colorama", "0.4.6", "", 17, "colorama==0.4.6", 'sys_platform == "win32"'),
    ]
    assert [(p.source, p.line, p.message) for p in problems] == [
        ("setup.py", 11, "line 11: install_requires[2] computed in setup.py, not read statically"),
        ("setup.py", 16, "line 16: extras_require['all'] computed in setup.py, not read statically"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "from setuptools import setup\nsetup(install_requires=get_requirements())\n",
            "line 2: install_requires computed in setup.py, not read statically",
        ),
        (
            "import setuptools\nREQ = ['a']\nREQ.append('b')\nsetuptools.setup(install_requires=REQ)\n",
            "line 4: install_requires computed in setup.py, not read statically",
        ),
        (
            "from setuptools import setup as s\nkw = {}\ns(name='x', **kw)\n",
            "line 3: setup(**kw) computed in setup.py, not read statically",
        ),
        (
            "from setuptools import setup\nsetup(extras_require=EXTRAS)\n",
            "line 2: extras_require computed in setup.py, not read statically",
        ),
        ("from setuptools import setup\n", "line 1: no setup() call found: dependencies not read"),
        ("def broken(:\n", "line 1: not valid Python (invalid syntax)"),
    ],
)
def test_setup_py_computed_values_are_problems(text: str, message: str) -> None:
    deps, problems = m.parse_setup_py(text, "setup.py")
    assert deps == [] and messages(problems) == [message]


def test_setup_py_string_install_requires() -> None:
    text = 'from distutils.core import setup\nsetup(install_requires="""\n    a==1.0\n    b>=2\n""")\n'
    deps, problems = m.parse_setup_py(text, "setup.py")
    assert problems == []
    assert [(d.name, d.line) for d in deps] == [("a", 3), ("b", 4)]


# --- Pipfile / Pipfile.lock -------------------------------------------------------------


def test_pipfile_written_for_pipenv() -> None:
    deps, problems = m.parse_pipfile(fixture("pipenv-2026.10.3/Pipfile"), "Pipfile")
    assert problems == []
    assert rows(deps) == [
        ("idna", None, "", 7, 'idna = "*"', None),
        ("packaging", "24.2", "", 8, 'packaging = "==24.2"', None),
        (
            "colorama",
            None,
            "",
            9,
            """colorama = {version = "*", markers = "sys_platform == 'win32'"}""",
            'sys_platform == "win32"',
        ),
        (
            "click",
            None,
            "~=8.1",
            10,
            """click = {version = "~=8.1", sys_platform = "!= 'win32'"}""",
            'sys_platform != "win32"',
        ),
        ("iniconfig", None, "", 13, 'iniconfig = "*"', None),
    ]


def test_pipfile_local_and_odd_entries() -> None:
    text = '[packages]\nbare = "1.2"\nmine = {path = ".", editable = true}\nvcs = {git = "https://example.invalid/x.git"}\nodd = 3\n\n[docs]\nsphinx = ">=7"\n'
    deps, problems = m.parse_pipfile(text, "Pipfile")
    assert problems == []
    assert rows(deps) == [
        ("bare", "1.2", "", 2, 'bare = "1.2"', None),
        ("sphinx", None, ">=7", 8, 'sphinx = ">=7"', None),
    ]
    assert unauditable(deps) == [
        ("mine", 3, "a path dependency, not a registry release"),
        ("vcs", 4, "a git dependency, not a registry release"),
        ("odd", 5, "not a Pipfile package specification (int)"),
    ]


def test_pipfile_lock_written_by_pipenv() -> None:
    deps, problems = m.parse_pipfile_lock(fixture("pipenv-2026.10.3/Pipfile.lock"), "Pipfile.lock")
    assert problems == []
    assert rows(deps) == [
        (
            "click",
            "8.5.1",
            "",
            19,
            "click==8.5.1",
            'sys_platform != "win32" and sys_platform != "win32" and sys_platform != "win32"',
        ),
        ("idna", "3.20", "", 27, "idna==3.20", 'python_version >= "3.9"'),
        ("packaging", "24.2", "", 32, "packaging==24.2", 'python_version >= "3.8"'),
        ("iniconfig", "2.3.1", "", 39, "iniconfig==2.3.1", 'python_version >= "3.10"'),
    ]
    # pipenv could not find colorama for this platform and locked it as "*"
    assert unauditable(deps) == [("colorama", 23, "not locked to one version ('*')")]
    assert not any(d.direct for d in deps)


# --- lock files ------------------------------------------------------------------------------


def test_poetry_lock_written_by_poetry() -> None:
    deps, problems = m.parse_poetry_lock(fixture("poetry-2.5.1/poetry.lock"), "poetry.lock")
    assert problems == []
    assert rows(deps) == [
        ("click", "8.1.8", "", 4, "click==8.1.8", 'sys_platform != "win32"'),
        (
            "colorama",
            "0.4.6",
            "",
            16,
            "colorama==0.4.6",
            'sys_platform != "win32" and platform_system == "Windows"',
        ),
        ("idna", "3.20", "", 25, "idna==3.20", None),
        ("iniconfig", "2.3.1", "", 36, "iniconfig==2.3.1", None),
        ("packaging", "23.2", "", 44, "packaging==23.2", 'python_version == "3.10"'),
        ("packaging", "24.2", "", 53, "packaging==24.2", 'python_version >= "3.11"'),
    ]
    assert not any(d.direct for d in deps)


def test_poetry_lock_markers_per_group() -> None:
    text = (
        '[[package]]\nname = "a"\nversion = "1.0"\ngroups = ["main", "dev"]\n'
        "markers = {main = \"sys_platform == 'linux'\", dev = \"python_version < '3.12'\"}\n\n"
        '[[package]]\nname = "b"\nversion = "2.0"\ngroups = ["main", "dev"]\n'
        "markers = {main = \"sys_platform == 'linux'\"}\n"
    )
    deps, problems = m.parse_poetry_lock(text, "poetry.lock")
    assert problems == []
    assert [(d.name, d.line, d.marker) for d in deps] == [
        ("a", 2, 'sys_platform == "linux" or python_version < "3.12"'),
        ("b", 8, None),  # unconditional in the dev group
    ]


def test_uv_lock_with_two_versions_of_one_package() -> None:
    deps, problems = m.parse_uv_lock(fixture("uv-0.13.9/uv.lock"), "uv.lock")
    assert problems == []
    assert rows(deps) == [
        ("click", "8.5.1", "", 35, "click==8.5.1", None),
        ("idna", "3.20", "", 40, "idna==3.20", None),
        ("packaging", "23.2", "", 45, "packaging==23.2", 'python_full_version < "3.11"'),
        ("packaging", "26.4", "", 53, "packaging==26.4", 'python_full_version >= "3.11"'),
    ]
    assert not any(d.direct for d in deps)


def test_uv_lock_several_resolution_markers_and_local_sources() -> None:
    text = (
        '[[package]]\nname = "x"\nversion = "1.0"\nsource = { registry = "https://pypi.org/simple" }\n'
        "resolution-markers = [\n    \"sys_platform == 'win32'\",\n    \"sys_platform == 'darwin'\",\n]\n\n"
        '[[package]]\nname = "g"\nversion = "0.1"\nsource = { git = "https://example.invalid/g.git" }\n'
    )
    deps, problems = m.parse_uv_lock(text, "uv.lock")
    assert problems == []
    assert [(d.name, d.line, d.marker, d.unauditable) for d in deps] == [
        ("x", 2, 'sys_platform == "win32" or sys_platform == "darwin"', None),
        ("g", 11, None, "not from a package index"),
    ]


def test_pdm_lock_written_by_pdm() -> None:
    deps, problems = m.parse_pdm_lock(fixture("pdm-2.25.9/pdm.lock"), "pdm.lock")
    assert problems == []
    assert rows(deps) == [
        ("click", "8.5.1", "", 14, "click==8.5.1", None),
        ("colorama", "0.4.6", "", 21, "colorama==0.4.6", 'sys_platform == "win32"'),
        ("idna", "3.20", "", 29, "idna==3.20", None),
        ("iniconfig", "2.3.1", "", 36, "iniconfig==2.3.1", None),
        ("packaging", "24.2", "", 43, "packaging==24.2", None),
    ]


def test_pdm_lock_local_packages() -> None:
    text = '[[package]]\nname = "sub"\nversion = "0.1"\npath = "./sub"\n\n[[package]]\nname = "v"\nversion = "1.0"\ngit = "https://example.invalid/v.git"\nrevision = "abc"\n'
    deps, _ = m.parse_pdm_lock(text, "pdm.lock")
    assert unauditable(deps) == [("sub", 2, "not from a package index"), ("v", 7, "not from a package index")]


def test_pylock_exported_by_uv() -> None:
    deps, problems = m.parse_pylock(fixture("uv-0.13.9/pylock.toml"), "pylock.toml")
    assert problems == []
    assert rows(deps) == [
        ("click", "8.5.1", "", 8, "click==8.5.1", None),
        ("idna", "3.20", "", 13, "idna==3.20", None),
        ("packaging", "23.2", "", 18, "packaging==23.2", 'python_full_version < "3.11"'),
        ("packaging", "26.4", "", 24, "packaging==26.4", 'python_full_version >= "3.11"'),
    ]


def test_pylock_of_this_repository_has_a_line_for_every_package() -> None:
    from conftest import ROOT

    text = (ROOT / "pylock.toml").read_text(encoding="utf-8")
    deps, problems = m.parse_pylock(text, "pylock.toml")
    assert problems == [] and len(deps) == text.count("\n[[packages]]\n") > 10
    assert all(
        d.line and d.version and d.requirement == f"{d.name}=={d.version}" for d in deps if not d.unauditable
    )
    assert len({d.line for d in deps}) == len(deps)


# --- conda -------------------------------------------------------------------------------------

ENVIRONMENT = """\
name: demo
channels: [conda-forge]
dependencies:
  - python=3.11
  - conda-forge::numpy>=1.26
  - pip
  - pip:
      - requests==2.31.0
      - "django>=4; python_version >= '3.8'"
      - -r requirements-extra.txt
      - -r other-deps.list
      - --index-url https://example.invalid/simple
"""


def test_conda_environment() -> None:
    deps, problems = m.parse_conda_environment(ENVIRONMENT, "env/environment.yml")
    assert rows(deps) == [
        ("requests", "2.31.0", "", 8, "requests==2.31.0", None),
        ("django", None, ">=4", 9, "django>=4; python_version >= '3.8'", 'python_version >= "3.8"'),
    ]
    why = "a conda package, not a PyPI release: pip-audit cannot check it"
    assert unauditable(deps) == [("python", 4, why), ("numpy", 5, why), ("pip", 6, why)]
    assert messages(problems) == [
        "line 11: -r other-deps.list: env/other-deps.list is not a requirements file name we read: not assessed"
    ]


def test_a_yaml_file_named_environment_that_is_not_conda_is_ignored() -> None:
    assert m.parse_conda_environment("stage: prod\nreplicas: 3\n", "environment.yml") == ([], [])


# --- bad input never raises --------------------------------------------------------------------

GARBAGE: dict[str, list[str]] = {
    "pyproject.toml": [
        "[project]\ndependencies = 42\n",
        '[project]\ndependencies = [42, {a = 1}, "ok==1.0"]\n',
        "project = 3\n",
        "tool = 3\n",
        "[tool.poetry.dependencies]\nx = 3\n",
        "[tool.poetry]\ndependencies = [1]\n",
        '[tool.poetry.dependencies]\nx = {version = 3}\ny = [1, "^1", {python = 3, version = "1"}]\nz = {version = "1", markers = 5}\nw = []\n',
        "[tool.poetry.group]\ndev = 3\n",
        '[tool.poetry.group.dev]\ndependencies = "x"\n',
        '[dependency-groups]\ndev = "x"\nt = [3, {include-group = 4}]\n',
        "[project.optional-dependencies]\nx = 3\n",
        "[project]\noptional-dependencies = [1]\n",
        "[tool.hatch.envs]\ndefault = 3\n",
        "[tool.hatch.envs.x]\ndependencies = {a = 1}\n",
        "[tool.pdm]\ndev-dependencies = [1]\n",
        "[tool.uv]\ndev-dependencies = 3\n",
        "[tool.setuptools.dynamic]\ndependencies = {file = 3}\noptional-dependencies = 2\n",
        "x = " + "[" * 3000 + "]" * 3000 + "\n",
        "[project\n",
    ],
    "poetry.lock": [
        'package = "str"\n',
        'package = [1, "x", {name = 3}]\n',
        '[[package]]\nname = "a"\nversion = 1\nsource = "x"\nmarkers = 3\ngroups = 4\n',
        '[[package]]\nname = "a"\nversion = "1"\nmarkers = {main = 3}\n',
    ],
    "uv.lock": [
        'package = "str"\n',
        '[[package]]\nname = "a"\nversion = "1"\nresolution-markers = "x"\nsource = 3\n',
        '[[package]]\nname = "a"\nversion = "1"\nresolution-markers = [3, "not a marker ("]\nsource = { registry = 3 }\n',
    ],
    "pdm.lock": ['package = "str"\n', '[[package]]\nname = ["a"]\nversion = "1"\nmarker = 3\n'],
    "pylock.toml": [
        "packages = 5\n",
        '[[packages]]\nname = "a"\nversion = "1"\nmarker = []\n',
        "packages = [[1]]\n",
    ],
    "Pipfile.lock": [
        "[]",
        '{"default": []}',
        '{"default": {"a": 3}}',
        '{"default": {"a": {"version": 3, "markers": 5}}, "_meta": 3}',
        "[" * 100000 + "]" * 100000,
        "{",
    ],
    "Pipfile": [
        "packages = 3\n",
        "[packages]\na = 3\nb = {version = 3, markers = 4}\n",
        '[packages]\n"" = "*"\n',
    ],
    "setup.cfg": [
        "[options]\ninstall_requires\n",
        "x\n",
        "[options]\na = 1\na = 2\n",
        "[options.extras_require]\n= x\n",
    ],
    "setup.py": [
        "from setuptools import setup\nsetup(install_requires=3)\n",
        "from setuptools import setup\nsetup(extras_require=[1])\n",
        "from setuptools import setup\nsetup(extras_require={1: 2, 'a': 3, **x})\n",
        "from setuptools import setup\nsetup(install_requires=[1, b'x', None])\n",
        "def (\n",
        "x = 1\x00\n",
        "x = " + "(" * 10000 + ")" * 10000 + "\n",
        "from setuptools import setup\nsetup(install_requires=[" + "[" * 2000 + "]" * 2000 + "])\n",
    ],
    "environment.yml": [
        "- a\n- b\n",
        "dependencies: 3\n",
        "dependencies: [{pip: 3}, 5, {x: y}, [1], null, {pip: [1, [2]]}]\n",
        ": : :\n",
        "[" * 5000 + "]" * 5000 + "\n",
        "a: 1\n---\nb: 2\n",
        "\x00\x01\x02",
        "dependencies:\n  - !!python/object/apply:os.system ['true']\n",
    ],
}


KINDS = [
    "Pipfile",
    "Pipfile.lock",
    "environment.yml",
    "pdm.lock",
    "poetry.lock",
    "pylock.toml",
    "pyproject.toml",
    "setup.cfg",
    "setup.py",
    "uv.lock",
]


def test_every_text_kind_has_a_parser() -> None:
    assert sorted(m.PARSERS) == KINDS


@pytest.mark.parametrize(("kind", "text"), [(k, t) for k, texts in GARBAGE.items() for t in texts])
def test_garbage_of_wrong_types_never_raises(kind: str, text: str) -> None:
    deps, problems = m.PARSERS[kind](text, kind)
    assert all(isinstance(d, m.Dependency) for d in deps)
    assert all(isinstance(p, m.ManifestProblem) and p.source == kind for p in problems)


def test_garbage_types_are_reported() -> None:
    _, problems = m.parse_pyproject("[project]\ndependencies = 42\n", "pyproject.toml")
    assert messages(problems) == [
        "line 2: project.dependencies: expected a list of requirement strings, got int"
    ]
    deps, problems = m.parse_pyproject("[tool.poetry.dependencies]\nx = 3\n", "pyproject.toml")
    assert unauditable(deps) == [("x", 2, "not a Poetry dependency specification (int)")]
    _, problems = m.parse_uv_lock('package = "str"\n', "uv.lock")
    assert messages(problems) == ["line 1: package: expected an array of tables, got str"]


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("[]{}=\"',.:-#\n\\ ^~<>=*|abcxyz019_@;"), max_size=80))
def test_random_text_never_raises(kind: str, text: str) -> None:
    deps, problems = m.PARSERS[kind](text, kind)
    assert isinstance(deps, list) and isinstance(problems, list)


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("-rce= ./\\#\nab12;@[]"), max_size=60))
def test_random_requirements_never_raise(text: str) -> None:
    deps, problems = m.parse_requirements("r.txt", {"r.txt": text, "a.txt": text}.get)
    assert isinstance(deps, list) and isinstance(problems, list)


def test_credentials_in_urls_are_not_reported() -> None:
    userinfo = (
        "build" + ":" + "not-a-real-password" + "@"
    )  # built here so the self-scan sees no URL with a password
    text = (
        f"pkg @ https://{userinfo}example.invalid/p.whl\n"
        f"-e git+https://{userinfo}example.invalid/x.git#egg=x\n"
        f"-r https://{userinfo}example.invalid/r.txt\n"
    )
    deps, problems = m.parse_requirements("requirements.txt", {"requirements.txt": text}.get)
    poetry, _ = m.parse_pyproject(
        f'[tool.poetry.dependencies]\nx = {{git = "https://{userinfo}example.invalid/x.git"}}\n',
        "pyproject.toml",
    )
    shown = [d.name for d in deps + poetry] + [d.requirement for d in deps + poetry] + messages(problems)
    assert shown and not any("not-a-real-password" in s for s in shown)
    assert deps[0].requirement == "pkg @ https://example.invalid/p.whl"


def test_setup_cfg_with_a_long_blank_run_is_not_given_to_configparser() -> None:
    # configparser's option pattern is quadratic in a run of blanks (40,000 take it 8 s)
    text = "[options]\ninstall_requires =\n    a==1.0\nb" + " " * 40_000 + "c\n"
    deps, problems = m.parse_setup_cfg(text, "setup.cfg")
    assert deps == []
    assert messages(problems) == [
        "line 4: a run of 200 or more blanks: not read (configparser is quadratic in it)"
    ]


def test_the_project_depending_on_itself_with_an_extra_is_not_a_dependency() -> None:
    # requests' pyproject: `test = ["requests[socks]", "pytest>=3"]` in dependency-groups.
    text = (
        '[project]\nname = "Requests"\nversion = "1"\ndependencies = ["urllib3>=1.21"]\n'
        '[dependency-groups]\ntest = ["requests[socks]", "pytest>=3"]\n'
    )
    deps, problems = m.parse_pyproject(text, "pyproject.toml")
    assert sorted(d.name for d in deps) == ["pytest", "urllib3"] and problems == []


def test_an_editable_local_path_is_no_sbom_component() -> None:
    from pipeline.run import components

    deps, _ = m.parse_requirements("r.txt", {"r.txt": "-e .[socks]\nrich==13.7.1\n"}.get)
    assert [(c.name, c.version) for c in components(deps)] == [("rich", "13.7.1")]
