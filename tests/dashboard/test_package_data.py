"""The README's non-editable `pip install .` ships the dashboard's templates and static files."""

from __future__ import annotations

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


@pytest.mark.long
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
            "--target",
            str(target),
            str(ROOT),
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
