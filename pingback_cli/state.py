"""``.pingback/`` in the project root: history, the completion manifest, and where a running
`pingback dev` serves its API (``dev.json``), so `pingback trigger` finds it on any --port."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

NAME = ".pingback"
HISTORY = "history.sqlite3"


def state_dir(root: Path) -> Path:
    return root / NAME


def ensure(directory: Path) -> None:
    """Create the folder, ignoring itself in git; raises OSError when it cannot."""
    directory.mkdir(parents=True, exist_ok=True)
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("*\n", encoding="utf-8")


FILE_NAME = "dev.json"
DEFAULT_LOCAL_URL = "http://127.0.0.1:8765"
"""Where `pingback dev` listens unless told otherwise."""


def _path(root: Path) -> Path:
    return state_dir(root) / FILE_NAME


def announce(root: Path, api_url: str) -> None:
    path = _path(root)
    with contextlib.suppress(OSError):
        ensure(path.parent)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"pid": os.getpid(), "apiUrl": api_url}), encoding="utf-8")
        temporary.replace(path)


def withdraw(root: Path) -> None:
    with contextlib.suppress(OSError):
        path = _path(root)
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()


def running_api_url(root: Path) -> str | None:
    """The API of the `pingback dev` running in this project, if there is one."""
    try:
        state = json.loads(_path(root).read_text(encoding="utf-8"))
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    url = state.get("apiUrl")
    return url if isinstance(url, str) else None
