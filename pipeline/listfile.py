"""The YAML list files a repository keeps beside its code (compliance-waivers.yaml,
compliance-attestations.yaml): read once, each entry with the line it starts on.

The file is hostile input: a symbolic link is refused (it could name a file outside the
target, whose content a YAML error message would quote), undecodable text and invalid
YAML are configuration errors naming the file, and an entry's values must be single
values (a list or mapping is refused, so no alias bomb is ever turned into text).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import ConfigError


def entries(path: Path, key: str, noun: str, allowed: set[str]) -> list[tuple[dict[str, Any], int]]:
    """(entry, line) for every entry of the top-level `key` list; [] when the file
    is missing or empty. ConfigError names the file and line of what is wrong."""
    name = path.name
    if path.is_symlink():
        raise ConfigError(f"{name}: a symbolic link, not read (it could point outside the scanned folder)")
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot be read as UTF-8 text: {type(exc).__name__}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML: {exc}") from None
    if root is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise ConfigError(f"{name}:1: expected a top-level {key!r} list")
    nodes = next(v for k, v in root.value if k.value == key).value
    out: list[tuple[dict[str, Any], int]] = []
    for raw, node in zip(data[key], nodes, strict=True):
        line = node.start_mark.line + 1
        at = f"{name}:{line}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{at}: {noun} must be a mapping")
        unknown = set(raw) - allowed
        if unknown:
            raise ConfigError(f"{at}: unknown keys {sorted(unknown)} (allowed: {sorted(allowed)})")
        for k, value in raw.items():
            if isinstance(value, (list, dict)):
                raise ConfigError(f"{at}: {k!r} must be a single value, not a list or mapping")
        out.append((raw, line))
    return out


def date(value: Any, at: str, key: str) -> dt.date:
    """A YYYY-MM-DD value of an entry (YAML may already have made it a date)."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"{at}: {key} {value!r} is not a YYYY-MM-DD date") from None
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ConfigError(f"{at}: {key} must be a YYYY-MM-DD date")
    return value
