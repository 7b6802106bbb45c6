"""Loading the project under test into the test's own process.

A test module often imports the project itself (to monkeypatch what a handler uses) before
the fixture loads it; Python does not run a module twice, so the SDK instances those modules
made are adopted from ``sys.modules`` instead of being looked for at import.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from pingback_cli.project.config import ProjectConfig, load_env
from pingback_cli.project.files import project_files
from pingback_cli.project.loader import RawFunction, load_project


def load_here(config: ProjectConfig, platform_url: str) -> list[RawFunction]:
    """Every function of the project, its SDK instances pointed at ``platform_url`` and
    marked registered (the virtual platform knows the functions; nothing is posted)."""
    functions = load_project(config, platform_url=platform_url, adopt=imported_instances(config))
    for function in functions:
        function.instance._registered = True
    return functions


def imported_instances(config: ProjectConfig) -> list[Any]:
    """Pingback instances held by already imported modules of the project (as ``--app`` selects)."""
    try:
        from pingback.client import Pingback
    except ImportError:
        return []
    wanted = _selector(config)
    found: list[Any] = []
    for name, module in list(sys.modules.items()):
        if not wanted(name, getattr(module, "__file__", None)):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, Pingback) and value not in found:
                found.append(value)
    return found


def _selector(config: ProjectConfig) -> Any:
    root = str(config.root)
    target = config.app.rsplit(":", 1)[0] if config.app and ":" in config.app else config.app
    if target and not target.endswith(".py") and not (config.root / target).exists():
        return lambda name, _file: name == target or name.startswith(target + ".")
    folder = config.root if target is None else config.root / target
    files = {str(path.resolve()) for path in project_files(folder)} if folder.is_dir() else set()
    if folder.is_file():
        files.add(str(folder.resolve()))

    def wanted(_name: str, file: str | None) -> bool:
        return bool(file) and file.startswith(root) and str(Path(file).resolve()) in files  # type: ignore[union-attr]

    return wanted


class EnvironmentPatch:
    """``load_env`` for a test: the variables it adds are removed again by ``restore``."""

    def __init__(self, root: Path) -> None:
        before = set(os.environ)
        load_env(root)
        self._added = set(os.environ) - before

    def restore(self) -> None:
        for key in self._added:
            os.environ.pop(key, None)
