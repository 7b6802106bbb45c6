"""The start-up spinner on its own: shown only after its delay, with the elapsed time, cleared
by ``done``; never shown when done comes first, or when disabled."""

from __future__ import annotations

import io
import re
import time

from rich.console import Console

from pingback_cli.spinner import ImportSpinner
from pingback_cli.terminal import Terminal


def console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, width=80, color_system=None), buffer


def test_after_the_delay_it_shows_the_elapsed_time_until_done() -> None:
    shown, buffer = console()
    with ImportSpinner(shown, what="importing the project", delay=0.05) as spinner:
        time.sleep(1.3)
        spinner.done()
        written = buffer.getvalue()
        time.sleep(0.2)
        assert buffer.getvalue().count("importing") == written.count("importing")  # nothing after done
    assert "importing the project… 1s" in written
    assert written.endswith("\x1b[2K")  # cleared (Rich's transient status)


def test_the_seconds_count_from_when_the_import_began() -> None:
    """`run`'s worker begins importing before the CLI has loaded (``emulator.head_start``): an
    import that began 5 s before the block shows at once, with its 5 s, not a second later
    from 0 (a run whose CLI took over a second to load showed no spinner at all)."""
    shown, buffer = console()
    with ImportSpinner(shown, what="importing the project", since=time.monotonic() - 5) as spinner:
        deadline = time.monotonic() + 30
        while "importing" not in buffer.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        spinner.done()
    found = re.search(r"importing the project… (\d+)s", buffer.getvalue())
    assert found and int(found[1]) >= 5, buffer.getvalue()


def test_done_before_the_delay_shows_nothing() -> None:
    shown, buffer = console()
    with ImportSpinner(shown, what="importing the project", delay=0.3) as spinner:
        spinner.done()
        time.sleep(0.5)
    assert buffer.getvalue() == ""


def test_wrap_settles_the_spinner_before_the_callback() -> None:
    shown, buffer = console()
    calls = []
    with ImportSpinner(shown, what="x", delay=0.01) as spinner:
        time.sleep(0.2)
        spinner.wrap(lambda value: calls.append((value, buffer.getvalue().endswith("\x1b[2K"))))("event")
    assert calls == [("event", True)]
    assert spinner.wrap(None) is None


def test_disabled_or_not_a_terminal_it_never_shows() -> None:
    with ImportSpinner(None, what="x", delay=0.01):
        time.sleep(0.1)  # no console: nothing to write to, and no thread started
    out = Terminal()
    assert out.importing(enabled=False)._console is None
    assert out.importing()._console is None  # the test's stderr is not a terminal


def test_under_no_color_it_draws_with_carriage_returns_and_no_escape_code() -> None:
    buffer = io.StringIO()
    shown = Console(file=buffer, force_terminal=True, width=80, no_color=True)
    with ImportSpinner(shown, what="importing the project", since=time.monotonic() - 3) as spinner:
        deadline = time.monotonic() + 30
        while "importing" not in buffer.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        spinner.done()
    written = buffer.getvalue()
    assert "\x1b" not in written, repr(written)
    assert re.match(r"\rimporting the project… \d+s", written), repr(written)
    blank = written.rpartition("\r")[0].rpartition("\r")[2]
    assert written.endswith("\r") and blank.strip() == "" and len(blank) >= len("importing the project… 3s")
