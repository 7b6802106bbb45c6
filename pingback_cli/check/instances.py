"""Instance findings: production has one cron secret and one endpoint per project.

The Go worker signs every request with the project's one secret (``runpingback/worker``
``internal/processor/dispatch.go:67-68``, ``pu.CronSecret`` from ``internal/db/projects.go``) and
posts every function to the project's one endpoint (``pu.EndpointURL``, ``processor.go:138-147``).
pingback signs with the project's secret too (``PINGBACK_CRON_SECRET`` after ``.env``), so an
instance constructed with another secret answers 401 locally as it will there.
"""

from __future__ import annotations

import os

from pingback_cli.check.report import Finding, split_source
from pingback_cli.project.loader import RawFunction

INSTANCE_RULES: dict[str, str] = {
    "instance-secrets": "a Pingback instance whose cron secret is not the project's one secret",
    "several-instances": "functions spread over several Pingback instances (production has one endpoint)",
}


def _instances(raws: list[RawFunction]) -> list[tuple[object, list[RawFunction]]]:
    """Each distinct instance with its functions, in the order first seen."""
    groups: dict[int, tuple[object, list[RawFunction]]] = {}
    for raw in raws:
        groups.setdefault(id(raw.instance), (raw.instance, []))[1].append(raw)
    return list(groups.values())


def instance_findings(raws: list[RawFunction], project_secret: str | None = None) -> list[Finding]:
    """``instance-secrets`` for each instance whose secret differs from the project's, and one
    ``several-instances`` warning when the functions live on more than one instance."""
    secret = os.environ.get("PINGBACK_CRON_SECRET", "") if project_secret is None else project_secret
    groups = _instances(raws)
    found: list[Finding] = []
    for instance, functions in groups:
        own = getattr(instance, "cron_secret", None)
        if own == secret:
            continue
        first = functions[0]
        file, line = split_source(first.source)
        others = sum(1 for other, _ in groups if getattr(other, "cron_secret", None) != own)
        nor = f" nor that of {others} other instance(s)" if others else ""
        found.append(
            Finding(
                "instance-secrets",
                "error",
                file,
                line,
                f"the Pingback instance declaring {_names(functions)} has its own cron secret, not the "
                f"project's (PINGBACK_CRON_SECRET){nor}: "
                "the platform signs every request with the project's one secret, so this instance "
                "answers 401 to all of them (see docs/parity.md#secrets)",
                'construct every instance with cron_secret=os.environ["PINGBACK_CRON_SECRET"]',
                first.name,
            )
        )
    if len(groups) > 1:
        first_of_second = groups[1][1][0]
        file, line = split_source(first_of_second.source)
        found.append(
            Finding(
                "several-instances",
                "warning",
                file,
                line,
                f"the functions are spread over {len(groups)} Pingback instances; production posts every "
                "function to one endpoint: one handler must serve them all (see docs/parity.md#secrets)",
                "declare every function on one shared instance (import it from one module), "
                "and serve it from one route",
                None,
            )
        )
    return found


def _names(functions: list[RawFunction]) -> str:
    shown = ", ".join(f'"{raw.name}"' for raw in functions[:3])
    return shown + (f" and {len(functions) - 3} more" if len(functions) > 3 else "")
