"""`pingback trigger` sends to the `pingback dev` running in this project, and only to it: not to
whatever listens on the default port, not to another project's dev whose ``.pingback/dev.json``
was copied along; ``--platform-url`` still sends anywhere on purpose."""

from __future__ import annotations

import html
import json
import re
import shlex
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cli_support import run_cli, run_in_process
from reliability.helpers import DevServer, assert_one_error_line, copy_misbehave, dev_server, history_rows

DEFAULT_PORT = 8765


@pytest.fixture(scope="module")
def project_a(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One dev shared by the module's tests: each sends its own executions and registrations
    and checks only what it changed (a dev start costs ~0.5 s of CPU)."""
    with dev_server(copy_misbehave(tmp_path_factory.mktemp("a"), name="project-a")) as dev:
        yield dev


class Listener:
    """Whatever else may listen on the default port: it records every request it gets."""

    def __init__(self) -> None:
        seen: list[str] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(f"GET {self.path}")
                self.send_response(500)
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", DEFAULT_PORT), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def default_port_listener() -> Iterator[Listener | None]:
    """A listener on 127.0.0.1:8765 when the port is free on this (shared) machine; None when
    something else holds it (another test's listener or dev, which may be closing as we look:
    a connection to it could be refused or reset), so what it gets cannot be seen here."""
    try:
        listener = Listener()
    except OSError:
        yield None
        return
    yield listener
    listener.close()


@pytest.mark.parametrize("command", [("trigger", "ok", "--payload", '{"i": 1}'), ("register",)])
def test_without_a_dev_here_trigger_says_so_and_sends_nothing(
    tmp_path: Path, default_port_listener: Listener | None, command: tuple[str, ...]
) -> None:
    project_b = copy_misbehave(tmp_path, name="project-b")
    # register imports the project, whose threads_at_import starts a thread: the installed command
    result = run_cli(project_b, *command)
    assert_one_error_line(
        result,
        2,
        f"no `pingback dev` is running in {project_b} (start it with `pingback dev`, or pass --platform-url)",
    )
    assert "\n" not in result.stderr.strip(), result.brief()  # the one line, no hint under it
    if default_port_listener is not None:
        assert default_port_listener.seen == [], f"{command[0]} sent to whatever listens on the default port"


def test_a_dev_json_copied_from_another_project_is_not_trusted(project_a: DevServer, tmp_path: Path) -> None:
    project_b = copy_misbehave(tmp_path, name="project-b")
    # `cp -r project-a project-b` while project-a's dev runs copies its .pingback/dev.json too.
    (project_b / ".pingback").mkdir(exist_ok=True)
    shutil.copy(project_a.project / ".pingback" / "dev.json", project_b / ".pingback" / "dev.json")

    def sent_ok() -> set[str]:
        return {row["id"] for row in history_rows(project_a.project) if row["function"] == "ok"}

    ok_before = sent_ok()  # the other tests' own, on the shared dev
    result = run_cli(project_b, "trigger", "ok")
    line = assert_one_error_line(result, 2, f"no `pingback dev` is running in {project_b}")
    assert f"the one at {project_a.url} serves {project_a.project.resolve()}" in line
    assert sent_ok() == ok_before  # nothing reached project-a's dev
    # retry and cancel look for the dev the same way.
    failed = project_a.trigger("raises")
    project_a.wait_root(failed, "raises")
    for action in ("retry", "cancel"):
        refused = run_in_process(project_b, action, failed)
        assert_one_error_line(refused, 2, f"the one at {project_a.url} serves {project_a.project.resolve()}")
    assert len(project_a.tree(failed)["attempts"]) == 1
    # register too: project-a's jobs stay as they were (a registration would deactivate them).
    jobs_before = project_a.http.get("/api/v1/jobs").json()
    refused = run_cli(project_b, "register")  # imports the project (a thread at import)
    assert_one_error_line(refused, 2, f"the one at {project_a.url} serves {project_a.project.resolve()}")
    assert project_a.http.get("/api/v1/jobs").json() == jobs_before
    nothing_here = run_in_process(copy_misbehave(tmp_path, name="project-c"), "retry", failed)
    assert_one_error_line(nothing_here, 2, "no `pingback dev` is running in")


def test_in_its_own_project_trigger_finds_dev_on_any_port(project_a: DevServer, tmp_path: Path) -> None:
    sent = run_cli(project_a.project, "trigger", "ok", "--json")
    assert sent.returncode == 0, sent.brief()
    execution_id = json.loads(sent.stdout)["executionId"]
    assert project_a.wait_root(execution_id, "ok")["status"] == "success"
    # From a subfolder too.
    again = run_in_process(project_a.project / "misbehave", "trigger", "ok", "--json")
    assert again.returncode == 0, again.brief()
    # An explicit URL still sends to that platform, from any project.
    project_b = copy_misbehave(tmp_path, name="project-b")
    there = run_in_process(project_b, "trigger", "ok", "--json", "--platform-url", project_a.url)
    assert there.returncode == 0, there.brief()
    assert project_a.wait_root(json.loads(there.stdout)["executionId"], "ok")["status"] == "success"
    project = project_a.http.get("/api/v1/project").json()
    assert project["root"] == str(project_a.project.resolve()) and len(project["projectId"]) == 36


def test_register_in_its_own_project_says_what_became_inactive(project_a: DevServer) -> None:
    # An earlier deploy registered a function the code no longer has.
    sent = run_cli(project_a.project, "register", "--json")
    assert sent.returncode == 0, sent.brief()
    functions = json.loads(sent.stdout)["jobs"]
    older = [{"name": job["name"], "type": "task"} for job in functions if job["name"] != "ok"]
    older += [{"name": "removed-task", "type": "task"}]
    assert project_a.http.post("/api/v1/register", json={"functions": older}).status_code == 201
    again = run_cli(project_a.project, "register")  # imports the project (a thread at import)
    assert again.returncode == 0, again.brief()
    lines = again.stdout.splitlines()
    assert "inactive  removed-task" in lines and "active    ok" in lines, again.brief()
    assert lines[-1] == (
        f"registered {len(functions)} functions with {project_a.url}; 1 not sent became inactive"
        " (their crons stop firing)"
    )
    statuses = {job["name"]: job["status"] for job in project_a.http.get("/api/v1/jobs").json()}
    assert statuses["removed-task"] == "inactive" and statuses["ok"] == "active"


def test_the_dashboards_api_page_shows_a_trigger_command_that_runs(project_a: DevServer) -> None:
    page = project_a.http.get("/api")
    assert page.status_code == 200
    found = re.search(r'<code id="trigger-example">([^<]+)</code>', page.text)
    assert found is not None, page.text[-2000:]
    words = shlex.split(html.unescape(found[1]))
    assert words[:2] == ["pingback", "trigger"] and "--payload" in words, words
    sent = run_cli(project_a.project, *words[1:], "--json")
    assert sent.returncode == 0, sent.brief()
    execution_id = json.loads(sent.stdout)["executionId"]
    assert project_a.tree(execution_id)["payload"] == {"key": "value"}
    # The same words as the CLI's own help example.
    helped = run_in_process(project_a.project, "trigger", "--help", env={"COLUMNS": "200"})
    example = next(line.strip() for line in helped.stdout.splitlines() if "Example: pingback trigger" in line)
    assert shlex.split(example.removeprefix("Example: "))[3] == words[3] == "--payload"
