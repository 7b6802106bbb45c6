"""Expressions and instants for the cron parity test: hand-written edge cases plus seeded random ones."""

from __future__ import annotations

import random
from datetime import datetime, timezone

PARITY_PROPERTY = "summary"
"""The user property tests/conftest.py shows in the terminal summary."""

INSTANTS_ISO = (
    "2026-11-28T10:15:00.000Z",  # a whole quarter hour: many schedules fire exactly here
    "2026-11-30T23:59:59.500Z",  # a month's last second, mid-millisecond
    "2024-02-28T23:59:30.000Z",  # the day before a leap day
    "2028-02-29T00:00:00.000Z",  # on a leap day
    "2025-12-31T23:59:59.999Z",  # a year's last millisecond
    "2027-01-31T12:00:00.001Z",  # a 31-day month's last day, just after noon
    "1999-12-31T23:00:00.000Z",  # before 2000 (a leap year that skips nothing in UTC)
)


def _ms(text: str) -> int:
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return round(moment.timestamp() * 1000)


INSTANTS = tuple(_ms(text) for text in INSTANTS_ISO)

HAND_WRITTEN = (
    # aliases, and what is not one
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@hourly",
    "@minutely",
    "@secondly",
    "@midnight",
    "@reboot",
    "@DAILY",
    " @daily",
    "@daily ",
    "@",
    "@daily 5",
    "constructor",
    "__proto__",
    "toString",
    "hasOwnProperty",
    "valueOf",
    # field counts
    "",
    " ",
    "*",
    "5",
    "0 12",
    "*/5 * *",
    "0 9 * *",
    "* * * * *",
    "* * * * * *",
    "* * * * * * *",
    "0 0 * * * * 2026",
    "\t0  0\n* *  *\t",
    "0\u00a00 * * *",
    "0\u30000 * * *",
    "\ufeff* * * * *",
    "0\u00850 * * *",
    "0\x1c0 * * *",
    # seconds
    "*/5 * * * * *",
    "0 */5 * * * *",
    "30 * * * * *",
    "59 59 23 31 12 *",
    "*/61 * * * * *",
    "60 * * * * *",
    "0-59/7 * * * * *",
    "15,45 * * * * *",
    "5/15 * * * * *",
    # minutes and hours
    "*/7 * * * *",
    "*/15 * * * *",
    "*/60 * * * *",
    "*/61 * * * *",
    "*/0 * * * *",
    "*/ * * * *",
    "/5 * * * *",
    "5/ * * * *",
    "5/15 * * * *",
    "10-50/20 * * * *",
    "50-10 * * * *",
    "22-2 * * * *",
    "0 22-2 * * *",
    "0 */25 * * *",
    "0 24 * * *",
    "0 23 * * *",
    "60 * * * *",
    "-1 * * * *",
    "0- * * * *",
    "5- * * * *",
    "-5 * * * *",
    "- * * * *",
    "1-2-3 * * * *",
    "*-5 * * * *",
    "5-* * * * *",
    "1,,2 * * * *",
    ",1 * * * *",
    "1, * * * *",
    "1//2 * * * *",
    "1/2/3 * * * *",
    "01 002 * * *",
    "0x10 * * * *",
    "1e1 * * * *",
    "+5 * * * *",
    "5.5 * * * *",
    "H * * * *",
    "a b c d e",
    "0 0-0 * * *",
    "0 0-23/23 * * *",
    "0 */23 * * *",
    "0 9-17/2 * * *",
    "7/60 * * * *",
    "0 1-0/1 * * *",
    "0 0 * * *",
    "59 23 * * *",
    # day of month
    "0 0 1 * *",
    "0 0 31 * *",
    "0 0 0 * *",
    "0 0 32 * *",
    "0 0 L * *",
    "0 0 l * *",
    "0 0 LW * *",
    "0 0 15W * *",
    "0 0 W * *",
    "0 0 5L * *",
    "0 0 L5 * *",
    "0 0 L-2 * *",
    "0 0 1-L * *",
    "0 0 L/2 * *",
    "0 0 L/ * *",
    "0 0 5L/2 * *",
    "0 0 1,L * *",
    "0 0 L,15 * *",
    "0 0 ? * *",
    "0 0 ? * 1",
    "0 0 1 * ?",
    "0 0 ? * ?",
    "0 0 *,? * *",
    "0 0 *,L? * *",
    "0 0 */2 * *",
    "0 0 2/3 * *",
    "0 0 1-31 * *",
    "0 0 1-30 * *",
    "0 0 1-30 * 1",
    "0 0 1-28 * 1",
    "0 0 1-29 * 1",
    # month and month-specific days
    "0 0 29 2 *",
    "0 0 30 2 *",
    "0 0 31 2 *",
    "0 0 31 11 *",
    "0 0 31 4,6,9,11 *",
    "0 0 30,31 2 *",
    "0 0 29,30 2 *",
    "0 0 1,30 2 *",
    "0 0 31 1-12/2 *",
    "0 0 31 */2 *",
    "0 0 31 2,2 *",
    "0 0 L 2 *",
    "0 0 5L 2 *",
    "0 0 5L 2 1",
    "0 0 L,5L 2 *",
    "0 0 * 2 *",
    "0 0 29 2 1",
    "0 0 31 4 *",
    "0 0 30 4 *",
    "0 0 31 12 *",
    "0 0 31 2 5",
    "0 0 1 13 *",
    "0 0 1 0 *",
    "0 0 1 JAN *",
    "0 0 1 jan *",
    "0 0 1 Jan-Mar *",
    "0 0 1 JAN,jul *",
    "0 0 1 JANU *",
    "0 0 1 JANUARY *",
    "0 0 1 FOO *",
    "0 0 1 DEC-JAN *",
    "0 0 1 */3 *",
    "0 0 1 2/5 *",
    "0 0 1 12/12 *",
    "0 0 1 2-2 *",
    "0 0 31 2-2 *",
    # day of week
    "0 0 * * 0",
    "0 0 * * 7",
    "0 0 * * 8",
    "0 0 * * 0-7",
    "0 0 * * 0-6",
    "0 0 * * 1-7",
    "0 0 * * 7-7",
    "0 0 * * 5-7",
    "0 0 * * 2-7/2",
    "0 0 * * 1-7/2",
    "0 0 * * */2",
    "0 0 * * */3",
    "0 0 * * 5/2",
    "0 0 * * 0-0",
    "0 0 * * 6-1",
    "0 0 * * SUN",
    "0 0 * * sun,SAT",
    "0 0 * * MON-FRI",
    "0 0 * * mon-fri",
    "0 0 * * FRI-MON",
    "0 0 * * MONDAY",
    "0 0 * * SUN-SAT",
    "0 0 * * 0,0,1",
    "0 0 * * 0-6,0",
    "0 0 * * 1,2,3,4,5,6,7",
    "0 0 * * 1,2,3,4,5,6,0",
    # last weekday of the month and nth weekday
    "0 0 * * 5L",
    "0 0 * * L5",
    "0 0 * * L",
    "0 0 * * 7L",
    "0 0 * * 0L",
    "0 0 * * 8L",
    "0 0 * * 55L",
    "0 0 * * FRIL",
    "0 0 * * 1,5L",
    "0 0 * * 5L,1L",
    "0 0 * * 5L,L",
    "0 0 * * L,5L",
    "0 0 * * LL",
    "0 0 * * 5LL",
    "0 0 * * 1-5L",
    "0 0 * * 5L/2",
    "0 0 * * *,?L,5L",
    "0 0 * * *,5L,?L",
    "* * * * 5L",
    "0 0 1 * 5L",
    "0 0 L * 5L",
    "0 0 * * 1#1",
    "0 0 * * 1#2",
    "0 0 * * 1#5",
    "0 0 * * 1#6",
    "0 0 * * 1#0",
    "0 0 * * 1#",
    "0 0 * * #2",
    "0 0 * * 7#1",
    "0 0 * * MON#2",
    "0 0 * * 1#2#3",
    "0 0 * * 1,2#2",
    "0 0 * * 1-2#2",
    "0 0 * * */2#2",
    "0 0 * * 1#2.5",
    "0 0 * * 1#0x2",
    "0 0 * * 1#+2",
    "0 0 * * 1#1e0",
    "0 0 * * 1#Infinity",
    "0 0 * * 5L#2",
    "0 0 1 * 1#2",
    "0 0 10 * 1#2",
    "0 0 * 2 0#5",
    "0 0 * * ?#2",
    "0 0 * * *#2",
    "0 0 29 2 0#5",
    "0 0 * * 6#5",
    # day-of-month and day-of-week together
    "30 4 1,15 * 5",
    "0 0 13 * 5",
    "0 0 1 * 1-5",
    "0 0 L * 1",
    "0 0 1 * 0-6",
    "0 0 1 * 0-7",
    "0 0 1 * *",
    "0 0 * * 1",
    "0 0 ? * MON",
    "0 0 1 * ?",
    "0 0 15 * 5L",
    "0 0 1-7 * 1",
    # odd characters and spacing
    "0 0 * * 1 ",
    "  0   0\t* * *  ",
    "0 0 * * * *  ",
    "0,0 * * * *",
    "00 00 * * *",
    "0 0 * * *,",
    "0 0 * * *#",
    "# * * * *",
    "0 0 ** * *",
    "0 0 * *? *",
    "0 0 1 * * 2026",
    "0 0 * * 1W",
    "0 0 ½ * *",
    "٣ * * * *",
    "0 0 * * ٣",
)


_NUMBER_RANGES = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_MONTHS = ("JAN", "feb", "Mar", "APR", "may", "JUN", "jul", "AUG", "sep", "OCT", "nov", "DEC")
_DAYS = ("SUN", "mon", "Tue", "WED", "thu", "FRI", "sat")


def _number(rng: random.Random, index: int) -> str:
    lo, hi = _NUMBER_RANGES[index]
    if rng.random() < 0.05:
        return str(rng.choice((lo - 1, hi + 1, hi + 7, 99)))
    if index == 4 and rng.random() < 0.25:
        return rng.choice(_MONTHS)
    if index == 5 and rng.random() < 0.25:
        return rng.choice(_DAYS)
    return str(rng.randint(max(lo, 0), hi))


def _range(rng: random.Random, index: int) -> str:
    """Mostly in order; one in five may run backwards (refused) or hold a name."""
    first, last = _number(rng, index), _number(rng, index)
    if rng.random() < 0.8 and first.isdigit() and last.isdigit() and int(first) > int(last):
        first, last = last, first
    return f"{first}-{last}"


def _atom(rng: random.Random, index: int) -> str:
    roll = rng.random()
    if roll < 0.3:
        return _number(rng, index)
    if roll < 0.45:
        return _range(rng, index)
    if roll < 0.6:
        return f"*/{rng.choice((1, 2, 3, 5, 7, 10, 13, 15, 20, 24, 30, 45, 59, 60, 61, 0))}"
    if roll < 0.7:
        return f"{_number(rng, index)}/{rng.randint(1, 20)}"
    if roll < 0.8:
        return f"{_range(rng, index)}/{rng.randint(1, 12)}"
    if index == 3 and roll < 0.87:
        return rng.choice(("L", "5L", "L", "?", "15W"))
    if index == 5 and roll < 0.9:
        return rng.choice((f"{rng.randint(0, 7)}L", f"{rng.randint(0, 7)}#{rng.randint(0, 6)}", "?", "L"))
    return "*"


def _field(rng: random.Random, index: int) -> str:
    if rng.random() < 0.45:
        return "*"
    count = 1 if rng.random() < 0.75 else rng.randint(2, 3)
    return ",".join(_atom(rng, index) for _ in range(count))


def generated(count: int, seed: int = 20261129) -> list[str]:
    """``count`` random expressions: mostly 5 or 6 fields, each field a list, range, step or name."""
    rng = random.Random(seed)
    found: list[str] = []
    seen = set(HAND_WRITTEN)
    while len(found) < count:
        width = rng.choices((5, 6, 4, 3, 7), weights=(60, 30, 4, 3, 3))[0]
        fields = [_field(rng, index) for index in range(6)]
        if rng.random() < 0.4:
            fields[0] = "0"
        fields = fields[6 - width :] if width <= 6 else [*fields, "2026"]
        text = " ".join(fields)
        if text not in seen:
            seen.add(text)
            found.append(text)
    return found


def hand_written() -> list[str]:
    """The hand-written edge cases, each once."""
    return list(dict.fromkeys(HAND_WRITTEN))


GENERATED_INSTANTS = INSTANTS[:3]
"""Generated expressions are compared from fewer instants: under Node, cron-parser's walk
(luxon dates) takes ~1 ms per fire time, and the test must stay well inside its timeout."""
