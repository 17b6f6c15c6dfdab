"""Servers the bot is in, recorded in one transaction however many arrive at once.

At start-up Discord brings every server of the bot (thousands, for a large bot) within a second
or two, and discord.py dispatches an event for each. One write transaction per server queued
them all on the database's one writer, and those that waited past its lock wait were lost
(logged, the server's row never written). The servers that arrive while a write is under way
are written together by the next one.
"""

from __future__ import annotations

import asyncio

from bot.clock import Clock
from bot.db import Database

_JOINED = (
    "INSERT INTO guilds (guild_id, joined_at) VALUES (?, ?) "
    "ON CONFLICT (guild_id) DO UPDATE SET left_at = NULL"
)


class GuildJoins:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._pending: set[int] = set()
        self._writing = asyncio.Lock()

    async def joined(self, guild_id: int) -> None:
        """Record that the bot is in this server (again), cancelling any pending deletion of its
        data; returns once that is written (by this call or by one writing a batch with it)."""
        self._pending.add(guild_id)
        async with self._writing:
            if guild_id not in self._pending:
                return  # written with the batch before
            batch = sorted(self._pending)
            self._pending.clear()
            now = int(self.clock.now().timestamp())
            try:
                async with self.db.transaction() as tx:
                    await tx.executemany(_JOINED, [(g, now) for g in batch])
            except BaseException:
                self._pending.update(batch)  # the next caller tries them again
                raise
