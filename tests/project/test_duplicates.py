"""The message for a function declared twice: two places, or one line that ran twice."""

from __future__ import annotations

from pathlib import Path

from pingback_cli.project.loader import _duplicate_error

ROOT = Path("/proj")


def test_two_places() -> None:
    error = _duplicate_error("sync", ("/proj/a.py:3", None), ("/proj/b.py:9", None), ROOT)
    assert error.message == 'function "sync" is defined twice: at a.py:3 and at b.py:9'


def test_one_line_run_twice_by_a_factory_names_both_calls() -> None:
    error = _duplicate_error(
        "sync", ("/proj/jobs.py:8", "/proj/jobs.py:14"), ("/proj/jobs.py:8", "/proj/main.py:3"), ROOT
    )
    assert error.message == (
        'function "sync" is defined twice by the same line, jobs.py:8, which ran twice: '
        "called from jobs.py:14 and from main.py:3"
    )
    assert error.hint is not None and 'pb.task(f"sync-{source}")' in error.hint


def test_one_line_run_twice_from_one_call_site() -> None:
    error = _duplicate_error(
        "sync", ("/proj/jobs.py:8", "/proj/jobs.py:20"), ("/proj/jobs.py:8", "/proj/jobs.py:20"), ROOT
    )
    assert error.message.endswith("which ran twice: both times called from jobs.py:20 (in a loop?)")


def test_a_module_imported_twice() -> None:
    error = _duplicate_error("sync", ("/proj/jobs.py:8", None), ("/proj/jobs.py:8", None), ROOT)
    assert "imported twice, under two module names" in error.message
