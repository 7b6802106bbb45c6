"""The plan table (limits.go, plan-limits.ts) and how a project chooses a plan."""

from __future__ import annotations

import pytest

from pingback_cli.errors import ProjectError, UsageError
from pingback_cli.project.plans import PLANS, choose_plan, plan_named, plans_that_cut


def test_the_table_matches_the_platforms_source() -> None:
    numbers = {
        name: (plan.fan_out, plan.retries, plan.executions_per_month, plan.jobs)
        for name, plan in PLANS.items()
    }
    assert numbers == {
        "free": (0, 1, 1_000, 5),
        "pro": (10, 5, 50_000, 50),
        "team": (100, 10, 500_000, None),
    }


@pytest.mark.parametrize(
    ("plan", "retries", "capped", "fan_out", "kept"),
    [("free", 3, 1, 12, 0), ("pro", 3, 3, 12, 10), ("pro", 9, 5, 10, 10), ("team", 11, 10, 101, 100)],
)
def test_caps(plan: str, retries: int, capped: int, fan_out: int, kept: int) -> None:
    assert PLANS[plan].cap_retries(retries) == capped
    assert PLANS[plan].cap_fan_out(fan_out) == kept


def test_choose_plan_prefers_the_option_then_the_environment_then_settings() -> None:
    settings = {"plan": "team"}
    assert choose_plan("free", settings, {"PINGBACK_PLAN": "pro"}).name == "free"  # type: ignore[union-attr]
    assert choose_plan(None, settings, {"PINGBACK_PLAN": "Pro"}).name == "pro"  # type: ignore[union-attr]
    assert choose_plan(None, settings, {}).name == "team"  # type: ignore[union-attr]
    assert choose_plan(None, {}, {}) is None


def test_an_unknown_plan_names_where_it_came_from() -> None:
    with pytest.raises(UsageError, match="--plan is 'gold'"):
        plan_named("gold")
    with pytest.raises(UsageError, match="PINGBACK_PLAN is 'x'"):
        choose_plan(None, {}, {"PINGBACK_PLAN": "x"})
    with pytest.raises(ProjectError, match=r"\[tool.pingback\] plan is 3"):
        choose_plan(None, {"plan": 3}, {})


def test_plans_that_cut() -> None:
    cuts = {plan.name: text for plan, text in plans_that_cut(retries=3, fan_out=12)}
    assert cuts == {"free": "retries 3 to 1, fan-out 12 to 0", "pro": "fan-out 12 to 10"}
    assert plans_that_cut(retries=1, fan_out=0) == []
