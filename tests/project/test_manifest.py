"""The manifest cache and the history id lookup that shell completion reads."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from pingback_cli.cli.completion import history_ids
from pingback_cli.history.store import Store, history_path
from pingback_cli.models import Execution, FunctionSpec
from pingback_cli.project.manifest import manifest_path, project_root, read_manifest, write_manifest


def spec(name: str, kind: str = "task", schedule: str | None = None) -> FunctionSpec:
    return FunctionSpec(
        name=name,
        type=kind,  # type: ignore[arg-type]
        schedule=schedule,
        retries=0,
        timeout=None,
        timeout_seconds=30,
        concurrency=1,
    )


def test_write_then_read_lists_name_type_and_schedule_sorted(tmp_path: Path) -> None:
    assert write_manifest(tmp_path, [spec("send-email"), spec("digest", "cron", "0 9 * * *")])
    assert read_manifest(tmp_path) == [
        {"name": "digest", "type": "cron", "schedule": "0 9 * * *"},
        {"name": "send-email", "type": "task", "schedule": None},
    ]
    data = json.loads(manifest_path(tmp_path).read_text(encoding="utf-8"))
    assert data["version"] == 1


def test_write_creates_a_self_ignoring_state_dir_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    write_manifest(tmp_path, [spec("a")])
    write_manifest(tmp_path, [spec("b")])
    state = tmp_path / ".pingback"
    assert sorted(p.name for p in state.iterdir()) == [".gitignore", "manifest.json"]
    assert (state / ".gitignore").read_text(encoding="utf-8") == "*\n"
    assert [entry["name"] for entry in read_manifest(tmp_path)] == ["b"]


def test_manifest_is_readable_by_others(tmp_path: Path) -> None:
    write_manifest(tmp_path, [spec("a")])
    assert manifest_path(tmp_path).stat().st_mode & 0o777 == 0o666 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_an_unwritable_project_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / ".pingback"
    blocker.write_text("a file where the state folder should be", encoding="utf-8")
    assert write_manifest(tmp_path, [spec("a")]) is False
    assert read_manifest(tmp_path) == []


@pytest.mark.parametrize(
    "content",
    ["", "not json", "[]", '{"functions": 3}', '{"functions": [1, {"name": ""}, {"type": "task"}]}'],
)
def test_a_damaged_manifest_reads_as_empty(tmp_path: Path, content: str) -> None:
    manifest_path(tmp_path).parent.mkdir()
    manifest_path(tmp_path).write_text(content, encoding="utf-8")
    assert read_manifest(tmp_path) == []


def test_project_root_is_the_nearest_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    nested = tmp_path / "app" / "jobs"
    nested.mkdir(parents=True)
    assert project_root(nested) == tmp_path
    assert project_root(tmp_path) == tmp_path


def history(root: Path, ids: list[tuple[str, str | None]]) -> None:
    with Store(history_path(root)) as store:
        for execution_id, parent in ids:
            store.save(
                Execution(
                    id=execution_id,
                    function="f",
                    type="task",
                    scheduled_at=0.0,
                    parent_id=parent,
                    root_id=parent or execution_id,
                )
            )


IDS = [
    ("3f2a0000-0000-4000-8000-000000000001", None),
    ("3f2a0000-0000-4000-8000-000000000002", "3f2a0000-0000-4000-8000-000000000001"),
    ("3f2b0000-0000-4000-8000-000000000003", None),
    ("a1000000-0000-4000-8000-000000000004", None),
]


def test_history_ids_match_a_prefix_over_every_execution(tmp_path: Path) -> None:
    history(tmp_path, IDS)
    assert history_ids(tmp_path, "3f2a") == [IDS[0][0], IDS[1][0]]
    assert history_ids(tmp_path, "3F2B") == [IDS[2][0]]
    assert history_ids(tmp_path, "ff") == []


def test_history_ids_for_an_empty_word_are_the_newest_roots(tmp_path: Path) -> None:
    history(tmp_path, IDS)
    assert history_ids(tmp_path, "") == [IDS[3][0], IDS[2][0], IDS[0][0]]


@pytest.mark.parametrize("prefix", ["--json", "zz", "3f2a'; drop table executions; --"])
def test_history_ids_ignore_words_that_cannot_be_ids(tmp_path: Path, prefix: str) -> None:
    history(tmp_path, IDS)
    assert history_ids(tmp_path, prefix) == []


def test_history_ids_create_no_file(tmp_path: Path) -> None:
    assert history_ids(tmp_path, "") == []
    assert list(tmp_path.iterdir()) == []
    history(tmp_path, IDS)
    before = sorted(p.name for p in (tmp_path / ".pingback").iterdir())
    assert "history.sqlite3-wal" not in before  # the writer closed: no log left behind
    assert history_ids(tmp_path, "3f")
    assert sorted(p.name for p in (tmp_path / ".pingback").iterdir()) == before


def test_history_ids_see_what_a_live_writer_has_not_checkpointed(tmp_path: Path) -> None:
    history(tmp_path, IDS[:1])
    writer = sqlite3.connect(history_path(tmp_path))
    try:
        writer.execute("PRAGMA journal_mode = WAL")
        writer.execute(
            "INSERT INTO executions (id, seq, root_id, function, status, scheduled_at)"
            " VALUES (?, 99, ?, 'f', 'pending', 0)",
            (IDS[3][0], IDS[3][0]),
        )
        writer.commit()
        assert history_ids(tmp_path, "a1") == [IDS[3][0]]
    finally:
        writer.close()


def test_a_corrupt_history_gives_no_ids(tmp_path: Path) -> None:
    path = history_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(b"not a database at all" * 100)
    assert history_ids(tmp_path, "3f") == []
