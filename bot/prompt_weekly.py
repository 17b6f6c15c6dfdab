"""Discussion prompts, the weekly schedule: what the prompts job must post at a given moment —
each team's current slot, once, ever — queued in the outbox, which sends it (retries, a run that
stopped mid-post and giving up are the outbox's: bot/outbox.py).

Feature logic only: plain async Python over the database, nothing from discord. How a post is
queued and recorded is `bot/prompt_posts.py`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock, to_ts
from bot.db import Database, Row
from bot.outbox import Outbox
from bot.prompt_bank import NO_PROMPTS, PromptBank, next_in_rotation
from bot.prompt_posts import Post, queue_post
from bot.schedule import due_slot, next_slots
from bot.sharding import EVERY_SERVER, Shards
from bot.teams import Team


class WeeklyPosts:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        bank: PromptBank,
        outbox: Outbox,
        shards: Shards = EVERY_SERVER,
    ) -> None:
        self.db = db
        self.clock = clock
        self.bank = bank
        self.outbox = outbox
        #: only these shards' servers' teams are this process's to post for
        self.shards = shards
        #: the slot arithmetic, kept per team until its next slot (bot/schedule.py is exact but
        #: takes a while for thousands of teams, each scheduler pass)
        self._slots = _Slots()

    async def queue_due(self, now: datetime) -> list[Post]:
        """Queue each team's slot due at `now` (once, ever: of two passes or runs, one does)."""
        ours, params = self.shards.where("t.guild_id")
        rows = await self.db.fetchall(
            "SELECT t.id, t.guild_id, t.schedule_weekday, t.schedule_time, t.timezone,"
            " t.created_at, s.active_since FROM teams t"
            " LEFT JOIN prompt_schedules s ON s.team_id = t.id"
            " WHERE t.schedule_weekday IS NOT NULL AND t.schedule_time IS NOT NULL"
            f" AND {ours} ORDER BY t.id",
            params,
        )
        # Only the teams whose slot is due now get a transaction (each checks again in its own):
        # worked out off the event loop, as thousands of teams take a while.
        teams = await asyncio.to_thread(self._slots.due_teams, rows, now)
        for guild_id in sorted({guild_id for _team_id, guild_id in teams}):
            await self.bank.ensure_bank(guild_id)
        queued: list[Post] = []
        for team_id, _guild_id in teams:
            post = await self._queue_slot(team_id, now)
            if post is not None:
                queued.append(post)
        return queued

    async def _queue_slot(self, team_id: int, now: datetime) -> Post | None:
        async with self.db.transaction() as tx:
            team = await tx.fetchone(
                "SELECT t.*, s.active_since FROM teams t"
                " LEFT JOIN prompt_schedules s ON s.team_id = t.id WHERE t.id = ?",
                (team_id,),
            )
            if team is None or team["schedule_weekday"] is None or team["schedule_time"] is None:
                return None
            since = team["active_since"] if team["active_since"] is not None else team["created_at"]
            slot = due_slot(
                now,
                team["schedule_weekday"],
                team["schedule_time"],
                Team.from_row(team).zone,
                datetime.fromtimestamp(since, UTC),
            )
            if slot is None or await tx.fetchval(
                "SELECT 1 FROM prompt_posts WHERE team_id = ? AND slot_at = ?",
                (team_id, to_ts(slot)),
            ):
                return None
            prompt_id = await next_in_rotation(tx, team_id, team["guild_id"])
            if prompt_id is None:
                # Nothing to post; the slot stays free, so adding a prompt within the grace
                # window still gets this week's post out.
                await tx.execute(
                    "UPDATE teams SET last_post_error = ? WHERE id = ?", (NO_PROMPTS, team_id)
                )
                return None
            queued = await queue_post(
                tx,
                self.outbox,
                team,
                prompt_id,
                slot,
                bool(team["schedule_ping_role"]),
                self.clock.now(),
            )
            return None if queued is None else queued.post

    async def next_due(self, now: datetime) -> datetime | None:
        """The earliest coming slot of any team."""
        ours, params = self.shards.where("guild_id")
        rows = await self.db.fetchall(
            "SELECT id, schedule_weekday, schedule_time, timezone FROM teams"
            f" WHERE schedule_weekday IS NOT NULL AND schedule_time IS NOT NULL AND {ours}",
            params,
        )
        return await asyncio.to_thread(self._slots.earliest, rows, now)


class _Slots:
    """For each team, what its schedule gave the last time it was looked at: until the slot
    that came next then, the answer stays the same (no slot falls in between), so a pass
    works out only the teams whose slot came or whose schedule changed."""

    def __init__(self) -> None:
        #: team id -> (its schedule, the next slot): not due before that slot
        self._quiet: dict[int, tuple[tuple[object, ...], datetime]] = {}
        #: team id -> (its schedule, the next slot), for the earliest coming one
        self._next: dict[int, tuple[tuple[object, ...], datetime]] = {}

    def due_teams(self, rows: Sequence[Row], now: datetime) -> list[tuple[int, int]]:
        """(team id, server id) of the teams (rows of teams with their `active_since`) whose
        slot is due at `now`."""
        due = []
        for row in rows:
            since = row["active_since"] if row["active_since"] is not None else row["created_at"]
            key = (row["schedule_weekday"], row["schedule_time"], row["timezone"], since)
            quiet = self._quiet.get(row["id"])
            if quiet is not None and quiet[0] == key and now < quiet[1]:
                continue
            zone = ZoneInfo(row["timezone"])  # (as `Team.zone`)
            weekday, hhmm = row["schedule_weekday"], row["schedule_time"]
            slot = due_slot(now, weekday, hhmm, zone, datetime.fromtimestamp(since, UTC))
            if slot is None:
                self._quiet[row["id"]] = (key, next_slots(now, weekday, hhmm, zone, 1)[0])
            else:
                due.append((row["id"], row["guild_id"]))
        return due

    def earliest(self, rows: Sequence[Row], now: datetime) -> datetime | None:
        times: list[datetime] = []
        for row in rows:
            key = (row["schedule_weekday"], row["schedule_time"], row["timezone"])
            known = self._next.get(row["id"])
            if known is None or known[0] != key or not now < known[1]:
                weekday, hhmm, zone = key[0], key[1], ZoneInfo(row["timezone"])
                slot = next_slots(now, int(weekday), str(hhmm), zone, 1)
                known = self._next[row["id"]] = (key, slot[0])
            times.append(known[1])
        return min(times, default=None)
