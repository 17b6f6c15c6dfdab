"""Helpers for end-to-end tests: start the real Breakroom bot against the Discord double."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import struct
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import discord
import yarl

from bot.client import Breakroom
from bot.clock import ManualClock
from bot.config import Settings
from bot.db import Database
from bot.errors import UserError
from bot.migrations import MIGRATIONS_DIR
from bot.outbox import Outbox, Sent
from bot.poll_model import Vote, VoteRequest
from bot.poll_store import POST as POLL_POST
from bot.polls import Polls
from bot.prompt_posts import KIND as PROMPT_POST
from bot.prompt_posts import Post
from bot.prompts import Prompts
from bot.reflection_batches import ReflectionBatches
from bot.reflection_text import Reflection
from tests.double import Channel, DiscordDouble, Guild, Member

TEST_SECRET = "test-secret-" + "k" * 40
#: What the schema's rules raise when they refuse a row, on SQLite and on PostgreSQL
REFUSED_BY_SCHEMA = (
    sqlite3.IntegrityError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.RaiseError,
)


@asynccontextmanager
async def endpoints(dd: DiscordDouble) -> AsyncIterator[None]:
    """Point discord.py at the double (what DISCORD_API_BASE / DISCORD_GATEWAY_URL do)."""
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = dd.api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(dd.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


class PassProbe:
    """A scheduler job that only notes the time of each pass. Registered `last=True` after the
    others (the outbox's job included) it runs last: once it has seen a pass, the pass is done."""

    def __init__(self) -> None:
        self.seen: list[datetime] = []
        self._changed = asyncio.Condition()

    async def __call__(self, now: datetime) -> datetime | None:
        async with self._changed:
            self.seen.append(now)
            self._changed.notify_all()
        return None  # nothing of its own due: the scheduler's times are the other jobs'

    async def wait_for(self, passes: int, timeout: float = 10) -> None:
        """Wait until the probe has seen `passes` passes in all."""

        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.seen) >= passes)

        await asyncio.wait_for(enough(), timeout)


class RunningBot:
    """A Breakroom bot connected to the double inside the test's event loop."""

    def __init__(self, bot: Breakroom, task: asyncio.Task[None]) -> None:
        self.bot = bot
        self.task = task

    async def stop(self) -> None:
        await self.bot.close()
        try:
            await asyncio.wait_for(self.task, 10)
        except (asyncio.CancelledError, TimeoutError):
            self.task.cancel()


async def start_bot(
    dd: DiscordDouble, database_path: Path, clock: ManualClock, **settings: Any
) -> RunningBot:
    config = Settings(
        token=dd.token,
        database_path=database_path,
        api_base=dd.api_base,
        gateway_url=dd.gateway_url,
        secret=settings.pop("secret", TEST_SECRET),
        **settings,
    )
    bot = Breakroom(config, clock=clock, guild_ready_timeout=0.05)
    await bot.login(dd.token)
    task = asyncio.create_task(bot.connect(reconnect=True), name="test-bot")
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 15)
    except BaseException:
        await bot.close()
        task.cancel()
        raise
    return RunningBot(bot, task)


@dataclass
class World:
    """A server with a team channel, a manager and three members, and Breakroom running."""

    dd: DiscordDouble
    clock: ManualClock
    db_path: Path
    guild: Guild
    channel: Channel
    manager: Member
    members: list[Member]
    #: set when the test runs on PostgreSQL (then db_path is not used)
    database_url: str | None = None
    running: RunningBot | None = None
    stopped: list[RunningBot] = field(default_factory=list)

    @property
    def database(self) -> Path | str:
        """What `Database.open` is given for this world's database (a file or a URL)."""
        return self.database_url or self.db_path

    @property
    def bot(self) -> Breakroom:
        assert self.running is not None, "the bot is stopped"
        return self.running.bot

    async def start(self) -> Breakroom:
        self.running = await start_bot(
            self.dd, self.db_path, self.clock, database_url=self.database_url
        )
        return self.running.bot

    async def stop(self) -> None:
        if self.running is not None:
            await self.running.stop()
            self.stopped.append(self.running)
            self.running = None

    async def restart(self) -> Breakroom:
        await self.stop()
        return await self.start()

    async def run_scheduler(self) -> None:
        """One scheduler pass at the clock's current time (what the loop does when it wakes)."""
        await self.bot.scheduler.run_pass()

    async def next_sharing_time(self) -> datetime:
        """When reflections are next shared (the earliest team's sharing time)."""
        found: Any = self.bot.get_cog("Reflections")
        at: datetime | None = await found.batches.next_sharing(self.clock.now())
        assert at is not None, "no team"
        return max(at, self.clock.now())  # one already due is shared at the next pass

    async def share_reflections(self) -> None:
        """The sharing time comes (17:00 team time by default) and the scheduler's pass runs
        then: complete batches of reflections are posted."""
        self.clock.set(await self.next_sharing_time())
        await self.run_scheduler()


async def share_and_post(
    db: Database, clock: ManualClock, key: bytes, team_id: int, channel_id: int, first: int = 900
) -> list[Reflection]:
    """What the reflections job and the outbox do at the next sharing time, minus Discord:
    release the complete batches, then post them (`post_released`)."""
    batches = ReflectionBatches(db, clock, key)
    at = await batches.next_sharing(clock.now())
    assert at is not None, "no team"
    clock.set(max(at, clock.now()))  # one already due is shared at the next pass
    await batches.release_due(clock.now())
    return await post_released(batches, team_id, channel_id, first)


async def post_released(
    batches: ReflectionBatches, team_id: int, channel_id: int, first: int = 900
) -> list[Reflection]:
    """What the outbox's job does with the team's released reflections, minus Discord: each
    delivery, in the outbox's order, claimed → "sent" (message ids from `first` on) →
    recorded. Returns them in that order."""
    rows = await batches.db.fetchall(
        "SELECT id, subject FROM deliveries WHERE kind = 'reflection' AND team_id = ?"
        " ORDER BY due_at, id",
        (team_id,),
    )
    posted = []
    for number, row in enumerate(rows, start=first):
        delivery = await batches.outbox.claim(row["id"])
        assert delivery is not None
        reflection = await batches.to_post(row["subject"])
        assert reflection is not None
        assert await batches.outbox.delivered(delivery, Sent(number, channel_id))
        posted.append(reflection)
    return posted


#: Breakroom's tables on PostgreSQL (not `breakroom_schema`, the version's own table)
PG_TABLES = (
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    " AND tablename != 'breakroom_schema' ORDER BY tablename"
)


async def table_names(db: Database) -> list[str]:
    """The names of Breakroom's tables (not the database's own), on either backend."""
    if db.backend == "sqlite":
        sql = (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    else:
        sql = PG_TABLES
    return [row[0] for row in await db.fetchall(sql)]


async def database_before(tmp_path: Path, version: int) -> tuple[Database, Path]:
    """A database as an older Breakroom left it: only the migrations before `version` applied."""
    old_migrations = tmp_path / "old-migrations"
    old_migrations.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if int(path.name[:4]) < version:
            shutil.copy(path, old_migrations / path.name)
    db_path = tmp_path / "office.db"
    return await Database.open(db_path, migrations_dir=old_migrations), db_path


async def delivered_without_discord(
    outbox: Outbox, kind: str, subject: int, message_id: int, channel_id: int
) -> None:
    """What the courier does once Discord has a delivery, minus Discord: claim it, record it."""
    delivery_id = await outbox.pending(kind, subject)
    assert delivery_id is not None, f"no {kind} {subject} in the outbox"
    delivery = await outbox.claim(delivery_id, early=True)
    assert delivery is not None
    assert await outbox.delivered(delivery, Sent(message_id, channel_id))


async def prompt_posted(prompts: Prompts, post: Post, message_id: int) -> Post:
    """A queued prompt post, posted (as message `message_id`) through the outbox."""
    await delivered_without_discord(
        prompts.outbox, PROMPT_POST, post.id, message_id, post.channel_id
    )
    return await prompts.posts.get_post(post.guild_id, post.id)


async def poll_posted(polls: Polls, poll_id: int, channel_id: int, message_id: int) -> None:
    """A new poll's message, posted through the outbox."""
    await delivered_without_discord(polls.outbox, POLL_POST, poll_id, message_id, channel_id)


async def click(polls: Polls, poll_id: int, option_id: int, guild_id: int, user_id: int) -> Vote:
    """One click on a poll's option button, written as a batch of its own (what `VoteQueue`
    does with a lone click, minus the queue); raises the UserError if it is refused."""
    [result] = await polls.vote_many([VoteRequest(poll_id, option_id, guild_id, user_id)])
    if isinstance(result, UserError):
        raise result
    return result


def id_patterns(user_id: int) -> list[bytes]:
    """A Discord id as SQLite could store it: text, and big-endian 8-byte integer."""
    return [str(user_id).encode(), struct.pack(">q", user_id), struct.pack("<q", user_id)]


def files_containing(paths: Iterable[Path], needle: bytes) -> list[Path]:
    return [p for p in paths if p.exists() and needle in p.read_bytes()]


def database_files(db_path: Path) -> list[Path]:
    return [
        db_path,
        db_path.with_name(db_path.name + "-wal"),
        db_path.with_name(db_path.name + "-shm"),
    ]
