"""What members type, read one way everywhere (bot/text.py), and the validators that use it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.db import Database
from bot.durations import parse_duration
from bot.errors import Conflict, InvalidInput
from bot.poll_model import parse_options, parse_poll_ref, validate_question
from bot.prompt_answers import validate_answer
from bot.prompt_bank import prompt_key, validate_prompt
from bot.prompts import Prompts
from bot.reflection_text import clean_body, validate_about, validate_reason
from bot.schedule import parse_time
from bot.teams import Teams, name_key, validate_name
from bot.text import (
    MAX_ID,
    ascii_digits,
    comparison_key,
    parse_id,
    plain_number_text,
    shows_nothing,
    strip_invisible,
)

SHOW_NOTHING = [
    "",
    " ",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u0301\u0301",
    "\u20dd",  # an enclosing mark alone
    "\u2800",
    "\u3164",
    "\u115f",
    "\u1160",
    "\uffa0",
    "\u00a0\u3000\t\n\r",
    "\x00\x1f\x7f",
    "\u202e\u2067\u200f\u00ad",
    "\ufe0f\U000e0001",
]
SHOW_SOMETHING = ["a", "é", "e\u0301", "👩🏽\u200d💻", "مرحبا", "שָׁלוֹם", "·", "0", "\u200ba"]


@pytest.mark.parametrize("text", SHOW_NOTHING)
def test_text_that_shows_nothing(text: str) -> None:
    assert shows_nothing(text)


@pytest.mark.parametrize("text", SHOW_SOMETHING)
def test_text_that_shows_something(text: str) -> None:
    assert not shows_nothing(text)


def test_strip_invisible_keeps_marks_on_letters() -> None:
    assert strip_invisible("ca\u200bre\ufeffer\u2060") == "career"
    assert strip_invisible("\u3164x\u2800") == "x"
    assert strip_invisible("e\u0301") == "e\u0301"
    assert strip_invisible("☺\ufe0f") == "☺"


@pytest.mark.parametrize(
    "twin", ["Career", "CAREER", "Ｃａｒｅｅｒ", "career\u200b", " career ", "\u2060Career\ufeff"]
)
def test_texts_that_read_the_same_share_a_key(twin: str) -> None:
    assert comparison_key(twin) == comparison_key("career") == "career"


def test_keys_keep_what_changes_the_reading() -> None:
    assert comparison_key("cafe\u0301") == comparison_key("café")
    assert comparison_key("café") != comparison_key("cafe")
    assert comparison_key("שָׁלוֹם") != comparison_key("שלום")
    assert comparison_key("Front desk") != comparison_key("Frontdesk")
    assert comparison_key("Straße") == comparison_key("STRASSE")


def test_digits_of_any_script_become_ascii() -> None:
    assert ascii_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert ascii_digits("０９：３０") == "09：30"
    assert ascii_digits("३० मिनट") == "30 मिनट"
    assert ascii_digits("۱۲ and ১২ and 𝟏𝟐") == "12 and 12 and 12"
    assert ascii_digits("²") == "²"  # not a decimal digit: left to NFKC (plain_number_text)
    assert plain_number_text(" ０９：３０\u200b ") == "09:30"
    assert plain_number_text("²") == "2"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12", 12),
        ("#12", 12),
        (" # 12 ", 12),
        ("١٢", 12),
        ("１２", 12),
        ("#１２", 12),
        ("१२", 12),
        ("1\u200b2", 12),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("99999999999999999999", None),
        ("9" * 5000, None),
        ("0", None),
        ("-1", None),
        ("+1", None),
        ("1.0", None),
        ("1e3", None),
        ("twelve", None),
        ("", None),
        ("#", None),
        (12, 12),
        (0, None),
        (2**63, None),
    ],
)
def test_parse_id(typed: str | int, expected: int | None) -> None:
    assert parse_id(typed) == expected


def test_a_poll_reference_beyond_sqlite_is_unknown() -> None:
    assert parse_poll_ref("#１２") == 12
    with pytest.raises(Exception, match="is not a poll I know"):
        parse_poll_ref("99999999999999999999")


# --- durations and times ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [("٣٠m", 30), ("３０ｍ", 30), ("३० minutes", 30), ("1d١٢h", 36 * 60), ("２ｈ", 120)],
)
def test_durations_in_other_digits(typed: str, minutes: int) -> None:
    assert parse_duration(typed) == timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("typed", "message"), [("٣٠", "needs a unit"), ("３０ｘ", "not a duration"), ("\u200b", "Give")]
)
def test_durations_still_refused(typed: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_duration(typed)


@pytest.mark.parametrize(
    "typed", ["٠٩:٣٠", "０９：３０", "०९:३०", "9:٣٠", " 09:30\u200b", "٩:٣٠ am", "٠٩٣٠"]
)
def test_times_in_other_digits_are_ascii(typed: str) -> None:
    assert parse_time(typed) == "09:30"
    assert parse_time(typed).isascii()


@pytest.mark.parametrize("typed", ["٢٥:٠٠", "9:3O", "٩:٣٠ xm", "09:30\n10:00"])
def test_times_still_refused(typed: str) -> None:
    with pytest.raises(InvalidInput, match="Write it like"):
        parse_time(typed)


# --- every place a member types text refuses text that shows nothing ---------------------------


@pytest.mark.parametrize("blank", SHOW_NOTHING)
def test_the_validators_refuse_text_that_shows_nothing(blank: str) -> None:
    with pytest.raises(InvalidInput, match="needs a name"):
        validate_name(blank)
    with pytest.raises(InvalidInput, match="needs a question"):
        validate_question(blank)
    with pytest.raises(InvalidInput, match="Option 2 is empty"):
        parse_options(f"Job|{blank}|Career")
    with pytest.raises(InvalidInput, match="needs some text"):
        validate_prompt(blank)
    with pytest.raises(InvalidInput, match="answer is empty"):
        validate_answer(blank)
    assert clean_body(blank) == ""
    assert validate_about(blank) is None
    with pytest.raises(InvalidInput, match="what is wrong"):
        validate_reason(blank)


def test_text_is_kept_as_written() -> None:
    assert validate_name("Ｆｒｏｎｔ  ｄｅｓｋ") == "Ｆｒｏｎｔ ｄｅｓｋ"
    assert parse_options("Ｊｏｂ | Career") == ["Ｊｏｂ", "Career"]
    assert validate_prompt("Job\u200b or career?") == "Job\u200b or career?"


@pytest.mark.parametrize("twin", ["Ｃａｒｅｅｒ", "career\u200b", "CAREER", "Care\ufeffer"])
def test_poll_options_that_read_the_same_are_duplicates(twin: str) -> None:
    with pytest.raises(InvalidInput, match="appears twice"):
        parse_options(f"Job|Career|{twin}")


def test_the_keys_of_teams_and_prompts() -> None:
    assert name_key("Ｆｒｏｎｔ ｄｅｓｋ\u200b") == name_key("front desk") == "front desk"
    assert prompt_key("Ｊｏｂ  or\u200b career？") == prompt_key("job or career?") == "joborcareer?"


# --- duplicates against rows stored under the older key rule ------------------------------------


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))


async def test_a_team_stored_under_the_older_key_is_still_a_duplicate(
    db: Database, clock: ManualClock
) -> None:
    teams = Teams(db, clock)
    await teams.create(1, "Records", 11)
    # As the bot stored it before keys read text as shown: casefolded only.
    await db.execute(
        "INSERT INTO teams (guild_id, name, name_key, channel_id, created_at)"
        " VALUES (1, 'Ｃａｒｅｅｒ', 'ｃａｒｅｅｒ', 12, 0)"
    )
    for twin in ("Career", "career\u200b", "Ｃａｒｅｅｒ"):
        with pytest.raises(Conflict, match="already has a team called"):
            await teams.create(1, twin, 13)
        [records] = [t for t in await teams.for_guild(1) if t.name == "Records"]
        with pytest.raises(Conflict, match="already has a team called"):
            await teams.edit(records.id, name=twin)
    created = await teams.create(2, "Career", 21)  # another server: no clash
    assert created.name == "Career"
    renamed = await teams.edit(created.id, name="CAREER")  # its own name, re-cased
    assert renamed.name == "CAREER"


async def test_a_prompt_stored_under_the_older_key_is_still_a_duplicate(
    db: Database, clock: ManualClock
) -> None:
    prompts = Prompts(db, clock, starter=())
    await prompts.bank.ensure_bank(1)
    await db.execute(
        "INSERT INTO prompts (guild_id, text, text_key, created_at)"
        " VALUES (1, 'A job or a career…', 'ajoboracareer…', 0)"
    )
    for twin in (
        "A job or a career...",
        "a job or a career…\u200b",
        "Ａ ｊｏｂ ｏｒ ａ ｃａｒｅｅｒ…",
    ):
        with pytest.raises(Conflict, match="already has this prompt"):
            await prompts.bank.add(1, twin)
    added = await prompts.bank.add(1, "A job, or a career?")
    assert added.prompt.text == "A job, or a career?"
