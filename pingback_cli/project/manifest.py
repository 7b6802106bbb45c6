"""The manifest cache: ``<project>/.pingback/manifest.json``, what the project last defined.

Every successful load of the project (``pingback ls``, ``run``, ``dev`` and its reloads)
rewrites it, so shell completion can offer function names without importing the user's
code. Completion runs on every TAB, so this module imports only the standard library,
and readers never fail: a missing or unreadable manifest is an empty one.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from pingback_cli import state as statedir

MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"


class _Declared(Protocol):
    """What the manifest needs of a function (``FunctionSpec`` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def schedule(self) -> str | None: ...


def manifest_path(root: Path) -> Path:
    return statedir.state_dir(root) / MANIFEST_NAME


def manifest_data(functions: Iterable[_Declared]) -> dict[str, Any]:
    listed = sorted(
        ({"name": f.name, "type": f.type, "schedule": f.schedule} for f in functions),
        key=lambda entry: entry["name"],
    )
    return {"version": MANIFEST_VERSION, "functions": listed}


def write_manifest(root: Path, functions: Iterable[_Declared]) -> bool:
    """Atomically replace the manifest; False (and no exception) when it cannot be written.

    It is a cache: a read-only checkout must not make ``pingback ls`` fail.
    """
    path = manifest_path(root)
    text = json.dumps(manifest_data(functions), indent=2, ensure_ascii=False) + "\n"
    try:
        if not path.parent.is_dir():
            statedir.ensure(path.parent)
        with contextlib.suppress(OSError):
            if path.read_text(encoding="utf-8") == text:
                return True
        # Not mkstemp: its 0600 mode would make the manifest private to its writer.
        temporary = path.with_name(f".{MANIFEST_NAME}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        try:
            with temporary.open("x", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError:
        return False
    return True


def read_manifest(root: Path) -> list[dict[str, Any]]:
    """The functions the manifest lists (name, type, schedule); [] when there is none."""
    try:
        data = json.loads(manifest_path(root).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return []
    functions = data.get("functions") if isinstance(data, dict) else None
    if not isinstance(functions, list):
        return []
    return [
        entry
        for entry in functions
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"]
    ]


def project_root(start: Path) -> Path:
    """The nearest folder holding a pyproject.toml, else ``start`` (as ``project.find_root``).

    Repeated here so completion need not import the project loader.
    """
    start = start.absolute()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return start
