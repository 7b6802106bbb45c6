"""``.pingback/`` in the project root: history, the completion manifest, the lock that keeps
one `pingback dev` per project (``dev.lock``), and where that dev serves its API
(``dev.json``), so `pingback trigger` finds it on any --port."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

NAME = ".pingback"
HISTORY = "history.sqlite3"
LOCK = "dev.lock"


def state_dir(root: Path) -> Path:
    return root / NAME


@contextlib.contextmanager
def kept_only_for_a_project(root: Path) -> Iterator[None]:
    """A command that finds no project (a ProjectError escapes), or a `pingback dev` that could
    not start listening (CannotListen), leaves no ``.pingback/`` behind when there was none
    before it started."""
    from pingback_cli.errors import CannotListen, ProjectError

    existed = state_dir(root).exists()
    try:
        yield
    except (ProjectError, CannotListen):
        if not existed:
            shutil.rmtree(state_dir(root), ignore_errors=True)
        raise


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


class DevLock:
    """One `pingback dev` per project: an exclusive ``flock`` on ``.pingback/dev.lock``.

    The kernel drops the lock when the holder dies, ``kill -9`` included, so a stale lock
    cannot outlive its process. The file is never deleted (deleting it would let a second
    process lock a new file while the first still holds the old one); it holds the
    holder's pid. The descriptor is not inherited by the worker subprocess.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = state_dir(root) / LOCK
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise EmulatorRunning naming the holder (pid, API URL). Raises
        OSError when ``.pingback/`` cannot be created."""
        try:
            import fcntl
        except ImportError:  # not a POSIX system: no lock, as before
            return
        ensure(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise self._held_elsewhere() from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid()}).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the only descriptor releases the flock

    def __enter__(self) -> DevLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def _held_elsewhere(self) -> Exception:
        from pingback_cli.errors import EmulatorRunning

        pid: object = "?"
        with contextlib.suppress(OSError, ValueError, AttributeError):
            pid = json.loads(self.path.read_text(encoding="utf-8")).get("pid", "?")
        url = running_api_url(self.root)
        where = f"pid {pid}, API {url}" if url else f"pid {pid}, still starting"
        return EmulatorRunning(
            f"pingback dev is already running in this project ({where})",
            hint="`pingback trigger NAME` and the SDK reach the running one; stop it "
            f"(Ctrl-C in its terminal, or kill {pid}) to start another here",
        )


NOTICES = "notices.json"
_NOTICES_KEPT = 200


def first_time(root: Path, notice: str) -> bool:
    """Whether ``notice`` was never said in this project before; records it as said. A notice
    that is designed to be said once (what a plan would cut with no plan set), not at every
    run. True when ``.pingback/`` cannot be read or written: then it is said every time."""
    path = state_dir(root) / NOTICES
    try:
        said = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        if not isinstance(said, list):
            said = []
    except (OSError, ValueError):
        said = []
    if notice in said:
        return False
    with contextlib.suppress(OSError):
        ensure(path.parent)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps([*said, notice][-_NOTICES_KEPT:]), encoding="utf-8")
        os.replace(temporary, path)
    return True
