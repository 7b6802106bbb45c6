"""The commands' shared process policy (pingback_cli/cli/common.py)."""

from __future__ import annotations

import gc
import io
from pathlib import Path

import pytest

from pingback_cli.cli.common import few_collections, read_payload
from pingback_cli.errors import UsageError


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


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("{bad", "quote it for your shell"),
        ("-", "pipe one JSON value to stdin"),
        ("@{path}", "fix the JSON in {path}"),
    ],
)
def test_an_invalid_payload_hint_fits_where_it_came_from(
    value: str, hint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"id":', encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    with pytest.raises(UsageError) as refused:
        read_payload(value.replace("{path}", str(path)))
    assert refused.value.hint is not None and refused.value.hint.startswith(hint.replace("{path}", str(path)))


def test_a_number_past_a_float_is_refused_like_nan() -> None:
    with pytest.raises(UsageError, match="1e999 is too large for a JSON number"):
        read_payload('{"n": 1e999}')
    assert read_payload('{"n": 1e308}') == ({"n": 1e308}, True)
