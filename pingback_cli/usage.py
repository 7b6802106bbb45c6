"""Command lines shown to users beyond ``--help`` (the dashboard's API page), built from the same
words as the CLI's own options and examples, so the two cannot drift apart. Standard library
only: the dashboard and the CLI's start-up import it."""

from __future__ import annotations

import shlex

PAYLOAD_OPTION = "--payload"
DELAY_OPTION = "--delay"


def trigger_command(name: str, payload: str | None = None, delay: str | None = None) -> str:
    """``pingback trigger NAME [--payload JSON] [--delay D]`` for a POSIX shell, each value quoted
    as needed (``shlex.quote``)."""
    words = ["pingback", "trigger", shlex.quote(name)]
    if payload is not None:
        words += [PAYLOAD_OPTION, shlex.quote(payload)]
    if delay is not None:
        words += [DELAY_OPTION, shlex.quote(delay)]
    return " ".join(words)


TRIGGER_EXAMPLE = trigger_command("send-email", '{"id": "1"}', "15m")
"""The example `pingback trigger --help` shows."""
