"""The engine's account of what is unfinished: executions by id and by function, trees (a root
and its fan-out) with their size and what is still open in them, who awaits a tree, and when
nothing at all is left (``drain``)."""

from __future__ import annotations

import asyncio

from pingback_cli.models import Execution
from pingback_cli.record import Record


class Tree(Record):
    __slots__ = _fields = ("root", "unfinished", "size")

    root: Execution
    unfinished: int
    size: int
    """Executions of the tree so far, finished or not (``Limits.max_executions_per_root``)."""

    def __init__(self, root: Execution, unfinished: int = 0, size: int = 0) -> None:
        self.root = root
        self.unfinished = unfinished
        self.size = size


class Ledger:
    """Unfinished executions and their trees. Counts only: the engine saves and reports."""

    def __init__(self) -> None:
        self.trees: dict[str, Tree] = {}
        self.unfinished: dict[str, Execution] = {}
        self._by_function: dict[str, int] = {}
        self._waiters: dict[str, list[asyncio.Future[Execution]]] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    def open(self, root: Execution, size: int = 0) -> Tree:
        """Start accounting for the tree under ``root`` (``size``: its executions already kept)."""
        tree = self.trees[root.id] = Tree(root, size=size)
        return tree

    def admit(self, execution: Execution) -> None:
        """``execution`` joins its (open) tree; unless it is finished, it is waited for."""
        tree = self.trees[execution.root_id]
        tree.size += 1
        if not execution.finished:
            tree.unfinished += 1
            self.unfinished[execution.id] = execution
            self._by_function[execution.function] = self._by_function.get(execution.function, 0) + 1
            self._idle.clear()

    def finish(self, execution: Execution) -> Execution | None:
        """``execution`` is finished: no longer waited for. Returns its tree's root when that was
        the tree's last unfinished execution (the tree's waiters are answered), else None."""
        if self.unfinished.pop(execution.id, None) is None:
            return None
        counts = self._by_function
        counts[execution.function] = counts.get(execution.function, 1) - 1
        tree = self.trees.get(execution.root_id)
        if tree is None:
            return None
        tree.unfinished -= 1
        done = None
        if tree.unfinished == 0:
            del self.trees[execution.root_id]
            done = tree.root
            for waiter in self._waiters.pop(tree.root.id, []):
                if not waiter.done():
                    waiter.set_result(tree.root)
        if not self.unfinished:
            self._idle.set()
        return done

    def unfinished_count(self, function: str) -> int:
        return self._by_function.get(function, 0)

    async def wait(self, root_id: str) -> Execution:
        """Until the whole tree under ``root_id`` has finished; KeyError for no such open tree."""
        if root_id not in self.trees:
            raise KeyError(root_id)
        future: asyncio.Future[Execution] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(root_id, []).append(future)
        return await future

    async def drain(self) -> None:
        """Until nothing is unfinished."""
        await self._idle.wait()

    def clear(self) -> None:
        """Forget everything (the engine stopped, keeping its queue in the store)."""
        self.unfinished.clear()
        self._by_function.clear()
        self.trees.clear()
        self._idle.set()
