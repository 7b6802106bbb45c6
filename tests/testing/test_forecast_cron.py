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


def test_counting_without_listing_gives_the_listings_counts() -> None:
    every_minute = FunctionSpec("tick", "cron", "* * * * *", 0, None, 30, 1)
    nightly = FunctionSpec("nightly", "cron", "0 3 * * *", 0, None, 30, 1)
    listed = forecast([every_minute, nightly], START + 30, START + 3 * DAY + 30)
    counted = forecast([every_minute, nightly], START + 30, START + 3 * DAY + 30, listing=False)
    assert counted.occurrences is None and "occurrences" not in counted.to_json()
    assert counted.counts == listed.counts == {"tick": 3 * 1440, "nightly": 3}
    assert counted.monthly == listed.monthly
