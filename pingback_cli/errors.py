"""One exception tree for the whole tool, and the exit codes the CLI maps it to.

Every error a user can see is a ``PingbackError``: one line (``message``), what to do
(``hint``), and at each boundary it is mapped by TYPE, never by its text:

- the CLI (``cli/common.py`` ``boundary``): ``exit_code`` of the type, one line on stderr;
- the platform API (``emulator/api.py``): ``NotFound`` -> 404, ``Unavailable`` -> 503,
  every other ``PingbackError`` -> 400.

Layer-local errors stay in their layer (they carry no exit code) and are turned into a
``PingbackError`` (or a warning) where they leave it:

- ``ScheduleError`` (``project/cron.py``): ``project/specs.py`` ``build_spec`` turns it into
  ``InvalidFunction``; ``check/rules.py`` into a finding.
- ``DurationError`` (``project/durations.py``): ``build_spec`` -> ``InvalidFunction``;
  ``emulator/api.py`` (a trigger's ``delay``) -> 400; ``check/rules.py`` -> a finding.
- ``InvalidFunction`` (``project/specs.py``): ``build_specs`` -> ``ProjectError`` (every
  invalid function at once); ``project/discovery.py`` when lenient -> a warning;
  ``emulator/api.py`` (register) -> 400.
- ``JsSyntaxError`` (``project/js``, the tokenizer): ``scan_source`` -> a skipped-file warning.
- ``AttemptTimeout`` (``engine/clock.py``): ``engine/engine.py`` -> the attempt's "timed out".
- ``ApiError`` (``emulator/api.py``, request parsing): the same module -> its status.

Third-party errors (sqlite3, httpx, OSError) become one of these where they enter:
``history/store.py`` -> ``HistoryError``, ``client.py`` -> ``PlatformError``, the API
server's bind -> ``CannotListen``; ``executors/http.py`` turns each failure of the
user's app into that attempt's error, never an exception.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    EXECUTION_FAILED = 1
    USAGE = 2
    PROJECT = 3
    INTERRUPTED = 130


class PingbackError(Exception):
    """An error we explain in one line; ``hint`` says what to do about it."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None, details: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details
        """Extra text shown under the message, e.g. the user's own traceback."""


class CannotListen(PingbackError):
    """The API's address is taken (another `pingback dev`?) or not this machine's."""

    exit_code = ExitCode.USAGE


class UsageError(PingbackError):
    """Bad input on the command line: a name, a payload, an id."""

    exit_code = ExitCode.USAGE


class EmulatorRunning(UsageError):
    """Another `pingback dev` holds this project's emulator lock (``state.DevLock``)."""


class NotFound(UsageError):
    """The thing named does not exist: a function, an execution id. The API answers 404."""


class Unavailable(PingbackError):
    """New work is refused for now (the emulator is loading or stopping). The API answers 503."""


class Interrupted(PingbackError):
    """Ctrl-C (or SIGTERM) arrived before the work began; nothing was left running."""

    exit_code = ExitCode.INTERRUPTED


class ProjectError(PingbackError):
    """The project could not be loaded: import failure, invalid options, duplicates."""

    exit_code = ExitCode.PROJECT


class HistoryError(PingbackError):
    """The history file cannot be opened or written."""

    exit_code = ExitCode.PROJECT


class PlatformError(PingbackError):
    """A platform API (local emulator or hosted) refused or could not be reached."""

    exit_code = ExitCode.USAGE
