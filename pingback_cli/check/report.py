"""What ``pingback check`` reports: findings (file:line, severity, message, fix) and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pingback_cli.errors import ExitCode
from pingback_cli.project.rules import Severity
from pingback_cli.record import FrozenRecord, Record

__all__ = ["CheckReport", "Finding", "Severity", "split_source"]


class Finding(FrozenRecord):
    __slots__ = _fields = ("rule", "severity", "file", "line", "message", "fix", "function")

    rule: str
    severity: Severity
    file: str | None
    line: int | None
    message: str
    fix: str
    function: str | None

    def __init__(
        self, rule: str, severity: Severity, file: str | None, line: int | None, message: str, fix: str,
        function: str | None = None,
    ) -> None:  # fmt: skip
        self._set(rule, severity, file, line, message, fix, function)

    @property
    def location(self) -> str:
        if self.file is None:
            return "?"
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "location": self.location,
            "file": self.file,
            "line": self.line,
            "function": self.function,
            "message": self.message,
            "fix": self.fix,
        }


class CheckReport(Record):
    __slots__ = _fields = ("root", "findings", "functions", "files", "skipped", "plan")

    root: Path
    findings: list[Finding]
    functions: int
    files: int
    skipped: str | None
    """Why the runtime rules did not run, when they did not."""
    plan: str | None
    """The plan the plan rules checked against; None when no plan is set."""

    def __init__(
        self, root: Path, findings: list[Finding], functions: int, files: int, skipped: str | None = None,
        plan: str | None = None,
    ) -> None:  # fmt: skip
        self.root = root
        self.findings = findings
        self.functions = functions
        self.files = files
        self.skipped = skipped
        self.plan = plan

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def exit_code(self) -> ExitCode:
        """1 with any error; warnings alone pass."""
        return ExitCode.EXECUTION_FAILED if self.errors else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "functions": self.functions,
            "files": self.files,
            "plan": self.plan,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "skipped": self.skipped,
            "findings": [finding.to_json() for finding in self.findings],
        }


def split_source(source: str | None) -> tuple[str | None, int | None]:
    """``"jobs.py:12"`` -> ``("jobs.py", 12)``; a source without a line keeps None."""
    if not source:
        return None, None
    file, _, line = source.rpartition(":")
    return (file, int(line)) if line.isdigit() and file else (source, None)
