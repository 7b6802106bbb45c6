"""The platform's API-key routes and the controls, through a real `pingback dev` and the
installed command: jobs, pause/resume, retry in place, cancel, and the CLI pointed at another
project's dev with --platform-url."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import poll, run_in_process

from e2e.test_dev import DevServer, copy_devproj, run_cli

PROJECT = """
import os, pathlib, time
from pingback import Pingback

pb = Pingback(api_key=os.environ["PINGBACK_API_KEY"], cron_secret=os.environ["PINGBACK_CRON_SECRET"])
FLAG = pathlib.Path(__file__).with_name("healed")


@pb.cron("tick", "* * * * * *")
def tick(ctx):
    return "tock"


@pb.task("flaky")
def flaky(ctx):
    if not FLAG.exists():
        raise RuntimeError("not healed yet")
    return "healed"


@pb.task("slow", timeout="60s")
def slow(ctx):
    time.sleep(30)
    return "late"


@pb.task("quick", retries=2)
def quick(ctx):
    return "ok"
"""
FINISHED = ("success", "failed", "interrupted", "cancelled")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = tmp_path_factory.mktemp("platform-api") / "lab"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "lab"\nversion = "0"\n', encoding="utf-8")
    (root / "labjobs.py").write_text(textwrap.dedent(PROJECT), encoding="utf-8")
    server = DevServer(root)
    try:
        server.start()
        yield server
    finally:
        server.kill()


def jobs(dev: DevServer) -> dict[str, dict[str, Any]]:
    response = dev.http.get("/api/v1/jobs")
    assert response.status_code == 200, response.text
    return {job["name"]: job for job in response.json()}


def execution(dev: DevServer, execution_id: str) -> dict[str, Any]:
    response = dev.http.get(f"/api/v1/executions/{execution_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def finished(dev: DevServer, execution_id: str, timeout: float = 60) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        found = execution(dev, execution_id)
        return found if found["status"] in FINISHED else None

    return dict(poll(f"{execution_id} to finish", done, timeout, explain=dev.output))


def trigger(dev: DevServer, body: dict[str, Any]) -> str:
    response = dev.http.post("/api/v1/trigger", json=body)
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"executionId", "task", "scheduledAt"}
    return str(response.json()["executionId"])


def cli(dev: DevServer, *args: str, installed: bool = True) -> Any:
    """``pingback ARGS`` in the dev's project: the installed command, or (``installed=False``,
    for a command with installed cases elsewhere) its Click command in process."""
    result = (run_cli if installed else run_in_process)(dev.project, *args)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result


def tick_count(dev: DevServer) -> int:
    return int(dev.http.get(f"/api/v1/jobs/{jobs(dev)['tick']['id']}/executions").json()["total"])


def test_pause_stops_the_cron_and_resume_starts_it_again(lab: DevServer) -> None:
    poll("the seconds cron to fire", lambda: tick_count(lab) >= 1, 30, explain=lab.output)
    paused = cli(lab, "pause", "tick", "--json")
    assert json.loads(paused.stdout)["status"] == "paused"
    assert jobs(lab)["tick"]["status"] == "paused"
    listed = json.loads(cli(lab, "ls", "--json", installed=False).stdout)
    assert {row["name"]: row["status"] for row in listed}["tick"] == "paused"
    settled = tick_count(lab)
    poll("two skipped occurrences", lambda: lab.output().count("not fired: the job is paused") >= 2, 30)
    assert tick_count(lab) <= settled + 1  # one may have been starting as the pause landed
    after_pause = tick_count(lab)
    cli(lab, "resume", "tick")
    # One more is enough: what was under way as the pause landed is in after_pause already.
    poll("the cron to fire again", lambda: tick_count(lab) > after_pause, 30, explain=lab.output)


def test_retry_runs_a_failed_execution_again_in_place(lab: DevServer) -> None:
    execution_id = trigger(lab, {"task": "flaky"})
    failed = finished(lab, execution_id)
    assert failed["status"] == "failed" and failed["errorMessage"] == "HTTP 500: not healed yet"
    assert failed["attempts"] == [] and failed["attempt"] == 1
    (lab.project / "healed").write_text("yes", encoding="utf-8")
    try:
        retried = json.loads(cli(lab, "retry", execution_id[:8], "--json").stdout)
        assert retried["id"] == execution_id
        done = finished(lab, execution_id)
    finally:
        (lab.project / "healed").unlink()
    assert done["status"] == "success" and done["attempt"] == 2
    assert [attempt["errorMessage"] for attempt in done["attempts"]] == ["HTTP 500: not healed yet"]
    assert done["scheduledAt"] > failed["scheduledAt"]  # scheduledAt is the retry's time


def test_cancel_a_delayed_and_a_running_execution(lab: DevServer) -> None:
    delayed = trigger(lab, {"task": "quick", "delay": "10m"})
    assert json.loads(cli(lab, "cancel", delayed, "--json").stdout)["status"] == "cancelled"
    cancelled = execution(lab, delayed)
    assert cancelled["status"] == "cancelled" and cancelled["startedAt"] is None

    running = trigger(lab, {"task": "slow"})
    poll("slow to start", lambda: execution(lab, running)["status"] == "running", 30, explain=lab.output)
    response = lab.http.post(f"/api/v1/executions/{running}/cancel")
    assert response.status_code == 201, response.text
    stopped = finished(lab, running, timeout=10)
    assert stopped["status"] == "cancelled" and stopped["attempts"] == []
    again = lab.http.post(f"/api/v1/executions/{running}/cancel")
    assert again.status_code == 400 and again.json()["error"] == "Bad Request"
    shown = cli(lab, "show", running[:8], installed=False)
    assert "cancelled" in shown.stdout


def test_jobs_routes_and_paging(lab: DevServer) -> None:
    first, second = (trigger(lab, {"task": "quick", "payload": {"n": n}}) for n in range(2))
    finished(lab, first), finished(lab, second)
    quick = jobs(lab)["quick"]
    assert (quick["retries"], quick["timeoutSeconds"], quick["source"]) == (2, 30, "sdk")
    page = lab.http.get(f"/api/v1/jobs/{quick['id']}/executions", params={"page": 2, "limit": 1}).json()
    assert page["page"] == 2 and page["limit"] == 1 and page["total"] >= 2 and len(page["items"]) == 1
    patched = lab.http.patch(f"/api/v1/jobs/{quick['id']}", json={"retries": 11})
    assert patched.status_code == 400 and patched.json()["message"] == ["retries must not be greater than 10"]
    assert lab.http.patch(f"/api/v1/jobs/{quick['id']}", json={"retries": 0}).json()["retries"] == 0


def test_the_cli_looks_at_another_project_s_dev(lab: DevServer, tmp_path: Path) -> None:
    """Commands run in another project, pointed at this dev with --platform-url."""
    other = copy_devproj(tmp_path)
    url = ["--platform-url", lab.url]
    execution_id = json.loads(run_cli(other, "trigger", "quick", "--json", *url).stdout)["executionId"]
    finished(lab, execution_id)
    listed = run_in_process(other, "ls", *url)
    assert listed.returncode == 0 and listed.stdout.splitlines()[0] == f"the platform at {lab.url}"
    assert "quick" in listed.stdout and "fanout" not in listed.stdout  # the lab's jobs, not this project's
    runs = run_in_process(other, "runs", "--function", "quick", "--json", *url)
    assert execution_id in {row["executionId"] for row in json.loads(runs.stdout)}
    shown = run_in_process(other, "show", execution_id, *url)
    assert shown.stdout.splitlines()[0] == f"the platform at {lab.url}" and "quick" in shown.stdout


def test_registration_rules_through_pingback_register(tmp_path: Path) -> None:
    """A second dev plays the platform; the devproj registers with it as a deploy would."""
    target = DevServer(copy_devproj(tmp_path / "platform"))
    target.start()
    try:
        leaf = jobs(target)["leaf"]
        target.http.patch(f"/api/v1/jobs/{leaf['id']}", json={"status": "paused", "retries": 3})
        deployer = copy_devproj(tmp_path / "deployer")
        jobs_py = deployer / "devapp" / "jobs.py"
        text = jobs_py.read_text(encoding="utf-8").replace('@pb.task("crash")', '@pb.task("crash-renamed")')
        jobs_py.write_text(text, encoding="utf-8")
        sent = run_cli(deployer, "register", "--platform-url", target.url)
        assert sent.returncode == 0, sent.stderr
        assert "keeps retries=3" in sent.stderr  # pingback-py leaves retries=0 out
        after = jobs(target)
        assert after["leaf"]["status"] == "active" and after["leaf"]["retries"] == 3
        assert after["crash"]["status"] == "inactive" and after["crash-renamed"]["status"] == "active"
        assert after["sleepy"]["timeoutSeconds"] == 60 and after["fanout"]["timeoutSeconds"] == 30
    finally:
        target.kill()
