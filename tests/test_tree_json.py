"""The ``--json`` tree written directly (pingback_cli/tree_json.py) is ``json.dumps`` of
``to_json()``, byte for byte, or None where only the dict path can write it."""

from __future__ import annotations

import io
import json
import math
import sys
from typing import Any

import pytest

from pingback_cli.models import Attempt, Execution, LogEntry, OutputLine
from pingback_cli.terminal import Terminal
from pingback_cli.tree_json import PIECE, tree_pieces, tree_text

T0 = 1_764_410_100.5


def attempt(number: int = 1, **fields: Any) -> Attempt:
    return Attempt(number, fields.pop("status", "success"), T0 + number, **fields)


def execution(id: str = "a1", **fields: Any) -> Execution:
    return Execution(id, fields.pop("function", "leaf"), fields.pop("type", "task"), T0, **fields)


def dumps(root: Execution, triggered: list[Execution] | None = None, *, ensure_ascii: bool = False) -> str:
    data = root.to_json()
    if triggered:
        data["triggered"] = [tree.to_json() for tree in triggered]
    return json.dumps(data, allow_nan=False, ensure_ascii=ensure_ascii)


def varied_tree() -> Execution:
    """Every field set and unset somewhere, non-ASCII and escapes, nested children."""
    failed = attempt(
        1,
        status="failed",
        completed_at=T0 + 1.25,
        duration_ms=250,
        http_status=500,
        error='boom "quoted"\n\ttab',
        traceback="Traceback ...\n  ValueError: é ✓ \U0001f600",
        logs=[LogEntry(1_764_410_101_000, "info", "hé", {"n": [1, 2.5, None, True], "k": {"x": "y"}})],
        notices=["the platform keeps 10,240 bytes"],
        output=[OutputLine(1_764_410_101_001, "stdout", "printed \x07 bell")],
    )
    retried = attempt(2, completed_at=T0 + 3.999_999, duration_ms=0, http_status=200, requested_at=T0 + 2.5)
    grandchild = execution("c2", function="café", payload=[], result={"ok": 1}, parent_id="c1", root_id="r")
    child = execution(
        "c1",
        payload={"i": 0, "nested": {"list": [1, "two", 3.0, -0.0, 1e300, False]}},
        has_payload=True,
        result="✓",
        parent_id="r",
        root_id="r",
        status="success",
        attempt=2,
        attempts=[failed, retried],
        due_at=T0,
        started_at=T0 + 1,
        completed_at=T0 + 4,
        duration_ms=2999,
        http_status=200,
        trigger="fanout",
        children=[grandchild],
    )
    unknown = execution("c3", function="missing", type=None, status="pending", parent_id="r", root_id="r")
    return execution(
        "r",
        function="fan",
        type="cron",
        status="failed",
        attempt=1,
        attempts=[attempt(1, status="failed", error="x", completed_at=T0 + 5)],
        result=12345678901234567890,
        error="a child failed",
        logs=[LogEntry(1, "warn", "w")],
        replay_of="old",
        trigger="replay",
        children=[child, unknown, execution("c4", parent_id="r", root_id="r")],
    )


@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_the_text_is_json_dumps_of_to_json_byte_for_byte(ensure_ascii: bool) -> None:
    root = varied_tree()
    assert tree_text(root, ensure_ascii=ensure_ascii) == dumps(root, ensure_ascii=ensure_ascii)
    lone = execution()
    assert tree_text(lone, ensure_ascii=ensure_ascii) == dumps(lone, ensure_ascii=ensure_ascii)


def test_triggered_trees_follow_the_children_as_run_prints_them() -> None:
    root, other = varied_tree(), execution("t1", children=[execution("t2", parent_id="t1", root_id="t1")])
    assert tree_text(root, [other, execution("t3")]) == dumps(root, [other, execution("t3")])


def test_a_fan_out_of_many_children_and_a_deep_chain() -> None:
    root = execution("r", children=[execution(f"c{i}", payload={"i": i}, parent_id="r") for i in range(500)])
    assert tree_text(root) == dumps(root)
    deep = node = execution("d0")
    for depth in range(1, 300):
        child = execution(f"d{depth}", parent_id=node.id, depth=depth)
        node.children.append(child)
        node = child
    assert tree_text(deep) == dumps(deep)


def test_a_big_tree_comes_in_pieces_that_join_into_the_text() -> None:
    """Pieces of about PIECE characters (a part is never split), in order, triggered trees
    included: what the terminal writes one after the other."""
    leaves = [execution(f"c{i}", payload={"i": i, "pad": "x" * 300}, parent_id="r") for i in range(700)]
    mixed = execution("m", parent_id="r", children=[execution("g", parent_id="m")])
    root = execution("r", children=[*leaves[:300], mixed, *leaves[300:]])
    triggered = [execution("t1", children=leaves[:200])]
    for others in ([], triggered):
        pieces = tree_pieces(root, others)
        assert pieces is not None and len(pieces) > 3
        assert "".join(pieces) == tree_text(root, others) == dumps(root, others)
        assert all(len(piece) >= PIECE for piece in pieces[:-1])
        assert max(map(len, pieces)) < 2 * PIECE
    root.children[5].result = math.nan
    assert tree_pieces(root) is None


def test_siblings_share_text_only_where_their_fields_are_the_same() -> None:
    """The writer builds the text a fan-out's children share once (function to status,
    parentId to replayOf, an attempt's ending fields when they are its execution's): each
    child that differs in one of those fields, or whose one attempt ends otherwise, is
    written as its own."""

    def child(id: str, **fields: Any) -> Execution:
        ends = {"started_at": T0 + 1, "completed_at": T0 + 2, "duration_ms": 1000, "http_status": 200}
        one = Attempt(1, "success", **{**ends, **fields.pop("attempt_ends", {})})
        base = {"parent_id": "r", "root_id": "r", "trigger": "fanout", "status": "success", "attempt": 1}
        return execution(id, **{**base, **ends, "attempts": [one], **fields})

    varied = [
        child("c0", payload={"i": 0}, result=0),
        child("c1", payload={"i": 1}, result=True),
        child("c2", function="other"),
        child("c3", type="cron"),
        child("c4", type=None),
        child("c5", status="failed"),
        child("c6", parent_id="q"),
        child("c7", root_id="q"),
        child("c8", trigger="replay"),
        child("c9", replay_of="old"),
        child("c10", attempt_ends={"duration_ms": 1000.0}),  # equal, but written 1000.0
        child("c11", attempt_ends={"http_status": True}),
        child("c12", attempt_ends={"started_at": T0 + 1.25}),
        child("c13", attempt_ends={"completed_at": None, "duration_ms": None, "http_status": None}),
        child("c14", attempts=[attempt(1), attempt(2)]),
        child("c15", children=[child("g0", parent_id="c15"), child("g1", parent_id="c15")]),
        child("c16", result=12345678901234567890, http_status=404),
        child("c17", duration_ms=1000.0, attempt_ends={"duration_ms": 1000.0}),
        # an attempt with one of its last fields set is not the quiet one
        child("c18", attempt_ends={"error": "e"}),
        child("c19", attempt_ends={"traceback": "t"}),
        child("c20", attempt_ends={"logs": [LogEntry(1, "info", "m")]}),
        child("c21", attempt_ends={"notices": ["n"]}),
        child("c22", attempt_ends={"output": [OutputLine(1, "stdout", "o")]}),
        child("c23", attempt_ends={"requested_at": T0}),
    ]
    for children in (varied, varied[:14], [*varied, *varied]):
        root = execution("r", children=children)
        assert tree_text(root) == dumps(root)
        assert tree_text(root, ensure_ascii=True) == dumps(root, ensure_ascii=True)


@pytest.mark.parametrize(
    "fields",
    [
        {"result": math.nan},
        {"payload": {"x": math.inf}},
        {"result": {1, 2}},  # a type JSON lacks
        {"attempt": True},  # json writes a bool as true, never as an int
        {"http_status": False, "attempts": [Attempt(True, "success", T0, http_status=True)]},
        {"duration_ms": 1.5},  # written by the general encoder
        {"logs": [LogEntry(1, "info", "m", {"v": -math.inf})]},
    ],
)
def test_values_outside_the_plain_shapes_take_the_dict_path_or_match_it(fields: dict[str, Any]) -> None:
    root = execution("r", children=[execution("c", parent_id="r", **fields)])
    try:
        expected: str | None = dumps(root)
    except (ValueError, TypeError):
        expected = None
    assert tree_text(root) == expected


def test_a_field_of_an_unexpected_type_is_refused_not_miswritten() -> None:
    odd = execution("r", function=42)  # type: ignore[arg-type]
    assert tree_text(odd) is None


def test_the_terminal_writes_it_and_falls_back_to_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    root = varied_tree()
    root.children[0].result = math.nan
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    Terminal().json_built(root.to_json, lambda ascii_only: tree_pieces(root, ensure_ascii=ascii_only))
    assert json.loads(stream.getvalue())["children"][0]["result"] == "NaN"  # json_safe's text, as before
    root.children[0].result = 1
    for encoding, ascii_only in (("utf-8", False), ("cp1252", True)):
        raw = io.BytesIO()
        monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding=encoding))
        built: list[bool] = []

        def build(built: list[bool] = built) -> None:
            built.append(True)

        Terminal().json_built(build, lambda ascii: tree_pieces(root, ensure_ascii=ascii))
        assert raw.getvalue().decode(encoding) == dumps(root, ensure_ascii=ascii_only) + "\n"
        assert not built  # the dicts were never made
