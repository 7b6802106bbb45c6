"""Start, talk to, replace and stop the worker subprocess that runs the user's code.

``WorkerProcess`` is one worker; ``Supervisor`` is the executor the engine sees:
it keeps one current worker, replaces it on reload (the old one finishes what it
runs), and starts a new one when a handler kills the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pingback_cli.errors import ProjectError
from pingback_cli.project.loader import ProjectConfig
from pingback_cli.protocol import AttemptOutcome, AttemptRequest, signed_headers
from pingback_cli.worker import main as worker_module

LogCallback = Callable[[str, int, dict[str, Any]], None]
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
        self.process: subprocess.Popen[bytes] | None = None
        self.alive = False
        self.exited = asyncio.get_running_loop().create_future()
        self._ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending: dict[int, tuple[AttemptRequest, asyncio.Future[AttemptOutcome]]] = {}
        self._streamed: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self._seq = 0
        self._secrets: dict[str, str] = {}
        self.abandoned: set[int] = set()
        self._fallback_secret = ""
        self._outgoing: list[dict[str, Any]] = []
        self._writer: asyncio.WriteTransport | None = None
        self._reader: asyncio.ReadTransport | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    async def start(self, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Spawn the worker and wait until it reports its functions (ProjectError if it cannot)."""
        loop = asyncio.get_running_loop()
        to_worker_read, to_worker_write = os.pipe()
        from_worker_read, from_worker_write = os.pipe()
        env = dict(os.environ)
        env.update(
            {
                worker_module.FDS_ENV: f"{to_worker_read},{from_worker_write}",
                worker_module.ROOT_ENV: str(self.config.root),
                worker_module.APP_ENV: self.config.app or "",
                worker_module.API_ENV: self.api_url,
                worker_module.THREADS_ENV: str(self.threads),
                worker_module.GRACE_ENV: str(self.grace),
                "PYTHONUNBUFFERED": "1",
            }
        )
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pingback_cli.worker"],
                cwd=self.config.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sys.stderr.fileno() if _has_fileno(sys.stderr) else None,
                pass_fds=(to_worker_read, from_worker_write),
                start_new_session=True,
            )
        finally:
            os.close(to_worker_read)
            os.close(from_worker_write)
        self.alive = True
        self._reader, _ = await loop.connect_read_pipe(
            lambda: _Lines(self._on_message, self._on_eof), os.fdopen(from_worker_read, "rb", 0)
        )
        self._writer, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(to_worker_write, "wb", 0))
        try:
            message = await asyncio.wait_for(asyncio.shield(self._ready), timeout)
        except asyncio.TimeoutError:
            await self.stop(grace=0)
            raise ProjectError(
                f"the project did not finish importing within {timeout:.0f}s",
                hint="does importing your code wait on a server or on input?",
            ) from None
        if message["op"] == "error":
            await self.exited
            raise ProjectError(message["message"], hint=message.get("hint"), details=message.get("details"))
        self.functions = message["functions"]
        self._secrets = message.get("secrets") or {}
        self._fallback_secret = next(iter(self._secrets.values()), "")
        return self.functions

    def execute(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]:
        future: asyncio.Future[AttemptOutcome] = asyncio.get_running_loop().create_future()
        if not self.alive:
            future.set_result(AttemptOutcome(None, error="the worker process is not running"))
            return future
        self._seq += 1
        seq = self._seq
        self._pending[seq] = (request, future)
        future.add_done_callback(lambda _: self._forget(seq))
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._send_batch)
        body = request.encode()
        secret = self._secrets.get(request.function, self._fallback_secret)
        self._outgoing.append(
            {
                "seq": seq,
                "function": request.function,
                "body": body.decode(),
                "headers": signed_headers(secret, body),
            }
        )
        return future

    def _forget(self, seq: int) -> None:
        """The attempt ended without an answer (timeout, interrupt): its handler may still run."""
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
        self._writer.write(
            json.dumps({"op": "exec", "requests": batch}, separators=(",", ":"), ensure_ascii=False).encode()
            + b"\n"
        )

    def _on_message(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == "result":
            entry = self._pending.pop(message["seq"], None)
            if entry is None:
                self.abandoned.discard(message["seq"])  # timed out already; the late answer is dropped
                return
            self._streamed.pop((entry[0].execution_id, entry[0].attempt), None)
            if entry[1].done():
                return  # timed out or interrupted in this same loop turn: the answer is late
            future = entry[1]
            response = message.get("response")
            duration = response.get("durationMs") if isinstance(response, dict) else None
            future.set_result(
                AttemptOutcome(
                    http_status=message.get("httpStatus"),
                    response=response if isinstance(response, dict) else None,
                    traceback=message.get("traceback"),
                    duration_ms=duration if isinstance(duration, int) else None,
                )
            )
        elif op == "log":
            key = (message["id"], message["attempt"])
            self._streamed.setdefault(key, []).append(message["entry"])
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
        returncode = await asyncio.get_running_loop().run_in_executor(None, self._wait)
        if not self._ready.done():
            self._ready.set_result(
                {
                    "op": "error",
                    "message": f"the worker process {describe_exit(returncode)} while importing the project",
                    "hint": "run your module with python directly to see why",
                }
            )
        how = describe_exit(returncode)
        for request, future in list(self._pending.values()):
            if not future.done():
                future.set_result(
                    AttemptOutcome(
                        None,
                        error=f"the worker process died while this attempt was running ({how}); "
                        "did the handler call os._exit() or crash the interpreter?",
                        logs=self._streamed.get((request.execution_id, request.attempt), []),
                    )
                )
        if self._writer is not None:
            self._writer.close()
        if not self.exited.done():
            self.exited.set_result(returncode)
        if self.on_exit is not None and not self.stopping:
            self.on_exit(self)

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


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


@dataclass
class ReloadResult:
    ok: bool
    added: list[str]
    removed: list[str]
    changed: list[str]
    functions: list[dict[str, Any]]
    error: ProjectError | None = None


class Supervisor:
    """The worker executor: routes attempts to the current worker, restarts and reloads it."""

    def __init__(
        self,
        config: ProjectConfig,
        api_url: str,
        *,
        on_log: LogCallback | None = None,
        on_restart: Callable[[str], None] | None = None,
        grace: float = 5.0,
        threads: int = 256,
    ) -> None:
        self.config = config
        self.api_url = api_url
        self.on_log = on_log
        self.on_restart = on_restart
        self.grace = grace
        self.threads = threads
        self.current: WorkerProcess | None = None
        self.closing = False
        self.functions: list[dict[str, Any]] = []
        self._starting: asyncio.Task[WorkerProcess] | None = None
        self._recycling = False
        self._retiring: set[asyncio.Task[None]] = set()

    async def start(self) -> list[dict[str, Any]]:
        self.current = await self._spawn()
        self.functions = self.current.functions
        return self.functions

    async def _spawn(self) -> WorkerProcess:
        worker = WorkerProcess(
            self.config,
            self.api_url,
            on_log=self.on_log,
            threads=self.threads,
            grace=self.grace,
            on_exit=self._worker_exited,
        )
        await worker.start()
        return worker

    def start_attempt(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]:
        worker = self.current
        if worker is not None and worker.alive:
            if worker.busy_abandoned >= MAX_ABANDONED and not self._recycling:
                self._recycle(worker)
            return worker.execute(request)
        outer: asyncio.Future[AttemptOutcome] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().create_task(self._execute_after_restart(request, outer))
        return outer

    async def _execute_after_restart(
        self, request: AttemptRequest, outer: asyncio.Future[AttemptOutcome]
    ) -> None:
        try:
            worker = await self._replacement()
        except ProjectError as exc:
            if not outer.done():
                outer.set_result(AttemptOutcome(None, error=f"the worker could not restart: {exc.message}"))
            return
        if outer.done():
            return
        inner = worker.execute(request)
        inner.add_done_callback(lambda done: outer.done() or outer.set_result(done.result()))
        outer.add_done_callback(lambda _: inner.done() or inner.cancel())

    def _worker_exited(self, worker: WorkerProcess) -> None:
        """A worker died on its own (a handler crashed it): start the next one now."""
        if worker is not self.current or self.closing:
            return
        task = asyncio.get_running_loop().create_task(self._replacement())
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _replacement(self) -> WorkerProcess:
        if self._starting is None or self._starting.done():
            dead = self.current
            self._starting = asyncio.get_running_loop().create_task(self._spawn())
            worker = await self._starting
            self.current = worker
            if self.on_restart is not None and dead is not None:
                how = describe_exit(dead.exited.result() if dead.exited.done() else None)
                self.on_restart(f"the worker process {how}; a new worker (pid {worker.pid}) took over")
            return worker
        return await self._starting

    def _recycle(self, worker: WorkerProcess) -> None:
        """Too many handlers hang past their timeouts: a fresh worker takes new work, the old
        one finishes what still has a chance, then goes (with the hung threads)."""
        self._recycling = True

        async def swap() -> None:
            try:
                fresh = await self._spawn()
            except ProjectError:
                return
            finally:
                self._recycling = False
            if self.current is worker:
                self.current = fresh
                self._retire_later(worker)
                if self.on_restart is not None:
                    self.on_restart(
                        f"{worker.busy_abandoned} handlers are still running past their timeouts; "
                        f"a fresh worker (pid {fresh.pid}) takes new work"
                    )
            else:
                await fresh.stop(grace=0)

        task = asyncio.get_running_loop().create_task(swap())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    def _retire_later(self, worker: WorkerProcess) -> None:
        task = asyncio.get_running_loop().create_task(self._retire(worker))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def reload(self, accept: Callable[[list[dict[str, Any]]], object] | None = None) -> ReloadResult:
        """Start a fresh worker; switch to it only once it has reported its functions and
        ``accept`` (which raises ProjectError for functions it refuses) took them."""
        try:
            fresh = await self._spawn()
        except ProjectError as exc:
            return ReloadResult(False, [], [], [], self.functions, error=exc)
        if accept is not None:
            try:
                accept(fresh.functions)
            except ProjectError as exc:
                await fresh.stop(grace=0)
                return ReloadResult(False, [], [], [], self.functions, error=exc)
        before = {f["name"]: f for f in self.functions}
        after = {f["name"]: f for f in fresh.functions}
        old, self.current = self.current, fresh
        self.functions = fresh.functions
        if old is not None:
            self._retire_later(old)
        return ReloadResult(
            True,
            added=sorted(after.keys() - before.keys()),
            removed=sorted(before.keys() - after.keys()),
            changed=sorted(n for n in after.keys() & before.keys() if after[n] != before[n]),
            functions=fresh.functions,
        )

    async def _retire(self, worker: WorkerProcess) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.grace
        while worker.in_flight and loop.time() < deadline:
            await asyncio.sleep(0.05)
        await worker.stop(grace=1.0)

    async def aclose(self, grace: float | None = None) -> None:
        """Stop every worker; ``grace`` overrides how long running handlers may finish."""
        self.closing = True
        if self._starting is not None and not self._starting.done():
            with contextlib.suppress(BaseException):
                await self._starting
        workers = [self.current] if self.current is not None else []
        await asyncio.gather(*(task for task in self._retiring), return_exceptions=True)
        for worker in workers:
            await worker.stop(grace=self.grace if grace is None else grace)
