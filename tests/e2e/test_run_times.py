"""How long retried executions ran, said the same way in `run`, `show` and `runs`: the last
attempt and the total (field report: "1ms" next to "6.0s" on one screen, and "due" after
"started")."""

from __future__ import annotations

import re
from pathlib import Path

from cli_support import run_cli, run_in_process

SAID = re.compile(r"last attempt \d+ms · total (\d+\.\d)s")


def test_a_retried_execution_shows_its_last_attempt_and_its_total(lab: Path) -> None:
    ran = run_cli(lab, "run", "flaky")  # fails once, then a backoff of 2 s: about 2 s in all
    assert ran.returncode == 0, ran.brief()
    found = [SAID.search(line) for line in ran.stdout.splitlines() if line.startswith("✓ flaky")]
    assert found and found[0] and 1.9 <= float(found[0][1]) <= 5, ran.brief()

    execution_id = run_in_process(lab, "runs", "--json").json()[0]["executionId"]
    shown = run_in_process(lab, "show", execution_id)
    assert SAID.search(shown.stdout.splitlines()[0]), shown.brief()
    when = next(line for line in shown.stdout.splitlines() if " · started " in line)
    assert when.startswith("scheduled ") and "due" not in when, shown.brief()  # no "due" after "started"
    listed = run_in_process(lab, "runs")
    assert SAID.search(listed.stdout.splitlines()[1]), listed.brief()
