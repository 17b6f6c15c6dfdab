"""Durations as members type them: `30m`, `2h`, `3d`, `1w`, `1d12h` (spaces allowed: `1d 12h`).

Digits of any script are read as the member meant (`٣٠m` is `30m`: `bot.text.plain_number_text`).
"""

from __future__ import annotations

import re
from datetime import timedelta

from bot.errors import InvalidInput
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
        raise InvalidInput(f"Give a duration such as {EXAMPLES}.")
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
            f"“{shown}” needs a unit: m for minutes, h for hours, d for days, w for weeks "
            f"(for example {EXAMPLES})."
        )
    raise InvalidInput(f"“{shown}” is not a duration I understand. Write it like {EXAMPLES}.")


def _in_range(total: timedelta, shown: str, minimum: timedelta, maximum: timedelta) -> timedelta:
    if total < minimum:
        raise InvalidInput(
            f"“{shown}” is too short: the shortest is {format_duration(minimum)}. "
            f"Write it like {EXAMPLES}."
        )
    if total > maximum:
        raise InvalidInput(
            f"“{shown}” is too long: the longest is {format_duration(maximum)}. "
            f"Pick something shorter, such as 1w or 2w."
        )
    return total


def format_duration(duration: timedelta) -> str:
    """A short human form: `1 day 12 hours`, `30 minutes`, `4 weeks`."""
    minutes = int(duration.total_seconds() // 60)
    parts: list[str] = []
    for name, size in (("week", 7 * 24 * 60), ("day", 24 * 60), ("hour", 60), ("minute", 1)):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count} {name}{'' if count == 1 else 's'}")
    return " ".join(parts) if parts else "less than a minute"
