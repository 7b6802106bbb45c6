"""A handler's traceback: the standard library's text, byte for byte, whatever the stack, and
formatted once per distinct stack (a runaway fan-out of failing children raises from one line)."""

from __future__ import annotations

import contextlib
import importlib.util
import linecache
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pingback_cli.worker import tracebacks
from pingback_cli.worker.tracebacks import brief


def stock(exc: BaseException, skip_frames: int = 1) -> str:
    """What the worker wrote before the formatted stacks were kept."""
    summary = traceback.TracebackException.from_exception(exc)
    summary.stack = traceback.StackSummary.from_list(list(summary.stack)[skip_frames:][-8:])
    return "".join(summary.format()).rstrip()


def boom(n: int) -> None:
    raise RuntimeError(f"boom {n}")


def subscript() -> int:
    values: list[int] = [1]
    return values[2] + 3  # a ~~~^^^ marker under the subscript on Python 3.11+


def recurse(depth: int) -> None:
    recurse(depth - 1) if depth else boom(depth)


def caused() -> None:
    try:
        boom(1)
    except RuntimeError as exc:
        raise ValueError("wrapped") from exc


def during() -> None:
    try:
        subscript()
    except IndexError:
        {}["missing"]


def hidden() -> None:
    try:
        boom(2)
    except RuntimeError:
        raise ValueError("the cause hidden") from None


def handled_before() -> None:
    with contextlib.suppress(KeyError):
        {}["a"]
    raise ValueError("nothing chained")


def noted() -> None:
    error = KeyError("n")
    if hasattr(error, "add_note"):  # 3.11+
        error.add_note("a note\nof two lines")
    raise error


def multiline() -> int:
    return (
        1
        + {}["k"]  # an expression over three lines (Python 3.13 shows them all)
        + 2
    )


def bad_syntax() -> None:
    compile("x x", "snippet.py", "exec")


def exits() -> None:
    raise SystemExit(3)


EXECUTED: dict[str, Any] = {}
exec("def from_exec():\n    raise TypeError('no source file')\n", EXECUTED)


def grouped() -> None:
    raise ExceptionGroup("two", [ValueError("a"), KeyError("b")])  # noqa: F821 (3.11+)


class Custom(Exception):
    """Named with its module in the last line."""


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


Scripted = type("Scripted", (Exception,), {"__module__": "__main__"})


def custom() -> None:
    raise Custom("mine")


def unprintable() -> None:
    raise Unprintable()


def scripted() -> None:
    raise Scripted("from a script")


def empty() -> None:
    raise ValueError()


def missing_key() -> None:
    {}["quoted"]


def name_error() -> None:
    return undefined_namr  # type: ignore[name-defined]  # noqa: F821 (the library suggests a name)


undefined_name = 1


def attribute_error() -> None:
    "text".uper()  # type: ignore[attr-defined]


def import_error() -> None:
    from json import dumsp  # type: ignore[attr-defined]  # noqa: F401


def caught(function: Callable[..., Any], *args: Any) -> BaseException:
    try:
        function(*args)
    except BaseException as exc:
        return exc
    raise AssertionError("did not raise")


CASES = [
    (boom, 7),
    (subscript,),
    (recurse, 3),
    (recurse, 30),
    (caused,),
    (during,),
    (hidden,),
    (handled_before,),
    (noted,),
    (multiline,),
    (bad_syntax,),
    (exits,),
    (EXECUTED["from_exec"],),
    (custom,),
    (unprintable,),
    (scripted,),
    (empty,),
    (missing_key,),
    (name_error,),
    (attribute_error,),
    (import_error,),
]
if sys.version_info >= (3, 11):
    CASES.append((grouped,))


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case[0].__name__}{case[1:]}")
@pytest.mark.parametrize("skip_frames", [0, 1, 5])
def test_the_text_is_the_standard_librarys(case: tuple[Any, ...], skip_frames: int) -> None:
    for _ in range(2):  # formatted, then kept
        exc = caught(*case)
        assert brief(exc, skip_frames) == stock(exc, skip_frames)


def test_one_line_raising_again_is_formatted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    formatted: list[int] = []
    original = traceback.StackSummary.format

    def counting(self: traceback.StackSummary, **options: Any) -> list[str]:
        formatted.append(len(self))
        return original(self, **options)

    monkeypatch.setattr(traceback.StackSummary, "format", counting)
    monkeypatch.setattr(tracebacks, "_STACKS", tracebacks._Stacks(capacity=16))
    texts = {brief(caught(boom, n)) for n in range(100)}
    assert len(texts) == 100  # each keeps its own message
    assert formatted == [1]  # one stack (caught's frame skipped: boom's alone), formatted once
    brief(caught(subscript))
    assert len(formatted) == 2


def test_an_exception_alone_on_a_known_stack_is_not_extracted_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path: a runaway's failures cost a walk of the traceback, not the library's
    extraction of every frame (its positions, its source lines)."""
    extracted: list[str] = []
    original = traceback.TracebackException.__init__

    def counting(self: Any, exc_type: Any, exc_value: Any, exc_traceback: Any, **options: Any) -> None:
        if exc_traceback is not None:
            extracted.append(str(exc_value))
        original(self, exc_type, exc_value, exc_traceback, **options)

    monkeypatch.setattr(tracebacks, "_STACKS", tracebacks._Stacks(capacity=16))
    monkeypatch.setattr(traceback.TracebackException, "__init__", counting)
    texts = [brief(caught(boom, n)) for n in range(50)]
    assert extracted == ["boom 0"]
    assert texts[49].endswith("RuntimeError: boom 49") and texts[49].startswith("Traceback")
    brief(caught(caused))  # a chained one goes the library's way
    assert extracted[1] == "wrapped"


@pytest.fixture
def module(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "edited_handler.py"
    path.write_text("def handler():\n    raise RuntimeError('first')\n", encoding="utf-8")
    yield path
    linecache.checkcache(str(path))


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def test_a_source_line_edited_on_disk_shows_as_the_library_shows_it(module: Path) -> None:
    handler = _load(module).handler
    assert "raise RuntimeError('first')" in brief(caught(handler))
    module.write_text("def handler():\n    raise RuntimeError('second one, longer')\n", encoding="utf-8")
    exc = caught(handler)  # the old code, the new source line: as the library tells it
    assert brief(exc) == stock(exc)
    assert "second one, longer" in brief(exc)


def test_the_kept_stacks_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracebacks, "_STACKS", tracebacks._Stacks(capacity=3))
    for depth in range(10):
        exc = caught(recurse, depth)
        assert brief(exc) == stock(exc)
    for depth in range(10):
        exc = caught(caused if depth % 2 else during)
        assert brief(exc) == stock(exc)
    assert len(tracebacks._STACKS._alone) <= 3


def test_a_traceback_limit_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "tracebacklimit", 2, raising=False)
    exc = caught(recurse, 5)
    assert brief(exc) == stock(exc)
