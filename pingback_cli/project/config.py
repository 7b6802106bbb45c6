"""Where the project is and how it is configured: the root, ``[tool.pingback]``, the layered
``.env`` files and the local defaults of the two secrets. Pure but for reading files.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pingback_cli.errors import ProjectError
from pingback_cli.project.files import shared_folder
from pingback_cli.record import Record

DEV_API_KEY = "pb_local_dev_api_key"


DEV_CRON_SECRET = "pb_local_dev_cron_secret"


UNREACHABLE_PLATFORM = "http://127.0.0.1:9"
"""Where SDK calls go when no local API is running: refused at once, never the internet."""


FIND = object()
"""``ProjectConfig.marker``'s default: read it from the folder."""


class ProjectConfig(Record):
    """Where the project is and how to load it."""

    __slots__ = _fields = ("root", "app", "settings", "marker")
    marker: str | None
    """What made ``root`` the root (:data:`ROOT_MARKERS`), read when the project is found,
    before a command writes its own state there (a worker is told it); None: no folder up
    from it is a project."""

    def __init__(
        self, root: Path, app: str | None = None, settings: dict[str, Any] | None = None, marker: Any = FIND
    ) -> None:
        self.root = root
        self.app = app
        self.settings = {} if settings is None else settings
        self.marker = root_marker(root) if marker is FIND else marker


ROOT_MARKERS = ("pyproject.toml", "package.json", ".pingback")
"""What makes a folder a project root, in order (``find_root``): a ``.pingback/`` folder (local
history, made by the first command that ran there) marks a project that has neither file, so
its subfolders find it too (not in a shared folder: ``files.shared_folder``)."""


def find_root(start: Path) -> Path:
    """The nearest folder holding a pyproject.toml; without one anywhere up, the nearest
    holding a package.json (a JavaScript project), then a ``.pingback/``; else ``start``."""
    start = start.resolve()
    for marker in ROOT_MARKERS:
        for folder in (start, *start.parents):
            if _marks(folder, marker):
                return folder
    return start


def root_marker(root: Path) -> str | None:
    """The file that made ``root`` the project root, or None when no folder from where the
    command ran up to ``/`` holds one (the root is then that folder itself)."""
    return next((marker for marker in ROOT_MARKERS if _marks(root, marker)), None)


def _marks(folder: Path, marker: str) -> bool:
    """Whether ``marker`` in ``folder`` makes it a project root. A ``.pingback/`` does once it
    holds history (not only the lock of a `pingback dev` still finding its project), and not
    in a shared folder (``~``, ``/tmp``), or every folder below would be its project."""
    if marker != ".pingback":
        return (folder / marker).exists()
    return (folder / marker / "history.sqlite3").is_file() and not shared_folder(folder)


def nothing_uses_pingback(config: ProjectConfig, *, js: bool = False) -> ProjectError:
    """The error for a root where no file uses pingback, naming the folder(s) tried and why
    each is not a project. ``js``: the JS/TS scan found nothing either."""
    root, marker = config.root, config.marker
    found = f"no Python file in {root} uses pingback (imports it, or declares @pb.cron/@pb.task)"
    if js:
        found += ", and no JS/TS file imports @usepingback/next"
    if marker is None:
        markers = ", ".join(ROOT_MARKERS[:-1]) + f" or {ROOT_MARKERS[-1]}/"
        message = f"no project here: no {markers} in {root} or any folder above it, and {found}"
        if shared_folder(root):
            message += " (in a shared folder like this one, pingback searches no subfolder)"
    else:
        message = f"{found}; it is the project root, as the nearest folder holding a {marker}"
    hint = "run this in your project folder, or point at it with --app MODULE|FILE|DIR"
    if marker is None:
        hint += ", or start one here with `pingback init`"
    if js:
        hint += ", or list your JS/TS folders in [tool.pingback] js-paths"
    return ProjectError(message, hint=hint)


def read_settings(root: Path) -> dict[str, Any]:
    """``[tool.pingback]`` of ``root``'s pyproject.toml ({} without one). ProjectError when the
    file cannot be read or is not TOML."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    # Here, not at the top: the worker imports this module and never reads settings (its
    # parent did), and tomllib compiles its regular expressions when imported (~2 ms).
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib

    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProjectError(f"cannot read {pyproject}: {exc}") from None
    settings = data.get("tool", {}).get("pingback", {})
    return settings if isinstance(settings, dict) else {}


def configure(app: str | None = None, cwd: Path | None = None) -> ProjectConfig:
    """Resolve the project root and target from the option, ``PINGBACK_APP`` (the real
    environment, then ``.env.local``, then ``.env``, like every other variable) and pyproject."""
    root = find_root(cwd or Path.cwd())
    settings = read_settings(root)
    environ = real_environment()
    target = app or environ.get("PINGBACK_APP") or env_file_values(root, environ).get("PINGBACK_APP")
    target = target or settings.get("app")
    return ProjectConfig(root=root, app=str(target) if target else None, settings=settings)


def open_project(app: str | None = None, cwd: Path | None = None) -> ProjectConfig:
    """What every command that runs or names the project's code starts with: the project
    (:func:`configure`) with its env files loaded into ``os.environ`` (:func:`load_env`)."""
    config = configure(app, cwd)
    load_env(config.root)
    return config


ENV_FILES = (".env.local", ".env")
"""The project's env files, the one that wins first; the real environment beats both."""

_from_files: dict[str, str] = {}
"""What :func:`load_env` last wrote into ``os.environ``: values derived from the files, which a
later load must not mistake for the real environment's."""


def real_environment() -> dict[str, str]:
    """``os.environ`` without the values :func:`load_env` put there from the env files."""
    return {key: value for key, value in os.environ.items() if _from_files.get(key) != value}


def env_file_values(root: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables the env files give the project, as they are now, resolved.

    Precedence is the environment, then ``.env.local``, then ``.env`` (Next.js's and
    python-dotenv's users' order): a key the environment (``environ``, default
    :func:`real_environment`) sets is not returned. ``${VAR}`` and ``${VAR:-default}`` in any
    file resolve to VAR's winning value wherever it is defined (environment or either file),
    so ``.env.local``'s ``API_URL=${BASE_URL}/api`` uses ``.env``'s BASE_URL; a reference to
    the key itself (``PATH=${PATH}:bin``) or a cycle takes the next definition down. The two
    secrets default to the local development values. ProjectError when a file is unreadable.
    """
    environ = real_environment() if environ is None else environ
    layers = [_raw_env_file(root / name) for name in ENV_FILES]
    resolved = _Resolver(environ, layers)
    keys = [key for layer in reversed(layers) for key, raw in layer.items() if raw is not None]
    values = {key: resolved.winning(key) or "" for key in dict.fromkeys(keys) if key not in environ}
    for key, default in (("PINGBACK_API_KEY", DEV_API_KEY), ("PINGBACK_CRON_SECRET", DEV_CRON_SECRET)):
        if key not in environ and key not in values:
            values[key] = default
    return values


def project_environment(root: Path) -> dict[str, str]:
    """The environment a worker process gets: the real one plus the env files as they are now."""
    environ = real_environment()
    return {**environ, **env_file_values(root, environ)}


@contextlib.contextmanager
def env_files_applied(root: Path) -> Iterator[dict[str, str]]:
    """``os.environ`` with the env files' values while the user's code is imported in a
    long-lived process (``pingback dev`` reading an endpoint project), then as it was."""
    values = env_file_values(root)
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield values
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def load_env(root: Path) -> dict[str, str]:
    """Put the env files' values into ``os.environ`` (for the user's code imported in this
    process), replacing what an earlier load put there: a value removed from a file is gone.
    Returns the values set."""
    global _from_files
    environ = real_environment()
    values = env_file_values(root, environ)
    for key, old in _from_files.items():
        if key not in values and os.environ.get(key) == old:
            del os.environ[key]
    os.environ.update(values)
    _from_files = values
    return values


def _raw_env_file(path: Path) -> dict[str, str | None]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    try:
        return dotenv_values(path, interpolate=False)
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"cannot read {path}: {exc}", hint="save it as UTF-8 text") from None


class _Resolver:
    """``${VAR}`` references across the environment and the layered files (highest first)."""

    def __init__(self, environ: Mapping[str, str], layers: list[dict[str, str | None]]) -> None:
        self.environ = environ
        self.layers = layers
        self._busy: set[tuple[str, int]] = set()

    def winning(self, key: str, below: int = 0) -> str | None:
        """VAR's value from the environment, else from the first file at index >= ``below``."""
        if key in self.environ:
            return self.environ[key]
        for index in range(below, len(self.layers)):
            if self.layers[index].get(key) is not None:
                return self.value(key, index)
        return None

    def value(self, key: str, index: int) -> str | None:
        """The definition of ``key`` in file ``index``, its references resolved."""
        if (key, index) in self._busy:  # a cycle: fall to the next definition down
            return self.winning(key, index + 1)
        raw = self.layers[index].get(key)
        if raw is None:
            return None
        from dotenv.variables import Variable, parse_variables

        self._busy.add((key, index))
        try:
            parts: list[str] = []
            for atom in parse_variables(raw):
                if not isinstance(atom, Variable):
                    parts.append(atom.resolve({}))
                    continue
                found = self.winning(atom.name, index + 1 if atom.name == key else 0)
                parts.append(found if found is not None else (atom.default or ""))
            return "".join(parts)
        finally:
            self._busy.discard((key, index))


def missing_module_hint(root: Path) -> str:
    """A module the code imports is missing: a bug or a missing install; or, when no folder up
    from here is a project (no pyproject.toml), code that imports from a folder above ``root``."""
    if root_marker(root) is None:
        return (
            f"no pyproject.toml in {root} or above, so pingback imported the code from {root}: if it "
            "imports from a folder above, run pingback there (or add a pyproject.toml at the "
            "project's root); else install what it needs"
        )
    return "fix the error in your code (traceback below), or install what it needs"
