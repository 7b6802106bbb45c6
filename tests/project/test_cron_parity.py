"""Differential test: our cron grammar against the platform's ``cron-parser`` 4.9.0 (UTC).

For every expression in the corpus, both must agree on accepting it and, from each reference
instant, on the next 10 fire times to the millisecond and on where ``next()`` fails.
"""

from __future__ import annotations

import json
import subprocess
import time
from itertools import islice
from typing import Any

import pytest

from pingback_cli.project.cron_grammar import GrammarError, parse
from pingback_cli.project.cron_walk import WalkError, fires
from project.cron_corpus import GENERATED_INSTANTS, INSTANTS, PARITY_PROPERTY, generated, hand_written

FIRES = 10
ERRORS = {"Invalid expression, loop limit exceeded": "limit", "Invalid last weekday": "last-weekday"}


def _ours(expression: str, instants: tuple[int, ...]) -> dict[str, Any]:
    try:
        fields = parse(expression)
    except GrammarError:
        return {"ok": False}
    runs: list[Any] = []
    for instant in instants:
        found: list[int] = []
        try:
            found.extend(islice(fires(fields, instant), FIRES))
            runs.append(found)
        except WalkError as exc:
            runs.append({"fires": found, "error": exc.kind})
    return {"ok": True, "runs": runs}


def _theirs(result: dict[str, Any]) -> dict[str, Any]:
    if not result["ok"]:
        return {"ok": False}
    runs = []
    for run in result["runs"]:
        if isinstance(run, dict):
            kind = next((k for prefix, k in ERRORS.items() if run["error"].startswith(prefix)), run["error"])
            run = {"fires": run["fires"], "error": kind}
        runs.append(run)
    return {"ok": True, "runs": runs}


def _compare(
    oracle: list[str], groups: list[tuple[list[str], tuple[int, ...]]]
) -> tuple[list[tuple[Any, ...]], int]:
    """The expressions on which we and cron-parser differ, with both answers, and how many of
    all the expressions we accept; ``groups`` pairs expressions with the instants they are
    walked from.

    One Node process answers every group (its date steps are remembered across expressions, see
    oracle.js) while we work out our answers.
    """
    request = json.dumps(
        {"groups": [{"expressions": e, "instants": list(i)} for e, i in groups], "count": FIRES}
    )
    with subprocess.Popen(oracle, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as node:
        assert node.stdin is not None and node.stdout is not None
        node.stdin.write(request)
        node.stdin.close()
        ours = [
            [_ours(expression, instants) for expression in expressions] for expressions, instants in groups
        ]
        answer = node.stdout.read()
    assert node.returncode == 0, f"the oracle exited with {node.returncode}"
    theirs = [[_theirs(result) for result in group] for group in json.loads(answer)]
    differ = [
        (e, o, t)
        for (expressions, _), our_group, their_group in zip(groups, ours, theirs, strict=True)
        for e, o, t in zip(expressions, our_group, their_group, strict=True)
        if o != t
    ]
    return differ, sum(result["ok"] for group in ours for result in group)


@pytest.mark.long(20)
@pytest.mark.timeout(600)
def test_cron_grammar_matches_cron_parser(cron_oracle: list[str], record_property: Any) -> None:
    started = time.perf_counter()
    edge, random_ones = hand_written(), generated(1000)
    differ, accepted = _compare(cron_oracle, [(edge, INSTANTS), (random_ones, GENERATED_INSTANTS)])
    summary = (
        f"cron parity: compared {len(edge) + len(random_ones)} expressions ({accepted} accepted) with "
        f"cron-parser 4.9.0, 10 fire times each from {len(INSTANTS)} instants ({len(edge)} edge cases) "
        f"or {len(GENERATED_INSTANTS)} ({len(random_ones)} generated): {len(differ)} differ, "
        f"{time.perf_counter() - started:.0f}s"
    )
    record_property(PARITY_PROPERTY, summary)
    print(summary)
    shown = "\n".join(f"{json.dumps(e)}: ours {o} != cron-parser {t}" for e, o, t in differ[:10])
    assert not differ, f"{summary}\n{shown}"


@pytest.mark.parametrize(
    "expression", ["*/5 * * * * *", "@weekly", "0 0 29 2 *", "0 0 * * 5L", "22-2 * * * *"]
)
def test_corpus_covers(expression: str) -> None:
    assert expression in hand_written()
