"""The ``--json`` text of an execution tree, written in one pass from its records.

``json.dumps(root.to_json())`` builds a dict per execution and per attempt and then encodes
them: for a fan-out of 10,000 children that was ~18 µs a child in the `run` command's
process, most of what it spends after the run. Here each execution's text is written directly
from its fields, in ``to_json``'s key order and with ``json.dumps``'s default separators
(``", "``, ``": "``); strings go through the json module's own C string encoder, values of any
shape (a payload, a result, logs) through its C encoder. The text is byte-identical to
``json.dumps(execution.to_json(), allow_nan=False, ensure_ascii=...)``
(tests/test_tree_json.py); a value that text cannot hold (NaN or Infinity, a type JSON lacks)
makes :func:`tree_text` answer None, and the caller encodes the dicts as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from operator import attrgetter
from typing import Any

from pingback_cli.models import Attempt, Execution
from pingback_cli.protocol import compact_encoder, iso_text

Encode = Callable[[Any], str]

_CHILDREN = attrgetter("children")

_LEAVES_JOINED = 64
"""Leaf executions written as one part (~50 KB of a fan-out's children)."""

PIECE = 1 << 16
"""Characters from which parts are joined into one piece: a stream writes 64 KB pieces into
buffers it reuses, where one 8 MB text (and its newline, and its encoding) cost a fresh 8 MB
of memory each: 15 ms of page faults for a 10,000-child tree."""


def _encoders(ensure_ascii: bool) -> tuple[Encode, Encode]:
    """(a ``str``'s JSON text, any value's JSON text) as ``json.dumps`` writes them without
    indent (``allow_nan=False``, no cycle check: a value holding itself is RecursionError)."""
    string = json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    return string, compact_encoder(ensure_ascii=ensure_ascii, separators=(", ", ": "))


class _Writer:
    """The text of executions and attempts for one ``ensure_ascii``."""

    def __init__(self, ensure_ascii: bool) -> None:
        self._string, self._value = _encoders(ensure_ascii)
        self._times = _Times({None: "null"})
        self._heads: dict[tuple[Any, ...], str] = {}
        self._links: dict[tuple[Any, ...], str] = {}

    def parts(self, roots: list[Execution]) -> list[str]:
        """Each root's tree, joined by ``", "`` (the caller wraps them as it needs), in parts."""
        self._times = _Times({None: "null"})
        self._heads, self._links = {}, {}
        parts: list[str] = []
        for index, root in enumerate(roots):
            if index:
                parts.append(", ")
            self._tree(root, parts)
        return parts

    def _tree(self, root: Execution, parts: list[str]) -> None:
        """Depth first without recursion (a deep chain of fan-out cannot overflow the stack):
        each execution's fields, then its children, then the brackets that close it; children
        that are all leaves (a fan-out's) joined ``_LEAVES_JOINED`` at a time."""
        append = parts.append
        execution = self._execution
        stack: list[Iterator[Execution]] = [iter((root,))]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                if stack:
                    append("]}")
                continue
            if len(stack) > 1 and parts[-1][-1] != "[":  # not its parent's first child
                append(", ")
            append(execution(child))  # a leaf's text is closed
            children = child.children
            if not children:
                continue
            if any(map(_CHILDREN, children)):
                stack.append(iter(children))
            else:
                for start in range(0, len(children), _LEAVES_JOINED):
                    if start:
                        append(", ")
                    append(", ".join(map(execution, children[start : start + _LEAVES_JOINED])))
                append("]}")

    def _list(self, items: list[Any]) -> str:
        return self._value([item.to_json() for item in items]) if items else "[]"

    # Inline on purpose (they run ~30 times per execution): a field typed ``str`` goes to the
    # C string encoder directly (anything else there is TypeError: the caller's dict path
    # takes over), an ``int`` field is written as json writes an int only when it is exactly
    # one (a bool or a float goes through the general encoder).

    def _execution(self, e: Execution) -> str:
        """The execution's text; with children, up to their opening ``[`` (closed by the caller)."""
        q, v, t, n = self._string, self._value, self._times, int.__repr__
        error, attempt, ms, status = e.error, e.attempt, e.duration_ms, e.http_status
        attempt_text = n(attempt) if attempt.__class__ is int else v(attempt)
        ms_text = "null" if ms is None else n(ms) if ms.__class__ is int else v(ms)
        status_text = "null" if status is None else n(status) if status.__class__ is int else v(status)
        result = e.result
        result_text = "null" if result is None else n(result) if result.__class__ is int else v(result)
        payload = e.payload
        started, completed = e.started_at, e.completed_at
        ended = (
            f'"startedAt": {"null" if started is None else _instant(started)}, '
            f'"completedAt": {"null" if completed is None else _instant(completed)}, '
            f'"durationMs": {ms_text}, "httpStatus": {status_text}'
        )
        attempts = e.attempts
        if len(attempts) == 1:
            only = attempts[0]
            same = (
                only.started_at == started
                and only.completed_at == completed
                and _same_int(only.duration_ms, ms)
                and _same_int(only.http_status, status)
            )
            attempts_text = self._attempt(only, ended if same else None)
        else:
            attempts_text = ", ".join([self._attempt(a, None) for a in attempts])
        head = self._heads.get((e.function, e.type, e.status)) or self._head(e.function, e.type, e.status)
        links = self._links.get((e.parent_id, e.root_id, e.trigger, e.replay_of)) or self._link(e)
        return (
            f'{{"executionId": {q(e.id)}{head}{attempt_text}, "attempts": [{attempts_text}], '
            f'"payload": {v(payload)}, "result": {result_text}, '
            f'"error": {"null" if error is None else q(error)}, "logs": {self._list(e.logs)}{links}'
            f'{t[e.scheduled_at]}, "dueAt": {t[e.due_at]}, {ended}, "children": [{"" if e.children else "]}"}'
        )

    def _head(self, function: Any, type: Any, status: Any) -> str:
        """``, "function": …, "type": …, "status": …, "attempt": `` (shared by siblings)."""
        q = self._string
        text = self._heads[(function, type, status)] = (
            f', "function": {q(function)}, "type": {"null" if type is None else q(type)}, '
            f'"status": {q(status)}, "attempt": '
        )
        return text

    def _link(self, e: Execution) -> str:
        """``, "parentId": …, "rootId": …, "trigger": …, "replayOf": …, "scheduledAt": ``
        (a fan-out's children share it)."""
        q, parent, replay = self._string, e.parent_id, e.replay_of
        text = self._links[(parent, e.root_id, e.trigger, replay)] = (
            f', "parentId": {"null" if parent is None else q(parent)}, "rootId": {q(e.root_id)}, '
            f'"trigger": {q(e.trigger)}, "replayOf": {"null" if replay is None else q(replay)}, '
            '"scheduledAt": '
        )
        return text

    def _attempt(self, a: Attempt, ended: str | None) -> str:
        """``ended``: its four ending fields' text when its execution's are the same."""
        q, v, t, n = self._string, self._value, self._times, int.__repr__
        number, error, traceback = a.number, a.error, a.traceback
        number_text = n(number) if number.__class__ is int else v(number)
        if ended is None:
            ms, status = a.duration_ms, a.http_status
            ms_text = "null" if ms is None else n(ms) if ms.__class__ is int else v(ms)
            status_text = "null" if status is None else n(status) if status.__class__ is int else v(status)
            ended = (
                f'"startedAt": {t[a.started_at]}, "completedAt": {t[a.completed_at]}, '
                f'"durationMs": {ms_text}, "httpStatus": {status_text}'
            )
        if (
            error is None
            and traceback is None
            and not (a.logs or a.notices or a.output)
            and a.requested_at is None
        ):
            return f'{{"attempt": {number_text}, "status": {q(a.status)}, {ended}, {_QUIET_ATTEMPT}'
        requested = "" if a.requested_at is None else f', "requestedAt": {t[a.requested_at]}'
        notices = v(list(a.notices)) if a.notices else "[]"
        return (
            f'{{"attempt": {number_text}, "status": {q(a.status)}, {ended}, '
            f'"error": {"null" if error is None else q(error)}, '
            f'"traceback": {"null" if traceback is None else q(traceback)}, "logs": {self._list(a.logs)}, '
            f'"notices": {notices}, "output": {self._list(a.output)}{requested}}}'
        )


_QUIET_ATTEMPT = '"error": null, "traceback": null, "logs": [], "notices": [], "output": []}'
"""An attempt's last fields when it has no error, traceback, log, notice, output or request time."""


def _instant(ts: float) -> str:
    """The JSON text of an instant asked once (each child's start and end)."""
    return f'"{iso_text(ts)}"'


def _same_int(first: Any, second: Any) -> bool:
    """Whether the two are both None or equal ints (written alike: an equal float may not be)."""
    return first is second or (first.__class__ is int and second.__class__ is int and first == second)


class _Times(dict[Any, str]):
    """Unix seconds -> the instant's JSON text (ISO-8601 needs no escaping); None -> ``null``.
    Kept for one tree: an execution's times repeat in its attempt and across siblings."""

    def __missing__(self, ts: float) -> str:
        text = self[ts] = f'"{iso_text(ts)}"'
        return text


_WRITERS: dict[bool, _Writer] = {}


def tree_pieces(
    root: Execution, triggered: Sequence[Execution] = (), *, ensure_ascii: bool = False
) -> list[str] | None:
    """What ``json.dumps(data, allow_nan=False, ensure_ascii=...)`` writes of ``root.to_json()``
    (with ``data["triggered"]`` the trees in ``triggered``, when there are any), in pieces of
    about ``PIECE`` characters or fewer, to be written one after the other; None when a value
    cannot be written as strict JSON (NaN, Infinity, a type JSON lacks, a value that holds
    itself): the caller then encodes the dicts, whose path handles each of those
    (``protocol.strict_dumps``)."""
    writer = _WRITERS.get(ensure_ascii)
    if writer is None:
        writer = _WRITERS[ensure_ascii] = _Writer(ensure_ascii)
    try:
        parts = writer.parts([root])
        if triggered:
            parts[-1] = parts[-1][:-1]  # the root's closing brace, put back after "triggered"
            parts += [', "triggered": [', *writer.parts(list(triggered)), "]}"]
    except (ValueError, TypeError, RecursionError):
        return None
    return _pieces(parts)


def tree_text(
    root: Execution, triggered: Sequence[Execution] = (), *, ensure_ascii: bool = False
) -> str | None:
    """:func:`tree_pieces` as one text."""
    pieces = tree_pieces(root, triggered, ensure_ascii=ensure_ascii)
    return None if pieces is None else "".join(pieces)


def _pieces(parts: list[str]) -> list[str]:
    """``parts`` joined in order into pieces of ``PIECE`` characters or more (the last one
    maybe fewer); a part is never split."""
    pieces: list[str] = []
    start = length = 0
    for index, part in enumerate(parts):
        length += len(part)
        if length >= PIECE:
            pieces.append("".join(parts[start : index + 1]))
            start, length = index + 1, 0
    if start < len(parts):
        pieces.append("".join(parts[start:]))
    return pieces
