"""A small typed decoder for the tools' JSON: every element read is checked.

Each helper takes the value and where it is in the document (`results[0].line_number`)
and returns it typed, or raises `DecodeError` naming that place and what was wrong.
A scanner's `parse()` catches `DecodeError` once, at its top, and returns it as a
`Parsed.failure`: output with the right outer shape but an element of the wrong type
makes the scanner FAILED with the reason, never an exception that ends the run.

No schema library: jsonschema is a development dependency only, and these checks
are few enough to read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")
Decoder = Callable[[Any, str], T]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class DecodeError(ValueError):
    """An element of a tool's JSON output that does not have the expected type."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where or '(document)'}: {problem}")
        self.where = where
        self.problem = problem


def child(where: str, key: str | int) -> str:
    """The path of `key` below `where`: `a.b`, `a[0]`, `results["app/x.py"]`."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    if _IDENTIFIER.fullmatch(key):
        return f"{where}.{key}" if where else key
    return f"{where}[{json.dumps(key)}]"


def describe(value: Any) -> str:
    """A JSON value as a problem report shows it: short, never a whole document."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _expected(what: str, value: Any, where: str) -> DecodeError:
    return DecodeError(where, f"expected {what}, got {describe(value)}")


def obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _expected("an object", value, where)
    return value


def lst(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _expected("a list", value, where)
    return value


def string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _expected("a string", value, where)
    return value


def integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _expected("an integer", value, where)
    return value


def list_of(item: Decoder[T]) -> Decoder[list[T]]:
    """A decoder of a list whose every element `item` decodes."""

    def decode(value: Any, where: str) -> list[T]:
        return [item(v, child(where, i)) for i, v in enumerate(lst(value, where))]

    return decode


def field(m: Mapping[str, Any], key: str, where: str, decode: Decoder[T], default: T) -> T:
    """`m[key]` decoded, or `default` when the key is absent or null."""
    value = m.get(key)
    if value is None:
        return default
    return decode(value, child(where, key))


def optional(m: Mapping[str, Any], key: str, where: str, decode: Decoder[T]) -> T | None:
    """`m[key]` decoded, or None when the key is absent or null."""
    value = m.get(key)
    if value is None:
        return None
    return decode(value, child(where, key))


def required(m: Mapping[str, Any], key: str, where: str, decode: Decoder[T]) -> T:
    """`m[key]` decoded; absent or null is a DecodeError."""
    if m.get(key) is None:
        raise DecodeError(child(where, key), "missing")
    return decode(m[key], child(where, key))


def mismatch(tool: str, exc: DecodeError) -> str:
    """The failure reason of a scanner whose output does not fit: tool, path, problem."""
    return f"{tool} output does not match its format: {exc}"
