"""How rows are written and read back: never NaN or Infinity on disk, and no stored row
(written by an older version, or damaged by hand) can make a read fail."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest

from history.records import make
from pingback_cli.history.codec import dump_attempts, load_attempts
from pingback_cli.history.store import Store
from pingback_cli.models import Attempt, LogEntry

LOG = LogEntry(1796028298873, "info", "about to fail", {"n": 0, "at": object()})


def test_non_finite_floats_are_never_written(store: Store, path: Path) -> None:
    log = LogEntry(1, "info", "m", meta={"x": float("nan")})
    store.save(make("dddd0001", result={"ratio": float("nan"), "big": float("inf")}, logs=[log]))
    store.save(make("dddd0002", has_payload=True, payload=[float("-inf")]))
    store.flush()
    with sqlite3.connect(path) as conn:
        for column in ("result", "logs", "payload"):
            for (text,) in conn.execute(f'SELECT "{column}" FROM executions WHERE {column} IS NOT NULL'):
                assert "NaN" not in text.replace('"NaN"', "") and "Infinity" not in text.replace(
                    '"Infinity"', ""
                ).replace('"-Infinity"', ""), text
    assert store.get("dddd0001").result == {"ratio": "NaN", "big": "Infinity"}
    assert store.get("dddd0001").logs[0].meta == {"x": "NaN"}
    assert store.get("dddd0002").payload == ["-Infinity"]


def test_one_bad_row_never_breaks_a_listing(store: Store, path: Path) -> None:
    """Rows written by an older version (NaN inside) or damaged by hand still read."""
    store.save(make("eeee0001"))
    store.save(make("eeee0002"))
    store.save(make("eeee0003"))
    store.flush()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE executions SET result = ?, logs = ? WHERE id = 'eeee0001'",
            (
                '{"ratio":NaN,"big":Infinity}',
                '[{"timestamp":1,"level":"info","message":"m","meta":{"x":NaN}}]',
            ),
        )
        conn.execute(
            "UPDATE executions SET result = ?, logs = ?, attempts = ? WHERE id = 'eeee0002'",
            ('{"cut', "[{not json", '[{"attempt":1}, "junk"]'),
        )
        conn.execute("UPDATE executions SET logs = ? WHERE id = 'eeee0003'", ('["junk", 3, null]',))
    roots = {summary.execution.id: summary.execution for summary in store.recent_roots(10)}
    assert roots["eeee0001"].result == {"ratio": "NaN", "big": "Infinity"}
    assert roots["eeee0001"].logs[0].meta == {"x": "NaN"}
    assert roots["eeee0002"].result == '{"cut'
    assert roots["eeee0002"].logs == [] and roots["eeee0002"].attempts == []
    assert roots["eeee0003"].logs == []
    for execution in roots.values():
        json.dumps(execution.to_json(), allow_nan=False)


def test_an_attempts_printed_output_round_trips() -> None:
    from pingback_cli.history.codec import dump_attempts, load_attempts
    from pingback_cli.models import Attempt, OutputLine

    attempt = Attempt(
        1, "success", 1.0, output=[OutputLine(5, "stderr", "warn: [x] ünï"), OutputLine(6, "stdout", "")]
    )
    [loaded] = load_attempts(dump_attempts([attempt]))
    assert loaded.output == attempt.output
    assert Attempt.from_json(attempt.to_json()).output == attempt.output
    [bare] = load_attempts(dump_attempts([Attempt(1, "success", 1.0)]))
    assert bare.output == [] and "output" not in dump_attempts([Attempt(1, "success", 1.0)])


@pytest.mark.parametrize(
    "attempt",
    [
        Attempt(1, "success", 1796000213.9460626, 1796000219.3559794, 5410, 200),
        Attempt(2, "running", 1.0),
        Attempt(1, "failed", 1e20, 2.5e-07, 0, 500),
        Attempt(3, "success", 5, 6, 1, None),
        Attempt(1, "failed", 1.0, 2.0, 1000, 500, error="HTTP 500: boom", traceback="Traceback"),
        Attempt(
            1, "failed", 1.0, 2.0, 1, 500, error='ünï "q"\n\t', logs=[LogEntry(1, "info", "m", {"n": 0})]
        ),
        # not the usual attempt: written the general way
        Attempt(1, "success", 1.0, notices=["cut"], logs=[LogEntry(1, "info", "hi", {"k": 1})]),
        Attempt(1, "failed", 1.0, error=7),  # type: ignore[arg-type]
        Attempt(1, "interrupted", math.nan),
        Attempt(1, "success", 1.0, requested_at=0.5),
        Attempt(True, "success", 1.0),
    ],
)
def test_attempts_read_back_as_written(attempt: Attempt) -> None:
    text = dump_attempts([attempt])
    assert json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} written")) is not None
    assert [_fields(read) for read in load_attempts(text)] == [_fields(attempt, written=True)]


def _fields(attempt: Attempt, *, written: bool = False) -> tuple[object, ...]:
    started = attempt.started_at
    if written and isinstance(started, float) and math.isnan(started):
        started = "NaN"
    return (
        int(attempt.number),
        attempt.status,
        started,
        attempt.completed_at,
        attempt.duration_ms,
        attempt.http_status,
        attempt.error,
        attempt.traceback,
        [log.to_json() for log in attempt.logs],
        attempt.notices,
        attempt.requested_at,
    )


CIRCULAR: dict[str, object] = {}
CIRCULAR["self"] = CIRCULAR
FAILED = [
    Attempt(1, "failed", 1.0, logs=[LogEntry(1, "info", "x", CIRCULAR)]),
    Attempt(1, "failed", 1796028298.65, 1796028299.2, 553, 500, error="HTTP 500: boom 0", traceback="T\n  F"),
    Attempt(
        1, "failed", 1.0, 2.0, 1, 500, error="e", traceback="t", logs=[LOG, LogEntry(2, "warn", "ü", None)]
    ),
    Attempt(1, "failed", 1.0, logs=[LogEntry(1, "info", "x", {"ratio": math.nan})]),
    Attempt(1, "failed", 1.0, logs=[LogEntry(1, "info", "x", {"ratio": -math.inf})]),
    Attempt(1, "failed", 1.0, error=7),  # type: ignore[arg-type]
    Attempt(1, "failed", 1.0, logs=[LogEntry(1, "info", "NaN is a word here")]),
    Attempt(1, "running", 1.0, logs=[LOG]),
]


@pytest.mark.parametrize("attempt", FAILED)
@pytest.mark.parametrize("known", [False, True])
def test_a_failed_attempt_is_written_as_the_general_way_writes_it(attempt: Attempt, known: bool) -> None:
    """Written directly (its error, traceback and logs), or with its logs' text already known
    (the execution's logs column, the same list): the same text as the general way."""
    from pingback_cli.history import codec

    logs_text = (attempt.logs, codec._dump_logs(attempt.logs)) if known else None
    assert dump_attempts([attempt], logs_text) == codec._general_attempts([attempt])


def test_a_rows_logs_are_encoded_once_for_both_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    from pingback_cli.history import codec

    execution = make("ffff0001", logs=[LOG])
    execution.attempts = [Attempt(1, "failed", 1.0, 2.0, 1, 500, error="HTTP 500: x", logs=execution.logs)]
    encoded: list[int] = []
    original = codec._dump_logs
    monkeypatch.setattr(codec, "_dump_logs", lambda logs: encoded.append(len(logs)) or original(logs))
    row = codec.encode_row(1, execution, "owner")
    assert encoded == [1]
    logs, attempts = row[codec.COLUMNS.index("logs")], row[codec.COLUMNS.index("attempts")]
    assert json.loads(attempts)[0]["logs"] == json.loads(logs)
    assert attempts == codec._general_attempts(execution.attempts)
