"""Which platform `pingback trigger` and `pingback register` talk to (one rule, both commands)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pingback_cli import state
from pingback_cli.client import resolve_platform


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PINGBACK_PLATFORM_URL", raising=False)
    monkeypatch.delenv("PINGBACK_API_KEY", raising=False)


def test_the_option_wins_then_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_PLATFORM_URL", "https://env.example")
    monkeypatch.setenv("PINGBACK_API_KEY", "env-key")
    assert resolve_platform(tmp_path, "https://option.example", "option-key") == (
        "https://option.example",
        "option-key",
    )
    assert resolve_platform(tmp_path, None, None) == ("https://env.example", "env-key")


def test_then_the_running_dev_of_this_project_then_the_default(tmp_path: Path) -> None:
    assert resolve_platform(tmp_path, None, None) == (state.DEFAULT_LOCAL_URL, "")
    state.announce(tmp_path, "http://127.0.0.1:9999")  # what a running `pingback dev` writes
    try:
        url, _ = resolve_platform(tmp_path, None, None)
    finally:
        state.withdraw(tmp_path)
    assert url == "http://127.0.0.1:9999"
