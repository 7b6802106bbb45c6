"""pingback_cli.startup: the collector held during start-up, then as it was."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from pingback_cli import startup


@pytest.fixture
def collector() -> Iterator[None]:
    """The test process's collector as it was afterwards, whatever the test did."""
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    try:
        yield
    finally:
        startup.release()
        gc.unfreeze()
        gc.set_threshold(*threshold)
        (gc.enable if enabled else gc.disable)()


def test_hold_raises_the_young_threshold_and_release_restores_it(collector: None) -> None:
    gc.set_threshold(700, 10, 10)
    startup.hold()
    assert gc.get_threshold() == (startup.HELD_THRESHOLD, 10, 10)
    startup.hold()  # a second hold keeps the first one's thresholds to restore
    made_while_held = [[] for _ in range(10)]
    frozen_before = gc.get_freeze_count()
    startup.release()
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() >= frozen_before + len(made_while_held)


def test_release_without_hold_changes_nothing(collector: None) -> None:
    gc.set_threshold(700, 10, 10)
    frozen_before = gc.get_freeze_count()
    startup.release()
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == frozen_before


def test_a_disabled_collector_is_left_alone(collector: None) -> None:
    gc.disable()
    gc.set_threshold(700, 10, 10)
    startup.hold()
    assert gc.get_threshold() == (700, 10, 10)
    startup.release()
    assert not gc.isenabled()


def test_a_command_runs_held_and_leaves_the_threshold_as_it_found_it(
    collector: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The entry point holds from its first line (``pingback --version`` answers from Typer's
    eager option, after the imports) and its end restores the threshold (tests call it here)."""
    from pingback_cli.cli import main as entry

    gc.set_threshold(700, 10, 10)
    seen: list[int] = []
    dispatch = entry._dispatch
    monkeypatch.setattr(entry, "_dispatch", lambda: (seen.append(gc.get_threshold()[0]), dispatch()))
    monkeypatch.setattr(sys, "argv", ["pingback", "--version"])
    with pytest.raises(SystemExit):
        entry.main()
    assert "pingback " in capsys.readouterr().out
    assert seen == [startup.HELD_THRESHOLD]
    assert gc.get_threshold() == (700, 10, 10)


def test_a_run_keeps_its_own_collector_when_the_emulator_releases_start_up(collector: None) -> None:
    """`run` and `dev` work inside ``few_collections`` (a young collection every 20,000
    allocations, for trees of 10,000-100,000 executions): it ends start-up itself, so a release
    inside it (as the Emulator's was) cannot put the default 700 back for the run."""
    from pingback_cli.cli.common import few_collections

    gc.set_threshold(700, 10, 10)
    startup.hold()
    with few_collections():
        startup.release()  # a second release, inside the run
        during = gc.get_threshold()
    assert during == (20_000, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)
