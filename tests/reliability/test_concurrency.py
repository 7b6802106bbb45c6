"""Concurrent use of one history file: readers while ``dev`` writes, two ``run``s at once, and a
history file that is locked, read-only or corrupt."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_support import (
    SETTLE,
    Result,
    cli_env,
    eventually,
    pingback_command,
    poll,
    record_tree,
    run_cli,
    run_in_process,
    walk,
    worker_pids,
)

from pingback_cli.history import rescue as rescue_module
from pingback_cli.history.store import Store

from .helpers import (
    FINISHED,
    HAS_PROC,
    assert_history_settled,
    assert_one_error_line,
    copy_misbehave,
    dev_server,
    history_db,
    history_rows,
    kill_workers,
)

pytestmark = pytest.mark.skipif(not HAS_PROC, reason="finds leftover worker processes through /proc")


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    copy = copy_misbehave(tmp_path)
    yield copy
    kill_workers(copy)


@pytest.fixture(scope="module")
def ran_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A project whose history holds one successful ``pingback run ok``, and that execution's
    id: made once per module, copied by each test that starts from it. A real run (not rows
    written here): the history then holds what a run writes besides its executions (the
    project's jobs), so a later run writes nothing before its first execution, as in use."""
    project = copy_misbehave(tmp_path_factory.mktemp("ran-once"))
    first = run_cli(project, "run", "ok", "--json")
    assert first.returncode == 0, first.brief()
    assert eventually(lambda: not worker_pids(project), SETTLE)
    return project, first.json()["executionId"]


@pytest.fixture
def with_a_run(ran_once: tuple[Path, str], tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A copy of its own of the project with one run in history, and that run's id."""
    template, first_id = ran_once
    copy = shutil.copytree(template, tmp_path / template.name)
    yield copy, first_id
    kill_workers(copy)


# --- readers while dev writes ----------------------------------------------------------------


def test_runs_and_show_in_a_loop_while_dev_writes_thousands(project: Path) -> None:
    """On a dev that started by moving a corrupt history aside (``dev`` is a writer too, as
    ``test_a_writer_moves_a_corrupt_history_aside_and_starts_afresh``'s run): the readers and
    the thousands of rows are on the fresh history."""
    (project / ".pingback").mkdir()
    garbage = corrupt(history_db(project))
    with dev_server(project) as dev:
        roots = [dev.trigger("fan-out-10k", {"count": 2500}) for _ in range(2)]
        readings: list[Result] = []
        stop, writes_done = threading.Event(), threading.Event()
        read_after_writes = [False, False]

        def read_forever(reader: int, run: Callable[..., Result], pause: float) -> None:
            while not stop.is_set() and not (read_after_writes[reader] and len(readings) >= 8):
                after = writes_done.is_set()
                readings.append(run(project, "runs", "--json", "--limit", "50"))
                readings.append(run(project, "show", roots[len(readings) // 2 % 2][:8], "--json"))
                read_after_writes[reader] = after
                stop.wait(pause)

        # One reader through the installed command, one through the same Click command in this
        # process (its own connections, in another process than dev's: the same locking, a
        # third of the CPU a reading, so it reads while the writes last, paced so as not to slow
        # them). The only one here that uses run_in_process, which changes the working folder:
        # the other threads name every folder they use.
        readers = [
            threading.Thread(target=read_forever, args=(reader, run, pause))
            for reader, (run, pause) in enumerate(((run_cli, 0.0), (run_in_process, 0.2)))
        ]
        for reader in readers:
            reader.start()
        try:
            for root in roots:
                dev.wait_root(root, "fan-out-10k", timeout=90)
            writes_done.set()
            # Each reader also reads the final state: it stops after a round begun after the
            # writes (once there are 8 readings in all); more rounds read the same again.
            poll(
                "a round of readings after the writes, by each reader",
                lambda: all(read_after_writes) and len(readings) >= 8,
                60,
                0.1,
            )
        finally:
            stop.set()
            for reader in readers:
                reader.join(60)
        assert dev.stop() == 0
        assert "the history file was corrupt: moved it to" in dev.output(limit=10**9)
    [kept] = list((project / ".pingback").glob("history.sqlite3.corrupt-*"))
    assert kept.read_bytes() == garbage, "the corrupt file is kept as it was"

    assert len(readings) >= 8, f"only {len(readings)} readings"
    seen_children = set()
    for reading in readings:
        assert reading.returncode == 0, reading.brief()
        assert reading.stderr == "", reading.brief()
        data = reading.json()
        if reading.args[0] == "show":
            assert data["executionId"] in roots
            seen_children.add(len(data["children"]))
            for node in walk(data):
                assert node["status"] in ("pending", "running", *FINISHED)
        else:
            assert isinstance(data, list)
    assert max(seen_children) == 2500
    rows = assert_history_settled(project)
    assert len(rows) == 2 * 2501
    assert {row["status"] for row in rows} == {"success"}


# --- two runs at once ------------------------------------------------------------------------


def test_two_runs_at_once_in_one_project(project: Path) -> None:
    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [pingback_command(), "run", "workflow", "--json"],
            cwd=project,
            env=cli_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    with start() as first:
        try:
            # The second starts while the first has rows running: its start-up recovery must
            # leave them alone (their owner is alive).
            poll(
                "the first run's slow step to be running",
                lambda: any(
                    row["function"] == "slow-step" and row["status"] == "running"
                    for row in history_rows(project)
                ),
                30,
                0.05,
            )
            with start() as second:
                try:
                    out_second, err_second = second.communicate(timeout=60)
                finally:
                    second.kill()
            out_first, err_first = first.communicate(timeout=60)
        finally:
            first.kill()
    shown = f"--- first ---\n{err_first}\n--- second ---\n{err_second}"
    assert (first.returncode, second.returncode) == (0, 0), shown
    assert "marked interrupted" not in err_first + err_second, shown
    trees = [json.loads(out_first), json.loads(out_second)]
    rows = assert_history_settled(project)
    assert {row["status"] for row in rows} == {"success"}
    for tree in trees:
        nodes = walk(tree)
        assert len(nodes) == 10 and {node["status"] for node in nodes} == {"success"}
        recorded = [row for row in rows if row["root_id"] == tree["executionId"]]
        assert len(recorded) == 10
    owners = {row["owner"] for row in rows}
    assert len(owners) == 2, "each run stamps its own rows"
    assert eventually(lambda: not worker_pids(project), SETTLE)


# --- a locked history ------------------------------------------------------------------------


LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
if sys.argv[2] == "until-killed":
    sys.stdin.read()  # the test closes stdin or kills us when its block ends
else:
    time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


@contextlib.contextmanager
def hold_lock(path: Path, seconds: float | None = None) -> Iterator[subprocess.Popen[str]]:
    """Another process holding an exclusive transaction on the history file for ``seconds``,
    or (``None``) until the block ends."""
    held = "until-killed" if seconds is None else str(seconds)
    with subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path), held],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None and process.stdout.readline().strip() == "locked"
            yield process
        finally:
            process.kill()


def test_a_lock_shorter_than_the_busy_timeout_is_waited_out(with_a_run: tuple[Path, str]) -> None:
    project, _ = with_a_run
    with hold_lock(history_db(project), 2):
        result = run_cli(project, "run", "ok", "--json")
    assert result.returncode == 0, result.brief()
    assert "Traceback" not in result.stderr, result.brief()
    recorded = {row["id"]: row["status"] for row in history_rows(project)}
    assert recorded[result.json()["executionId"]] == "success"


def test_readers_are_not_blocked_by_a_writer_lock(with_a_run: tuple[Path, str]) -> None:
    """WAL: ``runs`` and ``show`` read while another process holds the write lock (held until
    both have answered: a reader it blocked would give up after the busy timeout, exit 3).
    The readers run in this process: the lock is the other process's either way."""
    project, first_id = with_a_run
    with hold_lock(history_db(project)) as locker:
        listed = run_in_process(project, "runs", "--json")
        shown = run_in_process(project, "show", first_id, "--json")
        assert locker.poll() is None, "the lock was held the whole time"
    assert listed.returncode == 0, listed.brief()
    assert [row["executionId"] for row in listed.json()] == [first_id]
    assert shown.returncode == 0 and shown.json()["status"] == "success", shown.brief()


@pytest.mark.long(6)  # BUSY_TIMEOUT (5 s) waited out
def test_a_lock_held_past_the_busy_timeout_is_a_clear_error(with_a_run: tuple[Path, str]) -> None:
    """The run's rows cannot be written: it says so and exits 3 (it used to exit 0 with a
    traceback from a loop callback, the run silently missing from history)."""
    project, _ = with_a_run
    with hold_lock(history_db(project)) as locker:
        result = run_cli(project, "run", "ok", "--json")
        assert locker.poll() is None, "the lock was held the whole time"
    assert_one_error_line(result, 3, "it is locked by another process")
    assert "warning: history is not being saved" in result.stderr
    assert eventually(lambda: not worker_pids(project), SETTLE)


# --- a read-only history ---------------------------------------------------------------------


def without_root_privileges() -> tuple[str, ...]:
    """A prefix that makes a root process obey file permissions (drops CAP_DAC_OVERRIDE);
    nothing for other users. Skips when running as root without ``setpriv``."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root, which ignores file permissions, and setpriv is missing")
    prefix = (setpriv, "--bounding-set=-dac_override,-dac_read_search")
    probe = subprocess.run([*prefix, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"running as root and cannot drop CAP_DAC_OVERRIDE: {probe.stderr!r}")
    return prefix


@pytest.mark.parametrize("scope", ["file", "file-and-directory"])
def test_a_read_only_history_gives_a_clear_message(with_a_run: tuple[Path, str], scope: str) -> None:
    prefix = without_root_privileges()
    project, first_id = with_a_run
    state = project / ".pingback"
    before = history_db(project).read_bytes()
    targets = sorted(state.glob("history.sqlite3*"))
    for path in targets:
        path.chmod(0o444)
    if scope == "file-and-directory":
        state.chmod(0o555)
    try:
        ran = run_cli(project, "run", "ok", "--json", prefix=prefix)
        listed = run_cli(project, "runs", "--json", prefix=prefix)
    finally:
        state.chmod(0o755)
        for path in targets:
            path.chmod(0o644)
    assert_one_error_line(ran, 3, "readonly database")
    assert "writable" in ran.stderr
    # In a read-only folder SQLite cannot create the WAL index; history is read as immutable.
    assert listed.returncode == 0, listed.brief()
    assert [row["executionId"] for row in listed.json()] == [first_id]
    assert assert_history_settled(project)
    assert history_db(project).read_bytes() == before


# --- a corrupt history -----------------------------------------------------------------------


def corrupt(path: Path) -> bytes:
    garbage = b"this is not a database\n" * 2000
    for side in path.parent.glob(path.name + "-*"):
        side.unlink()
    path.write_bytes(garbage)
    return garbage


@pytest.mark.parametrize("command", [("runs",), ("runs", "--json"), ("show", "abc")])
def test_readers_of_a_corrupt_history_say_so_and_touch_nothing(
    with_a_run: tuple[Path, str], command: tuple[str, ...]
) -> None:
    project, _ = with_a_run
    garbage = corrupt(history_db(project))
    # `runs` through the installed command, its variants through the same Click command here.
    result = (run_cli if command == ("runs",) else run_in_process)(project, *command)
    assert_one_error_line(result, 3, "it is corrupt")
    assert "move it aside" in result.stderr
    assert history_db(project).read_bytes() == garbage
    assert not list((project / ".pingback").glob("*.corrupt-*"))


def test_a_writer_moves_a_corrupt_history_aside_and_starts_afresh(with_a_run: tuple[Path, str]) -> None:
    project, _ = with_a_run
    garbage = corrupt(history_db(project))
    result = run_cli(project, "run", "ok", "--json")
    assert result.returncode == 0, result.brief()
    [kept] = list((project / ".pingback").glob("history.sqlite3.corrupt-*"))
    assert kept.read_bytes() == garbage, "the corrupt file is kept as it was"
    assert f"the history file was corrupt: moved it to {kept}" in result.stderr
    assert [row["id"] for row in history_rows(project)] == [result.json()["executionId"]]
    listed = run_in_process(project, "runs", "--json")
    assert listed.returncode == 0 and len(listed.json()) == 1


def test_two_corrupt_histories_in_one_second_are_both_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rescue_module.time, "strftime", lambda *_: "20261128-101500")
    path = tmp_path / ".pingback" / "history.sqlite3"
    path.parent.mkdir()
    kept: list[bytes] = []
    for number in range(2):
        garbage = f"corrupt history number {number}\n".encode() * 500
        path.write_bytes(garbage)
        kept.append(garbage)
        Store(path).close()
        for side in path.parent.glob("history.sqlite3-*"):
            side.unlink()
    copies = sorted(p.read_bytes() for p in path.parent.glob("history.sqlite3.corrupt-*"))
    assert copies == sorted(kept)


def test_a_history_corrupted_behind_a_running_reader_is_reported(project: Path) -> None:
    """A reader that opened fine but meets a damaged page still answers with one line."""
    record_tree(project, "fan-out-10k", children=300)  # as `run fan-out-10k` of 300 records it
    path = history_db(project)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(path.read_bytes())
    for offset in range(page_size * 2, len(data), page_size * 3):  # header kept, pages broken
        data[offset : offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    result = run_in_process(project, "show", history_rows_first_id(project) or "0", "--json")
    assert result.returncode in (0, 2, 3), result.brief()
    assert "Traceback" not in result.stderr, result.brief()
    if result.returncode == 3:
        assert_one_error_line(result, 3, "history file")


def history_rows_first_id(project: Path) -> str | None:
    try:
        rows = history_rows(project)
    except sqlite3.DatabaseError:
        return None
    return rows[0]["id"] if rows else None
