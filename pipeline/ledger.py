"""The run ledger: an append-only, hash-chained history of runs for the quarterly report.

One code path for SQLite (a file path) and PostgreSQL (`postgresql://…`), through
SQLAlchemy Core. Each record stores the digest of the previous record of its
repository and its own digest over (previous digest, canonical record): `verify`
walks every chain and reports altered, missing and re-ordered records.

Concurrent writers neither lose nor fork records: (repo, seq) is unique, so two
writers racing for the same place collide and the loser retries on the new head.
Importing the same bundle twice changes nothing (the manifest digest is unique).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.exc import IntegrityError, OperationalError

SCHEMA_VERSION = 2
GENESIS = "0" * 64

metadata = sa.MetaData()
meta_table = sa.Table(
    "ledger_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)
runs = sa.Table(
    "ledger_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("repo", sa.String(512), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("run_key", sa.String(80), nullable=False, unique=True),
    sa.Column("started_at", sa.String(32), nullable=False),
    sa.Column("record", sa.Text, nullable=False),
    sa.Column("prev_digest", sa.String(64), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("signature", sa.Text, nullable=True),
    sa.UniqueConstraint("repo", "seq", name="ledger_runs_repo_seq"),
)
sa.Index("ledger_runs_repo_started", runs.c.repo, runs.c.started_at)


def _add_signature_column(conn: Any) -> None:
    """Schema 2: each record's Ed25519 signature over every column (see `statement`)."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("ledger_runs")}
    if "signature" not in columns:
        conn.exec_driver_sql("ALTER TABLE ledger_runs ADD COLUMN signature TEXT")


# Each migration takes the schema from version N-1 to N; applied in order, once.
MIGRATIONS: dict[int, Any] = {1: lambda conn: metadata.create_all(conn), 2: _add_signature_column}


def statement(repo: str, seq: int, run_key: str, started_at: str, prev: str, digest: str) -> bytes:
    """What a record's signature covers: every column, so moving a record to another
    repository, renumbering it or editing its run key or date breaks the signature,
    and its digest ties it to the record's content and to the record before it."""
    return canonical(
        {
            "repo": repo,
            "seq": seq,
            "run_key": run_key,
            "started_at": started_at,
            "prev": prev,
            "digest": digest,
        }
    ).encode("utf-8")


class LedgerError(Exception):
    """The ledger cannot be opened or written."""


def url_of(target: str) -> str:
    """`postgresql://…` as given (psycopg 3 driver), anything else is a SQLite file."""
    if target.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + target.split("://", 1)[1]
    if "://" in target:
        return target
    return f"sqlite:///{Path(target).resolve()}"


def canonical(record: Mapping[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_digest(prev: str, record_text: str) -> str:
    return hashlib.sha256((prev + "\n" + record_text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Problem:
    repo: str
    seq: int
    kind: str
    """'altered', 'missing', 'reordered', 'forged', 'truncated'."""
    detail: str


class Ledger:
    def __init__(self, target: str) -> None:
        url = url_of(target)
        kwargs: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 60}
        try:
            self.engine = sa.create_engine(url, **kwargs)
            if url.startswith("sqlite"):
                sa.event.listen(self.engine, "connect", _sqlite_pragmas)
                sa.event.listen(self.engine, "begin", _sqlite_begin)
            self._migrate()
        except (OperationalError, sa.exc.ArgumentError) as exc:
            raise LedgerError(f"cannot open the ledger {_redact(target)}: {exc.__class__.__name__}") from None

    def _migrate(self) -> None:
        with self.engine.connect().execution_options(writer=True) as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                # Writers opening a new ledger at once: one migrates, the others wait.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7315201)")
            meta_table.create(conn, checkfirst=True)
            row = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema")).first()
            current = int(row[0]) if row else 0
            for version in sorted(v for v in MIGRATIONS if v > current):
                MIGRATIONS[version](conn)
                if current == 0:
                    conn.execute(meta_table.insert().values(key="schema", value=str(version)))
                else:
                    conn.execute(
                        meta_table.update().where(meta_table.c.key == "schema").values(value=str(version))
                    )
                current = version

    def append(
        self,
        repo: str,
        run_key: str,
        started_at: str,
        record: Mapping[str, Any],
        signing_key: Ed25519PrivateKey | None = None,
    ) -> bool:
        """Append one run to its repository's chain; False when this run_key is already there.
        With a key, the record is signed (Ed25519, the key that signs bundles)."""
        text = canonical(record)
        for attempt in range(200):
            try:
                with self.engine.connect().execution_options(writer=True) as conn, conn.begin():
                    if conn.execute(sa.select(runs.c.id).where(runs.c.run_key == run_key)).first():
                        return False
                    head = conn.execute(
                        sa.select(runs.c.seq, runs.c.digest)
                        .where(runs.c.repo == repo)
                        .order_by(runs.c.seq.desc())
                        .limit(1)
                    ).first()
                    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
                    digest = chain_digest(prev, text)
                    signature = (
                        base64.b64encode(
                            signing_key.sign(statement(repo, seq, run_key, started_at, prev, digest))
                        ).decode()
                        if signing_key is not None
                        else None
                    )
                    conn.execute(
                        runs.insert().values(
                            repo=repo,
                            seq=seq,
                            run_key=run_key,
                            started_at=started_at,
                            record=text,
                            prev_digest=prev,
                            digest=digest,
                            signature=signature,
                        )
                    )
                return True
            except IntegrityError:
                continue  # another writer took this place (or this run_key): look again
            except OperationalError:
                time.sleep(0.01 + random.random() * 0.05 * min(attempt + 1, 10))
        raise LedgerError(f"could not append to {repo}'s chain: too much contention")

    def records(self, repo: str | None = None) -> Iterator[tuple[str, int, str, dict[str, Any]]]:
        """(repo, seq, digest, record) in chain order."""
        query = sa.select(runs.c.repo, runs.c.seq, runs.c.digest, runs.c.record).order_by(
            runs.c.repo, runs.c.seq
        )
        if repo is not None:
            query = query.where(runs.c.repo == repo)
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                yield r[0], r[1], r[2], json.loads(r[3])

    def repos(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.select(runs.c.repo).distinct().order_by(runs.c.repo))]

    def heads(self) -> dict[str, tuple[int, str]]:
        """Each repository's newest record: (seq, digest). A report prints them so that a
        later verification can tell a truncated chain (`verify(expect=…)`)."""
        out: dict[str, tuple[int, str]] = {}
        with self.engine.connect() as conn:
            for repo, seq, digest in conn.execute(
                sa.select(runs.c.repo, runs.c.seq, runs.c.digest).order_by(runs.c.repo, runs.c.seq)
            ):
                out[repo] = (seq, digest)
        return out

    def verify(
        self,
        public_key: Ed25519PublicKey | None = None,
        expect: Mapping[str, tuple[int, str]] | None = None,
    ) -> list[Problem]:
        """Walk every chain. With a public key every record must carry a valid signature
        over all its columns; with `expect` (heads printed by an earlier report), each
        named chain must still reach that record: deleting the newest records, or all of
        a repository's, is then detected."""
        problems: list[Problem] = []
        query = sa.select(
            runs.c.repo,
            runs.c.seq,
            runs.c.run_key,
            runs.c.started_at,
            runs.c.record,
            runs.c.prev_digest,
            runs.c.digest,
            runs.c.signature,
        ).order_by(runs.c.repo, runs.c.seq)
        last: dict[str, tuple[int, str]] = {}
        seen_digests: dict[str, dict[int, str]] = {}
        with self.engine.connect() as conn:
            for repo, seq, run_key, started_at, record, prev, digest, signature in conn.execute(query):
                expected_seq, expected_prev = last.get(repo, (0, GENESIS))
                if seq != expected_seq + 1:
                    problems.append(
                        Problem(repo, seq, "missing", f"records {expected_seq + 1}..{seq - 1} are missing")
                    )
                elif prev != expected_prev:
                    problems.append(Problem(repo, seq, "reordered", "does not follow the record before it"))
                if chain_digest(prev, record) != digest:
                    problems.append(Problem(repo, seq, "altered", "its content does not match its digest"))
                if public_key is not None:
                    why = _signature_problem(
                        public_key, signature, statement(repo, seq, run_key, started_at, prev, digest)
                    )
                    if why:
                        problems.append(Problem(repo, seq, "forged", why))
                last[repo] = (seq, digest)
                seen_digests.setdefault(repo, {})[seq] = digest
        for repo, (seq, digest) in sorted((expect or {}).items()):
            chain = seen_digests.get(repo, {})
            if not chain:
                problems.append(Problem(repo, seq, "missing", f"no record left; the expected head is #{seq}"))
            elif chain.get(seq) != digest:
                newest = max(chain)
                detail = (
                    f"the chain ends at #{newest}: records up to the expected head #{seq} are gone"
                    if newest < seq
                    else f"record #{seq} is not the expected head {digest[:16]}…"
                )
                problems.append(Problem(repo, seq, "truncated" if newest < seq else "altered", detail))
        return problems

    def close(self) -> None:
        self.engine.dispose()


def _signature_problem(key: Ed25519PublicKey, signature: str | None, signed: bytes) -> str | None:
    if not signature:
        return "not signed"
    try:
        key.verify(base64.b64decode(signature, validate=True), signed)
    except (InvalidSignature, ValueError):
        return "its signature does not verify: forged, or one of its columns was edited"
    return None


def _sqlite_begin(conn: Any) -> None:
    """Writers take SQLite's write lock up front (no upgrade deadlock); readers do not."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writer") else "BEGIN")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # transactions are begun by _sqlite_begin
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()


def _redact(target: str) -> str:
    """A database URL without its password, for messages."""
    if "://" in target and "@" in target:
        scheme, rest = target.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}"
    return target


def record_from_findings_json(doc: Mapping[str, Any], manifest_digest: str) -> dict[str, Any]:
    """What the ledger keeps of a run (findings.json + the manifest's digest), including
    what the run could not assess, so that the quarterly report closes a finding only on
    a run that re-assessed it: each scanner's not-assessed items (for a scanner that ran
    ok; a failed one assessed nothing), the paths no scanner was given
    (`inventory.skipped`) and whether the run was interrupted. Each list keeps at most
    `cap` entries; a longer one is cut and marked `…_capped`, and the quarterly report then
    treats that scope as not fully assessed (fail closed)."""
    cap = 500

    def unassessed(s: Mapping[str, Any]) -> list[str]:
        return sorted({str(n["item"]) for n in s["not_assessed"]}) if s["status"] == "ok" else []

    skipped = [
        {"path": s["path"], "category": s.get("category", "other")}
        for s in (doc.get("inventory") or {}).get("skipped", [])
    ]
    return {
        "started_at": doc["started_at"],
        "finished_at": doc["finished_at"],
        "target": doc["target"],
        "git": doc["git"],
        "pipeline_version": doc["pipeline_version"],
        "verdict": doc["verdict"],
        "manifest_digest": manifest_digest,
        "advisory_database": doc.get("advisory_database"),
        "interrupted": doc.get("interrupted"),
        "scope": _scope(doc.get("scope"), cap),
        "skipped": skipped[:cap],
        "skipped_capped": len(skipped) > cap,
        "scanners": [
            {
                "name": s["name"],
                "status": s["status"],
                "tool": s["tool"],
                "not_assessed": len(s["not_assessed"]),
                "unassessed": unassessed(s)[:cap],
                "unassessed_capped": len(unassessed(s)) > cap,
            }
            for s in doc["scanners"]
        ],
        "findings": [
            {
                "fingerprint": f["fingerprint"],
                "tool": f["tool"],
                "rule_id": f["rule_id"],
                "title": f["title"],
                "severity": f["severity"],
                "path": f["location"]["path"],
                "resource": f["location"].get("resource"),
                "status": f.get("status", "active"),
                "suppression": f.get("suppression"),
            }
            for f in doc["findings"]
        ],
        "controls": [
            {
                "framework": c["framework"],
                "control_id": c["control_id"],
                "title": c["title"],
                "status": c["status"],
                "accepted": len(c.get("accepted") or ()),
                "label": c.get("label") or c["status"],
                "assessment": c.get("assessment", "automated"),
                "attestation": _attestation(c.get("attestation")),
            }
            for c in doc.get("controls", [])
        ],
    }


def _scope(scope: Mapping[str, Any] | None, cap: int) -> dict[str, Any]:
    """A diff scan's change (what it assessed); a longer list than `cap` is cut and
    marked, and the quarterly report then treats what is not listed as not assessed."""
    if not scope or scope.get("kind") != "change":
        return {"kind": "full"}
    files = list(scope.get("files") or ())
    return {
        "kind": "change",
        "since": scope.get("since"),
        "files": files[:cap],
        "files_capped": len(files) > cap,
        "modules": list(scope.get("modules") or ())[:cap],
        "error": scope.get("error"),
    }


def _attestation(a: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What the quarterly report needs of an attestation: who, when, until when, the evidence."""
    if not a:
        return None
    keys = ("passed", "updated", "updated_by", "due", "frequency", "evidence", "source")
    return {k: a.get(k) for k in keys}


def repo_name(doc: Mapping[str, Any]) -> str:
    """A repository's identity: its git remote, else the scanned folder's name."""
    remote = (doc.get("git") or {}).get("remote")
    return str(remote) if remote else Path(str(doc["target"])).name
