"""A real HTTP server on 127.0.0.1, served from a thread, for tests that need a socket on the
other side: an app answering attempts, a platform receiving registrations, a wrong route."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers with ``send``/``send_json``."""

    def send(self, status: int, raw: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def send_json(self, status: int, data: Any) -> None:
        self.send(status, json.dumps(data).encode(), "application/json")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` answered by ``handler`` until the block ends (then shut down)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def answering(status: int, body: bytes, content_type: str, path: str = "/") -> Iterator[str]:
    """A server answering every POST with ``status`` and ``body``; yields its URL at ``path``."""

    class Answer(QuietHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send(status, body, content_type)

    with serving(Answer) as base:
        yield base + path
