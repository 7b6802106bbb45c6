"""``pingback check``: find what would go wrong on the platform before deploying.

Two passes. A static one (``check.scan``) reads every project file with :mod:`ast` for
declarations and literal-name references. A runtime one imports the project as ``pingback ls``
does and checks each function's raw definition against the one rule table (``project.rules``,
via ``check.options``; before validation, so invalid options become findings instead of a load
error), its handler against the way the SDK calls it (``check.signatures``), references between
functions (``check.references``), its instances (``check.instances``) and, when a plan is set,
the plan's limits (``check.plans``).
"""

from __future__ import annotations

import time

from pingback_cli.check.instances import INSTANCE_RULES, instance_findings
from pingback_cli.check.options import OVERLAP_RULES, option_findings, static_schedule_findings
from pingback_cli.check.plans import PLAN_RULES, plan_findings
from pingback_cli.check.references import reference_findings
from pingback_cli.check.registration import REGISTRATION_RULES, registration_findings
from pingback_cli.check.report import CheckReport, Finding
from pingback_cli.check.scan import duplicate_findings, scan_files
from pingback_cli.check.signatures import signature_findings
from pingback_cli.errors import ProjectError
from pingback_cli.project.config import ProjectConfig
from pingback_cli.project.discovery import quiet_sdk_log
from pingback_cli.project.files import project_files
from pingback_cli.project.loader import load_project
from pingback_cli.project.plans import Plan, choose_plan
from pingback_cli.project.rules import OPTION_RULES

__all__ = ["RULES", "CheckReport", "Finding", "check_project"]

RULES: dict[str, str] = {
    **{rule.id: rule.summary for rule in OPTION_RULES},
    **OVERLAP_RULES,
    "unknown-task": "ctx.task() or pb.trigger() with a literal name that no function defines",
    "duplicate-name": "two functions with the same name",
    "handler-signature": "a handler the SDK cannot call the way it calls handlers",
    "payload-keys": "a literal payload whose keys do not fit the task's parameters",
    **INSTANCE_RULES,
    **PLAN_RULES,
    **REGISTRATION_RULES,
}
"""Every rule, by id."""


def check_project(config: ProjectConfig, *, now: float | None = None, plan: str | None = None) -> CheckReport:
    """Every finding for the project at ``config`` (``project.open_project``'s: its env files
    loaded, as the project's code reads them); ProjectError when it cannot load at all.

    ``plan`` (else ``PINGBACK_PLAN``, else ``[tool.pingback] plan``) turns on the plan rules.
    """
    now = time.time() if now is None else now
    files = project_files(config.root)
    scan = scan_files(files, config.root)
    duplicates = duplicate_findings(scan)
    chosen: Plan | None = choose_plan(plan, config.settings)
    try:
        with quiet_sdk_log():
            raws = load_project(config)
    except ProjectError as exc:
        static = static_schedule_findings(scan.declarations, now)
        if not duplicates:
            exc.details = _with_static(exc.details, static)
            raise
        # Duplicates alone stop the project from loading; report them as findings, with
        # what the static pass can still tell (literal schedules).
        return CheckReport(
            config.root,
            _sorted(duplicates + static),
            functions=len(scan.declarations),
            files=len(files),
            skipped=f"the other rules need the project to load, and it does not: {exc.message}",
        )
    findings: list[Finding] = []
    for raw in raws:
        findings.extend(option_findings(raw, now))
        findings.extend(signature_findings(raw))
    findings.extend(reference_findings(scan, raws))
    findings.extend(instance_findings(raws))
    findings.extend(registration_findings(raws, config.root))
    if chosen is not None:
        findings.extend(plan_findings(chosen, raws, scan, now))
    return CheckReport(
        config.root,
        _sorted(findings),
        functions=len(raws),
        files=len(files),
        plan=chosen.name if chosen else None,
    )


def _with_static(details: str | None, static: list[Finding]) -> str | None:
    """An import error's details (the user's traceback), then what the static pass found in
    the literal schedules, which the import error would otherwise hide until it is fixed."""
    if not static:
        return details
    lines = ["found without importing the project (the other rules need it to load):"]
    for finding in _sorted(static):
        lines.append(f"{finding.location}  {finding.severity}  {finding.rule}: {finding.message}")
        lines.append(f"  fix: {finding.fix}")
    return "\n".join([*([details.rstrip("\n"), ""] if details else []), *lines])


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.file or "", f.line or 0, f.rule, f.message))
