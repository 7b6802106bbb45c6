"""The worker subprocess entry point (``python -m pingback_cli.worker``): imports the user's
project and runs attempts through the SDK's own ``pb.handle()``.

Its start-up is the reload latency: it imports no Rich, Typer, Starlette, engine or history.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pingback_cli.protocol import AttemptRequest

FDS_ENV = "PINGBACK_WORKER_FDS"
"""``READ,WRITE``: the pipe ends the worker reads requests from and writes results to."""
ROOT_ENV = "PINGBACK_WORKER_ROOT"
APP_ENV = "PINGBACK_WORKER_APP"
MARKER_ENV = "PINGBACK_WORKER_ROOT_MARKER"
API_ENV = "PINGBACK_WORKER_API"
"""The platform API the project's SDK is pointed at (the emulator's, under ``/__worker``)."""
THREADS_ENV = "PINGBACK_WORKER_THREADS"
GRACE_ENV = "PINGBACK_WORKER_GRACE"
RESULTS_ENV = "PINGBACK_WORKER_RESULTS"
"""``FD,BYTES``: the results area both processes hold (``executors.spawn``); absent, every
result is written straight to the pipe."""

RESULTS_AREA_BYTES = 1 << 20
"""The results area's size: an 8-byte committed length (little-endian), then whole result lines."""
RESULTS_HEADER_BYTES = 8


def request_fields(seq: int, request: AttemptRequest) -> tuple[Any, ...]:
    """One attempt as the engine sends it on the pipe (read back by ``main.Runner``). Here, not
    in ``main``, so the engine's side imports none of the worker's own modules."""
    return (
        seq,
        request.function,
        request.execution_id,
        request.attempt,
        request.scheduled_at,
        request.payload,
        request.has_payload,
        request.child,
    )


def committed_results(fd: int) -> list[bytes]:
    """The whole result lines the worker left in its results area ``fd`` (read with ``pread``,
    the file offset untouched): what it finished but had not yet written to the pipe when it
    exited. The worker stores the length only after the lines it covers, so a crash leaves a
    consistent prefix; a length past the area (never written by a worker) is clamped. OSError
    if ``fd`` cannot be read."""
    length = int.from_bytes(os.pread(fd, RESULTS_HEADER_BYTES, 0), "little")
    length = min(length, os.fstat(fd).st_size - RESULTS_HEADER_BYTES)
    if length <= 0:
        return []
    data = os.pread(fd, length, RESULTS_HEADER_BYTES)
    return data[: data.rfind(b"\n") + 1].splitlines()
