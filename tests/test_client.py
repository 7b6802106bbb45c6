"""Which platform `pingback trigger` and `pingback register` talk to (one rule, both commands)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from loopback import QuietHandler, serving

from pingback_cli import client, controls, state
from pingback_cli.client import Target, call, control
from pingback_cli.errors import NotFound, PlatformError, UsageError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PINGBACK_PLATFORM_URL", raising=False)
    monkeypatch.delenv("PINGBACK_API_KEY", raising=False)


def test_the_option_wins_then_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_PLATFORM_URL", "https://env.example")
    monkeypatch.setenv("PINGBACK_API_KEY", "env-key")
    assert controls.target(tmp_path, "https://option.example", "option-key") == Target(
        "https://option.example", "option-key"
    )
    assert controls.target(tmp_path, None, None) == Target("https://env.example", "env-key")


def test_then_the_running_dev_of_this_project_never_the_default_port(tmp_path: Path) -> None:
    assert controls.target(tmp_path, None, None) is None
    with pytest.raises(UsageError, match=f"no `pingback dev` is running in {tmp_path}"):
        controls.this_projects_dev(tmp_path, None)
    state.announce(tmp_path, "http://127.0.0.1:9999")  # what a running `pingback dev` writes
    try:
        found = controls.target(tmp_path, None, None)
    finally:
        state.withdraw(tmp_path)
    assert found == Target("http://127.0.0.1:9999", "", local=True)


def test_register_with_no_dev_here_sends_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "b"\n', encoding="utf-8")
    (tmp_path / "register_b_jobs.py").write_text(
        "from pingback import Pingback\npb = Pingback(api_key='k', cron_secret='s')\n\n"
        "@pb.task('t')\ndef t(ctx, payload):\n    return 1\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    sent: list[object] = []
    monkeypatch.setattr(client, "call", lambda *args, **kwargs: sent.append(args))
    with pytest.raises(UsageError, match=f"no `pingback dev` is running in {tmp_path}"):
        controls.register(None, None, None, endpoint_url=None)
    monkeypatch.delitem(sys.modules, "register_b_jobs")  # so that the second load imports it again
    dry = controls.register(None, None, None, endpoint_url=None, dry_run=True)
    assert dry.target is None and dry.jobs is None and "no `pingback dev` is running" in dry.nowhere
    assert [entry["name"] for entry in dry.body["functions"]] == ["t"]
    assert sent == []


def test_registration_lists_the_sdk_jobs_it_makes_inactive() -> None:
    before = [
        {"name": "kept", "status": "active", "source": "sdk"},
        {"name": "gone", "status": "active", "source": "sdk"},
        {"name": "paused-gone", "status": "paused", "source": "sdk"},
        {"name": "was-inactive", "status": "inactive", "source": "sdk"},
        {"name": "made-by-hand", "status": "active", "source": "manual"},
    ]
    body = {"functions": [{"name": "kept"}, {"name": "new"}]}
    assert controls.deactivated(before, body) == ["gone", "paused-gone"]


# --- one line per failure, with a hint ------------------------------------------------------


@contextmanager
def answering(status: int, body: object, content_type: str = "application/json") -> Iterator[Target]:
    """A platform on loopback that answers every request with ``status`` and ``body``; what
    it was asked is appended to ``ASKED`` (method, path with query, headers, body)."""

    class Platform(QuietHandler):
        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            ASKED.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
            raw = json.dumps(body).encode() if content_type == "application/json" else str(body).encode()
            self.send(status, raw, content_type)

        do_GET = do_POST = do_PATCH = answer

    ASKED.clear()
    with serving(Platform) as url:
        yield Target(url, "pb_local_dev_api_key")


ASKED: list[tuple[str, str, dict[str, str], bytes]] = []


def test_unreachable_names_the_url_and_what_to_do() -> None:
    with pytest.raises(PlatformError) as caught:
        call(Target("http://127.0.0.1:9", local=True), "GET", "/api/v1/jobs")
    assert caught.value.message == "nothing is listening at http://127.0.0.1:9"
    assert caught.value.hint is not None and "pingback dev" in caught.value.hint


def test_a_request_carries_the_key_its_json_body_and_query_and_the_answer_is_decoded() -> None:
    with answering(200, {"id": "j1", "status": "paused"}) as platform:
        assert call(platform, "PATCH", "/api/v1/jobs/j1", body={"status": "paused"}) == {
            "id": "j1",
            "status": "paused",
        }
        assert call(platform, "GET", "/api/v1/jobs/j1/executions", params={"page": 2, "limit": 20})
    (method, path, headers, sent), (_, query_path, _, _) = ASKED
    assert (method, path, json.loads(sent)) == ("PATCH", "/api/v1/jobs/j1", {"status": "paused"})
    assert headers["Authorization"] == "Bearer pb_local_dev_api_key"
    assert headers["Content-Type"] == "application/json"
    assert query_path == "/api/v1/jobs/j1/executions?page=2&limit=20"


def test_401_with_a_key_unlike_the_platform_s_says_how_its_keys_start() -> None:
    refused = {"message": "Invalid API key format", "error": "Unauthorized", "statusCode": 401}
    with answering(401, refused) as platform, pytest.raises(PlatformError) as caught:
        call(platform, "GET", "/api/v1/jobs")
    assert caught.value.message.endswith("refused the API key (401): Invalid API key format")
    assert caught.value.hint is not None and "start with pb_live_" in caught.value.hint


def test_404_is_not_found_and_a_missing_route_says_so() -> None:
    not_found = {"message": "Execution not found", "error": "Not Found", "statusCode": 404}
    with answering(404, not_found) as platform, pytest.raises(NotFound) as caught:
        call(platform, "GET", "/api/v1/executions/x")
    assert "Execution not found (404)" in caught.value.message
    no_route = {"message": "Cannot POST /api/v1/executions/x/cancel", "error": "Not Found"}
    with answering(404, no_route) as platform, pytest.raises(PlatformError) as missing:
        control(platform, "cancel", "x")
    assert "no API-key route to cancel" in missing.value.message


def test_5xx_is_the_platform_failing() -> None:
    bad_gateway = answering(502, "<html>Bad gateway</html>", content_type="text/html")
    with bad_gateway as platform, pytest.raises(PlatformError) as caught:
        call(platform, "GET", "/api/v1/jobs")
    assert caught.value.message == f"the platform at {platform.url} failed (502): <html>Bad gateway</html>"
    assert caught.value.hint is not None


def test_an_answer_that_is_not_http_is_one_line() -> None:
    """Something that is not an HTTP server (here: one that closes at once) is a failed request."""

    class Hangup(QuietHandler):
        def handle(self) -> None:
            self.connection.close()

    with serving(Hangup) as url, pytest.raises(PlatformError) as caught:
        call(Target(url), "GET", "/api/v1/jobs")
    assert caught.value.message.startswith(f"request to {url}/api/v1/jobs failed: ")


def test_a_notice_is_said_the_first_time_only(tmp_path: Path) -> None:
    assert state.first_time(tmp_path, "the free plan would cut retries 2 to 1")
    assert not state.first_time(tmp_path, "the free plan would cut retries 2 to 1")
    assert state.first_time(tmp_path, "the free plan would cut retries 3 to 1")  # another finding
    (tmp_path / ".pingback" / "notices.json").write_text("{not json", encoding="utf-8")
    assert state.first_time(tmp_path, "the free plan would cut retries 2 to 1")  # unreadable: said again
