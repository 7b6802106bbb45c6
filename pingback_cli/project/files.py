"""Which files belong to the project: the one rule that discovery and the reloader's watcher
share (skipped folders, test files, files that use pingback).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover - exercised on 3.10 only
    pass


SKIPPED_DIRS = frozenset(
    {
        "node_modules",
        "venv",
        "env",
        "__pycache__",
        "build",
        "dist",
        "site-packages",
        "tests",
        "test",
    }
)


USES_PINGBACK = re.compile(
    r"^\s*(?:from\s+pingback(?:\.\w+)*\s+import\b|import\s+pingback\b)"
    r"|^\s*@\s*[\w.]+\.(?:cron|task)\(",
    re.MULTILINE,
)


def project_files(folder: Path) -> list[Path]:
    """Python files under ``folder`` that use pingback, skipping envs, tests and build output."""
    found: list[Path] = []
    for current, dirs, files in os.walk(folder):
        here = Path(current)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in SKIPPED_DIRS
            and not d.endswith(".egg-info")
            and not (here / d / "pyvenv.cfg").exists()
        )
        for name in sorted(files):
            if not name.endswith(".py") or _is_test_file(name):
                continue
            path = here / name
            with contextlib.suppress(OSError, UnicodeDecodeError):
                if path.stat().st_size < 1_000_000 and USES_PINGBACK.search(path.read_text(encoding="utf-8")):
                    found.append(path)
    return found


def _is_test_file(name: str) -> bool:
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name in {"conftest.py", "setup.py", "noxfile.py"}
    )
