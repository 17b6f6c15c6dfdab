"""Shard processes on one database: each does the scheduled work of its own shards' servers only,
and what two overlapping processes could both claim, one of them gets.

Two `Services` (shards 0 and 1 of 2) share one database, as two `python -m bot` processes share
one PostgreSQL; every test runs on both backends. The overlap tests give each "process" its own
connection, so on PostgreSQL their transactions really run at once (READ COMMITTED).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.ext import commands

from bot.clock import ManualClock, to_ts
from bot.config import Settings
from bot.db import Database
from bot.launch import apply_endpoint_settings, create_bot
from bot.lifetime import RETENTION
from bot.outbox import Outbox
from bot.reflection_batches import ReflectionBatches
from bot.reflections import Reflections
from bot.services import Services
from bot.sharding import EVERY_SERVER, Shards, shard_of
from bot.teams import Team
from bot.unreachable import DiscordUnreachable
from tests.double import DiscordDouble
from tests.support import TEST_SECRET

KEY = b"k" * 32
#: snowflakes of servers on shard 0 and shard 1 of 2 (the bits above 22 decide)
GUILD_0 = (400_000_000_000 << 22) | 12345
GUILD_1 = (400_000_000_001 << 22) | 12345
USERS = [10**17 + n for n in range(3)]
SHARD_0, SHARD_1 = Shards(2, (0,)), Shards(2, (1,))


def test_a_server_is_the_shard_discord_gives_its_events_to() -> None:
    assert (shard_of(GUILD_0, 2), shard_of(GUILD_1, 2)) == (0, 1)
    assert SHARD_0.owns(GUILD_0) and not SHARD_0.owns(GUILD_1)
    assert SHARD_1.owns(GUILD_1) and not SHARD_1.owns(GUILD_0)
    for everything in (EVERY_SERVER, Shards(2), Shards(2, (0, 1)), Shards.of(3, (2, 0, 1, 1))):
        assert everything.everything and everything.owns(GUILD_0) and everything.owns(GUILD_1)
        assert everything.where("guild_id") == ("1 = 1", ())
    assert SHARD_0.syncs_commands and EVERY_SERVER.syncs_commands
    assert not SHARD_1.syncs_commands
    assert Shards.of(4, (3, 1)).describe() == "shards 1,3 of 4"
    assert EVERY_SERVER.describe() == "unsharded"
    with pytest.raises(ValueError):
        Shards(2, (2,))


async def test_the_sql_filter_agrees_with_owns_on_every_server(db: Database) -> None:
    rng = random.Random(15)
    ids = [rng.randrange(1, 2**63) for _ in range(300)] + [2**63 - 1, 1 << 22, 1]
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO guilds (guild_id, joined_at) VALUES (?, 0)", [(i,) for i in ids]
        )
    for shards in (Shards(3, (0, 2)), Shards(5, (4,)), Shards(16, (1, 7, 8)), EVERY_SERVER):
        ours, params = shards.where("guild_id")
        rows = await db.fetchall(f"SELECT guild_id FROM guilds WHERE {ours}", params)
        assert {row[0] for row in rows} == {i for i in ids if shards.owns(i)}


@dataclass
class Office:
    """Two processes' views of one database, and a team in a server of each shard."""

    clock: ManualClock
    shard: dict[int, Services]
    teams: dict[int, Team]


@pytest.fixture
async def office(db: Database) -> Office:
    return await open_office(db)


async def open_office(db: Database) -> Office:
    clock = ManualClock()  # Monday 5 January 2026, 08:00 UTC
    shard = {n: Services(db, clock, KEY, shards) for n, shards in enumerate((SHARD_0, SHARD_1))}
    teams = {
        0: await shard[0].teams.create(GUILD_0, "Front desk", GUILD_0 + 1),
        1: await shard[1].teams.create(GUILD_1, "Back office", GUILD_1 + 1),
    }
    return Office(clock, shard, teams)


async def teams_of_posts(db: Database) -> list[int]:
    return sorted(row[0] for row in await db.fetchall("SELECT team_id FROM prompt_posts"))


async def test_each_shard_posts_only_its_servers_weekly_prompts(
    db: Database, office: Office
) -> None:
    for team in office.teams.values():
        await office.shard[0].teams.set_schedule(team.id, 0, "09:00")
    for n in (0, 1):
        coming = await office.shard[n].prompts.next_due(office.clock.now())
        assert coming is not None and coming.hour == 9  # each sees its own team's slot
    await office.shard[0].teams.set_schedule(office.teams[1].id, None, None)
    assert await office.shard[1].prompts.weekly.next_due(office.clock.now()) is None
    await office.shard[0].teams.set_schedule(office.teams[1].id, 0, "09:00")

    office.clock.advance(hours=1, minutes=1)
    now = office.clock.now()
    [post] = await office.shard[0].prompts.weekly.queue_due(now)
    assert post.team_id == office.teams[0].id
    assert await teams_of_posts(db) == [office.teams[0].id]
    [post] = await office.shard[1].prompts.weekly.queue_due(now)
    assert post.team_id == office.teams[1].id
    assert await office.shard[0].prompts.weekly.queue_due(now) == []
    assert await teams_of_posts(db) == sorted(t.id for t in office.teams.values())


async def test_each_shard_sends_only_its_servers_deliveries(office: Office) -> None:
    outbox = {n: office.shard[n].outbox for n in (0, 1)}
    queued = {
        n: (await office.shard[n].prompts.posts.queue_manual(office.teams[n].id, None))
        for n in (0, 1)
    }
    later = office.clock.now() + timedelta(minutes=5)  # past the waiting member's lease
    for n in (0, 1):
        assert await outbox[n].due(later) == [queued[n].delivery_id]
        assert await outbox[n].next_due() == office.clock.now() + timedelta(minutes=2)
    everyone = Outbox(outbox[0].db, office.clock)
    assert sorted(await everyone.due(later)) == sorted(q.delivery_id for q in queued.values())
    office.clock.set(later)
    assert await outbox[1].claim(queued[0].delivery_id) is not None  # a claim is by id: still safe
    assert await outbox[0].claim(queued[0].delivery_id) is None


async def post_poll(db: Database, office: Office, n: int) -> int:
    poll = await office.shard[n].polls.create(
        office.teams[n], USERS[0], "Job or career?", "Job|Career", duration="2h"
    )
    # Its message went out (the outbox's hook records this): now it can close at its deadline.
    await db.execute("UPDATE polls SET message_id = ? WHERE id = ?", (poll.id + 10**6, poll.id))
    return poll.id


async def test_each_shard_closes_only_its_servers_polls(db: Database, office: Office) -> None:
    polls = {n: await post_poll(db, office, n) for n in (0, 1)}
    closing = {n: office.shard[n].polls.closing for n in (0, 1)}
    for n in (0, 1):
        assert await closing[n].next_due() == office.clock.now() + timedelta(hours=1)
    office.clock.advance(hours=1, minutes=1)
    assert await closing[1].last_hour_due(office.clock.now()) == [polls[1]]
    assert await closing[0].last_hour_due(office.clock.now()) == [polls[0]]
    office.clock.advance(hours=1)
    assert await closing[0].close_due(office.clock.now()) == [polls[0]]
    assert await closing[0].next_due() is None
    assert await closing[1].next_due() is not None
    assert await closing[1].close_due(office.clock.now()) == [polls[1]]
    assert await closing[1].close_due(office.clock.now()) == []


async def write_reflections(office: Office, n: int, logic: Reflections | None = None) -> None:
    logic = logic or office.shard[n].reflections
    for user in USERS:
        await logic.write(office.teams[n], user, f"A thought of {user} in team {n}.")


async def test_each_shard_releases_only_its_servers_reflections(
    db: Database, office: Office
) -> None:
    for n in (0, 1):
        await write_reflections(office, n)
    batches = {n: office.shard[n].reflection_batches for n in (0, 1)}
    sharing = await batches[0].next_sharing(office.clock.now())
    assert sharing is not None
    office.clock.set(sharing)
    assert await batches[0].release_due(office.clock.now()) == [office.teams[0].id]
    queued = await db.fetchall("SELECT team_id FROM reflections WHERE state = 'queued'")
    assert {row[0] for row in queued} == {office.teams[0].id}
    # Shard 0's next sharing time is tomorrow; shard 1's team is still due now.
    assert await batches[1].next_sharing(office.clock.now()) == office.clock.now()
    assert (await batches[0].next_sharing(office.clock.now()) or sharing) > sharing
    assert await batches[1].release_due(office.clock.now()) == [office.teams[1].id]


async def test_each_shard_purges_and_misses_only_its_own_servers(
    db: Database, office: Office
) -> None:
    lifetime = {n: office.shard[n].lifetime for n in (0, 1)}
    # At start, shard 1's process is in none of its servers: only its own are marked missing.
    assert await lifetime[1].mark_missing_as_left([]) == [GUILD_1]
    assert await lifetime[0].mark_missing_as_left([GUILD_0]) == []
    await office.shard[0].teams.guild_left(GUILD_0)
    assert await lifetime[0].next_due() == office.clock.now() + RETENTION
    assert await lifetime[1].next_due() == office.clock.now() + RETENTION
    office.clock.advance(RETENTION + timedelta(minutes=1))
    [purged] = await lifetime[1].purge_due(office.clock.now())
    assert purged.guild_id == GUILD_1
    assert {row[0] for row in await db.fetchall("SELECT guild_id FROM teams")} == {GUILD_0}
    [purged] = await lifetime[0].purge_due(office.clock.now())
    assert purged.guild_id == GUILD_0
    assert await db.fetchall("SELECT guild_id FROM guilds") == []


# ----------------------------------------------------------------------------- overlapping


@pytest.fixture
async def other_process(database: Path | str) -> AsyncIterator[Database]:
    """A second connection to the same database, as another process has."""
    opened = await Database.open(database)
    try:
        yield opened
    finally:
        await opened.close()


async def test_two_processes_claim_each_delivery_once(
    db: Database, other_process: Database, office: Office
) -> None:
    first, second = Outbox(db, office.clock), Outbox(other_process, office.clock)
    ids = []
    for _ in range(12):
        queued = await office.shard[0].prompts.posts.queue_manual(office.teams[0].id, None)
        ids.append(queued.delivery_id)
    office.clock.advance(minutes=5)
    for delivery_id in ids:
        claims = await asyncio.gather(first.claim(delivery_id), second.claim(delivery_id))
        assert sum(claim is not None for claim in claims) == 1, delivery_id
    rows = await db.fetchall("SELECT attempts FROM deliveries WHERE state = 'sending'")
    assert sorted(row[0] for row in rows) == [1] * len(ids)


async def lock_waited_for(db: Database, task: asyncio.Task[Any]) -> bool:
    """True once a backend of this database waits for a row lock; False if `task` ended first."""
    async with asyncio.timeout(5):
        while not task.done():
            if await db.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ):
                return True
            await asyncio.sleep(0.01)
    return False


async def test_an_attempt_past_its_lease_holds_its_delivery_while_it_records_the_outcome(
    pg_url: str,
) -> None:
    """On PostgreSQL two processes' transactions run side by side: the attempt recording its
    outcome holds the row, and a take-over claimed meanwhile waits and then finds it done."""
    db, other = await Database.open(pg_url), await Database.open(pg_url)
    try:
        office = await open_office(db)
        first, second = Outbox(db, office.clock), Outbox(other, office.clock)
        queued = await office.shard[0].prompts.posts.queue_manual(office.teams[0].id, None)
        assert queued.delivery_id is not None
        delivery = await first.claim(queued.delivery_id, early=True)
        assert delivery is not None
        office.clock.advance(minutes=3)  # the attempt outlived its 2-minute lease
        async with db.transaction() as tx:
            assert await first._holds(tx, delivery) is not None
            taking_over = asyncio.create_task(second.claim(delivery.id))
            assert await lock_waited_for(db, taking_over), "the take-over went ahead"
            await tx.execute("DELETE FROM deliveries WHERE id = ?", (delivery.id,))  # delivered
        assert await taking_over is None
        assert await db.fetchval("SELECT count(*) FROM deliveries") == 0
    finally:
        await db.close()
        await other.close()


async def test_two_processes_post_each_weekly_slot_and_close_each_poll_once(
    db: Database, other_process: Database, office: Office
) -> None:
    both = [Services(db, office.clock, KEY), Services(other_process, office.clock, KEY)]
    for team in office.teams.values():
        await office.shard[0].teams.set_schedule(team.id, 0, "09:00")
    polls = [await post_poll(db, office, n) for n in (0, 1)]
    office.clock.advance(hours=2, minutes=1)
    now = office.clock.now()
    posts = await asyncio.gather(*(s.prompts.weekly.queue_due(now) for s in both))
    assert sorted(p.team_id for found in posts for p in found) == sorted(
        t.id for t in office.teams.values()
    )
    assert await teams_of_posts(db) == sorted(t.id for t in office.teams.values())
    closed = await asyncio.gather(*(s.polls.closing.close_due(now) for s in both))
    assert sorted(poll for found in closed for poll in found) == sorted(polls)
    results = await db.fetchval("SELECT count(*) FROM deliveries WHERE kind = 'poll_result'")
    assert results == len(polls)


async def test_two_processes_release_each_sharing_time_once(
    db: Database, other_process: Database, office: Office
) -> None:
    rng = random.Random(7)
    first = ReflectionBatches(db, office.clock, KEY, rng=rng)
    second = ReflectionBatches(other_process, office.clock, KEY, rng=rng)
    await write_reflections(office, 0)
    sharing = await first.next_sharing(office.clock.now())
    assert sharing is not None
    office.clock.set(sharing)
    released = await asyncio.gather(*(b.release_due(sharing) for b in (first, second)))
    # Only team 0 has reflections to release; one of the two processes did it.
    assert sorted(team for found in released for team in found) == [office.teams[0].id]
    deliveries = await db.fetchval("SELECT count(*) FROM deliveries WHERE kind = 'reflection'")
    assert deliveries == len(USERS)
    noted = await db.fetchval(
        "SELECT next_share_at FROM reflection_teams WHERE team_id = ?", (office.teams[0].id,)
    )
    assert noted == to_ts(sharing + timedelta(days=1))


# ----------------------------------------------------------------------------- the sharded bot


async def test_a_sharded_bot_still_stops_at_a_gateway_that_never_answers(
    tmp_path: Path, dd: DiscordDouble, closed_port: int
) -> None:
    """discord.py retries a shard's failed first connection forever; Breakroom's stays final."""
    unreachable = f"ws://127.0.0.1:{closed_port}/"
    settings = Settings(
        token=dd.token,
        database_path=tmp_path / "breakroom.db",
        secret=TEST_SECRET,
        gateway_url=unreachable,
        shard_count=2,
    )
    bot = create_bot(settings, clock=ManualClock())
    assert isinstance(bot, commands.AutoShardedBot)
    previous = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    apply_endpoint_settings(settings)
    try:
        await bot.login(dd.token)
        with pytest.raises(DiscordUnreachable) as caught:
            await asyncio.wait_for(bot.connect(), 10)
    finally:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = previous
        await bot.close()
    assert str(caught.value).startswith(
        f"Breakroom cannot reach Discord at {unreachable} (the gateway address in "
        "DISCORD_GATEWAY_URL): connection refused;"
    )
    assert isinstance(caught.value.__cause__, OSError)
    unsharded = create_bot(replace(settings, shard_count=None), clock=ManualClock())
    assert not isinstance(unsharded, commands.AutoShardedBot)
    await unsharded.close()
