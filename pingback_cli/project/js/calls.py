"""Reading one ``cron(...)``/``task(...)`` call: its literal name, schedule and options,
or why it cannot be read statically (``Skip``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pingback_cli.project.js.imports import Bindings, matching, split_top
from pingback_cli.project.js.tokens import CLOSERS, OPENERS, Token

OPTION_KEYS = frozenset({"retries", "timeout", "concurrency"})
MAX_SHOWN = 60


# --- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class JsFunction:
    """One ``cron(...)`` or ``task(...)`` call with literal arguments."""

    name: str
    type: str
    schedule: str | None
    options: dict[str, Any]
    source: str

    def raw(self) -> dict[str, Any]:
        """The shape ``functions.build_spec`` validates."""
        return {
            "name": self.name,
            "type": self.type,
            "schedule": self.schedule,
            "retries": self.options.get("retries", 0),
            "timeout": self.options.get("timeout"),
            "concurrency": self.options.get("concurrency", 1),
            "source": self.source,
        }


@dataclass(frozen=True)
class Skipped:
    """A call we found but could not read statically."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass
class ScanResult:
    functions: list[JsFunction] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    """Files that import the SDK."""
    searched: list[str] = field(default_factory=list)
    """The js-paths that were looked in, as configured."""


class Unreadable(Exception):
    """A call whose shape we cannot follow (unbalanced, cut off)."""


def _shown(tokens: list[Token]) -> str:
    text = " ".join(token.raw for token in tokens)
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def _expression_end(tokens: list[Token], start: int) -> int:
    """Index of the ``,`` or ``)`` that ends the argument starting at ``start``."""
    index = start
    while index < len(tokens):
        token = tokens[index]
        if token.kind == "punct":
            if token.raw in OPENERS:
                close = matching(tokens, index)
                if close >= len(tokens):
                    raise Unreadable("a bracket is never closed")
                index = close + 1
                continue
            if token.raw in (",", ")"):
                return index
            if token.raw in CLOSERS:
                raise Unreadable(f"unexpected {token.raw!r}")
        index += 1
    raise Unreadable("the call is never closed")


def _skip_angles(tokens: list[Token], start: int) -> int | None:
    """Past the ``<...>`` type arguments at ``start``; None if they do not close."""
    depth = 0
    index = start
    limit = min(len(tokens), start + 200)
    while index < limit:
        token = tokens[index]
        if token.kind == "punct" and token.raw in OPENERS:
            index = matching(tokens, index) + 1
            continue
        if token.is_punct("<"):
            depth += 1
        elif token.is_punct(">"):
            depth -= 1
            if depth == 0:
                return index + 1
        elif token.kind == "punct" and (token.raw in CLOSERS or token.raw == ";"):
            return None
        index += 1
    return None


def _handler_end(tokens: list[Token], start: int) -> int:
    """Like ``_expression_end``, but steps over a function's parameter list, return type
    annotation and body first, so commas in ``Promise<Record<string, number>>`` do not
    split the handler."""
    index = start
    if index < len(tokens) and tokens[index].is_name("async"):
        index += 1
    if index < len(tokens) and tokens[index].is_name("function"):
        while index < len(tokens) and not tokens[index].is_punct("("):
            index += 1
        index = matching(tokens, index) + 1
        while index < len(tokens) and not tokens[index].is_punct("{"):
            if tokens[index].kind == "punct" and tokens[index].raw in (",", ")"):
                return _expression_end(tokens, start)
            index += 1
        if index >= len(tokens):
            raise Unreadable("a function has no body")
        return _expression_end(tokens, matching(tokens, index) + 1)
    if index < len(tokens) and tokens[index].is_punct("<"):
        after = _skip_angles(tokens, index)
        if after is None:
            return _expression_end(tokens, start)
        index = after
    if index < len(tokens) and tokens[index].is_punct("("):
        index = matching(tokens, index) + 1
    elif index < len(tokens) and tokens[index].kind == "name":
        index += 1
    else:
        return _expression_end(tokens, start)
    if index < len(tokens) and tokens[index].is_punct(":"):
        # A return type: walk to the arrow, stepping over brackets.
        while index < len(tokens) and not tokens[index].is_punct("=>"):
            token = tokens[index]
            if token.kind == "punct" and token.raw in OPENERS:
                index = matching(tokens, index) + 1
                continue
            if token.kind == "punct" and token.raw in (")", ";", "}", "]"):
                return _expression_end(tokens, start)
            index += 1
    if index >= len(tokens) or not tokens[index].is_punct("=>"):
        return _expression_end(tokens, start)
    index += 1
    if index < len(tokens) and tokens[index].is_punct("{"):
        index = matching(tokens, index) + 1
    return _expression_end(tokens, index)


def call_arguments(tokens: list[Token], opening: int, handler_at: int) -> tuple[list[list[Token]], int]:
    """The call's arguments as token lists, and the index of its closing parenthesis."""
    arguments: list[list[Token]] = []
    index = opening + 1
    while True:
        if index >= len(tokens):
            raise Unreadable("the call is never closed")
        if tokens[index].is_punct(")"):
            return arguments, index
        read = _handler_end if len(arguments) == handler_at else _expression_end
        end = read(tokens, index)
        arguments.append(tokens[index:end])
        if tokens[end].is_punct(")"):
            return arguments, end
        index = end + 1


def _string_argument(argument: list[Token], what: str) -> str:
    if len(argument) == 1 and argument[0].literal_text is not None:
        return argument[0].literal_text  # type: ignore[return-value]
    raise Skip(f"the {what} is not a string literal: {_shown(argument)}")


class Skip(Exception):
    """A call with an argument we cannot read without running the code."""


def _literal_value(tokens: list[Token], key: str) -> Any:
    if len(tokens) == 1:
        token = tokens[0]
        if token.literal_text is not None:
            return token.literal_text
        if token.kind == "number":
            return _number(token.raw)
        if token.is_name("true") or token.is_name("false"):
            return token.raw == "true"
        if token.is_name("undefined") or token.is_name("null"):
            return None
    if len(tokens) == 2 and tokens[0].raw in ("-", "+") and tokens[1].kind == "number":
        value = _number(tokens[1].raw)
        return -value if tokens[0].raw == "-" else value
    raise Skip(f'option "{key}" is not a literal: {_shown(tokens)}')


def _number(text: str) -> int | float:
    cleaned = text.replace("_", "")
    try:
        if cleaned[:2].lower() in ("0x", "0o", "0b"):
            return int(cleaned, 0)
        value = float(cleaned)
    except ValueError:
        raise Skip(f"cannot read the number {text}") from None
    return int(value) if value.is_integer() and "." not in cleaned and "e" not in cleaned.lower() else value


def _strip_type_suffix(argument: list[Token]) -> list[Token]:
    """``{ ... } as const`` / ``{ ... } satisfies Options`` -> ``{ ... }``."""
    if argument and argument[0].is_punct("{"):
        close = matching(argument, 0)
        following = argument[close + 1] if close + 1 < len(argument) else None
        if following is not None and (following.is_name("as") or following.is_name("satisfies")):
            return argument[: close + 1]
    return argument


def _options(argument: list[Token]) -> dict[str, Any]:
    argument = _strip_type_suffix(argument)
    if len(argument) == 1 and (argument[0].is_name("undefined") or argument[0].is_name("null")):
        return {}
    if not argument or not argument[0].is_punct("{") or matching(argument, 0) != len(argument) - 1:
        raise Skip(f"the options are not an object literal: {_shown(argument)}")
    options: dict[str, Any] = {}
    for entry in split_top(argument[1:-1]):
        if entry[0].is_punct("..."):
            raise Skip(f"the options spread another object: {_shown(entry)}")
        key_token = entry[0]
        if key_token.kind == "name" or key_token.kind == "number":
            key = key_token.raw
        elif key_token.literal_text is not None:
            key = key_token.literal_text  # type: ignore[assignment]
        else:
            raise Skip(f"an option key is computed: {_shown(entry)}")
        if len(entry) < 3 or not entry[1].is_punct(":"):
            raise Skip(f'option "{key}" is not a literal: {_shown(entry)}')
        if key not in OPTION_KEYS:
            continue
        value = _literal_value(entry[2:], key)
        if value is not None:
            options[key] = value
    return options


def call_at(tokens: list[Token], index: int, bindings: Bindings) -> tuple[str, int] | None:
    """("cron" | "task", index of the opening parenthesis) when a bound call starts here."""
    token = tokens[index]
    if token.kind != "name":
        return None
    previous = tokens[index - 1] if index else None
    if previous is not None and (
        previous.is_punct(".") or previous.is_punct("?.") or previous.is_name("function")
    ):
        return None
    kind = bindings.named.get(token.raw)
    after = index + 1
    member = tokens[after + 1] if after + 1 < len(tokens) else None
    is_member_call = member is not None and tokens[after].is_punct(".") and member.raw in ("cron", "task")
    if kind is None and token.raw in bindings.namespaces and is_member_call:
        assert member is not None
        kind = member.raw
        after += 2
    if kind is None:
        return None
    if after < len(tokens) and tokens[after].is_punct("<"):
        skipped = _skip_angles(tokens, after)
        if skipped is None:
            return None
        after = skipped
    if after < len(tokens) and tokens[after].is_punct("("):
        return kind, after
    return None


def read_call(kind: str, arguments: list[list[Token]], source: str) -> JsFunction:
    needed = 3 if kind == "cron" else 2
    if len(arguments) < needed:
        shape = (
            "cron(name, schedule, handler, options?)" if kind == "cron" else "task(name, handler, options?)"
        )
        raise Skip(f"{kind}() has {len(arguments)} arguments, expected {shape}")
    name = _string_argument(arguments[0], "name")
    schedule = _string_argument(arguments[1], "schedule") if kind == "cron" else None
    options = _options(arguments[needed]) if len(arguments) > needed else {}
    return JsFunction(name=name, type=kind, schedule=schedule, options=options, source=source)
