"""The weekly slot, pure: local wall-clock times across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from bot.errors import InvalidInput
from bot.schedule import (
    GRACE,
    describe,
    due_slot,
    latest_slot,
    next_slots,
    parse_time,
    parse_weekday,
    show_time,
    slot_on,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
MONDAY = 0
SUNDAY = 6


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_london_0930_is_0930_local_in_january_and_in_july() -> None:
    january = slot_on(date(2026, 1, 12), "09:30", LONDON)
    july = slot_on(date(2026, 7, 13), "09:30", LONDON)
    assert january == utc(2026, 1, 12, 9, 30)  # GMT = UTC
    assert july == utc(2026, 7, 13, 8, 30)  # BST = UTC+1
    assert january.astimezone(LONDON).strftime("%H:%M") == "09:30"
    assert july.astimezone(LONDON).strftime("%H:%M") == "09:30"


@pytest.mark.parametrize(
    ("zone", "start", "end", "offsets"),
    [
        # London: BST from Sunday 29 March 2026 to Sunday 25 October 2026.
        (LONDON, utc(2026, 3, 16), utc(2026, 4, 10), [9, 9, 8, 8]),
        (LONDON, utc(2026, 10, 12), utc(2026, 11, 5), [8, 8, 9, 9]),
        # New York: EDT from Sunday 8 March 2026 to Sunday 1 November 2026.
        (NEW_YORK, utc(2026, 2, 23), utc(2026, 3, 20), [14, 14, 13, 13]),
        (NEW_YORK, utc(2026, 10, 19), utc(2026, 11, 13), [13, 13, 14, 14]),
    ],
)
def test_weekly_slots_keep_local_time_across_both_changes(
    zone: ZoneInfo, start: datetime, end: datetime, offsets: list[int]
) -> None:
    slots = next_slots(start, MONDAY, "09:30", zone, count=4)
    assert all(slot.astimezone(zone).strftime("%A %H:%M") == "Monday 09:30" for slot in slots)
    # the UTC hour moves by one across the change, the local time does not
    assert [slot.hour for slot in slots] == offsets
    assert slots[-1] < end
    assert all(
        b - a in (timedelta(days=7, hours=h) for h in (-1, 0, 1)) for a, b in pairwise(slots)
    )


def test_a_slot_in_the_spring_gap_goes_out_just_after_it() -> None:
    # 01:30 doesn't exist in London on 29 March 2026 (01:00 GMT -> 02:00 BST).
    slot = slot_on(date(2026, 3, 29), "01:30", LONDON)
    assert slot == utc(2026, 3, 29, 1, 30)
    assert slot.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") == "2026-03-29 02:30"
    # New York: 02:30 doesn't exist on 8 March 2026.
    slot = slot_on(date(2026, 3, 8), "02:30", NEW_YORK)
    assert slot.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M") == "2026-03-08 03:30"
    # it is posted once that week: the Sunday sequence has no hole and no double
    slots = next_slots(utc(2026, 3, 20), SUNDAY, "01:30", LONDON, count=3)
    assert [s.astimezone(LONDON).day for s in slots] == [22, 29, 5]


def test_a_slot_in_the_autumn_overlap_is_the_first_of_the_two() -> None:
    # 01:30 happens twice in London on 25 October 2026; the first one is BST (00:30 UTC).
    assert slot_on(date(2026, 10, 25), "01:30", LONDON) == utc(2026, 10, 25, 0, 30)
    assert slot_on(date(2026, 11, 1), "01:30", NEW_YORK) == utc(2026, 11, 1, 5, 30)
    slots = next_slots(utc(2026, 10, 20), SUNDAY, "01:30", LONDON, count=2)
    assert slots == [utc(2026, 10, 25, 0, 30), utc(2026, 11, 1, 1, 30)]


def test_next_slots_are_strictly_after_and_latest_is_at_or_before() -> None:
    slot = utc(2026, 1, 12, 9, 30)
    assert next_slots(slot, MONDAY, "09:30", LONDON, 1) == [slot + timedelta(days=7)]
    assert next_slots(slot - timedelta(seconds=1), MONDAY, "09:30", LONDON, 1) == [slot]
    assert latest_slot(slot, MONDAY, "09:30", LONDON) == slot
    assert latest_slot(slot - timedelta(seconds=1), MONDAY, "09:30", LONDON) == slot - timedelta(
        days=7
    )


def test_latest_slot_uses_the_local_date_not_the_utc_date() -> None:
    # Monday 23:30 in New York is already Tuesday in UTC.
    slot = slot_on(date(2026, 1, 12), "23:30", NEW_YORK)
    assert slot == utc(2026, 1, 13, 4, 30)
    assert latest_slot(slot + timedelta(minutes=5), MONDAY, "23:30", NEW_YORK) == slot


def test_due_slot_within_grace_and_not_before_the_schedule() -> None:
    slot = utc(2026, 1, 12, 9, 30)
    since = utc(2026, 1, 1)
    assert due_slot(slot, MONDAY, "09:30", LONDON, since) == slot
    late = slot + GRACE - timedelta(seconds=1)
    assert due_slot(late, MONDAY, "09:30", LONDON, since) == slot
    assert due_slot(slot + GRACE, MONDAY, "09:30", LONDON, since) is None
    # a schedule set at 09:30 or 09:35 for 09:30 starts next week
    assert due_slot(slot, MONDAY, "09:30", LONDON, slot) is None
    assert (
        due_slot(slot + timedelta(minutes=5), MONDAY, "09:30", LONDON, slot + timedelta(minutes=5))
        is None
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:30", "09:30"),
        ("9:05", "09:05"),
        (" 23:59 ", "23:59"),
        ("00:00", "00:00"),
        ("9am", "09:00"),
        ("9 AM", "09:00"),
        ("9:30 pm", "21:30"),
        ("9.30p.m.", "21:30"),
        ("12am", "00:00"),
        ("12:15 pm", "12:15"),
        ("17h", "17:00"),
        ("17h30", "17:30"),
        ("17.30", "17:30"),
        ("0930", "09:30"),
        ("930", "09:30"),
        ("noon", "12:00"),
        ("midnight", "00:00"),
    ],
)
def test_parse_time_reads_times_as_people_type_them(text: str, expected: str) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "24:00", "9:5", "09:60", "17", "9", "13pm", "0pm", "2400", "960", "17:", "-1:00", "soon"],
)
def test_parse_time_refuses_anything_else_with_examples(text: str) -> None:
    with pytest.raises(InvalidInput, match="Write it like 09:30, 9:30 pm, 9am, 17h"):
        parse_time(text)


def test_a_time_is_shown_back_in_both_clocks() -> None:
    assert show_time("09:30") == "09:30 (9:30 am)"
    assert show_time("00:05") == "00:05 (12:05 am)"
    assert show_time("12:00") == "12:00 (12:00 pm)"
    assert show_time("17:45") == "17:45 (5:45 pm)"


def test_weekdays_and_description() -> None:
    assert parse_weekday("Monday") == 0
    assert parse_weekday("sunday") == 6
    assert parse_weekday("off") is None
    with pytest.raises(InvalidInput):
        parse_weekday("someday")
    assert describe(0, "09:30") == "Mondays at 09:30"
    assert describe(None, "09:30") == "off"
