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
