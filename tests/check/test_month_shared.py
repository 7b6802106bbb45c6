"""``check`` and ``simulate`` give one figure for a month of crons (new-user trial #2, finding 4:
simulate said 43,200 and "fits pro", check said 86,400 and past it, the handlers made 172,800)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pingback_cli.check.rules import check_project
from pingback_cli.project.config import open_project
from pingback_cli.testing.simulate import forecast_project

from .conftest import isolated

JOBS = """
import os

from pingback import Pingback

pb = Pingback(api_key=os.environ["PINGBACK_API_KEY"], cron_secret=os.environ["PINGBACK_CRON_SECRET"])


@pb.cron("tick", "*/1 * * * *")
def tick(ctx):
    for i in range(3):
        ctx.task("work", {"i": i})


@pb.task("work")
def work(ctx, payload):
    return payload
"""
START = 1_780_000_000.0


def test_check_and_simulate_count_the_same_month(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "month"\nversion = "0"\n')
    (tmp_path / "jobs.py").write_text(JOBS)
    monkeypatch.chdir(tmp_path)
    with isolated():
        report = check_project(open_project(cwd=tmp_path), now=START, plan="pro")
    with isolated():
        forecast = forecast_project(None, START, START + 300, plan="pro")
    [month] = forecast.months
    assert (month.total, month.at_least, month.verdict) == (86_400, True, "exceeded")
    [finding] = [f for f in report.findings if f.rule == "plan-executions"]
    assert "the crons make at least 86,400 executions in 30 days" in finding.message
