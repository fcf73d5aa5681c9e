"""Masking: no secret value leaves the scan in plain text.

`mask()` turns a secret into a short preview that identifies nothing;
`mask_line()` hides quoted values and secret-looking tokens in a code line;
`Scrubber` removes known secret values (found by detect-secrets in this run)
from every string that is written: snippets, raw tool outputs, error texts.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

MASK = "*****"
_QUOTED = re.compile(r"""(?P<q>["'`])(?P<body>(?:\\.|(?!(?P=q)).){4,}?)(?P=q)""")
_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-]{16,}")
_KEYWORD = re.compile(
    r"(?i)(pass(word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|"
    r"credential|auth)"
)
_ASSIGNED = re.compile(r"""(?P<pre>[:=]\s*)(?P<val>[^\s"'`,;]{4,})""")
MAX_LINE = 200


def mask(value: str) -> str:
    """A preview that shows at most a short prefix, never the length or the rest."""
    keep = 2 if len(value) >= 12 else 0
    return value[:keep] + MASK


def entropy(text: str) -> float:
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


def _suspicious(token: str) -> bool:
    return len(token) >= 16 and entropy(token) >= 3.5


def mask_line(line: str) -> str:
    """Mask what may be a secret in a code line, keeping the rest readable.

    On a line that names a secret-like thing (password, token, key…), every
    quoted value and assigned value is masked; anywhere, high-entropy tokens
    and high-entropy quoted values are masked. Exact secret values found by
    detect-secrets are removed separately by `Scrubber`.
    """
    line = line.rstrip("\n")
    if len(line) > MAX_LINE:
        line = line[:MAX_LINE] + "…"
    keyword = bool(_KEYWORD.search(line))

    def quoted(m: re.Match[str]) -> str:
        body = m.group("body")
        if keyword or _suspicious(body):
            return m.group("q") + mask(body) + m.group("q")
        return m.group(0)

    line = _QUOTED.sub(quoted, line)
    if keyword:
        line = _ASSIGNED.sub(lambda m: m.group("pre") + mask(m.group("val")), line)
    return _TOKEN.sub(lambda m: mask(m.group(0)) if _suspicious(m.group(0)) else m.group(0), line)


def find_hashed(line: str, sha1_hex: str, max_line: int = 2000, max_secret: int = 512) -> str | None:
    """The substring of `line` whose SHA-1 is `sha1_hex` (detect-secrets' hashed_secret).

    Candidates start and end at token boundaries, which is where every
    detect-secrets plugin cuts its secrets. Not found (None) means the
    preview is fully masked, never that anything is revealed.
    """
    if len(line) > max_line:
        return None
    bounds = [0] + [i for i in range(1, len(line)) if line[i].isalnum() != line[i - 1].isalnum()]
    bounds.append(len(line))
    for a in bounds:
        for b in bounds:
            if b <= a:
                continue
            if b - a > max_secret:
                break
            candidate = line[a:b]
            digest = hashlib.sha1(candidate.encode("utf-8"), usedforsecurity=False).hexdigest()
            if digest == sha1_hex:  # detect-secrets' identity hash, not a security use
                return candidate
    return None


class Scrubber:
    """Replaces known secret values with their masks in any JSON-like value."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, mask(secret))
        return value

    def data(self, value: Any) -> Any:
        if not self._secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        return value
