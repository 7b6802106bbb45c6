"""The one rule table: each option rule on the values it must pass and the values it must flag,
and spec building refusing exactly what the table's refusing rules flag."""

from __future__ import annotations

from typing import Any

import pytest

from pingback_cli.project.rules import OPTION_RULES, option_problems
from pingback_cli.project.specs import InvalidFunction, build_spec

TASK = {"name": "t", "type": "task", "schedule": None, "retries": 0, "timeout": None, "concurrency": 1}
CRON = {**TASK, "name": "c", "type": "cron", "schedule": "*/5 * * * *"}

# (base, field, value, rule id flagged or None)
CASES: list[tuple[dict[str, Any], str, Any, str | None]] = [
    (TASK, "retries", 0, None),
    (TASK, "retries", 10, None),
    (TASK, "retries", 11, "retries-range"),
    (TASK, "retries", -1, "retries-range"),
    (TASK, "retries", True, "retries-range"),
    (TASK, "retries", 2.0, "retries-range"),
    (TASK, "concurrency", 1, None),
    (TASK, "concurrency", 10, None),
    (TASK, "concurrency", 0, "concurrency-range"),
    (TASK, "concurrency", "3", "concurrency-range"),
    (TASK, "timeout", None, None),
    (TASK, "timeout", "30s", None),
    (TASK, "timeout", "90", None),
    (TASK, "timeout", "5m", "timeout-misread"),
    (TASK, "timeout", "1h", "timeout-misread"),
    (TASK, "timeout", "1m30s", "timeout-misread"),
    (TASK, "timeout", "0s", "timeout-misread"),
    (TASK, "timeout", "-5s", "timeout-misread"),
    (TASK, "timeout", "thirty seconds", "timeout-format"),
    (TASK, "timeout", 30, "timeout-format"),
    (CRON, "schedule", "0 9 * * 1-5", None),
    (CRON, "schedule", "61 * * * *", "invalid-schedule"),
    (CRON, "schedule", "0 22-2 * * *", "invalid-schedule"),
    (CRON, "schedule", "0 0 30 2 *", "invalid-schedule"),
    (CRON, "schedule", "0 0 31 4,6,9,11 *", "never-fires"),
    (TASK, "schedule", "not a cron", None),  # a task's schedule is not read
]


@pytest.mark.parametrize(("base", "field", "value", "flagged"), CASES)
def test_option_rules(base: dict[str, Any], field: str, value: Any, flagged: str | None) -> None:
    raw = {**base, field: value}
    problems = option_problems(raw)
    assert [rule.id for rule, _ in problems] == ([flagged] if flagged else [])
    for rule, problem in problems:
        assert rule.field == field
        assert problem.message and problem.fix and "\n" not in problem.message


@pytest.mark.parametrize(("base", "field", "value", "flagged"), CASES)
def test_spec_building_refuses_what_a_refusing_rule_flags(
    base: dict[str, Any], field: str, value: Any, flagged: str | None
) -> None:
    raw = {**base, field: value, "source": "jobs.py:3"}
    rule = next((r for r in OPTION_RULES if r.id == flagged), None)
    if rule is not None and not rule.loads:
        with pytest.raises(InvalidFunction) as caught:
            build_spec(raw)
        [(_, problem)] = option_problems(raw)
        assert str(caught.value) == f'function "{raw["name"]}" (jobs.py:3): {problem.message}'
    else:
        assert build_spec(raw).name == raw["name"]


def test_a_misread_timeout_loads_with_the_platforms_seconds() -> None:
    spec = build_spec({**TASK, "timeout": "5m"})
    assert (spec.timeout, spec.timeout_seconds, spec.timeout_written) == ("5m", 5, 300)
    assert spec.to_json()["timeoutAsWrittenSeconds"] == 300
    assert build_spec({**TASK, "timeout": "0s"}).timeout_seconds == 0
    plain = build_spec({**TASK, "timeout": "45s"})
    assert (plain.timeout_seconds, plain.timeout_written) == (45, None)


def test_one_problem_per_field() -> None:
    fields = [
        rule.field for rule, _ in option_problems({**CRON, "schedule": "x", "retries": 99, "timeout": 5})
    ]
    assert sorted(fields) == ["retries", "schedule", "timeout"]


def test_every_rule_has_an_id_a_field_and_a_summary() -> None:
    ids = [rule.id for rule in OPTION_RULES]
    assert len(ids) == len(set(ids))
    assert {rule.field for rule in OPTION_RULES} == {"schedule", "retries", "timeout", "concurrency"}
    assert all(rule.summary for rule in OPTION_RULES)
