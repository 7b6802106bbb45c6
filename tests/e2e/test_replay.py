"""`pingback replay ID`: a new root, linked to the original, with the same output and exit codes as run."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from cli_support import run_cli, run_in_process, walk

from .conftest import assert_clean_exit

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    target = tmp_path / "shop"
    shutil.copytree(
        REPO / "examples" / "shop",
        target,
        ignore=shutil.ignore_patterns(".pingback", "__pycache__", "*.pyc"),
    )
    return target


@pytest.fixture
def flaky(tmp_path: Path) -> Path:
    """A task that fails unless its payload says otherwise."""
    project = tmp_path / "flaky"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "flaky"\nversion = "0"\n', encoding="utf-8")
    (project / "jobs.py").write_text(
        textwrap.dedent(
            """\
            import os

            from pingback import Pingback

            pb = Pingback(api_key="k", cron_secret=os.environ["PINGBACK_CRON_SECRET"])


            @pb.task("charge", retries=1)
            def charge(ctx, payload):
                if not payload.get("ok"):
                    raise RuntimeError(f"card declined for {payload['order']}")
                return {"charged": payload["order"]}
            """
        ),
        encoding="utf-8",
    )
    return project


def test_replay_runs_the_same_function_and_payload_as_a_linked_new_root(shop: Path) -> None:
    payload = '{"id": "e1", "to": "ada@example.com"}'
    original = run_cli(shop, "run", "send-email", "--payload", payload, "--json")
    assert_clean_exit(original, 0)
    first = original.json()

    replayed = run_cli(shop, "replay", first["executionId"][:8], "--json")
    assert_clean_exit(replayed, 0)
    again = replayed.json()
    assert again["executionId"] != first["executionId"]
    assert again["function"] == "send-email"
    assert again["payload"] == {"id": "e1", "to": "ada@example.com"}
    assert again["replayOf"] == first["executionId"]
    assert again["trigger"] == "replay"
    assert again["parentId"] is None
    assert again["status"] == "success"

    shown = run_in_process(shop, "show", again["executionId"], "--json")
    assert shown.json()["replayOf"] == first["executionId"]
    runs = run_in_process(shop, "runs", "--json").json()
    assert [(r["executionId"], r["trigger"]) for r in runs[:2]] == [
        (again["executionId"], "replay"),
        (first["executionId"], "run"),
    ]

    # with a payload override (the same original run)
    replayed = run_cli(
        shop, "replay", first["executionId"], "--payload", '{"id": "e3", "to": "c@x.y"}', "--json"
    )
    assert_clean_exit(replayed, 0)
    assert replayed.json()["payload"] == {"id": "e3", "to": "c@x.y"}
    assert replayed.json()["result"] == {"sent": "e3"}

    # an unknown id, or no id at all, is a usage error (in process: the history above is read)
    missing = run_in_process(shop, "replay", "ffffffff")
    assert_clean_exit(missing, 2)
    assert 'no execution matches "ffffffff"' in missing.stderr
    not_an_id = run_in_process(shop, "replay", "send-email")
    assert_clean_exit(not_an_id, 2)
    assert "is not an execution id" in not_an_id.stderr


def test_show_and_replay_print_the_link(shop: Path) -> None:
    first = run_cli(shop, "run", "send-emails", "--no-backoff", "--json").json()
    replayed = run_cli(shop, "replay", first["executionId"], "--no-backoff")
    assert_clean_exit(replayed, 0)
    assert f"replay of {first['executionId'][:8]}" in replayed.stdout
    assert "4 executions · 4 success" in replayed.stdout  # fan-out ran again
    newest = run_in_process(shop, "runs", "--json").json()[0]["executionId"]
    shown = run_in_process(shop, "show", newest[:8])
    assert_clean_exit(shown, 0)
    assert shown.stdout.splitlines()[0].startswith("✓ send-emails cron")
    assert f"replay of {first['executionId'][:8]}" in shown.stdout.splitlines()[0]

    # a fan-out child replayed is a root of its function (the same original run)
    child = next(node for node in walk(first) if node["payload"] == {"id": "e2", "to": "grace@example.com"})
    replayed = run_cli(shop, "replay", child["executionId"], "--no-backoff", "--json")
    assert_clean_exit(replayed, 0)
    data = replayed.json()
    assert (data["function"], data["parentId"], data["replayOf"]) == (
        "send-email",
        None,
        child["executionId"],
    )
    assert data["payload"] == child["payload"]


def test_a_replay_that_fails_exits_1_like_run(flaky: Path) -> None:
    failed = run_cli(flaky, "run", "charge", "--payload", '{"order": "o-1"}', "--no-backoff", "--json")
    assert_clean_exit(failed, 1)
    original = failed.json()["executionId"]

    again = run_cli(flaky, "replay", original, "--no-backoff")
    assert_clean_exit(again, 1)
    assert "card declined for o-1" in again.stdout
    assert "retrying" in again.stdout  # the same live lines as run

    fixed = run_cli(flaky, "replay", original, "--payload", '{"order": "o-1", "ok": true}', "--json")
    assert_clean_exit(fixed, 0)
    assert fixed.json()["result"] == {"charged": "o-1"}

    # the project no longer defines the function: a usage error naming the one it has now
    source = flaky / "jobs.py"
    source.write_text(
        source.read_text(encoding="utf-8").replace('"charge"', '"charge-card"'), encoding="utf-8"
    )
    result = run_cli(flaky, "replay", fixed.json()["executionId"])
    assert_clean_exit(result, 2)
    assert 'no cron or task named "charge"' in result.stderr
    assert "charge-card" in result.stderr


def test_replay_without_history_says_so(shop: Path) -> None:
    """As `show` says it (exit 2, an unknown id; it was exit 3, the code of a project that
    cannot be loaded)."""
    result = run_in_process(shop, "replay", "3f2a")
    assert_clean_exit(result, 2)
    assert 'error: no execution matches "3f2a": there is no history yet' in result.stderr
    assert "hint: run `pingback run NAME`" in result.stderr
