"""A minimal app serving the Pingback protocol: stdlib ThreadingHTTPServer, HTTP/1.1
keep-alive, every POST handed to the benchmark project's ``pb.handle()``.

Usage: python endpoint_app.py PROJECT_DIR PORT  (prints "ready" once listening)
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def make_server(project: Path, port: int) -> ThreadingHTTPServer:
    sys.path.insert(0, str(project))
    import bench_jobs

    pb: Any = bench_jobs.pb
    pb._registered = True  # no registration POST to the hosted platform from a benchmark

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes; no 40 ms stalls

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            response = pb.handle(body, dict(self.headers.items()))
            status = int(response.pop("_status", 200))
            data = json.dumps(response, default=repr).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

    return Server(("127.0.0.1", port), Handler)


if __name__ == "__main__":
    server = make_server(Path(sys.argv[1]), int(sys.argv[2]))
    print("ready", flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
