"""Live updates against what the user is doing on the page: a region the server sends back
unchanged is left alone, and no region is swapped between the press and the release of a click.

Each test holds the page's first live update (the catch-up fetch it makes when its event stream
opens on an unfinished execution) with ``page.route`` and lets it land at the moment under test.
"""

from __future__ import annotations

import time
from typing import Any

from reliability.helpers import DevServer

from .conftest import BROWSER_GROUP, expect

pytestmark = BROWSER_GROUP

CANCEL = 'button[data-action="cancel"]'


def _is_live(request: Any) -> bool:
    return request.headers.get("x-pingback-live") == "1"


def _open_with_first_update_held(page: Any, dev: DevServer) -> Any:
    """Open the page of a delayed (pending) execution, holding its first live update; returns
    that update's Route (unanswered)."""
    held: list[Any] = []

    def route(handled: Any) -> None:
        if _is_live(handled.request) and not held:
            held.append(handled)
        else:
            handled.continue_()

    page.route("**/executions/*", route)
    execution_id = dev.trigger("echo", {"later": True}, delay="1h")
    page.goto(f"{dev.url}/executions/{execution_id}")
    deadline = time.monotonic() + 15
    while not held:  # wait_for_timeout lets Playwright run the route handler meanwhile
        assert time.monotonic() < deadline, "the page never asked for a live update"
        page.wait_for_timeout(20)
    expect(page.locator("#summary .pill").first).to_have_text("pending")
    return held[0]


def _answer(page: Any, route: Any, old: str, new: str) -> None:
    """Answer the held update with the server's page, ``old`` replaced by ``new`` in it."""
    response = route.fetch()
    body = response.text()
    assert old in body
    with page.expect_request_finished(_is_live):
        route.fulfill(response=response, body=body.replace(old, new, 1))


def test_a_live_update_between_press_and_release_does_not_lose_the_click(
    shared_dev: DevServer, page: Any
) -> None:
    # The flake of test_cancel_a_delayed_execution: the catch-up update swapped the summary (and
    # its Cancel button) while the button was pressed; the browser sent the click to no button.
    update = _open_with_first_update_held(page, shared_dev)
    box = page.locator(CANCEL).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    _answer(page, update, 'id="summary"', 'id="summary" data-changed="while pressed"')
    page.mouse.up()
    expect(page.locator("#summary .pill").first).to_have_text("cancelled")
    expect(page.locator(CANCEL)).to_have_count(0)


def test_a_live_update_leaves_the_regions_it_does_not_change_alone(shared_dev: DevServer, page: Any) -> None:
    update = _open_with_first_update_held(page, shared_dev)
    page.focus(CANCEL)
    page.evaluate("document.getElementById('summary').dataset.kept = 'yes'")
    _answer(page, update, 'id="tree-section"', 'id="tree-section" data-changed="yes"')
    expect(page.locator('#tree-section[data-changed="yes"]')).to_have_count(1)  # the update landed
    expect(page.locator('#summary[data-kept="yes"]')).to_have_count(1)  # the same element
    assert page.evaluate("document.activeElement.dataset.action") == "cancel"  # focus kept
