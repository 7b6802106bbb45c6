"""The dashboard in Debian's desktop Chromium, ``/usr/bin/chromium``, as a user opens it.

The folder's other tests drive ``cli_support.CHROMIUM`` (Debian's chromium-headless-shell when
installed: Chromium's own headless build, a third of the CPU). This one proves the main path, a
run by hand with a payload whose children finish live, in the full browser too."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability.helpers import DevServer

from .conftest import BROWSER_GROUP, expect

pytestmark = BROWSER_GROUP

DESKTOP_CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def desktop_page(playwright: Any) -> Iterator[Any]:
    if not DESKTOP_CHROMIUM.exists():
        message = f"{DESKTOP_CHROMIUM} is missing: `apt-get install chromium` (scripts/test does it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    browser = playwright.chromium.launch(
        executable_path=str(DESKTOP_CHROMIUM), headless=True, args=["--no-sandbox"]
    )
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        assert not errors, f"JavaScript errors on the page: {errors}"
    finally:
        browser.close()


def test_a_run_by_hand_finishes_live_in_the_desktop_chromium(
    shared_dev: DevServer, desktop_page: Any
) -> None:
    page = desktop_page
    release = shared_dev.project / f"release-{uuid.uuid4().hex[:8]}"
    page.goto(shared_dev.url + "/functions/fan-out")
    page.fill("#payload", json.dumps({"count": 2, "order": "desktop", "hold": str(release)}))
    page.click("#run-submit")
    page.wait_for_url(re.compile(r"/executions/[0-9a-f-]{36}$"))
    tree = page.locator("#tree-section")
    expect(tree.locator("a[data-node]")).to_have_count(3, timeout=15_000)
    release.touch()
    expect(tree.locator(".pill-success")).to_have_count(3, timeout=20_000)
    expect(page.locator("#values-section")).to_contain_text('"order": "desktop"')
