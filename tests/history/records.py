"""Executions to store in the history tests: ``make`` one (a root, or a child of ``parent``),
``save_tree`` a whole tree. The ``path`` and ``store`` fixtures are the folder's conftest's."""

from __future__ import annotations

from pingback_cli.history.store import Store
from pingback_cli.models import Execution

T0 = 1_700_000_000.0


def make(
    execution_id: str,
    function: str = "job",
    *,
    parent: Execution | None = None,
    status: str = "success",
    **fields: object,
) -> Execution:
    execution = Execution(
        id=execution_id,
        function=function,
        type="task" if parent else "cron",
        scheduled_at=T0,
        status=status,  # type: ignore[arg-type]
        parent_id=parent.id if parent else None,
        root_id=parent.root_id if parent else "",
        depth=parent.depth + 1 if parent else 0,
        trigger="fanout" if parent else "run",
        **fields,  # type: ignore[arg-type]
    )
    if parent:
        parent.children.append(execution)
    return execution


def save_tree(store: Store, root: Execution) -> None:
    for execution in root.walk():
        store.save(execution)
    store.flush()
