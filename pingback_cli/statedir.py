"""``.pingback/`` in the project root: history, the completion manifest, the dev's address."""

from __future__ import annotations

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
