"""The worker's answers through the real SDK's ``pb.handle()``: always JSON on the pipe, and a
response JSON cannot hold fails the attempt as the SDK's FastAPI adapter does (HTTP 500)."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import math
import os
from collections.abc import Callable
from typing import Any

import pytest
from pingback import Pingback

from pingback_cli.project.loader import RawFunction
from pingback_cli.protocol import AttemptRequest
from pingback_cli.worker import request_fields
from pingback_cli.worker.main import Outbox, Runner, _traced

SECRET = "test-secret"


def _strict(text: bytes) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} on the pipe: not JSON")

    return json.loads(text, parse_constant=refuse)


def answer(handler: Callable[..., Any], payload: Any = None) -> dict[str, Any]:
    """The result message the worker writes for one attempt of ``handler``."""
    pb = Pingback(api_key="", cron_secret=SECRET)
    pb.task("job")(handler)
    read_fd, write_fd = os.pipe()
    try:
        runner = Runner(
            [RawFunction("job", pb._functions["job"], None, pb)], Outbox(write_fd), threads=1, secret=SECRET
        )
        request = AttemptRequest("e1", "job", 1, 0.0, payload=payload, has_payload=payload is not None)
        return _strict(runner._execute(list(request_fields(1, request))))
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_a_finite_result_succeeds() -> None:
    message = answer(lambda ctx: {"ratio": 0.5})
    assert message["httpStatus"] == 200 and message["response"]["result"] == {"ratio": 0.5}


@pytest.mark.parametrize(
    ("handler", "where"),
    [
        (lambda ctx: {"ratio": math.nan, "big": math.inf}, "result.ratio"),
        (lambda ctx: [1, -math.inf], "result[1]"),
        (lambda ctx: ctx.task("child", {"score": math.nan}), "fan-out tasks[0].payload.score"),
        (lambda ctx: ctx.log("m", value=math.inf), "logs[0].meta.value"),
    ],
    ids=["result", "list", "fan-out", "log-meta"],
)
def test_nan_or_infinity_anywhere_fails_the_attempt_naming_where(handler: Any, where: str) -> None:
    message = answer(handler)
    assert message["httpStatus"] == 500
    response = message["response"]
    assert response["status"] == "error"
    assert f"{where} is NaN or Infinity" in response["error"], response["error"]


@dataclasses.dataclass
class Order:
    id: str
    count: int = 1


def test_the_sdk_reads_the_handlers_own_signature_through_the_wrapper() -> None:
    """The SDK builds a typed payload from the handler's annotation; the worker's traceback
    wrapper carries the handler's signature, worked out once."""

    def handler(ctx: Any, payload: Order) -> Any:
        return {"type": type(payload).__name__, "id": payload.id, "count": payload.count}

    message = answer(handler, {"id": "o-1", "count": 3})
    assert message["response"]["result"] == {"type": "Order", "id": "o-1", "count": 3}
    assert message["response"]["logs"] == [] and message["httpStatus"] == 200
    assert inspect.signature(_traced(handler)) == inspect.signature(handler)
    assert answer(lambda ctx: ctx.payload, {"raw": True})["response"]["result"] == {"raw": True}


def test_logs_survive_a_refused_response_as_json() -> None:
    def handler(ctx: Any) -> Any:
        ctx.log("before", ratio=math.nan)
        return math.nan

    [log] = answer(handler)["response"]["logs"]
    assert log["message"] == "before" and log["meta"] == {"ratio": "NaN"}


def test_the_in_process_executor_refuses_nan_the_same_way() -> None:
    """The pytest plugin's executor judges responses as the worker does."""
    from pingback_cli.executors.inprocess import InProcessExecutor

    pb = Pingback(api_key="", cron_secret=SECRET)
    pb.task("job")(lambda ctx: {"ratio": math.nan})
    loop = asyncio.new_event_loop()
    try:
        executor = InProcessExecutor([RawFunction("job", pb._functions["job"], None, pb)], loop)
        outcome = executor._execute(AttemptRequest("e1", "job", 1, 0.0))
    finally:
        loop.close()
    assert outcome.http_status == 500 and outcome.response is not None
    assert "result.ratio is NaN or Infinity" in outcome.response["error"]


@pytest.mark.parametrize(("ran", "answered"), [(14.9, True), (15.1, False)])
def test_the_in_process_executor_holds_real_run_time_against_the_timeout(ran: float, answered: bool) -> None:
    """Past its timeout an attempt is left unanswered: the engine's timeout timer fails it."""
    from pingback_cli.executors.inprocess import InProcessExecutor

    pb = Pingback(api_key="", cron_secret=SECRET)
    pb.task("job", timeout="15s")(lambda ctx: "done")
    readings = iter([100.0, 100.0 + ran])
    loop = asyncio.new_event_loop()
    try:
        executor = InProcessExecutor(
            [RawFunction("job", pb._functions["job"], None, pb)], loop, real_time=lambda: next(readings)
        )
        loop.run_until_complete(executor.start())
        future = executor.start_attempt(AttemptRequest("e1", "job", 1, 0.0))
        assert executor.run_pending() == 1
        assert future.done() is answered
        assert executor.overran == ([] if answered else [future])
    finally:
        loop.close()
