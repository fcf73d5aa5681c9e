"""Keyed identities of secrets: what the evidence says instead of detect-secrets' SHA-1.

detect-secrets identifies a secret by the unsalted SHA-1 of its value; written into
the evidence, a short password is recovered offline in seconds. Every output carries
instead:

- `hmac-sha256:<32 hex>`: HMAC-SHA-256 of that SHA-1 under the operator's key
  (`COMPLIANCE_PIPELINE_SECRET_KEY`, e.g. a CI secret; never in the bundle). The same
  key gives the same identities on every run, so fingerprints and baselines hold.
- `pbkdf2-sha256:<32 hex>` when no key is set: PBKDF2-HMAC-SHA-256 of that SHA-1,
  100,000 iterations, a fixed salt. Deterministic everywhere without key management,
  and each guess of a brute force costs 100,000 hashes instead of one; a key is stronger
  (docs/secrets.md says when to set one).

The input is the tool's SHA-1 (hex), so a secret that could not be located in its line
still gets its identity.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

KEY_ENV = "COMPLIANCE_PIPELINE_SECRET_KEY"
SALT = b"compliance-pipeline/secret-id/v1"
ITERATIONS = 100_000


class SecretIds:
    """sha1 hex → keyed identity, memoised for the run (PBKDF2 costs ~20 ms)."""

    def __init__(self, key: str | None) -> None:
        self._key = key.encode("utf-8") if key else None
        self._memo: dict[str, str] = {}

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> SecretIds:
        return cls(environ.get(KEY_ENV) or None)

    @property
    def scheme(self) -> str:
        return "hmac-sha256" if self._key is not None else "pbkdf2-sha256"

    @property
    def identity(self) -> str:
        """Which identities this run gives secrets (the scheme, and a digest of the key:
        never the key), for the result cache's keys."""
        if self._key is None:
            return self.scheme
        return f"{self.scheme}:{hashlib.sha256(b'compliance-pipeline cache ' + self._key).hexdigest()}"

    def of(self, sha1_hex: str) -> str:
        if sha1_hex not in self._memo:
            material = sha1_hex.strip().lower().encode("ascii", "replace")
            if self._key is not None:
                digest = hmac.new(self._key, material, hashlib.sha256).hexdigest()
            else:
                digest = hashlib.pbkdf2_hmac("sha256", material, SALT, ITERATIONS).hex()
            self._memo[sha1_hex] = f"{self.scheme}:{digest[:32]}"
        return self._memo[sha1_hex]
