"""Responses of the real SDKs, written from their source (tests/fixtures/protocol/, each named
after the file it was written from), read by the HTTP executor as the platform would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from pingback_cli.executors.http import HttpExecutor
from pingback_cli.protocol import AttemptRequest

FIXTURES = Path(__file__).parent.parent / "fixtures" / "protocol"
CASES = [
    pytest.param(case, id=f"{path.stem}: {case['name']}")
    for path in sorted(FIXTURES.glob("*.json"))
    for case in json.loads(path.read_text(encoding="utf-8"))["cases"]
]


@pytest.mark.parametrize("case", CASES)
async def test_the_executor_reads_each_sdk_response(case: dict[str, Any]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": case["content_type"]}
        return httpx.Response(case["status"], content=case["body"].encode(), headers=headers)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        executor = HttpExecutor("http://app.test/api/pingback", "secret", client=client)
        request = AttemptRequest("exec-1", "send-email", 1, 1_764_324_900.0)
        outcome = await executor.start_attempt(request)
    assert outcome.http_status == case["status"]
    assert outcome.succeeded is case["succeeded"], outcome
    if case["error"] is None:
        assert outcome.error is None
    else:
        assert case["error"] in outcome.error_message(), outcome.error_message()
