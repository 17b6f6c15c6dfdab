"""Teams, feature logic on real SQLite: names, timezones, resolution, schedule, deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.db import Database
from bot.errors import Conflict, InvalidInput, NotFound
from bot.prompts import Prompts
from bot.teams import Teams, search_timezones, validate_timezone
from tests.support import prompt_posted

GUILD = 1001
OTHER_GUILD = 2002
DESK = 501
RECORDS = 502
TABLES = (
    "guilds",
    "teams",
    "prompt_banks",
    "prompts",
    "prompt_posts",
    "prompt_answers",
    "prompt_schedules",
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))


@pytest.fixture
def teams(db: Database, clock: ManualClock) -> Teams:
    return Teams(db, clock)


async def dump(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables this feature writes, to show that a refused input changed nothing."""
    return {
        table: [tuple(row) for row in await db.fetchall(f"SELECT * FROM {table} ORDER BY 1")]
        for table in TABLES
    }


async def test_create_and_list(teams: Teams) -> None:
    desk = await teams.create(GUILD, "  Front   desk ", DESK, role_id=77, timezone="europe/london")
    assert desk.name == "Front desk"
    assert desk.timezone == "Europe/London"
    assert desk.role_id == 77
    assert desk.schedule_weekday is None
    await teams.create(GUILD, "Records", RECORDS)
    await teams.create(OTHER_GUILD, "Front desk", 900)
    assert [t.name for t in await teams.for_guild(GUILD)] == ["Front desk", "Records"]


async def test_duplicate_name_ignoring_case_is_refused_and_changes_nothing(
    teams: Teams, db: Database
) -> None:
    await teams.create(GUILD, "Front desk", DESK)
    before = await dump(db)
    with pytest.raises(Conflict, match="already has a team called"):
        await teams.create(GUILD, "FRONT   DESK", RECORDS)
    assert await dump(db) == before


async def test_name_over_50_characters_is_refused_and_changes_nothing(
    teams: Teams, db: Database
) -> None:
    before = await dump(db)
    with pytest.raises(InvalidInput, match="at most 50 characters"):
        await teams.create(GUILD, "x" * 51, DESK)
    with pytest.raises(InvalidInput, match="needs a name"):
        await teams.create(GUILD, "   ", DESK)
    assert await dump(db) == before


async def test_unknown_timezone_is_refused_and_changes_nothing(teams: Teams, db: Database) -> None:
    before = await dump(db)
    with pytest.raises(InvalidInput, match="not a timezone I know"):
        await teams.create(GUILD, "Front desk", DESK, timezone="Mars/Olympus_Mons")
    assert await dump(db) == before
    team = await teams.create(GUILD, "Front desk", DESK)
    before = await dump(db)
    with pytest.raises(InvalidInput, match="not a timezone I know"):
        await teams.edit(team.id, timezone="Europe/Londn")
    assert await dump(db) == before


def test_timezones_validate_and_autocomplete() -> None:
    assert validate_timezone("utc") == "UTC"
    assert validate_timezone(" america/new_york ") == "America/New_York"
    assert search_timezones("london")[0] == "Europe/London"
    assert "America/New_York" in search_timezones("new y")
    assert "Asia/Kolkata" in search_timezones("kolk")
    assert len(search_timezones("a")) == 25
    assert "UTC" in search_timezones("")


async def test_edit_changes_only_what_is_given(teams: Teams) -> None:
    team = await teams.create(GUILD, "Front desk", DESK, role_id=77, timezone="Europe/London")
    edited = await teams.edit(team.id, channel_id=RECORDS)
    assert (edited.name, edited.channel_id, edited.role_id, edited.timezone) == (
        "Front desk",
        RECORDS,
        77,
        "Europe/London",
    )
    edited = await teams.edit(team.id, name="Reception", role_id=None)
    assert (edited.name, edited.role_id) == ("Reception", None)


async def test_edit_to_a_taken_name_or_unknown_team_is_refused(teams: Teams, db: Database) -> None:
    await teams.create(GUILD, "Front desk", DESK)
    records = await teams.create(GUILD, "Records", RECORDS)
    before = await dump(db)
    with pytest.raises(Conflict):
        await teams.edit(records.id, name="front desk")
    with pytest.raises(NotFound, match="no longer exists"):
        await teams.edit(9999, name="Ghost")
    with pytest.raises(NotFound):
        await teams.delete(9999)
    assert await dump(db) == before


async def test_resolve_by_option_channel_thread_or_only_team(teams: Teams) -> None:
    with pytest.raises(NotFound, match="no team yet"):
        await teams.resolve(GUILD, team=None, channel_id=DESK)
    desk = await teams.create(GUILD, "Front desk", DESK)
    # the only team of the server is meant anywhere
    assert (await teams.resolve(GUILD, team=None, channel_id=12345)).id == desk.id
    records = await teams.create(GUILD, "Records", RECORDS)
    assert (await teams.resolve(GUILD, team="records", channel_id=DESK)).id == records.id
    assert (await teams.resolve(GUILD, team=str(records.id), channel_id=None)).id == records.id
    assert (await teams.resolve(GUILD, team=None, channel_id=DESK)).id == desk.id
    thread = 99
    resolved = await teams.resolve(GUILD, team=None, channel_id=thread, parent_channel_id=RECORDS)
    assert resolved.id == records.id
    with pytest.raises(InvalidInput, match="Which team"):
        await teams.resolve(GUILD, team=None, channel_id=12345)
    with pytest.raises(NotFound, match="no team called"):
        await teams.resolve(GUILD, team="Mailroom", channel_id=DESK)
    # another server's team is unknown here, by name and by id
    other = await teams.create(OTHER_GUILD, "Mailroom", 900)
    with pytest.raises(NotFound):
        await teams.resolve(GUILD, team=str(other.id), channel_id=None)


async def test_schedule_is_validated_and_refusal_changes_nothing(
    teams: Teams, db: Database
) -> None:
    team = await teams.create(GUILD, "Front desk", DESK, timezone="Europe/London")
    before = await dump(db)
    with pytest.raises(InvalidInput, match="Write it like 09:30"):
        await teams.set_schedule(team.id, 0, "25:00")
    with pytest.raises(InvalidInput, match="Say at what time to post, like 09:30"):
        await teams.set_schedule(team.id, 0, None)
    with pytest.raises(InvalidInput):
        await teams.set_schedule(team.id, 7, "09:00")
    with pytest.raises(NotFound):
        await teams.set_schedule(9999, 0, "09:00")
    assert await dump(db) == before
    scheduled = await teams.set_schedule(team.id, 0, "9:30", ping_role=True)
    assert (scheduled.schedule_weekday, scheduled.schedule_time) == (0, "09:30")
    assert scheduled.schedule_ping_role
    off = await teams.set_schedule(team.id, None, None)
    assert (off.schedule_weekday, off.schedule_time) == (None, "09:30")


async def test_schedule_and_timezone_changes_restart_the_slot_clock(
    teams: Teams, db: Database, clock: ManualClock
) -> None:
    team = await teams.create(GUILD, "Front desk", DESK)
    await teams.set_schedule(team.id, 0, "09:00")
    since = "SELECT active_since FROM prompt_schedules WHERE team_id = ?"
    assert await db.fetchval(since, (team.id,)) == int(clock.now().timestamp())
    clock.advance(hours=1)
    await teams.edit(team.id, name="Reception")
    assert await db.fetchval(since, (team.id,)) == int(
        (clock.now() - timedelta(hours=1)).timestamp()
    )
    await teams.edit(team.id, timezone="Asia/Tokyo")
    assert await db.fetchval(since, (team.id,)) == int(clock.now().timestamp())


async def test_post_error_is_kept_for_managers_until_a_new_schedule(
    teams: Teams, db: Database
) -> None:
    team = await teams.create(GUILD, "Front desk", DESK)
    # what the prompts job records when Discord refuses a weekly post
    await db.execute(
        "UPDATE teams SET last_post_error = ? WHERE id = ?",
        ("I can't post in #front-desk.", team.id),
    )
    assert (await teams.get(team.id)).last_post_error == "I can't post in #front-desk."
    assert (await teams.set_schedule(team.id, 1, "10:00")).last_post_error is None


async def test_deleting_a_team_deletes_its_posts_and_answers(
    teams: Teams, db: Database, clock: ManualClock
) -> None:
    prompts = Prompts(db, clock, starter=("One?", "Two?"))
    desk = await teams.create(GUILD, "Front desk", DESK)
    records = await teams.create(GUILD, "Records", RECORDS)
    await prompts.bank.ensure_bank(GUILD)
    for team in (desk, records):
        await teams.set_schedule(team.id, 0, "09:00")
        post = (await prompts.posts.queue_manual(team.id, None)).post
        await prompt_posted(prompts, post, 9000 + team.id)
        await prompts.answers.save_answer(GUILD, post.id, 42, "alice", "Mine.")
    await teams.delete(desk.id)
    assert [t.name for t in await teams.for_guild(GUILD)] == ["Records"]
    assert await db.fetchval("SELECT COUNT(*) FROM prompt_posts") == 1
    assert await db.fetchval("SELECT COUNT(*) FROM prompt_answers") == 1
    assert await db.fetchval("SELECT COUNT(*) FROM prompt_schedules") == 1
    # the server's bank is not the team's: it stays
    assert await db.fetchval("SELECT COUNT(*) FROM prompts") == 2
