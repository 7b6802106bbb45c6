"""Where the project is and how it is configured: the root, ``[tool.pingback]``, the layered
``.env`` files and the local defaults of the two secrets. Pure but for reading files.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pingback_cli.errors import ProjectError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


DEV_API_KEY = "pb_local_dev_api_key"


DEV_CRON_SECRET = "pb_local_dev_cron_secret"


UNREACHABLE_PLATFORM = "http://127.0.0.1:9"
"""Where SDK calls go when no local API is running: refused at once, never the internet."""


@dataclass
class ProjectConfig:
    """Where the project is and how to load it."""

    root: Path
    app: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)


def find_root(start: Path) -> Path:
    """The nearest folder holding a pyproject.toml; without one anywhere up, the nearest
    holding a package.json (a JavaScript project); else ``start`` itself."""
    start = start.resolve()
    for marker in ("pyproject.toml", "package.json"):
        for folder in (start, *start.parents):
            if (folder / marker).is_file():
                return folder
    return start


def read_settings(root: Path) -> dict[str, Any]:
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProjectError(f"cannot read {pyproject}: {exc}") from None
    settings = data.get("tool", {}).get("pingback", {})
    return settings if isinstance(settings, dict) else {}


def configure(app: str | None = None, cwd: Path | None = None) -> ProjectConfig:
    """Resolve the project root and target from the option, the environment and pyproject."""
    root = find_root(cwd or Path.cwd())
    settings = read_settings(root)
    target = app or os.environ.get("PINGBACK_APP") or settings.get("app")
    return ProjectConfig(root=root, app=str(target) if target else None, settings=settings)


def load_env(root: Path) -> None:
    """Load .env then .env.local (real environment wins), then default the two secrets."""
    from dotenv import dotenv_values

    merged: dict[str, str | None] = {}
    for name in (".env", ".env.local"):
        path = root / name
        if path.is_file():
            merged.update(dotenv_values(path))
    for key, value in merged.items():
        if value is not None and key not in os.environ:
            os.environ[key] = value
    os.environ.setdefault("PINGBACK_API_KEY", DEV_API_KEY)
    os.environ.setdefault("PINGBACK_CRON_SECRET", DEV_CRON_SECRET)
