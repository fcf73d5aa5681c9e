"""The environments a scanned project supports, and which dependency markers apply to them.

A manifest may declare alternatives (`django==3.2.18; python_version < "3.8"` and
`django==4.2; python_version >= "3.8"`); uv.lock holds one version per Python range.
Every alternative whose marker holds in at least one supported environment is
audited. The supported environments are the configured `python-versions` ×
`platforms`; by default the Python versions the project's own `requires-python`
admits (PEP 621, in the target's top-level pyproject.toml) among KNOWN_PYTHONS,
and every platform of PLATFORMS.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.specifiers import InvalidSpecifier, SpecifierSet

SUPPORTED_PYTHONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
"""The default when the project declares nothing."""
KNOWN_PYTHONS = ("2.7", *(f"3.{n}" for n in range(0, 8)), *SUPPORTED_PYTHONS)
"""What a `requires-python` may select from (an old project's `<3.8` included)."""
PLATFORMS = {"linux": ("Linux", "posix"), "darwin": ("Darwin", "posix"), "win32": ("Windows", "nt")}
"""sys_platform → (platform_system, os_name)."""


@dataclass(frozen=True)
class Environments:
    pythons: tuple[str, ...]
    platforms: tuple[str, ...]
    source: str
    """How they were chosen, for the evidence ("requires-python >=3.10 of pyproject.toml")."""

    def describe(self) -> str:
        return f"Python {', '.join(self.pythons)} on {', '.join(self.platforms)} ({self.source})"

    def markers(self) -> tuple[dict[str, str], ...]:
        out = []
        for py in self.pythons:
            for plat in self.platforms:
                system, os_name = PLATFORMS[plat]
                out.append(
                    {
                        "python_version": py,
                        "python_full_version": f"{py}.0",
                        "sys_platform": plat,
                        "platform_system": system,
                        "os_name": os_name,
                        "platform_machine": "x86_64",
                        "platform_release": "",
                        "platform_version": "",
                        "implementation_name": "cpython",
                        "implementation_version": f"{py}.0",
                        "platform_python_implementation": "CPython",
                        "extra": "",
                    }
                )
        return tuple(out)


def choose(pythons: tuple[str, ...], platforms: tuple[str, ...], pyproject_text: str | None) -> Environments:
    """The configured environments, else those of the project's `requires-python`."""
    plats = platforms or tuple(PLATFORMS)
    if pythons:
        return Environments(pythons, plats, "python-versions setting")
    requires = _requires_python(pyproject_text)
    if requires is not None:
        try:
            spec = SpecifierSet(requires)
        except InvalidSpecifier:
            spec = None
        if spec is not None:
            admitted = tuple(v for v in KNOWN_PYTHONS if spec.contains(f"{v}.0", prereleases=True))
            if admitted:
                return Environments(admitted, plats, f"requires-python {requires!r} of pyproject.toml")
    return Environments(SUPPORTED_PYTHONS, plats, "every supported Python: the project declares none")


def _requires_python(text: str | None) -> str | None:
    if not text:
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    project = data.get("project")
    value = project.get("requires-python") if isinstance(project, dict) else None
    return value if isinstance(value, str) else None


def applies(marker: str | None, envs: Environments) -> bool:
    """Whether the marker holds in at least one supported environment.

    A marker that names an extra (`extra == "dev"`) applies: the extra may be
    installed. One we cannot evaluate applies too: auditing more is the safe side.
    """
    if not marker:
        return True
    try:
        parsed = Marker(marker)
    except InvalidMarker:
        return True
    if "extra" in marker:
        return True
    for env in envs.markers():
        try:
            if parsed.evaluate(_env(env)):
                return True
        except (UndefinedComparison, UndefinedEnvironmentName):
            return True
    return False


def _env(env: Mapping[str, str]) -> dict[str, str]:
    return dict(env)
