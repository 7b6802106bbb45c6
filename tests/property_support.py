"""What the property-based (Hypothesis) tests share: how many examples a property draws."""

from __future__ import annotations

from hypothesis import settings

CI_EXAMPLES = 100
"""Hypothesis' own default."""


def examples(locally: int) -> int:
    """How many examples a property draws: ``locally`` where each run draws new ones (the
    default profile, and tests/conftest.py's "suite" profile: a failure found is kept in the
    example database), and Hypothesis' default of 100 under its "ci" profile (CI=true), which
    derandomizes: there every run draws the same examples, so those past the first hundred
    found nothing new after the first run, at ~5 ms of CPU each in every CI run (drawing an
    example costs more than checking it)."""
    derandomized = settings.default is not None and settings.default.derandomize
    return CI_EXAMPLES if derandomized else locally
