"""The platform's wire protocol: request bodies, HMAC signatures, response outcomes.

Import-light on purpose: the worker subprocess uses it to sign its requests.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

from pingback_cli.record import Record

SIGNATURE_HEADER = "X-Pingback-Signature"
TIMESTAMP_HEADER = "X-Pingback-Timestamp"
MAX_CLOCK_SKEW = 300


_SECONDS: dict[int, str] = {}
"""``2026-11-28T10:15:00`` by whole unix second, for the seconds asked recently."""

_SECONDS_MAX = 4096


def _whole_second(seconds: int) -> str:
    text = _SECONDS[seconds] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if len(_SECONDS) > _SECONDS_MAX:
        _SECONDS.clear()
    return text


_MILLIS = tuple(f".{ms:03d}Z" for ms in range(1000))
"""The fraction and zone of a timestamp, by millisecond: concatenation instead of formatting."""


_ISO_SEEN: dict[float, str] = {}
"""Recent answers of ``iso_z``: ``to_json`` asks six times per execution for about three
times (an attempt's start and end are its execution's; a fan-out's children share their
scheduled and due time)."""

_ISO_SEEN_MAX = 8192


def iso_z(ts: float) -> str:
    """Unix seconds -> ``2026-11-28T10:15:00.000Z``; cached per second and per recent value, as it
    runs per execution (six times per execution of ``to_json``)."""
    text = _ISO_SEEN.get(ts)
    if text is not None:
        return text
    text = iso_text(ts)
    if len(_ISO_SEEN) >= _ISO_SEEN_MAX:
        _ISO_SEEN.clear()
    _ISO_SEEN[ts] = text
    return text


def iso_text(ts: float) -> str:
    """:func:`iso_z` without its memory of recent values, for a caller that keeps its own
    (``tree_json``: each child's start and end are asked once per tree, and would only push
    the shared times out of that memory)."""
    whole = math.floor(ts)
    micros = round((ts - whole) * 1_000_000)
    if micros >= 1_000_000:
        whole, micros = whole + 1, 0
    return (_SECONDS.get(whole) or _whole_second(whole)) + _MILLIS[micros // 1000]


# --- JSON as JSON allows it ----------------------------------------------------------
#
# Python's json writes NaN, Infinity and -Infinity for non-finite floats and reads them
# back; JSON has no such values and every other reader (JSON.parse, Go's encoding/json)
# rejects the whole document. The SDK's FastAPI adapter (Starlette's JSONResponse,
# allow_nan=False) answers 500 when a handler's response holds one; nothing we write
# may hold one either.

NON_FINITE_TEXT = {"NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity"}


def _non_finite_name(value: float) -> str:
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def non_finite_path(value: Any, path: str = "") -> str | None:
    """Where the first NaN or infinity inside ``value`` is (``result.ratio``, ``tasks[2]``,
    ``""`` for the value itself), or None when there is none."""
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            found = non_finite_path(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = non_finite_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def json_safe(value: Any) -> Any:
    """``value`` with each NaN and infinity replaced by the string ``"NaN"``, ``"Infinity"`` or
    ``"-Infinity"``: for data already recorded (rows written before these checks), so that a
    reader can always show it. Containers are copied only along the way to a replacement."""
    if isinstance(value, float):
        return value if math.isfinite(value) else _non_finite_name(value)
    if isinstance(value, dict):
        changed = {key: json_safe(item) for key, item in value.items()}
        return value if all(changed[key] is value[key] for key in value) else changed
    if isinstance(value, (list, tuple)):
        items = [json_safe(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def strict_dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` that never writes NaN or Infinity: a value holding one is written through
    :func:`json_safe`. Other errors (a type JSON cannot hold, a cycle) propagate."""
    try:
        return json.dumps(value, allow_nan=False, **options)
    except ValueError:
        if non_finite_path(value) is None:
            raise
        return json.dumps(json_safe(value), allow_nan=False, **options)


def compact_encoder(
    *,
    allow_nan: bool = False,
    default: Callable[[Any], Any] | None = None,
    ensure_ascii: bool = False,
    separators: tuple[str, str] = (",", ":"),
) -> Callable[[Any], str]:
    """``json.JSONEncoder(separators=separators, ensure_ascii=ensure_ascii, allow_nan=allow_nan,
    default=default, check_circular=False).encode``, built once (no indent).

    ``JSONEncoder.encode`` builds its C encoder again on every call, most of the time it takes
    for a small value (a payload, a result, an attempt), and these run several times per
    execution. Errors are ``encode``'s: ValueError for NaN or Infinity unless ``allow_nan``,
    TypeError for a type JSON cannot hold (unless ``default``), and RecursionError for a
    value that holds itself (no cycle check: ``encode`` would say ValueError).
    """
    python = json.JSONEncoder(
        separators=separators,
        ensure_ascii=ensure_ascii,
        allow_nan=allow_nan,
        default=default,
        check_circular=False,
    )
    string = json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    item_separator, key_separator = separators
    make = getattr(json.encoder, "c_make_encoder", None)
    try:  # the arguments JSONEncoder.iterencode gives it (CPython 3.10 to 3.13)
        encoder = make(
            None, python.default, string, None, key_separator, item_separator, False, False, allow_nan
        )  # type: ignore[misc]
    except TypeError:  # no C accelerator, or one that takes other arguments
        return python.encode

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))

    return encode


_WIRE = compact_encoder()
"""Built once: ``json.dumps`` with options builds an encoder per call (one per attempt here)."""


def json_plain(value: Any) -> Any:
    """``value`` as JSON can carry it: NaN and Infinity as strings, other types as their repr."""
    return json.loads(json.dumps(json_safe(value), default=repr))


def not_json_reason(response: dict[str, Any], exc: Exception) -> str:
    """What in a handler's ``response`` (``pb.handle()``'s dict) JSON cannot hold, in the user's
    terms. The SDK's FastAPI adapter (Starlette's JSONResponse) refuses such a response with a
    500 (``pingback/client.py``, ``fastapi_handler``); so does every executor of ours."""
    for part in ("result", "tasks", "logs"):
        where = non_finite_path(response.get(part), part)
        if where is not None:
            if part == "tasks":
                where = f"fan-out {where}"
            return f"{where} is NaN or Infinity, which JSON cannot hold (return a number, a string or None)"
    try:
        json.dumps(response.get("result"))
    except (TypeError, ValueError):
        kind = type(response.get("result")).__name__
        return f"it returned a {kind}, which is not JSON-serializable ({exc})"
    return f"its logs or fan-out tasks are not JSON-serializable ({exc})"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (JSON has no NaN or Infinity)")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text} is too large for a JSON number (it would read as Infinity)")
    return number


def strict_loads(text: str | bytes, *, finite: bool = False) -> Any:
    """``json.loads`` as every non-Python reader does it: ``NaN``, ``Infinity`` and
    ``-Infinity`` are refused with a ValueError (``json.JSONDecodeError`` is one too).
    ``finite``: a number past a 64-bit float's range (``1e999``, which Python and JavaScript
    read as Infinity) is refused too, as Go's encoding/json refuses it."""
    if finite:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    return json.loads(text, parse_constant=_refuse_constant)


def lone_surrogate(text: str) -> str | None:
    """The first lone UTF-16 surrogate in ``text``, else None: a code point that is not a
    character and that UTF-8 (SQLite's text, any HTTP body) cannot encode. One comes from bytes
    that were not UTF-8 (Python reads argv and a C-locale stdin with ``surrogateescape``: byte
    0xE9 becomes U+DCE9) or from a JSON escape such as ``"\\udce9"``, which JSON.parse and
    Python's json decode as they are; apply it to the decoded value's ``json.dumps(...,
    ensure_ascii=False)`` to find the latter."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return text[exc.start]
    return None


def lenient_loads(text: str | bytes) -> Any:
    """``json.loads`` for what we recorded ourselves, where an older row may hold ``NaN``:
    such a constant reads as the string ``"NaN"`` (``"Infinity"``, ``"-Infinity"``)."""
    return json.loads(text, parse_constant=NON_FINITE_TEXT.__getitem__)


def rfc3339_nano(ts: float) -> str:
    """Unix seconds as Go's ``time.RFC3339Nano`` in UTC: nanoseconds with trailing zeros
    trimmed, no fraction at all on a whole second (``2026-11-28T10:15:00.123456789Z``).

    The platform writes a fan-out child's ``scheduledAt`` this way
    (``runpingback/worker`` ``internal/processor/fanout.go:44``); roots get :func:`iso_z`.
    """
    nanos = round(ts * 1_000_000_000)
    whole, fraction = divmod(nanos, 1_000_000_000)
    digits = f"{fraction:09d}".rstrip("0")
    second = _SECONDS.get(whole) or _whole_second(whole)
    return f"{second}.{digits}Z" if digits else f"{second}Z"


class AttemptRequest(Record):
    """One attempt of one execution, as the platform sends it to an app."""

    __slots__ = _fields = (
        "execution_id", "function", "attempt", "scheduled_at", "payload", "has_payload", "child"
    )  # fmt: skip
    child: bool
    """A fan-out child: ``scheduledAt`` in nanoseconds (:func:`rfc3339_nano`), and its payload
    always sent, ``null`` when it has none (fanout.go:46-48 with the SDK's ``ctx.task``)."""

    def __init__(
        self, execution_id: str, function: str, attempt: int, scheduled_at: float, payload: Any = None,
        has_payload: bool = False, child: bool = False,
    ) -> None:  # fmt: skip
        self.execution_id = execution_id
        self.function = function
        self.attempt = attempt
        self.scheduled_at = scheduled_at
        self.payload = payload
        self.has_payload = has_payload
        self.child = child

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "function": self.function,
            "executionId": self.execution_id,
            "attempt": self.attempt,
            "scheduledAt": rfc3339_nano(self.scheduled_at) if self.child else iso_z(self.scheduled_at),
        }
        if self.has_payload or self.child:
            data["payload"] = self.payload
        return data

    def encode(self) -> bytes:
        """The wire body; a payload holding NaN or Infinity is sent as :func:`json_safe` makes it."""
        body = self.body()
        try:
            return _WIRE(body).encode()
        except ValueError:
            return strict_dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class AttemptOutcome(Record):
    """What came back: an HTTP status and the protocol's JSON, or why nothing usable did."""

    __slots__ = _fields = (
        "http_status", "response", "error", "traceback", "duration_ms", "logs", "body_bytes"
    )  # fmt: skip
    error: str | None
    """Set when the attempt failed below the protocol: worker died, app unreachable, bad JSON."""
    logs: list[dict[str, Any]]
    """Logs streamed before a failure that left no response."""
    body_bytes: int | None
    """The answer's size as sent over HTTP, when known to pass 10,240 bytes (``reading``)."""

    def __init__(
        self, http_status: int | None, response: dict[str, Any] | None = None, error: str | None = None,
        traceback: str | None = None, duration_ms: int | None = None,
        logs: list[dict[str, Any]] | None = None, body_bytes: int | None = None,
    ) -> None:  # fmt: skip
        self.http_status = http_status
        self.response = response
        self.error = error
        self.traceback = traceback
        self.duration_ms = duration_ms
        self.logs = [] if logs is None else logs
        self.body_bytes = body_bytes

    @property
    def succeeded(self) -> bool:
        """Any HTTP 2xx, whatever the body says, as the platform reads it (dispatch.go:97)."""
        return self.error is None and self.http_status is not None and 200 <= self.http_status < 300

    def error_message(self) -> str:
        if self.error:
            return self.error
        response = self.response or {}
        message = response.get("error")
        if isinstance(message, str) and message:
            return message
        if self.http_status is not None and not 200 <= self.http_status < 300:
            return f"HTTP {self.http_status}"
        return f'handler answered status "{response.get("status")}" without an error message'


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The request's HMAC-SHA256 over ``timestamp.body``, hex. The keyed state is made once per
    secret and copied per request (the worker signs every attempt: 3.4 -> 2.0 us a signature)."""
    keyed = _KEYED.get(secret)
    if keyed is None:
        keyed = _KEYED[secret] = _keyed(secret)
    signing = keyed.copy()
    signing.update(timestamp.encode() + b"." + body)
    return signing.hexdigest()


_KEYED: dict[str, Any] = {}
"""``hmac.HMAC`` keyed with each secret seen (a process signs with one or two)."""


def _keyed(secret: str) -> Any:
    """hashlib is imported here, not with the module: loading it (OpenSSL's libcrypto) is ~5-7 ms
    of CPU, paid by `runs`, `show` and every command that imports ``models`` but never signs."""
    import hashlib
    import hmac

    return hmac.new(secret.encode(), digestmod=hashlib.sha256)


def signed_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float | None = None) -> bool:
    """Constant-time check of a signed request, rejecting stale timestamps as the SDK does."""
    lowered = {key.lower(): value for key, value in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    try:
        age = abs(int(time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    if age > MAX_CLOCK_SKEW:
        return False
    import hmac

    return hmac.compare_digest(signature(secret, timestamp, body), given)
