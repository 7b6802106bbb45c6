"""Find the crons and tasks a JavaScript/TypeScript project declares with ``@usepingback/next``,
without running any JavaScript.

A small tokenizer (strings, template literals, comments, regex literals) feeds a
scanner that resolves how the file imports ``cron``/``task`` (named, aliased,
namespace, default, ``require``) and reads each call's literal arguments::

    cron("name", "*/5 * * * *", handler, { retries: 2, timeout: "15s", concurrency: 3 })
    task("name", async (ctx, payload) => { ... }, { retries: 1 })

A call whose name, schedule or options are not literals is skipped with a reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pingback_cli.errors import ProjectError
from pingback_cli.project.files import skipped_folder

MODULE = "@usepingback/next"
EXTENSIONS = (".ts", ".tsx", ".js", ".mjs", ".cjs", ".mts", ".cts")
DEFAULT_PATHS = ("lib/pingback", "src/lib/pingback")
OPTION_KEYS = frozenset({"retries", "timeout", "concurrency"})
MAX_FILE_BYTES = 2_000_000
MAX_SHOWN = 60

_PUNCTUATORS = (
    "...",
    "===",
    "!==",
    "=>",
    "?.",
    "??",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "++",
    "--",
    "+=",
    "-=",
)
"""Multi-character punctuators the scanner cares to keep whole. ``>>`` is left as two
``>`` so that nested generics (``Array<Array<T>>``) close one level at a time."""
_REGEX_AFTER_WORDS = frozenset(
    {"return", "typeof", "case", "do", "else", "in", "instanceof", "new", "delete", "void", "throw",
     "yield", "await", "of"}
)  # fmt: skip
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(_OPENERS.values())
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class JsSyntaxError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


# --- tokens --------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str
    """name, string, template, number, regex or punct."""
    raw: str
    line: int
    value: str | None = None
    """The decoded text of a string, or of a template literal without ``${}``."""

    def is_punct(self, text: str) -> bool:
        return self.kind == "punct" and self.raw == text

    def is_name(self, text: str | None = None) -> bool:
        return self.kind == "name" and (text is None or self.raw == text)

    @property
    def literal_text(self) -> str | None:
        return self.value if self.kind in ("string", "template") else None


def _is_name_start(char: str) -> bool:
    return char.isalpha() or char in "_$" or ord(char) > 127


def _is_name_char(char: str) -> bool:
    return char.isalnum() or char in "_$" or ord(char) > 127


class _Tokenizer:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.line = 1

    def run(self) -> list[Token]:
        if self.src.startswith("#!"):
            self._skip_to_line_end()
        tokens: list[Token] = []
        self._tokens_until(tokens, closing_brace=False)
        return tokens

    # Returns when the source ends or, inside a template's ``${...}``, at its ``}``.
    def _tokens_until(self, tokens: list[Token], *, closing_brace: bool) -> None:
        src = self.src
        depth = 0
        while self.pos < len(src):
            char = src[self.pos]
            if char == "\n":
                self.line += 1
                self.pos += 1
            elif char.isspace():
                self.pos += 1
            elif src.startswith("//", self.pos):
                self._skip_to_line_end()
            elif src.startswith("/*", self.pos):
                self._skip_block_comment()
            elif char in "\"'":
                tokens.append(self._string(char))
            elif char == "`":
                tokens.append(self._template())
            elif _is_name_start(char):
                tokens.append(self._name())
            elif char.isdigit() or (char == "." and src[self.pos + 1 : self.pos + 2].isdigit()):
                tokens.append(self._number())
            elif char == "/" and _regex_allowed(tokens[-1] if tokens else None):
                tokens.append(self._regex_or_slash())
            else:
                if closing_brace and char == "}" and depth == 0:
                    self.pos += 1
                    return
                if char == "{":
                    depth += 1
                elif char == "}":
                    depth -= 1
                tokens.append(self._punct())
        if closing_brace:
            raise JsSyntaxError(self.line, "unterminated ${...} in a template literal")

    def _skip_to_line_end(self) -> None:
        end = self.src.find("\n", self.pos)
        self.pos = len(self.src) if end < 0 else end

    def _skip_block_comment(self) -> None:
        end = self.src.find("*/", self.pos + 2)
        if end < 0:
            raise JsSyntaxError(self.line, "unterminated /* comment")
        self.line += self.src.count("\n", self.pos, end)
        self.pos = end + 2

    def _escape(self) -> str:
        """Decode the escape whose backslash is at ``pos``; moves past it."""
        src = self.src
        self.pos += 1
        if self.pos >= len(src):
            raise JsSyntaxError(self.line, "a string ends in a backslash")
        char = src[self.pos]
        self.pos += 1
        if char == "\r" and src.startswith("\n", self.pos):
            self.pos += 1
        if char in "\r\n\u2028\u2029":
            self.line += 1
            return ""  # line continuation
        if char in _SIMPLE_ESCAPES and not (char == "0" and src[self.pos : self.pos + 1].isdigit()):
            return _SIMPLE_ESCAPES[char]
        if char == "x":
            return self._hex(2)
        if char == "u":
            if src.startswith("{", self.pos):
                end = src.find("}", self.pos)
                if end < 0:
                    raise JsSyntaxError(self.line, "unterminated \\u{...} escape")
                digits = src[self.pos + 1 : end]
                self.pos = end + 1
                return _code_point(digits, self.line)
            return self._hex(4)
        return char

    def _hex(self, count: int) -> str:
        digits = self.src[self.pos : self.pos + count]
        self.pos += count
        return _code_point(digits, self.line, exact=count)

    def _string(self, quote: str) -> Token:
        src = self.src
        start, line = self.pos, self.line
        self.pos += 1
        parts: list[str] = []
        while True:
            if self.pos >= len(src) or src[self.pos] == "\n":
                raise JsSyntaxError(line, f"unterminated string {src[start : self.pos][:30]!r}")
            char = src[self.pos]
            if char == quote:
                self.pos += 1
                return Token("string", src[start : self.pos], line, "".join(parts))
            if char == "\\":
                parts.append(self._escape())
            else:
                parts.append(char)
                self.pos += 1

    def _template(self) -> Token:
        src = self.src
        start, line = self.pos, self.line
        self.pos += 1
        parts: list[str] = []
        literal = True
        while True:
            if self.pos >= len(src):
                raise JsSyntaxError(line, "unterminated template literal")
            char = src[self.pos]
            if char == "`":
                self.pos += 1
                value = "".join(parts) if literal else None
                return Token("template", src[start : self.pos], line, value)
            if char == "\\":
                parts.append(self._escape())
            elif src.startswith("${", self.pos):
                literal = False
                self.pos += 2
                self._tokens_until([], closing_brace=True)
            else:
                if char == "\n":
                    self.line += 1
                parts.append(char)
                self.pos += 1

    def _name(self) -> Token:
        start = self.pos
        while self.pos < len(self.src) and _is_name_char(self.src[self.pos]):
            self.pos += 1
        return Token("name", self.src[start : self.pos], self.line)

    def _number(self) -> Token:
        start = self.pos
        src = self.src
        while self.pos < len(src) and (src[self.pos].isalnum() or src[self.pos] in "._"):
            if src[self.pos] in "eE" and src[self.pos + 1 : self.pos + 2] in ("+", "-"):
                self.pos += 1
            self.pos += 1
        return Token("number", src[start : self.pos], self.line)

    def _regex_or_slash(self) -> Token:
        src = self.src
        start = self.pos
        index = start + 1
        in_class = False
        while index < len(src) and src[index] != "\n":
            char = src[index]
            if char == "\\":
                index += 2
                continue
            if char == "[":
                in_class = True
            elif char == "]":
                in_class = False
            elif char == "/" and not in_class:
                index += 1
                while index < len(src) and _is_name_char(src[index]):
                    index += 1
                self.pos = index
                return Token("regex", src[start:index], self.line)
            index += 1
        return self._punct()  # not a regex after all: a division at a line's end

    def _punct(self) -> Token:
        for text in _PUNCTUATORS:
            if self.src.startswith(text, self.pos):
                self.pos += len(text)
                return Token("punct", text, self.line)
        char = self.src[self.pos]
        self.pos += 1
        return Token("punct", char, self.line)


def _code_point(digits: str, line: int, exact: int | None = None) -> str:
    try:
        if exact is not None and len(digits) != exact:
            raise ValueError(digits)
        return chr(int(digits, 16))
    except ValueError:
        raise JsSyntaxError(line, f"bad escape \\x/\\u with {digits!r}") from None


def _regex_allowed(previous: Token | None) -> bool:
    """Whether a ``/`` here starts a regex literal rather than a division."""
    if previous is None:
        return True
    if previous.kind == "punct":
        return previous.raw not in (")", "]", "}")
    if previous.kind == "name":
        return previous.raw in _REGEX_AFTER_WORDS
    return False


def tokenize(source: str) -> list[Token]:
    """Every token of ``source`` except comments; JsSyntaxError on unterminated text."""
    return _Tokenizer(source).run()


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


# --- imports -------------------------------------------------------------------------


@dataclass
class _Bindings:
    named: dict[str, str] = field(default_factory=dict)
    """Local name -> "cron" or "task"."""
    namespaces: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.named or self.namespaces)


def _match(tokens: list[Token], start: int) -> int:
    """Index of the bracket closing the one at ``start`` (or len(tokens) if it never closes)."""
    stack: list[str] = []
    for index in range(start, len(tokens)):
        token = tokens[index]
        if token.kind != "punct":
            continue
        if token.raw in _OPENERS:
            stack.append(_OPENERS[token.raw])
        elif token.raw in _CLOSERS:
            if not stack or stack.pop() != token.raw:
                return len(tokens)
            if not stack:
                return index
    return len(tokens)


def _add_named(bindings: _Bindings, entries: list[list[Token]], rename: str) -> None:
    """``{ cron, task as t }`` (rename "as") or ``{ cron, task: t }`` (rename ":")."""
    for entry in entries:
        names = [t.raw for t in entry if t.kind == "name"]
        if not names or (names[0] == "type" and len(names) > 1 and rename == "as"):
            continue
        imported = names[0]
        local = imported
        for index, token in enumerate(entry):
            if (token.is_name(rename) or token.is_punct(rename)) and index + 1 < len(entry):
                local = entry[index + 1].raw
        if imported in ("cron", "task"):
            bindings.named[local] = imported


def _split(tokens: list[Token], separator: str = ",") -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind == "punct" and token.raw in _OPENERS:
            depth += 1
        elif token.kind == "punct" and token.raw in _CLOSERS:
            depth -= 1
        if depth == 0 and token.is_punct(separator):
            parts.append([])
        else:
            parts[-1].append(token)
    return [part for part in parts if part]


def _static_import(tokens: list[Token], index: int, bindings: _Bindings) -> None:
    """``import ... from "MODULE"`` starting at ``tokens[index]``."""
    end = index + 1
    while end < len(tokens) and not tokens[end].is_name("from") and not tokens[end].is_punct(";"):
        if tokens[end].kind == "string":
            return  # import "side-effect" or a string before any from
        end += 1
    if end + 1 >= len(tokens) or not tokens[end].is_name("from"):
        return
    if tokens[end + 1].literal_text != MODULE:
        return
    clause = tokens[index + 1 : end]
    if clause and clause[0].is_name("type"):
        return  # import type { ... }: no values
    position = 0
    while position < len(clause):
        token = clause[position]
        if token.is_punct("{"):
            close = _match(clause, position)
            _add_named(bindings, _split(clause[position + 1 : close]), "as")
            position = close + 1
            continue
        if token.is_punct("*") and position + 2 < len(clause) and clause[position + 1].is_name("as"):
            bindings.namespaces.add(clause[position + 2].raw)
            position += 3
            continue
        if token.kind == "name":
            bindings.namespaces.add(token.raw)  # default import: pb.cron(...)
        position += 1


def _module_expression(tokens: list[Token], index: int) -> int | None:
    """Start of ``[await] require("MODULE")`` / ``[await] import("MODULE")`` at ``index``."""
    if index + 3 >= len(tokens):
        return None
    head, opening, source, closing = tokens[index : index + 4]
    if not (head.is_name("require") or head.is_name("import")):
        return None
    if not (opening.is_punct("(") and closing.is_punct(")") and source.literal_text == MODULE):
        return None
    if index > 0 and tokens[index - 1].is_name("await"):
        return index - 1
    return index


def _dynamic_import(tokens: list[Token], index: int, bindings: _Bindings) -> None:
    """``const pb = require(MODULE)`` or ``const { cron, task: t } = await import(MODULE)``."""
    start = _module_expression(tokens, index)
    if start is None or start < 2 or not tokens[start - 1].is_punct("="):
        return
    target = tokens[start - 2]
    if target.kind == "name":
        bindings.namespaces.add(target.raw)
    elif target.is_punct("}"):
        depth = 0
        for opening in range(start - 2, -1, -1):
            if tokens[opening].is_punct("}"):
                depth += 1
            elif tokens[opening].is_punct("{"):
                depth -= 1
                if depth == 0:
                    _add_named(bindings, _split(tokens[opening + 1 : start - 2]), ":")
                    return


def find_bindings(tokens: list[Token]) -> _Bindings:
    bindings = _Bindings()
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if token.is_name("import") and following is not None and following.kind != "punct":
            _static_import(tokens, index, bindings)  # import x / import type / import "m"
        elif token.is_name("import") and following is not None and following.raw in ("{", "*"):
            _static_import(tokens, index, bindings)
        elif token.is_name("require") or token.is_name("import"):
            _dynamic_import(tokens, index, bindings)
    return bindings


# --- calls ---------------------------------------------------------------------------


class _Unreadable(Exception):
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
            if token.raw in _OPENERS:
                close = _match(tokens, index)
                if close >= len(tokens):
                    raise _Unreadable("a bracket is never closed")
                index = close + 1
                continue
            if token.raw in (",", ")"):
                return index
            if token.raw in _CLOSERS:
                raise _Unreadable(f"unexpected {token.raw!r}")
        index += 1
    raise _Unreadable("the call is never closed")


def _skip_angles(tokens: list[Token], start: int) -> int | None:
    """Past the ``<...>`` type arguments at ``start``; None if they do not close."""
    depth = 0
    index = start
    limit = min(len(tokens), start + 200)
    while index < limit:
        token = tokens[index]
        if token.kind == "punct" and token.raw in _OPENERS:
            index = _match(tokens, index) + 1
            continue
        if token.is_punct("<"):
            depth += 1
        elif token.is_punct(">"):
            depth -= 1
            if depth == 0:
                return index + 1
        elif token.kind == "punct" and (token.raw in _CLOSERS or token.raw == ";"):
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
        index = _match(tokens, index) + 1
        while index < len(tokens) and not tokens[index].is_punct("{"):
            if tokens[index].kind == "punct" and tokens[index].raw in (",", ")"):
                return _expression_end(tokens, start)
            index += 1
        if index >= len(tokens):
            raise _Unreadable("a function has no body")
        return _expression_end(tokens, _match(tokens, index) + 1)
    if index < len(tokens) and tokens[index].is_punct("<"):
        after = _skip_angles(tokens, index)
        if after is None:
            return _expression_end(tokens, start)
        index = after
    if index < len(tokens) and tokens[index].is_punct("("):
        index = _match(tokens, index) + 1
    elif index < len(tokens) and tokens[index].kind == "name":
        index += 1
    else:
        return _expression_end(tokens, start)
    if index < len(tokens) and tokens[index].is_punct(":"):
        # A return type: walk to the arrow, stepping over brackets.
        while index < len(tokens) and not tokens[index].is_punct("=>"):
            token = tokens[index]
            if token.kind == "punct" and token.raw in _OPENERS:
                index = _match(tokens, index) + 1
                continue
            if token.kind == "punct" and token.raw in (")", ";", "}", "]"):
                return _expression_end(tokens, start)
            index += 1
    if index >= len(tokens) or not tokens[index].is_punct("=>"):
        return _expression_end(tokens, start)
    index += 1
    if index < len(tokens) and tokens[index].is_punct("{"):
        index = _match(tokens, index) + 1
    return _expression_end(tokens, index)


def _arguments(tokens: list[Token], opening: int, handler_at: int) -> tuple[list[list[Token]], int]:
    """The call's arguments as token lists, and the index of its closing parenthesis."""
    arguments: list[list[Token]] = []
    index = opening + 1
    while True:
        if index >= len(tokens):
            raise _Unreadable("the call is never closed")
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
    raise _Skip(f"the {what} is not a string literal: {_shown(argument)}")


class _Skip(Exception):
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
    raise _Skip(f'option "{key}" is not a literal: {_shown(tokens)}')


def _number(text: str) -> int | float:
    cleaned = text.replace("_", "")
    try:
        if cleaned[:2].lower() in ("0x", "0o", "0b"):
            return int(cleaned, 0)
        value = float(cleaned)
    except ValueError:
        raise _Skip(f"cannot read the number {text}") from None
    return int(value) if value.is_integer() and "." not in cleaned and "e" not in cleaned.lower() else value


def _strip_type_suffix(argument: list[Token]) -> list[Token]:
    """``{ ... } as const`` / ``{ ... } satisfies Options`` -> ``{ ... }``."""
    if argument and argument[0].is_punct("{"):
        close = _match(argument, 0)
        following = argument[close + 1] if close + 1 < len(argument) else None
        if following is not None and (following.is_name("as") or following.is_name("satisfies")):
            return argument[: close + 1]
    return argument


def _options(argument: list[Token]) -> dict[str, Any]:
    argument = _strip_type_suffix(argument)
    if len(argument) == 1 and (argument[0].is_name("undefined") or argument[0].is_name("null")):
        return {}
    if not argument or not argument[0].is_punct("{") or _match(argument, 0) != len(argument) - 1:
        raise _Skip(f"the options are not an object literal: {_shown(argument)}")
    options: dict[str, Any] = {}
    for entry in _split(argument[1:-1]):
        if entry[0].is_punct("..."):
            raise _Skip(f"the options spread another object: {_shown(entry)}")
        key_token = entry[0]
        if key_token.kind == "name" or key_token.kind == "number":
            key = key_token.raw
        elif key_token.literal_text is not None:
            key = key_token.literal_text  # type: ignore[assignment]
        else:
            raise _Skip(f"an option key is computed: {_shown(entry)}")
        if len(entry) < 3 or not entry[1].is_punct(":"):
            raise _Skip(f'option "{key}" is not a literal: {_shown(entry)}')
        if key not in OPTION_KEYS:
            continue
        value = _literal_value(entry[2:], key)
        if value is not None:
            options[key] = value
    return options


def _call_at(tokens: list[Token], index: int, bindings: _Bindings) -> tuple[str, int] | None:
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


def _read_call(kind: str, arguments: list[list[Token]], source: str) -> JsFunction:
    needed = 3 if kind == "cron" else 2
    if len(arguments) < needed:
        shape = (
            "cron(name, schedule, handler, options?)" if kind == "cron" else "task(name, handler, options?)"
        )
        raise _Skip(f"{kind}() has {len(arguments)} arguments, expected {shape}")
    name = _string_argument(arguments[0], "name")
    schedule = _string_argument(arguments[1], "schedule") if kind == "cron" else None
    options = _options(arguments[needed]) if len(arguments) > needed else {}
    return JsFunction(name=name, type=kind, schedule=schedule, options=options, source=source)


def scan_source(text: str, label: str) -> tuple[list[JsFunction], list[Skipped]]:
    """Every ``cron``/``task`` call of one file; ``label`` is its path for ``file:line``."""
    if MODULE not in text:
        return [], []
    try:
        tokens = tokenize(text)
    except JsSyntaxError as exc:
        return [], [Skipped(f"{label}:{exc.line}", f"cannot read this file: {exc}")]
    bindings = find_bindings(tokens)
    if not bindings:
        return [], []
    found: list[JsFunction] = []
    skipped: list[Skipped] = []
    index = 0
    while index < len(tokens):
        call = _call_at(tokens, index, bindings)
        if call is None:
            index += 1
            continue
        kind, opening = call
        source = f"{label}:{tokens[index].line}"
        try:
            arguments, _ = _arguments(tokens, opening, 2 if kind == "cron" else 1)
        except _Unreadable as exc:
            skipped.append(Skipped(source, f"cannot follow this {kind}() call: {exc}"))
            index = opening + 1
            continue
        try:
            found.append(_read_call(kind, arguments, source))
        except _Skip as exc:
            skipped.append(Skipped(source, f"{kind}() skipped: {exc}"))
        # Calls nested inside a handler (rare) are still found: continue inside the call.
        index = opening + 1
    return found, skipped


# --- files ---------------------------------------------------------------------------


def js_paths(settings: dict[str, Any]) -> list[str] | None:
    """``[tool.pingback] js-paths``, validated; None when not configured."""
    configured = settings.get("js-paths")
    if configured is None:
        return None
    if not isinstance(configured, list) or not all(isinstance(p, str) and p for p in configured):
        raise ProjectError(
            f"[tool.pingback] js-paths must be a list of folders or files, got {configured!r}",
            hint='e.g. js-paths = ["lib/pingback", "app/jobs"]',
        )
    return configured


def source_files(root: Path, paths: Iterable[str]) -> list[Path]:
    """JS/TS files under ``paths`` (folders or files relative to ``root``), sorted, once each."""
    found: dict[Path, None] = {}
    files_seen: set[str] = set()
    for entry in paths:
        base = Path(entry) if Path(entry).is_absolute() else root / entry
        if base.is_file():
            found[base] = None
            continue
        walked: set[str] = set()
        # Symlinked folders are followed, each real folder once (no loops), as for Python
        # files (pingback_cli/project/files.py): discovery and the watcher agree.
        for current, dirs, files in os.walk(base, followlinks=True):
            walked.add(os.path.realpath(current))
            dirs[:] = sorted(
                d
                for d in dirs
                if not skipped_folder(Path(current, d))
                and os.path.realpath(os.path.join(current, d)) not in walked
            )
            for name in sorted(files):
                real = os.path.realpath(os.path.join(current, name))
                if real in files_seen:
                    continue
                if name.endswith(EXTENSIONS) and not name.endswith((".d.ts", ".d.mts", ".d.cts")):
                    files_seen.add(real)
                    found[Path(current) / name] = None
    return list(found)


def _label(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def scan_paths(root: Path, paths: Iterable[str]) -> ScanResult:
    """Scan every file under ``paths``; a name declared twice keeps its first declaration."""
    searched = list(paths)
    result = ScanResult(searched=searched)
    seen: dict[str, JsFunction] = {}
    for path in source_files(root, searched):
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if MODULE not in text:
            continue
        result.files.append(path)
        functions, skipped = scan_source(text, _label(path, root))
        result.skipped.extend(skipped)
        for function in functions:
            first = seen.get(function.name)
            if first is not None:
                result.skipped.append(
                    Skipped(function.source, f'"{function.name}" is already defined at {first.source}')
                )
                continue
            seen[function.name] = function
            result.functions.append(function)
    return result


def scan_project(root: Path, settings: dict[str, Any]) -> ScanResult:
    configured = js_paths(settings)
    return scan_paths(root, configured if configured is not None else DEFAULT_PATHS)
