"""A forecast over crons the platform accepts but never fires (``project.cron.NeverFires``)."""

from __future__ import annotations

from datetime import datetime, timezone

from pingback_cli.models import FunctionSpec
from pingback_cli.testing.simulate import forecast

START = datetime(2026, 11, 28, tzinfo=timezone.utc).timestamp()
DAY = 86400.0


def test_a_forecast_skips_a_cron_that_never_fires() -> None:
    never = FunctionSpec("never", "cron", "0 0 31 4,6,9,11 *", 0, None, 30, 1)
    hourly = FunctionSpec("hourly", "cron", "@hourly", 0, None, 30, 1)
    result = forecast([never, hourly], START, START + DAY)
    assert (result.counts, result.monthly["never"]) == ({"never": 0, "hourly": 24}, 0)
