"""Run every measure of the performance issue and write benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/run.py [--quick] [--full] [--repeat N] [--only NAME ...]
                                       [--out benchmarks/RESULTS.md] [--json PATH]

Each measure runs the installed `pingback` command (or real HTTP against a real
`pingback dev`) in a fresh temp copy of benchmarks/project, next to a floor or
baseline measured in the same run. `--quick` runs every measure at a tiny size
(the smoke test). Exit status 1 when a measure failed (not when a target is missed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shlex
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib.browser import BROWSER_MEASURES
from benchlib.common import (
    BENCH_DIR,
    PINGBACK,
    REPO,
    MeasureResult,
    Row,
    Unavailable,
    spread,
)
from benchlib.fanout_wait import FANOUT_WAIT_MEASURES
from benchlib.measures import MEASURES as BASE_MEASURES
from benchlib.measures import Settings, Shared
from benchlib.startup import STARTUP_MEASURES
from benchlib.toolkit import TOOLKIT_MEASURES

MEASURES = {
    **STARTUP_MEASURES,
    **FANOUT_WAIT_MEASURES,
    **BASE_MEASURES,
    **BROWSER_MEASURES,
    **TOOLKIT_MEASURES,
}

NOTES_HEADING = "## Profiles and notes"
NOTES_PLACEHOLDER = (
    "_For the lead: profiles (pyinstrument / py-spy) of each target not met, what they show, "
    "and what would close the gap. Kept when RESULTS.md is regenerated._\n"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="every measure at a tiny size (smoke test)")
    parser.add_argument(
        "--full", action="store_true", help="also measure cron lateness in a real dev (minutes)"
    )
    parser.add_argument("--repeat", type=int, default=None, help="repetitions of the fan-out measures")
    parser.add_argument(
        "--only", nargs="+", choices=list(MEASURES), metavar="NAME", help="these measures only"
    )
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "RESULTS.md", help="the report to write")
    parser.add_argument("--json", type=Path, default=None, help="also write every raw sample as JSON here")
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not PINGBACK:
        parser.error("no `pingback` command next to this interpreter: pip install -e . first")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    settings = Settings.make(quick=args.quick, full=args.full, repeat=args.repeat, log=log)
    shared = Shared()
    names = args.only or list(MEASURES)
    started = time.time()
    load_before = os.getloadavg()
    results: list[MeasureResult] = []
    failed = False
    with shared.resources:  # the browser the browser measures share
        for name in names:
            result = _measure(name, settings, shared, log)
            failed = failed or any(row.status == "error" for row in result.rows)
            results.append(result)
    context = {
        "command": _command(argv),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "minutes": (time.time() - started) / 60,
        "load": (load_before, os.getloadavg()),
        "settings": settings,
    }
    report = render(results, context, _kept_notes(args.out), Previous.read(args.out))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    log(f"wrote {args.out}")
    if args.json is not None:
        raw = {result.name: [row.to_json() for row in result.rows] for result in results}
        args.json.write_text(json.dumps(raw, indent=1), encoding="utf-8")
    return 1 if failed else 0


def _measure(name: str, settings: Settings, shared: Shared, log: Callable[[str], None]) -> MeasureResult:
    """One measure's result; its failure is a row of status "error" (the traceback is logged)."""
    title, measure = MEASURES[name]
    log(f"[{name}] {title}")
    began = time.perf_counter()
    try:
        result = measure(settings, shared)
    except Unavailable as exc:
        result = MeasureResult(name, title, [Row(title, "", status="unavailable", message=str(exc))])
    except Exception as exc:
        log(traceback.format_exc())
        message = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        result = MeasureResult(name, title, [Row(title, "", status="error", message=message)])
    result.seconds = time.perf_counter() - began
    for row in result.rows:
        log(f"  -> {row.metric}: {_value(row)} {_verdict(row)}")
    return result


# --- the report -------------------------------------------------------------------------


class Previous:
    """The report being replaced: its command line, its summary figures by (measure, figure),
    and its sections, kept for the measures this run did not repeat (``--only``)."""

    def __init__(self, produced: str, figures: dict[tuple[str, str], str], sections: dict[str, str]):
        self.produced = produced
        self.figures = figures
        self.sections = sections

    @classmethod
    def read(cls, path: Path) -> Previous:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return cls("", {}, {})
        produced = next((line for line in text.splitlines() if line.startswith("Produced by ")), "")
        figures: dict[tuple[str, str], str] = {}
        summary = text.split("## Summary", 1)[-1].split("\n## ", 1)[0]
        for line in summary.splitlines():
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            if len(cells) >= 4 and cells[0] not in ("measure", "---") and not cells[0].startswith("-"):
                kept = cells[2] == "not re-run" and len(cells) > 4
                figure = cells[4] if kept else f"{cells[2]} ({cells[3]})".replace("**", "")
                figures[(cells[0], cells[1])] = figure
        sections = {}
        for block in text.split("\n## ")[1:]:
            name = block.split(":", 1)[0]
            if ":" in block.splitlines()[0] and name in MEASURES:
                sections[name] = "## " + block.rstrip("\n") + "\n"
        return cls(produced, figures, sections)


def render(results: list[MeasureResult], context: dict[str, object], notes: str, previous: Previous) -> str:
    settings = context["settings"]
    assert isinstance(settings, Settings)
    load = context["load"]
    assert isinstance(load, tuple)
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `{context['command']}` on {context['started']} "
        f"in {context['minutes']:.1f} minutes (from the repository root).",
        "",
        "Every figure is the median of several samples next to a floor or baseline measured "
        "in the same run (interleaved with it where both repeat), so the ratio is what to compare "
        "across machines. Spread is min–max for fewer than 10 samples, p10–p90 otherwise.",
        "",
        "## Machine",
        "",
        *_machine(load),
        "",
        "## Versions",
        "",
        *_versions(),
        "",
        "## Summary",
        "",
        "The previous column is the report this one replaced"
        + (f" ({previous.produced[:1].lower()}{previous.produced[1:].rstrip('.')})" * bool(previous.produced))
        + ": a regression shows at a glance.",
        "",
        "| measure | figure | median | ratio | previous (ratio) | target | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for row in result.rows:
            before = previous.figures.get((result.name, row.metric), "—")
            lines.append(
                f"| {result.name} | {row.metric} | {_value(row)} | {_ratio(row)} | {before} | "
                f"{row.target_text or '—'} | {_verdict(row)} |"
            )
    ran = {result.name for result in results}
    kept = [name for name in previous.sections if name not in ran]
    for (name, metric), before in previous.figures.items():
        if name in kept:
            lines.append(f"| {name} | {metric} | not re-run | — | {before} | — | — |")
    settings_line = (
        f"Sizes: fan-out N = {settings.fanout:,}, {settings.repeat} repetitions of each fan-out, "
        f"{settings.history_rows:,} history rows, {settings.cli_samples} CLI samples, "
        f"{settings.latency_samples} triggers, {settings.reload_saves} saves, "
        f"{settings.cron_fires} cron fires" + (" (--quick)" if settings.quick else "") + "."
    )
    lines += ["", settings_line, ""]
    for result in results:
        lines += [f"## {result.name}: {result.title}", ""]
        lines += [
            "| figure | median | spread | n | floor / baseline (median) | ratio | target | verdict |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in result.rows:
            lines.append(
                f"| {row.metric} | {_value(row)} | {_spread(row)} | {len(row.samples) or '—'} | "
                f"{_floor(row)} | {_ratio(row)} | {row.target_text or '—'} | {_verdict(row)} |"
            )
        lines.append("")
        for note in result.notes:
            lines.append(f"- {note}")
        lines.append(f"- Measure took {result.seconds:.0f} s.")
        lines.append("")
    for name in kept:
        marked = "(not re-run: the previous report's figures)"
        section = previous.sections[name]
        lines += [section if marked in section else section.replace(":", f": {marked}", 1)]
    lines += [NOTES_HEADING, "", notes.rstrip("\n"), ""]
    return "\n".join(lines)


def _kept_notes(path: Path) -> str:
    """The lead's "Profiles and notes" section of the previous report, if any."""
    with contextlib.suppress(OSError):
        text = path.read_text(encoding="utf-8")
        if NOTES_HEADING in text:
            kept = text.split(NOTES_HEADING, 1)[1].strip("\n")
            if kept.strip():
                return kept + "\n"
    return NOTES_PLACEHOLDER


def _fmt(value: float, unit: str) -> str:
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:,.0f} ms"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "%":
        return f"{value:+.1f}%"
    return f"{value:g} {unit}".strip()


def _value(row: Row) -> str:
    if row.status != "ok":
        return f"{row.status}: {row.message}"
    assert row.value is not None
    return f"**{_fmt(row.value, row.unit)}**"


def _spread(row: Row) -> str:
    if row.status != "ok" or len(row.samples) < 2:
        return "—"
    low, high, kind = spread(row.samples)
    return f"{_fmt(low, row.unit)} – {_fmt(high, row.unit)} ({kind})"


def _floor(row: Row) -> str:
    if row.floor_value is None:
        return "—"
    return f"{_fmt(row.floor_value, row.unit)}: {row.floor_label}"


def _ratio(row: Row) -> str:
    ratio = row.ratio
    if ratio is None:
        return "—"
    if row.ratio_style == "percent":
        return f"{ratio * 100:.0f}% of floor"
    if row.ratio_style == "peer":
        return f"{ratio:.2f}× ours"
    return f"{ratio:.1f}× baseline"


def _verdict(row: Row) -> str:
    if row.status == "error":
        return "ERROR"
    if row.status != "ok":
        return row.status
    met = row.met
    return "—" if met is None else ("met" if met else "**not met**")


def _command(argv: list[str] | None) -> str:
    arguments = sys.argv[1:] if argv is None else argv
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(REPO)
    return shlex.join([str(python), "benchmarks/run.py", *arguments])


def _machine(load: tuple[object, ...]) -> list[str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        if match:
            model = match.group(1).strip()
    system = platform.platform()
    with contextlib.suppress(OSError):
        match = re.search(r'^PRETTY_NAME="?([^"\n]+)', Path("/etc/os-release").read_text(), re.MULTILINE)
        if match:
            system = f"{match.group(1)} ({platform.system()} {platform.release()})"
    memory = ""
    with contextlib.suppress(OSError, IndexError, ValueError):
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f", {kb / 1024 / 1024:.0f} GiB memory"
    before, after = load
    return [
        f"- CPU: {model}, {os.cpu_count()} cores{memory}",
        f"- OS: {system}",
        f"- Python: {platform.python_version()} ({platform.python_implementation()}), "
        f"SQLite {sqlite3.sqlite_version}",
        f"- Load average (1/5/15 min) at start {_load(before)}, at end {_load(after)}: "
        "other work on the machine shares its cores.",
    ]


def _load(values: object) -> str:
    assert isinstance(values, tuple)
    return " / ".join(f"{value:.2f}" for value in values)


def _versions() -> list[str]:
    found = []
    for name in ("pingback-cli", "pingback-py", "huey", "httpx", "uvicorn", "starlette", "pyinstrument"):
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    revision = "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "pingback_cli"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        if head:
            revision = head + (" with uncommitted changes to pingback_cli/" if dirty else "")
    return ["- " + ", ".join(found), f"- Commit: {revision}"]


if __name__ == "__main__":
    sys.exit(main())
