"""Every route's request and response shapes against fixtures written from the platform's source
(tests/fixtures/platform/, each named after the file it was written from): our API answers in
those shapes, and the CLI's remote reader reads the hosted platform's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.test_api import KNOWN_ID, NOW, FakePlatform, client, job_id, keyed, platform  # noqa: F401
from pingback_cli import client as platform_client
from pingback_cli.client import Target
from pingback_cli.models import Execution

FIXTURES = Path(__file__).parent.parent / "fixtures" / "platform"


def fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


def same_shape(ours: Any, theirs: Any) -> None:
    """Same keys, and each value of the same JSON kind (null matches anything)."""
    assert isinstance(ours, dict) and isinstance(theirs, dict)
    assert set(ours) == set(theirs), (sorted(set(ours) ^ set(theirs)), ours)
    for key, value in theirs.items():
        if value is not None and ours[key] is not None:
            assert type(ours[key]) is type(value) or {type(ours[key]), type(value)} <= {int, float}, key


async def test_trigger_controller(client: httpx.AsyncClient) -> None:  # noqa: F811
    spec = fixture("trigger.controller.ts")
    response = await client.post("/api/v1/trigger", json=spec["request"])
    assert response.status_code == spec["status"]
    same_shape(response.json(), spec["response"])
    missing = await client.post("/api/v1/trigger", json={"task": "nope"})
    assert (missing.status_code, missing.json()) == (spec["not_found"]["status"], spec["not_found"]["body"])
    bad = await client.post("/api/v1/trigger", json={"task": "send-email", "delay": 0})
    assert (bad.status_code, bad.json()) == (spec["bad_delay"]["status"], spec["bad_delay"]["body"])


async def test_registration_service(client: httpx.AsyncClient) -> None:  # noqa: F811
    spec = fixture("registration.service.ts")
    response = await client.post("/api/v1/register", json=spec["request"])
    assert (response.status_code, response.json()) == (spec["status"], spec["response"])
    invalid = await client.post("/api/v1/register", json={"functions": [{"name": "t", "type": "job"}]})
    assert (invalid.status_code, invalid.json()) == (spec["invalid"]["status"], spec["invalid"]["body"])


async def test_jobs_service(client: httpx.AsyncClient, platform: FakePlatform) -> None:  # noqa: F811
    spec = fixture("jobs.service.ts")
    cron = (await client.get(f"/api/v1/jobs/{job_id(platform, 'send-emails')}")).json()
    task = (await client.get(f"/api/v1/jobs/{job_id(platform, 'send-email')}")).json()
    same_shape(cron, spec["job"])
    same_shape(task, spec["task"])
    assert task["schedule"] is None and task["nextRunAt"] is None
    patched = await client.patch(f"/api/v1/jobs/{job_id(platform, 'send-email')}", json={"status": "paused"})
    same_shape(patched.json(), spec["task"])
    missing = await client.get("/api/v1/jobs/nope")
    assert (missing.status_code, missing.json()) == (spec["not_found"]["status"], spec["not_found"]["body"])
    # remove(): an SDK job is kept and marked inactive, and the saved job is the answer.
    removed = await client.delete(f"/api/v1/jobs/{job_id(platform, 'send-email')}")
    same_shape(removed.json(), spec["task"])
    assert (removed.status_code, removed.json()["status"]) == (200, "inactive")
    gone = await client.delete("/api/v1/jobs/nope")
    assert (gone.status_code, gone.json()) == (spec["not_found"]["status"], spec["not_found"]["body"])


async def test_executions_service(client: httpx.AsyncClient, platform: FakePlatform) -> None:  # noqa: F811
    spec = fixture("executions.service.ts")
    platform.store.save(
        Execution(id=KNOWN_ID, function="send-emails", type="cron", scheduled_at=NOW, status="success")
    )
    platform.store.save(
        Execution(id="c1", function="send-email", type="task", scheduled_at=NOW, parent_id=KNOWN_ID,
                  root_id=KNOWN_ID, payload={"id": "e1"}, has_payload=True, status="success")
    )  # fmt: skip
    root = (await client.get(f"/api/v1/executions/{KNOWN_ID}")).json()
    expected = dict(spec["root"])
    same_shape(
        {k: v for k, v in root.items() if k != "job"}, {k: v for k, v in expected.items() if k != "job"}
    )
    assert root["hasChildren"] is True and root["job"]["name"] == "send-emails"
    page = (await client.get(f"/api/v1/jobs/{job_id(platform, 'send-email')}/executions")).json()
    assert set(page) == set(spec["child_page"])
    same_shape(page["items"][0], spec["child_page"]["items"][0])
    missing = await client.get("/api/v1/executions/ffffffff-0000-4000-8000-000000000000")
    assert (missing.status_code, missing.json()) == (spec["not_found"]["status"], spec["not_found"]["body"])


async def test_api_key_strategy(keyed: httpx.AsyncClient) -> None:  # noqa: F811
    spec = fixture("api-key.strategy.ts")
    none = await keyed.get("/api/v1/jobs")
    wrong = await keyed.get("/api/v1/jobs", headers={"authorization": "Bearer nope"})
    assert (none.status_code, none.json()) == (spec["no_token"]["status"], spec["no_token"]["body"])
    assert (wrong.status_code, wrong.json()) == (spec["wrong_key"]["status"], spec["wrong_key"]["body"])


def hosted(monkeypatch: pytest.MonkeyPatch) -> Target:
    """The hosted platform as its fixtures describe it, behind ``client.call``."""
    jobs_spec, executions_spec = fixture("jobs.service.ts"), fixture("executions.service.ts")
    root = executions_spec["root"]

    def call(target: Target, method: str, path: str, **kwargs: Any) -> Any:
        if path == "/api/v1/jobs":
            return [jobs_spec["job"], jobs_spec["task"]]
        if path == f"/api/v1/executions/{root['id']}":
            return root
        if path == f"/api/v1/jobs/{jobs_spec['task']['id']}/executions":
            return executions_spec["child_page"]
        if path == f"/api/v1/jobs/{jobs_spec['job']['id']}/executions":
            return executions_spec["root_page"]
        raise AssertionError(path)

    monkeypatch.setattr(platform_client, "call", call)
    return Target("https://api.pingback.lol", "pb_live_x")


def test_the_remote_reader_builds_ls_rows_and_trees_from_the_hosted_shapes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pingback_cli.remote import function_rows, tree

    target = hosted(monkeypatch)
    specs, statuses = function_rows(target)
    assert [(s.name, s.type, s.retries, s.timeout_seconds) for s in specs] == [
        ("send-emails", "cron", 1, 60),
        ("send-email", "task", 2, 15),
    ]
    assert statuses == {"send-emails": "active", "send-email": "active"}
    root = tree(target, fixture("executions.service.ts")["root"]["id"])
    assert (root.function, root.status, root.result) == ("send-emails", "success", {"dispatched": 1})
    assert [a.error for a in root.attempts] == ["HTTP 500", None] and len(root.attempts) == 2
    [child] = root.children
    assert (child.function, child.payload, child.result) == ("send-email", {"id": "e1"}, "sent")
