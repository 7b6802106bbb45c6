"""The commands' shared process policy (pingback_cli/cli/common.py)."""

from __future__ import annotations

import gc

import pytest

from pingback_cli.cli.common import few_collections


def test_the_collector_is_less_eager_during_a_run_and_as_it_was_after() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    kept = [[index] for index in range(100)]  # objects made before the run: frozen out of its walks
    with few_collections():
        assert gc.get_threshold() == (20_000, *before[1:])
        assert gc.get_freeze_count() >= frozen + len(kept)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_it_is_put_back_when_the_run_raises() -> None:
    before = gc.get_threshold()
    with pytest.raises(KeyboardInterrupt), few_collections():
        raise KeyboardInterrupt
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
