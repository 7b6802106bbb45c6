"""One rule for "did you mean" (`run`, `trigger`, `check`, the pytest fixture)."""

from __future__ import annotations

from pingback_cli.project.specs import did_you_mean, suggest

MYAPP = ["tick", "work", "flaky", "always-fails", "hang", "chatty", "unicode", "big", "fanout", "leaf"]


def test_near_misses_another_case_and_starts_are_suggested() -> None:
    assert suggest("Work", MYAPP) == ["work"]
    assert suggest("wrok", MYAPP) == ["work"]
    assert suggest("alwaysfails", MYAPP) == ["always-fails"]
    assert suggest("fan", MYAPP) == ["fanout"]
    assert did_you_mean("lef", MYAPP) == "did you mean 'leaf'?"


def test_a_name_alike_in_nothing_gets_no_suggestion() -> None:
    # difflib's ratio for "nope" / "unicode" is 0.55: it was suggested, and read as noise.
    assert suggest("nope", MYAPP) == []
    assert did_you_mean("nope", MYAPP) is None
    assert suggest("work", MYAPP) == []  # the name itself is no suggestion
