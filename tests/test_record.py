"""record.py: what a dataclass gave the start path's classes, without building one at import."""

from __future__ import annotations

import copy
import pickle

import pytest

from pingback_cli.models import Execution, FunctionSpec
from pingback_cli.record import FrozenRecord, Record


class Point(Record):
    __slots__ = _fields = ("x", "y", "tags")

    x: int
    tags: list[str]

    def __init__(self, x: int, y: int = 0, tags: list[str] | None = None) -> None:
        self.x = x
        self.y = y
        self.tags = [] if tags is None else tags


class Pair(FrozenRecord):
    __slots__ = _fields = ("left", "right")

    def __init__(self, left: str, right: str = "") -> None:
        self._set(left, right)


def test_equality_repr_and_replace_are_a_dataclass_s() -> None:
    point = Point(1, 2, ["a"])
    assert point == Point(1, 2, ["a"]) and point != Point(1, 3, ["a"])
    assert point != ("x", 1) and Point(1) != Pair("1")
    assert repr(point) == "Point(x=1, y=2, tags=['a'])"
    moved = point.replace(y=5)
    assert (moved.x, moved.y, moved.tags) == (1, 5, ["a"]) and point.y == 2
    with pytest.raises(TypeError):
        point.replace(z=1)
    with pytest.raises(TypeError):
        hash(point)  # mutable: unhashable, as a dataclass with eq
    with pytest.raises(AttributeError):
        point.z = 1  # type: ignore[attr-defined]  # slotted: no other attribute


def test_a_frozen_record_refuses_changes_and_is_hashable_copyable_and_picklable() -> None:
    pair = Pair("a", "b")
    with pytest.raises(AttributeError, match="frozen"):
        pair.left = "c"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="frozen"):
        del pair.right
    assert hash(pair) == hash(Pair("a", "b")) and {pair, Pair("a", "b")} == {pair}
    assert copy.copy(pair) == copy.deepcopy(pair) == pickle.loads(pickle.dumps(pair)) == pair
    spec = FunctionSpec("send", "task", None, 0, None, 30.0, 1)
    assert pickle.loads(pickle.dumps(spec)) == spec and spec.replace(retries=2).retries == 2


def test_an_execution_is_its_own_root_unless_told_and_survives_pickling() -> None:
    root = Execution("r", "fan", "task", 1.0)
    child = Execution("c", "fan", "task", 1.0, parent_id="r", root_id="r", depth=1)
    root.children.append(child)
    assert (root.root_id, child.root_id, Execution("x", "f", None, 0.0).attempts) == ("r", "r", [])
    assert pickle.loads(pickle.dumps(root)) == root


def test_a_field_annotated_but_not_listed_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match="added annotated but not in _fields"):

        class Grown(Record):
            __slots__ = _fields = ("kept",)

            kept: int
            added: int  # written the dataclass way: a gap the record would silently have

            def __init__(self, kept: int) -> None:
                self.kept = kept
