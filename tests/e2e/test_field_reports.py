"""End-to-end replays of issue 14's field reports through the installed ``pingback`` command:
non-finite floats, terminals that are not UTF-8, layered ``.env`` interpolation, symlinked
folders, duplicate registrations from a factory."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cli_support import Result, record_tree, run_cli, run_in_process
from reliability.helpers import dev_server

HEADER = """\
import os
from pingback import Pingback

pb = Pingback(
    api_key=os.environ.get("PINGBACK_API_KEY", ""),
    cron_secret=os.environ.get("PINGBACK_CRON_SECRET", "dev"),
)
"""


def project(root: Path, files: dict[str, str]) -> Path:
    """A project at ``root``: a pyproject.toml plus ``files`` (Python sources get HEADER)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[project]\nname = "field"\nversion = "0"\n', encoding="utf-8")
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = textwrap.dedent(body)
        path.write_text(HEADER + text if name.endswith(".py") and "Pingback(" not in text else text, "utf-8")
    return root


def strict_json(result: Result) -> Any:
    """stdout as JSON.parse would read it: NaN or Infinity fails the test."""

    def refuse(name: str) -> None:
        pytest.fail(f"pingback {' '.join(result.args)} printed {name}, which is not JSON:\n{result}")

    return json.loads(result.stdout, parse_constant=refuse)


def no_traceback(result: Result) -> None:
    """No traceback of ours (a handler's own shows in its tree, on stdout)."""
    assert "Traceback" not in result.stderr, str(result)
    assert "UnicodeEncodeError" not in result.stdout + result.stderr, str(result)


# --- 1. non-finite floats ----------------------------------------------------------------------

NAN_JOBS = """
@pb.task("ratio")
def ratio(ctx):
    return {"ratio": float("nan"), "big": float("inf")}

@pb.task("fan")
def fan(ctx):
    ctx.task("ok", {"score": float("-inf")})

@pb.task("ok")
def ok(ctx, payload=None):
    return payload
"""


def test_nan_result_fails_the_attempt_and_json_stays_json(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"jobs.py": NAN_JOBS})
    result = run_cli(root, "run", "ratio", "--json")
    no_traceback(result)
    assert result.returncode == 1, str(result)
    tree = strict_json(result)
    assert tree["status"] == "failed" and tree["attempts"][0]["httpStatus"] == 500
    assert "result.ratio is NaN or Infinity" in tree["error"]
    fan = strict_json(run_cli(root, "run", "fan", "--json"))
    assert "fan-out tasks[0].payload.score is NaN or Infinity" in fan["error"]
    listing = run_in_process(root, "runs", "--json")
    assert {row["function"] for row in strict_json(listing)} == {"ratio", "fan"}


def test_nan_in_a_payload_is_refused_at_the_door(tmp_path: Path) -> None:
    # in process: a refusal before the worker, whose installed form test_head_start checks
    root = project(tmp_path / "p", {"jobs.py": NAN_JOBS})
    result = run_in_process(root, "run", "ok", "--payload", '{"x": NaN}')
    no_traceback(result)
    assert result.returncode == 2, str(result)
    assert "NaN is not JSON" in result.stderr


def test_dev_keeps_answering_with_a_nan_row_in_history(tmp_path: Path) -> None:
    """An older row holding NaN (and one damaged by hand) never makes GET /executions fail."""
    import sqlite3

    root = project(tmp_path / "p", {"jobs.py": NAN_JOBS})
    record_tree(root, "ok", {"x": 1})  # a run of ok in history, damaged below
    with sqlite3.connect(root / ".pingback" / "history.sqlite3") as conn:
        conn.execute("UPDATE executions SET result = '{\"ratio\":NaN}', logs = '[{broken'")
    with dev_server(root) as server:
        response = server.http.get("/api/v1/executions")
        assert response.status_code == 200, response.text
        rows = json.loads(response.text, parse_constant=lambda name: pytest.fail(f"{name} in the API"))
        assert rows[0]["result"] == {"ratio": "NaN"}
        trigger = server.http.post(
            "/api/v1/trigger",
            content=b'{"task": "ok", "payload": NaN}',
            headers={"content-type": "application/json"},
        )
        assert trigger.status_code == 400 and "NaN" in trigger.json()["message"]


# --- 2. terminals that are not UTF-8 --------------------------------------------------------

ENCODING_JOBS = """
@pb.task("plain")
def plain(ctx):
    ctx.log("hello", where="caf\\u00e9")
    return {"ok": 1}

@pb.task("caf\\u00e9-\\u00f1")
def cafe(ctx):
    ctx.log("\\u2603 snow")
    ctx.task("plain")
    return "na\\u00efve \\u2192 ok"

@pb.task("broken")
def broken(ctx):
    raise RuntimeError("\\u2717 nope")

@pb.cron("nightly", "0 3 * * *", timeout="30s")
def nightly(ctx):
    pass
"""


@pytest.fixture(scope="module")
def encoding_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = project(tmp_path_factory.mktemp("enc") / "p", {"jobs.py": ENCODING_JOBS})
    ran = run_cli(root, "run", "café-ñ", "--json")
    assert ran.returncode == 0, str(ran)
    (root / "last-id").write_text(ran.json()["executionId"][:8], encoding="utf-8")
    return root


INSTALLED = [
    ("run", "plain"),
    ("run", "broken"),
    ("replay", "{id}"),
    ("--help",),
    ("run", "--help"),
    ("run", "no-such-ƒunction"),
]
"""Through the installed command: the ones that start a worker, and help (the entry point
answers it from its cache, rendered by Typer on a miss; how a cached page is written is the
same for every page: two of them). ``run café-ñ`` is
test_glyphs_fall_back_and_user_text_is_escaped, which checks this test's points too."""
IN_PROCESS = [
    ("register", "--help"),
    ("ui", "--help"),
    ("init", "--help"),
    ("dev", "--help"),
    ("ls",),
    ("check",),
    ("runs",),
    ("show", "{id}"),
    ("trigger", "plain"),
    ("simulate", "--from", "2026-11-29", "--to", "2026-12-02"),
    ("completion", "bash"),
]
"""The rest start no process: the Click command in this process, on streams of the encoding,
protected as the entry point protects them (``run_in_process``)."""


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
@pytest.mark.parametrize(
    ("args", "installed"),
    [(args, True) for args in INSTALLED] + [(args, False) for args in IN_PROCESS],
    ids=lambda value: (
        " ".join(value) if isinstance(value, tuple) else ("installed" if value else "in-process")
    ),
)
def test_every_command_prints_on_a_terminal_that_is_not_utf8(
    encoding_project: Path, encoding: str, args: tuple[str, ...], installed: bool
) -> None:
    last = (encoding_project / "last-id").read_text(encoding="utf-8")
    args = tuple(arg.replace("{id}", last) for arg in args)
    if installed:
        result = run_cli(encoding_project, *args, env={"PYTHONIOENCODING": encoding})
    else:
        result = run_in_process(encoding_project, *args, encoding=encoding)
    no_traceback(result)
    assert result.returncode in (0, 1, 2), str(result)
    assert result.stdout or result.stderr
    if encoding == "ascii":
        assert (result.stdout + result.stderr).isascii(), str(result)


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_glyphs_fall_back_and_user_text_is_escaped(encoding_project: Path, encoding: str) -> None:
    result = run_cli(encoding_project, "run", "café-ñ", env={"PYTHONIOENCODING": encoding})
    no_traceback(result)
    assert result.returncode == 0, str(result)
    if encoding == "ascii":
        assert (result.stdout + result.stderr).isascii(), str(result)
    first = result.stdout.splitlines()
    assert any(line.startswith("+ caf") for line in first), str(result)
    assert "-> " in result.stdout
    assert "\\u2603 snow" in result.stdout
    if encoding == "ascii":
        assert "caf\\xe9-\\xf1" in result.stdout
        listing = run_in_process(encoding_project, "ls", encoding="ascii")
        assert "caf\\xe9-\\xf1" in listing.stdout, str(listing)


def test_json_on_an_ascii_terminal_is_json(encoding_project: Path) -> None:
    result = run_cli(encoding_project, "run", "café-ñ", "--json", env={"PYTHONIOENCODING": "ascii"})
    assert result.stdout.isascii()
    assert strict_json(result)["function"] == "café-ñ"


# --- 3. .env.local refers to .env -------------------------------------------------------------

ENV_JOBS = """
@pb.task("urls")
def urls(ctx):
    return {key: os.environ.get(key) for key in ("BASE_URL", "API_URL", "SHELL_URL")}
"""


def test_env_local_refers_to_env_and_to_the_real_environment(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"jobs.py": ENV_JOBS})
    (root / ".env").write_text("BASE_URL=http://localhost:3000\n", encoding="utf-8")
    (root / ".env.local").write_text("API_URL=${BASE_URL}/api\nSHELL_URL=${FROM_SHELL}/x\n", encoding="utf-8")
    result = run_cli(root, "run", "urls", "--json", env={"FROM_SHELL": "http://shell"})
    assert result.returncode == 0, str(result)
    assert result.json()["result"] == {
        "BASE_URL": "http://localhost:3000",
        "API_URL": "http://localhost:3000/api",
        "SHELL_URL": "http://shell/x",
    }


# --- 5. symlinked folders ---------------------------------------------------------------------


@pytest.fixture
def linked_project(tmp_path: Path) -> Path:
    """app/ is the project; app/shared links to ../common, outside it; build/ is skipped."""
    root = project(
        tmp_path / "app", {"jobs.py": '@pb.task("local-task")\ndef local(ctx):\n    return "local"\n'}
    )
    project(
        tmp_path / "common",
        {"shared_jobs.py": '@pb.task("shared-task")\ndef shared(ctx):\n    return "shared"\n'},
    )
    (tmp_path / "common" / "pyproject.toml").unlink()
    (root / "build").mkdir()
    (root / "build" / "old.py").write_text(HEADER + '@pb.task("old")\ndef old(ctx):\n    pass\n', "utf-8")
    (root / "shared").symlink_to("../common")
    return root


def test_a_symlinked_folder_is_part_of_the_project(linked_project: Path) -> None:
    listing = run_in_process(linked_project, "ls", "--json")  # the run below is the installed case
    assert listing.returncode == 0, str(listing)
    sources = {function["name"]: function["source"] for function in listing.json()}
    line = HEADER.count("\n") + 1
    assert sources == {"local-task": f"jobs.py:{line}", "shared-task": f"shared/shared_jobs.py:{line}"}
    assert listing.stderr.count("skipped build/") == 1 and "build/old.py" in listing.stderr
    ran = run_cli(linked_project, "run", "shared-task", "--json")
    assert ran.returncode == 0, str(ran)
    assert ran.json()["result"] == "shared"
    assert ran.stderr.count("skipped build/") == 1, str(ran)  # named by the worker's load too


def test_app_option_shows_project_relative_sources(linked_project: Path) -> None:
    listing = run_in_process(linked_project, "ls", "--app", "shared")
    assert listing.returncode == 0, str(listing)
    assert f"shared/shared_jobs.py:{HEADER.count(chr(10)) + 1}" in listing.stdout, str(listing)
    assert str(linked_project.parent) not in listing.stdout


# --- a factory that registers one name twice -------------------------------------------------

FACTORY_JOBS = """

def make_sync(source):
    @pb.task("sync")
    def sync(ctx):
        return source

    return sync


make_sync("a")
make_sync("b")
"""


def test_a_factory_registering_twice_says_the_same_line_ran_twice(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"jobs.py": FACTORY_JOBS})
    result = run_in_process(root, "ls")
    assert result.returncode == 3, str(result)
    lines = (root / "jobs.py").read_text(encoding="utf-8").splitlines()
    decorator = 1 + next(i for i, line in enumerate(lines) if "@pb.task" in line)
    calls = [1 + i for i, line in enumerate(lines) if line.startswith("make_sync(")]
    assert (
        f'function "sync" is defined twice by the same line, jobs.py:{decorator}, which ran twice: '
        f"called from jobs.py:{calls[0]} and from jobs.py:{calls[1]}"
    ) in result.stderr, str(result)


# --- 4. editing .env reloads, and the worker sees the edit ------------------------------------

FLAG_JOBS = """
@pb.task("flags")
def flags(ctx):
    return {key: os.environ.get(key) for key in ("FEATURE_FLAG", "NEW_VAR", "OLD_VAR", "DERIVED")}
"""


def test_editing_env_reaches_the_worker_after_reload(tmp_path: Path) -> None:
    from cli_support import poll
    from reliability.helpers import DevServer

    root = project(tmp_path / "p", {"jobs.py": FLAG_JOBS})
    (root / ".env").write_text("FEATURE_FLAG=off\nOLD_VAR=old\nDERIVED=${FEATURE_FLAG}-x\n", encoding="utf-8")
    server = DevServer(root, reload=True).start()
    try:
        assert server.run("flags")["result"] == {
            "FEATURE_FLAG": "off",
            "NEW_VAR": None,
            "OLD_VAR": "old",
            "DERIVED": "off-x",
        }
        (root / ".env").write_text(
            "FEATURE_FLAG=on\nNEW_VAR=added\nDERIVED=${FEATURE_FLAG}-x\n", encoding="utf-8"
        )
        poll("the reload", lambda: "reloaded" in server.output(), 30, 0.1, server.output)
        assert server.run("flags")["result"] == {
            "FEATURE_FLAG": "on",
            "NEW_VAR": "added",
            "OLD_VAR": None,
            "DERIVED": "on-x",
        }
    finally:
        server.stop()
        server.kill()


def test_dev_on_an_ascii_terminal(encoding_project: Path) -> None:
    """The live view: event lines, logs and trees of a non-ASCII function, then a clean stop."""
    from reliability.helpers import DevServer

    server = DevServer(encoding_project, env={"PYTHONIOENCODING": "ascii"}).start()
    try:
        tree = server.run("café-ñ")
        assert tree["status"] == "success"
        assert server.stop() == 0
    finally:
        server.kill()
    output = server.output()
    assert "Traceback" not in output and "UnicodeEncodeError" not in output, output
    assert "caf\\xe9-\\xf1" in output and "+ caf" in output, output
