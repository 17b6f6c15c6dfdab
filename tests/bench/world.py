"""The benchmark's world: servers, team channels and members in the double, and a database
seeded through the feature logic (teams and polls with their votes) before the bot starts."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.clock import SystemClock
from bot.db import Database
from bot.poll_model import Poll
from bot.polls import Polls
from bot.secret import load_or_create_key
from bot.teams import Teams
from tests.double import Channel, DiscordDouble, Guild, Member, shard_of
from tests.support import TEST_SECRET, click, poll_posted

#: the voted poll's options; its buttons are clicked by label
OPTIONS = ("Job", "Career", "Both")
SEEDED_OPTIONS = "Job | Career | Both | Not sure"


@dataclass(frozen=True, slots=True)
class WorldSize:
    guilds: int = 50
    teams_per_guild: int = 5
    seeded_votes: int = 10_000
    #: members who click in the benchmark (members of the first server, and of the first
    #: server of shard 1 of 2, so that two shard processes can share the clicks)
    voters: int = 1_000


@dataclass
class BenchWorld:
    dd: DiscordDouble
    db_path: Path
    guilds: list[Guild]
    #: team channels, per server
    channels: list[list[Channel]]
    managers: list[Member]
    voters: list[Member]
    seeded_polls: int = 0
    seeded_votes: int = 0
    seed_seconds: float = 0.0
    team_ids: list[int] = field(default_factory=list)
    #: with two shards: the index in `guilds` of a server of shard 0 and of one of shard 1
    #: (the first server, and the first of shard 1), whose members the voters all are
    shard_guilds: tuple[int, int] | None = None

    @property
    def poll_guild(self) -> Guild:
        return self.guilds[0]

    @property
    def poll_channel(self) -> Channel:
        return self.channels[0][0]

    @property
    def poll_manager(self) -> Member:
        return self.managers[0]


Offices = tuple[list[Guild], list[list[Channel]], list[Member], list[Member]]


def offices(dd: DiscordDouble, guilds: int, teams_per_guild: int, voters: int) -> Offices:
    """Servers ("Office 1" …) with a channel per team ("team-1" …) and a manager each, and
    `voters` members of the first server: the servers, their channels, managers and voters."""
    made: list[Guild] = []
    channels: list[list[Channel]] = []
    managers: list[Member] = []
    for g in range(guilds):
        guild = dd.add_guild(f"Office {g + 1}")
        made.append(guild)
        channels.append([dd.add_channel(guild, f"team-{t + 1}") for t in range(teams_per_guild)])
        managers.append(dd.add_member(guild, f"manager{g + 1}", manager=True))
    clerks = [dd.add_member(made[0], f"clerk{n}") for n in range(voters)]
    return made, channels, managers, clerks


def build_double_world(dd: DiscordDouble, db_path: Path, size: WorldSize) -> BenchWorld:
    """Servers with a channel per team and a manager each; the voters join the first server,
    and the first server of shard 1 (of 2) too, for the two shard processes' polls.

    Built before any bot connects, so it all arrives in the GUILD_CREATEs (no per-member events).
    """
    guilds, channels, managers, voters = offices(dd, size.guilds, size.teams_per_guild, size.voters)
    world = BenchWorld(dd, db_path, guilds, channels, managers, voters)
    on_shard = [
        next((n for n, g in enumerate(guilds) if shard_of(g.id, 2) == s), None) for s in (0, 1)
    ]
    if on_shard[0] is not None and on_shard[1] is not None:
        world.shard_guilds = (on_shard[0], on_shard[1])
        other = guilds[on_shard[1]] if on_shard[0] == 0 else guilds[on_shard[0]]
        for voter in voters:
            dd.add_member(other, voter.name, user_id=voter.id)
    return world


async def seed_database(world: BenchWorld, size: WorldSize) -> None:
    """Teams and polls for every server, and `seeded_votes` votes, through bot/teams.py and
    bot/polls.py (the same code the bot runs), on the file the bot will open."""
    started = time.perf_counter()
    clock = SystemClock()
    key = load_or_create_key(TEST_SECRET, world.db_path.with_name("unused.key"), world.db_path)
    db = await Database.open(world.db_path)
    try:
        teams = Teams(db, clock)
        polls = Polls(db, clock, key)
        created: list[Poll] = []
        for guild, guild_channels, manager in zip(
            world.guilds, world.channels, world.managers, strict=True
        ):
            for t, channel in enumerate(guild_channels):
                team = await teams.create(guild.id, f"Team {t + 1}", channel.id)
                world.team_ids.append(team.id)
                # One named and one anonymous poll per team: both vote tables hold data.
                for anonymous in (False, True):
                    poll = await polls.create(
                        team,
                        manager.id,
                        f"Seeded question {len(created) + 1}?",
                        SEEDED_OPTIONS,
                        anonymous=anonymous,
                        duration="4w",
                    )
                    # A message id the double doesn't know: nothing refreshes these polls.
                    await poll_posted(polls, poll.id, channel.id, 10**17 + poll.id)
                    created.append(poll)
        rng = random.Random(7)
        per_poll = -(-size.seeded_votes // max(1, len(created)))
        votes = 0
        for poll in created:
            for n in range(min(per_poll, size.seeded_votes - votes)):
                option = rng.choice(poll.options)
                # Voters other than the benchmark's members: ids the double never uses.
                await click(polls, poll.id, option.id, poll.guild_id, 9 * 10**17 + n)
                votes += 1
        world.seeded_polls = len(created)
        world.seeded_votes = votes
        await db.checkpoint()
    finally:
        await db.close()
    world.seed_seconds = time.perf_counter() - started
