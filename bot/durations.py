"""Durations as members type them: `30m`, `2h`, `3d`, `1w`, `1d12h` (spaces allowed: `1d 12h`).

Digits of any script are read as the member meant (`٣٠m` is `30m`: `bot.text.plain_number_text`).
"""

from __future__ import annotations

import re
from datetime import timedelta

from bot.errors import InvalidInput
from bot.i18n import _, n_
from bot.text import plain_number_text

_UNITS = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}
# Unit words members also write, mapped to the one-letter units above.
_WORDS = {
    "week": "w",
    "weeks": "w",
    "wk": "w",
    "wks": "w",
    "day": "d",
    "days": "d",
    "hour": "h",
    "hours": "h",
    "hr": "h",
    "hrs": "h",
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
}
_PART = re.compile(r"([0-9]{1,6})\s*([a-z]+)", re.ASCII)
EXAMPLES = "30m, 2h, 3d, 1w or 1d12h"


def parse_duration(
    text: str,
    *,
    minimum: timedelta = timedelta(minutes=1),
    maximum: timedelta = timedelta(weeks=4),
) -> timedelta:
    """The duration `text` describes, within [minimum, maximum]; else a clear `InvalidInput`."""
    cleaned = plain_number_text(text).lower()
    shown = text.strip()[:40]
    if not cleaned:
        raise InvalidInput(_("Give a duration such as {examples}.", examples=EXAMPLES))
    total = timedelta()
    position = 0
    seen: set[str] = set()
    for match in _PART.finditer(cleaned):
        if cleaned[position : match.start()].strip(" ,"):
            break
        unit = _WORDS.get(match.group(2), match.group(2))
        if unit not in _UNITS or unit in seen:
            break
        seen.add(unit)
        total += int(match.group(1)) * _UNITS[unit]
        position = match.end()
    else:
        if seen and not cleaned[position:].strip(" ,"):
            return _in_range(total, shown, minimum, maximum)
    if cleaned.isascii() and cleaned.isdigit():
        raise InvalidInput(
            _(
                "“{typed}” needs a unit: m for minutes, h for hours, d for days, w for weeks "
                "(for example {examples}).",
                typed=shown,
                examples=EXAMPLES,
            )
        )
    raise InvalidInput(
        _(
            "“{typed}” is not a duration I understand. Write it like {examples}.",
            typed=shown,
            examples=EXAMPLES,
        )
    )


def _in_range(total: timedelta, shown: str, minimum: timedelta, maximum: timedelta) -> timedelta:
    if total < minimum:
        raise InvalidInput(
            _(
                "“{typed}” is too short: the shortest is {shortest}. Write it like {examples}.",
                typed=shown,
                shortest=format_duration(minimum),
                examples=EXAMPLES,
            )
        )
    if total > maximum:
        raise InvalidInput(
            _(
                "“{typed}” is too long: the longest is {longest}. "
                "Pick something shorter, such as 1w or 2w.",
                typed=shown,
                longest=format_duration(maximum),
            )
        )
    return total


def format_duration(duration: timedelta) -> str:
    """A short human form: `1 day 12 hours`, `30 minutes`, `4 weeks`."""
    minutes = int(duration.total_seconds() // 60)
    parts: list[str] = []
    for unit, size in ((_weeks, 7 * 24 * 60), (_days, 24 * 60), (_hours, 60), (_minutes, 1)):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(unit(count))
    return " ".join(parts) if parts else _("less than a minute")


def _weeks(count: int) -> str:
    return n_("{count} week", "{count} weeks", count)


def _days(count: int) -> str:
    return n_("{count} day", "{count} days", count)


def _hours(count: int) -> str:
    return n_("{count} hour", "{count} hours", count)


def _minutes(count: int) -> str:
    return n_("{count} minute", "{count} minutes", count)
