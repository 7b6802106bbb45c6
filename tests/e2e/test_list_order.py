"""`pingback runs` lists runs in the order of the time it shows (started, else due), not in
the order they were created (field report: a delayed trigger and a pending run out of place)."""

from __future__ import annotations

import time
from pathlib import Path

from cli_support import run_in_process

from pingback_cli.history.store import Store, history_path
from pingback_cli.models import Execution

from .conftest import assert_clean_exit


def test_runs_are_listed_by_their_started_or_due_time(lab: Path) -> None:
    now = time.time()
    with Store(history_path(lab)) as store:  # created in this order, as dev and trigger --delay do
        for number, function, started in (
            (1, "ok", now - 4),
            (2, "echo", now),
            (3, "cleanup", None),  # pending, due in an hour
            (4, "flaky", now - 26),  # created last, started first
        ):
            store.save(
                Execution(
                    id=f"{number:08x}-0000-4000-8000-000000000000",
                    function=function,
                    type="task",
                    scheduled_at=started or now + 3600,
                    status="success" if started else "pending",
                    started_at=started,
                )
            )
    result = run_in_process(lab, "runs")  # `runs` through the installed command: test_cli_core
    assert_clean_exit(result, 0)
    names = [line.split()[1] for line in result.stdout.splitlines()[1:]]
    assert names == ["cleanup", "echo", "ok", "flaky"], result.brief()
    assert " due " in result.stdout.splitlines()[1]
    assert [run["function"] for run in run_in_process(lab, "runs", "--json").json()] == names
