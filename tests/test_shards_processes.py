"""Two `python -m bot` processes, one shard each of two, on one PostgreSQL, against the double
with 200 servers: every weekly post goes out once, votes in both shards' servers are counted
exactly, and after `kill -9` of one process the other, restarted with both shards, takes its work
over with nothing lost or doubled.

PostgreSQL only (it is about processes sharing one database): the test takes a fresh, empty
database from `pg_url`. The processes run on the real clock, so what must be due is written into
the database as another process would: each team's weekly slot a couple of minutes ago, and later
the polls' deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import ManualClock, to_ts
from bot.db import Database
from bot.teams import Teams
from tests.double import Channel, DiscordDouble, Guild, Member, Message, shard_of
from tests.faults_process import READY, bot_env, create_team_and_poll, said
from tests.poll_posts import footer, has_poll_buttons
from tests.process import BotProcess

SERVERS = 200
POLL_SERVERS_PER_SHARD = 2
VOTERS = 3


def shard_env(dd: DiscordDouble, url: str, tmp_path: Path, ids: str) -> dict[str, str]:
    env = bot_env(dd, tmp_path / "unused.db")
    env.update({"DATABASE_URL": url, "SHARD_COUNT": "2", "SHARD_IDS": ids})
    return env


def prompt_posts(dd: DiscordDouble, channel: Channel) -> list[Message]:
    return [
        m
        for m in dd.messages(channel)
        if any(str(b["custom_id"] or "").startswith("breakroom:answer:") for b in m.buttons())
    ]


def results(dd: DiscordDouble, channel: Channel, poll_id: int) -> list[Message]:
    return [
        m
        for m in dd.messages(channel)
        if footer(m).startswith(f"Poll #{poll_id} ") and not has_poll_buttons(m)
    ]


def no_errors(process: BotProcess) -> None:
    bad = [line for line in process.lines if " ERROR " in line or "Traceback" in line]
    assert not bad, process.output[-4000:]


@contextlib.asynccontextmanager
async def started(*processes: BotProcess) -> AsyncIterator[None]:
    try:
        for process in processes:
            await process.start()
        yield
    finally:
        for process in processes:
            process.kill()
            with contextlib.suppress(TimeoutError, AssertionError):
                await process.wait(timeout=10)


async def schedule_teams(url: str, desks: dict[int, Channel], slot: datetime) -> None:
    """A team in every server whose weekly slot is `slot` (a minute or two ago, real time),
    set an hour before it: written by the feature code, as another process would."""
    db = await Database.open(url)
    try:
        teams = Teams(db, ManualClock(slot - timedelta(hours=1)))
        for guild_id, desk in desks.items():
            team = await teams.create(guild_id, "Weekly", desk.id)
            await teams.set_schedule(team.id, slot.weekday(), f"{slot:%H:%M}")
    finally:
        await db.close()


async def write(url: str, sql: str, *params: object) -> None:
    db = await Database.open(url)
    try:
        await db.execute(sql, params)
    finally:
        await db.close()


async def fetchall(url: str, sql: str, *params: object) -> list[tuple[object, ...]]:
    db = await Database.open(url)
    try:
        return [tuple(row) for row in await db.fetchall(sql, params)]
    finally:
        await db.close()


async def test_two_shard_processes_post_once_count_votes_and_take_over(
    pg_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    first_slot, second_slot = now - timedelta(minutes=2), now - timedelta(minutes=1)
    async with DiscordDouble(recommended_shards=2) as dd:
        guilds: list[Guild] = [dd.add_guild(f"Office {n}") for n in range(SERVERS)]
        desks = {g.id: dd.add_channel(g, "desk") for g in guilds}
        polling: list[tuple[Guild, Channel, Member, list[Member]]] = []
        for shard in (0, 1):
            for guild in [g for g in guilds if shard_of(g.id, 2) == shard][:POLL_SERVERS_PER_SHARD]:
                voters = [dd.add_member(guild, f"voter{n}") for n in range(VOTERS)]
                manager = dd.add_member(guild, "manager", manager=True)
                polling.append((guild, dd.add_channel(guild, "polls"), manager, voters))
        await schedule_teams(pg_url, desks, first_slot)

        zero = BotProcess(shard_env(dd, pg_url, tmp_path, "0"), tmp_path)
        one = BotProcess(shard_env(dd, pg_url, tmp_path, "1"), tmp_path)
        async with started(zero, one):
            await zero.wait_for_line(rf"{READY} in {SERVERS // 2} servers \(shards 0 of 2\)")
            await one.wait_for_line(rf"{READY} in {SERVERS // 2} servers \(shards 1 of 2\)")
            # Only shard 0's process syncs the commands.
            await zero.wait_for_line(r"synced \d+ commands|command tree unchanged")
            await one.wait_for_line("the process running shard 0 syncs the commands")

            # Every team's weekly slot is due: each process posts its own shard's, once.
            await dd.wait_until(
                lambda: all(len(prompt_posts(dd, d)) >= 1 for d in desks.values()),
                timeout=30,
                what="every server's weekly post",
            )

            # Polls in both shards' servers; every click is counted, once.
            polls: list[tuple[int, Channel]] = []
            for _guild, channel, manager, voters in polling:
                poll_id, message = await create_team_and_poll(dd, manager, channel)
                polls.append((poll_id, channel))
                for n, voter in enumerate(voters):
                    option = 0 if n < 2 else 1  # Job twice, Career once
                    ix = await dd.click(voter, message, message.buttons()[option]["custom_id"])
                    assert "✅ Voted" in await said(ix)
            counted = await fetchall(
                pg_url,
                "SELECT poll_id, count(*) FROM poll_votes GROUP BY poll_id ORDER BY poll_id",
            )
            assert counted == sorted((poll_id, VOTERS) for poll_id, _ in polls)

            # Shard 1's process dies; meanwhile its servers' next slot and the polls' deadline
            # come (written as a manager's edit in another process would).
            one.kill()
            assert await one.wait(timeout=10) == -signal.SIGKILL
            await write(
                pg_url,
                "UPDATE teams SET schedule_weekday = ?, schedule_time = ? WHERE name = 'Weekly'",
                second_slot.weekday(),
                f"{second_slot:%H:%M}",
            )
            closed = to_ts(datetime.now(UTC)) - 1  # as if asked an hour ago, for an hour
            await write(
                pg_url, "UPDATE polls SET created_at = ?, closes_at = ?", closed - 3600, closed
            )

            # Woken (a new poll's deadline), shard 0's process does its own shard's due work
            # and none of the dead one's.
            _guild, channel, manager, _voters = polling[0]
            assert shard_of(_guild.id, 2) == 0
            ix = await dd.slash(
                manager,
                "poll create",
                channel=channel,
                question="Lunch?",
                options={"options": "Yes | No"},
            )
            assert "poll #" in await said(ix)
            on = {n: [d for g, d in desks.items() if shard_of(g, 2) == n] for n in (0, 1)}
            polls_on = {
                n: [(p, c) for p, c in polls if shard_of(c.guild_id, 2) == n] for n in (0, 1)
            }
            await dd.wait_until(
                lambda: (
                    all(len(prompt_posts(dd, d)) == 2 for d in on[0])
                    and all(results(dd, c, p) for p, c in polls_on[0])
                ),
                timeout=20,
                what="shard 0's second posts and poll results",
            )
            await asyncio.sleep(1)
            assert {len(prompt_posts(dd, d)) for d in on[1]} == {1}
            assert all(results(dd, c, p) == [] for p, c in polls_on[1])

            # The remaining process restarts with both shards and takes the dead one's work over.
            zero.signal(signal.SIGINT)
            assert await zero.wait(timeout=15) == 0
            no_errors(zero)
            both = BotProcess(shard_env(dd, pg_url, tmp_path, "0-1"), tmp_path)
            async with started(both):
                await both.wait_for_line(
                    rf"{READY} in {SERVERS} servers \(shards 0,1 of 2\)", timeout=30
                )
                await dd.wait_until(
                    lambda: (
                        all(len(prompt_posts(dd, d)) >= 2 for d in desks.values())
                        and all(results(dd, channel, poll_id) for poll_id, channel in polls)
                    ),
                    timeout=30,
                    what="every server's second post and every poll's result",
                )
                await asyncio.sleep(1)  # anything doubled would have arrived by now
                assert {len(prompt_posts(dd, d)) for d in desks.values()} == {2}
                for poll_id, channel in polls:
                    [result] = results(dd, channel, poll_id)
                    assert "**Job** wins with 67%" in result.text, result.text
                posted = await fetchall(
                    pg_url,
                    "SELECT count(*), count(DISTINCT team_id) FROM prompt_posts"
                    " WHERE state = 'posted' AND slot_at IS NOT NULL",
                )
                assert posted == [(2 * SERVERS, SERVERS)]
                no_errors(both)
