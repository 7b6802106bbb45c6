from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from history.records import T0, make, save_tree
from pingback_cli.errors import HistoryError, UsageError
from pingback_cli.history.recovery import mark_interrupted, recover
from pingback_cli.history.schema import SCHEMA_VERSION
from pingback_cli.history.store import Store, history_path
from pingback_cli.models import Attempt, LogEntry


def test_history_path_and_gitignore(tmp_path: Path) -> None:
    path = history_path(tmp_path)
    assert path == tmp_path / ".pingback" / "history.sqlite3"
    Store(path).close()
    assert path.exists()
    assert (tmp_path / ".pingback" / ".gitignore").read_text() == "*\n"


def test_existing_gitignore_is_kept(path: Path) -> None:
    path.parent.mkdir()
    (path.parent / ".gitignore").write_text("mine\n")
    Store(path).close()
    assert (path.parent / ".gitignore").read_text() == "mine\n"


def test_schema_version_and_wal(path: Path) -> None:
    Store(path).close()
    Store(path).close()  # reopening does not migrate again
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_round_trip_of_a_three_level_tree(store: Store) -> None:
    root = make(
        "aaaa0001",
        "nightly-report",
        status="running",
        has_payload=True,
        payload={"text": "héllo [bold]wörld[/bold] ✓", "n": [1, 2.5, None]},
        attempt=2,
        started_at=T0 + 1.5,
        logs=[LogEntry(1_700_000_001_000, "info", "日本語 [red]x[/red]", {"k": "v"})],
        attempts=[
            Attempt(
                1,
                "failed",
                T0 + 1.5,
                T0 + 2.25,
                750,
                500,
                "boom",
                "Traceback ...",
                [LogEntry(1_700_000_001_500, "error", "first try")],
            ),
            Attempt(2, "running", T0 + 3.0),
        ],
    )
    child = make(
        "aaaa0002",
        "send",
        parent=root,
        result={"sent": "ünïcode"},
        http_status=200,
        duration_ms=12,
        completed_at=T0 + 4.125,
    )
    make("aaaa0003", "deliver", parent=child, status="failed", error="no route [x]")
    make("aaaa0004", "deliver", parent=child, result=[1, 2])
    make("aaaa0005", "send", parent=root, replay_of="ffff0000")
    save_tree(store, root)

    loaded = store.tree("aaaa0001")
    assert loaded == root
    assert [e.id for e in loaded.walk()] == [e.id for e in root.walk()]
    assert loaded.children[0].children[0].depth == 2
    assert loaded.children[0].children[1].root_id == "aaaa0001"
    assert loaded.attempts[0].logs[0].message == "first try"

    subtree = store.tree("aaaa0002")
    assert [e.id for e in subtree.walk()] == ["aaaa0002", "aaaa0003", "aaaa0004"]

    single = store.get("aaaa0002")
    assert single.children == []
    assert single.result == {"sent": "ünïcode"}


def test_payload_none_is_distinct_from_no_payload(store: Store) -> None:
    store.save(make("bbbb0001", has_payload=True, payload=None))
    store.save(make("bbbb0002"))
    store.save(make("bbbb0003", has_payload=True, payload=0))
    assert store.get("bbbb0001").has_payload is True
    assert store.get("bbbb0001").payload is None
    assert store.get("bbbb0002").has_payload is False
    assert store.get("bbbb0003").payload == 0


def test_unserialisable_result_is_stored_as_repr(store: Store) -> None:
    class Thing:
        def __repr__(self) -> str:
            return "<Thing>"

    store.save(make("cccc0001", result=Thing()))
    store.save(make("cccc0002", result={"nested": {1, 2}}))
    store.flush()
    assert store.get("cccc0001").result == "<Thing>"
    assert store.get("cccc0002").result == "{'nested': {1, 2}}"


def test_upsert_keeps_latest_state_and_creation_order(store: Store) -> None:
    root = make("dddd0001", status="running")
    first = make("dddd0002", parent=root, status="pending")
    second = make("dddd0003", parent=root, status="pending")
    save_tree(store, root)

    # Re-saving the first child later must not move it after the second.
    first.status = "success"
    first.result = {"v": 2}
    store.save(first)
    first.attempt = 1
    store.save(first)
    store.flush()
    second.status = "failed"
    store.save(second)
    store.flush()

    tree = store.tree("dddd0001")
    assert [c.id for c in tree.children] == ["dddd0002", "dddd0003"]
    assert tree.children[0].status == "success"
    assert tree.children[0].result == {"v": 2}
    assert tree.children[0].attempt == 1
    assert tree.children[1].status == "failed"
    assert store.count() == 3


def test_creation_order_survives_reopening(path: Path) -> None:
    with Store(path) as first:
        first.save(make("eeee0001"))
    with Store(path) as second:
        second.save(make("0000eeee"))
        second.save(make("eeee0001", status="failed"))  # re-save keeps its place
    with Store(path, readonly=True) as reader:
        assert [s.execution.id for s in reader.recent_roots()] == ["0000eeee", "eeee0001"]


def test_get_missing_raises_usage_error(store: Store) -> None:
    with pytest.raises(UsageError, match="no execution"):
        store.get("nope")


def test_resolve_prefixes(store: Store) -> None:
    for execution_id in ("ab120000", "ab340000", "ab350000", "cd000000", "cd0000001"):
        store.save(make(execution_id))
    assert store.resolve("ab1") == "ab120000"
    assert store.resolve("AB12") == "ab120000"
    assert store.resolve("ab120000") == "ab120000"
    # An exact id wins even when it is also a prefix of another id.
    assert store.resolve("cd000000") == "cd000000"

    with pytest.raises(UsageError) as ambiguous:
        store.resolve("ab")
    assert ambiguous.value.message.startswith('"ab" matches 3 executions: ab120000')
    assert "ab340000" in ambiguous.value.message
    assert ambiguous.value.message.endswith("type more characters")

    with pytest.raises(UsageError, match='no execution matches "ef"'):
        store.resolve("ef")
    for bad in ("", "xyz", "ab%", "ab_"):
        with pytest.raises(UsageError, match="not an execution id"):
            store.resolve(bad)
    with pytest.raises(UsageError):
        store.tree("ab")


def test_resolve_prefix_ending_in_f_and_dash(store: Store) -> None:
    for execution_id in ("e9", "ff-00001", "f-1", "g0", "9z", "a0"):
        store.save(make(execution_id))
    assert store.resolve("ff") == "ff-00001"
    assert store.resolve("ff-") == "ff-00001"
    assert store.resolve("f-") == "f-1"
    assert store.resolve("9") == "9z"
    with pytest.raises(UsageError, match='"f" matches 2 executions'):
        store.resolve("f")


def test_recent_roots_order_limit_filters_and_counts(store: Store) -> None:
    old = make("1000", "a")
    make("1001", parent=old, status="failed")
    make("1002", parent=old, status="success")
    middle = make("2000", "b", status="failed")
    running = make("2001", parent=middle, status="running")
    make("2002", parent=running, status="pending")
    make("2003", parent=running, status="failed")
    new = make("3000", "a", status="running")
    for root in (old, middle, new):
        save_tree(store, root)

    summaries = store.recent_roots()
    assert [s.execution.id for s in summaries] == ["3000", "2000", "1000"]
    counts = {
        s.execution.id: (s.descendants, s.failed_descendants, s.unfinished_descendants) for s in summaries
    }
    assert counts == {"3000": (0, 0, 0), "2000": (3, 1, 2), "1000": (2, 1, 0)}
    assert all(s.execution.children == [] for s in summaries)

    assert [s.execution.id for s in store.recent_roots(2)] == ["3000", "2000"]
    assert [s.execution.id for s in store.recent_roots(function="a")] == ["3000", "1000"]
    # "failed" also takes a run whose children failed (1000 succeeded, its child did not).
    assert [s.execution.id for s in store.recent_roots(status="failed")] == ["2000", "1000"]
    assert [s.execution.id for s in store.recent_roots(function="a", status="running")] == ["3000"]
    assert store.recent_roots(function="missing") == []
    assert store.recent_roots(0) == []


def test_mark_interrupted_all(store: Store) -> None:
    root = make("4000", status="running", started_at=T0, attempt=1)
    root.attempts = [Attempt(1, "running", T0)]
    pending = make("4001", parent=root, status="pending")
    done = make("4002", parent=root, status="success", completed_at=T0 + 1)
    done.attempts = [Attempt(1, "success", T0, T0 + 1)]
    save_tree(store, root)

    assert mark_interrupted(store, reason="interrupted by Ctrl-C") == 2
    tree = store.tree("4000")
    assert tree.status == "interrupted"
    assert tree.error == "interrupted by Ctrl-C"
    assert tree.completed_at is not None and tree.completed_at > T0
    assert tree.duration_ms is not None and tree.duration_ms > 0
    assert tree.attempts[0].status == "interrupted"
    assert tree.attempts[0].completed_at == tree.completed_at
    assert tree.attempts[0].error == "interrupted by Ctrl-C"
    assert tree.children[0].status == "interrupted"
    assert tree.children[0].id == pending.id
    assert tree.children[1].status == "success"
    assert tree.children[1].attempts[0].status == "success"
    assert mark_interrupted(store, reason="again") == 0


def test_mark_interrupted_only_given_ids_and_unflushed(store: Store) -> None:
    store.save(make("5000", status="running"))
    store.save(make("5001", status="running"))
    store.save(make("5002", status="success"))
    # Still buffered: mark_interrupted must see them.
    assert mark_interrupted(store, ["5001", "5002", "missing"], reason="crashed") == 1
    assert store.get("5000").status == "running"
    assert store.get("5001").status == "interrupted"
    assert store.get("5002").status == "success"


def test_reader_sees_only_flushed_data(path: Path) -> None:
    with Store(path) as writer:
        writer.save(make("6000"))
        writer.flush()
        writer.save(make("6001"))
        with Store(path, readonly=True) as reader:
            assert reader.count() == 1
            assert [s.execution.id for s in reader.recent_roots()] == ["6000"]
            with pytest.raises(UsageError):
                reader.get("6001")
            writer.flush()
            assert reader.count() == 2
            assert reader.get("6001").id == "6001"


def test_readonly_store_refuses_writes(path: Path) -> None:
    Store(path).close()
    with Store(path, readonly=True) as reader:
        with pytest.raises(HistoryError, match="read-only"):
            reader.save(make("7000"))
        with pytest.raises(HistoryError, match="read-only"):
            mark_interrupted(reader, reason="x")


def test_missing_file_in_readonly_mode(path: Path) -> None:
    with pytest.raises(HistoryError, match="no history yet") as raised:
        Store(path, readonly=True)
    assert raised.value.hint == "run `pingback run NAME` or `pingback dev` first"
    assert not path.parent.exists()


def test_empty_file_in_readonly_mode(path: Path) -> None:
    path.parent.mkdir()
    path.touch()
    with pytest.raises(HistoryError, match="no history yet"):
        Store(path, readonly=True)


def test_corrupt_file_is_reported_to_readers(path: Path) -> None:
    path.parent.mkdir()
    path.write_bytes(b"this is not a database at all\x00\xff" * 200)
    with pytest.raises(HistoryError) as raised:
        Store(path, readonly=True)
    assert str(path) in raised.value.message
    assert "corrupt" in raised.value.message
    assert raised.value.hint


def test_corrupt_file_is_moved_aside_never_deleted(path: Path) -> None:
    garbage = b"this is not a database at all\x00\xff" * 200
    path.parent.mkdir()
    path.write_bytes(garbage)
    store = Store(path)
    try:
        assert store.moved_aside is not None
        assert store.moved_aside.read_bytes() == garbage
        assert store.moved_aside.name.startswith("history.sqlite3.corrupt-")
        store.save(make("a1"))
        store.flush()
        assert store.count() == 1
    finally:
        store.close()


def test_recover_marks_only_executions_of_dead_processes(path: Path) -> None:
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    dead_pid = int(dead.stdout)
    crashed = Store(path)
    crashed.owner = f"{dead_pid}:1"
    orphan = make("d1", status="running")
    crashed.save(orphan)
    crashed.close()
    alive = Store(path)
    mine = make("a2", status="running")
    alive.save(mine)
    alive.flush()
    try:
        assert recover(alive) == 1
        assert alive.get(orphan.id).status == "interrupted"
        assert "stopped unexpectedly" in (alive.get(orphan.id).error or "")
        assert alive.get(mine.id).status == "running"
    finally:
        alive.close()


def test_newer_schema_is_refused(path: Path) -> None:
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    for readonly in (False, True):
        with pytest.raises(HistoryError, match="newer pingback"):
            Store(path, readonly=readonly)


def test_unwritable_directory(tmp_path: Path) -> None:
    (tmp_path / ".pingback").write_text("a file where the directory should be")
    with pytest.raises(HistoryError, match="cannot create the history directory"):
        Store(history_path(tmp_path))


def test_twenty_thousand_executions(store: Store) -> None:
    root = make("f0000000-root", status="running")
    store.save(root)
    for number in range(20_000):
        child = make(
            f"c{number:07d}",
            "child",
            parent=root,
            status="failed" if number % 10 == 0 else "success",
            has_payload=True,
            payload={"n": number},
        )
        store.save(child)
    root.children.clear()
    store.flush()

    assert store.count() == 20_001
    [summary] = store.recent_roots()
    assert summary.execution.id == root.id
    assert summary.descendants == 20_000
    assert summary.failed_descendants == 2_000
    assert summary.unfinished_descendants == 0
    tree = store.tree("f0000000")
    assert len(tree.children) == 20_000
    assert tree.children[0].id == "c0000000"
    assert tree.children[-1].payload == {"n": 19_999}


def test_a_version_1_history_is_migrated_and_keeps_its_rows(path: Path) -> None:
    from pingback_cli.history.schema import MIGRATIONS

    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute(
        "INSERT INTO executions (id, seq, root_id, function, status, scheduled_at)"
        " VALUES ('old1', 1, 'old1', 'job', 'success', 0)"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Store(path, readonly=True) as reader:
        assert reader.get("old1").status == "success"
    with Store(path) as store:
        assert store.get("old1").function == "job"
        columns = [row[1] for row in store._conn.execute("PRAGMA table_info(executions)")]
        assert {"owner", "due_at", "queue"} <= set(columns)
        assert store._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 10
        indexes = {row[1] for row in store._conn.execute("PRAGMA index_list(executions)")}
        assert {"executions_roots_listed", "executions_listed", "executions_function_listed"} <= indexes
        assert "executions_queue" in indexes
        assert (
            not {"executions_function", "executions_roots_at", "executions_at", "executions_unfinished"}
            & indexes
        )
        assert store._conn.execute("SELECT listed_at FROM executions").fetchone()[0] == 0  # backfilled


def test_recover_ends_a_killed_attempt_when_it_was_last_seen_not_now(path: Path) -> None:
    import subprocess
    import sys

    from pingback_cli.models import Attempt, LogEntry

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    crashed = Store(path)
    crashed.owner = f"{int(dead.stdout)}:1"
    logged = make("k1", status="running", started_at=T0, attempt=1)
    logged.attempts = [Attempt(1, "running", T0, logs=[LogEntry(int((T0 + 0.5) * 1000), "info", "busy")])]
    silent = make("k2", status="running", started_at=T0, attempt=1)
    silent.attempts = [Attempt(1, "running", T0)]
    crashed.save(logged)
    crashed.save(silent)
    crashed.close()
    with Store(path) as later:  # opened long after T0: "now" is not when they stopped
        assert recover(later) == 2
        found = later.get(logged.id)
        assert (found.completed_at, found.duration_ms, found.attempts[0].duration_ms) == (T0 + 0.5, 500, 500)
        quiet = later.get(silent.id)
        assert quiet.status == "interrupted"
        assert (quiet.completed_at, quiet.duration_ms, quiet.attempts[0].completed_at) == (None, None, None)


@pytest.mark.long(7)
def test_processes_opening_a_new_history_at_once_all_get_it(tmp_path: Path) -> None:
    """`pingback run`s started together in a new project race to switch the new file to WAL;
    SQLite answers a loser "database is locked" at once (about 1 open in 30 here, before the
    retry), so opening tries again until the busy timeout. 24 rounds of six openers: six
    processes, each opening the round's new file at the round's instant (one interpreter start
    each, not one per open: the race is between the opens, not the starts)."""
    import subprocess
    import sys
    import time

    rounds = 24
    opener = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from pingback_cli.history.connection import open_connection\n"
        "start = float(sys.argv[2])\n"
        "for round_ in range(int(sys.argv[3])):\n"
        "    time.sleep(max(0.0, start + 0.1 * round_ - time.time()))\n"
        "    path = Path(sys.argv[1]) / str(round_) / '.pingback' / 'history.sqlite3'\n"
        "    open_connection(path, readonly=False)[0].close()\n"
    )
    start = time.time() + 1.0  # the first instant, past the six interpreters' start
    command = [sys.executable, "-c", opener, str(tmp_path), str(start), str(rounds)]
    processes = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(6)]
    ended = [(process.wait(timeout=60), process.communicate()[1]) for process in processes]
    assert [code for code, _ in ended] == [0] * 6, ended
    for round_ in range(rounds):
        with contextlib.closing(
            sqlite3.connect(tmp_path / str(round_) / ".pingback" / "history.sqlite3")
        ) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_simulated_and_cancelled_before_start_runs_are_listed_when_recorded_or_cancelled(path: Path) -> None:
    """Runs on a simulated clock sit where they were recorded, and a delayed run cancelled
    before it was due where it was cancelled, not at their future times; --trigger filters."""
    import time

    now = time.time()
    sim, gone, real, wait = (
        make("sim1", started_at=now + 86400),
        make("gone1", status="cancelled", completed_at=now + 1),
        make("real1", started_at=now + 2),
        make("wait1", status="pending"),  # due in a minute: shown (and listed) as due
    )
    sim.scheduled_at, gone.scheduled_at, real.scheduled_at, wait.scheduled_at = (
        now + 86400,
        now + 3600,
        now,
        now + 60,
    )
    with Store(path, root_trigger="simulate", simulated=True) as simulation:
        simulation.save(sim)
    with Store(path) as writer:
        writer.save(gone)
        writer.save(real)
        writer.save(wait)
    with Store(path, readonly=True) as reader:
        assert [s.execution.id for s in reader.recent_roots()] == ["wait1", "real1", "gone1", "sim1"]
        assert [s.execution.id for s in reader.recent_roots(trigger="simulate")] == ["sim1"]
        assert reader.get("sim1").started_at == now + 86400  # the simulated times are kept


def test_migration_8_lists_existing_simulated_and_cancelled_runs_by_when_recorded(path: Path) -> None:
    from pingback_cli.history.schema import MIGRATIONS

    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:7]:
        conn.executescript(script)
    conn.executescript(
        "INSERT INTO executions (id, seq, root_id, function, status, scheduled_at, started_at, completed_at,"
        ' "trigger") VALUES'
        " ('sim', 5000000, 'sim', 'f', 'success', 9e9, 9e9, 9e9, 'simulate'),"
        " ('kid', 5000001, 'sim', 'f', 'success', 9e9, 9e9, 9e9, 'fanout'),"
        " ('gone', 6000000, 'gone', 'f', 'cancelled', 9e9, NULL, 7, 'trigger'),"
        " ('ran', 7000000, 'ran', 'f', 'success', 1, 8, 9, 'run');"
        "PRAGMA user_version = 7;"
    )
    conn.close()
    with Store(path) as store:
        listed = dict(store._conn.execute("SELECT id, listed_at FROM executions").fetchall())
    assert listed == {"sim": 5.0, "kid": 5.000001, "gone": 7.0, "ran": 8.0}
