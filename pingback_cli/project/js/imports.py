"""How a file imports ``cron``/``task`` from ``@usepingback/next``: named, aliased,
namespace, default, ``require`` and dynamic ``import()``, as bindings the call reader uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pingback_cli.project.js.tokens import CLOSERS, OPENERS, Token

MODULE = "@usepingback/next"


# --- imports -------------------------------------------------------------------------


@dataclass
class Bindings:
    named: dict[str, str] = field(default_factory=dict)
    """Local name -> "cron" or "task"."""
    namespaces: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.named or self.namespaces)


def matching(tokens: list[Token], start: int) -> int:
    """Index of the bracket closing the one at ``start`` (or len(tokens) if it never closes)."""
    stack: list[str] = []
    for index in range(start, len(tokens)):
        token = tokens[index]
        if token.kind != "punct":
            continue
        if token.raw in OPENERS:
            stack.append(OPENERS[token.raw])
        elif token.raw in CLOSERS:
            if not stack or stack.pop() != token.raw:
                return len(tokens)
            if not stack:
                return index
    return len(tokens)


def _add_named(bindings: Bindings, entries: list[list[Token]], rename: str) -> None:
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


def split_top(tokens: list[Token], separator: str = ",") -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind == "punct" and token.raw in OPENERS:
            depth += 1
        elif token.kind == "punct" and token.raw in CLOSERS:
            depth -= 1
        if depth == 0 and token.is_punct(separator):
            parts.append([])
        else:
            parts[-1].append(token)
    return [part for part in parts if part]


def _static_import(tokens: list[Token], index: int, bindings: Bindings) -> None:
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
            close = matching(clause, position)
            _add_named(bindings, split_top(clause[position + 1 : close]), "as")
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


def _dynamic_import(tokens: list[Token], index: int, bindings: Bindings) -> None:
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
                    _add_named(bindings, split_top(tokens[opening + 1 : start - 2]), ":")
                    return


def find_bindings(tokens: list[Token]) -> Bindings:
    bindings = Bindings()
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
