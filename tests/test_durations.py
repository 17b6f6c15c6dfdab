"""Durations as members type them for `/poll create duration:`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.durations import format_duration, parse_duration
from bot.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1d 12h", timedelta(days=1, hours=12)),
        (" 2H ", timedelta(hours=2)),
        ("1w2d3h4m", timedelta(weeks=1, days=2, hours=3, minutes=4)),
        ("90m", timedelta(minutes=90)),
        ("3 days", timedelta(days=3)),
        ("1 week, 2 days", timedelta(weeks=1, days=2)),
        ("1m", timedelta(minutes=1)),
        ("4w", timedelta(weeks=4)),
        ("28d", timedelta(weeks=4)),
    ],
)
def test_parses(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "abc", "1.5h", "2x", "h", "1d1d", "1d garbage", "d1", "1 fortnight", "-2h"]
)
def test_refuses_what_does_not_parse(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"duration|Give a duration"):
        parse_duration(text)


def test_a_bare_number_asks_for_a_unit() -> None:
    with pytest.raises(InvalidInput, match="needs a unit"):
        parse_duration("30")


@pytest.mark.parametrize("text", ["0m", "0h", "0d"])
def test_refuses_too_short(text: str) -> None:
    with pytest.raises(InvalidInput, match="too short: the shortest is 1 minute"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["5w", "4w1m", "29d", "999999h"])
def test_refuses_too_long(text: str) -> None:
    with pytest.raises(InvalidInput, match="too long: the longest is 4 weeks"):
        parse_duration(text)


def test_formats_for_people() -> None:
    assert format_duration(timedelta(days=1, hours=12)) == "1 day 12 hours"
    assert format_duration(timedelta(minutes=30)) == "30 minutes"
    assert format_duration(timedelta(weeks=4)) == "4 weeks"
    assert format_duration(timedelta(seconds=5)) == "less than a minute"
