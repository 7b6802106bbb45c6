"""dashboard.present: highlighted JSON, durations, the visible part of a tree, the waterfall."""

from __future__ import annotations

from pingback_cli.dashboard import present
from pingback_cli.dashboard.source import FunctionInfo
from pingback_cli.history.outline import Outline, OutlineNode
from pingback_cli.history.rows import RunRow


def _node(node_id: str, parent: str | None, attempts: str = "[]", depth: int = 0) -> OutlineNode:
    row = RunRow(node_id, "f", "task", "success", 1, 100.0, None, None, None, "run", parent, "r", depth, None)
    return OutlineNode(row, attempts)


def test_json_is_escaped_highlighted_and_cut() -> None:
    view = present.json_view({"<k>": "<script>", "n": 1.5, "t": True})
    assert "<script>" not in view.html and "&lt;script&gt;" in view.html
    assert '<span class="jk">&#34;&lt;k&gt;&#34;</span>:' in view.html
    assert '<span class="jn">1.5</span>' in view.html and '<span class="jl">true</span>' in view.html
    big = present.json_view("y" * 200_000)
    assert big.truncated and big.size == 200_002 and len(big.html) < 110_000


def test_waterfall_has_queued_run_and_backoff_segments() -> None:
    attempts = (
        '[{"attempt":1,"status":"failed","startedAt":101.0,"completedAt":102.0},'
        '{"attempt":2,"status":"success","startedAt":104.0,"completedAt":105.0}]'
    )
    root = _node("r", None, attempts)
    chart = present.waterfall(Outline(root, 1, 1), now=200.0)
    kinds = [segment.kind for segment in chart.rows[0].segments]
    assert kinds == ["queued", "run-failed", "backoff", "run-success"]
    assert chart.start == 100.0 and chart.end == 105.0
    assert chart.rows[0].segments[0].left == 0.0


def test_parity_notes_come_from_the_rule_table_and_the_plans() -> None:
    notes = present.parity_notes(FunctionInfo("f", "task", None, 3, "5m", 5, 2))
    assert any('reads "5m" as 5 seconds' in note for note in notes), notes
    assert any("some of the platform's plans" in note and "free allows 1" in note for note in notes), notes
    assert present.parity_notes(FunctionInfo("f", "task", None, 0, "30s", 30, 1)) == []
    assert present.parity_notes(FunctionInfo("f", None)) == []


def test_waterfall_draws_no_backoff_before_a_manual_retry() -> None:
    attempts = (
        '[{"attempt":1,"status":"failed","startedAt":101.0,"completedAt":102.0},'
        '{"attempt":2,"status":"success","startedAt":230.5,"completedAt":231.0,"requestedAt":230.0}]'
    )
    chart = present.waterfall(Outline(_node("r", None, attempts), 1, 1), now=300.0)
    segments = chart.rows[0].segments
    assert [segment.kind for segment in segments] == ["queued", "run-failed", "queued", "run-success"]
    assert (segments[2].start, segments[2].end) == (230.0, 230.5)  # idle 102-230 is not drawn
    assert "retried by hand" in segments[2].label


def test_run_time_says_last_attempt_and_total_after_retries() -> None:
    row = RunRow("r", "f", "task", "failed", 3, 100.0, 100.0, 106.0, 1, "run", None, "r", 0, "boom")
    assert present.run_time(row) == "last attempt 1ms · total 6.0s"
