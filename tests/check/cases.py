"""What ``pingback check`` finds in each fixture under tests/fixtures/check/<rule>/: read by the
in-process test of every rule (tests/check/test_rules.py) and by the few that run through the
installed command (tests/e2e/test_check.py).

Each finding's file:line is the line of the declaration (or the ctx.task call) that holds the
marker text below.
"""

from __future__ import annotations

# rule -> (severity, [(file, text on the flagged line, text in the message)])
CASES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "invalid-schedule": (
        "error",
        [("jobs.py", '@pb.cron("bad-schedule"', "the platform does not wrap ranges")],
    ),
    "never-fires": (
        "error",
        [("jobs.py", '@pb.cron("short-months"', "day 31 never occurs in April, June, September or November")],
    ),
    "schedule-reads-differently": (
        "warning",
        [
            (
                "jobs.py",
                '@pb.cron("four-fields"',
                "has 4 fields; the platform fills the missing leading ones",
            ),
            ("jobs.py", '@pb.cron("big-step"', 'minute field "*/61" steps by 61'),
            ("jobs.py", '@pb.cron("last-day"', 'day-of-month field "5L" is the last day of the month'),
        ],
    ),
    "timeout-over-interval": (
        "warning",
        [("jobs.py", '@pb.cron("slow-every-minute"', "fires every minute, but its timeout is 2m00s")],
    ),
    "runs-outpace-concurrency": (
        "warning",
        [("jobs.py", '@pb.cron("busy"', "more than 2 runs (its concurrency)")],
    ),
    "retries-range": ("error", [("jobs.py", '@pb.task("too-many-retries"', "retries is 11")]),
    "concurrency-range": ("error", [("jobs.py", '@pb.task("no-concurrency"', "concurrency is 0")]),
    "timeout-format": ("error", [("jobs.py", '@pb.task("fuzzy-timeout"', '"thirty seconds"')]),
    "timeout-misread": ("error", [("jobs.py", '@pb.task("minutes"', 'the platform reads "5m" as 5 seconds')]),
    "instance-secrets": ("error", [("jobs.py", '@pb.task("ordinary")', "answers 401")]),
    "several-instances": ("warning", [("reports.py", '@reports.cron("nightly"', "one handler must serve")]),
    "plan-retries": ("error", [("jobs.py", '@pb.task("flaky"', "the free plan runs at most 1 retry")]),
    "plan-fan-out": ("warning", [("jobs.py", 'ctx.task("shard"', "the pro plan drops the rest")]),
    "plan-jobs": ("error", [("jobs.py", '@pb.task("six")', "the free plan keeps at most 5")]),
    "plan-executions": ("error", [("jobs.py", '@pb.cron("every-minute"', "past the free plan's 1,000")]),
    "retries-zero-not-sent": (
        "warning",
        [("jobs.py", '@pb.task("no-more-retries", retries=0)', "retries=0 never reaches the platform")],
    ),
    "unknown-task": (
        "error",
        [
            ("jobs.py", 'ctx.task("send-emial"', 'ctx.task("send-emial", ...) names no function'),
            ("jobs.py", 'pb.trigger("nightly-report")', "answers 404"),
        ],
    ),
    "duplicate-name": ("error", [("crm.py", '@pb.task("sync")', "already defined at billing.py:4")]),
    "handler-signature": (
        "error",
        [
            (
                "jobs.py",
                '@pb.task("typed-not-payload")',
                "builds a Charge only for a parameter named payload",
            ),
            ("jobs.py", '@pb.task("no-params")', "takes no parameters"),
            ("jobs.py", '@pb.cron("cron-extra-params"', "missing a required argument: 'shard'"),
            ("jobs.py", '@pb.task("payload-and-more")', 'payload gets payload["payload"]'),
            ("jobs.py", '@pb.task("context-misnamed")', "only to a parameter named ctx"),
            ("jobs.py", '@pb.task("async-handler")', "is async, but the SDK calls handlers without"),
        ],
    ),
    "payload-keys": (
        "error",
        [
            ("jobs.py", 'ctx.task("charge"', "lacks 'amount' and has 'cents'"),
            ("jobs.py", 'ctx.task("receipt"', "lacks 'order_id' and has 'order'"),
        ],
    ),
}
