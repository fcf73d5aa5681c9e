"""A small OSV-compatible service for the tests: POST /v1/query on 127.0.0.1.

It answers from real PyPA advisory records (tests/data/osv/) by exact match on
the record's `versions` list. It stands in for the vulnerability *service*
only; pip-audit itself is the real, pinned tool.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).parent / "data" / "osv"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def load_records(folder: Path = DATA) -> list[dict[str, Any]]:
    return [_jsonable(yaml.safe_load(p.read_text())) for p in sorted(folder.glob("*.yaml"))]


@contextmanager
def osv_service(records: list[dict[str, Any]] | None = None) -> Iterator[str]:
    recs = load_records() if records is None else records

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            query = json.loads(self.rfile.read(length) or b"{}")
            name = query.get("package", {}).get("name")
            version = query.get("version")
            vulns = [
                r
                for r in recs
                if any(
                    a["package"]["name"] == name
                    and version in [str(v) for v in a.get("versions", [])]
                    for a in r.get("affected", [])
                )
            ]
            body = json.dumps({"vulns": vulns} if vulns else {}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    finally:
        server.shutdown()
        server.server_close()
