"""What every command shares: the --app and --json options, payload input, the error boundary."""

from __future__ import annotations

import contextlib
import gc
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from pingback_cli.errors import ExitCode, PingbackError, UsageError
from pingback_cli.usage import PAYLOAD_OPTION

EXIT_CODES = (
    "Exit codes: 0 every execution succeeded; 1 an execution failed; "
    "2 bad usage or input; 3 the project could not be loaded; 130 interrupted."
)

AppOption = Annotated[
    str | None,
    typer.Option(
        "--app",
        "-a",
        help="Where the project's functions are: a module, module:attribute, a file or a folder. "
        "Default: PINGBACK_APP, then [tool.pingback] app, then every file in the project "
        "that uses pingback. Example: --app myapp.jobs:pb",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of tables and trees.")
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        help="Bearer key for the platform. Default: PINGBACK_API_KEY (from the environment or .env).",
        show_default=False,
    ),
]
PlanOption = Annotated[
    str | None,
    typer.Option(
        "--plan",
        help="Apply a platform plan's limits: free, pro or team (fan-out and retries capped as "
        "production caps them). Default: PINGBACK_PLAN, then [tool.pingback] plan, else no cap.",
        show_default=False,
    ),
]
PlatformUrlOption = Annotated[
    str | None,
    typer.Option(
        "--platform-url",
        help="Look at this platform (hosted, self-hosted, or another project's `pingback dev`) through its "
        "API. Default: PINGBACK_PLATFORM_URL (from the environment or .env), else this project's "
        "running `pingback dev` or its history.",
        show_default=False,
    ),
]
ConcurrencyOption = Annotated[
    str | None,
    typer.Option(
        "--concurrency",
        help='"platform": one pool of 20 executions for the project, crons overlap, as production '
        'runs them (its code never reads a function\'s concurrency); "documented": each function '
        "at most its concurrency at once, extra cron fires skipped. "
        "Default: [tool.pingback] concurrency, else platform.",
        show_default=False,
    ),
]
PayloadOption = Annotated[
    str | None,
    typer.Option(
        PAYLOAD_OPTION,
        "-p",
        help="The payload as JSON, @file.json to read a file, or - to read stdin. "
        'Example: --payload \'{"id": "1"}\'',
        show_default=False,
    ),
]


def terminal(*, bound: bool = False) -> Any:
    """The terminal facade; ``bound``: its stdout console keeps writing to today's
    ``sys.stdout`` even while a library redirects it (handlers' prints go to stderr)."""
    from pingback_cli.terminal import Terminal

    if bound:
        import sys

        return Terminal(out_file=sys.stdout)
    return Terminal()


def looking_at(out: Any, found: Any, *, stderr: bool = False) -> None:
    """The first line when a command looks at a platform given by URL: which one. On stderr
    (``trigger``, whose stdout is the id alone) only when it is a terminal."""
    if found is None or found.local or (stderr and not out.err.is_terminal):
        return
    from rich.text import Text

    line = Text(f"{found.name}", style="dim")
    (out.err if stderr else out.out).print(line)


def fail(error: PingbackError) -> NoReturn:
    terminal().error(error.message, hint=error.hint, details=error.details)
    raise typer.Exit(int(error.exit_code))


@contextlib.contextmanager
def boundary() -> Iterator[None]:
    """Map our errors to one readable line and an exit code; never a traceback."""
    try:
        yield
    except PingbackError as error:
        fail(error)
    except KeyboardInterrupt:
        terminal().error("interrupted")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


def read_payload(value: str | None) -> tuple[Any, bool]:
    """``--payload`` text -> (payload, has_payload); UsageError on unreadable or invalid JSON."""
    if value is None:
        return None, False
    source = PAYLOAD_OPTION
    text = value
    if value == "-":
        source = "stdin"
        text = _read_stdin()
    elif value.startswith("@"):
        if value == "@":
            raise UsageError(f"{PAYLOAD_OPTION} @ needs a file name", hint="e.g. --payload @payload.json")
        path = Path(value[1:])
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"cannot read payload file {path}: it is not UTF-8 text ({exc.reason})",
                hint="save it as UTF-8 (JSON text is UTF-8)",
            ) from None
        except OSError as exc:
            raise UsageError(
                f"cannot read payload file {path}: {exc.strerror or exc}",
                hint="pass @path/to/file.json with a file that exists",
            ) from None
    from pingback_cli.protocol import strict_loads

    _refuse_non_characters(source, text, text)
    try:
        payload = strict_loads(text, finite=True)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"payload from {source} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            hint=_payload_hint(value),
        ) from None
    except ValueError as exc:  # NaN or Infinity, which only Python's json reads
        raise UsageError(
            f"payload from {source} is not valid JSON: {exc}",
            hint="send null or a string for a value that is not a finite number",
        ) from None
    except RecursionError:
        raise UsageError(f"payload from {source} is nested too deeply to read") from None
    if "\\u" in text:  # a "\\udce9" escape decodes to a lone surrogate
        _refuse_non_characters(source, text, json.dumps(payload, ensure_ascii=False))
    return payload, True


def _read_stdin() -> str:
    """Standard input as UTF-8 text, read as bytes: the text stream's own decoding depends on
    the locale and PYTHONIOENCODING (strict: a traceback; surrogateescape: bytes smuggled into
    the payload). UsageError naming the first byte that is not UTF-8."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # replaced by a text-only stream (tests run commands in process)
        return sys.stdin.read()
    data = stream.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"payload from stdin is not UTF-8 text (byte 0x{data[exc.start]:02X})",
            hint='send UTF-8 text, or write the character as a JSON escape, e.g. "\\u00e9"',
        ) from None


def _refuse_non_characters(source: str, text: str, decoded: str) -> None:
    """UsageError when ``decoded`` holds a lone surrogate (``protocol.lone_surrogate``), which
    history (SQLite text) and an HTTP body cannot hold: bytes of ``text`` that were not UTF-8
    (Python reads argv and a C-locale stdin with ``surrogateescape``), or a JSON escape of half
    a surrogate pair. Without this the run failed later, in the worker pipe and history."""
    from pingback_cli.protocol import lone_surrogate

    bad = lone_surrogate(decoded)
    if bad is None:
        return
    if decoded is text and 0xDC80 <= ord(bad) <= 0xDCFF:
        raise UsageError(
            f"payload from {source} is not UTF-8 text (byte 0x{ord(bad) - 0xDC00:02X})",
            hint='send UTF-8 text, or write the character as a JSON escape, e.g. "\\u00e9"',
        )
    raise UsageError(
        f"payload from {source} holds a lone UTF-16 surrogate (\\u{ord(bad):04x}), which is not a character",
        hint="write the character itself, or both halves of its surrogate pair",
    )


def _payload_hint(value: str) -> str:
    """What to do about invalid JSON, by where it came from (``--payload`` text, ``-``, ``@file``)."""
    if value == "-":
        return 'pipe one JSON value to stdin, e.g. echo \'{"id": "1"}\' | pingback run NAME --payload -'
    if value.startswith("@"):
        return f"fix the JSON in {value[1:]} (the position above is in that file)"
    return 'quote it for your shell, e.g. --payload \'{"id": "1"}\''


def read_instant(flag: str, value: str) -> float:
    """``--at``/``--from``-style ISO-8601 text -> unix seconds (UTC when no offset is given);
    UsageError naming ``flag`` otherwise."""
    from pingback_cli.testing.times import instant

    try:
        return instant(value)
    except ValueError:
        raise UsageError(
            f"{flag} {value!r} is not a point in time", hint="write ISO-8601 UTC, e.g. 2026-12-01T02:59:00Z"
        ) from None


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """Python's cyclic garbage collector made less eager while `run` or `dev` works, then as
    it was.

    A run keeps every execution it makes until its tree is printed (10,000 or 100,000 for a
    fan-out), and each young collection promotes more of them into the generations a full
    collection walks again: with the default threshold (700 allocations) the collector was
    ~10-20% of the engine process's CPU in a fan-out (100,000 failing children: 18.8 -> 16.7 s).
    Start-up's objects (Typer, Rich, the project, the web stack) are frozen out of its walks and
    a young collection comes every 20,000 allocations; both are put back afterwards, as the
    command may run inside another process (tests run commands in process). Start-up ends
    here (``startup.release``): its raised threshold is put back first, then this one is set."""
    from pingback_cli import startup

    startup.release()
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(20_000, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
