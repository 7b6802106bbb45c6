"""Every time the terminal shows, by one rule: in the local zone with the zone named
(``14:30:00 EST``), or in UTC when the user asks (``pingback --utc``, or ``PINGBACK_UTC=1``).
Cron schedules are always said to be UTC, as the platform reads them. JSON is not shown
here: it stays ISO-8601 UTC (``models.iso``). Durations have one compact form everywhere
(terminal, dashboard, ``check``): ``850ms``, ``1.2s``, ``2m05s``, ``1h02m``.

Times are unix seconds, durations seconds (``duration_ms``: milliseconds). Nothing here prints.
"""

from __future__ import annotations

import math
import os
import time

_forced_utc: bool | None = None
_MAX_SHOWN_SECONDS = 1e15


def use_utc(enabled: bool) -> None:
    """Show times in UTC (``--utc``) instead of the local zone, for this process."""
    global _forced_utc
    _forced_utc = enabled


def in_utc() -> bool:
    if _forced_utc is not None:
        return _forced_utc
    return os.environ.get("PINGBACK_UTC", "").lower() in ("1", "true", "yes", "on")


def _parts(ts: float) -> time.struct_time:
    return time.gmtime(ts) if in_utc() else time.localtime(ts)


def zone(ts: float | None = None) -> str:
    """The zone's name at ``ts`` (now by default): ``EST``, ``CET``, ``UTC``, ``+03``."""
    if in_utc():
        return "UTC"
    name = _parts(time.time() if ts is None else ts).tm_zone
    return name or time.strftime("%z")


def clock(ts: float, *, ms: bool = False) -> str:
    """``14:30:00`` (``14:30:00.123`` with ``ms``), without the zone: for live lines, whose
    header names the zone once."""
    text = time.strftime("%H:%M:%S", _parts(ts))
    return f"{text}.{int(ts * 1000) % 1000:03d}" if ms else text


def moment(ts: float, *, now: float | None = None) -> str:
    """``14:30:00 EST`` today, ``2026-11-28 14:30:00 EST`` another day."""
    parts = _parts(ts)
    today = _parts(time.time() if now is None else now)
    same_day = parts[:3] == today[:3]
    text = time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S", parts)
    return f"{text} {zone(ts)}"


def full(ts: float) -> str:
    """``2026-11-28 14:30:00 EST`` always with the date (tables, where rows are compared)."""
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', _parts(ts))} {zone(ts)}"


def relative(seconds: float) -> str:
    """How far ahead (``in 45s``, ``in 7m``, ``in 2h05m``, ``in 3d4h``) or behind (``3m ago``)."""
    if seconds < -0.5:
        return relative(-seconds)[3:] + " ago"
    total = max(0, round(seconds))
    if total < 60:
        return f"in {total}s"
    minutes = (total + 30) // 60
    if minutes < 60:
        return f"in {minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"in {hours}h{minutes:02d}m" if minutes else f"in {hours}h"
    days, hours = divmod(hours, 24)
    return f"in {days}d{hours}h" if hours else f"in {days}d"


def due(ts: float, now: float) -> str:
    """``due 14:30:00 EST, in 15m``, or ``due now`` when it is (over)due."""
    if ts <= now + 0.5:
        return "due now"
    return f"due {moment(ts, now=now)}, {relative(ts - now)}"


def utc_full(ts: float) -> str:
    """``2026-12-01 00:15:00 UTC`` whatever the zone setting: a cron occurrence, said in the UTC
    the platform reads schedules in."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def duration(seconds: float) -> str:
    """Compact text for display: ``850ms``, ``1.2s``, ``45s``, ``2m05s``, ``1h02m``; a negative
    span is ``0ms``, one that is not finite ``?``."""
    if not math.isfinite(seconds):
        return "?"
    seconds = min(max(0.0, float(seconds)), _MAX_SHOWN_SECONDS)
    millis = round(seconds * 1000)
    if millis < 1000:
        return f"{millis}ms"
    tenths = round(seconds * 10)
    if tenths < 100:
        return f"{tenths / 10:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def duration_ms(ms: float | None) -> str:
    """``duration`` of ``ms`` milliseconds (a record's ``duration_ms``); empty for None."""
    return "" if ms is None else duration(ms / 1000)


def run_time(
    attempts: int,
    last_ms: float | None,
    started_at: float | None,
    completed_at: float | None,
    *,
    ended: bool,
    dot: str = "\u00b7",
) -> str:
    """How long an execution ran, as every face shows it: ``1ms`` for one attempt, else
    ``last attempt 1ms · total 6.0s`` (total: first start to end, backoff included). ``unknown``
    for an execution that ``ended`` without a known end (its process was killed); empty while
    nothing is known yet (pending, running). ``dot`` is the separator's glyph."""
    last = duration_ms(last_ms) or ("unknown" if ended and started_at is not None else "")
    if attempts <= 1:
        return last
    if started_at is not None and completed_at is not None:
        total = duration(completed_at - started_at)
    else:
        total = "unknown" if ended else ""
    return f"last attempt {last or '-'} {dot} total {total}" if total else f"last attempt {last}"
