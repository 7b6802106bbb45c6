"""The entry point's own handling, in process (tests/e2e runs the installed command)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from pingback_cli.cli.main import quiet_interrupts

FINALIZER_INTERRUPTED = textwrap.dedent(
    """
    import sys
    from pingback_cli.cli.main import quiet_interrupts
    if sys.argv[1] == "quiet":
        sys.unraisablehook = quiet_interrupts

    class Collected:
        def __init__(self, error):
            self.error = error
        def __del__(self):
            raise self.error

    Collected(KeyboardInterrupt())
    Collected(ValueError("a real bug"))
    print("went on")
    """
)


def run_finalizers(mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", FINALIZER_INTERRUPTED, mode], capture_output=True, text=True, timeout=60
    )


def test_a_ctrl_c_inside_a_finalizer_prints_nothing_and_other_errors_still_show() -> None:
    plain = run_finalizers("default")
    assert plain.stderr.count("Exception ignored") == 2, plain.stderr  # what Python does alone
    quiet = run_finalizers("quiet")
    assert quiet.stdout == "went on\n"
    assert "KeyboardInterrupt" not in quiet.stderr, quiet.stderr
    assert quiet.stderr.count("Exception ignored") == 1 and "ValueError: a real bug" in quiet.stderr


def test_the_hook_passes_anything_but_an_interrupt_on(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[object] = []
    monkeypatch.setattr(sys, "__unraisablehook__", seen.append)

    class Unraisable:
        def __init__(self, error: BaseException) -> None:
            self.exc_value = error

    quiet_interrupts(Unraisable(KeyboardInterrupt()))
    error = Unraisable(OSError("closed"))
    quiet_interrupts(error)
    assert seen == [error]
