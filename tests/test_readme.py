"""The README's commands, run as written.

A fenced shell block is runnable when the line just before its opening fence is the HTML
comment ``<!-- runnable -->`` (invisible on GitHub). Each such block runs with ``bash -e``
from the root of a temporary copy of the repository (its git-tracked files as they are in
this checkout), so nothing it writes lands in the checkout.

One step is replaced, to stay fast and offline: making ``.venv`` and ``pip install .`` into
it (:data:`INSTALLED`). The copy's ``.venv`` is instead a link to the environment running
these tests, where this checkout is already installed (``scripts/test`` installs it), so
the rest of the block runs the installed ``pingback`` exactly as a reader's would.

Blocks not marked are documentation only (they need a running server, a terminal, or
minutes). Modelled on sqlite-utils' ``tests/test_docs.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARK = "<!-- runnable -->"
FENCE = re.compile(r"^```(\w*)\s*$")
SHELLS = {"sh", "bash", "shell", "console"}


def shell_blocks(text: str) -> list[tuple[int, str, bool]]:
    """Every fenced shell block of ``text``: (line number of the fence, body, runnable)."""
    blocks: list[tuple[int, str, bool]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = next((n for n in range(index + 1, len(lines)) if lines[n].strip() == "```"), len(lines))
        if opening.group(1) in SHELLS:
            runnable = index > 0 and lines[index - 1].strip() == MARK
            blocks.append((index + 1, "\n".join(lines[index + 1 : end]), runnable))
        index = end + 1
    return blocks


RUNNABLE = [(line, body) for line, body, runnable in shell_blocks(README.read_text("utf-8")) if runnable]


def test_the_first_command_of_the_readme_is_runnable() -> None:
    """Install and run the bundled example: the first thing a reader types."""
    first_line, first_body, runnable = shell_blocks(README.read_text("utf-8"))[0]
    assert runnable, f"README.md:{first_line}: mark the first command {MARK}"
    assert "pip install" in first_body and "pingback run" in first_body


def test_blocks_are_found_and_marks_are_read() -> None:
    text = f"intro\n\n```sh\necho docs\n```\n{MARK}\n```sh\necho run\n```\n```python\nx = 1\n```\n"
    assert shell_blocks(text) == [(3, "echo docs", False), (7, "echo run", True)]


def _copy_of_the_repository(into: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file() and not name.startswith(("tests/", "benchmarks/")):
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


INSTALLED = "python3 -m venv .venv && .venv/bin/pip install . && "
"""The install step of a block, replaced by a ``.venv`` linked to this environment."""


def _as_installed(root: Path, body: str) -> str:
    if INSTALLED not in body:
        return body
    (root / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return body.replace(INSTALLED, "")


@pytest.mark.parametrize("line,body", RUNNABLE, ids=[f"README.md:{line}" for line, _ in RUNNABLE])
def test_a_runnable_readme_block_succeeds(tmp_path: Path, line: int, body: str) -> None:
    root = _copy_of_the_repository(tmp_path / "repo")
    script = _as_installed(root, body)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINGBACK_", "VIRTUAL_ENV"))}
    env["PIP_NO_INDEX"] = "1"  # never reach a registry
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"README.md:{line}\n$ {body}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


# --- what the README shows -------------------------------------------------------------

OUTPUT_MARK = re.compile(r"^<!-- output: (\S+) -->$")
TESTING_EXAMPLE = re.compile(
    r"<!-- testing-example:start -->\n```python\n(.*?)```\n<!-- testing-example:end -->", re.S
)


def output_blocks(text: str) -> list[tuple[int, str, list[tuple[str, list[str]]]]]:
    """Every fenced block after ``<!-- output: FOLDER -->``: (fence line, folder, [(command,
    the lines shown under it)]), a command being a line that starts with ``$ ``."""
    found = []
    lines = text.splitlines()
    for index, line in enumerate(lines[:-1]):
        mark = OUTPUT_MARK.match(line.strip())
        if mark is None or not lines[index + 1].startswith("```"):
            continue
        end = next(n for n in range(index + 2, len(lines)) if lines[n].strip() == "```")
        runs: list[tuple[str, list[str]]] = []
        for shown in lines[index + 2 : end]:
            if shown.startswith("$ "):
                runs.append((shown[2:], []))
            else:
                runs[-1][1].append(shown)
        found.append((index + 2, mark.group(1), runs))
    return found


VARYING = [
    (re.compile(r"\b[0-9a-f]{8}\b"), "<id>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"), "<date>"),
    (re.compile(r"\b\d\d:\d\d:\d\d(\.\d+)?"), "<time>"),
    (re.compile(r"\b\d+ms\b|\b\d+\.\d+s\b"), "<duration>"),
    (re.compile(r"\bin (\d+[dhms])+\b"), "in <span>"),
]


def comparable(line: str) -> str:
    """``line`` without what changes from run to run (ids, times, durations) or with the
    table's widths (runs of spaces)."""
    for pattern, token in VARYING:
        line = pattern.sub(token, line)
    return " ".join(line.split())


def test_output_blocks_are_read_and_compared_loosely() -> None:
    text = "<!-- output: x -->\n```\n$ a\none\n$ b\n```\n"
    assert output_blocks(text) == [(2, "x", [("a", ["one"]), ("b", [])])]
    assert comparable("├── ✓ e  12ms  47724915  due 10:13:41 UTC, in 2s") == comparable(
        "├── ✓ e 4ms 0ac5a914 due 01:22:45 UTC, in 15h46m"
    )


def test_the_readme_shows_what_its_commands_print(tmp_path: Path) -> None:
    """Each ``<!-- output: FOLDER -->`` block: its commands, run in order in a fresh copy of
    FOLDER (times in UTC, stderr with stdout, as a terminal shows both), print the lines
    shown, up to ids, times and durations; in any order, since a run's live lines from
    children running at once interleave differently each time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINGBACK_", "COLUMNS", "NO_COLOR"))}
    env["PINGBACK_UTC"] = "1"
    blocks = output_blocks(README.read_text("utf-8"))
    assert blocks, "README.md has no <!-- output: FOLDER --> block"
    copies: dict[str, Path] = {}
    for line, folder, runs in blocks:
        if folder not in copies:
            copies[folder] = tmp_path / folder.replace("/", "_")
            shutil.copytree(
                ROOT / folder, copies[folder], ignore=shutil.ignore_patterns(".pingback", "__pycache__")
            )
        for command, shown in runs:
            assert command.startswith("pingback "), f"README.md:{line}: {command}"
            done = subprocess.run(
                [str(Path(sys.executable).parent / "pingback"), *command.split()[1:]],
                cwd=copies[folder],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=60,
            )
            printed = sorted(comparable(text) for text in done.stdout.splitlines())
            assert printed == sorted(comparable(text) for text in shown), (
                f"README.md:{line}: `{command}` prints:\n{done.stdout}"
            )


def test_the_readme_testing_example_is_the_shipped_file() -> None:
    """The README's complete test file is examples/shop/tests/test_jobs.py, which
    tests/e2e/test_pytest_plugin.py runs with plain pytest, as the README says."""
    text = README.read_text("utf-8")
    block = TESTING_EXAMPLE.search(text)
    assert block is not None, "README.md has no testing example between its markers"
    shipped = ROOT / "examples" / "shop" / "tests" / "test_jobs.py"
    assert block.group(1) == shipped.read_text("utf-8")
    assert "examples/shop/tests/test_jobs.py" in text and "pip install pytest" in text
