"""Find the crons and tasks a JavaScript/TypeScript project declares with ``@usepingback/next``,
without running any JavaScript.

A small tokenizer (``tokens``: strings, template literals, comments, regex literals)
feeds a scanner that resolves how the file imports ``cron``/``task`` (``imports``:
named, aliased, namespace, default, ``require``) and reads each call's literal
arguments (``calls``)::

    cron("name", "*/5 * * * *", handler, { retries: 2, timeout: "15s", concurrency: 3 })
    task("name", async (ctx, payload) => { ... }, { retries: 1 })

A call whose name, schedule or options are not literals is skipped with a reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pingback_cli.errors import ProjectError
from pingback_cli.project.files import JS_EXTENSIONS, skipped_folder
from pingback_cli.project.js.calls import (
    JsFunction,
    ScanResult,
    Skip,
    Skipped,
    Unreadable,
    call_arguments,
    call_at,
    read_call,
)
from pingback_cli.project.js.imports import MODULE, find_bindings
from pingback_cli.project.js.tokens import JsSyntaxError, tokenize

DEFAULT_PATHS = ("lib/pingback", "src/lib/pingback")
MAX_FILE_BYTES = 2_000_000


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
        call = call_at(tokens, index, bindings)
        if call is None:
            index += 1
            continue
        kind, opening = call
        source = f"{label}:{tokens[index].line}"
        try:
            arguments, _ = call_arguments(tokens, opening, 2 if kind == "cron" else 1)
        except Unreadable as exc:
            skipped.append(Skipped(source, f"cannot follow this {kind}() call: {exc}"))
            index = opening + 1
            continue
        try:
            found.append(read_call(kind, arguments, source))
        except Skip as exc:
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
                if name.endswith(JS_EXTENSIONS) and not name.endswith((".d.ts", ".d.mts", ".d.cts")):
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
