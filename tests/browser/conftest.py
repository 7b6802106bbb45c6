"""Browser tests: Playwright's sync API driving Debian's Chromium (``/usr/bin/chromium``,
headless, ``--no-sandbox``; never ``playwright install``) against a real ``pingback dev`` on
a copy of ``tests/fixtures/dashproj``.

Without the browser the tests skip locally and FAIL under ``CI=true``. A failing test leaves
a screenshot in ``tmp/artifacts/`` (or ``$PINGBACK_ARTIFACTS``).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import FIXTURES
from reliability.helpers import DevServer

CHROMIUM = Path(os.environ.get("PINGBACK_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(
    os.environ.get("PINGBACK_ARTIFACTS", Path(__file__).resolve().parents[2] / "tmp" / "artifacts")
)


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: `apt-get install chromium` (scripts/test does it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Per test, not per session: Playwright's sync API keeps an event loop running in this
    thread while it is open, and the asyncio tests that share an xdist worker need none."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page at 1280 px; its console errors fail the test; a screenshot on failure."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        opened.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "dashproj"
    shutil.copytree(FIXTURES / "dashproj", target, ignore=shutil.ignore_patterns(".pingback", "__pycache__"))
    return target


@pytest.fixture
def dev(project: Path) -> Iterator[DevServer]:
    server = DevServer(project)
    try:
        yield server.start()
    finally:
        server.kill()
