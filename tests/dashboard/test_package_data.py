"""The README's non-editable `pip install .` ships the dashboard's templates and static files."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import textwrap
import zipfile
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


def _has_build_backend() -> bool:
    """Whether this environment has the build backend pyproject.toml asks for (the dev extra
    installs it)."""
    assert f'requires = ["setuptools>={SETUPTOOLS_REQUIRED}"]' in (ROOT / "pyproject.toml").read_text(
        encoding="utf-8"
    ), "pyproject.toml's build requirement changed: update SETUPTOOLS_REQUIRED"
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return major >= SETUPTOOLS_REQUIRED


BUILD_WHEEL = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
"""What pip runs to build the wheel it installs: the PEP 517 backend's ``build_wheel``."""


def _install(source: Path, target: Path) -> None:
    """A non-editable install of ``source`` into ``target``: the wheel pyproject.toml's build
    backend makes of it, unpacked, as ``pip install`` installs a pure-Python wheel. pip itself
    cost ~1.2 s of the ~1.6 s of CPU its install took (its start, its resolver, a subprocess to
    call the same backend); without the backend here, pip builds in an isolated environment."""
    if not _has_build_backend():
        install = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(source)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=source.parent,
        )
        assert install.returncode == 0, install.stderr[-3000:]
        return
    wheels = source.parent / "wheels"
    build = subprocess.run(
        [sys.executable, "-c", BUILD_WHEEL, str(wheels)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=source,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    with zipfile.ZipFile(wheels / build.stdout.strip().splitlines()[-1]) as wheel:
        wheel.extractall(target)


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
    _install(_clean_source(tmp_path), target)
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
