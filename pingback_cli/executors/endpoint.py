"""Endpoint mode's executor: signed POSTs to the user's app (``HttpExecutor``), with the
functions of an ``EndpointRegistry``: those found in the project, those the app
registered, and names forwarded without being declared anywhere.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from pingback_cli.executors.base import Publish, ReloadResult
from pingback_cli.executors.http import HttpExecutor
from pingback_cli.models import FunctionSpec
from pingback_cli.project.config import ProjectConfig
from pingback_cli.project.durations import DEFAULT_TIMEOUT_SECONDS


class EndpointRegistry:
    """Which functions the app runs: found by discovery, registered (which win), then
    forwarded names; each warning is said once through ``on_warning``."""

    def __init__(self, config: ProjectConfig, *, on_warning: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.on_warning = on_warning
        self.discovered: list[FunctionSpec] = []
        self.language = "python"
        self.registered: dict[str, FunctionSpec] = {}
        self.forwarded: dict[str, FunctionSpec] = {}
        self.warnings: list[str] = []

    def specs(self) -> list[FunctionSpec]:
        """The merged list: discovered, overridden by registered, plus forwarded names."""
        merged = {spec.name: spec for spec in self.discovered}
        merged.update(self.registered)
        for name, spec in self.forwarded.items():
            merged.setdefault(name, spec)
        return list(merged.values())

    def discover(self) -> None:
        """Scan (JS/TS) or import (Python) the project, leniently: problems become warnings."""
        from pingback_cli.project.discovery import discover_project

        found = discover_project(self.config, lenient=True)
        self.discovered, self.language = found.specs, found.language
        for warning in found.warnings:
            self.warn(warning)

    def rediscover(self) -> ReloadResult:
        """A file changed: scan the JS/TS sources again. A Python project is not re-imported
        in this process; the app registers again when it restarts."""
        before = [spec.to_json() for spec in self.discovered]
        if self.language != "python":
            self.discover()
        return ReloadResult.compare(before, [spec.to_json() for spec in self.discovered])

    def register(self, specs: list[FunctionSpec]) -> None:
        for spec in specs:
            self.registered[spec.name] = spec

    def forward(self, name: str) -> FunctionSpec:
        """Accept a name the project does not declare, with the platform's default options;
        the app answers 404 if it has no such function either."""
        spec = FunctionSpec(
            name=name,
            type="task",
            schedule=None,
            retries=0,
            timeout=None,
            timeout_seconds=DEFAULT_TIMEOUT_SECONDS,
            concurrency=1,
        )
        self.forwarded[name] = spec
        self.warn(
            f'"{name}" is not among the functions found in the project; sending it to the app '
            "with default options (retries 0, timeout 30s, concurrency 1)"
        )
        return spec

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
            if self.on_warning is not None:
                self.on_warning(message)


class EndpointExecutor(HttpExecutor):
    """``--endpoint``: attempts are signed POSTs to the app; functions come from the registry."""

    def __init__(
        self,
        endpoint_url: str,
        secret: str,
        registry: EndpointRegistry,
        *,
        publish: Publish | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(endpoint_url, secret, client=client)
        self.registry = registry
        self.publish = publish

    async def start(self) -> None:
        self.registry.discover()
        self._publish()

    async def reload(self) -> ReloadResult:
        result = self.registry.rediscover()
        self._publish()
        return result

    def register(self, specs: list[FunctionSpec]) -> None:
        """The app says what it runs: its registrations win over what discovery found."""
        self.registry.register(specs)
        self._publish()

    def forward(self, name: str) -> FunctionSpec | None:
        spec = self.registry.forward(name)
        self._publish()
        return spec

    def _publish(self) -> None:
        if self.publish is not None:
            self.publish(self.registry.specs())
