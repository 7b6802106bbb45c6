"""Which files belong to the project: the one rule that discovery and the reloader's watcher
share.

The rule, folder by folder from the project root:

- a folder is skipped when its name is hidden (``.git``, ``.venv``), in :data:`SKIPPED_DIRS`,
  ends in ``.egg-info``, or it holds a ``pyvenv.cfg`` (a virtualenv of any name);
- a symlinked folder inside the project is followed like any folder (wherever it points),
  under its name in the project, unless it leads to a folder being walked or one holding
  it (a loop), or to one already walked (its files are listed once, where first seen);
- when the root is no project (no marker there or above: ``config.ROOT_MARKERS``), a
  subfolder that is a project of its own (:data:`OWN_PROJECT_MARKERS`) is not searched, and
  in a shared folder (``~``, ``/``, the temporary folder) no subfolder is: a command typed
  there by mistake imports no one else's code;
- test files (``test_*.py``, ``*_test.py``, ``conftest.py``) and ``setup.py``/``noxfile.py``
  are not the project's functions.

Discovery imports the files that use pingback; the watcher reloads on any file the rule
keeps. A folder the rule skips by name that has files using pingback (``build/``,
``dist/``, ``.hidden``-free names outside :data:`QUIET_SKIPS`) is named once in a notice, so
nothing the user wrote is skipped silently.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from pingback_cli.record import Record

SKIPPED_DIRS = frozenset(
    {
        "node_modules",
        "venv",
        "env",
        "__pycache__",
        "build",
        "dist",
        "out",
        "coverage",
        "site-packages",
        "tests",
        "test",
    }
)

QUIET_SKIPS = frozenset({"node_modules", "venv", "env", "__pycache__", "site-packages", "tests", "test"})
"""Skipped folders never worth a notice: environments, caches and the project's tests."""

OWN_PROJECT_MARKERS = ("pyproject.toml", "package.json", "setup.py", ".git", ".pingback")
"""What makes a subfolder another project, for a scan whose root is none (see the rule)."""

USES_PINGBACK = re.compile(
    r"^\s*(?:from\s+pingback(?:\.\w+)*\s+import\b|import\s+pingback\b)"
    r"|^\s*@\s*[\w.]+\.(?:cron|task)\(",
    re.MULTILINE,
)

JS_EXTENSIONS = (".ts", ".tsx", ".js", ".mjs", ".cjs", ".mts", ".cts")
"""A JavaScript/TypeScript project's source files (``project/js/scan.py``; `dev` watches them)."""
MAX_SOURCE_BYTES = 1_000_000


class ProjectFiles(Record):
    """What :func:`scan_files` found: the files that use pingback and why others were skipped."""

    __slots__ = _fields = ("files", "notices")

    def __init__(self, files: list[Path] | None = None, notices: list[str] | None = None) -> None:
        self.files = [] if files is None else files
        self.notices = [] if notices is None else notices


def skipped_folder(folder: Path) -> bool:
    """Whether the rule skips ``folder`` by its name or because it is a virtualenv."""
    name = folder.name
    return (
        name.startswith(".")
        or name in SKIPPED_DIRS
        or name.endswith(".egg-info")
        or (folder / "pyvenv.cfg").exists()
    )


def is_test_file(name: str) -> bool:
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name in {"conftest.py", "setup.py", "noxfile.py"}
    )


def belongs(root: Path, path: Path) -> bool:
    """Whether ``path`` (as the watcher reports it, under ``root``) is kept by the rule: no
    folder on the way from ``root`` is skipped. Judges only the part inside the project, so a
    project under a folder named ``build/`` still counts."""
    try:
        inside = path.relative_to(root)
    except ValueError:
        return False
    folder = root
    for part in inside.parts[:-1]:
        folder = folder / part
        if skipped_folder(folder):
            return False
    return True


def leave_out_hint(
    failed: Path, shown: str, files: list[Path], module_of: Callable[[Path], str | None]
) -> str:
    """What to do when ``failed`` (``shown`` as), one of the scanned ``files``, cannot be imported: it was
    imported only because it uses pingback (the rule above); production imports what the app
    imports, so a helper script outside the app is named out with ``app`` (``module_of`` gives a
    file's module name: the first other file's is the example)."""
    example = next((name for path in files if path != failed and (name := module_of(path))), None)
    setting = f'[tool.pingback] app = "{example}"' if example else "[tool.pingback] app"
    return (
        f"pingback imported {shown} because it uses pingback, as it imports every such file; "
        "fix it or install what it needs, or, if it is not part of your app, name the module that "
        f"defines your functions with --app or {setting}"
    )


def uses_pingback(path: Path) -> bool:
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if path.stat().st_size < MAX_SOURCE_BYTES:
            return USES_PINGBACK.search(path.read_text(encoding="utf-8")) is not None
    return False


def scan_files(folder: Path, *, loose: bool = False) -> ProjectFiles:
    """Python files under ``folder`` that use pingback, by the rule above, in a stable order
    (each folder's files, then its subfolders, by name); each file once. ``loose``: ``folder``
    is no project (no root marker), so subfolders that are projects of their own are skipped."""
    found = ProjectFiles()
    walk = _Walk(folder, loose, found.notices)
    for here, files in walk.folder(folder):
        for name in files:
            path = here / name
            if name.endswith(".py") and not is_test_file(name) and uses_pingback(path):
                found.files.append(path)
    return found


def project_files(folder: Path, *, loose: bool = False) -> list[Path]:
    """:func:`scan_files`'s files only."""
    return scan_files(folder, loose=loose).files


class _Walk:
    """One scan's walk: the folders being walked (to stop at loops) and those already walked."""

    def __init__(self, root: Path, loose: bool, notices: list[str]) -> None:
        self.root = root
        self.loose = loose
        self.files_only = loose and shared_folder(root)
        """A shared folder (``~``, ``/tmp``) and no project: its own files, no subfolder."""
        self.notices = notices
        self.walking: set[str] = set()
        self.walked: set[str] = set()

    def folder(self, here: Path) -> Iterator[tuple[Path, list[str]]]:
        real = os.path.realpath(here)
        self.walking.add(real)
        self.walked.add(real)
        try:
            entries = sorted(os.scandir(here), key=lambda entry: entry.name)
        except OSError:
            self.walking.discard(real)
            return
        yield here, [entry.name for entry in entries if _is_file(entry)]
        if self.files_only:
            return
        for entry in entries:
            if _is_dir(entry):
                yield from self._subfolder(here / entry.name)
        self.walking.discard(real)

    def _subfolder(self, child: Path) -> Iterator[tuple[Path, list[str]]]:
        name = child.name
        if skipped_folder(child):
            if name not in QUIET_SKIPS and not name.startswith("."):
                _note_skipped(self.root, child, f"folders named {name} are not scanned", self.notices)
            return
        if self.loose and any((child / marker).exists() for marker in OWN_PROJECT_MARKERS):
            why = "a project of its own: run pingback there"
            _note_skipped(self.root, child, why, self.notices)
            return
        target = os.path.realpath(child)
        if target in self.walked or _contains(target, self.walking):
            # A link back to a folder being walked, or to one that holds the scan (a loop),
            # or the same folder reached again: its files are listed once, from where first seen.
            return
        yield from self.folder(child)


def shared_folder(folder: Path) -> bool:
    """Whether ``folder`` is one that holds many people's or projects' folders."""
    import tempfile  # only when asked: the worker imports this module

    shared = {Path.home(), Path(tempfile.gettempdir()), Path("/tmp"), Path(os.sep)}
    return folder.resolve() in {path.resolve() for path in shared}


def _contains(target: str, walking: set[str]) -> bool:
    """Whether ``target`` is, or holds, a folder being walked."""
    prefix = target.rstrip(os.sep) + os.sep
    return any(folder == target or folder.startswith(prefix) for folder in walking)


def _note_skipped(root: Path, folder: Path, why: str, notices: list[str]) -> None:
    """A notice when a skipped folder holds files that use pingback (searched a few levels)."""
    users = [path for path in _python_files(folder, depth=3) if uses_pingback(path)]
    if not users:
        return
    shown = ", ".join(_label(root, path) for path in users[:3])
    more = f" and {len(users) - 3} more" if len(users) > 3 else ""
    notices.append(
        f"skipped {_label(root, folder)}/ ({why}), which has files that use pingback: {shown}{more}"
    )


def _python_files(folder: Path, depth: int) -> Iterator[Path]:
    with contextlib.suppress(OSError):
        for entry in sorted(os.scandir(folder), key=lambda entry: entry.name):
            if _is_file(entry) and entry.name.endswith(".py") and not is_test_file(entry.name):
                yield folder / entry.name
            elif depth > 0 and _is_dir(entry) and not entry.is_symlink():
                child = folder / entry.name
                if not (entry.name.startswith(".") or (child / "pyvenv.cfg").exists()):
                    yield from _python_files(child, depth - 1)


def _label(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows symlinks: a linked folder is a folder
    except OSError:
        return False
