"""Which platform `pingback trigger` and `pingback register` talk to (one rule, both commands)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pingback_cli import state
from pingback_cli.client import Target, call, control, resolve_platform
from pingback_cli.errors import NotFound, PlatformError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PINGBACK_PLATFORM_URL", raising=False)
    monkeypatch.delenv("PINGBACK_API_KEY", raising=False)


def test_the_option_wins_then_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_PLATFORM_URL", "https://env.example")
    monkeypatch.setenv("PINGBACK_API_KEY", "env-key")
    assert resolve_platform(tmp_path, "https://option.example", "option-key") == (
        "https://option.example",
        "option-key",
    )
    assert resolve_platform(tmp_path, None, None) == ("https://env.example", "env-key")


def test_then_the_running_dev_of_this_project_then_the_default(tmp_path: Path) -> None:
    assert resolve_platform(tmp_path, None, None) == (state.DEFAULT_LOCAL_URL, "")
    state.announce(tmp_path, "http://127.0.0.1:9999")  # what a running `pingback dev` writes
    try:
        url, _ = resolve_platform(tmp_path, None, None)
    finally:
        state.withdraw(tmp_path)
    assert url == "http://127.0.0.1:9999"


# --- one line per failure, with a hint ------------------------------------------------------


def answering(
    monkeypatch: pytest.MonkeyPatch, status: int, body: object, content_type: str = "application/json"
):  # type: ignore[no-untyped-def]
    import json

    import httpx

    def request(method: str, url: str, **kwargs: object) -> httpx.Response:
        content = json.dumps(body).encode() if content_type == "application/json" else str(body).encode()
        return httpx.Response(status, content=content, headers={"content-type": content_type})

    monkeypatch.setattr(httpx, "request", request)


HOSTED = Target("https://api.pingback.lol", "pb_local_dev_api_key")


def test_unreachable_names_the_url_and_what_to_do() -> None:
    with pytest.raises(PlatformError) as caught:
        call(Target("http://127.0.0.1:9", local=True), "GET", "/api/v1/jobs")
    assert caught.value.message == "nothing is listening at http://127.0.0.1:9"
    assert caught.value.hint is not None and "pingback dev" in caught.value.hint


def test_401_with_a_key_unlike_the_platform_s_says_how_its_keys_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answering(
        monkeypatch, 401, {"message": "Invalid API key format", "error": "Unauthorized", "statusCode": 401}
    )
    with pytest.raises(PlatformError) as caught:
        call(HOSTED, "GET", "/api/v1/jobs")
    assert caught.value.message.endswith("refused the API key (401): Invalid API key format")
    assert caught.value.hint is not None and "start with pb_live_" in caught.value.hint


def test_404_is_not_found_and_a_missing_route_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    answering(monkeypatch, 404, {"message": "Execution not found", "error": "Not Found", "statusCode": 404})
    with pytest.raises(NotFound) as caught:
        call(HOSTED, "GET", "/api/v1/executions/x")
    assert "Execution not found (404)" in caught.value.message
    answering(monkeypatch, 404, {"message": "Cannot POST /api/v1/executions/x/cancel", "error": "Not Found"})
    with pytest.raises(PlatformError) as missing:
        control(HOSTED, "cancel", "x")
    assert "no API-key route to cancel" in missing.value.message


def test_5xx_is_the_platform_failing(monkeypatch: pytest.MonkeyPatch) -> None:
    answering(monkeypatch, 502, "<html>Bad gateway</html>", content_type="text/html")
    with pytest.raises(PlatformError) as caught:
        call(HOSTED, "GET", "/api/v1/jobs")
    assert (
        caught.value.message
        == "the platform at https://api.pingback.lol failed (502): <html>Bad gateway</html>"
    )
    assert caught.value.hint is not None


def test_a_notice_is_said_the_first_time_only(tmp_path: Path) -> None:
    assert state.first_time(tmp_path, "the free plan would cut retries 2 to 1")
    assert not state.first_time(tmp_path, "the free plan would cut retries 2 to 1")
    assert state.first_time(tmp_path, "the free plan would cut retries 3 to 1")  # another finding
    (tmp_path / ".pingback" / "notices.json").write_text("{not json", encoding="utf-8")
    assert state.first_time(tmp_path, "the free plan would cut retries 2 to 1")  # unreadable: said again
