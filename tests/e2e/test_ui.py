"""`pingback ui`: the dashboard over history alone, through the installed command."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import httpx
from cli_support import cli_env, free_port, pingback_command, poll, record_tree, run_cli, run_in_process
from reliability.helpers import assert_one_error_line

from e2e.conftest import copy_project


def test_ui_without_history_says_so(tmp_path: Path) -> None:
    project = copy_project("dashproj", tmp_path)
    result = run_cli(project, "ui", "--port", str(free_port()))
    assert_one_error_line(result, 3, "no history yet")


def test_ui_serves_history_read_only(tmp_path: Path) -> None:
    project = copy_project("dashproj", tmp_path)
    execution_id = record_tree(project, "echo", {"hello": "<b>there</b>"})  # a run in history
    port = free_port()
    process = subprocess.Popen(
        [pingback_command(), "ui", "--port", str(port)],
        cwd=project,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def page() -> httpx.Response | None:
            try:
                return httpx.get(base + "/", timeout=5)
            except httpx.TransportError:
                return None

        runs = poll("pingback ui to answer", page, 20)
        assert runs.status_code == 200
        assert execution_id in runs.text
        shown = httpx.get(f"{base}/executions/{execution_id[:8]}", timeout=5).text
        assert "&lt;b&gt;there&lt;/b&gt;" in shown and "<b>there</b>" not in shown
        token = re.search(r'name="csrf-token" content="([^"]+)"', runs.text)
        assert token is not None
        refused = httpx.post(
            base + "/actions/run",
            json={"function": "echo"},
            headers={"X-Pingback-CSRF": token[1], "Origin": base},
            timeout=5,
        )
        assert refused.status_code == 409
        assert "needs `pingback dev`" in refused.json()["error"]
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    assert f"{base}/" in stdout
    assert "Traceback" not in stderr


def test_ui_is_listed_in_help(tmp_path: Path) -> None:
    result = run_in_process(tmp_path, "--help")  # the installed --help: tests/e2e/test_help.py
    assert re.search(r"\bui\b", result.stdout), result.stdout
