"""Help that teaches: every command and option explains itself with an example."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main
from cli_support import run_cli, run_in_process

from pingback_cli.cli.main import app

from .conftest import assert_clean_exit

REPO = Path(__file__).resolve().parents[2]
NEWCOMER_ORDER = ["init", "ls", "run", "dev", "trigger", "runs", "show", "replay", "check"]


def command_names() -> list[str]:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    return list(group.commands)


def test_top_level_help_lists_commands_in_a_newcomers_order(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--help")
    assert_clean_exit(result, 0)
    listed = result.stdout.split("Commands:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    shown = [line.split()[0] for line in listed]
    assert shown == command_names()
    assert [name for name in shown if name in NEWCOMER_ORDER] == NEWCOMER_ORDER
    assert shown[-1] == "completion"


@pytest.mark.parametrize("command", command_names())
def test_every_command_has_a_description_and_an_example(tmp_path: Path, command: str) -> None:
    result = run_in_process(tmp_path, command, "--help")
    assert_clean_exit(result, 0)
    usage, _, rest = result.stdout.partition("\n\n")
    assert usage.startswith(f"Usage: pingback {command}")
    description = rest.split("\n\n", 1)[0].strip()
    assert len(description) > 20, result.stdout
    assert "Example: pingback " + command in result.stdout, result.stdout


@pytest.mark.parametrize("command", command_names())
def test_every_argument_and_option_has_help(command: str) -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    missing = [
        param.name
        for param in group.commands[command].params
        if not (getattr(param, "help", None) or "").strip()
    ]
    assert missing == [], f"pingback {command}: no help for {missing}"


def test_every_command_is_in_the_readme() -> None:
    """Reads README.md when the test runs: the README documents every command."""
    readme = REPO / "README.md"
    assert readme.is_file(), "README.md is missing"
    text = readme.read_text(encoding="utf-8")
    absent = [name for name in command_names() if f"pingback {name}" not in text]
    assert absent == [], f"README.md never shows: {', '.join(f'pingback {n}' for n in absent)}"
