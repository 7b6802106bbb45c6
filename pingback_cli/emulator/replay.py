"""``pingback replay ID``: run an execution's function again, as a new root linked to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pingback_cli.emulator.options import EmulatorOptions
from pingback_cli.emulator.run import RunResult, run_function
from pingback_cli.engine.engine import Event
from pingback_cli.models import Execution
from pingback_cli.project.config import ProjectConfig


def find_original(config: ProjectConfig, id_or_prefix: str) -> Execution:
    """The execution to replay, from history (an id or an unambiguous prefix of one)."""
    from pingback_cli.history.store import Store, history_path, no_history

    path = history_path(config.root)
    if not path.is_file():
        raise no_history(id_or_prefix)
    with Store(path, readonly=True) as store:
        return store.get(store.resolve(id_or_prefix))


def replay_execution(
    config: ProjectConfig,
    id_or_prefix: str,
    *,
    payload: Any = None,
    has_payload: bool = False,
    backoff: bool = True,
    on_event: Callable[[Event], None] | None = None,
    endpoint: str | None = None,
    secret: str | None = None,
) -> RunResult:
    """Run the function of execution ``id_or_prefix`` now, with its payload unless one is given.

    The replay is a new root (trigger "replay", ``replay_of`` = the original's id) with
    the platform's full semantics: retries, timeout, fan-out. With ``endpoint`` (and
    ``secret``) the attempts go to that running app, as ``run --endpoint`` sends them.
    """
    original = find_original(config, id_or_prefix)
    if not has_payload:
        payload, has_payload = original.payload, original.has_payload
    return run_function(
        config,
        original.function,
        payload=payload,
        has_payload=has_payload,
        backoff=backoff,
        options=EmulatorOptions(endpoint=endpoint, secret=secret) if endpoint is not None else None,
        on_event=on_event,
        replay_of=original.id,
    )
