"""Fan-out after success: the child an ``ctx.task()`` request becomes, the guards against a
runaway (``Limits``), and why a request is refused rather than run."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pingback_cli.engine.ledger import Tree
from pingback_cli.models import Execution, FunctionSpec, new_id
from pingback_cli.record import FrozenRecord


class Limits(FrozenRecord):
    """Guards against runaway fan-out (a task that dispatches itself forever)."""

    __slots__ = _fields = ("max_depth", "max_executions_per_root")

    max_depth: int
    max_executions_per_root: int

    def __init__(self, max_depth: int = 25, max_executions_per_root: int = 50_000) -> None:
        self._set(max_depth, max_executions_per_root)

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Limits:
        """``max-depth`` and ``max-executions-per-root`` from ``[tool.pingback]``."""
        values: dict[str, int] = {}
        for key, attribute in (
            ("max-depth", "max_depth"),
            ("max-executions-per-root", "max_executions_per_root"),
        ):
            if key not in settings:
                continue
            value = settings[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                from pingback_cli.errors import ProjectError

                raise ProjectError(
                    f"[tool.pingback] {key} must be a whole number of at least 1, got {value!r}"
                )
            values[attribute] = value
        return cls(**values)


def task_request(request: Any) -> tuple[Any, Any]:
    """(name, payload) of one entry of an answer's ``tasks``, None for what it lacks."""
    if not isinstance(request, dict):
        return None, None
    return request.get("name"), request.get("payload")


def child_of(
    parent: Execution, name: Any, payload: Any, now: float, functions: Mapping[str, FunctionSpec]
) -> Execution:
    """The child execution a task request of ``parent``'s answer asks for, due ``now`` (its name
    and payload as given: ``refusal`` says whether it may run). Its type is its function's, also
    when it is refused (depth, a paused job); None only for a name no function has."""
    spec = functions.get(name) if isinstance(name, str) else None
    return Execution(
        id=new_id(),
        function=str(name),
        type=spec.type if spec is not None else None,
        scheduled_at=now,
        payload=payload,
        has_payload=payload is not None,
        parent_id=parent.id,
        root_id=parent.root_id,
        depth=parent.depth + 1,
        trigger="fanout",
        due_at=now,
    )


def children(
    parent: Execution,
    tasks: list[Any],
    tree: Tree,
    functions: Mapping[str, FunctionSpec],
    job_status: Callable[[str], str | None] | None,
    limits: Limits,
    now: float,
) -> Iterator[tuple[Execution, str | None]]:
    """Each child ``parent``'s ``tasks`` ask for, with the reason it is refused (None: it runs),
    appended to ``parent.children``. The caller admits each before asking for the next: once
    ``tree`` holds ``max_executions_per_root`` executions, one refusal stands for every request
    left and nothing more is yielded (a runaway must not write 10,000 refusals)."""
    limit = limits.max_executions_per_root
    runnable: set[str] = set()  # names refusal passed: the same answer for every child of one answer
    for index, request in enumerate(tasks):
        name, payload = task_request(request)
        child = child_of(parent, name, payload, now, functions)
        parent.children.append(child)
        if tree.size >= limit:
            yield child, over_limit(limit, len(tasks) - index)
            return
        if type(name) is str and name in runnable:
            yield child, None  # its depth is its siblings': refusal passed it already
            continue
        problem = refusal(name, child, functions, job_status, limits)
        if problem is None:
            runnable.add(name)
        yield child, problem


def over_limit(limit: int, dropped: int) -> str:
    """The one refusal recorded when a tree has used all ``limit`` executions: ``dropped`` requests
    of this answer are not run. It states the limit that held, not a total that reads as if it
    did not."""
    return (
        f"fan-out limit reached: this run has used all {limit} executions that "
        f"max-executions-per-root allows; {dropped} task request"
        f"{'s' if dropped != 1 else ''} from this execution were dropped"
    )


def refusal(
    name: Any,
    child: Execution,
    functions: Mapping[str, FunctionSpec],
    job_status: Callable[[str], str | None] | None,
    limits: Limits,
) -> str | None:
    """Why the task request for ``name`` may not run as ``child`` (its error), or None."""
    if not isinstance(name, str) or not name:
        return f"ctx.task() was given {name!r} as the task name; it must be a non-empty string"
    if name not in functions:
        known = ", ".join(sorted(functions)) or "none"
        return f'task "{name}" is not registered: no cron or task has that name (known: {known})'
    status = job_status(name) if job_status is not None else None
    if status in ("paused", "inactive"):
        return (
            f'task "{name}" is {status}: the platform skips a fan-out to it with only a log line '
            "(runpingback/worker internal/processor/fanout.go:17-21 finds only active jobs); "
            "`pingback resume` makes it active"
        )
    if child.depth > limits.max_depth:
        return (
            f"fan-out depth limit reached: this child would be {child.depth} levels deep "
            f"(max-depth = {limits.max_depth}); does a task dispatch itself?"
        )
    return None
