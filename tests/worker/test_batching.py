"""The worker writes each result before its next call starts: a handler that kills the
process takes only its own attempt with it, never a finished one's result."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import os, sys
    from pingback_cli.worker.handler_pool import HandlerPool
    from pingback_cli.worker.main import Outbox

    outbox = Outbox(int(sys.argv[1]))

    def run(item):
        if item == "exit":
            os._exit(7)  # as a handler may: nothing after this line of ours runs
        outbox.add(item.encode() + b"\\n")

    pool = HandlerPool(run)
    pool.submit(["first", "second", "exit", "never"])
    pool.wait_idle(10)
    """
)


def test_results_finished_before_a_handler_kills_the_worker_are_on_the_pipe() -> None:
    read_fd, write_fd = os.pipe()
    try:
        child = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(write_fd)], pass_fds=(write_fd,), timeout=30, check=False
        )
        os.close(write_fd)
        written = b""
        while chunk := os.read(read_fd, 1 << 16):
            written += chunk
    finally:
        os.close(read_fd)
    assert child.returncode == 7
    assert written.splitlines() == [b"first", b"second"]
