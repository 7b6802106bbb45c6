"""Shell completion through the installed command and the committed scripts.

A TAB must answer from ``.pingback/manifest.json`` and the history file alone: it never
imports the user's project (nor Rich, croniter or pydantic) and never creates a file.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cli_support import cli_env, pingback_command, record_tree, run_cli, run_in_process

from .conftest import assert_clean_exit

REPO = Path(__file__).resolve().parents[2]
COMPLETIONS = REPO / "completions"
SCRIPTS = {"bash": "pingback.bash", "zsh": "_pingback", "fish": "pingback.fish"}
SHOP_FUNCTIONS = {"send-emails", "send-email", "settle-orders", "charge-card", "send-receipt"}


def copy_shop(into: Path) -> Path:
    target = into / "shop"
    shutil.copytree(
        REPO / "examples" / "shop",
        target,
        ignore=shutil.ignore_patterns(".pingback", "__pycache__", "*.pyc"),
    )
    return target


def bin_path() -> str:
    return f"{os.path.dirname(pingback_command())}{os.pathsep}{os.environ.get('PATH', '')}"


def bash_complete(project: Path, *words: str) -> list[str]:
    """What the committed bash script offers for a TAB after ``words`` (the last may be "")."""
    program = textwrap.dedent(
        f"""\
        source {shlex.quote(str(COMPLETIONS / "pingback.bash"))}
        complete -p pingback >&2
        COMP_WORDS=({" ".join(shlex.quote(word) for word in words)})
        COMP_CWORD={len(words) - 1}
        _pingback_completion pingback
        printf '%s\\n' "${{COMPREPLY[@]}}"
        """
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        cwd=project,
        env=cli_env({"PATH": bin_path()}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "_pingback_completion" in done.stderr  # the script registered the function
    return [line for line in done.stdout.splitlines() if line]


def tab(project: Path, line: str, shell: str = "bash") -> subprocess.CompletedProcess[str]:
    """One TAB as Typer's scripts ask for it, without the shell."""
    words = line.split(" ")
    env = {"_PINGBACK_COMPLETE": f"complete_{shell}", "PATH": bin_path()}
    if shell == "bash":
        env.update({"COMP_WORDS": " ".join(words), "COMP_CWORD": str(len(words) - 1)})
    else:
        env.update({"_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_FISH_ACTION": "get-args"})
    return subprocess.run(
        [pingback_command()],
        cwd=project,
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def listed_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shop after ``pingback ls`` wrote its manifest: built once, copied by each test."""
    project = copy_shop(tmp_path_factory.mktemp("listed"))
    assert_clean_exit(run_in_process(project, "ls"), 0)  # the same manifest as the installed ls
    return project


@pytest.fixture(scope="module")
def ran_shop(listed_shop: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The listed shop after one ``pingback run send-emails --no-backoff --json``, and its tree."""
    project = shutil.copytree(listed_shop, tmp_path_factory.mktemp("ran") / "shop")
    first = run_cli(project, "run", "send-emails", "--no-backoff", "--json")
    assert_clean_exit(first, 0)
    return project, first.json()


@pytest.fixture
def shop(listed_shop: Path, tmp_path: Path) -> Path:
    """A project of the test's own with a manifest and no history."""
    return shutil.copytree(listed_shop, tmp_path / "shop")


@pytest.fixture
def shop_with_a_run(ran_shop: tuple[Path, dict[str, Any]], tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A project of the test's own whose history holds one run of send-emails; its tree."""
    project, tree = ran_shop
    return shutil.copytree(project, tmp_path / "shop"), tree


# --- the committed scripts --------------------------------------------------------------


@pytest.mark.parametrize("shell", sorted(SCRIPTS))
def test_committed_scripts_are_what_the_cli_generates(shell: str) -> None:
    # one shell through the installed command, the others its Click command in process
    generated = (run_cli if shell == "bash" else run_in_process)(REPO, "completion", shell)
    assert_clean_exit(generated, 0)
    committed = (COMPLETIONS / SCRIPTS[shell]).read_text(encoding="utf-8")
    assert generated.stdout == committed, (
        f"completions/{SCRIPTS[shell]} is stale: run `pingback completion {shell} > "
        f"completions/{SCRIPTS[shell]}`"
    )


def test_completion_rejects_an_unknown_shell(tmp_path: Path) -> None:
    result = run_in_process(tmp_path, "completion", "tcsh")
    assert_clean_exit(result, 2)
    assert "bash, zsh, fish" in result.stderr


def test_typers_own_completion_options_still_work(tmp_path: Path) -> None:
    env = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1", "HOME": str(tmp_path)}
    shown = run_cli(tmp_path, "--show-completion", "bash", env=env)
    assert_clean_exit(shown, 0)
    assert shown.stdout == (COMPLETIONS / "pingback.bash").read_text(encoding="utf-8")
    installed = run_cli(tmp_path, "--install-completion", "bash", env=env)
    assert_clean_exit(installed, 0)
    script = tmp_path / ".bash_completions" / "pingback.sh"
    assert script.read_text(encoding="utf-8").strip() == shown.stdout.strip()
    assert str(script) in (tmp_path / ".bashrc").read_text(encoding="utf-8")


# --- bash, for real ------------------------------------------------------------------------


def test_bash_completes_function_names_for_run_and_trigger(shop: Path) -> None:
    offered = bash_complete(shop, "pingback", "run", "se")
    assert {"send-emails", "send-email"} <= set(offered)
    assert set(offered) == {n for n in SHOP_FUNCTIONS if n.startswith("se")}
    assert bash_complete(shop, "pingback", "trigger", "send-e") == ["send-email", "send-emails"]
    assert set(bash_complete(shop, "pingback", "run", "")) == SHOP_FUNCTIONS


def test_bash_completes_commands_and_options(shop: Path) -> None:
    assert bash_complete(shop, "pingback", "re") == ["replay", "retry", "resume", "register"]
    commands = bash_complete(shop, "pingback", "")
    assert commands[:3] == ["init", "ls", "run"]
    assert {"completion", "check", "show", "dev"} <= set(commands)
    options = bash_complete(shop, "pingback", "run", "send-email", "--")
    assert {"--payload", "--no-backoff", "--json", "--app", "--help"} <= set(options)
    # an option already given is not offered again
    assert "--json" not in bash_complete(shop, "pingback", "run", "--json", "--")
    assert bash_complete(shop, "pingback", "completion", "") == ["bash", "zsh", "fish"]


def test_bash_completes_execution_ids_for_show_and_replay(
    shop_with_a_run: tuple[Path, dict[str, Any]],
) -> None:
    shop, first = shop_with_a_run
    root = first["executionId"]
    child = first["children"][0]["executionId"]
    assert bash_complete(shop, "pingback", "show", root[:6]) == [root]
    assert bash_complete(shop, "pingback", "replay", child[:8]) == [child]
    # an empty word offers the newest roots, not their children
    assert bash_complete(shop, "pingback", "show", "") == [root]
    newest = record_tree(shop, "send-email", {"id": "e1", "to": "a@b.c"})  # a newer run in history
    assert bash_complete(shop, "pingback", "replay", "") == [newest, root]
    assert bash_complete(shop, "pingback", "show", "not-hex") == []


def require_shell(name: str) -> None:
    """Skip without the shell locally; under ``CI=true`` fail (scripts/test installs it)."""
    if shutil.which(name) is not None:
        return
    message = f"{name} is not installed: `apt-get install {name}` (scripts/test does it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def test_fish_completes_names_and_ids(shop_with_a_run: tuple[Path, dict[str, Any]]) -> None:
    require_shell("fish")
    shop, first = shop_with_a_run
    root = first["executionId"]
    program = (
        f"source {shlex.quote(str(COMPLETIONS / 'pingback.fish'))}; "
        "complete -C 'pingback run send-'; complete -C 'pingback show '; complete -C 'pingback run --p'"
    )
    done = subprocess.run(
        ["fish", "--no-config", "-c", program],
        cwd=shop,
        env=cli_env({"PATH": bin_path()}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == ["send-email\ttask", "send-emails\tcron */15 * * * *", "send-receipt\ttask"]
    assert lines[3] == root
    # option help stays on one line, however long: one line per --p option
    assert lines[4].startswith("--payload\tThe payload as JSON")
    assert lines[5].startswith("--plan\t") and len(lines) == 6


def test_zsh_script_passes_the_words_and_offers_names(shop: Path) -> None:
    require_shell("zsh")
    program = textwrap.dedent(
        f"""\
        compdef() {{ print -r -- "compdef $*" }}
        _arguments() {{ print -r -- "$@" }}
        source {shlex.quote(str(COMPLETIONS / "_pingback"))}
        words=(pingback run send-e); CURRENT=3
        _pingback_completion
        """
    )
    done = subprocess.run(
        ["zsh", "-f", "-c", program],
        cwd=shop,
        env=cli_env({"PATH": bin_path()}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    registered, offered = done.stdout.splitlines()
    assert registered == "compdef _pingback_completion pingback"
    assert offered == '*: :(("send-email":"task" "send-emails":"cron */15 * * * *"))'


def test_clicks_instruction_style_and_typers_source_instruction_work_too(shop: Path) -> None:
    env = {"_PINGBACK_COMPLETE": "bash_complete", "COMP_WORDS": "pingback run send-r", "COMP_CWORD": "2"}
    clicks = run_cli(shop, env=env)
    assert_clean_exit(clicks, 0)
    assert clicks.stdout.split() == ["send-receipt"]
    source = run_cli(shop, env={"_PINGBACK_COMPLETE": "source_bash"})
    assert_clean_exit(source, 0)
    assert source.stdout.strip() == (COMPLETIONS / "pingback.bash").read_text(encoding="utf-8").strip()


# --- what a TAB may not do -------------------------------------------------------------------


def test_a_tab_never_imports_the_project(tmp_path: Path) -> None:
    project = tmp_path / "marked"
    project.mkdir()
    (project / "jobs.py").write_text(
        textwrap.dedent(
            """\
            import os
            from pathlib import Path

            from pingback import Pingback

            Path(__file__).with_name("imported.marker").touch()
            pb = Pingback(api_key="k", cron_secret="s")


            @pb.task("slow-import")
            def slow_import(ctx):
                return None
            """
        ),
        encoding="utf-8",
    )
    assert_clean_exit(run_in_process(project, "ls"), 0)  # writes the manifest, importing the project
    marker = project / "imported.marker"
    assert marker.exists()
    marker.unlink()
    done = tab(project, "pingback run sl")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["slow-import"]
    assert not marker.exists()


def test_a_tab_outside_any_project_offers_nothing_and_creates_nothing(tmp_path: Path) -> None:
    for line in ("pingback run ", "pingback show ", "pingback replay 3f"):
        done = tab(tmp_path, line)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == ""
    assert list(tmp_path.iterdir()) == []


def test_a_tab_creates_no_file_beside_the_history(shop_with_a_run: tuple[Path, dict[str, Any]]) -> None:
    shop, _ = shop_with_a_run
    state = shop / ".pingback"
    before = sorted(path.name for path in state.iterdir())
    assert tab(shop, "pingback show ").stdout.strip()
    assert sorted(path.name for path in state.iterdir()) == before


def test_a_tab_imports_nothing_heavy(shop_with_a_run: tuple[Path, dict[str, Any]]) -> None:
    """Rich, croniter, pydantic, the SDK and the project loader stay out of a TAB."""
    shop, _ = shop_with_a_run
    report = shop / "modules.json"
    probe = textwrap.dedent(
        f"""\
        import json, sys
        sys.argv[0] = "pingback"
        from pingback_cli.cli.main import main
        try:
            main()
        finally:
            with open({str(report)!r}, "w") as out:
                json.dump(sorted(sys.modules), out)
        """
    )
    for line in ("pingback run se", "pingback show ", "pingback ru", "pingback run --"):
        words = line.split(" ")
        env = {
            "_PINGBACK_COMPLETE": "complete_bash",
            "COMP_WORDS": line,
            "COMP_CWORD": str(len(words) - 1),
        }
        done = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=shop,
            env=cli_env(env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip()
        loaded = json.loads(report.read_text(encoding="utf-8"))
        heavy = [
            name
            for name in loaded
            if name.split(".")[0] in {"rich", "croniter", "pydantic", "pingback", "shop", "httpx"}
            or name
            in {"pingback_cli.project.loader", "pingback_cli.history.store", "pingback_cli.engine.engine"}
        ]
        assert heavy == [], f"{line!r} imported {heavy}"


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_answers_carry_names_with_their_type(shop: Path, shell: str) -> None:
    done = tab(shop, "pingback run send-", shell)
    assert done.returncode == 0, done.stderr
    if shell == "zsh":
        assert done.stdout.startswith("_arguments '*: :((")
        assert '"send-emails":"cron */15 * * * *"' in done.stdout
        assert '"send-email":"task"' in done.stdout
    else:
        assert done.stdout.splitlines() == [
            "send-email\ttask",
            "send-emails\tcron */15 * * * *",
            "send-receipt\ttask",
        ]


# --- the manifest stays fresh ------------------------------------------------------------------
# (`pingback dev` writes it on start and on every reload: test_dev's hot reload test checks it)


def test_run_writes_the_manifest_without_ls(tmp_path: Path) -> None:
    project = copy_shop(tmp_path)
    assert tab(project, "pingback run se").stdout.strip() == ""
    result = run_cli(project, "run", "send-receipt", "--payload", '{"order_id": "o-1"}')
    assert_clean_exit(result, 0)
    assert "send-emails" in tab(project, "pingback run se").stdout.split()
