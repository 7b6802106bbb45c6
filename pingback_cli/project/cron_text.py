"""A parsed schedule written back as a plain cron expression, for cron-descriptor to describe.

The expression is rebuilt from the values the platform actually reads (``cron-parser``
4.9.0, :mod:`cron_grammar`), so ``*/61`` is written ``0``, a day-of-month ``5L`` is written
``L`` (cron-parser reads any day-of-month text with an L as the last day), and the seconds
field is dropped when it is 0. Pure: standard library only.
"""

from __future__ import annotations

from itertools import pairwise

from pingback_cli.project.cron_grammar import DAY_OF_MONTH, DAY_OF_WEEK, SECOND, CronFields

_LIMITS = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def canonical(fields: CronFields) -> str | None:
    """The fields as a 5-field (or, with seconds, 6-field) expression; None when a value has
    no standard spelling (an empty day-of-month, a day-of-week L text the platform cannot read,
    a fractional ``#``)."""
    texts: list[str] = []
    for index, values in enumerate(fields.values):
        text = _day_of_week(fields) if index == DAY_OF_WEEK else _field(index, values)
        if text is None:
            return None
        texts.append(text)
    if len(fields.values[DAY_OF_WEEK]) != 8 and texts[DAY_OF_WEEK] == "*" and texts[DAY_OF_MONTH] != "*":
        texts[DAY_OF_MONTH] = "*"  # every weekday listed, so "day-of-month or day-of-week" is every day
    if texts[SECOND] == "0":
        texts = texts[1:]
    return " ".join(texts)


def _field(index: int, values: tuple[int | str, ...]) -> str | None:
    numbers = sorted({value for value in values if isinstance(value, int)})
    last = index == DAY_OF_MONTH and any(isinstance(value, str) for value in values)
    if not numbers:
        return "L" if last else None
    text = _compact(numbers, *_LIMITS[index])
    return f"{text},L" if last else text


def _day_of_week(fields: CronFields) -> str | None:
    values = fields.values[DAY_OF_WEEK]
    if len(values) == 8:
        return "*"
    numbers = sorted({value % 7 for value in values if isinstance(value, int)})
    texts = [value for value in values if isinstance(value, str)]
    if any(not text[0].isdigit() for text in texts) or (fields.nth and fields.nth != int(fields.nth)):
        return None
    lasts = [f"{int(text[0]) % 7}L" for text in texts]
    if fields.nth:
        return f"{numbers[0]}#{int(fields.nth)}" if len(numbers) == 1 and not lasts else None
    parts = ([_compact(numbers, 0, 6)] if numbers else []) + lasts
    return ",".join(parts)


def _compact(numbers: list[int], lo: int, hi: int) -> str:
    """``*``, ``*/n``, ``a/n``, ``a-b/n``, ``a-b`` or a list, whichever says it."""
    if numbers == list(range(lo, hi + 1)):
        return "*"
    if len(numbers) >= 3:
        step = numbers[1] - numbers[0]
        if all(later - earlier == step for earlier, later in pairwise(numbers)):
            first, last = numbers[0], numbers[-1]
            if step == 1:
                return f"{first}-{last}"
            if last + step > hi:
                return f"*/{step}" if first == lo else f"{first}/{step}"
            return f"{first}-{last}/{step}"
    return ",".join(str(number) for number in numbers)
