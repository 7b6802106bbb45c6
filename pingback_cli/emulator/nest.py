"""How the platform's NestJS server answers errors and reads bodies, for the local API.

- An ``HttpException`` (``NotFoundException("...")``) answers
  ``{"message", "error": <reason phrase>, "statusCode"}``; one built without a message
  (passport's ``UnauthorizedException()``) answers ``{"statusCode", "message": <phrase>}``
  (``@nestjs/common`` ``HttpException.createBody``).
- The ``ValidationPipe`` (``apps/platform/src/main.ts:10``) answers 400 with ``message`` a
  list of class-validator sentences.
- body-parser's errors (``http-errors``: too large, invalid JSON) answer
  ``{"statusCode", "message"}`` without ``error`` (``@nestjs/core``
  ``BaseExceptionFilter.handleUnknownError`` / ``isHttpError``); anything else is
  ``{"statusCode": 500, "message": "Internal server error"}``.
- The JSON body limit is body-parser's default, ``"100kb"`` = 102,400 bytes (``bytes.parse``,
  1 kb = 1024), refused past it with 413 "request entity too large" (``raw-body``), as
  ``NestFactory.create`` registers ``bodyParser.json()`` without a limit (main.ts:8).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from pingback_cli.protocol import lone_surrogate, strict_dumps, strict_loads

MAX_BODY_BYTES = 102_400
"""body-parser's default JSON limit ("100kb"); one byte more is a 413."""


class StrictJSONResponse(JSONResponse):
    """Starlette's JSONResponse, but a NaN or Infinity in recorded data is written as a string
    (``protocol.json_safe``) instead of failing the whole response with a 500."""

    def render(self, content: Any) -> bytes:
        return strict_dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class HttpError(Exception):
    """An error answered with the platform's body. ``reason`` False: no ``error`` key (an
    http-errors error, or an HttpException built without a message)."""

    def __init__(self, status: int, message: str | list[str] | None = None, *, reason: bool = True) -> None:
        phrase = HTTPStatus(status).phrase
        super().__init__(message if isinstance(message, str) else phrase)
        self.status = status
        self.message: str | list[str] = phrase if message is None else message
        self.reason = reason and message is not None

    def body(self) -> dict[str, Any]:
        if not self.reason:
            return {"statusCode": self.status, "message": self.message}
        return {"message": self.message, "error": HTTPStatus(self.status).phrase, "statusCode": self.status}


def respond(error: HttpError) -> JSONResponse:
    return StrictJSONResponse(error.body(), status_code=error.status)


def internal_error() -> JSONResponse:
    return StrictJSONResponse({"statusCode": 500, "message": "Internal server error"}, status_code=500)


def route_not_found(method: str, path: str) -> HttpError:
    """Express answers an unknown route, or a known one with another method, like this (no 405)."""
    return HttpError(404, f"Cannot {method} {path}")


async def read_json(request: Request) -> Any:
    """The body decoded as ``JSON.parse`` would: 413 past the limit, 400 when it is not JSON
    (NaN and Infinity included) or is a bare value (body-parser's ``strict`` mode)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HttpError(413, "request entity too large", reason=False)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HttpError(413, "request entity too large", reason=False)
    if not body.strip():
        return {}  # body-parser leaves req.body as {} when there is nothing to parse
    try:
        data = strict_loads(bytes(body))  # as JSON.parse: NaN and Infinity are refused
    except (UnicodeDecodeError, ValueError) as exc:
        raise HttpError(400, f"request body is not valid JSON: {exc}", reason=False) from None
    except RecursionError:
        raise HttpError(400, "request body is nested too deeply to decode", reason=False) from None
    if not isinstance(data, (dict, list)):
        raise HttpError(
            400, "request body must be a JSON object or array (body-parser strict mode)", reason=False
        )
    if b"\\u" in body and (bad := lone_surrogate(json.dumps(data, ensure_ascii=False))) is not None:
        # JSON.parse keeps half a surrogate pair ("\\udce9"); history (SQLite text, UTF-8)
        # cannot hold it. Refused before anything is queued; the platform's own answer to one
        # is not known here (a departure at worst in wording: it cannot store it as text either).
        raise HttpError(
            400,
            f"request body holds a lone UTF-16 surrogate (\\u{ord(bad):04x}), which is not a character",
            reason=False,
        )
    return data


def parse_int(text: str | None, default: int) -> int:
    """A query parameter as the controllers read it: ``text ? parseInt(text) : default``; where
    JavaScript gets NaN we keep the default."""
    if not text:
        return default
    stripped = text.strip()
    sign = -1 if stripped.startswith("-") else 1
    digits = stripped.lstrip("+-")
    count = len(digits) - len(digits.lstrip("0123456789"))
    return sign * int(digits[:count]) if count else default
