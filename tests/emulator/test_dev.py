"""``pingback dev`` without a process: which saves reload, and how events are shown."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from watchfiles import Change

from pingback_cli.cli.dev import LiveView
from pingback_cli.emulator.dev import watch_filter
from pingback_cli.engine.engine import Event
from pingback_cli.models import Execution
from pingback_cli.terminal import Terminal, make_console


def accepts(root: Path, relative: str) -> bool:
    return bool(watch_filter(root)(Change.modified, str(root / relative)))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = tmp_path / "shop"
    project.mkdir()
    return project


@pytest.mark.parametrize(
    "relative", ["app.py", "shop/jobs.py", "deep/er/still.py", ".env", ".env.local", "pyproject.toml"]
)
def test_sources_env_files_and_pyproject_reload(root: Path, relative: str) -> None:
    assert accepts(root, relative)


@pytest.mark.parametrize(
    "relative",
    [
        "README.md",
        "data.json",
        "shop/__pycache__/jobs.cpython-311.pyc",
        "shop/__pycache__/jobs.py",
        ".pingback/history.sqlite3",
        ".pingback/x.py",
        ".venv/lib/site.py",
        "venv/lib/site.py",
        "env/lib/site.py",
        "build/lib/shop/jobs.py",
        "dist/x.py",
        "node_modules/x.py",
        ".git/hooks/pre-commit.py",
        "jobs.py~",
        ".#jobs.py",
    ],
)
def test_history_caches_builds_and_editor_files_do_not(root: Path, relative: str) -> None:
    assert not accepts(root, relative)


def test_a_virtualenv_with_any_name_is_ignored(root: Path) -> None:
    (root / "myenv").mkdir()
    (root / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert not accepts(root, "myenv/lib/python3.12/site-packages/pkg/mod.py")
    assert accepts(root, "myenvironment.py")


@pytest.mark.parametrize("parent", ["build", "dist", "env", "venv", "site-packages", "node_modules"])
def test_a_project_inside_a_folder_with_an_ignored_name_still_reloads(tmp_path: Path, parent: str) -> None:
    root = tmp_path / parent / "shop"
    root.mkdir(parents=True)
    assert accepts(root, "jobs.py")
    assert not accepts(root, "build/jobs.py")


def test_a_project_inside_a_virtualenv_still_reloads(tmp_path: Path) -> None:
    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\n")
    root = tmp_path / "src" / "shop"
    root.mkdir(parents=True)
    assert accepts(root, "jobs.py")


def test_paths_outside_the_project_are_ignored(root: Path) -> None:
    assert not watch_filter(root)(Change.modified, str(root.parent / "elsewhere.py"))


# --- the live view's event lines ---------------------------------------------------------


def live_lines(*events: Event) -> list[str]:
    buffer = io.StringIO()
    console = make_console(file=buffer)
    view = LiveView(Terminal(out=console, err=console))
    view.flush()  # as after the header: lines print as they come
    for event in events:
        view.event(event)
    return buffer.getvalue().splitlines()


def sleepy(status: str = "running") -> Execution:
    execution = Execution(
        id="3f2a9c1e-aaaa-4000-8000-000000000001", function="sleepy", type="task", scheduled_at=0
    )
    execution.status = status  # type: ignore[assignment]
    return execution


@pytest.mark.parametrize("kind", ["started", "retrying", "failed", "fired", "skipped", "interrupted"])
def test_every_event_line_separates_the_kind_from_the_function(kind: str) -> None:
    [line] = live_lines(Event(kind, sleepy(), 1_764_324_900.0, "detail"))
    assert re.search(rf"\b{kind}\s+sleepy\s+3f2a9c1e\b", line), line


def test_a_skipped_cron_occurrence_is_shown_with_its_reason() -> None:
    skipped = Execution(id="-" * 8, function="send-emails", type="cron", scheduled_at=1_764_324_900.0)
    [line] = live_lines(Event("skipped", skipped, 1_764_324_900.0, "1 still active (concurrency 1)"))
    assert line.startswith("10:15:00.000  skipped")
    assert "send-emails" in line and "1 still active (concurrency 1)" in line


def test_a_finished_task_without_logs_shows_its_result_line() -> None:
    done = sleepy("success")
    done.started_at, done.completed_at, done.duration_ms, done.result = 0.0, 0.012, 12, {"sent": 3}
    lines = live_lines(Event("finished", done, 1_764_324_900.0, None))
    assert any(line.startswith("✓ sleepy task") and '→ {"sent":3}' in line for line in lines), lines
    assert lines[-1].startswith("1 execution · 1 success")


def test_the_watcher_and_discovery_follow_one_rule(tmp_path: Path) -> None:
    """Whatever discovery imports reloads on save, a symlinked folder included; what it skips
    by name does not."""
    from pingback_cli.project.files import project_files

    root, common = tmp_path / "app", tmp_path / "common"
    (root / "build").mkdir(parents=True)
    common.mkdir()
    uses = "from pingback import Pingback\n"
    (root / "jobs.py").write_text(uses)
    (common / "shared_jobs.py").write_text(uses)
    (root / "build" / "old.py").write_text(uses)
    (root / "shared").symlink_to("../common")
    found = project_files(root)
    assert [path.relative_to(root).as_posix() for path in found] == ["jobs.py", "shared/shared_jobs.py"]
    for path in found:
        assert watch_filter(root)(Change.modified, str(path))
    assert not accepts(root, "build/old.py")
    assert not accepts(root, "tests/test_jobs.py")


def test_a_setting_the_engine_read_at_start_says_it_needs_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingback_cli.emulator.dev import DevOptions, _settings_needing_restart, _start_settings
    from pingback_cli.project import config as project_config
    from pingback_cli.project.config import ProjectConfig

    for key in ("PINGBACK_API_KEY", "PINGBACK_CRON_SECRET", "PINGBACK_APP"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(project_config, "_from_files", {})
    (tmp_path / ".env").write_text("PINGBACK_CRON_SECRET=one\nPINGBACK_API_KEY=k1\n")
    config = ProjectConfig(root=tmp_path)
    endpoint = _start_settings(config, DevOptions(endpoint="http://127.0.0.1:3000/api/pingback"))
    loopback = _start_settings(config, DevOptions())
    assert endpoint == {"PINGBACK_CRON_SECRET": "one"} and loopback == {}
    assert _settings_needing_restart(config, endpoint) == []
    (tmp_path / ".env").write_text("PINGBACK_CRON_SECRET=two\nPINGBACK_API_KEY=k2\n")
    [message] = _settings_needing_restart(config, endpoint)
    assert message.startswith("PINGBACK_CRON_SECRET changed in the env files")
    assert "restart it to apply" in message
    assert _settings_needing_restart(config, loopback) == []


def test_what_start_up_says_comes_after_the_header(tmp_path: Path) -> None:
    from types import SimpleNamespace

    buffer = io.StringIO()
    console = make_console(file=buffer)
    view = LiveView(Terminal(out=console, err=console))
    view.worker_restarted("from the last `pingback dev`: 3 queued executions taken over")
    view.event(Event("resumed", sleepy("pending"), 1_764_324_900.0, None))
    assert buffer.getvalue() == ""  # held: the header is not out yet
    info = SimpleNamespace(
        root=tmp_path,
        functions=[],
        api_url="http://127.0.0.1:8765",
        endpoint=None,
        reload=True,
        history=tmp_path / ".pingback" / "history.sqlite3",
        concurrency="platform",
    )
    view.ready(info)
    lines = buffer.getvalue().splitlines()
    assert lines[0].startswith("pingback dev")
    taken = next(i for i, line in enumerate(lines) if "taken over" in line)
    resumed = next(i for i, line in enumerate(lines) if "resumed" in line)
    waiting = next(i for i, line in enumerate(lines) if line.startswith("Waiting for crons"))
    assert waiting < taken < resumed
    values = [line.index("http") for line in lines if line.lstrip().startswith(("API", "dashboard"))]
    assert len(values) == 2 and len(set(values)) == 1  # one column for every value
    column = values[0]
    for label in ("reload", "history", "times"):
        line = next(line for line in lines if line.lstrip().startswith(label))
        assert len(line) - len(line[len("  " + label) :].lstrip()) == column, line


def test_dev_is_announced_before_its_banner_says_it_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`.pingback/dev.json` (what `pingback trigger` reads to find dev) exists by the time the
    view is told dev is ready: a trigger typed on seeing the banner finds it. It was written
    just after, and a test under load met the gap ("no `pingback dev` is running")."""
    import shutil
    import signal

    from cli_support import free_port

    from pingback_cli.emulator.dev import DevInfo, DevOptions, serve
    from pingback_cli.project.config import configure

    project = tmp_path / "devproj"
    shutil.copytree(Path(__file__).parents[1] / "fixtures" / "devproj", project)
    monkeypatch.setenv("PINGBACK_API_KEY", "pb_test_api_key")
    monkeypatch.setenv("PINGBACK_CRON_SECRET", "pb_test_cron_secret")
    found: list[bool] = []

    class View:
        def ready(self, info: DevInfo) -> None:
            found.append((project / ".pingback" / "dev.json").is_file())
            signal.raise_signal(signal.SIGINT)  # seen: stop, as Ctrl-C does

        def event(self, event: object) -> None: ...
        def reloading(self, paths: list[str]) -> None: ...
        def reloaded(self, result: object, seconds: float) -> None: ...
        def worker_restarted(self, message: str) -> None: ...
        def stopped(self, interrupted: int, kept: int = 0) -> None: ...

    serve(configure(cwd=project), DevOptions(port=free_port(), reload=False, crons=False), View())
    assert found == [True]
    assert not (project / ".pingback" / "dev.json").exists()  # withdrawn at the stop
