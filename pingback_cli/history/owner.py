"""Which process owns a row: ``pid:start-time``, and whether that process still runs.

A later start marks the unfinished rows of a dead owner interrupted.
"""

from __future__ import annotations

import os


def process_identity(pid: int) -> str:
    """``pid:start-time``: a pid alone may be reused by an unrelated process."""
    return f"{pid}:{_start_time(pid) or ''}"


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            # Field 22 (start time), counted after the parenthesised command name.
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def is_alive(owner: str | None) -> bool:
    if not owner:
        return False
    pid_text, _, started = owner.partition(":")
    try:
        pid = int(pid_text)
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (ValueError, OSError):
        return False
    return not started or _start_time(pid) in (None, started)
