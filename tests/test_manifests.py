"""Dependency manifests of every supported format → dependencies to audit."""

from __future__ import annotations

import json

from pipeline import manifests as m


def reader(files: dict[str, str]):  # type: ignore[no-untyped-def]
    return files.get


def test_requirements_with_includes_hashes_markers_and_cycles() -> None:
    files = {
        "requirements.txt": (
            "# comment\n-r requirements/base.txt\nDjango==4.2.1 ; python_version >= '3.8'\n"
            "requests[socks] == 2.31.0 \\\n    --hash=sha256:abc\nflask>=2,<3\n"
            "-e git+https://example.invalid/x.git#egg=x\npkg @ https://example.invalid/p.whl\n"
            "--index-url https://example.invalid/simple\nwild==1.*\n"
        ),
        "requirements/base.txt": "-r ../requirements.txt\nPyYAML===6.0.1\n",
    }
    deps, problems = m.parse_requirements("requirements.txt", reader(files))
    pinned = {(d.name, d.version) for d in deps if d.pinned}
    assert pinned == {("django", "4.2.1"), ("requests", "2.31.0"), ("pyyaml", "6.0.1")}
    unpinned = {d.name: d.specifier for d in deps if not d.pinned and not d.unauditable}
    assert unpinned == {"flask": "<3,>=2", "wild": "==1.*"}
    assert len([d for d in deps if d.unauditable]) == 2
    assert [(p.source, p.message) for p in problems] == [
        ("requirements/base.txt", "line 1: include cycle through requirements.txt")
    ]
    assert [(d.source, d.line) for d in deps if d.name in ("django", "pyyaml")] == [
        ("requirements/base.txt", 2),
        ("requirements.txt", 3),
    ]


def test_missing_include_is_reported() -> None:
    deps, problems = m.parse_requirements("requirements.txt", reader({"requirements.txt": "-r nope.txt\n"}))
    assert deps == []
    assert [(p.source, p.line, p.message) for p in problems] == [
        ("requirements.txt", 1, "line 1: -r nope.txt: the included file (nope.txt) cannot be read")
    ]


def test_lock_files() -> None:
    poetry = '[[package]]\nname = "Jinja2"\nversion = "2.10.1"\n\n[[package]]\nname = "mine"\nversion = "0.1"\n[package.source]\ntype = "directory"\nurl = "../mine"\n'
    deps, _ = m.parse_poetry_lock(poetry, "poetry.lock")
    bad, _ = m.parse_poetry_lock('[[package]]\nname = "odd"\nversion = "0.9-eevee"\n', "poetry.lock")
    assert bad[0].unauditable == "'0.9-eevee' is not a PEP 440 version"
    assert [(d.name, d.version, bool(d.unauditable)) for d in deps] == [
        ("jinja2", "2.10.1", False),
        ("mine", None, True),
    ]
    uv = '[[package]]\nname = "app"\nversion = "1.0"\nsource = { editable = "." }\n\n[[package]]\nname = "urllib3"\nversion = "1.26.5"\nsource = { registry = "https://pypi.org/simple" }\n'
    deps, _ = m.parse_uv_lock(uv, "uv.lock")
    assert [(d.name, d.version) for d in deps] == [("urllib3", "1.26.5")]
    pipfile = json.dumps({"default": {"requests": {"version": "==2.19.0"}}, "develop": {"x": {"path": "."}}})
    deps, _ = m.parse_pipfile_lock(pipfile, "Pipfile.lock")
    assert [(d.name, d.version) for d in deps if d.pinned] == [("requests", "2.19.0")]
    pylock = 'lock-version = "1.0"\n[[packages]]\nname = "idna"\nversion = "3.4"\n'
    deps, _ = m.parse_pylock(pylock, "pylock.toml")
    assert [(d.name, d.version) for d in deps] == [("idna", "3.4")]


def test_pyproject_defers_to_a_lock_beside_it() -> None:
    files = {
        "pyproject.toml": '[project]\ndependencies = ["rich>=13", "attrs==23.1.0"]\n',
        "svc/pyproject.toml": '[project]\ndependencies = ["rich>=13"]\n',
        "svc/uv.lock": '[[package]]\nname = "rich"\nversion = "13.7.1"\nsource = { registry = "x" }\n',
    }
    deps, problems = m.collect(sorted(files), reader(files))
    assert problems == []
    assert {(d.source, d.name, d.version) for d in deps} == {
        ("pyproject.toml", "rich", None),
        ("pyproject.toml", "attrs", "23.1.0"),
        ("svc/uv.lock", "rich", "13.7.1"),
    }


def test_invalid_manifests_are_problems_not_crashes() -> None:
    files = {"poetry.lock": "[[package", "Pipfile.lock": "{", "svc/pyproject.toml": "x ="}
    deps, problems = m.collect(sorted(files), reader(files))
    assert deps == [] and len(problems) == 3


def test_manifest_kinds() -> None:
    assert m.manifest_kind("requirements-dev.txt") == "requirements"
    assert m.manifest_kind("requirements/prod.txt") == "requirements"
    assert m.manifest_kind("a/pylock.web.toml") == "pylock.toml"
    assert m.manifest_kind("notes.txt") is None


def test_unreadable_lines_are_unauditable_not_fatal() -> None:
    files = {"requirements.txt": "good==1.0\nodd==0.9-eevee\nbad line here\n"}
    deps, _ = m.parse_requirements("requirements.txt", reader(files))
    assert [(d.name, d.version) for d in deps if d.pinned] == [("good", "1.0")]
    reasons = sorted(d.unauditable or "" for d in deps if d.unauditable)
    assert len(reasons) == 2 and all(r.startswith("not a valid requirement") for r in reasons)


def test_poetry_constraints() -> None:
    text = '[tool.poetry.dependencies]\npython = "^3.11"\nrequests = "2.31.0"\nflask = "^2.0"\nrich = { version = ">=13" }\nany = "*"\n'
    deps, _ = m.parse_pyproject(text, "pyproject.toml")
    got = {d.name: (d.version, d.specifier, bool(d.unauditable)) for d in deps}
    assert got == {
        "requests": ("2.31.0", "", False),
        "flask": (None, "<3.0,>=2.0", False),  # ^2.0 is now converted (issue 12); was unauditable
        "rich": (None, ">=13", False),
        "any": (None, "", False),
    }


def test_both_alternatives_of_a_package_listed_twice_with_markers_are_kept() -> None:
    text = 'django==3.2.18; python_version < "3.8"\ndjango==4.2; python_version >= "3.8"\n'
    deps, problems = m.parse_requirements("requirements.txt", reader({"requirements.txt": text}))
    assert problems == []
    assert [(d.name, d.version, d.line, d.marker, d.requirement) for d in deps] == [
        ("django", "3.2.18", 1, 'python_version < "3.8"', 'django==3.2.18; python_version < "3.8"'),
        ("django", "4.2", 2, 'python_version >= "3.8"', 'django==4.2; python_version >= "3.8"'),
    ]


def test_uv_lock_keeps_every_version_of_a_package() -> None:
    uv = (
        '[[package]]\nname = "django"\nversion = "3.2.18"\nsource = { registry = "https://pypi.org/simple" }\n'
        "resolution-markers = [\"python_full_version < '3.8'\"]\n\n"
        '[[package]]\nname = "django"\nversion = "4.2"\nsource = { registry = "https://pypi.org/simple" }\n'
        "resolution-markers = [\"python_full_version >= '3.8'\"]\n"
    )
    deps, problems = m.parse_uv_lock(uv, "uv.lock")
    assert problems == []
    assert [(d.name, d.version, d.line, d.marker, d.direct) for d in deps] == [
        ("django", "3.2.18", 2, 'python_full_version < "3.8"', False),
        ("django", "4.2", 8, 'python_full_version >= "3.8"', False),
    ]


def test_collect_reports_a_file_reached_twice_once() -> None:
    files = {
        "requirements.txt": "-r requirements-base.txt\npyyaml==5.3.1\n",
        "requirements-base.txt": "jinja2==2.10.1\nurllib3==1.26.5\n",
    }
    deps, problems = m.collect(sorted(files), reader(files))
    assert problems == []
    assert [(d.where, d.name) for d in deps] == [
        ("requirements-base.txt:1", "jinja2"),
        ("requirements-base.txt:2", "urllib3"),
        ("requirements.txt:2", "pyyaml"),
    ]


def test_collect_defers_declarations_to_the_lock_and_marks_direct_entries() -> None:
    files = {
        "pyproject.toml": '[project]\nname = "app"\ndependencies = ["rich>=13"]\n',
        "uv.lock": (
            '[[package]]\nname = "app"\nversion = "0.1"\nsource = { editable = "." }\n\n'
            '[[package]]\nname = "rich"\nversion = "13.7.1"\nsource = { registry = "x" }\n\n'
            '[[package]]\nname = "pygments"\nversion = "2.17.2"\nsource = { registry = "x" }\n\n'
            '[[package]]\nname = "lib"\nversion = "0.1"\nsource = { editable = "packages/lib" }\n'
        ),
        "packages/lib/pyproject.toml": '[project]\nname = "lib"\ndependencies = ["pygments>=2"]\n',
        "legacy/setup.py": "from setuptools import setup\nsetup(install_requires=['attrs>=22'])\n",
        "legacy/poetry.lock": '[[package]]\nname = "attrs"\nversion = "23.1.0"\n',
        "pipenv/Pipfile": '[packages]\nidna = "*"\n',
        "pipenv/Pipfile.lock": '{"default": {"idna": {"version": "==3.4"}, "six": {"version": "==1.16.0"}}}',
        "tools/Pipfile": '[packages]\nblack = "==24.1.0"\n',
    }
    deps, problems = m.collect(sorted(files), reader(files))
    assert problems == []
    assert [(d.source, d.name, d.version, d.direct) for d in deps] == [
        ("legacy/poetry.lock", "attrs", "23.1.0", True),
        ("pipenv/Pipfile.lock", "idna", "3.4", True),
        ("pipenv/Pipfile.lock", "six", "1.16.0", False),
        ("tools/Pipfile", "black", "24.1.0", True),
        ("uv.lock", "rich", "13.7.1", True),
        ("uv.lock", "pygments", "2.17.2", True),
    ]


def test_collect_reads_constraints_files_as_not_direct() -> None:
    files = {
        "constraints.txt": "urllib3==1.26.5\n",
        "requirements.txt": "-c constraints.txt\nrequests==2.31.0\n",
    }
    deps, problems = m.collect(sorted(files), reader(files))
    assert problems == []
    assert [(d.where, d.name, d.direct) for d in deps] == [
        ("constraints.txt:1", "urllib3", False),
        ("requirements.txt:2", "requests", True),
    ]


def test_collect_never_raises_on_a_tree_of_garbage() -> None:
    files = {
        "pyproject.toml": "[project]\ndependencies = 42\n",
        "poetry.lock": 'package = "str"\n',
        "a/uv.lock": "package = 3\n",
        "a/pyproject.toml": "x = [",
        "b/Pipfile.lock": "[1]",
        "b/Pipfile": "packages = 1",
        "c/setup.py": "def (",
        "c/setup.cfg": "x",
        "d/environment.yml": "dependencies: 3",
        "requirements.txt": "-r requirements.txt\n-c\n",
    }
    deps, problems = m.collect(sorted(files), reader(files))
    assert deps == []
    assert sorted({p.source for p in problems}) == [
        "a/uv.lock",
        "b/Pipfile.lock",
        "c/setup.cfg",
        "c/setup.py",
        "d/environment.yml",
        "poetry.lock",
        "requirements.txt",
    ]
