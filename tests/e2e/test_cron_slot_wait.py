"""A cron occurrence that waits for a slot of the one pool of 20 says so, through the installed
command: dev's started line and `pingback show` give how late it started and what it waited
behind (new-user trial finding 6)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from cli_support import poll, run_in_process
from reliability.helpers import DevServer

from pingback_cli.engine.slots import LATE_SECONDS

JOBS = """
import os
import time

from pingback import Pingback

pb = Pingback(
    api_key=os.environ.get("PINGBACK_API_KEY", ""), cron_secret=os.environ.get("PINGBACK_CRON_SECRET", "dev")
)


@pb.cron("tick", "* * * * * *")
def tick(ctx):
    return "ok"


@pb.task("fill")
def fill(ctx, payload):
    for _ in range(payload["n"]):
        ctx.task("hold", {})


@pb.task("hold", concurrency=10, timeout="60s")
def hold(ctx, payload):
    time.sleep(3)
"""


def test_a_cron_late_for_a_slot_says_so_in_dev_and_show(tmp_path: Path) -> None:
    root = tmp_path / "waits"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "waits"\nversion = "0"\n', encoding="utf-8")
    (root / "jobs.py").write_text(textwrap.dedent(JOBS), encoding="utf-8")
    server = DevServer(root).start()
    try:
        server.trigger("fill", {"n": 25})
        late = re.compile(
            r"started +tick +\w+ +started (\d+\.\d)s late: waited for a slot \(20 running, \d+ queued ahead\)"
        )
        poll(
            "a late tick",
            lambda: late.search(server.stdout_path.read_text(encoding="utf-8")),
            30,
            0.2,
            server.output,
        )
        rows = server.http.get("/api/v1/executions", params={"function": "tick", "limit": 100}).json()
        tree = next(
            tree
            for tree in (server.tree(row["executionId"]) for row in rows)
            if any("waited for a slot" in n for a in tree.get("attempts", []) for n in a.get("notices", []))
        )
        shown = run_in_process(root, "show", tree["executionId"][:8])
        shown_json = run_in_process(root, "show", tree["executionId"][:8], "--json")
    finally:
        server.kill()
    assert shown.returncode == 0, shown.brief()
    assert "waited for a slot (20 running" in shown.stdout, shown.stdout
    notice = json.loads(shown_json.stdout)["attempts"][0]["notices"][0]
    seconds = float(re.search(r"started (\d+\.\d)s late", notice).group(1))  # type: ignore[union-attr]
    assert seconds >= LATE_SECONDS  # more than 1.0 s late, printed to one decimal: 1.04 s shows as 1.0
