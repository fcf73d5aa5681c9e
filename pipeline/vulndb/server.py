"""A local OSV-compatible API for pip-audit, on 127.0.0.1 and an ephemeral port.

POST /v1/query and /v1/querybatch answer as api.osv.dev does. pip-audit sends
one /v1/query per dependency, without a Content-Type header; `{}` means no
vulnerabilities. Request bodies are bounded; the server is threaded and is
always stopped when the `serve()` block ends, however it ends.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pipeline.vulndb.store import VulnDb

MAX_BODY = 1024 * 1024
MAX_BATCH = 1000


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, db: VulnDb) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.db = db


def _package(query: Any) -> tuple[str, str] | None:
    if not isinstance(query, dict):
        return None
    pkg = query.get("package")
    version = query.get("version")
    if not isinstance(pkg, dict) or not isinstance(version, str):
        return None
    if pkg.get("ecosystem", "PyPI") != "PyPI" or not isinstance(pkg.get("name"), str):
        return None
    return pkg["name"], version


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle's algorithm and the client's
    # delayed ACK that costs ~40 ms a request (measured: 300 queries took 13 s).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: requests are counted, not logged

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._send(411, {"code": 411, "message": "Content-Length required"})
            return None
        if int(length) > MAX_BODY:
            self.close_connection = True
            self._send(413, {"code": 413, "message": f"request body over {MAX_BODY} bytes"})
            return None
        try:
            return json.loads(self.rfile.read(int(length)) or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            self._send(400, {"code": 400, "message": "request body is not JSON"})
            return None

    def do_POST(self) -> None:
        if self.path not in ("/v1/query", "/v1/querybatch"):
            self._send(404, {"code": 404, "message": "not found"})
            return
        body = self._body()
        if body is None:
            return
        if self.path == "/v1/query":
            target = _package(body)
            if target is None:
                self._send(
                    400,
                    {
                        "code": 400,
                        "message": "expected package.name, package.ecosystem and version",
                    },
                )
                return
            vulns = self.server.db.query(*target)
            self._send(200, {"vulns": vulns} if vulns else {})
            return
        queries = body.get("queries") if isinstance(body, dict) else None
        if not isinstance(queries, list) or len(queries) > MAX_BATCH:
            self._send(400, {"code": 400, "message": f"expected at most {MAX_BATCH} queries"})
            return
        results = []
        for q in queries:
            target = _package(q)
            found = self.server.db.query(*target) if target else []
            results.append(
                {"vulns": [{"id": v["id"], "modified": v["modified"]} for v in found]} if found else {}
            )
        self._send(200, {"results": results})

    def do_GET(self) -> None:
        self._send(405, {"code": 405, "message": "use POST"})


@contextmanager
def serve(db: VulnDb) -> Iterator[_Server]:
    """Run the API in a background thread for the duration of the block."""
    server = _Server(db)
    thread = threading.Thread(target=server.serve_forever, name="osv-api", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def url(server: _Server) -> str:
    port = server.server_address[1]
    return f"http://127.0.0.1:{port}/v1/query"
