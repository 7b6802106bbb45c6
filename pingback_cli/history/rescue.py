"""A history file that cannot be used as it is: moved aside when corrupt (never deleted), read
as immutable in a folder that refuses writes.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from pingback_cli.errors import HistoryError


def is_corrupt(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def move_aside(path: Path) -> Path:
    """Keep a corrupt history file (never delete it) and make room for a fresh one."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while target.exists():  # rename() would replace an earlier copy from the same second
        number += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
    try:
        path.rename(target)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(target.with_name(target.name + suffix))
    except OSError as exc:
        raise HistoryError(
            f"history file {path} is corrupt and could not be moved aside: {exc.strerror or exc}",
            hint=f"move {path} away yourself; pingback will start a new one",
        ) from exc
    return target


def in_read_only_folder(path: Path) -> bool:
    """True when the folder refuses a new file (root ignores permission bits, not this)."""
    probe = path.with_name(f".pingback-probe-{os.getpid()}")
    try:
        probe.touch()
    except OSError:
        return True
    probe.unlink(missing_ok=True)
    return False
