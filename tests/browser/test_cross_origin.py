"""Another web site, open in the developer's browser while `pingback dev` runs, can neither run
their tasks (CSRF through a "simple" request, no preflight) nor read their history (DNS
rebinding): a real page from another origin in Chromium against a real `pingback dev`."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reliability.helpers import DevServer

from .conftest import BROWSER_GROUP, REBOUND_NAME

pytestmark = BROWSER_GROUP

EVIL_PAGE = """<!doctype html><title>cute cats</title><body><script>
(async () => {
  const target = %(target)s;
  const simple = (path, body) => fetch(target + path, {method: "POST", mode: "no-cors",
    headers: {"Content-Type": "text/plain"}, body: body === undefined ? undefined : JSON.stringify(body)});
  const results = await Promise.allSettled([
    simple("/api/v1/trigger", {task: "echo", payload: {from: "evil-page"}}),
    simple("/api/v1/register", {functions: [{name: "echo", type: "task"}]}),
    simple("/api/v1/executions/" + %(failed)s + "/retry"),
    fetch(target + "/api/v1/trigger", {method: "POST", mode: "no-cors",
      headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "task=echo"}),
    fetch(target + "/api/v1/trigger", {method: "POST",  // CORS: preflight, never answered with CORS
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({task: "echo"})}),
    fetch(target + "/api/v1/executions").then((r) => r.text()),  // reading history
  ]);
  window.outcomes = results.map((r) => r.status + ":" + (r.status === "fulfilled" ? typeof r.value : ""));
  document.title = "done";
})();
</script></body>"""


class EvilSite:
    """A web server on another loopback origin (``localhost:<its port>``) serving one page."""

    def __init__(self, page: str) -> None:
        body = page.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> EvilSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _echo_payloads(dev: DevServer) -> list[Any]:
    rows = dev.http.get("/api/v1/executions", params={"function": "echo", "limit": 100}).json()
    return [row["payload"] for row in rows]


def test_a_page_from_another_origin_runs_nothing(dev: DevServer, page: Any) -> None:
    failed = dev.run("always-fails")
    attempts_before = len(failed["attempts"])
    jobs_before = {job["name"]: job["status"] for job in dev.http.get("/api/v1/jobs").json()}
    script = EVIL_PAGE % {"target": json.dumps(dev.url), "failed": json.dumps(failed["executionId"])}
    with EvilSite(script) as evil:
        page.goto(evil.url + "/")
        page.wait_for_function("document.title === 'done'")
        outcomes = page.evaluate("window.outcomes")
    # The CORS fetches fail in the browser (no CORS headers); the no-cors ones get opaque answers.
    assert outcomes[4] == "rejected:" and outcomes[5] == "rejected:", outcomes
    # Everything the page sent has been answered; a legitimate run after it is recorded after it.
    legit = dev.run("echo", {"from": "test"})
    assert legit["status"] == "success"
    assert _echo_payloads(dev) == [{"from": "test"}], "the other site's trigger ran"
    assert len(dev.tree(failed["executionId"])["attempts"]) == attempts_before, "the other site retried"
    jobs_after = {job["name"]: job["status"] for job in dev.http.get("/api/v1/jobs").json()}
    assert jobs_after == jobs_before, "the other site's registration deactivated functions"


def test_a_rebound_name_gets_nothing_from_the_api_or_the_dashboard(dev: DevServer, page: Any) -> None:
    # The folder's Chromium resolves REBOUND_NAME to 127.0.0.1 (conftest.browser).
    dev.run("echo", {"secret": "in history"})
    for path in ("/api/v1/executions", "/api/v1/functions", "/api/v1/jobs", "/", "/logs"):
        response = page.goto(f"http://{REBOUND_NAME}:{dev.port}{path}")
        assert response is not None and response.status == 421, (path, response and response.status)
        assert "in history" not in page.content()
    # The same server under its own name answers.
    served = page.goto(f"http://127.0.0.1:{dev.port}/api/v1/executions")
    assert served is not None and served.status == 200
    assert "in history" in page.content()
