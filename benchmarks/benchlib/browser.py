"""The dashboard in a real browser (Chromium through Playwright for Python, Debian's
``/usr/bin/chromium``; never a downloaded browser): how soon an open page shows a run started
elsewhere, and how soon an execution with 10,000 children is interactive.

Each is paired with a floor measured in the same run, interleaved with it: the page's own
HTML fetched from inside the page (server time and transfer, no parsing, rendering or script).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchlib.common import (
    PINGBACK,
    DevServer,
    MeasureError,
    MeasureResult,
    Row,
    Target,
    Unavailable,
    bench_env,
    free_port,
    temp_project,
    wait_until,
)
from benchlib.measures import Settings, Shared

CHROMIUM = os.environ.get("PINGBACK_CHROMIUM") or "/usr/bin/chromium"
"""The figures in RESULTS.md are Debian's full Chromium; ``$PINGBACK_CHROMIUM`` chooses another
(the benchmark smoke tests drive the lighter ``chromium-headless-shell``, as the browser tests do)."""

# Records, by wall clock (Date.now(), the clock time.time() reads), when each execution link
# first appears in the document: the moment a live update has reached the DOM.
WATCH_LINKS = """() => {
    window.__seen = {};
    const scan = () => {
        const now = Date.now();
        for (const a of document.querySelectorAll('a[href^="/executions/"]')) {
            const id = a.getAttribute('href').slice(12);
            if (!(id in window.__seen)) window.__seen[id] = now;
        }
    };
    scan();
    new MutationObserver(scan).observe(document.body, {childList: true, subtree: true});
}"""

# Milliseconds from navigation start until the page is interactive: the load event has ended
# and no main-thread task longer than 50 ms runs any more (the last one's end, if later).
INTERACTIVE = """async () => {
    await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
    const nav = performance.getEntriesByType('navigation')[0];
    const tasks = window.__long || [];
    const lastTask = tasks.reduce((end, t) => Math.max(end, t.startTime + t.duration), 0);
    return {interactive: Math.max(nav.loadEventEnd, lastTask), load: nav.loadEventEnd,
            html: nav.responseEnd - nav.startTime,
            longest: tasks.reduce((m, t) => Math.max(m, t.duration), 0),
            links: document.querySelectorAll('#tree-section a[href^="/executions/"]').length};
}"""

LONG_TASKS = (
    "window.__long = []; new PerformanceObserver((list) => { for (const e of list.getEntries())"
    " window.__long.push({startTime: e.startTime, duration: e.duration}); })"
    ".observe({type: 'longtask', buffered: true});"
)

FETCH_SELF = """async (url) => {
    const t0 = performance.now();
    const response = await fetch(url, {cache: 'no-store'});
    await response.text();
    return performance.now() - t0;
}"""


SEEN = "(id) => window.__seen[id] ?? null"


def _poll(read: Any, timeout: float) -> Any:
    """``read()`` every 10 ms until it is not None (None after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while (value := read()) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return value


@contextlib.contextmanager
def _chromium(shared: Shared) -> Iterator[Any]:
    """A page in a fresh browser context (its own cache, cookies and storage) of the run's one
    headless Chromium, started on first use (~1.2 s of CPU a start) and closed with
    ``shared.resources`` at the end of the run; Unavailable without Playwright or Debian's
    chromium."""
    if shared.browser is None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise Unavailable("Playwright for Python is not installed (pip install -e '.[dev]')") from None
        if not Path(CHROMIUM).exists():
            raise Unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
        playwright = shared.resources.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        shared.resources.callback(browser.close)
        shared.browser = browser
    context = shared.browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


# --- dashboard-live ---------------------------------------------------------------------


def dashboard_live(settings: Settings, shared: Shared) -> MeasureResult:
    """Trigger ``noop`` through a running dev's API; time until the open runs page shows it."""
    result = MeasureResult("dashboard-live", "A run started elsewhere reaching an open dashboard page")
    samples = 2 if settings.quick else 21
    latencies: list[float] = []
    floor: list[float] = []
    with temp_project() as project, DevServer(project, bench_env(10)) as dev, _chromium(shared) as page:
        page.goto(dev.url + "/", wait_until="load")
        wait_until(
            lambda: page.evaluate("live.source !== null && live.source.readyState === 1"),
            timeout=30,
            interval=0.05,
            what="the page's event stream to open",
        )
        page.evaluate(WATCH_LINKS)
        for index in range(samples + 1):
            floor_ms = page.evaluate(FETCH_SELF, dev.url + "/")
            started = time.time()
            answer = dev.trigger("noop")
            if not answer.is_success:
                raise MeasureError(f"trigger answered {answer.status_code}: {answer.text[:200]}")
            execution_id = answer.json()["executionId"]
            seen = _poll(lambda execution_id=execution_id: page.evaluate(SEEN, execution_id), 30)
            if seen is None:
                raise MeasureError(f"the open page never showed execution {execution_id}")
            if index:  # the first is a warm-up (templates compiled, connections made)
                latencies.append(max(0.0, float(seen) - started * 1000))
                floor.append(floor_ms)
            time.sleep(0.25)  # the page's refresh of this run has finished
    result.rows.append(
        Row(
            "trigger → the run's row in the open runs page's DOM (Chromium, `pingback dev`)",
            "ms",
            latencies,
            floor=floor,
            floor_label="the runs page's HTML fetched from the page",
            ratio_style="times",
            targets=[Target("<=", 250)],
            target_text="<= 250 ms median",
        )
    )
    result.notes += [
        f"One `pingback dev --no-reload`; Chromium holds `/` open with its event stream; {samples} "
        "triggers of `noop` through POST /api/v1/trigger (after one warm-up), 0.25 s apart.",
        "Timed from just before the POST (time.time()) to the first DOM mutation that holds a link to "
        "the new execution (Date.now() in a MutationObserver): the event, the page's refetch of itself "
        "and the swap of its live regions.",
    ]
    return result


# --- dashboard-open ---------------------------------------------------------------------


@contextlib.contextmanager
def _ui(project: Path) -> Iterator[str]:
    """``pingback ui`` over the project's history on a free port; its base URL."""
    port = free_port()
    log = project.parent / "ui.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [PINGBACK, "ui", "--port", str(port)],
            cwd=project,
            env=bench_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        def answers() -> bool:
            if process.poll() is not None:
                raise MeasureError(f"pingback ui exited with {process.returncode}")
            try:
                return httpx.get(url + "/api", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, timeout=30, interval=0.05, what="pingback ui to answer")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def dashboard_open(settings: Settings, shared: Shared) -> MeasureResult:
    """Open the execution page of a root with 10,000 children until it is interactive: first in a
    fresh ``pingback ui`` (the tree not yet read), then again."""
    import dashboard  # benchmarks/dashboard.py: the history it writes

    children = 500 if settings.quick else 10_000
    samples = 1 if settings.quick else 7
    result = MeasureResult("dashboard-open", f"An execution with {children:,} children in Chromium")
    first: list[dict[str, Any]] = []
    again: list[dict[str, Any]] = []
    floor: list[float] = []
    with temp_project() as project:
        history = project / ".pingback" / "history.sqlite3"
        history.parent.mkdir(exist_ok=True)
        marks = dashboard.populate(history, 200 if settings.quick else 2_000, children)
        with _chromium(shared) as page:
            page.add_init_script(LONG_TASKS)
            for _ in range(samples):
                with _ui(project) as url:
                    target = f"{url}/executions/{marks['big']}"
                    page.goto(url + "/", wait_until="load")  # the server's templates are warm
                    page.goto(target, wait_until="load")
                    first.append(page.evaluate(INTERACTIVE))
                    floor.append(page.evaluate(FETCH_SELF, target))
                    page.goto("about:blank")
                    page.goto(target, wait_until="load")
                    again.append(page.evaluate(INTERACTIVE))
    if not all(figure["links"] for figure in first + again):
        raise MeasureError("the execution page showed no child of the tree")
    for label, figures in (("first open in a fresh `pingback ui`", first), ("opened again", again)):
        result.rows.append(
            Row(
                f"navigation → interactive, execution with {children:,} children, {label} (Chromium)",
                "ms",
                [figure["interactive"] for figure in figures],
                floor=floor,
                floor_label="the same page's HTML fetched from the page",
                ratio_style="times",
                targets=[Target("<=", 1000)],
                target_text="<= 1 s median",
            )
        )
    both = first + again
    result.notes += [
        "Interactive: the load event has ended and no main-thread task over 50 ms runs after it "
        "(PerformanceObserver `longtask`); the later of the two, from navigation start.",
        f"First open: HTML received after {_median(first, 'html'):.0f} ms (the server reads and "
        f"lays out the tree), load event end {_median(first, 'load'):.0f} ms. Longest main-thread "
        f"task {max(f['longest'] for f in both):.0f} ms; {both[-1]['links']:,} tree links rendered "
        "at first (the rest listed on demand).",
        f"History written through `Store` (benchmarks/dashboard.py `populate`); {samples} fresh "
        "`pingback ui` processes, each warmed with `/` before the execution page is opened.",
    ]
    return result


def _median(figures: list[dict[str, Any]], key: str) -> float:
    ordered = sorted(figure[key] for figure in figures)
    return float(ordered[len(ordered) // 2])


BROWSER_MEASURES = {
    "dashboard-live": ("the dashboard's live update in Chromium", dashboard_live),
    "dashboard-open": ("an execution with 10,000 children in Chromium", dashboard_open),
}
"""Registered in ``benchmarks/run.py`` beside ``measures.MEASURES``."""
