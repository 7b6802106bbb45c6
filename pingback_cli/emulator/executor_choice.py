"""Which executor runs the attempts: the project's worker (``executors.worker.Supervisor``), or
in endpoint mode the user's running app (``executors.endpoint``). The one place that knows
there are two kinds; the emulator only uses the ``Executor`` it is given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pingback_cli.emulator.options import EmulatorOptions
from pingback_cli.emulator.server import WORKER_PREFIX, ApiServer
from pingback_cli.executors.base import Executor
from pingback_cli.models import FunctionSpec
from pingback_cli.project.config import DEV_CRON_SECRET, ProjectConfig, project_environment


def choose_executor(
    config: ProjectConfig,
    options: EmulatorOptions,
    *,
    api: ApiServer,
    publish: Callable[[list[FunctionSpec]], None],
    on_log: Callable[[str, int, dict[str, Any]], None],
    on_notice: Callable[[str], None],
    on_restart: Callable[[str], None] | None,
) -> Executor:
    """The executor for ``options`` (``endpoint`` set: endpoint mode), publishing the functions
    it finds to ``publish``; a worker streams live logs to ``on_log`` and reports restarts to
    ``on_restart``; endpoint mode's registry warns through ``on_notice``."""
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
    )


def worker_api_url(host: str, api: ApiServer) -> str:
    """The API's address for the worker, under ``/__worker``: the worker's own SDK registration
    is the load itself, not a deploy. A wildcard ``host`` is reached on 127.0.0.1."""
    if host in ("0.0.0.0", "::", ""):
        return f"http://127.0.0.1:{api.port}{WORKER_PREFIX}"
    return api.url + WORKER_PREFIX
