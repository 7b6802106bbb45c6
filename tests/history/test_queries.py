"""history.queries: the dashboard's read paths over a real SQLite history."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pingback_cli.history import queries
from pingback_cli.history.outline import outline
from pingback_cli.history.store import Store
from pingback_cli.models import Attempt, Execution, LogEntry

NOW = time.time()


def make(
    function: str,
    status: str = "success",
    *,
    parent: Execution | None = None,
    payload: object = None,
    logs: list[LogEntry] | None = None,
    error: str | None = None,
) -> Execution:
    execution = Execution(
        id=f"{function}-{time.perf_counter_ns()}",
        function=function,
        type="task",
        scheduled_at=NOW,
        payload=payload,
        has_payload=payload is not None,
        parent_id=parent.id if parent else None,
        root_id=parent.root_id if parent else "",
        depth=parent.depth + 1 if parent else 0,
        status=status,  # type: ignore[arg-type]
        attempt=1,
        attempts=[Attempt(1, status, NOW, NOW + 0.01, 10)],  # type: ignore[arg-type]
        logs=logs or [],
        error=error,
        started_at=NOW,
        completed_at=NOW + 0.01,
        duration_ms=10,
    )
    return execution


def test_roots_newest_first_with_counts_and_paging(store: Store) -> None:
    roots = [make("a") for _ in range(5)]
    for root in roots:
        store.save(root)
    store.save(make("child", "failed", parent=roots[0]))
    page = queries.runs(store, queries.RunQuery(limit=2))
    assert [row.id for row in page.rows] == [roots[4].id, roots[3].id]
    assert page.next_before is not None
    rest = queries.runs(store, queries.RunQuery(limit=10, before=page.next_before))
    assert [row.id for row in rest.rows] == [r.id for r in reversed(roots[:3])]
    assert rest.next_before is None
    oldest = rest.rows[-1]
    assert (oldest.descendants, oldest.failed_descendants) == (1, 1)


def test_failed_includes_trees_with_a_failed_child(store: Store) -> None:
    ok_root, bad_tree, bad_root = make("a"), make("b"), make("c", "failed")
    for execution in (ok_root, bad_tree, bad_root):
        store.save(execution)
    store.save(make("leaf", "failed", parent=bad_tree))
    found = queries.runs(store, queries.RunQuery(status="failed"))
    assert {row.id for row in found.rows} == {bad_tree.id, bad_root.id}
    assert [row.id for row in queries.runs(store, queries.RunQuery(status="success")).rows] == [
        bad_tree.id,
        ok_root.id,
    ]


def test_text_search_function_filter_and_all_executions(store: Store) -> None:
    root = make("a", payload={"order": "needle-42"})
    other = make("b", payload={"order": "hay"})
    store.save(root)
    store.save(other)
    child = make("leaf", parent=other, logs=[LogEntry(1, "info", "found 100% of it")])
    store.save(child)
    assert [r.id for r in queries.runs(store, queries.RunQuery(text="needle-42")).rows] == [root.id]
    # A match in a child finds its root; % is matched literally, not as a wildcard.
    assert [r.id for r in queries.runs(store, queries.RunQuery(text="100%")).rows] == [other.id]
    assert queries.runs(store, queries.RunQuery(text="1%0")).rows == []
    everything = queries.runs(store, queries.RunQuery(roots_only=False))
    assert [r.id for r in everything.rows] == [child.id, other.id, root.id]
    tree = queries.runs(store, queries.RunQuery(roots_only=False, root=other.id))
    assert {r.id for r in tree.rows} == {other.id, child.id}
    assert [r.id for r in queries.runs(store, queries.RunQuery(function="b")).rows] == [other.id]


def test_time_window_is_creation_time(store: Store) -> None:
    store.save(make("a"))
    assert len(queries.runs(store, queries.RunQuery(since=time.time() - 60)).rows) == 1
    assert queries.runs(store, queries.RunQuery(until=time.time() - 60)).rows == []


def test_histogram_counts_this_hour(store: Store) -> None:
    for status in ("success", "success", "failed", "running"):
        store.save(make("a", status))
    bars = queries.histogram(store, time.time())
    assert len(bars) == 24
    assert (bars[-1].success, bars[-1].failed, bars[-1].other) == (2, 1, 1)
    assert sum(bar.success for bar in bars[:-1]) == 0


def test_histogram_counts_only_the_filtered_functions_roots(store: Store) -> None:
    for function, status in (("a", "success"), ("a", "failed"), ("b", "success"), ("b", "success")):
        store.save(make(function, status))
    store.flush()
    cache = queries.HistogramCache()
    bars = queries.histogram(store, time.time(), cache, function="a")
    assert (bars[-1].success, bars[-1].failed, bars[-1].other) == (1, 1, 0)
    assert queries.histogram(store, time.time(), function="b")[-1].success == 2
    assert queries.histogram(store, time.time(), function="c")[-1].success == 0


def test_last_runs_names_and_recent_payloads(store: Store) -> None:
    root = make("a", payload={"n": 1})
    store.save(root)
    store.save(make("a", payload={"n": 2}))
    store.save(make("a", payload={"n": 1}))
    child = make("leaf", parent=root)
    store.save(child)
    last = queries.last_runs(store, ["a", "leaf", "never"])
    assert last["leaf"].id == child.id
    assert "never" not in last
    assert queries.function_names(store) == ["a", "leaf"]
    assert queries.recent_payloads(store, "a") == ['{"n":1}', '{"n":2}']


def test_log_lines_filter_and_page(store: Store) -> None:
    logs = [LogEntry(1000 + i, "error" if i % 2 else "info", f"line {i}") for i in range(5)]
    execution = make("a", logs=logs)
    store.save(execution)
    later = make("b", logs=[LogEntry(1, "info", "other")])
    later.started_at = NOW + 1
    store.save(later)
    errors, _ = queries.log_lines(store, level="error")
    assert [line.message for line in errors] == ["line 3", "line 1"]
    assert all(line.execution_id == execution.id for line in errors)
    first, cursor = queries.log_lines(store, limit=3)
    assert [line.message for line in first] == ["other", "line 4", "line 3"]
    rest, end = queries.log_lines(store, before=cursor, limit=10)
    assert [line.message for line in rest] == ["line 2", "line 1", "line 0"]
    assert end is None
    assert [line.message for line in queries.log_lines(store, text="other")[0]] == ["other"]


def test_outline_nests_children_in_creation_order(store: Store) -> None:
    root = make("root")
    store.save(root)
    first = make("b", parent=root)
    store.save(first)
    second = make("a", parent=root)
    store.save(second)
    grandchild = make("c", parent=first)
    store.save(grandchild)
    tree = outline(store, root.id)
    assert tree.root is not None and (tree.total, tree.shown) == (4, 4)
    assert [child.row.id for child in tree.root.children] == [first.id, second.id]
    assert tree.root.children[0].children[0].row.id == grandchild.id
    assert tree.root.children[0].attempts()[0].number == 1
    assert [node.row.id for node in tree.root.walk()] == [root.id, first.id, grandchild.id, second.id]
    assert outline(store, "missing").root is None


def test_an_outline_reads_the_start_of_each_payload_and_the_tree_shows_it(store: Store) -> None:
    from pingback_cli.dashboard.present import tree_html

    root = make("root")
    store.save(root)
    for payload in ({"order": 7}, {"blob": "<" * 500}):
        store.save(make("leaf", parent=root, payload=payload))
    store.save(make("bare", parent=root))
    tree = outline(store, root.id)
    assert tree.root is not None
    starts = [child.payload_start for child in tree.root.children]
    assert starts[0] == '{"order":7}' and starts[2] is None
    assert len(starts[1] or "") == 61  # one more than shown: there is more
    html = tree_html(tree, root.id)
    assert '<code class="preview">{&#34;order&#34;:7}</code>' in html
    assert "&lt;" * 40 in html and "<<" not in html and "\u2026</code>" in html
    assert html.count('class="preview"') == 2


def test_outline_caps_children_but_keeps_the_path_to_the_selected(store: Store) -> None:
    root = make("root")
    store.save(root)
    children = [make("leaf", parent=root) for _ in range(30)]
    for child in children:
        store.save(child)
    below = make("deep", parent=children[25])
    store.save(below)
    tree = outline(store, root.id, keep=below.id, per_parent=10, limit=1000)
    assert tree.root is not None and tree.total == 32
    shown = [child.row.id for child in tree.root.children]
    assert shown == [c.id for c in children[:10]] + [children[25].id]
    assert tree.root.hidden == 19
    assert tree.root.children[-1].children[0].row.id == below.id
    capped = outline(store, root.id, per_parent=100, limit=5)
    assert capped.shown == 5 and capped.root is not None and capped.root.hidden == 26


def test_unfinished_rows_of_a_dead_process_read_as_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with Store(path) as writer:
        writer.owner = "999999999:1"  # no such process
        writer.save(make("a", "running"))
    with Store(path, readonly=True) as reader:
        [row] = queries.runs(reader, queries.RunQuery()).rows
        assert row.status == "interrupted"


def test_histogram_cache_keeps_closed_hours_and_recounts_the_current_one(store: Store) -> None:
    cache = queries.HistogramCache(ttl=60)
    now = time.time()
    store.save(make("a"))
    assert queries.histogram(store, now, cache)[-1].success == 1
    store.save(make("a"))
    assert queries.histogram(store, now, cache)[-1].success == 2


def test_text_search_pages_through_windows(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 3)
    wanted = [make("a", payload={"k": "needle"}) for _ in range(2)]
    store.save(wanted[0])
    for _ in range(5):
        store.save(make("b", payload={"k": "hay"}))
    store.save(wanted[1])
    first = queries.runs(store, queries.RunQuery(text="needle"))
    assert [row.id for row in first.rows] == [wanted[1].id]
    assert first.next_before is not None
    second = queries.runs(store, queries.RunQuery(text="needle", before=first.next_before))
    assert second.rows == [] and second.next_before is not None
    third = queries.runs(store, queries.RunQuery(text="needle", before=second.next_before))
    assert [row.id for row in third.rows] == [wanted[0].id]
    assert third.next_before is None


def test_outline_sees_a_tree_grow_after_it_was_read(store: Store) -> None:
    root = make("root")
    store.save(root)
    store.save(make("leaf", parent=root))
    assert outline(store, root.id).total == 2
    late = make("late", parent=root)
    store.save(late)
    tree = outline(store, root.id)
    assert tree.total == 3 and tree.root is not None
    assert tree.root.children[-1].row.id == late.id


def timed(function: str, started: float | None, *, scheduled: float = NOW, **fields: object) -> Execution:
    """An execution that started at ``started`` (None: pending, due at ``scheduled``)."""
    execution = make(function, "success" if started is not None else "pending", **fields)  # type: ignore[arg-type]
    execution.scheduled_at, execution.started_at = scheduled, started
    if started is None:
        execution.attempts, execution.completed_at, execution.duration_ms = [], None, None
    return execution


def test_lists_are_in_the_order_of_the_time_they_show_not_of_creation(store: Store) -> None:
    # Created in this order; shown (started, else due) at 100, 50, 300 (due), 200.
    first = timed("first", NOW + 100)
    early = timed("early", NOW + 50)
    due = timed("due", None, scheduled=NOW + 300)
    late = timed("late", NOW + 200)
    for execution in (first, early, due, late):
        store.save(execution)
    expected = [due.id, late.id, first.id, early.id]
    assert [row.id for row in queries.runs(store, queries.RunQuery()).rows] == expected
    assert [summary.execution.id for summary in store.recent_roots()] == expected
    walked, cursor = [], None
    while True:  # one row a page: the cursor continues in the same order
        page = queries.runs(store, queries.RunQuery(limit=1, before=cursor))
        walked.extend(row.id for row in page.rows)
        if (cursor := page.next_before) is None:
            break
    assert walked == expected
    child = timed("child", NOW + 150, parent=first)
    store.save(child)
    everything = queries.runs(store, queries.RunQuery(roots_only=False))
    assert [row.id for row in everything.rows] == [due.id, late.id, child.id, first.id, early.id]
    assert queries.last_runs(store, ["first"])["first"].id == first.id


def test_log_lines_follow_the_time_their_executions_show(store: Store) -> None:
    delayed = timed("delayed", NOW + 13, logs=[LogEntry(13_039, "info", "at 13")])
    ticked = timed("tick", NOW, logs=[LogEntry(13, "info", "at 0"), LogEntry(14, "info", "at 0 again")])
    store.save(delayed)  # created first, ran later (a delayed trigger)
    store.save(ticked)
    lines, _ = queries.log_lines(store)
    assert [line.message for line in lines] == ["at 13", "at 0 again", "at 0"]
    walked, cursor = [], None
    while True:
        page, cursor = queries.log_lines(store, before=cursor, limit=1)
        walked.extend(line.message for line in page)
        if cursor is None:
            break
    assert walked == ["at 13", "at 0 again", "at 0"]


def test_an_outline_shows_failed_children_past_the_limit_and_counts_failures_below(store: Store) -> None:
    """A fan-out of 30 whose 26th child failed, cut at 10 a parent: the failure is listed after
    the first 10 (as the CLI's tree does), the hidden part says none of it failed, and the
    root knows one failure is below it; a child's outline counts only its own subtree."""
    root = make("root")
    store.save(root)
    children = [make("leaf", "failed" if n == 25 else "success", parent=root) for n in range(30)]
    for child in children:
        store.save(child)
    deeper = make("deep", "failed", parent=children[3])
    store.save(deeper)
    tree = outline(store, root.id, per_parent=10)
    assert tree.root is not None
    shown = [child.row.id for child in tree.root.children]
    assert shown == [c.id for c in children[:10]] + [children[25].id]
    assert (tree.root.hidden, tree.root.hidden_failed) == (19, 0)
    assert tree.failed_below == 2
    assert outline(store, root.id, keep=children[3].id).failed_below == 1
    assert outline(store, root.id, keep=children[4].id).failed_below == 0
    few = outline(store, root.id, per_parent=1)
    assert few.root is not None
    assert [child.row.id for child in few.root.children] == [children[0].id, children[25].id]
    assert (few.root.hidden, few.root.hidden_failed) == (28, 0)
