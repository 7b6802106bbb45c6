"""A root execution as ``runs`` lists it: without its children, with counts over them."""

from __future__ import annotations

from typing import Any

from pingback_cli.models import Execution
from pingback_cli.record import Record


class RootSummary(Record):
    """A root execution (without children) and counts over everything below it."""

    __slots__ = _fields = (
        "execution", "descendants", "failed_descendants", "unfinished_descendants"
    )  # fmt: skip

    def __init__(
        self, execution: Execution, descendants: int, failed_descendants: int, unfinished_descendants: int
    ) -> None:
        self.execution = execution
        self.descendants = descendants
        self.failed_descendants = failed_descendants
        self.unfinished_descendants = unfinished_descendants

    def to_json(self) -> dict[str, Any]:
        """The root as ``run --json`` prints it, minus children, plus the counts."""
        data = self.execution.to_json(children=False)
        data["descendants"] = self.descendants
        data["failedDescendants"] = self.failed_descendants
        data["unfinishedDescendants"] = self.unfinished_descendants
        return data
