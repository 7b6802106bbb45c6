"""The worker subprocess entry point (``python -m pingback_cli.worker``): imports the user's
project and runs attempts through the SDK's own ``pb.handle()``.

Its start-up is the reload latency: it imports no Rich, Typer, Starlette, engine or history.
"""
