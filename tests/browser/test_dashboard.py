"""The dashboard in a real browser against a real `pingback dev` (issue 15's scenarios)."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_support import cli_env, free_port, pingback_command, poll, run_cli
from reliability.helpers import DevServer

from .conftest import BROWSER_GROUP, expect

pytestmark = BROWSER_GROUP

EXECUTION_URL = re.compile(r"/executions/[0-9a-f-]{36}$")


def mark(page: Any) -> None:
    """Mark the document: a full-page reload would lose the mark."""
    page.evaluate("window.__notReloaded = true")


def still_marked(page: Any) -> bool:
    return bool(page.evaluate("window.__notReloaded === true"))


def test_runs_list_shows_executions(shared_dev: DevServer, page: Any) -> None:
    tree = shared_dev.run("echo", {"hello": "world"})
    failed = shared_dev.run("always-fails")
    page.goto(shared_dev.url + "/")
    expect(page).to_have_title(re.compile("Runs · pingback-dashboard-demo"))
    row = page.locator(f'tr[data-id="{tree["executionId"]}"]')
    expect(row).to_contain_text("echo")
    expect(row.locator(".pill")).to_have_text("success")
    expect(page.locator(f'tr[data-id="{failed["executionId"]}"] .pill')).to_have_text("failed")
    expect(page.locator(".histogram .bar")).to_have_count(24)
    # the axis names whole hours
    expect(page.locator(".axis time")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:00 \S+$"))


def test_run_with_payload_opens_execution_and_children_finish_live(shared_dev: DevServer, page: Any) -> None:
    release = shared_dev.project / "release-leaves"  # the leaves run until it exists: seen unfinished
    payload = json.dumps({"count": 3, "order": "first", "hold": str(release)})
    page.goto(shared_dev.url + "/functions/fan-out")
    page.fill("#payload", payload)
    page.click("#run-submit")
    page.wait_for_url(EXECUTION_URL)
    mark(page)
    tree = page.locator("#tree-section")
    # The children appear by themselves once the root succeeds, unfinished at first...
    expect(tree.locator("a[data-node]")).to_have_count(4, timeout=15_000)
    expect(tree.locator(".pill-pending, .pill-running").first).to_be_visible()
    # ...and turn to success as they finish, without a reload.
    release.touch()
    expect(tree.locator(".pill-success")).to_have_count(4, timeout=20_000)
    assert still_marked(page)
    expect(page.locator("#values-section")).to_contain_text('"order": "first"')
    # The payload is remembered for this function in the browser.
    page.goto(shared_dev.url + "/functions/fan-out")
    expect(page.locator("#payload")).to_have_value(payload)


def test_invalid_json_is_refused_in_place_and_nothing_is_sent(shared_dev: DevServer, page: Any) -> None:
    echoes = len(shared_dev.http.get("/api/v1/executions", params={"function": "echo"}).json())
    page.goto(shared_dev.url + "/functions/echo")
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if "/actions/" in request.url else None)
    page.fill("#payload", '{\n  "id": 1,\n  oops\n}')
    page.click("#run-submit")
    expect(page.locator("#payload-error")).to_contain_text("line 3, column 3")
    expect(page.locator("#payload")).to_have_attribute("aria-invalid", "true")
    assert page.url.endswith("/functions/echo")
    assert sent == []
    assert len(shared_dev.http.get("/api/v1/executions", params={"function": "echo"}).json()) == echoes


def test_deep_link_reloads_the_same_view(shared_dev: DevServer, page: Any) -> None:
    tree = shared_dev.run("fan-out", {"count": 2})
    child = tree["children"][1]
    page.goto(f"{shared_dev.url}/executions/{child['executionId']}")
    expect(page.locator("#execution-id")).to_have_text(child["executionId"])
    page.reload()
    expect(page.locator("#execution-id")).to_have_text(child["executionId"])
    expect(page.locator("h1")).to_contain_text("leaf")
    # Parent and root are linked, and the child is the current node of the root's tree.
    page.click("text=parent")
    expect(page.locator("#execution-id")).to_have_text(tree["executionId"])


def test_filters_survive_a_reload(dev: DevServer, page: Any) -> None:
    dev.run("echo", {"a": 1})
    failed = dev.run("always-fails")
    page.goto(dev.url + "/")
    page.select_option('select[name="function"]', "always-fails")
    page.select_option('select[name="status"]', "failed")
    page.click('button:text("Apply")')
    expect(page).to_have_url(re.compile(r"function=always-fails.*status=failed"))
    page.reload()
    expect(page.locator('select[name="function"]')).to_have_value("always-fails")
    expect(page.locator('select[name="status"]')).to_have_value("failed")
    rows = page.locator("table.runs tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", failed["executionId"])


def test_replay_with_an_edited_payload(shared_dev: DevServer, page: Any) -> None:
    original = shared_dev.run("echo", {"version": 1})
    page.goto(f"{shared_dev.url}/executions/{original['executionId']}")
    page.click("#replay-open")
    page.fill("#replay-form #payload", '{"version": 2}')
    page.click('#replay-form button[type="submit"]')
    page.wait_for_url(lambda url: bool(EXECUTION_URL.search(url)) and original["executionId"] not in url)
    expect(page.locator("#summary")).to_contain_text("Replay of")
    expect(page.locator("#values-section")).to_contain_text('"version": 2')
    expect(page.locator("#summary .pill").first).to_have_text("success", timeout=10_000)


def test_user_strings_render_as_text(shared_dev: DevServer, page: Any) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tree = shared_dev.run("echo", {"x": "<script>alert(1)</script>"})  # every echo logs the <img>
    page.goto(f"{shared_dev.url}/executions/{tree['executionId']}")
    expect(page.locator("#values-section")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("#logs-section")).to_contain_text("<img src=x onerror=alert(1)>")
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("main script").count() == 0
    page.goto(f"{shared_dev.url}/logs")
    expect(page.locator("#log-lines")).to_contain_text("<img src=x onerror=alert(1)>")
    page.goto(f"{shared_dev.url}/?q=script")  # this run's payload and result alone say "script"
    expect(page.locator("table.runs tbody tr")).to_have_count(1)
    assert dialogs == []


def test_foreign_host_and_cross_origin_requests_are_refused(shared_dev: DevServer) -> None:
    port = shared_dev.port
    with httpx.Client(base_url=shared_dev.url) as client:
        assert client.get("/").status_code == 200
        refused = client.get("/", headers={"Host": f"attacker.example:{port}"})
        assert refused.status_code == 421
        assert "Host" in refused.text
        assert client.get("/", headers={"Host": f"localhost:{port}"}).status_code == 200
        page = client.get("/functions/echo").text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert token is not None
        body = {"function": "echo", "payload": {"a": 1}}
        headers = {"X-Pingback-CSRF": token[1]}
        cross = client.post("/actions/run", json=body, headers={**headers, "Origin": "http://evil.example"})
        assert cross.status_code == 403
        site = client.post("/actions/run", json=body, headers={**headers, "Sec-Fetch-Site": "cross-site"})
        assert site.status_code == 403
        assert client.post("/actions/run", json=body).status_code == 403  # no token
        same = client.post("/actions/run", json=body, headers={**headers, "Origin": shared_dev.url})
        assert same.status_code == 200, same.text
        assert "access-control-allow-origin" not in {k.lower() for k in same.headers}


def test_a_run_started_from_the_terminal_appears_by_itself(shared_dev: DevServer, page: Any) -> None:
    token = uuid.uuid4().hex  # the runs of this test alone
    page.goto(f"{shared_dev.url}/?function=echo&q={token}")
    mark(page)
    expect(page.locator("table.runs tbody tr")).to_have_count(0)
    result = run_cli(shared_dev.project, "trigger", "echo", "--payload", json.dumps({"from": token}))
    assert result.returncode == 0, str(result)
    expect(page.locator("table.runs tbody tr")).to_have_count(1)
    expect(page.locator("table.runs tbody tr .pill")).to_have_text("success")
    assert still_marked(page)


def test_pausing_live_updates_holds_the_page(shared_dev: DevServer, page: Any) -> None:
    token = uuid.uuid4().hex  # the runs of this test alone
    page.goto(f"{shared_dev.url}/?function=echo&q={token}")
    page.uncheck("#live-toggle")
    shared_dev.run("echo", {"n": token})
    page.wait_for_timeout(600)
    expect(page.locator("table.runs tbody tr")).to_have_count(0)
    page.check("#live-toggle")
    expect(page.locator("table.runs tbody tr")).to_have_count(1)


def test_time_mode_and_theme_are_remembered(shared_dev: DevServer, page: Any) -> None:
    tree = shared_dev.run("echo", {"n": 1})
    page.goto(f"{shared_dev.url}/executions/{tree['executionId']}")
    page.select_option("#time-mode", "utc")
    expect(page.locator("#summary time").first).to_contain_text("UTC")
    page.click("#theme-toggle")
    theme = page.evaluate("document.documentElement.dataset.theme")
    page.reload()
    expect(page.locator("#time-mode")).to_have_value("utc")
    assert page.evaluate("document.documentElement.dataset.theme") == theme
    page.select_option("#time-mode", "relative")
    expect(page.locator("#summary time").first).to_contain_text("ago")


def test_keyboard_shortcuts(shared_dev: DevServer, page: Any) -> None:
    page.goto(shared_dev.url + "/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") != "search"
    page.goto(shared_dev.url + "/functions/echo")
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "payload"


def test_narrow_window(shared_dev: DevServer, page: Any) -> None:
    tree = shared_dev.run("fan-out", {"count": 2})
    page.set_viewport_size({"width": 420, "height": 800})
    page.goto(f"{shared_dev.url}/executions/{tree['executionId']}")
    expect(page.locator("#tree-section")).to_be_visible()
    expect(page.locator("#waterfall-section")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 440, f"the page scrolls sideways at 420 px ({width} px wide)"


@pytest.mark.long
def test_nothing_shows_running_after_a_restart(project: Path, page: Any) -> None:
    release = project / "release-leaves"  # the leaves run until it exists: one is running at the kill
    first = DevServer(project).start()
    try:
        root = first.trigger("fan-out", {"count": 4, "hold": str(release)})
        poll("a leaf to run", lambda: _leaf_running(first, root), 20)
        assert first.process is not None
        first.process.kill()  # SIGKILL: nothing is marked on the way out
        first.process.wait(timeout=10)
    finally:
        first.kill()
    # Over the history alone, the attempt the killed dev was running is not shown running.
    with ui_server(project) as url:
        page.goto(f"{url}/executions/{root}")
        expect(page.locator("#tree-section a[data-node]")).to_have_count(5)
        assert page.locator("#tree-section .pill-running").count() == 0
        expect(page.locator("#tree-section .pill-interrupted").first).to_be_visible()
    # A new dev takes over what was queued; the open page follows it until nothing is unfinished.
    release.touch()
    second = DevServer(project).start()
    try:
        page.goto(f"{second.url}/executions/{root}")
        unfinished = page.locator("#tree-section .pill-running, #tree-section .pill-pending")
        expect(unfinished).to_have_count(0, timeout=20_000)
        expect(page.locator("#tree-section a[data-node]")).to_have_count(5)
    finally:
        second.kill()


@contextlib.contextmanager
def ui_server(project: Path) -> Iterator[str]:
    """`pingback ui` on a free port; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [pingback_command(), "ui", "--port", str(port)],
        cwd=project,
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        poll("pingback ui to answer", lambda: _answers(url), 20)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=15)
        assert b"Traceback" not in stderr, stderr.decode(errors="replace")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/api", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def _leaf_running(dev: DevServer, root: str) -> bool:
    tree = dev.tree(root)
    return any(child["status"] == "running" for child in tree.get("children", []))


def test_sign_in_when_served_beyond_loopback(project: Path, page: Any) -> None:
    server = DevServer(project, args=("--host", "127.0.0.2"), env={"PINGBACK_API_KEY": "s3cret-key"})
    server.url = f"http://127.0.0.2:{server.port}"
    server.http = httpx.Client(
        base_url=server.url, timeout=30, headers={"Authorization": "Bearer s3cret-key"}
    )
    server.start()
    try:
        page.goto(server.url + "/functions")
        expect(page).to_have_url(re.compile(r"/signin"))
        page.fill('input[name="key"]', "s3cret-key")
        page.click('button[type="submit"]')
        expect(page).to_have_url(re.compile(r"/functions$"))
        expect(page.locator("h1")).to_have_text("Functions")
        assert httpx.get(server.url + "/functions").status_code == 401
    finally:
        server.kill()


def test_header_shows_a_failed_reload_and_the_next_good_one(project: Path, page: Any) -> None:
    server = DevServer(project, reload=True).start()
    try:
        page.goto(server.url + "/functions")
        mark(page)
        source = project / "dash_app" / "functions.py"
        good = source.read_text(encoding="utf-8")
        source.write_text(good + "\ndef broken(:\n", encoding="utf-8")
        expect(page.locator("#reload-banner")).to_contain_text("The last reload failed", timeout=20_000)
        expect(page.locator("#emulator-state")).to_contain_text("load error")
        source.write_text(
            good + '\n\n@pb.task("added-later")\ndef added_later(ctx):\n    return 1\n', "utf-8"
        )
        expect(page.locator("#reload-banner")).to_be_empty(timeout=20_000)
        expect(page.locator("#emulator-state")).to_contain_text("added: added-later")
        assert still_marked(page)
    finally:
        server.kill()


def test_retry_runs_a_failed_execution_again_in_place(shared_dev: DevServer, page: Any) -> None:
    failed = shared_dev.run("always-fails")
    page.goto(f"{shared_dev.url}/executions/{failed['executionId']}")
    mark(page)
    expect(page.locator("#attempts-section li")).to_have_count(1)
    page.click('button[data-action="retry"]')
    expect(page.locator("#attempts-section li")).to_have_count(2, timeout=15_000)
    expect(page.locator("#attempts-section")).to_contain_text("broken on attempt 2")
    assert page.url.endswith(failed["executionId"])
    assert still_marked(page)
    assert shared_dev.tree(failed["executionId"])["attempt"] == 2


def test_cancel_a_delayed_execution(shared_dev: DevServer, page: Any) -> None:
    execution_id = shared_dev.trigger("echo", {"later": True}, delay="1h")
    page.goto(f"{shared_dev.url}/executions/{execution_id}")
    expect(page.locator("#summary .pill").first).to_have_text("pending")
    page.click('button[data-action="cancel"]')
    expect(page.locator("#summary .pill").first).to_have_text("cancelled", timeout=10_000)
    expect(page.locator('button[data-action="cancel"]')).to_have_count(0)
    assert shared_dev.tree(execution_id)["status"] == "cancelled"


def test_pause_stops_a_cron_and_resume_starts_it_again(shared_dev: DevServer, page: Any) -> None:
    def fired() -> int:
        rows = shared_dev.http.get(
            "/api/v1/executions", params={"function": "every-second", "limit": 1000}
        ).json()
        return len(rows)

    poll("the every-second cron to fire", lambda: fired() > 0, 15)
    page.goto(f"{shared_dev.url}/functions/every-second")
    page.click('button[data-action="pause"]')
    expect(page.locator("h1 .pill")).to_have_text("paused", timeout=10_000)
    # dev applies the pause in its loop before it answers, between two occurrences (cron_timer
    # fires and records in one step): one under way is a row already; none is added after.
    paused_count = fired()
    page.wait_for_timeout(2_200)  # two periods of the every-second cron
    assert fired() == paused_count
    page.click('button[data-action="resume"]')
    expect(page.locator("h1 .pill")).to_have_text("active", timeout=10_000)
    poll("the cron to fire again", lambda: fired() > paused_count, 10)
