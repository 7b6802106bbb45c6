"""The JavaScript/TypeScript tokenizer of the static scan: strings, template literals,
comments and regex literals, enough to find calls and read literal arguments without
running any JavaScript. ``JsSyntaxError`` on unterminated text.
"""

from __future__ import annotations

from dataclasses import dataclass

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
OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = frozenset(OPENERS.values())
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
