"""The benchmark workload: a cron fanning out N trivial tasks (N from BENCH_FANOUT), and one
fanning out tasks that each wait (BENCH_WAIT_FANOUT children of BENCH_WAIT_MS milliseconds)."""

import os
import time

from pingback import Pingback

pb = Pingback(api_key=os.environ["PINGBACK_API_KEY"], cron_secret=os.environ["PINGBACK_CRON_SECRET"])


def _fan_out(ctx, task, count_variable, default):
    """Ask for ``$count_variable`` (else ``default``) children of ``task``, payload ``{"i": i}``."""
    count = int(os.environ.get(count_variable, default))
    for i in range(count):
        ctx.task(task, {"i": i})
    return {"children": count}


@pb.cron("fanout", "0 0 * * *", timeout="5m")
def fanout(ctx):
    return _fan_out(ctx, "leaf", "BENCH_FANOUT", "10000")


@pb.task("leaf", concurrency=10)
def leaf(ctx, payload):
    return payload["i"]


@pb.task("noop")
def noop(ctx):
    return None


@pb.cron("fanout-default", "0 0 * * *", timeout="5m")
def fanout_default(ctx):
    """The same fan-out to a task declared with the SDK's defaults (no ``concurrency=``)."""
    return _fan_out(ctx, "leaf-default", "BENCH_FANOUT", "10000")


@pb.task("leaf-default")
def leaf_default(ctx, payload):
    return payload["i"]


@pb.cron("fanout-wait", "0 0 * * *", timeout="5m")
def fanout_wait(ctx):
    """Children that each wait, as on an HTTP call or a query (the SDK's defaults)."""
    return _fan_out(ctx, "leaf-wait", "BENCH_WAIT_FANOUT", "1000")


@pb.task("leaf-wait")
def leaf_wait(ctx, payload):
    time.sleep(float(os.environ.get("BENCH_WAIT_MS", "20")) / 1000)
    return payload["i"]
