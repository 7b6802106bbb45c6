"""The benchmark workload: a cron fanning out N trivial tasks (N from BENCH_FANOUT), and one
fanning out tasks that each wait (BENCH_WAIT_FANOUT children of BENCH_WAIT_MS milliseconds)."""

import os
import time

from pingback import Pingback

pb = Pingback(api_key=os.environ["PINGBACK_API_KEY"], cron_secret=os.environ["PINGBACK_CRON_SECRET"])


@pb.cron("fanout", "0 0 * * *", timeout="5m")
def fanout(ctx):
    count = int(os.environ.get("BENCH_FANOUT", "10000"))
    for i in range(count):
        ctx.task("leaf", {"i": i})
    return {"children": count}


@pb.task("leaf", concurrency=10)
def leaf(ctx, payload):
    return payload["i"]


@pb.task("noop")
def noop(ctx):
    return None


@pb.cron("fanout-default", "0 0 * * *", timeout="5m")
def fanout_default(ctx):
    """The same fan-out to a task declared with the SDK's defaults (no ``concurrency=``)."""
    count = int(os.environ.get("BENCH_FANOUT", "10000"))
    for i in range(count):
        ctx.task("leaf-default", {"i": i})
    return {"children": count}


@pb.task("leaf-default")
def leaf_default(ctx, payload):
    return payload["i"]


@pb.cron("fanout-wait", "0 0 * * *", timeout="5m")
def fanout_wait(ctx):
    """Children that each wait, as on an HTTP call or a query (the SDK's defaults)."""
    count = int(os.environ.get("BENCH_WAIT_FANOUT", "1000"))
    for i in range(count):
        ctx.task("leaf-wait", {"i": i})
    return {"children": count}


@pb.task("leaf-wait")
def leaf_wait(ctx, payload):
    time.sleep(float(os.environ.get("BENCH_WAIT_MS", "20")) / 1000)
    return payload["i"]
