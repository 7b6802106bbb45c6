"""The worker subprocess entry point (``python -m pingback_cli.worker``): imports the user's
project and runs attempts through the SDK's own ``pb.handle()``.

Its start-up is the reload latency: it imports no Rich, Typer, Starlette, engine or history.
"""

from __future__ import annotations

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
