"""The scanners' isolated, pinned environments.

Each scanner gets its own virtual environment, created with uv from the
hash-pinned lock in `pipeline/locks/<distribution>.txt`, cached under the
user's cache folder and keyed by the lock's digest and the Python version:
a changed lock builds a new environment, an unchanged one is reused. checkov
(which pins old libraries and ships `bc-detect-secrets`, a fork installing the
same `detect_secrets` module as Yelp's) never shares an environment with
another scanner.

With `tools = "path"` the scanners already on PATH are used instead.
Failures are values (ToolSetup.error), never exceptions.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from pipeline import resources
from pipeline.runner import Runner, tool_environment

ENV_BUILD_TIMEOUT = 900.0
_DIST_INFO = re.compile(r"^(?P<name>.+?)-(?P<version>[^-]+)\.dist-info$")


@dataclass(frozen=True)
class ToolSetup:
    distribution: str
    source: str
    """'managed' or 'path'."""
    executable: Path | None = None
    env_dir: Path | None = None
    distributions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Every distribution installed beside the tool: normalised name → version."""
    error: str | None = None


def cache_root(environ: Mapping[str, str]) -> Path:
    override = environ.get("COMPLIANCE_PIPELINE_CACHE")
    if override:
        return Path(override)
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "compliance-pipeline"


def lock_path(distribution: str) -> Path:
    return resources.lock_file(f"{distribution}.txt")


def lock_digest(distribution: str) -> str:
    digest = hashlib.sha256(lock_path(distribution).read_bytes())
    digest.update(f"py{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()[:16]


def env_dir(distribution: str, environ: Mapping[str, str]) -> Path:
    return cache_root(environ) / "envs" / f"{distribution}-{lock_digest(distribution)}"


def _bin(env: Path) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions(env: Path) -> dict[str, str]:
    """Read the environment's *.dist-info folders: no subprocess needed."""
    found: dict[str, str] = {}
    for site in env.glob("lib*/python*/site-packages"):
        for entry in site.iterdir():
            m = _DIST_INFO.match(entry.name)
            if m:
                found[_normalise(m.group("name"))] = m.group("version")
    return dict(sorted(found.items()))


def uv_binary() -> str | None:
    """The uv executable installed with this package (beside the interpreter), else PATH's.

    uv's own `find_uv_bin()` is not used: it reads sysconfig, whose first
    initialisation races when environments are built from several threads.
    """
    beside = Path(sys.executable).parent / ("uv.exe" if os.name == "nt" else "uv")
    if beside.is_file():
        return str(beside)
    return shutil.which("uv")


def ensure(distribution: str, executable: str, runner: Runner, environ: Mapping[str, str]) -> ToolSetup:
    """The managed environment of one scanner, built on first use (safe across processes)."""
    env = env_dir(distribution, environ)
    env.parent.mkdir(parents=True, exist_ok=True)
    marker = env / ".complete"
    lock = env.parent / f"{env.name}.lock"
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            if not marker.is_file():
                error = _build(distribution, env, runner, environ)
                if error:
                    return ToolSetup(distribution, "managed", env_dir=env, error=error)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    exe = _bin(env) / executable
    if not exe.is_file():
        return ToolSetup(
            distribution, "managed", env_dir=env, error=f"{exe.name} missing from its environment"
        )
    return ToolSetup(
        distribution,
        "managed",
        executable=exe,
        env_dir=env,
        distributions=MappingProxyType(installed_distributions(env)),
    )


def _build(distribution: str, env: Path, runner: Runner, environ: Mapping[str, str]) -> str | None:
    uv = uv_binary()
    if uv is None:
        return "uv is not installed: it is a dependency of this package (pip install uv)"
    if env.exists():
        shutil.rmtree(env)
    cwd = env.parent
    steps = (
        [uv, "venv", "--quiet", "--python", sys.executable, str(env)],
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(_bin(env) / "python"),
            "--require-hashes",
            "--requirement",
            str(lock_path(distribution)),
        ],
    )
    for argv in steps:
        done = runner(argv, cwd, tool_environment(environ), ENV_BUILD_TIMEOUT)
        if done.returncode != 0:
            why = done.start_error or ("timed out" if done.timed_out else done.stderr.strip()[-800:])
            shutil.rmtree(env, ignore_errors=True)
            return f"building the {distribution} environment failed: {why}"
    (env / ".complete").write_text(
        json.dumps({"lock": lock_digest(distribution), "python": sys.version.split()[0]}) + "\n"
    )
    return None


def on_path(distribution: str, executable: str, runner: Runner, environ: Mapping[str, str]) -> ToolSetup:
    """A scanner found on PATH; its distributions are read from its own interpreter."""
    found = shutil.which(executable, path=environ.get("PATH"))
    if found is None:
        return ToolSetup(distribution, "path", error=f"{executable} not found on PATH")
    exe = Path(found)
    dists: dict[str, str] = {}
    python = _shebang_python(exe)
    if python is not None:
        # -I: isolated (no working directory on sys.path, no PYTHON* variables): the
        # working directory may be the scanned repository, with a `json.py` of its own.
        probe = runner(
            [
                str(python),
                "-I",
                "-c",
                "import importlib.metadata as m, json;"
                "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))",
            ],
            Path(tempfile.gettempdir()),
            tool_environment(environ),  # never the caller's tokens, even for a version probe
            60,
        )
        if probe.returncode == 0:
            try:
                dists = {_normalise(k): v for k, v in json.loads(probe.stdout).items() if k}
            except (json.JSONDecodeError, AttributeError):
                dists = {}
    return ToolSetup(
        distribution,
        "path",
        executable=exe,
        distributions=MappingProxyType(dict(sorted(dists.items()))),
    )


def _shebang_python(exe: Path) -> Path | None:
    try:
        with open(exe, "rb") as fh:
            first = fh.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    parts = first[2:].split()
    if not parts:
        return None
    if Path(parts[0]).name == "env" and len(parts) > 1:
        return Path(shutil.which(parts[1]) or parts[1])
    return Path(parts[0])


def setup(
    distribution: str, executable: str, mode: str, runner: Runner, environ: Mapping[str, str]
) -> ToolSetup:
    if mode == "path":
        return on_path(distribution, executable, runner, environ)
    return ensure(distribution, executable, runner, environ)


def list_environments(distributions: tuple[str, ...], environ: Mapping[str, str]) -> list[dict[str, str]]:
    """For `tools list`: each scanner's lock digest, folder and whether it is built."""
    rows = []
    for dist in distributions:
        env = env_dir(dist, environ)
        built = (env / ".complete").is_file()
        version = installed_distributions(env).get(dist, "") if built else ""
        rows.append(
            {
                "distribution": dist,
                "lock": lock_digest(dist),
                "status": "installed" if built else "not installed",
                "version": version,
                "path": str(env),
            }
        )
    return rows
