"""``pingback init``: the files a new project starts from. Never overwrites anything."""

from __future__ import annotations

import keyword
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pingback_cli.errors import UsageError

DEFAULT_MODULE = "pingback_jobs"
EXAMPLE_CRON = "send-reminders"
EXAMPLE_TASK = "send-reminder"
IGNORED = ".pingback/"
_IGNORE_FORMS = frozenset({".pingback", ".pingback/", "/.pingback", "/.pingback/", ".pingback/*"})
_RESERVED = frozenset({"pingback", "pingback_cli", "conftest", "setup"})

Action = Literal["created", "updated", "skipped"]

JOBS_TEMPLATE = '''\
"""Background work for this project, run by Pingback.

Try it on your machine (no account needed):

    pingback ls                  # the crons and tasks below, with their next runs
    pingback run {cron}  # run the cron now, with its fan-out and retries
    pingback dev                 # fire crons on schedule, reload when you save

To deploy, serve pb.handle() from your web app (the SDK has Flask and FastAPI
helpers) and run `pingback check` first.
"""

import os

from pingback import Pingback

# Set both in the environment (see .env.example). Locally, `pingback run` and
# `pingback dev` use development values when they are unset.
pb = Pingback(
    api_key=os.environ["PINGBACK_API_KEY"],
    cron_secret=os.environ["PINGBACK_CRON_SECRET"],
    # `pingback dev` sets this for the code it runs; an app you run yourself for
    # `pingback dev --endpoint` needs it set to the address dev prints. Unset: the hosted service.
    platform_url=os.environ.get("PINGBACK_PLATFORM_URL"),
)


@pb.cron("{cron}", "0 9 * * *", retries=1, timeout="60s")
def send_reminders(ctx):
    """Every day at 09:00 UTC: queue one task per reminder, so each retries on its own."""
    due = [
        {{"user": "ada", "email": "ada@example.com"}},
        {{"user": "grace", "email": "grace@example.com"}},
    ]  # replace with a query for the reminders that are due
    for reminder in due:
        ctx.task("{task}", reminder)
    ctx.log("Queued reminders", count=len(due))
    return {{"queued": len(due)}}


@pb.task("{task}", retries=3, timeout="30s", concurrency=5)
def send_reminder(ctx, payload):
    """Send one reminder; if this raises, the platform retries it with backoff."""
    ctx.log("Sending reminder", to=payload["email"], attempt=ctx.attempt)
    return {{"sent": payload["user"]}}
'''

ENV_EXAMPLE = """\
# Pingback keys. Copy this file to .env (keep .env out of git) and fill in the values
# from your Pingback dashboard before deploying. Locally, pingback uses development
# values when these are unset.
PINGBACK_API_KEY=pb_live_xxxxxxxx
PINGBACK_CRON_SECRET=whsec_xxxxxxxx
"""

_ENV_FORMS = frozenset({".env", "/.env", ".env*"})
IGNORES = (
    (IGNORED, _IGNORE_FORMS, "# Pingback's local history and caches", "local history"),
    (
        ".env",
        _ENV_FORMS,
        "# Secrets (PINGBACK_API_KEY, PINGBACK_CRON_SECRET): keep them out of git",
        "secrets",
    ),
)
"""What ``init`` has git ignore: (line, lines that already do it, comment above it, why)."""


@dataclass(frozen=True)
class FileAction:
    path: Path
    action: Action
    note: str

    def to_json(self) -> dict[str, str]:
        return {"path": str(self.path), "action": self.action, "note": self.note}


@dataclass(frozen=True)
class InitResult:
    folder: Path
    module: str
    actions: list[FileAction]
    cron: str = EXAMPLE_CRON
    task: str = EXAMPLE_TASK
    existing: bool = False
    """The project already had code using pingback, so no example was added."""

    @property
    def created_module(self) -> bool:
        return any(a.action == "created" and a.path.suffix == ".py" for a in self.actions)

    def to_json(self) -> dict[str, object]:
        return {
            "folder": str(self.folder),
            "module": self.module,
            "cron": self.cron,
            "task": self.task,
            "existingProject": self.existing,
            "files": [action.to_json() for action in self.actions],
        }


def module_file(module: str) -> str:
    """``jobs`` or ``jobs.py`` -> ``jobs.py``; a UsageError for names that cannot work."""
    name = module[:-3] if module.endswith(".py") else module
    if not name.isidentifier() or keyword.iskeyword(name):
        raise UsageError(
            f'"{module}" is not a Python module name',
            hint="use letters, digits and underscores, e.g. pingback init jobs",
        )
    if name in _RESERVED or name in sys.stdlib_module_names:
        raise UsageError(
            f'a module named "{name}" would hide the "{name}" module it has to import',
            hint="pick another name, e.g. pingback init jobs",
        )
    return f"{name}.py"


def init_project(folder: Path, module: str = DEFAULT_MODULE, *, force: bool = False) -> InitResult:
    """Create the jobs module, ``.env.example``, and ignore ``.pingback/`` in ``folder``. The
    example module is skipped in a project whose code already uses pingback, unless ``force``:
    its cron would join the real ones (``pingback dev`` would load it on the next save)."""
    filename = module_file(module)
    example = folder / filename
    users = [] if force or example.exists() else code_using_pingback(folder)
    if users:
        shown = ", ".join(_relative(path, folder) for path in users[:3]) + (", ..." if len(users) > 3 else "")
        skip_example = FileAction(
            example,
            "skipped",
            f"this project already uses pingback ({shown}): no example added (--force adds it)",
        )
    else:
        skip_example = _create(
            example,
            JOBS_TEMPLATE.format(cron=EXAMPLE_CRON, task=EXAMPLE_TASK),
            f'a cron "{EXAMPLE_CRON}" that fans out to a task "{EXAMPLE_TASK}"',
        )
    actions = [
        skip_example,
        _create(
            folder / ".env.example",
            ENV_EXAMPLE,
            "PINGBACK_API_KEY and PINGBACK_CRON_SECRET, to copy into .env",
        ),
        _ignore_state(folder / ".gitignore"),
    ]
    return InitResult(folder=folder, module=filename[:-3], actions=actions, existing=bool(users))


def code_using_pingback(folder: Path) -> list[Path]:
    """The Python files of the project ``folder`` is in that use pingback (the file rule
    discovery follows), or none when no folder up from it is a project."""
    from pingback_cli.project.config import find_root, root_marker
    from pingback_cli.project.files import project_files

    root = find_root(folder)
    marker = root_marker(root)
    return project_files(root, loose=marker is None)


def _relative(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return str(path)


def _create(path: Path, text: str, note: str) -> FileAction:
    try:
        with path.open("x", encoding="utf-8") as stream:
            stream.write(text)
    except FileExistsError:
        return FileAction(path, "skipped", "already exists, left as it is")
    except OSError as exc:
        raise UsageError(f"cannot create {path}: {exc.strerror or exc}") from None
    return FileAction(path, "created", note)


def _ignore_state(path: Path) -> FileAction:
    """Add to ``.gitignore`` (made if missing) each line of ``IGNORES`` it lacks."""
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    lines = {line.strip() for line in (existing or "").splitlines()}
    missing = [(entry, comment, why) for entry, forms, comment, why in IGNORES if not lines & forms]
    if not missing:
        return FileAction(path, "skipped", f"already ignores {' and '.join(entry for entry, *_ in IGNORES)}")
    block = "".join(f"{comment}\n{entry}\n" for entry, comment, _ in missing)
    said = " and ".join(f"{entry} ({why})" for entry, _, why in missing)
    try:
        if existing is None:
            with path.open("x", encoding="utf-8") as stream:
                stream.write(block)
            return FileAction(path, "created", f"ignores {said}")
        separator = "" if not existing or existing.endswith("\n") else "\n"
        with path.open("a", encoding="utf-8") as stream:
            stream.write(separator + ("\n" if existing.strip() else "") + block)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    return FileAction(path, "updated", f"added {said}")
