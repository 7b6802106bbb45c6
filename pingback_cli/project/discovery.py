"""Which functions a project declares, whatever its language.

A Python project is imported in this process (for its SDK registry only; no handler
runs); otherwise the JS/TS sources that import ``@usepingback/next`` are scanned.
``pingback ls``, ``pingback register`` and endpoint mode all start here.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Literal

from pingback_cli.errors import ProjectError
from pingback_cli.models import FunctionSpec
from pingback_cli.project.config import ProjectConfig, nothing_uses_pingback
from pingback_cli.project.files import project_files
from pingback_cli.project.loader import load_project
from pingback_cli.project.specs import InvalidFunction, build_spec, build_specs
from pingback_cli.record import Record

if TYPE_CHECKING:
    from pingback_cli.project.js.scan import ScanResult

Language = Literal["python", "js", "none"]


class Discovered(Record):
    """What discovery found: the functions, the project's language, and what to warn about."""

    __slots__ = _fields = ("specs", "language", "warnings")

    def __init__(
        self, specs: list[FunctionSpec], language: Language, warnings: list[str] | None = None
    ) -> None:
        self.specs = specs
        self.language = language
        self.warnings = [] if warnings is None else warnings


@contextlib.contextmanager
def quiet_sdk_log() -> Iterator[None]:
    """The SDK logs "[pingback] Registration failed" when an import-time registration
    cannot reach a platform; during a metadata-only import that is expected noise."""
    sdk = logging.getLogger("pingback")
    before = sdk.disabled
    sdk.disabled = True
    try:
        yield
    finally:
        sdk.disabled = before


def has_python_project(config: ProjectConfig) -> bool:
    loose = config.marker is None
    return config.app is not None or bool(project_files(config.root, loose=loose))


def ensure_project(config: ProjectConfig) -> None:
    """Raises ``nothing_uses_pingback`` (ProjectError) when ``config`` is no project at all: no
    root marker up from it, no --app, and no Python file there using pingback (a JS/TS
    project has its package.json). For commands that would otherwise answer as if it were
    one: `runs` with no history, `dev` before it reports a port in use."""
    if config.marker is None and not has_python_project(config):
        raise nothing_uses_pingback(config)


def _python(config: ProjectConfig, notices: list[str]) -> list[FunctionSpec]:
    from pingback_cli.project.config import env_files_applied

    with quiet_sdk_log(), env_files_applied(config.root):
        raws = load_project(config, notices=notices)
    return build_specs(raw.to_json() for raw in raws)


def _js_specs(scan: ScanResult, *, lenient: bool) -> tuple[list[FunctionSpec], list[str]]:
    warnings = [str(skipped) for skipped in scan.skipped]
    if not lenient:
        return build_specs(function.raw() for function in scan.functions), warnings
    specs: list[FunctionSpec] = []
    for function in scan.functions:
        try:
            specs.append(build_spec(function.raw()))
        except InvalidFunction as exc:
            warnings.append(f"skipped {exc}")
    return specs, warnings


def discover_project(config: ProjectConfig, *, lenient: bool = False) -> Discovered:
    """The project's functions: Python first, else the JS/TS scan.

    Strict (``ls``, ``register``): any problem is a ProjectError, and so is finding
    nothing. Lenient (endpoint mode, where the app is the one that runs the code): a
    Python project that cannot be imported here becomes a warning, and finding nothing
    is an empty list, since the app may register its functions itself.
    """
    warnings: list[str] = []
    python_error: ProjectError | None = None
    if has_python_project(config):
        notices: list[str] = []
        try:
            return Discovered(_python(config, notices), "python", notices)
        except ProjectError as exc:
            if not lenient:
                raise
            warnings.append(
                f"cannot read the functions of the Python project here ({exc.message}); "
                "relying on what the app registers"
            )
    else:
        python_error = nothing_uses_pingback(config, js=True)
    from pingback_cli.project.js.scan import scan_project  # a Python project never needs it

    scan = scan_project(config.root, config.settings)
    specs, notes = _js_specs(scan, lenient=lenient)
    warnings.extend(notes)
    if scan.files:
        return Discovered(specs, "js", warnings)
    if not lenient:
        assert python_error is not None
        raise python_error
    warnings.append(
        "found no functions in the project; any name is forwarded to the app as given, "
        "and functions it registers (POST /api/v1/register) are added"
    )
    return Discovered([], "none", warnings)


def discover(
    app: str | None = None, *, on_warning: Callable[[str], None] | None = None
) -> list[FunctionSpec]:
    """The project's validated functions (``pingback ls``): a Python project imported in this
    process, else its JS/TS sources scanned; ``on_warning`` hears about calls the scan skipped."""
    from pingback_cli.project.config import open_project
    from pingback_cli.project.manifest import write_manifest

    config = open_project(app)
    found = discover_project(config)
    if on_warning is not None:
        for warning in found.warnings:
            on_warning(warning)
    specs = found.specs
    write_manifest(config.root, specs)
    return specs
