"""fanout.children: one refusal check per task name and answer, pinned to ``refusal`` per child."""

from __future__ import annotations

from pingback_cli.engine.fanout import Limits, children, refusal
from pingback_cli.engine.ledger import Tree
from pingback_cli.models import Execution, FunctionSpec


def spec(name: str) -> FunctionSpec:
    return FunctionSpec(name, "task", None, 0, "30s", 30, 1)


def test_each_child_gets_what_refusal_says_for_it_alone() -> None:
    functions = {name: spec(name) for name in ("leaf", "held", "deep")}
    statuses = {"held": "paused"}
    asked: list[str] = []

    def status(name: str) -> str | None:
        asked.append(name)
        return statuses.get(name)

    names = ["leaf", "nope", "leaf", "held", 5, "", ["x"], "leaf", "held", "nope", "leaf"]
    tasks = [{"name": name, "payload": {"i": i}} for i, name in enumerate(names)]
    for depth, limits in ((0, Limits()), (3, Limits(max_depth=3))):  # the second: every child too deep
        parent = Execution(id=f"p{depth}", function="deep", type="task", scheduled_at=0.0, depth=depth)
        asked.clear()
        made = list(children(parent, tasks, Tree(parent), functions, status, limits, 1.0))
        assert [child.function for child, _ in made] == [str(name) for name in names]
        for name, (child, problem) in zip(names, made, strict=True):
            assert problem == refusal(name, child, functions, statuses.get, limits), child
        refused = [problem is not None for _, problem in made]
        assert refused == ([n not in ("leaf",) for n in names] if depth == 0 else [True] * len(names))
        if depth == 0:
            assert asked.count("leaf") == 1  # asked once for the answer, not once a child
