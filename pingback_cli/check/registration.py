"""Registration findings: what a deploy's registration cannot change on the platform.

pingback-py sends only the options that are neither None nor 0 (``pingback/register.py:24``)
and the platform keeps a job's stored ``retries`` when a registration has none
(runpingback/pingback ``apps/platform/src/modules/projects/registration.service.ts:70``): a
function lowered to ``retries=0`` keeps retrying in production.
"""

from __future__ import annotations

import re
from pathlib import Path

from pingback_cli.check.report import Finding, split_source
from pingback_cli.project.loader import RawFunction

REGISTRATION_RULES: dict[str, str] = {
    "retries-zero-not-sent": "retries=0 is left out of the registration: the platform keeps stored retries",
}

_RETRIES_ZERO = re.compile(r"\bretries\s*=\s*0\b(?!\.)")


def registration_findings(raws: list[RawFunction], root: Path) -> list[Finding]:
    """A warning for each function declared with an explicit ``retries=0``."""
    found: list[Finding] = []
    for raw in raws:
        if raw.to_json()["retries"] != 0:
            continue
        file, line = split_source(raw.source)
        if file is None or line is None or not _declares_zero(root / file, line):
            continue
        found.append(
            Finding(
                "retries-zero-not-sent",
                "warning",
                file,
                line,
                f'{raw.to_json()["type"]} "{raw.name}": retries=0 never reaches the platform: pingback-py '
                "leaves it out of the registration, and the platform keeps the job's stored retries",
                "if the job ever had retries in production, set them to 0 there: PATCH /api/v1/jobs/{id} "
                'with {"retries": 0}, or the dashboard',
                raw.name,
            )
        )
    return found


def _declares_zero(path: Path, line: int) -> bool:
    """The declaration's line (or the next few, for a call split over lines) says retries=0."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    return any(_RETRIES_ZERO.search(text) for text in lines[max(line - 1, 0) : line + 4])
