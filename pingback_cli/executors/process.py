"""One worker subprocess: start it (its own session), send it attempts over a pipe in
batched JSON lines (it signs each), read its results and log lines, and stop it (SIGINT, a grace period,
SIGKILL, to the whole process group).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Callable
from typing import Any

from pingback_cli.errors import ProjectError
from pingback_cli.executors.spawn import Spawned, spawn_worker
from pingback_cli.project.config import ProjectConfig
from pingback_cli.protocol import AttemptOutcome, AttemptRequest, compact_encoder
from pingback_cli.worker import request_fields

LogCallback = Callable[[str, int, dict[str, Any]], None]
Answer = Callable[[AttemptOutcome], None]
"""Called once, synchronously, with an attempt's outcome (``WorkerProcess.run``)."""
_Pending = tuple[AttemptRequest, "asyncio.Future[AttemptOutcome] | None", "Answer | None"]
"""An attempt sent: its request, and its future (``execute``) or its answer (``run``)."""


_BATCH = compact_encoder(allow_nan=True)
"""Built once (``json.dumps`` with options builds one per call). NaN passes: the worker's
``AttemptRequest.encode`` makes the wire body JSON as ``json_safe`` does."""

MAX_ABANDONED = 16
"""Handlers past their timeout that a worker may carry before a fresh one replaces it."""


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "it stopped answering"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exited with code {returncode}"


class _Lines(asyncio.Protocol):
    def __init__(self, on_message: Callable[[dict[str, Any]], None], on_eof: Callable[[], None]):
        self._buffer = bytearray()
        self._on_message = on_message
        self._on_eof = on_eof

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.rfind(b"\n")
        if end < 0:
            return
        complete = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        # One decode for the whole burst: results arrive in batches of many lines.
        for message in json.loads(b"[" + complete.replace(b"\n", b",") + b"]"):
            self._on_message(message)

    def connection_lost(self, exc: Exception | None) -> None:
        self._on_eof()


class WorkerProcess:
    """One worker subprocess and the attempts in flight on it."""

    def __init__(
        self,
        config: ProjectConfig,
        api_url: str,
        *,
        on_log: LogCallback | None = None,
        threads: int = 256,
        grace: float = 5.0,
        on_exit: Callable[[WorkerProcess], None] | None = None,
    ) -> None:
        self.config = config
        self.api_url = api_url
        self.on_log = on_log
        self.on_exit = on_exit
        self.threads = threads
        self.grace = grace
        self.stopping = False
        self.functions: list[dict[str, Any]] = []
        self.notices: list[str] = []
        """Folders the file rule skipped that have files using pingback (from the worker)."""
        self.process: subprocess.Popen[bytes] | None = None
        self.alive = False
        self.exited = asyncio.get_running_loop().create_future()
        self._ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending: dict[int, _Pending] = {}
        self._streamed: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self._seq = 0
        self.abandoned: set[int] = set()
        self._outgoing: list[dict[str, Any]] = []
        self._writer: asyncio.WriteTransport | None = None
        self._reader: asyncio.ReadTransport | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    async def start(self, timeout: float = 60.0, *, early: Spawned | None = None) -> list[dict[str, Any]]:
        """Spawn the worker (or take ``early``, one already started for this same project, API
        and settings) and wait until it reports its functions (ProjectError if it cannot)."""
        loop = asyncio.get_running_loop()
        if early is not None and not early.is_for(self.config, self.api_url, self.threads, self.grace):
            early.kill()
            early = None
        spawned = early or spawn_worker(self.config, self.api_url, threads=self.threads, grace=self.grace)
        self.process = spawned.process
        to_worker_write, from_worker_read = spawned.to_worker, spawned.from_worker
        self.alive = True
        try:
            self._reader, _ = await loop.connect_read_pipe(
                lambda: _Lines(self._on_message, self._on_eof), os.fdopen(from_worker_read, "rb", 0)
            )
            self._writer, _ = await loop.connect_write_pipe(
                asyncio.Protocol, os.fdopen(to_worker_write, "wb", 0)
            )
            message = await asyncio.wait_for(asyncio.shield(self._ready), timeout)
        except asyncio.TimeoutError:
            await self.stop(grace=0)
            raise ProjectError(
                f"the project did not finish importing within {timeout:.0f}s",
                hint="does importing your code wait on a server or on input?",
            ) from None
        except BaseException:  # cancelled while starting (Ctrl-C): leave no worker behind
            self._kill_now()
            raise
        if message["op"] == "error":
            await self.exited
            raise ProjectError(message["message"], hint=message.get("hint"), details=message.get("details"))
        self.functions = message["functions"]
        self.notices = [str(notice) for notice in message.get("notices") or ()]
        return self.functions

    def execute(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]:
        """Send ``request``; its future gets the outcome. Cancelling it abandons the attempt."""
        future: asyncio.Future[AttemptOutcome] = asyncio.get_running_loop().create_future()
        if not self.alive:
            future.set_result(AttemptOutcome(None, error="the worker process is not running"))
            return future
        seq = self._send(request, future, None)
        future.add_done_callback(lambda _: self.abandon(seq))
        return future

    def run(self, request: AttemptRequest, answer: Answer) -> int:
        """Send ``request`` (the worker must be ``alive``); ``answer`` is called once with its
        outcome, synchronously, as the worker's answers are read (or when the worker dies), never
        from within this call, and never after ``abandon``. Returns the attempt's number here.

        Without a future and its done-callbacks, each scheduled as a handle of the loop: at
        thousands of answers a second they showed in the engine process's profile."""
        return self._send(request, None, answer)

    def _send(
        self, request: AttemptRequest, future: asyncio.Future[AttemptOutcome] | None, answer: Answer | None
    ) -> int:
        self._seq += 1
        seq = self._seq
        self._pending[seq] = (request, future, answer)
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._send_batch)
        # The fields, not the wire body: the worker builds and signs the body (one JSON
        # encoding instead of two, and the HMAC off the engine's loop).
        self._outgoing.append(request_fields(seq, request))
        return seq

    def abandon(self, seq: int) -> None:
        """Attempt ``seq`` ended without an answer (timeout, interrupt): its handler may still
        run; a late answer is dropped."""
        entry = self._pending.pop(seq, None)
        if entry is not None:
            request = entry[0]
            self._streamed.pop((request.execution_id, request.attempt), None)
            self.abandoned.add(seq)

    @property
    def busy_abandoned(self) -> int:
        """Handlers still running past their timeout, each holding a thread of this worker."""
        return len(self.abandoned)

    def _send_batch(self) -> None:
        batch, self._outgoing = self._outgoing, []
        if self._writer is None or self._writer.is_closing():
            return
        self._writer.write(_BATCH({"op": "exec", "requests": batch}).encode() + b"\n")

    def _on_message(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == "result":
            entry = self._pending.pop(message["seq"], None)
            if entry is None:
                self.abandoned.discard(message["seq"])  # timed out already; the late answer is dropped
                return
            request, future, answer = entry
            if self._streamed:  # lines streamed before the answer: kept only for a worker's death
                self._streamed.pop((request.execution_id, request.attempt), None)
            if future is not None and future.done():
                return  # timed out or interrupted in this same loop turn: the answer is late
            response = message.get("response")
            if type(response) is not dict:
                response = None
            duration = response.get("durationMs") if response is not None else None
            outcome = AttemptOutcome(
                http_status=message.get("httpStatus"),
                response=response,
                traceback=message.get("traceback"),
                duration_ms=duration if isinstance(duration, int) else None,
                body_bytes=message.get("bodyBytes"),
            )
            if answer is not None:
                answer(outcome)
            else:
                assert future is not None
                future.set_result(outcome)
        elif op == "log":
            key = (message["id"], message["attempt"])
            self._streamed.setdefault(key, []).append(message["entry"])
            if self.on_log is not None:
                self.on_log(message["id"], message["attempt"], message["entry"])
        elif op == "output":  # printed by the handler: kept beside the logs, never in the answer
            if self.on_log is not None:
                self.on_log(message["id"], message["attempt"], message["entry"])
        elif op in ("ready", "error") and not self._ready.done():
            self._ready.set_result(message)

    def _on_eof(self) -> None:
        if not self.alive:
            return
        self.alive = False
        asyncio.get_running_loop().create_task(self._reap())

    async def _reap(self) -> None:
        returncode = await self._exit_code()
        if not self._ready.done():
            self._ready.set_result(
                {
                    "op": "error",
                    "message": f"the worker process {describe_exit(returncode)} while importing the project",
                    "hint": "run your module with python directly to see why",
                }
            )
        how = describe_exit(returncode)
        pending, self._pending = self._pending, {}
        for request, future, answer in pending.values():
            outcome = AttemptOutcome(
                None,
                error=f"the worker process died while this attempt was running ({how}); "
                "did the handler call os._exit() or crash the interpreter?",
                logs=self._streamed.get((request.execution_id, request.attempt), []),
            )
            if answer is not None:
                answer(outcome)
            elif future is not None and not future.done():
                future.set_result(outcome)
        if self._writer is not None:
            self._writer.close()
        if not self.exited.done():
            self.exited.set_result(returncode)
        if self.on_exit is not None and not self.stopping:
            self.on_exit(self)

    async def _exit_code(self) -> int | None:
        """The worker's exit code, once it has exited (it has closed its pipe, so it is going),
        reaped. On Linux the loop watches a pidfd; elsewhere a thread waits (``_wait``): a
        one-shot `run` then starts no thread, and imports no thread pool, to learn it. Past 10 s
        the whole group is killed, as ``_wait`` does."""
        assert self.process is not None
        if self.process.returncode is not None:  # already reaped: its pid may be another's now
            return self.process.returncode
        loop = asyncio.get_running_loop()
        try:
            pidfd = os.pidfd_open(self.process.pid)
        except (AttributeError, OSError):  # not Linux >= 5.3, or already reaped
            return await loop.run_in_executor(None, self._wait)
        gone: asyncio.Future[None] = loop.create_future()
        loop.add_reader(pidfd, lambda: gone.done() or gone.set_result(None))
        overdue = loop.call_later(10, self._signal_group, signal.SIGKILL)
        try:
            await gone
        finally:
            overdue.cancel()
            loop.remove_reader(pidfd)
            os.close(pidfd)
        return self.process.wait()

    def _wait(self) -> int | None:
        assert self.process is not None
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            return self.process.wait()

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def _kill_now(self) -> None:
        """The worker and its process group go at once (no loop turn needed), and are reaped."""
        self.stopping = True
        self._signal_group(signal.SIGKILL)
        for transport in (self._writer, self._reader):
            if transport is not None:
                transport.close()
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)

    async def stop(self, grace: float = 5.0) -> None:
        """Close the pipe (finish running work), then SIGINT, then SIGKILL, whole process group."""
        self.stopping = True
        if self.process is None:
            return
        if self._writer is not None and not self._writer.is_closing():
            self._writer.close()
        for sig, wait in ((None, grace), (signal.SIGINT, 1.0), (signal.SIGKILL, 5.0)):
            if sig is not None:
                self._signal_group(sig)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.exited), wait)
                break
        # Whatever the user's handlers spawned into the group goes with the worker.
        self._signal_group(signal.SIGKILL)
        if self._reader is not None:
            self._reader.close()
