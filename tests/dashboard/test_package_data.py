"""The README's non-editable `pip install .` ships the dashboard's templates and static files."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import asyncio, sys, tempfile
    from pathlib import Path
    import httpx
    from starlette.applications import Starlette
    import pingback_cli
    assert pingback_cli.__file__.startswith(sys.argv[1]), pingback_cli.__file__
    from pingback_cli.dashboard.app import dashboard_routes
    from pingback_cli.dashboard.source import HistorySource
    from pingback_cli.history.store import Store

    async def main():
        folder = Path(tempfile.mkdtemp())
        Store(folder / "h.sqlite3").close()
        with Store(folder / "h.sqlite3", readonly=True) as store:
            source = HistorySource(folder, store)
            app = Starlette(routes=dashboard_routes(source, host="127.0.0.1", api_key=None))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:1") as client:
                for path in ("/", "/functions", "/logs", "/static/app.js", "/static/app.css"):
                    response = await client.get(path)
                    assert response.status_code == 200, (path, response.status_code)
                print("served")

    asyncio.run(main())
    """
)


SETUPTOOLS_REQUIRED = 77
"""pyproject.toml's [build-system] requires setuptools>=77 (PEP 639 license strings)."""


def _build_isolation() -> list[str]:
    """``--no-build-isolation`` when this environment has the build backend pyproject.toml asks
    for (the dev extra installs it): pip then builds with it instead of creating a throwaway
    environment and installing setuptools into it, ~3.5 s of CPU of the ~5 this test took. The
    wheel is built from the same files by the same backend either way."""
    assert f'requires = ["setuptools>={SETUPTOOLS_REQUIRED}"]' in (ROOT / "pyproject.toml").read_text(
        encoding="utf-8"
    ), "pyproject.toml's build requirement changed: update SETUPTOOLS_REQUIRED"
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return []
    return ["--no-build-isolation"] if major >= SETUPTOOLS_REQUIRED else []


def _clean_source(into: Path) -> Path:
    """The files a clean checkout builds from. Not the working tree itself: the editable
    install's pingback_cli.egg-info/SOURCES.txt (and a build/ folder) there list the templates
    and static files already, and setuptools ships what they list, so a broken package-data
    table went unnoticed."""
    source = into / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "pingback_cli", source / "pingback_cli", ignore=shutil.ignore_patterns("__pycache__")
    )
    return source


@pytest.mark.long(5)
def test_a_non_editable_install_serves_templates_and_static_files(tmp_path: Path) -> None:
    target = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            *_build_isolation(),
            "--target",
            str(target),
            str(_clean_source(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    assert (target / "pingback_cli" / "dashboard" / "templates" / "execution.html").is_file()
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    assert "served" in probe.stdout
