"""Browser tests: Playwright's sync API driving Debian's Chromium (``cli_support.CHROMIUM``, headless,
``--no-sandbox``; never ``playwright install``) against a real ``pingback dev`` on a copy of
``tests/fixtures/dashproj``.

Without the browser the tests skip locally and FAIL under ``CI=true``. A failing test leaves
a screenshot in ``tmp/artifacts/`` (or ``$PINGBACK_ARTIFACTS``).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import CHROMIUM, FIXTURES
from reliability.helpers import DevServer

REBOUND_NAME = "evil.test"
"""Resolves to 127.0.0.1 in the tests' Chromium: what DNS rebinding achieves (test_cross_origin)."""
ARTIFACTS = Path(
    os.environ.get("PINGBACK_ARTIFACTS", Path(__file__).resolve().parents[2] / "tmp" / "artifacts")
)


BROWSER_GROUP = pytest.mark.xdist_group("browser")
"""Every browser module's ``pytestmark``: one worker runs them all, one after another, in one
Chromium (the package-scoped fixtures below)."""


def expect(actual: Any, message: str | None = None) -> Any:
    """Playwright's ``expect``, imported when a browser test first asserts: every xdist worker
    collects this folder, one runs it, and ``playwright.sync_api`` costs ~0.15 s of CPU to import."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(actual, message)


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: `apt-get install chromium-headless-shell` (scripts/test does it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Any]:
    """One Playwright driver and one Chromium for the whole folder (its modules are one xdist
    group, ``BROWSER_GROUP``, so they run one after another on one worker); each test gets its
    own context. Starting them took about 5 s of a browser test's setup, and ~2 s of CPU."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="package", autouse=True)
def kept_running_loop(playwright: Any) -> asyncio.AbstractEventLoop:
    """Playwright's event loop: its sync API keeps it running in this thread from the folder's
    first test to its last, when ``playwright`` stops it; tests/conftest.py's guard lets this one
    loop be and fails a test that leaves any other running. Every browser test runs inside it
    (autouse), and all of them are in ``BROWSER_GROUP``: no other test runs while it runs."""
    return asyncio.get_running_loop()


@pytest.fixture(scope="package")
def browser(playwright: Any, kept_running_loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    """The folder's one Chromium, test_cross_origin's rebinding included. Launch flags measured on
    a workload like the folder's (CPU of Chromium's processes, alternated in one sitting, on both
    Chromium builds) saved nothing: --disable-gpu, --in-process-gpu, --no-zygote, one renderer
    process each cost as much or more; --single-process cannot open a second context."""
    rules = f"--host-resolver-rules=MAP {REBOUND_NAME} 127.0.0.1"
    launched = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", rules]
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


@pytest.fixture(scope="package")
def shared_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One `pingback dev` for the tests that look only at executions they start themselves (a
    dev start is ~0.5 s of CPU); the tests that need an empty history get their own (``dev``)."""
    project = tmp_path_factory.mktemp("shared") / "dashproj"
    shutil.copytree(FIXTURES / "dashproj", project, ignore=shutil.ignore_patterns(".pingback", "__pycache__"))
    server = DevServer(project)
    try:
        yield server.start()
    finally:
        server.kill()


@pytest.fixture
def dev(project: Path) -> Iterator[DevServer]:
    server = DevServer(project)
    try:
        yield server.start()
    finally:
        server.kill()
