"""The weekly prompt slot: a weekday and a local wall-clock time in the team's timezone.

Pure functions, no I/O. Slots are computed from the *local* date and time through `zoneinfo`, so
a 09:30 Europe/London slot is 09:30 on the office clock in January (09:30 UTC) and in July (08:30
UTC).
Two local times need a rule:
- a time that does not exist (the spring-forward gap, e.g. 01:30 in London on the last Sunday of
  March) is read with the offset in force before the change, which lands just after the gap
  (02:30 BST) — the post goes out, an hour "late" on that one day, never skipped;
- a time that happens twice (the autumn fall-back) means the first of the two.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import InvalidInput
from bot.i18n import N_, _
from bot.text import plain_number_text

#: The weekday option's values (the commands' contract: never translated).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: A weekly slot as people read it, one message per weekday (`describe`): "Mondays at 09:30".
WEEKLY_AT = (
    N_("Mondays at {time}"),
    N_("Tuesdays at {time}"),
    N_("Wednesdays at {time}"),
    N_("Thursdays at {time}"),
    N_("Fridays at {time}"),
    N_("Saturdays at {time}"),
    N_("Sundays at {time}"),
)
#: A slot missed while the bot was down is still posted when it comes back within this time.
GRACE = timedelta(hours=12)
DEFAULT_TIME = "09:00"

#: The ways people write a time of day: 9am, 9:30 pm, 9.30p.m., 17h, 17h30, 17.30, 17:30, 0930.
_TWELVE_HOUR = re.compile(
    r"(?P<hour>1[0-2]|0?[1-9])(?:[:.h]?(?P<minute>[0-5][0-9]))?\s*(?P<half>a|p)\.?\s*m\.?",
    re.ASCII | re.IGNORECASE,
)
_TWENTY_FOUR_HOUR = re.compile(
    r"(?P<hour>[01]?[0-9]|2[0-3])(?:[:.h](?P<minute>[0-5][0-9])|(?P<packed>[0-5][0-9])|h)",
    re.ASCII | re.IGNORECASE,
)
_NAMED = {"noon": "12:00", "midday": "12:00", "midnight": "00:00"}
#: How a time can be written, for error messages: translate where used, `_(TIME_EXAMPLES)`.
TIME_EXAMPLES = N_("09:30, 9:30 pm, 9am, 17h, 17.30 or 0930")


def parse_time(text: str) -> str:
    """A time of day as people type it (`9am`, `9:30 pm`, `17h`, `17.30`, `0930`, `09:30`,
    `noon`) as a normalised 24-hour `HH:MM`, or an error with examples.

    Digits of any script (`٠٩:٣٠`, `０９：３０`) are read as ASCII; the result is always ASCII. A
    bare number of one or two digits (`9`) is refused: a morning or an evening?"""
    plain = plain_number_text(text)
    if (named := _NAMED.get(plain.casefold())) is not None:
        return named
    if (match := _TWELVE_HOUR.fullmatch(plain)) is not None:
        hour = int(match["hour"]) % 12 + (12 if match["half"].lower() == "p" else 0)
        return f"{hour:02d}:{match['minute'] or '00'}"
    if (match := _TWENTY_FOUR_HOUR.fullmatch(plain)) is not None:
        minute = match["minute"] or match["packed"] or "00"  # none of them: "17h"
        return f"{int(match['hour']):02d}:{minute}"
    raise _bad_time(text)


def _bad_time(text: str) -> InvalidInput:
    return InvalidInput(
        _(
            "“{text}” is not a time I can read. Write it like {examples}.",
            text=text.strip()[:20],
            examples=_(TIME_EXAMPLES),
        )
    )


def show_time(hhmm: str) -> str:
    """A stored `HH:MM` as the team reads it back: 24-hour, with the 12-hour form beside it
    (a language that never writes 12-hour times can leave `{twelve_hour}` out)."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    clock = f"{(hour % 12) or 12}:{minute:02d}"
    twelve_hour = _("{time} am", time=clock) if hour < 12 else _("{time} pm", time=clock)
    return _("{time} ({twelve_hour})", time=hhmm, twelve_hour=twelve_hour)


def parse_weekday(name: str) -> int | None:
    """`monday` … `sunday` as 0 … 6; `off` as None."""
    key = name.strip().casefold()
    if key == "off":
        return None
    if key not in WEEKDAYS:
        raise InvalidInput(
            _("Pick a weekday from monday to sunday, or off to stop the weekly post.")
        )
    return WEEKDAYS.index(key)


def _wall_time(hhmm: str) -> time:
    hour, minute = parse_time(hhmm).split(":")
    return time(int(hour), int(minute))


def slot_on(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    """The UTC instant of `hhmm` local time on `day` in `zone` (see the module notes for DST)."""
    return datetime.combine(day, _wall_time(hhmm), tzinfo=zone).astimezone(UTC)


def _local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def latest_slot(at: datetime, weekday: int, hhmm: str, zone: ZoneInfo) -> datetime:
    """The most recent slot at or before `at`."""
    today = _local_date(at, zone)
    day = today - timedelta(days=(today.weekday() - weekday) % 7)
    slot = slot_on(day, hhmm, zone)
    if slot > at:
        slot = slot_on(day - timedelta(days=7), hhmm, zone)
    return slot


def next_slots(
    after: datetime, weekday: int, hhmm: str, zone: ZoneInfo, count: int = 3
) -> list[datetime]:
    """The next `count` slots strictly after `after`."""
    today = _local_date(after, zone)
    day = today + timedelta(days=(weekday - today.weekday()) % 7)
    slots: list[datetime] = []
    while len(slots) < count:
        slot = slot_on(day, hhmm, zone)
        if slot > after:
            slots.append(slot)
        day += timedelta(days=7)
    return slots


def due_slot(
    now: datetime, weekday: int, hhmm: str, zone: ZoneInfo, active_since: datetime
) -> datetime | None:
    """The slot to post at `now`, if any: the latest one, when it comes after the schedule was
    set (setting Monday 09:00 at 09:00 or 09:05 starts next week, as the confirmation says) and
    is less than `GRACE` late."""
    slot = latest_slot(now, weekday, hhmm, zone)
    if slot <= active_since or now - slot >= GRACE:
        return None
    return slot


def describe(weekday: int | None, hhmm: str | None) -> str:
    """`Mondays at 09:30`, or `off` (in the current language)."""
    if weekday is None or hhmm is None:
        return _("off")
    return _(WEEKLY_AT[weekday], time=hhmm)
