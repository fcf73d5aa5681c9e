"""A chain nobody can rewrite (issue 14, item 7), on SQLite and PostgreSQL.

Before: removing every high finding from all records and recomputing the digests,
deleting the newest record or all of them, appending a forged record, moving a record
to another repository, editing run_key or started_at: `ledger verify` said INTACT.
Now each record is signed (Ed25519) over every column, and a chain head printed by an
earlier verification or report pins the end of the chain.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_ledger import _record, target  # noqa: F401 - the SQLite/PostgreSQL fixture

from pipeline import ledger

KEY = Ed25519PrivateKey.generate()
PUB = KEY.public_key()
REPO = "git@example.invalid:a/b.git"


def _book(target: str, n: int = 5) -> ledger.Ledger:  # noqa: F811 - fixture name
    book = ledger.Ledger(target)
    for i in range(n):
        findings = [
            {
                "fingerprint": f"f{i}",
                "severity": "high",
                "tool": "bandit",
                "rule_id": "B602",
                "title": "subprocess with shell=True",
                "path": "app.py",
                "status": "active",
                "suppression": None,
            }
        ]
        book.append(
            REPO, f"run-{i}", f"2026-10-0{i + 1}T06:00:00Z", _record(f"2026-10-0{i + 1}", findings), KEY
        )
    return book


def _sql(book: ledger.Ledger, statement: str, **params: Any) -> None:
    with book.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def _kinds(book: ledger.Ledger, **kwargs: Any) -> set[str]:
    return {p.kind for p in book.verify(PUB, **kwargs)}


def _rewrite_everything(book: ledger.Ledger) -> None:
    """The attacker's best move without the key: drop the highs, set pass, recompute digests."""
    with book.engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT id, record FROM ledger_runs ORDER BY seq")).all()
        prev = ledger.GENESIS
        for row_id, text in rows:
            record = json.loads(text)
            record["findings"], record["verdict"] = [], "pass"
            new = ledger.canonical(record)
            digest = ledger.chain_digest(prev, new)
            conn.execute(
                sa.text("UPDATE ledger_runs SET record = :r, prev_digest = :p, digest = :d WHERE id = :i"),
                {"r": new, "p": prev, "d": digest, "i": row_id},
            )
            prev = digest


ATTACKS: dict[str, Callable[[ledger.Ledger], None]] = {
    "rewrite every record and recompute the digests": _rewrite_everything,
    "edit run_key": lambda b: _sql(b, "UPDATE ledger_runs SET run_key = 'other' WHERE seq = 2"),
    "edit started_at": lambda b: _sql(
        b, "UPDATE ledger_runs SET started_at = '2026-12-31T00:00:00Z' WHERE seq = 3"
    ),
    "move a record to another repository": lambda b: _sql(
        b, "UPDATE ledger_runs SET repo = 'x' WHERE seq = 5"
    ),
    "append a forged record": lambda b: b.append(
        REPO, "forged", "2026-10-09T00:00:00Z", _record("2026-10-09")
    ),
    "strip a signature": lambda b: _sql(b, "UPDATE ledger_runs SET signature = NULL WHERE seq = 1"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_every_rewrite_is_detected_with_the_key(target: str, attack: str) -> None:  # noqa: F811
    book = _book(target)
    try:
        assert book.verify(PUB) == []
        ATTACKS[attack](book)
        assert "forged" in _kinds(book), attack
    finally:
        book.close()


@pytest.mark.parametrize("deleted", ["the newest record", "the newest three", "every record"])
def test_truncation_is_detected_against_a_printed_head(target: str, deleted: str) -> None:  # noqa: F811
    book = _book(target)
    try:
        head = book.heads()
        assert book.verify(PUB, expect=head) == []
        keep = {"the newest record": 4, "the newest three": 2, "every record": 0}[deleted]
        _sql(book, "DELETE FROM ledger_runs WHERE seq > :k", k=keep)
        assert book.verify(PUB) == [] or deleted == "every record"  # a shorter chain is still a chain…
        kinds = _kinds(book, expect=head)
        assert kinds & {"truncated", "missing"}, (deleted, kinds)  # …but not the one the report printed
    finally:
        book.close()


def test_reordered_records_are_detected(target: str) -> None:  # noqa: F811
    book = _book(target)
    try:
        _sql(book, "UPDATE ledger_runs SET seq = 99 WHERE seq = 2")
        _sql(book, "UPDATE ledger_runs SET seq = 2 WHERE seq = 3")
        _sql(book, "UPDATE ledger_runs SET seq = 3 WHERE seq = 99")
        assert _kinds(book) & {"reordered", "forged"}
    finally:
        book.close()


def _keys(tmp_path: Path) -> tuple[Path, Path]:
    priv, pub = tmp_path / "key.pem", tmp_path / "key.pub"
    priv.write_bytes(
        KEY.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    pub.write_bytes(
        PUB.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return priv, pub


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, timeout=600
    )


def test_cli_import_refuses_a_bundle_whose_signature_fails_and_verify_checks_heads(tmp_path: Path) -> None:
    priv, pub = _keys(tmp_path)
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text("x = 1\n")
    db = str(tmp_path / "ledger.sqlite")
    only = ["--only", "bandit", "--no-progress"]
    good = _cli("scan", str(repo), "-o", str(tmp_path / "good"), "--sign-key", str(priv), *only)
    bad = _cli("scan", str(repo), "-o", str(tmp_path / "bad"), "--sign-key", str(other), *only)
    unsigned = _cli("scan", str(repo), "-o", str(tmp_path / "unsigned"), *only)
    assert {good.returncode, bad.returncode, unsigned.returncode} == {0}, good.stderr + bad.stderr
    for name in ("bad", "unsigned"):
        refused = _cli("ledger", "import", str(tmp_path / name), "--ledger", db, "--key", str(pub))
        assert refused.returncode == 3 and "not recorded" in refused.stderr, refused.stderr
    done = _cli(
        "ledger", "import", str(tmp_path / "good"), "--ledger", db, "--key", str(pub), "--sign-key", str(priv)
    )
    assert done.returncode == 0, done.stderr
    verified = _cli("ledger", "verify", "--ledger", db, "--key", str(pub))
    assert (
        verified.returncode == 0 and "signatures checked" in verified.stdout and "INTACT" in verified.stdout
    )
    head = next(line.split(" ", 1)[1] for line in verified.stdout.splitlines() if line.startswith("head "))
    book = ledger.Ledger(db)
    _sql(book, "DELETE FROM ledger_runs")
    book.close()
    gone = _cli("ledger", "verify", "--ledger", db, "--key", str(pub), "--head", head)
    assert gone.returncode == 1 and "NOT INTACT" in gone.stdout, gone.stdout
    still = _cli("ledger", "verify", "--ledger", db, "--key", str(pub))
    assert "0 records" in still.stdout  # without the printed head, an empty ledger is all it can say


def test_the_quarterly_report_has_a_signed_manifest_and_states_the_chain_head(tmp_path: Path) -> None:
    priv, _ = _keys(tmp_path)
    db = str(tmp_path / "ledger.sqlite")
    book = _book(db)
    ((repo, (seq, digest)),) = book.heads().items()
    book.close()
    out = tmp_path / "report"
    done = _cli(
        "report",
        "quarterly",
        "--quarter",
        "2026-Q4",
        "--ledger",
        db,
        "--no-pdf",
        "--sign-key",
        str(priv),
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    html = (out / "compliance-2026-Q4.html").read_bytes()
    assert f"{repo}={seq}:{digest}".encode() in html and b"covers 5 ledger records" in html
    manifest = (out / "compliance-2026-Q4.manifest.json").read_bytes()
    doc = json.loads(manifest)
    assert doc["files"]["compliance-2026-Q4.html"]["sha256"] == __import__("hashlib").sha256(html).hexdigest()
    assert doc["ledger"] == {"records": 5, "chain_heads": [f"{repo}={seq}:{digest}"]}
    sig = json.loads((out / "compliance-2026-Q4.manifest.sig").read_text())
    PUB.verify(__import__("base64").b64decode(sig["signature"]), manifest)  # raises if it does not verify
