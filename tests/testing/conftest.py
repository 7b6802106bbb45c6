"""The plugin's own tests use its ``pingback`` fixture on ``tests/fixtures/timeproj``."""

from __future__ import annotations

from pathlib import Path

import pytest

TIMEPROJ = Path(__file__).resolve().parents[1] / "fixtures" / "timeproj"


@pytest.fixture(autouse=True)
def in_timeproj(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tests run from the fixture project's folder, as a user's tests run from theirs."""
    monkeypatch.chdir(TIMEPROJ)
    monkeypatch.delenv("PINGBACK_APP", raising=False)
    return TIMEPROJ
