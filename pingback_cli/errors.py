"""One exception tree for the whole tool, and the exit codes the CLI maps it to."""

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


class UsageError(PingbackError):
    """Bad input on the command line: a name, a payload, an id."""

    exit_code = ExitCode.USAGE


class EmulatorRunning(UsageError):
    """Another `pingback dev` holds this project's emulator lock (``state.DevLock``)."""


class ProjectError(PingbackError):
    """The project could not be loaded: import failure, invalid options, duplicates."""

    exit_code = ExitCode.PROJECT


class HistoryError(PingbackError):
    """The history file cannot be opened or written."""

    exit_code = ExitCode.PROJECT


class PlatformError(PingbackError):
    """A platform API (local emulator or hosted) refused or could not be reached."""

    exit_code = ExitCode.USAGE
