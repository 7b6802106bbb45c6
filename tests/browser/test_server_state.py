"""What the dashboard says about the server behind it: a `pingback dev` that stopped (and came
back), and the read-only `pingback ui` whose Run button cannot run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cli_support import run_cli
from reliability.helpers import DevServer

from .conftest import BROWSER_GROUP, expect
from .test_dashboard import EXECUTION_URL, ui_server

pytestmark = BROWSER_GROUP

DOWN = "pingback dev is not running — start it with `pingback dev`"


def test_the_dashboard_notices_that_dev_stopped_and_recovers(project: Path, page: Any) -> None:
    dev = DevServer(project).start()
    try:
        page.goto(dev.url + "/functions/echo")
        pill = page.locator("#emulator-state .pill").first
        expect(pill).to_have_text("serving")
        dev.stop()
        expect(pill).to_have_text("stopped", timeout=15_000)
        expect(pill).to_have_attribute("title", DOWN)
        page.fill("#payload", '{"while": "stopped"}')
        page.click("#run-submit")
        expect(page.locator("#action-error")).to_have_text(DOWN)
        assert "Failed to fetch" not in page.content()
        # The same dev again (a new process, with a new CSRF token): the page picks it up by itself.
        dev.start()
        expect(pill).to_have_text("serving", timeout=20_000)
        expect(page.locator("#action-error")).to_have_text("")
        page.fill("#payload", '{"after": "restart"}')
        page.click("#run-submit")
        page.wait_for_url(EXECUTION_URL)
        expect(page.locator("body")).to_contain_text('"restart"')
    finally:
        dev.kill()


def test_the_read_only_run_button_says_why(project: Path, page: Any) -> None:
    ran = run_cli(project, "run", "echo", "--payload", '{"a": 1}')
    assert ran.returncode == 0, ran.brief()
    with ui_server(project) as url:
        page.goto(url + "/functions/echo")
        button = page.locator("#run-submit")
        expect(button).to_have_attribute("aria-disabled", "true")
        why = "pingback ui only shows history: start `pingback dev` to run echo here, or `pingback run echo`"
        expect(button).to_have_attribute("title", re.compile(re.escape(why)))
        expect(page.locator("#run-read-only")).to_be_visible()
        expect(page.locator("#run-read-only")).to_contain_text(why)
        assert page.locator("#run-submit").get_attribute("aria-describedby") == "run-read-only"
