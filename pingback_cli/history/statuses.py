"""The status filter of a list, as a reader sees statuses: a ``running`` row whose owner process
is gone reads ``interrupted`` (``history.rows``), so ``--status interrupted`` finds it and
``--status running`` does not. Shared by ``Store.recent_roots`` (the CLI) and ``queries.runs``
(the dashboard and the API)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pingback_cli.history.owner import is_alive

Read = Callable[[str, Iterable[Any]], list[tuple[Any, ...]]]


def gone_owners(read: Read, own: str | None) -> list[str]:
    """The owners (``pid:start``) of ``running`` rows whose process no longer exists, other
    than ``own``; one liveness check per owner. The IN term lets the index of unfinished rows
    (``executions_queue``) find them instead of a scan of every row."""
    rows = read(
        "SELECT DISTINCT owner FROM executions WHERE status IN ('pending', 'running')"
        " AND status = 'running' AND owner IS NOT NULL",
        (),
    )
    return [owner for (owner,) in rows if owner != own and not is_alive(owner)]


def status_term(status: str, read: Read, own: str | None, alias: str = "r") -> tuple[str, list[Any]]:
    """The WHERE term (over ``alias``) and its parameters for one status other than ``failed``,
    as readers show it: ``interrupted`` also takes the running rows of a gone owner, ``running``
    leaves them out."""
    if status not in ("running", "interrupted"):
        return f"{alias}.status = ?", [status]
    gone = gone_owners(read, own)
    if not gone:
        return f"{alias}.status = ?", [status]
    marks = ", ".join("?" for _ in gone)
    if status == "running":
        return f"({alias}.status = 'running' AND {alias}.owner NOT IN ({marks}))", gone
    gone_running = f"({alias}.status = 'running' AND {alias}.owner IN ({marks}))"
    return f"({alias}.status = 'interrupted' OR {gone_running})", gone
