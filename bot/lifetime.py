"""How long Breakroom keeps data.

- A team's data stays until a manager deletes the team (ON DELETE CASCADE does the rest).
- When the bot is removed from a server, `Teams.guild_left` records when; 30 days later the
  scheduler job here deletes everything of that server: its teams (and through them their posts,
  answers, polls, votes and reflections) and its prompt bank. If the bot comes back first,
  `Teams.guild_joined` clears the date and nothing is deleted.
- A bot that was removed while it was offline never hears about it: `mark_missing_as_left`,
  called when the bot is ready, starts the 30 days for servers it is no longer in.

Plain async Python over the database; nothing from discord.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.clock import Clock
from bot.db import Database
from bot.sharding import EVERY_SERVER, Shards

log = logging.getLogger(__name__)

RETENTION = timedelta(days=30)


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True, slots=True)
class Purged:
    """A server whose data was deleted."""

    guild_id: int
    teams: int
    prompts: int


class Lifetime:
    def __init__(self, db: Database, clock: Clock, shards: Shards = EVERY_SERVER) -> None:
        self.db = db
        self.clock = clock
        #: only these shards' servers are this process's to purge, or to find missing: a shard
        #: process is told of its own shards' servers only
        self.shards = shards

    async def purge_due(self, now: datetime) -> list[Purged]:
        """Delete the data of every server the bot left at least `RETENTION` ago."""
        cutoff = _ts(now - RETENTION)
        ours, params = self.shards.where("guild_id")
        rows = await self.db.fetchall(
            f"SELECT guild_id FROM guilds WHERE left_at IS NOT NULL AND left_at <= ? AND {ours}"
            " ORDER BY left_at",
            (cutoff, *params),
        )
        purged: list[Purged] = []
        for row in rows:
            done = await self._purge(row[0], cutoff)
            if done is not None:
                purged.append(done)
                log.info(
                    "deleted the data of server %s, left over %s days ago (%d teams)",
                    done.guild_id,
                    RETENTION.days,
                    done.teams,
                )
        return purged

    async def _purge(self, guild_id: int, cutoff: int) -> Purged | None:
        async with self.db.transaction() as tx:
            # Checked again inside the transaction: the bot may have been added back meanwhile.
            still_gone = await tx.fetchval(
                "SELECT 1 FROM guilds WHERE guild_id = ? AND left_at IS NOT NULL AND left_at <= ?",
                (guild_id, cutoff),
            )
            if not still_gone:
                return None
            tx.mark_sensitive()  # what is deleted must not stay readable in the WAL
            teams = await tx.execute("DELETE FROM teams WHERE guild_id = ?", (guild_id,))
            prompts = await tx.execute("DELETE FROM prompts WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM prompt_banks WHERE guild_id = ?", (guild_id,))
            await tx.execute("DELETE FROM guilds WHERE guild_id = ?", (guild_id,))
        return Purged(guild_id, teams, prompts)

    async def next_due(self) -> datetime | None:
        ours, params = self.shards.where("guild_id")
        left = await self.db.fetchval(
            f"SELECT MIN(left_at) FROM guilds WHERE left_at IS NOT NULL AND {ours}", params
        )
        return None if left is None else datetime.fromtimestamp(left, UTC) + RETENTION

    async def run_due(self, now: datetime) -> datetime | None:
        """The scheduler job "lifetime"."""
        await self.purge_due(now)
        return await self.next_due()

    async def mark_missing_as_left(self, present: Iterable[int]) -> list[int]:
        """Servers with data that the bot is no longer in (removed while it was offline): their
        30 days start now. Returns their ids. `present`: the servers of this process's shards
        (the others' are other processes' to judge)."""
        here = set(present)
        now = _ts(self.clock.now())
        ours, params = self.shards.where("guild_id")
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                f"SELECT guild_id FROM guilds WHERE left_at IS NULL AND {ours}", params
            )
            missing = [row[0] for row in rows if row[0] not in here]
            await tx.executemany(
                "UPDATE guilds SET left_at = ? WHERE guild_id = ? AND left_at IS NULL",
                [(now, guild_id) for guild_id in missing],
            )
        return missing
