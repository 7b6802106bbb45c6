"""The worker subprocess entry point (``python -m pingback_cli.worker``): imports the user's
project and runs attempts through the SDK's own ``pb.handle()``.

Its start-up is the reload latency: it imports no Rich, Typer, Starlette, engine or history.
"""

FDS_ENV = "PINGBACK_WORKER_FDS"
"""``READ,WRITE``: the pipe ends the worker reads requests from and writes results to."""
ROOT_ENV = "PINGBACK_WORKER_ROOT"
APP_ENV = "PINGBACK_WORKER_APP"
MARKER_ENV = "PINGBACK_WORKER_ROOT_MARKER"
API_ENV = "PINGBACK_WORKER_API"
"""The platform API the project's SDK is pointed at (the emulator's, under ``/__worker``)."""
THREADS_ENV = "PINGBACK_WORKER_THREADS"
GRACE_ENV = "PINGBACK_WORKER_GRACE"
