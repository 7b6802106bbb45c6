"""JSON as JSON allows it: no NaN or Infinity is ever written, strict reading refuses them,
and data already recorded with them stays readable."""

from __future__ import annotations

import json
import math

import pytest

from pingback_cli.protocol import (
    AttemptRequest,
    compact_encoder,
    json_safe,
    lenient_loads,
    non_finite_path,
    rfc3339_nano,
    strict_dumps,
    strict_loads,
)


def _fail_on_constant(name: str) -> None:
    raise AssertionError(f"{name} written: not JSON")


def parse_as_javascript_would(text: str) -> object:
    return json.loads(text, parse_constant=_fail_on_constant)


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"ratio": math.nan}, "ratio"),
        ({"a": [1, {"b": -math.inf}]}, "a[1].b"),
        (math.inf, ""),
        ({"fine": 1.5, "text": "NaN"}, None),
    ],
)
def test_non_finite_path_names_where(value: object, path: str | None) -> None:
    assert non_finite_path(value) == path


def test_strict_dumps_never_writes_nan_or_infinity() -> None:
    text = strict_dumps({"ratio": math.nan, "big": math.inf, "small": -math.inf, "ok": [1.5]})
    assert parse_as_javascript_would(text) == {
        "ratio": "NaN",
        "big": "Infinity",
        "small": "-Infinity",
        "ok": [1.5],
    }


def test_json_safe_copies_only_what_changes() -> None:
    clean = {"a": [1, 2], "b": "x"}
    assert json_safe(clean) is clean
    assert json_safe([{"x": math.nan}]) == [{"x": "NaN"}]


def test_strict_loads_refuses_what_only_python_reads() -> None:
    for text in ('{"x": NaN}', "[Infinity]", "-Infinity"):
        with pytest.raises(ValueError, match="not JSON"):
            strict_loads(text)
    assert strict_loads('{"x": 1}') == {"x": 1}


def test_lenient_loads_reads_recorded_constants_as_text() -> None:
    assert lenient_loads('{"x": NaN, "y": [Infinity, -Infinity]}') == {
        "x": "NaN",
        "y": ["Infinity", "-Infinity"],
    }


def test_a_payload_with_nan_goes_on_the_wire_as_json() -> None:
    request = AttemptRequest("e1", "f", 1, 0.0, payload={"x": math.nan}, has_payload=True)
    assert parse_as_javascript_would(request.encode().decode())["payload"] == {"x": "NaN"}


@pytest.mark.parametrize(
    "value",
    [
        {"i": 5},
        {"text": 'é \u2028 "quoted" \n', "nested": [1, 2.5, None, True, {"a": []}], "big": 2**70},
        [1e20, -0.0, 2.5e-07],
        "just text",
        None,
    ],
)
def test_compact_encoder_writes_what_json_writes(value: object) -> None:
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert compact_encoder()(value) == expected
    assert compact_encoder(default=repr)(value) == expected


def test_compact_encoder_errors() -> None:
    with pytest.raises(ValueError):
        compact_encoder()({"ratio": math.nan})
    assert compact_encoder(allow_nan=True)([math.nan]) == "[NaN]"
    with pytest.raises(TypeError):
        compact_encoder()({"when": object()})
    assert compact_encoder(default=lambda _: "x")({"when": object()}) == '{"when":"x"}'
    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(RecursionError):
        compact_encoder()(cycle)
    assert compact_encoder()({"after": "a cycle"}) == '{"after":"a cycle"}'


def test_iso_z_answers_the_same_from_its_memory_of_recent_values() -> None:
    from datetime import datetime, timezone

    from pingback_cli import protocol

    def by_datetime(ts: float) -> str:
        moment = datetime.fromtimestamp(ts, tz=timezone.utc)  # to the microsecond, then cut to ms
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    stamps = [1_796_000_000 + i * 0.0137 for i in range(protocol._ISO_SEEN_MAX + 500)]
    for _ in range(2):  # the second pass is answered from memory, then after it was cleared
        for ts in stamps:
            assert protocol.iso_z(ts) == by_datetime(ts)
    assert len(protocol._ISO_SEEN) <= protocol._ISO_SEEN_MAX
    seconds = [1_500_000_000 + i * 1.5 for i in range(protocol._SECONDS_MAX + 500)]  # more than it keeps
    for ts in [*stamps[:300], *seconds, *seconds[:50], -0.25, 0.0]:
        assert protocol.iso_text(ts) == by_datetime(ts)  # the same text without the memory
    assert len(protocol._SECONDS) <= protocol._SECONDS_MAX
    assert protocol.iso_z(1_700_000_000.9999996) == "2023-11-14T22:13:21.000Z"  # rounds up a second


@pytest.mark.parametrize(
    ("ts", "text"),
    [
        (1_764_500_000.0, "2025-11-30T10:53:20Z"),  # a whole second: no fraction at all
        (1_764_500_000.5, "2025-11-30T10:53:20.5Z"),  # trailing zeros trimmed
        (1_764_500_000.123456, "2025-11-30T10:53:20.123456Z"),
        (0.25, "1970-01-01T00:00:00.25Z"),
    ],
)
def test_rfc3339_nano_writes_what_go_writes(ts: float, text: str) -> None:
    """A fan-out child's scheduledAt as the platform's worker writes it (time.RFC3339Nano,
    runpingback/worker internal/processor/fanout.go:44), the same when asked again (cached second)."""
    assert rfc3339_nano(ts) == text
    assert rfc3339_nano(ts) == text
