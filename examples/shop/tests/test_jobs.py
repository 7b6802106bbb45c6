"""The shop's crons and tasks, tested on the emulated platform (the `pingback` fixture)."""

from datetime import datetime, timezone


def test_send_emails_fans_out_and_retries_the_flaky_one(pingback):
    root = pingback.run("send-emails")

    root.assert_success()  # on failure the message is the rendered execution tree
    assert root.result == {"dispatched": 3}
    assert len(root.find_all("send-email")) == 3
    flaky = next(child for child in root.children if child.payload["id"] == "e2")
    assert [a.status for a in flaky.attempts] == ["failed", "success"]
    assert flaky.result == {"sent": "e2"}


def test_handlers_see_what_the_test_patches(pingback, monkeypatch):
    from shop import emails  # the fixture puts the project on sys.path

    monkeypatch.setattr(emails, "PENDING_EMAILS", [{"id": "e9", "to": "x@example.com"}])

    assert pingback.run("send-emails").result == {"dispatched": 1}


def test_a_day_of_crons_in_well_under_a_second(pingback):
    pingback.set_time("2026-12-01T00:00:00Z")

    runs = pingback.advance("1d")

    assert [r.function for r in runs].count("send-emails") == 96
    nightly = next(r for r in runs if r.function == "settle-orders")
    assert nightly.scheduled_at == datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    assert nightly.find("send-receipt").status == "success"


def test_an_injected_failure_on_the_retry(pingback):
    pingback.fail("send-email", attempt=2, error="mailbox full")  # e2's retry fails too

    root = pingback.run("send-emails")

    flaky = root.find_all("send-email")[1]
    first, second, third = flaky.attempts
    assert "SMTP server closed the connection" in first.error
    assert "mailbox full" in second.error
    assert third.status == "success"
    root.assert_success()


def test_a_charge_that_keeps_timing_out(pingback):
    pingback.timeout("charge-card", times=8)  # two orders x (1 + 3 retries): every attempt hangs

    root = pingback.run("settle-orders")

    charge = root.find("charge-card")
    assert charge.status == "failed"
    assert "timed out after 30s" in charge.error
    assert root.status == "success"  # the parent succeeded; its child did not


def test_a_delayed_trigger_waits_for_platform_time(pingback):
    queued = pingback.trigger("send-receipt", {"order_id": "o-1"}, delay="10m")

    assert pingback.advance("9m") == []
    assert queued.status == "pending"
    assert pingback.advance("1m") == [queued]
    assert queued.result == {"receipt": "o-1"}
