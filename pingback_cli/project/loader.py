"""Find a project, load its environment, import it, and collect every Pingback function.

Runs in the CLI process (``pingback ls``) and in the worker subprocess, so it
imports nothing heavy: no Rich, no Typer, no croniter.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import re
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pingback_cli.errors import ProjectError
from pingback_cli.project.config import (
    UNREACHABLE_PLATFORM,
    ProjectConfig,
    missing_module_hint,
    nothing_uses_pingback,
)
from pingback_cli.project.files import leave_out_hint, scan_files
from pingback_cli.record import Record


class RawFunction(Record):
    """A function as read from an SDK instance, before validation."""

    __slots__ = _fields = ("name", "definition", "source", "instance")

    def __init__(self, name: str, definition: dict[str, Any], source: str | None, instance: Any) -> None:
        self.name = name
        self.definition = definition
        self.source = source
        self.instance = instance

    def to_json(self) -> dict[str, Any]:
        definition = self.definition
        return {
            "name": self.name,
            "type": definition.get("type"),
            "schedule": definition.get("schedule"),
            "retries": definition.get("retries", 0),
            "timeout": definition.get("timeout"),
            "concurrency": definition.get("concurrency", 1),
            "source": self.source,
        }


# --- watching the SDK while the user's code imports --------------------------------


class _Capture:
    """What the SDK's hooks saw while the user's code imported: ``sources``, each (instance, name)
    declaration's ``file:line``; ``callers``, that of the code calling it (a factory's call site);
    ``duplicates``, (name, (first declaration, its caller), (second declaration, its caller))."""

    __slots__ = ("callers", "duplicates", "instances", "platform_url", "sources")

    def __init__(self, platform_url: str) -> None:
        self.platform_url = platform_url
        self.instances: list[Any] = []
        self.sources: dict[tuple[int, str], str] = {}
        self.callers: dict[tuple[int, str], str | None] = {}
        self.duplicates: list[tuple[str, tuple[str | None, str | None], tuple[str, str | None]]] = []


_capture: _Capture | None = None
_hooked = False
imported_user_code = False
"""Set once this process has imported the user's project (its threads may outlive our work)."""


def _install_hooks() -> None:
    """Patch the SDK class once so every instance and declaration is seen."""
    global _hooked
    if _hooked:
        return
    from pingback.client import Pingback

    original_init = Pingback.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if _capture is not None:
            self.platform_url = _capture.platform_url
            _capture.instances.append(self)

    def declaration(original: Any) -> Any:
        def declare(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
            caller = sys._getframe(1)
            where = f"{caller.f_code.co_filename}:{caller.f_lineno}"
            outer = caller.f_back
            via = None
            if outer is not None and not outer.f_code.co_filename.startswith("<"):  # not importlib
                via = f"{outer.f_code.co_filename}:{outer.f_lineno}"
            decorate = original(self, name, *args, **kwargs)

            def register(fn: Any) -> Any:
                if _capture is not None:
                    key = (id(self), name)
                    if name in self._functions:
                        first = (_capture.sources.get(key), _capture.callers.get(key))
                        _capture.duplicates.append((name, first, (where, via)))
                    _capture.sources[key] = where
                    _capture.callers[key] = via
                return decorate(fn)

            return register

        return declare

    Pingback.__init__ = init  # type: ignore[method-assign]
    Pingback.cron = declaration(Pingback.cron)  # type: ignore[method-assign]
    Pingback.task = declaration(Pingback.task)  # type: ignore[method-assign]
    _hooked = True


def _relative(location: str, root: Path) -> str:
    """``file:line`` with the file relative to the project root: as reached (a file in a
    symlinked folder is shown under the link's name), else as resolved, else normalised."""
    path, _, line = location.rpartition(":")
    return f"{_project_path(Path(path), root)}:{line}"


def _project_path(path: Path, root: Path) -> str:
    reached = Path(os.path.normpath(path.absolute()))
    for candidate in (reached, path.resolve()):
        with contextlib.suppress(ValueError):
            return candidate.relative_to(root).as_posix()
    return str(reached)


def _handler_location(definition: dict[str, Any]) -> str | None:
    handler = definition.get("handler")
    code = getattr(handler, "__code__", None)
    if code is None:
        return None
    return f"{code.co_filename}:{code.co_firstlineno}"


# --- importing ---------------------------------------------------------------------


def _module_name(path: Path, search_roots: list[Path]) -> str | None:
    """The dotted name ``path`` imports as from a search root; a file in a symlinked folder
    imports under the link's name (``shared.jobs``), as Python would find it."""
    for base in search_roots:
        try:
            relative = Path(os.path.normpath(path.absolute())).relative_to(base)
        except ValueError:
            try:
                relative = path.resolve().relative_to(base)
            except ValueError:
                continue
        parts = list(relative.with_suffix("").parts)
        if parts and parts[-1] == "__init__":
            parts.pop()
        if parts and all(part.isidentifier() for part in parts):
            return ".".join(parts)
    return None


def _brief_traceback(exc: BaseException) -> str:
    """The user's frames only: ours and importlib's are noise to them."""
    ours = str(Path(__file__).resolve().parent)
    summary = traceback.TracebackException.from_exception(exc)
    kept = [
        frame
        for frame in summary.stack
        if not frame.filename.startswith(ours) and "importlib" not in frame.filename
    ]
    summary.stack = traceback.StackSummary.from_list(kept[-6:])
    return "".join(summary.format()).rstrip()


def _import_path(path: Path, search_roots: list[Path]) -> Any:
    name = _module_name(path, search_roots)
    if name is not None:
        _forget_other(name, path)
        return importlib.import_module(name)
    unique = "pingback_project_" + re.sub(r"\W", "_", str(path.resolve()))
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    spec.loader.exec_module(module)
    return module


def _forget_other(name: str, path: Path) -> None:
    """Drop module ``name`` imported from another file than ``path`` (a process loading two
    projects, e.g. the pytest plugin's, got the first one's ``jobs`` for the second)."""
    where = getattr(sys.modules.get(name), "__file__", None)
    if where is not None and Path(where).resolve() != path.resolve():
        del sys.modules[name]


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """User code printing at import time must not corrupt ``--json`` output."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def put_on_path(root: Path) -> list[Path]:
    """Make the project's modules importable (``src/`` first when it exists), as its app would
    see them; returns those folders."""
    search_roots = [root / "src", root] if (root / "src").is_dir() else [root]
    for base in reversed(search_roots):
        if str(base) not in sys.path:
            sys.path.insert(0, str(base))
    return search_roots


def _import_all(config: ProjectConfig, notices: list[str]) -> Any:
    """Import the target; returns the selected attribute for ``module:attribute`` targets."""
    root = config.root
    search_roots = put_on_path(root)
    target = config.app
    attribute: str | None = None
    if target and ":" in target and not re.match(r"^[A-Za-z]:[\\/]", target):
        target, attribute = target.rsplit(":", 1)

    if target is None:
        scan = scan_files(root, loose=config.marker is None)
        notices.extend(scan.notices)
        files = scan.files
        if not files:
            raise nothing_uses_pingback(config)
        for path in files:
            try:
                _import_one(lambda path=path: _import_path(path, search_roots), str(path), root)
            except ProjectError as exc:  # the scan chose it: say so, and how to leave it out
                if config.marker is not None:  # (else the hint says where the project root is)
                    shown = _display(str(path), root)
                    exc.hint = leave_out_hint(path, shown, files, lambda f: _module_name(f, search_roots))
                raise
        return None

    path = Path(target) if Path(target).is_absolute() else root / target
    if path.is_dir():
        scan = scan_files(path)
        notices.extend(scan.notices)
        files = scan.files
        if not files:
            raise ProjectError(f"no Python file in {path} uses pingback")
        for file in files:
            _import_one(lambda file=file: _import_path(file, search_roots), str(file), root)
        return None
    if target.endswith(".py") or path.is_file():
        if not path.is_file():
            raise ProjectError(f"--app file {target} does not exist")
        module = _import_one(lambda: _import_path(path, search_roots), target, root)
    else:
        module = _import_one(lambda: importlib.import_module(target), target, root)
    if attribute is None:
        return None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ProjectError(f"{target} has no attribute {attribute!r}") from None


def _import_one(load: Any, label: str, root: Path) -> Any:
    with _stdout_to_stderr():
        try:
            return load()
        except ModuleNotFoundError as exc:
            if exc.name and label.replace("/", ".").startswith(exc.name):
                raise ProjectError(
                    f"cannot find module {label}",
                    hint="check --app, PINGBACK_APP or [tool.pingback] app",
                ) from None
            raise ProjectError(
                f"importing {_display(label, root)} failed: {type(exc).__name__}: {exc}",
                hint=missing_module_hint(root),
                details=_brief_traceback(exc),
            ) from None
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise ProjectError(
                f"importing {_display(label, root)} failed: {type(exc).__name__}: {exc}",
                hint="fix the error in your code (traceback below)",
                details=_brief_traceback(exc),
            ) from None


def _display(label: str, root: Path) -> str:
    return _project_path(Path(label), root) if ("/" in label or label.endswith(".py")) else label


def load_project(
    config: ProjectConfig,
    *,
    platform_url: str = UNREACHABLE_PLATFORM,
    adopt: Sequence[Any] = (),
    notices: list[str] | None = None,
) -> list[RawFunction]:
    """Import the project and return every function of every Pingback instance it made.

    Every instance's ``platform_url`` is pointed at ``platform_url`` so that the
    SDK's registration and ``trigger()`` calls stay on this machine. ``adopt``: instances
    made before this call (a test process that imported the project itself); modules
    already imported do not run again, so they would not be seen otherwise. ``notices``
    hears about folders the file rule skipped that have files using pingback.
    """
    global _capture
    try:
        _install_hooks()
    except ImportError:
        raise ProjectError(
            "pingback-py is not installed in this Python environment",
            hint="pip install pingback-py (and install pingback-cli into the same environment)",
        ) from None
    from pingback.client import Pingback

    global imported_user_code
    imported_user_code = True
    _capture = _Capture(platform_url=platform_url)
    try:
        selected = _import_all(config, notices if notices is not None else [])
        capture = _capture
    finally:
        _capture = None

    if selected is not None:
        if not isinstance(selected, Pingback):
            raise ProjectError(f"--app {config.app} is a {type(selected).__name__}, not a Pingback")
        selected.platform_url = platform_url
        instances = [selected]
    else:
        instances = [*adopt, *(found for found in capture.instances if found not in adopt)]
        for instance in adopt:
            instance.platform_url = platform_url
    if not instances:
        raise ProjectError(
            f"the project imported, but created no Pingback instance ({config.app or config.root})",
            hint="create one with Pingback(api_key=..., cron_secret=...) at module level",
        )
    if capture.duplicates:
        raise _duplicate_error(*capture.duplicates[0], config.root)
    return _collect(instances, capture, config.root)


def _duplicate_error(
    name: str, first: tuple[str | None, str | None], second: tuple[str, str | None], root: Path
) -> ProjectError:
    """Two declarations of ``name``; when one line ran twice (a factory called twice), say so
    and name the two calls that ran it."""
    (first_at, first_via), (second_at, second_via) = first, second
    hint = "give each cron and task a unique name"
    if first_at != second_at:
        return ProjectError(
            f'function "{name}" is defined twice: at {_relative(first_at or "?:?", root)} '
            f"and at {_relative(second_at, root)}",
            hint=hint,
        )
    calls = " (is its file imported twice, under two module names?)"
    if first_via and second_via:
        calls = f": called from {_relative(first_via, root)} and from {_relative(second_via, root)}"
        if first_via == second_via:
            calls = f": both times called from {_relative(first_via, root)} (in a loop?)"
    return ProjectError(
        f'function "{name}" is defined twice by the same line, {_relative(second_at, root)}, '
        f"which ran twice{calls}",
        hint="call the code that declares it once, or give each call its own name "
        '(e.g. pb.task(f"sync-{source}"))',
    )


def _collect(instances: list[Any], capture: _Capture, root: Path) -> list[RawFunction]:
    functions: dict[str, RawFunction] = {}
    for instance in instances:
        registry = getattr(instance, "_functions", None)
        if not isinstance(registry, dict):
            raise ProjectError(
                "this pingback-py version keeps no function registry we can read",
                hint="install a supported SDK: pip install 'pingback-py>=0.3,<0.4'",
            )
        for name, definition in registry.items():
            if not isinstance(definition, dict):
                continue
            where = capture.sources.get((id(instance), name)) or _handler_location(definition)
            source = _relative(where, root) if where else None
            if name in functions:
                raise ProjectError(
                    f'function "{name}" is defined by two Pingback instances: at '
                    f"{functions[name].source} and at {source}",
                    hint="give each cron and task a unique name",
                )
            functions[name] = RawFunction(name, definition, source, instance)
    return list(functions.values())
