"""Data lifetime: a server's data is deleted 30 days after the bot was removed, unless it came
back; the rest of the database is untouched."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.db import Database
from bot.lifetime import RETENTION, Lifetime
from bot.polls import Polls
from bot.prompts import Prompts
from bot.reflections import Reflections
from bot.teams import Teams
from tests.support import World, click, prompt_posted, table_names
from tests.test_history import database_state
from tests.test_history_helpers import answer, command, create_team, prompt_posts

KEY = b"k" * 32
LEAVING, STAYING = 1001, 2002
USERS = [10**17 + n for n in range(3)]

Tables = dict[str, list[tuple[Any, ...]]]


async def dump(db: Database) -> Tables:
    return {
        name: sorted(tuple(r) for r in await db.fetchall(f"SELECT * FROM {name}"))
        for name in await table_names(db)
        if name != "bot_state"
    }


async def fill(db: Database, clock: ManualClock, guild_id: int) -> None:
    """A team with everything: a prompt post and answers, a poll with votes, reflections."""
    team = await Teams(db, clock).create(guild_id, "Front desk", guild_id + 1)
    prompts = Prompts(db, clock, starter=("A prompt?", "Another?"))
    claimed = (await prompts.posts.queue_manual(team.id, None)).post
    await prompt_posted(prompts, claimed, guild_id + 2)
    polls = Polls(db, clock, KEY)
    named = await polls.create(team, USERS[0], "Job or career?", "Job|Career")
    anonymous = await polls.create(team, USERS[0], "Secret?", "Yes|No", anonymous=True)
    reflections = Reflections(db, clock, KEY)
    for user in USERS:
        await prompts.answers.save_answer(guild_id, claimed.id, user, "m", "an answer")
        await click(polls, named.id, named.options[0].id, guild_id, user)
        await click(polls, anonymous.id, anonymous.options[1].id, guild_id, user)
        await reflections.write(team, user, "a thought")


async def eventually(read: Callable[[], Awaitable[object]], expected: object) -> None:
    """Wait (up to 5 s) until `read()` gives `expected`: listeners write just after an event."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while (value := await read()) != expected:
        assert loop.time() < deadline, f"still {value!r}, expected {expected!r}"
        await asyncio.sleep(0.01)


async def test_a_server_left_30_days_ago_loses_all_its_data_and_no_one_else_does(
    db: Database,
) -> None:
    clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    await fill(db, clock, LEAVING)
    await fill(db, clock, STAYING)
    lifetime = Lifetime(db, clock)
    await Teams(db, clock).guild_left(LEAVING)
    left_at = clock.now()
    assert await lifetime.next_due() == left_at + RETENTION
    before = await dump(db)

    assert await lifetime.purge_due(left_at + RETENTION - timedelta(seconds=1)) == []
    assert await dump(db) == before

    [purged] = await lifetime.purge_due(left_at + RETENTION)
    assert (purged.guild_id, purged.teams, purged.prompts) == (LEAVING, 1, 2)
    after = await dump(db)
    # Nothing was changed, only deleted; what is left is exactly the other server's data...
    staying = await fresh_copy(clock, STAYING)
    for table, rows in after.items():
        assert set(rows) <= set(before[table]), table
        assert len(rows) == len(staying[table]), table
    # ... and nothing of the server that left remains in any table.
    team_ids = {row[0] for row in before["teams"] if row[1] == LEAVING}
    assert not [row for row in after["teams"] if row[0] in team_ids]
    assert not [row for row in after["guilds"] if row[0] == LEAVING]
    assert not [row for row in after["prompts"] if row[1] == LEAVING]
    assert not [row for row in after["prompt_banks"] if row[0] == LEAVING]
    assert after["reflections"] and len(after["reflections"]) == len(before["reflections"]) // 2
    assert len(after["prompt_answers"]) == 3 and len(after["poll_ballots"]) == 3
    assert await lifetime.next_due() is None
    assert await lifetime.purge_due(left_at + 2 * RETENTION) == []  # nothing twice


async def fresh_copy(clock: ManualClock, guild_id: int) -> Tables:
    """The tables of a database holding only that one server (to compare row counts)."""
    with tempfile.TemporaryDirectory() as folder:
        other = await Database.open(Path(folder) / "x.db")
        try:
            await fill(other, ManualClock(clock.now()), guild_id)
            return await dump(other)
        finally:
            await other.close()


async def test_a_server_that_comes_back_within_30_days_keeps_its_data(db: Database) -> None:
    clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    await fill(db, clock, LEAVING)
    teams, lifetime = Teams(db, clock), Lifetime(db, clock)
    await teams.guild_left(LEAVING)
    clock.advance(days=29)
    await teams.guild_joined(LEAVING)
    before = await dump(db)
    assert await lifetime.run_due(clock.now() + timedelta(days=60)) is None
    assert await dump(db) == before


async def test_leaving_twice_keeps_the_first_date(db: Database) -> None:
    clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    await fill(db, clock, LEAVING)
    teams, lifetime = Teams(db, clock), Lifetime(db, clock)
    await teams.guild_left(LEAVING)
    first = clock.now()
    clock.advance(days=10)
    await teams.guild_left(LEAVING)
    assert await lifetime.next_due() == first + RETENTION


async def test_servers_missing_at_start_up_start_their_30_days(db: Database) -> None:
    clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    await fill(db, clock, LEAVING)
    await fill(db, clock, STAYING)
    lifetime = Lifetime(db, clock)
    assert await lifetime.mark_missing_as_left([STAYING, 3003]) == [LEAVING]
    assert await lifetime.mark_missing_as_left([STAYING]) == []  # the date isn't moved
    assert await lifetime.next_due() == clock.now() + RETENTION


# -- through the double ------------------------------------------------------------------------


async def team_with_an_answer(world: World) -> None:
    await create_team(world)
    assert "Posted prompt" in await command(world, world.manager, "prompt post")
    assert "saved" in await answer(world, world.members[0], prompt_posts(world)[-1], "Hello")


async def left_at(world: World) -> int | None:
    value = await world.bot.db.fetchval(
        "SELECT left_at FROM guilds WHERE guild_id = ?", (world.guild.id,)
    )
    return None if value is None else int(value)


async def test_removing_the_bot_deletes_the_servers_data_30_days_later(world: World) -> None:
    await team_with_an_answer(world)
    removed = world.clock.now()
    world.dd.remove_guild(world.guild)
    await eventually(lambda: left_at(world), int(removed.timestamp()))

    world.clock.set(removed + timedelta(days=29))
    await world.run_scheduler()
    assert await world.bot.teams.for_guild(world.guild.id) != []

    world.clock.set(removed + timedelta(days=30))
    await world.run_scheduler()
    state = await database_state(world)
    for table in ("teams", "guilds", "prompts", "prompt_posts", "prompt_answers"):
        assert state[table] == [], table


async def test_a_bot_removed_while_offline_notices_at_start_and_a_return_cancels(
    world: World,
) -> None:
    await team_with_an_answer(world)
    await world.stop()
    world.dd.remove_guild(world.guild)
    await world.start()
    await eventually(lambda: left_at(world), int(world.clock.now().timestamp()))

    # Added back before the 30 days are over: nothing is deleted.
    world.clock.advance(days=20)
    await world.stop()
    world.guild.removed = False
    await world.start()
    await eventually(lambda: left_at(world), None)
    world.clock.advance(days=40)
    await world.run_scheduler()
    assert len(await world.bot.teams.for_guild(world.guild.id)) == 1
