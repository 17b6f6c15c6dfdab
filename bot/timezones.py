"""Timezones as teams name them: IANA names, validated (`validate_timezone`) and suggested as a
member types (`search_timezones`).

Feature logic only: plain Python, nothing from discord.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import InvalidInput
from bot.i18n import _


@cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def validate_timezone(name: str) -> str:
    """The IANA zone name, or a clear error."""
    name = name.strip()
    if name.casefold() in ("utc", "gmt", "z"):
        return "UTC"
    lookup = {z.casefold(): z for z in _zones()}
    canonical = lookup.get(name.casefold())
    if canonical is None:
        raise InvalidInput(
            _(
                "“{name}” is not a timezone I know. Use an IANA name such as Europe/London, "
                "America/New_York or Asia/Kolkata (the list suggests them as you type).",
                name=name[:60],
            )
        )
    try:
        ZoneInfo(canonical)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - tzdata ships every listed zone
        raise InvalidInput(_("The timezone {zone} can't be loaded here.", zone=canonical)) from exc
    return canonical


def search_timezones(text: str, limit: int = 25) -> list[str]:
    """Zones for autocomplete: names starting with the text first, then names containing it."""
    needle = text.strip().casefold().replace(" ", "_")
    if not needle:
        popular = ["UTC", "Europe/London", "America/New_York", "America/Chicago"]
        popular += ["America/Denver", "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata"]
        popular += ["Asia/Tokyo", "Australia/Sydney"]
        return popular[:limit]
    starts = [z for z in _zones() if z.casefold().startswith(needle)]
    parts = [
        z
        for z in _zones()
        if z not in starts and any(p.startswith(needle) for p in z.casefold().split("/"))
    ]
    contains = [z for z in _zones() if needle in z.casefold() and z not in starts + parts]
    return (starts + parts + contains)[:limit]
