"""A whole execution tree as a page shows it: the ids of every execution under a root, then
the light rows of the part shown (at most so many children under one execution and so many in
all, always with the path down to one of them)."""

from __future__ import annotations

from collections import OrderedDict

from pingback_cli.history.codec import load_attempts
from pingback_cli.history.rows import LIGHT, Liveness, RunRow, read_row
from pingback_cli.history.store import Store
from pingback_cli.models import Attempt, depth_first
from pingback_cli.record import Record


class OutlineNode(Record):
    """One execution of a tree as the tree view and the waterfall need it (no payload, only
    its first characters)."""

    __slots__ = _fields = ("row", "attempts_text", "children", "hidden", "hidden_failed", "payload_start")

    row: RunRow
    attempts_text: str
    children: list[OutlineNode]
    hidden: int
    """Children of this execution left out of the outline."""
    hidden_failed: int
    """How many of the ``hidden`` failed (failed children are shown past the limit, up to a
    second ``per_parent``)."""
    payload_start: str | None
    """The first ``PREVIEW`` characters of the payload as stored (JSON text), to tell siblings
    apart; None without a payload."""

    def __init__(
        self, row: RunRow, attempts_text: str, children: list[OutlineNode] | None = None, hidden: int = 0,
        hidden_failed: int = 0, payload_start: str | None = None,
    ) -> None:  # fmt: skip
        self.row = row
        self.attempts_text = attempts_text
        self.children = [] if children is None else children
        self.hidden = hidden
        self.hidden_failed = hidden_failed
        self.payload_start = payload_start

    def attempts(self) -> list[Attempt]:
        return load_attempts(self.attempts_text)

    def walk(self) -> list[OutlineNode]:
        """This node and the nodes below it in the outline, depth first."""
        return depth_first(self, lambda node: node.children)


class Outline(Record):
    __slots__ = _fields = ("root", "total", "shown", "failed_below")

    root: OutlineNode | None
    """None when the root is not in history."""
    total: int
    """Executions in the whole tree."""
    shown: int
    failed_below: int
    """Failed executions below the one the outline was made for (``keep``, else the root), at
    any depth, shown or not."""

    def __init__(self, root: OutlineNode | None, total: int, shown: int, failed_below: int = 0) -> None:
        self.root = root
        self.total = total
        self.shown = shown
        self.failed_below = failed_below


def outline(
    store: Store, root_id: str, *, keep: str | None = None, per_parent: int = 100, limit: int = 1_000
) -> Outline:
    """The tree under ``root_id`` as a page shows it, without payloads, results or logs:
    children in creation order, at most ``per_parent`` under one execution and ``limit`` in
    all, always with the path down to ``keep``, and the failed children of a parent whose
    children do not all fit added after the first ``per_parent`` (up to ``per_parent`` of them),
    as the CLI's tree lists them: a failure is never hidden among a thousand successes. Only
    the ids of the whole tree (and of its failed executions) are read (the ids kept while the
    tree does not grow); rows are read for the executions shown, so a tree of 10,000 costs
    about what one of 1,000 does."""
    parents, children = _links(store, root_id)
    if root_id not in parents:
        return Outline(None, 0, 0)
    failed = {
        execution_id
        for (execution_id,) in store.read(
            "SELECT id FROM executions WHERE root_id = ? AND status = 'failed'", (root_id,)
        )
    }
    on_path: dict[str | None, str] = {}
    """parent -> its child on the way down to ``keep``."""
    node_id = keep if keep in parents else None
    while node_id is not None:
        on_path[parents[node_id]] = node_id
        node_id = parents[node_id]
    chosen: list[str] = []
    hidden: dict[str, tuple[int, int]] = {}
    stack = [root_id]
    while stack:
        node_id = stack.pop()
        chosen.append(node_id)
        below = children.get(node_id, [])
        shown = below[: max(0, min(per_parent, limit - len(chosen)))]
        if len(shown) < len(below) and failed:
            shown += [child for child in below[len(shown) :] if child in failed][:per_parent]
        kept = on_path.get(node_id)
        if kept is not None and kept not in shown:
            shown = [*shown, kept]
        if len(shown) < len(below):
            left = set(below) - set(shown)
            hidden[node_id] = (len(left), len(left & failed))
        stack.extend(reversed(shown))
    nodes = _outline_nodes(store, chosen, hidden)
    for node_id in chosen:
        parent_id = parents[node_id]
        if parent_id is not None and parent_id in nodes:
            nodes[parent_id].children.append(nodes[node_id])
    top = keep if keep in parents else root_id
    below_top = sum(1 for execution_id in failed if _is_below(execution_id, top, parents))
    return Outline(nodes[root_id], len(parents), len(chosen), below_top)


def _is_below(execution_id: str, ancestor: str, parents: dict[str, str | None]) -> bool:
    """Whether ``ancestor`` is a parent, grandparent, ... of ``execution_id``."""
    node: str | None = parents.get(execution_id)
    while node is not None:
        if node == ancestor:
            return True
        node = parents.get(node)
    return False


_Links = tuple[dict[str, "str | None"], dict[str, list[str]]]
_LINKS: OrderedDict[tuple[str, str], tuple[int, _Links]] = OrderedDict()
"""(history file, root id) -> (tree size, links) of the trees read last. A tree's links never
change, it only grows, so its size (counted from an index) says whether they are current."""
LINKS_CACHED = 8
PREVIEW = 60
"""Characters of each payload an outline reads (one more, to know whether there is more)."""


def _links(store: Store, root_id: str) -> _Links:
    """Each execution's parent, and each parent's children in creation order."""
    [(size,)] = store.read("SELECT COUNT(*) FROM executions WHERE root_id = ?", (root_id,))
    key = (str(store.path), root_id)
    cached = _LINKS.get(key)
    if cached is not None and cached[0] == size:
        _LINKS.move_to_end(key)
        return cached[1]
    rows = store.read("SELECT seq, id, parent_id FROM executions WHERE root_id = ?", (root_id,))
    rows.sort()
    parents: dict[str, str | None] = {}
    children: dict[str, list[str]] = {}
    for _, execution_id, parent_id in rows:
        parents[execution_id] = parent_id
        if parent_id is not None:
            children.setdefault(parent_id, []).append(execution_id)
    _LINKS[key] = (len(rows), (parents, children))
    while len(_LINKS) > LINKS_CACHED:
        _LINKS.popitem(last=False)
    return parents, children


def _outline_nodes(
    store: Store, ids: list[str], hidden: dict[str, tuple[int, int]]
) -> dict[str, OutlineNode]:
    alive = Liveness(store)
    nodes: dict[str, OutlineNode] = {}
    for first in range(0, len(ids), 500):
        batch = ids[first : first + 500]
        marks = ", ".join("?" for _ in batch)
        for values in store.read(
            f"SELECT {LIGHT}, r.attempts, substr(r.payload, 1, {PREVIEW + 1}) FROM executions r"
            f" WHERE r.id IN ({marks})",
            batch,
        ):
            left, left_failed = hidden.get(values[0], (0, 0))
            nodes[values[0]] = OutlineNode(
                read_row(values, alive),
                values[15],
                hidden=left,
                hidden_failed=left_failed,
                payload_start=values[16],
            )
    return nodes
