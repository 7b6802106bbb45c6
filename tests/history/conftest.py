"""The history tests' fixtures: a history file's ``path`` in a fresh project, and a ``store``
open on it (closed, flushing, after the test). Executions to put in it: ``records``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pingback_cli.history.store import Store, history_path


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return history_path(tmp_path)


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    with Store(path) as opened:
        yield opened


@pytest.fixture(autouse=True, params=["on the loop", "write-behind"])
def commits(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every history test twice: flushes committed by the store's caller, and every flush
    committed by the write-behind thread (``history.write_behind``; a big fan-out's)."""
    if request.param == "write-behind":
        monkeypatch.setattr(Store, "write_behind_at", 1)
    return str(request.param)
