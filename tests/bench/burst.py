"""The Monday-morning burst: `teams` teams in as many servers, all due at the same minute, against
the double with Discord's rate limits on (tests/double/ratelimits.py).

The database is seeded before Breakroom starts (teams, their banks, one weekly slot for all,
already due; polls in the first team's channel, their messages due at once), then Breakroom runs
as its own process. From its ready line on, members click the polls at a steady rate until every
team's thread exists. Measured, on the double's clock:

- every team's prompt post and its thread exactly once (in Discord and in the database);
- the time from the first post to the last thread against the least the limits allow: the
  requests the global limit counts in that span ÷ 50/s (or a channel's own bound, if larger);
- 429s per bucket; the clicks' latency (interaction responses are exempt from the global limit);
- the polls sharing one channel: their edits in any 5 s (the channel's edit bucket) and the
  counts they show at the end.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot.clock import SystemClock, to_ts
from bot.db import Database
from bot.polls import Polls
from bot.prompt_bank import PromptBank
from bot.secret import load_or_create_key
from bot.teams import Teams
from tests.bench import load
from tests.bench.config import DEADLINE, BenchConfig
from tests.bench.load import Ballot, Click, PhasePlan
from tests.bench.phase import quiet, shown_counts
from tests.bench.procs import BenchProcess
from tests.bench.scenario import BREAKROOM_READY, bot_env, log_problems
from tests.bench.stored import expected_counts
from tests.bench.world import OPTIONS
from tests.double import LIMITS, CallRecord, Channel, DiscordDouble, Member, Message
from tests.support import TEST_SECRET

GLOBAL = LIMITS["global"]
EDITS = LIMITS["message_edit"]


@dataclass
class BurstResult:
    teams: int
    polls: int
    ready_seconds: float = 0.0
    #: from the ready line to the first post reaching the double
    first_post_after_ready: float = math.nan
    #: first post to last thread (s), the requests the global limit counted meanwhile, and the
    #: least time they need (s)
    span: float = math.nan
    requests: int = 0
    posts_and_threads: int = 0
    minimum: float = math.nan
    #: teams with exactly one post and one thread (in Discord), and what the database says
    once: int = 0
    problems: list[str] = field(default_factory=list)
    posted_rows: int = 0
    outbox_left: int = -1
    #: 429s the double answered, per bucket
    hits: Counter[str] = field(default_factory=Counter)
    hit_names: Counter[str] = field(default_factory=Counter)
    clicks: int = 0
    answered: int = 0
    latencies: list[float] = field(default_factory=list)
    #: the shared channel's poll-message edits: the most in any window of the edit bucket, all
    #: of them, and the 429s on them
    edits_most: int = 0
    edits: int = 0
    edit_hits: int = 0
    shown_final: bool | None = None
    cpu_seconds: float = 0.0
    exit_code: int | None = None
    log: list[str] = field(default_factory=list)
    seed_seconds: float = 0.0

    @property
    def ratio(self) -> float:
        return self.span / self.minimum if self.minimum > 0 else math.nan

    def latency_ms(self, q: float) -> float:
        return 1000 * load.percentile(self.latencies, q)


@dataclass
class MondayWorld:
    channels: list[Channel]
    voters: list[Member]
    manager: Member
    poll_ids: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.channel_ids = {c.id for c in self.channels}

    @property
    def shared(self) -> Channel:
        """The first team's channel: its prompt and every poll."""
        return self.channels[0]


def build_world(dd: DiscordDouble, teams: int, voters: int) -> MondayWorld:
    """A server per team with its channel; the voters and a manager in the first server."""
    guilds = [dd.add_guild(f"Office {n + 1}") for n in range(teams)]
    channels = [dd.add_channel(guild, "front-desk") for guild in guilds]
    manager = dd.add_member(guilds[0], "manager", manager=True)
    members = [dd.add_member(guilds[0], f"clerk{n}") for n in range(voters)]
    return MondayWorld(channels, members, manager)


async def seed(world: MondayWorld, db_path: Path, polls: int) -> float:
    """Teams with their banks and one weekly slot for all, the current minute (already due when
    Breakroom starts, as after a restart at 09:00), and the polls, due to be posted at once."""
    started = time.perf_counter()
    clock = SystemClock()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    key = load_or_create_key(TEST_SECRET, db_path.with_name("unused.key"), db_path)
    db = await Database.open(db_path)
    try:
        teams, bank = Teams(db, clock), PromptBank(db, clock)
        made = []
        for channel in world.channels:
            assert channel.guild_id is not None
            made.append(await teams.create(channel.guild_id, "Front desk", channel.id))
            await bank.ensure_bank(channel.guild_id)
        now = clock.now()
        slot = now.replace(second=0, microsecond=0)
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE teams SET schedule_weekday = ?, schedule_time = ?",
                (slot.weekday(), f"{slot:%H:%M}"),
            )
            for team in made:
                await tx.execute(
                    "INSERT INTO prompt_schedules (team_id, active_since) VALUES (?, ?)",
                    (team.id, to_ts(slot - timedelta(days=1))),
                )
        poll_feature = Polls(db, clock, key)
        for n in range(polls):
            poll = await poll_feature.create(
                made[0], world.manager.id, f"Monday question {n + 1}?", " | ".join(OPTIONS)
            )
            world.poll_ids.append(poll.id)
        # /poll create would post them at once (its member waiting): due now, not after a lease
        await db.execute("UPDATE deliveries SET due_at = ?", (to_ts(now) - 1,))
        await db.checkpoint()
    finally:
        await db.close()
    return time.perf_counter() - started


def is_poll(message: Message, poll_id: int) -> bool:
    return any(
        str(b.get("custom_id") or "").startswith(f"breakroom:poll:{poll_id}:")
        for b in message.buttons()
    )


def posts_of(calls: list[CallRecord], channel: Channel) -> list[CallRecord]:
    path = f"/channels/{channel.id}/messages"
    return [c for c in calls if c.method == "POST" and c.path == path and c.status < 300]


def threads_of(calls: list[CallRecord], channel: Channel) -> list[CallRecord]:
    prefix = f"/channels/{channel.id}/messages/"
    return [
        c
        for c in calls
        if c.method == "POST"
        and c.path.startswith(prefix)
        and c.path.endswith("/threads")
        and c.status < 300
    ]


def opened(dd: DiscordDouble, world: MondayWorld) -> int:
    """How many of the teams' channels have a thread (cheap: the double re-checks it on every
    request it answers, and a busy double would slow the bot's round trips)."""
    wanted = world.channel_ids
    return len({c.parent_id for c in dd._channels.values() if c.is_thread} & wanted)


def counted(call: CallRecord) -> bool:
    """Is the request in the global limit (all but the interaction endpoints, and a 429)?"""
    return call.status != 429 and not call.path.startswith(("/interactions/", "/webhooks/"))


def most_in_window(times: list[float], per: float) -> int:
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - per:
            first += 1
        most = max(most, last - first + 1)
    return most


def channel_bound(counts: list[int], limit: int, per: float) -> float:
    """The least time the busiest channel needs for its sends: n in windows of `limit`."""
    return max(((math.ceil(n / limit) - 1) * per for n in counts if n), default=0.0)


class Clicker:
    """Members clicking the polls at a steady rate (single-choice rules: vote, move, remove),
    in rounds of a second built ahead of time."""

    def __init__(self, dd: DiscordDouble, world: MondayWorld, messages: list[Message]) -> None:
        self.dd, self.world, self.messages = dd, world, messages
        self.rng = random.Random(17)
        self.ballots = [Ballot() for _ in messages]
        self.route = {m.id: n % len(messages) for n, m in enumerate(world.voters)}
        self.clicks: list[Click] = []
        self.turn = 0

    async def run(self, rate: float, done: asyncio.Event) -> None:
        per_round = max(1, round(rate))
        while not done.is_set():
            planned = []
            for _ in range(per_round):
                member = self.world.voters[self.turn % len(self.world.voters)]
                self.turn += 1
                ballot = self.ballots[self.route[member.id]]
                planned.append(ballot.click(member, self.rng.choice(OPTIONS)))
            plan = PhasePlan("monday", rate, tuple(planned), {})
            batch = load.prebuild(self.dd, self.messages, plan, self.route)
            self.clicks += batch
            await load.send(self.dd, batch, rate)

    def final(self, n: int) -> dict[str, int]:
        return expected_counts(self.ballots[n].choice)


async def run_burst(config: BenchConfig, folder: Path) -> BurstResult:
    result = BurstResult(config.monday, config.monday_polls)
    async with DiscordDouble(rate_limits=True) as dd:
        world = build_world(dd, config.monday, config.monday_voters)
        db_path = folder / "monday" / "data" / "breakroom.db"
        result.seed_seconds = await seed(world, db_path, config.monday_polls)
        process = BenchProcess("bot", bot_env(dd, db_path), db_path.parent.parent)
        await process.start()
        done = asyncio.Event()
        clicker: Clicker | None = None
        ready_at = 0.0
        try:
            result.ready_seconds = await process.wait_for_line(BREAKROOM_READY, timeout=180)
            ready_at = asyncio.get_running_loop().time()
            cpu_before = process.cpu_seconds()
            messages = []
            for poll_id in world.poll_ids:
                messages.append(
                    await dd.wait_for_message(
                        world.shared, lambda m, p=poll_id: is_poll(m, p), timeout=60
                    )
                )
            clicker = Clicker(dd, world, messages)
            clicking = asyncio.create_task(clicker.run(config.monday_click_rate, done))
            limit = 60 + 3 * 2 * config.monday / GLOBAL.limit
            try:
                await dd.wait_until(
                    lambda: opened(dd, world) == len(world.channels),
                    timeout=limit,
                    what="every team's thread",
                )
            except AssertionError as error:
                result.problems.append(str(error).split("\n")[0])
            done.set()
            await clicking
            await load.wait_answered(clicker.clicks, DEADLINE + 2.0)
            finals = [clicker.final(n) for n in range(len(messages))]
            try:
                await dd.wait_until(
                    lambda: all(
                        shown_counts(dd.message(m.id)) == want
                        for m, want in zip(messages, finals, strict=True)
                    ),
                    timeout=EDITS.per + 10,
                    what="the polls to show the final counts",
                )
                result.shown_final = True
            except AssertionError:
                result.shown_final = False
            await quiet(dd, messages, config.quiet)
            result.cpu_seconds = process.cpu_seconds() - cpu_before
            result.outbox_left, result.posted_rows = await stored(db_path)
        finally:
            done.set()
            result.exit_code = await process.stop()
        result.log = log_problems(process.lines)
        measure(result, dd, world, ready_at, clicker)
    return result


async def stored(db_path: Path) -> tuple[int, int]:
    """Deliveries left in the outbox, and prompt posts the database holds as posted."""
    db = await Database.open(db_path)
    try:
        left = await db.fetchval("SELECT COUNT(*) FROM deliveries")
        posted = await db.fetchval("SELECT COUNT(*) FROM prompt_posts WHERE state = 'posted'")
    finally:
        await db.close()
    return int(left), int(posted)


def measure(
    result: BurstResult,
    dd: DiscordDouble,
    world: MondayWorld,
    ready_at: float,
    clicker: Clicker | None,
) -> None:
    calls = list(dd.calls)
    posts = [posts_of(calls, c) for c in world.channels]
    threads = [threads_of(calls, c) for c in world.channels]
    prompt_posts = [
        [c for c in found if c.json and "breakroom:answer:" in str(c.json)] for found in posts
    ]
    for channel, sent, opened in zip(world.channels, prompt_posts, threads, strict=True):
        if len(sent) == 1 and len(opened) == 1:
            result.once += 1
        elif len(result.problems) < 5:
            result.problems.append(
                f"#{channel.name} of server {channel.guild_id}: {len(sent)} posts, "
                f"{len(opened)} threads"
            )
    firsts = [c.at for found in prompt_posts for c in found]
    lasts = [c.at for found in threads for c in found]
    if firsts and lasts:
        start, end = min(firsts), max(lasts)
        result.first_post_after_ready = start - ready_at
        result.span = end - start
        during = [c for c in calls if start <= c.at <= end and counted(c)]
        result.requests = len(during)
        result.posts_and_threads = len(firsts) + len(lasts)
        bound = channel_bound([len(p) for p in posts], LIMITS["message_create"].limit, 5.0)
        result.minimum = max((result.requests - 1) / GLOBAL.limit, bound)
    result.hits = Counter(hit.bucket for hit in dd.rate_limits.hits)
    result.hit_names = Counter(hit.limit for hit in dd.rate_limits.hits)
    edit_paths = [f"/channels/{world.shared.id}/messages/"]
    edits = [
        c
        for c in calls
        if c.method == "PATCH" and c.path.startswith(edit_paths[0]) and c.status < 300
    ]
    result.edits = len(edits)
    result.edits_most = most_in_window([c.at for c in edits], EDITS.per)
    result.edit_hits = sum(
        1
        for hit in dd.rate_limits.hits
        if hit.limit == "message_edit" and hit.path.startswith(edit_paths[0])
    )
    if clicker is not None:
        answered = [c for c in clicker.clicks if c.ix.acknowledged and c.ix.latency is not None]
        result.clicks = len(clicker.clicks)
        result.answered = len(answered)
        result.latencies = sorted(c.ix.latency or 0.0 for c in answered)
