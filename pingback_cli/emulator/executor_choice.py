"""Which executor runs the attempts: the project's worker (``executors.worker.Supervisor``), or
in endpoint mode the user's running app (``executors.endpoint``). The one place that knows
there are two kinds; the emulator only uses the ``Executor`` it is given."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pingback_cli.emulator import sockets
from pingback_cli.emulator.options import EmulatorOptions
from pingback_cli.emulator.server import ApiServer
from pingback_cli.executors.base import Executor
from pingback_cli.models import FunctionSpec
from pingback_cli.project.config import DEV_CRON_SECRET, ProjectConfig, project_environment

if TYPE_CHECKING:
    from pingback_cli.executors.spawn import Spawned


def choose_executor(
    config: ProjectConfig,
    options: EmulatorOptions,
    *,
    api: ApiServer,
    publish: Callable[[list[FunctionSpec]], None],
    on_log: Callable[[str, int, dict[str, Any]], None],
    on_notice: Callable[[str], None],
    on_restart: Callable[[str], None] | None,
    early: Spawned | None = None,
) -> Executor:
    """The executor for ``options`` (``endpoint`` set: endpoint mode), publishing the functions
    it finds to ``publish``; a worker streams live logs to ``on_log`` and reports restarts to
    ``on_restart``; endpoint mode's registry warns through ``on_notice``. ``early``: a worker
    already started for this project (``head_start``), which the supervisor starts from."""
    if options.endpoint is not None:
        from pingback_cli.executors.endpoint import EndpointExecutor, EndpointRegistry

        environment = project_environment(config.root)
        secret = options.secret or environment.get("PINGBACK_CRON_SECRET") or DEV_CRON_SECRET
        registry = EndpointRegistry(config, on_warning=on_notice)
        return EndpointExecutor(options.endpoint, secret, registry, publish=publish)
    from pingback_cli.executors.worker import Supervisor

    return Supervisor(
        config,
        worker_api_url(options.host, api),
        publish=publish,
        on_log=on_log,
        on_restart=on_restart,
        grace=options.grace,
        early=early,
        restart_at_once=options.restart_at_once,
    )


def worker_api_url(host: str, api: ApiServer) -> str:
    """The API's address for the worker, under ``/__worker``: the worker's own SDK registration
    is the load itself, not a deploy. A wildcard ``host`` is reached on 127.0.0.1."""
    return sockets.worker_api_url(host, api.port)
