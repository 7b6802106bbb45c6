"""Property-based tests (hypothesis) for the parsers that take user input and for signing.

Each parser either answers or raises its own one-sentence error, for any input at all;
signatures round-trip, and any single change to body, timestamp or signature fails.
"""

from __future__ import annotations

import functools
import itertools
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from property_support import examples

from pingback_cli import protocol
from pingback_cli.cli.common import read_payload
from pingback_cli.errors import UsageError
from pingback_cli.project.cron import NeverFires, ScheduleError, next_fire, next_fires, validate_schedule
from pingback_cli.project.durations import (
    DurationError,
    parse_timeout,
    read_timeout,
)
from pingback_cli.times import duration

PROPERTY = settings(deadline=None, max_examples=examples(200), suppress_health_check=[HealthCheck.too_slow])

anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
"""Any Python value a JSON body, an option or a pyproject could hand over (and more)."""

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


# --- durations: timeouts ----------------------------------------------------------------------


@PROPERTY
@given(st.one_of(st.text(max_size=30), anything))
@example("0s")
@example(" 5m ")
@example("5 m")
@example("1h30m")
@example("٣s")  # a digit that is not ASCII
@example("9" * 5000 + "s")
def test_parse_timeout_answers_or_raises_duration_error(value: Any) -> None:
    try:
        seconds = parse_timeout(value)
    except DurationError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(seconds, int) and not isinstance(seconds, bool)


@PROPERTY
@given(
    amount=st.integers(min_value=1, max_value=10**9),
    unit=st.sampled_from("smh"),
    pad=st.sampled_from(["", " "]),
)
def test_parse_timeout_reads_every_well_formed_timeout(amount: int, unit: str, pad: str) -> None:
    """The platform keeps the number before the unit; a person reads the unit too."""
    reading = read_timeout(f"{pad}{amount}{unit}{pad}")
    assert parse_timeout(f"{pad}{amount}{unit}{pad}") == reading.seconds == amount
    assert reading.written == amount * {"s": 1, "m": 60, "h": 3600}[unit]
    assert reading.misread == (unit != "s")


@PROPERTY
@given(st.floats() | st.integers(min_value=-(10**30), max_value=10**30))
def test_duration_never_raises(value: float) -> None:
    text = duration(value)
    assert isinstance(text, str) and text


# --- payload arguments ------------------------------------------------------------------------


@PROPERTY
@given(json_values, st.sampled_from([None, 2]))
def test_read_payload_round_trips_any_json(value: Any, indent: int | None) -> None:
    assert read_payload(json.dumps(value, indent=indent, ensure_ascii=False)) == (value, True)


@PROPERTY
@given(st.text(max_size=60))
@example("{bad")
@example("[" * 5000)
@example("[" * 5000 + "]" * 5000)
@example("")
@example("NaN")
@example("\ufeff{}")
def test_read_payload_answers_or_raises_usage_error(text: str) -> None:
    assume(text != "-" and not text.startswith("@"))  # stdin and files: below
    try:
        payload, has_payload = read_payload(text)
    except UsageError as exc:
        assert exc.message.startswith("payload from --payload ")
        assert "\n" not in exc.message
        return
    assert has_payload is True
    assert payload == json.loads(text) or payload != payload  # NaN is not equal to itself


def test_no_payload_is_not_a_payload() -> None:
    assert read_payload(None) == (None, False)


@settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
@example(content=b"[" * 100_000)
@example(content=b"\xff\xfe{}")
def test_read_payload_from_any_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "payload.json"
    path.write_bytes(content)
    try:
        payload, has_payload = read_payload(f"@{path}")
    except UsageError as exc:
        assert str(path) in exc.message and "\n" not in exc.message
        return
    assert has_payload and payload == json.loads(content.decode("utf-8"))


def test_read_payload_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO('{"from": "stdin"}'))
    assert read_payload("-") == ({"from": "stdin"}, True)
    monkeypatch.setattr("sys.stdin", io.StringIO("{oops"))
    with pytest.raises(UsageError, match="payload from stdin is not valid JSON"):
        read_payload("-")


# --- cron expressions -------------------------------------------------------------------------

_ATOMS = (
    *["*", "?", "L", "W", "#", "-", "/", ",", "0", "1", "5", "7", "12", "23", "31", "59", "60"],
    *["99", "MON", "sun", "FRI", "JAN", "dec", "feb", "LW", "15W", "5#3", "5L", "*/0", "*/15"],
    *["1-5", "5-1"],
)
cron_fields = st.lists(st.sampled_from(_ATOMS), min_size=1, max_size=3).map("".join)
cron_like = st.lists(cron_fields, min_size=4, max_size=6).map(" ".join)
"""Mostly five fields of cron-ish pieces: valid, invalid, and the corners in between."""


def _accepted_alone(atom: str, index: int) -> bool:
    fields = ["*"] * 6
    fields[index] = atom
    try:
        validate_schedule(" ".join(fields))
    except ScheduleError:
        return False
    return True


@functools.cache
def _atoms_by_field() -> list[list[str]]:
    """For each of the six fields, the atoms it accepts alone: worked out when a test first draws
    (~0.1 s of CPU), not when the module is collected (by every xdist worker, most never draw)."""
    return [[atom for atom in _ATOMS if _accepted_alone(atom, index)] for index in range(6)]


mostly_valid_crons = st.sampled_from((5, 6)).flatmap(
    lambda width: st.tuples(
        *(
            st.lists(st.sampled_from(atoms), min_size=1, max_size=3).map(",".join)
            for atoms in _atoms_by_field()[6 - width :]
        )
    ).map(" ".join)
)
"""Five or six fields (a leading seconds field), each a list of pieces its field accepts alone:
most are valid (a list may still combine pieces the grammar refuses together)."""

valid_crons = st.sampled_from(
    [
        "* * * * *",
        "*/15 * * * *",
        "0 2 * * *",
        "30 9 * * 1-5",
        "0 0 1 * *",
        "0 0 29 2 *",
        "5,10,15 */3 * JAN-MAR MON,FRI",
        "59 23 31 12 *",
        "0 12 * * SUN",
        "0 0 1 1 *",
        "*/7 1-6 */2 * *",
    ]
)
instants = st.floats(min_value=946_684_800, max_value=4_102_444_800, allow_nan=False)
"""2000-01-01 to 2100-01-01."""


@settings(deadline=None, max_examples=examples(300))
@given(st.one_of(cron_like, st.text(max_size=40), anything))
@example("*/61 * * * *")
@example("0 0 30 2 *")
@example("* * * * * *")
@example("")
@example("60 * * * *")
@example("1-2-3 * * * *")
@example("* * * * 8")
def test_validate_never_raises_anything_but_schedule_error(expr: Any) -> None:
    try:
        validate_schedule(expr)
    except ScheduleError as exc:
        assert str(exc) and "\n" not in str(exc)


@settings(deadline=None, max_examples=examples(200))
@given(st.one_of(valid_crons, cron_like, mostly_valid_crons), instants)
@example("0 0 * * L,1-5", 1803859200.0)  # the platform's scheduler throws on its fifth fire
def test_next_fire_is_strictly_after_and_on_a_whole_minute(expr: str, after: float) -> None:
    try:
        validate_schedule(expr)
    except ScheduleError:
        assume(False)
    try:
        fire = next_fire(expr, after)
    except ScheduleError:
        return  # "does not fire again" after this instant: allowed
    assert fire > after
    assert fire % (1 if len(expr.split()) == 6 else 60) == 0  # 6 fields: a leading seconds field
    assert next_fire(expr, fire - 0.001) == fire, "no occurrence between after and fire is skipped"
    try:
        fires = next_fires(expr, after, 5)
    except NeverFires:
        # cron-parser 4.9.0 itself throws part-way on some schedules it accepts: "0 0 * * L,1-5"
        # from 2027-03-01 gives four fires, then "Invalid last weekday of the month expression"
        # (tests/project/test_cron_parity compares such walks with the library's own)
        return
    assert fires[0] == fire and all(a < b for a, b in itertools.pairwise(fires))


@settings(deadline=None, max_examples=examples(200))
@given(valid_crons, instants)
def test_next_fire_matches_its_schedule(expr: str, after: float) -> None:
    """The fire time satisfies the expression's minute and hour fields (UTC)."""
    fire = datetime.fromtimestamp(next_fire(expr, after), tz=timezone.utc)
    minute, hour = expr.split()[:2]
    assert _matches(minute, fire.minute) and _matches(hour, fire.hour), (expr, fire)


def _matches(field: str, value: int) -> bool:
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            low, high = 0, 59
        elif "-" in base:
            low, high = (int(x) for x in base.split("-"))
        else:
            low = high = int(base)
        if low <= value <= high and (value - low) % int(step or 1) == 0:
            return True
    return False


# --- signing and verifying --------------------------------------------------------------------

secrets_ = st.text(min_size=1, max_size=40)
bodies = st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v, ensure_ascii=False).encode())
times = st.integers(min_value=1_000_000_000, max_value=4_000_000_000)


@PROPERTY
@given(secrets_, bodies, times, st.integers(-protocol.MAX_CLOCK_SKEW, protocol.MAX_CLOCK_SKEW))
def test_a_signed_request_verifies(secret: str, body: bytes, now: int, skew: int) -> None:
    headers = protocol.signed_headers(secret, body, now=now)
    assert protocol.verify(secret, headers, body, now=now + skew)
    lowered = {key.lower(): value for key, value in headers.items()}
    assert protocol.verify(secret, lowered, body, now=now), "header names are case-insensitive"


@PROPERTY
@given(secrets_, bodies.filter(bool), times, st.data())
def test_any_single_byte_change_to_the_body_fails(
    secret: str, body: bytes, now: int, data: st.DataObject
) -> None:
    headers = protocol.signed_headers(secret, body, now=now)
    index = data.draw(st.integers(0, len(body) - 1))
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != body[index]))
    tampered = body[:index] + bytes([byte]) + body[index + 1 :]
    assert not protocol.verify(secret, headers, tampered, now=now)


@PROPERTY
@given(secrets_, bodies, times, st.data())
def test_any_single_change_to_the_timestamp_or_signature_fails(
    secret: str, body: bytes, now: int, data: st.DataObject
) -> None:
    headers = protocol.signed_headers(secret, body, now=now)
    header = data.draw(st.sampled_from([protocol.TIMESTAMP_HEADER, protocol.SIGNATURE_HEADER]))
    value = headers[header]
    index = data.draw(st.integers(0, len(value) - 1))
    char = data.draw(st.characters(codec="ascii").filter(lambda c: c != value[index]))
    tampered = dict(headers, **{header: value[:index] + char + value[index + 1 :]})
    assert not protocol.verify(secret, tampered, body, now=now)


@PROPERTY
@given(secrets_, bodies, times, st.sampled_from(["drop-signature", "drop-timestamp", "empty", "truncate"]))
def test_missing_or_truncated_headers_fail(secret: str, body: bytes, now: int, how: str) -> None:
    headers = protocol.signed_headers(secret, body, now=now)
    if how == "drop-signature":
        del headers[protocol.SIGNATURE_HEADER]
    elif how == "drop-timestamp":
        del headers[protocol.TIMESTAMP_HEADER]
    elif how == "empty":
        headers = {}
    else:
        headers[protocol.SIGNATURE_HEADER] = headers[protocol.SIGNATURE_HEADER][:-1]
    assert not protocol.verify(secret, headers, body, now=now)


@PROPERTY
@given(secrets_, secrets_, bodies, times)
def test_another_secret_fails(secret: str, other: str, body: bytes, now: int) -> None:
    assume(secret != other)
    headers = protocol.signed_headers(other, body, now=now)
    assert not protocol.verify(secret, headers, body, now=now)


@PROPERTY
@given(secrets_, bodies, times, st.integers(protocol.MAX_CLOCK_SKEW + 1, 10**7), st.sampled_from([-1, 1]))
def test_stale_or_future_timestamps_fail(secret: str, body: bytes, now: int, age: int, sign: int) -> None:
    headers = protocol.signed_headers(secret, body, now=now)
    assert not protocol.verify(secret, headers, body, now=now + sign * age)


@PROPERTY
@given(secrets_, json_values)
def test_the_sdk_accepts_what_the_engine_signs(secret: str, payload: Any) -> None:
    """Our signature is the SDK's: ``pingback.hmac.verify_signature`` (what ``handle()`` runs)."""
    from pingback.hmac import verify_signature

    body = json.dumps({"function": "f", "payload": payload}, ensure_ascii=False).encode()
    headers = protocol.signed_headers(secret, body)
    verify_signature(
        headers[protocol.SIGNATURE_HEADER], headers[protocol.TIMESTAMP_HEADER], body.decode(), secret
    )
