"""Where the project's data lives: policies/, templates/ and the tool locks.

The wheel carries `policies/` and `templates/` inside the package
(hatchling force-include); a source checkout has them at the top level.
This is the one place that knows both layouts.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path


def _package_dir() -> Path:
    return Path(str(importlib.resources.files("pipeline")))


def data_dir(name: str) -> Path:
    """`policies` or `templates`, wherever this installation keeps them."""
    inside = _package_dir() / name
    if inside.is_dir():
        return inside
    checkout = _package_dir().parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the {name}/ folder is missing from this installation")


def policies_dir() -> Path:
    return data_dir("policies")


def templates_dir() -> Path:
    return data_dir("templates")


def lock_file(name: str) -> Path:
    """A file of pipeline/locks/ (tool lock files and tool data)."""
    return _package_dir() / "locks" / name
