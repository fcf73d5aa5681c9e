"""The redaction boundary: every string of a run passes here before any writer sees it.

`run.execute` hands the writers (evidence bundle, terminal, SARIF, SBOM, ledger,
baseline) a RunReport and raw outputs that went through `redact_report` and
`redact_data`: each string has every secret value located in this run replaced by
its mask (`Scrubber`) and every credential shape masked (`redact.redact_text`: URL
userinfo, Authorization headers, private keys, known token prefixes, password/secret/
token assignments). A writer added later cannot forget it: it only ever receives
redacted data. `tests/test_no_plaintext_anywhere.py` greps every byte written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from pipeline import redact
from pipeline.redact import Scrubber

T = TypeVar("T")

KEEP = frozenset(
    {"fingerprint", "legacy_fingerprint", "config_digest", "digest", "tool", "scanner", "rule_id", "category"}
)
"""Fields that are identities or our own vocabulary, never text from the target (left as
they are): a secret equal to a tool's name must not rename the tool."""


def text_filter(scrub: Scrubber) -> Callable[[str], str]:
    memo: dict[str, str] = {}

    def clean(value: str) -> str:
        if value not in memo:
            memo[value] = redact.redact_text(scrub.text(value))
        return memo[value]

    return clean


def redact_report(report: T, clean: Callable[[str], str]) -> T:
    """A copy of a (frozen) dataclass tree with every string cleaned."""
    return _walk(report, clean)  # type: ignore[no-any-return]


def redact_data(value: Any, clean: Callable[[str], str]) -> Any:
    """The same for JSON-like data (raw tool outputs): keys and values."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [redact_data(v, clean) for v in value]
    if isinstance(value, dict):
        return {clean(k) if isinstance(k, str) else k: redact_data(v, clean) for k, v in value.items()}
    return value


def _walk(value: Any, clean: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return clean(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if f.name in KEEP or not f.init:
                continue
            old = getattr(value, f.name)
            new = _walk(old, clean)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, tuple):
        items = tuple(_walk(v, clean) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, Mapping):
        return MappingProxyType({_walk(k, clean): _walk(v, clean) for k, v in value.items()})
    return value
