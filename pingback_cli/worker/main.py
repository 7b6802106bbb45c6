"""The worker subprocess: import the user's project, then run attempts through ``pb.handle()``.

It talks to the engine over two pipes of newline-delimited JSON (never stdout,
which belongs to the user's prints). Engine -> worker, each request as the fields of
an ``AttemptRequest`` (``pingback_cli.worker.request_fields``)::

    {"op": "exec", "requests": [[1, "f", "<executionId>", 1, 1764410100.5, null, false, false], ...]}

Worker -> engine::

    {"op": "ready", "pid": 123, "functions": [...]}
    {"op": "error", "message": "...", "hint": "...", "details": "traceback"}
    {"op": "log", "id": "<executionId>", "attempt": 1, "entry": {...}}
    {"op": "output", "id": "<executionId>", "attempt": 1,
     "entry": {"timestamp": 1700000000000, "stream": "stdout", "text": "a printed line"}}
    {"op": "result", "seq": 1, "httpStatus": 200, "response": {...}, "traceback": null}

Each request's wire body is built here and signed with the project's cron secret (as
the platform signs every request with the one secret, dispatch.go:67-68), then
verified by the SDK's own ``handle()``, the code path a deployed app runs: a
request that is unsigned, stale or forged gets the SDK's 401. Imports stay light: this
process's start-up time is the reload latency.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pingback_cli import startup
from pingback_cli.errors import ProjectError
from pingback_cli.project.config import DEV_CRON_SECRET, ProjectConfig
from pingback_cli.project.loader import RawFunction, load_project
from pingback_cli.protocol import AttemptRequest, compact_encoder, json_plain, not_json_reason, signed_headers
from pingback_cli.worker import (
    API_ENV,
    APP_ENV,
    FDS_ENV,
    GRACE_ENV,
    MARKER_ENV,
    ROOT_ENV,
    THREADS_ENV,
    capture,
)
from pingback_cli.worker.handler_pool import HandlerPool
from pingback_cli.worker.tracebacks import brief

BODY_STORED_BYTES = 10_240
"""Past this the platform keeps only part of an answer (``pingback_cli.reading``): only then is
the answer's own size measured and sent with it."""

_local = threading.local()

RequestFields = list[Any]
"""``[seq, function, executionId, attempt, scheduledAt, payload, hasPayload, child]``."""


def project_secret() -> str:
    """The secret every request is signed with: the project's one secret, as the platform signs
    every request (dispatch.go:67-68), so an instance built with another secret answers 401 here
    as it will there."""
    return os.environ.get("PINGBACK_CRON_SECRET") or DEV_CRON_SECRET


_LINE = compact_encoder()
"""Built once: ``json.dumps`` with options builds an encoder per call (one per result here)."""


def _dumps(message: dict[str, Any]) -> bytes:
    """One pipe line; ValueError for NaN or Infinity, which JSON cannot hold (TypeError for
    a type it cannot hold, RecursionError for a value that holds itself)."""
    return _LINE(message).encode() + b"\n"


class Outbox:
    """Messages to the engine, from any thread, each written whole and at once.

    A result is written as soon as it exists, before its thread takes the next call: the
    engine dispatches the next attempt while this process runs the rest of a batch, and a
    handler that kills this process (``os._exit``, a segfault) can take only its own attempt
    with it, never a finished one's result (tests/worker/test_batching.py). Batches of 8 were
    tried: fewer writes, but a crash then failed up to seven attempts that had succeeded, and
    the gain was within the noise of a loaded machine (a write is ~1 µs of this process's CPU).
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        self.add(_dumps(message))

    def add(self, line: bytes) -> None:
        """Write one line (or several, whole); lines from other threads never interleave."""
        with self._lock:
            try:
                written = os.write(self._fd, line)
                if written < len(line):  # a line longer than the pipe's room
                    view = memoryview(line)[written:]
                    while view:
                        view = view[os.write(self._fd, view) :]
            except OSError:
                os._exit(0)  # the engine is gone; nobody is left to answer


def _traced(handler: Any) -> Any:
    """Wrap a handler to keep its traceback; the SDK only returns ``str(exc)``.

    The wrapper carries the handler's signature, worked out once: the SDK reads it on every
    call (``inspect.signature`` in pingback-py ``client.py`` ``_resolve_payload``), and through
    the wrapper that meant unwrapping and building it anew each time, a sixth of a trivial
    attempt's cost in this process. ``inspect.signature`` returns the same ``Signature``."""

    @functools.wraps(handler)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except BaseException as exc:
            _local.traceback = brief(exc)
            raise

    with contextlib.suppress(TypeError, ValueError):  # a callable without one: the SDK finds out
        call.__signature__ = inspect.signature(handler)  # type: ignore[attr-defined]
    return call


def _stream_logs(outbox: Outbox) -> None:
    """Send each ``ctx.log()`` to the engine as it happens, so logs show while a handler runs."""
    from pingback.context import Context

    original = Context._add_log

    def add_log(self: Any, level: str, message: str, /, **meta: Any) -> None:
        original(self, level, message, **meta)
        entry = self._logs[-1]
        try:
            line = _dumps({"op": "log", "id": self.execution_id, "attempt": self.attempt, "entry": entry})
        except (TypeError, ValueError, RecursionError):  # shown live as text; the response itself is refused
            safe = dict(entry, meta={key: repr(value) for key, value in (meta or {}).items()})
            line = _dumps({"op": "log", "id": self.execution_id, "attempt": self.attempt, "entry": safe})
        outbox.add(line)

    Context._add_log = add_log  # type: ignore[method-assign]


class Runner:
    """Executes requests on a thread pool; the engine enforces timeouts and concurrency.

    With ``read_fd`` (the engine's pipe), :meth:`start` has the pool's threads read the requests
    themselves: the thread that reads a batch runs it (``handler_pool``)."""

    def __init__(
        self,
        functions: list[RawFunction],
        outbox: Outbox,
        threads: int,
        secret: str | None = None,
        *,
        read_fd: int | None = None,
    ) -> None:
        self._secret = project_secret() if secret is None else secret
        self._instances = {function.name: function.instance for function in functions}
        self._fallback = functions[0].instance if functions else None
        for function in functions:
            handler = function.definition.get("handler")
            if callable(handler):
                function.definition["handler"] = _traced(handler)
        self._outbox = outbox
        self._pool: HandlerPool[RequestFields] = HandlerPool(
            self._run, read=None if read_fd is None else requests_from(read_fd), max_threads=threads
        )

    def start(self) -> None:
        self._pool.start()

    def wait_closed(self) -> None:
        """Until the engine closes its end of the pipe."""
        while not self._pool.wait_closed(1.0):  # a timeout, so signals reach their handlers
            pass

    def wait_idle(self, timeout: float) -> bool:
        return self._pool.wait_idle(timeout)

    def _run(self, request: RequestFields) -> None:
        self._outbox.add(self._execute(request))

    def _execute(self, request: RequestFields) -> bytes:
        seq, function = request[0], request[1]
        instance = self._instances.get(function, self._fallback)
        _local.traceback = None
        try:
            body = _body(request)
            # Signed as the platform signs, verified by the SDK: as between the platform and an app.
            headers = signed_headers(self._secret, body)
            output = capture.AttemptOutput(request[2], request[3], self._outbox.send, function)
            token = capture.CURRENT.set(output)  # as capture.attributed, without a generator per call
            try:
                response = instance.handle(body, headers)
            finally:
                capture.CURRENT.reset(token)
                output.finish()
        except BaseException as exc:  # SystemExit, KeyboardInterrupt, SDK payload errors
            response = {"_status": 500, "status": "error", "error": f"{type(exc).__name__}: {exc}"}
            if _local.traceback is None:
                _local.traceback = brief(exc, skip_frames=0)
        status = response.pop("_status", 200)
        message = {
            "op": "result",
            "seq": seq,
            "httpStatus": status,
            "response": response,
            "traceback": _local.traceback if status >= 300 else None,
        }
        try:
            line = _dumps(message)
        except (TypeError, ValueError, RecursionError) as exc:
            return _dumps(_unserializable(message, exc))
        if len(line) > BODY_STORED_BYTES:  # rare: the size the SDK's adapters would send
            message["bodyBytes"] = len(json.dumps(response, separators=(",", ":")).encode())
            line = _dumps(message)
        return line


def _body(request: RequestFields) -> bytes:
    """The wire body of one request from its pipe fields."""
    _, function, execution_id, attempt, scheduled_at, payload, has_payload, child = request
    return AttemptRequest(execution_id, function, attempt, scheduled_at, payload, has_payload, child).encode()


def _unserializable(message: dict[str, Any], exc: Exception) -> dict[str, Any]:
    """A response the platform could not read: fail the attempt, keep what can be kept.

    As the SDK's FastAPI adapter does (Starlette's JSONResponse refuses NaN, Infinity and
    types JSON lacks, and the app answers 500): the attempt fails, and the error says which
    part of the response is not JSON.
    """
    response = message["response"]
    logs = json_plain(response.get("logs") or [])
    return {
        "op": "result",
        "seq": message["seq"],
        "httpStatus": 500,
        "response": {
            "status": "error",
            "error": f"the handler's response is not JSON: {not_json_reason(response, exc)}",
            "logs": logs,
            "durationMs": response.get("durationMs"),
        },
        "traceback": None,
    }


def requests_from(read_fd: int) -> Callable[[], list[RequestFields] | None]:
    """A function that answers the requests of the next ``exec`` lines on the pipe (blocking
    until one is whole), or None once the engine has closed it."""
    pending = b""

    def read() -> list[RequestFields] | None:
        nonlocal pending
        while True:
            end = pending.rfind(b"\n")
            if end >= 0:
                lines, pending = pending[:end], pending[end + 1 :]
                # One decode for every whole line read: the engine writes a batch per loop turn.
                messages = json.loads(b"[" + lines.replace(b"\n", b",") + b"]")
                requests = [r for m in messages if m.get("op") == "exec" for r in m["requests"]]
                if requests:
                    return requests
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                return None
            pending += chunk

    return read


def _skip_registration(functions: list[RawFunction]) -> None:
    """Mark each instance registered: the SDK would POST its functions to the API on its
    first ``handle()`` (pingback-py ``client.py`` ``_ensure_registered``), a round trip the
    emulator answers without change (``EmulatorApi.register``, ``from_worker``) because this
    load is the registration. Skipping it lets a one-shot `run` never start the web stack."""
    for instance in {id(function.instance): function.instance for function in functions}.values():
        instance._registered = True


def main() -> None:
    read_fd, write_fd = (int(fd) for fd in os.environ[FDS_ENV].split(","))
    signal.signal(signal.SIGINT, lambda *_: os._exit(130))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(143))
    outbox = Outbox(write_fd)
    config = ProjectConfig(
        root=Path(os.environ[ROOT_ENV]),
        app=os.environ.get(APP_ENV) or None,
        marker=os.environ.get(MARKER_ENV) or None,
    )
    notices: list[str] = []
    capture.install()  # before the import: logging handlers made there hold these streams
    try:
        functions = load_project(config, platform_url=os.environ[API_ENV], notices=notices)
    except ProjectError as exc:
        outbox.send({"op": "error", "message": exc.message, "hint": exc.hint, "details": exc.details})
        os._exit(3)
    except BaseException as exc:
        message = f"loading the project failed: {type(exc).__name__}: {exc}"
        outbox.send({"op": "error", "message": message, "hint": None, "details": brief(exc, 0)})
        os._exit(3)
    _skip_registration(functions)
    startup.release()  # what the imports made stays; the handlers' garbage is collected as usual
    _stream_logs(outbox)
    runner = Runner(functions, outbox, int(os.environ.get(THREADS_ENV, "256")), read_fd=read_fd)
    outbox.send(
        {
            "op": "ready",
            "pid": os.getpid(),
            # Options as declared (a NaN retries, a timedelta timeout) must reach the engine,
            # whose validation names them, rather than break this message.
            "functions": [json_plain(f.to_json()) for f in functions],
            "notices": notices,
        }
    )
    parent = os.getppid()
    runner.start()
    runner.wait_closed()
    if os.getppid() != parent:
        # The engine was killed (kill -9): nobody is left to take results, and nothing the
        # user's handlers started in this process group may outlive it.
        os.killpg(os.getpgrp(), signal.SIGKILL)
    # The engine closed the pipe: finish what is running, then leave without joining hung threads.
    runner.wait_idle(float(os.environ.get(GRACE_ENV, "5")))
    sys.stderr.flush()
    time.sleep(0)
    os._exit(0)


if __name__ == "__main__":
    main()
