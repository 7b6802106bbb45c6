"""The platform's wire protocol: request bodies, HMAC signatures, response outcomes.

Import-light on purpose: the worker subprocess uses it to sign its requests.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

SIGNATURE_HEADER = "X-Pingback-Signature"
TIMESTAMP_HEADER = "X-Pingback-Timestamp"
MAX_CLOCK_SKEW = 300


@functools.lru_cache(maxsize=4096)
def _whole_second(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def iso_z(ts: float) -> str:
    """Unix seconds -> ``2026-11-28T10:15:00.000Z``; cached per second, as it runs per execution."""
    whole = math.floor(ts)
    micros = round((ts - whole) * 1_000_000)
    if micros >= 1_000_000:
        whole, micros = whole + 1, 0
    return f"{_whole_second(whole)}.{micros // 1000:03d}Z"


@dataclass
class AttemptRequest:
    """One attempt of one execution, as the platform sends it to an app."""

    execution_id: str
    function: str
    attempt: int
    scheduled_at: float
    payload: Any = None
    has_payload: bool = False

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "function": self.function,
            "executionId": self.execution_id,
            "attempt": self.attempt,
            "scheduledAt": iso_z(self.scheduled_at),
        }
        if self.has_payload:
            data["payload"] = self.payload
        return data

    def encode(self) -> bytes:
        return json.dumps(self.body(), separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class AttemptOutcome:
    """What came back: an HTTP status and the protocol's JSON, or why nothing usable did."""

    http_status: int | None
    response: dict[str, Any] | None = None
    error: str | None = None
    """Set when the attempt failed below the protocol: worker died, app unreachable, bad JSON."""
    traceback: str | None = None
    duration_ms: int | None = None
    logs: list[dict[str, Any]] = field(default_factory=list)
    """Logs streamed before a failure that left no response."""

    @property
    def succeeded(self) -> bool:
        return (
            self.error is None
            and self.http_status is not None
            and 200 <= self.http_status < 300
            and isinstance(self.response, dict)
            and self.response.get("status") == "success"
        )

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
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


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
    return hmac.compare_digest(signature(secret, timestamp, body), given)
