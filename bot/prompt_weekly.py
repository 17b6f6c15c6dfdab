"""Discussion prompts, the weekly schedule: what the prompts job must post at a given moment —
each team's current slot (once, ever), retries of transient failures, and posts another run left
half-sent — claimed for this run.

Feature logic only: plain async Python over the database, nothing from discord. How a claimed post
is recorded afterwards is `bot/prompt_posts.py`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.clock import Clock, to_ts
from bot.db import Database
from bot.prompt_bank import NO_PROMPTS, PromptBank, next_in_rotation
from bot.prompt_posts import Post, insert_post, load_post
from bot.schedule import GRACE, due_slot, next_slots
from bot.teams import Team

RETRY_AFTER = timedelta(minutes=1)
#: A post left 'sending' by another run this long ago: that run stopped mid-post.
STALE_AFTER = timedelta(minutes=2)
#: Recovering a post interrupted more than this many times is given up.
MAX_RECOVERIES = 3

WorkKind = Literal["new", "retry", "recover"]


@dataclass(frozen=True, slots=True)
class Work:
    """A post the scheduler claimed for this run: send it ('new', 'retry') or find out whether an
    interrupted run sent it ('recover')."""

    kind: WorkKind
    post: Post


class WeeklyPosts:
    def __init__(self, db: Database, clock: Clock, bank: PromptBank) -> None:
        self.db = db
        self.clock = clock
        self.bank = bank

    async def due_work(self, now: datetime, run_id: str) -> list[Work]:
        """Claim everything due at `now` for this run: each team's current slot (once, ever),
        retries of transient failures, and posts another run left half-sent."""
        teams = await self.db.fetchall(
            "SELECT id, guild_id FROM teams WHERE schedule_weekday IS NOT NULL"
            " AND schedule_time IS NOT NULL ORDER BY id"
        )
        work: list[Work] = []
        for guild_id in sorted({row["guild_id"] for row in teams}):
            await self.bank.ensure_bank(guild_id)
        for team_id in [row["id"] for row in teams]:
            post = await self._claim_slot(team_id, now, run_id)
            if post is not None:
                work.append(Work("new", post))
        for row in await self.db.fetchall(
            "SELECT id FROM prompt_posts WHERE state = 'retry' AND claimed_at <= ? ORDER BY id",
            (to_ts(now - RETRY_AFTER),),
        ):
            post = await self._claim_retry(row["id"], now, run_id)
            if post is not None:
                work.append(Work("retry", post))
        for row in await self.db.fetchall(
            "SELECT id, claimed_by FROM prompt_posts WHERE state = 'sending' AND claimed_by != ?"
            " AND claimed_at <= ? ORDER BY id",
            (run_id, to_ts(now - STALE_AFTER)),
        ):
            post = await self._claim_stale(row["id"], row["claimed_by"], now, run_id)
            if post is not None:
                work.append(Work("recover", post))
        return work

    async def _claim_slot(self, team_id: int, now: datetime, run_id: str) -> Post | None:
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
                # Nothing to post; the slot stays unclaimed, so adding a prompt within the grace
                # window still gets this week's post out.
                await tx.execute(
                    "UPDATE teams SET last_post_error = ? WHERE id = ?", (NO_PROMPTS, team_id)
                )
                return None
            post_id = await insert_post(
                tx,
                team,
                prompt_id,
                to_ts(slot),
                bool(team["schedule_ping_role"]),
                run_id,
                to_ts(self.clock.now()),
            )
            return None if post_id is None else await load_post(tx, post_id)

    async def _claim_retry(self, post_id: int, now: datetime, run_id: str) -> Post | None:
        async with self.db.transaction() as tx:
            post = await load_post(tx, post_id)
            if post.state != "retry":
                return None
            if post.slot_at is not None and now - post.slot_at >= GRACE:
                await tx.execute(
                    "UPDATE prompt_posts SET state = 'failed' WHERE id = ?", (post_id,)
                )
                await tx.execute(
                    "UPDATE teams SET last_post_error = ? WHERE id = ?", (post.error, post.team_id)
                )
                return None
            await tx.execute(
                "UPDATE prompt_posts SET state = 'sending', attempts = attempts + 1,"
                " claimed_by = ?, claimed_at = ? WHERE id = ?",
                (run_id, to_ts(now), post_id),
            )
            return await load_post(tx, post_id)

    async def _claim_stale(
        self, post_id: int, stale_run: str, now: datetime, run_id: str
    ) -> Post | None:
        async with self.db.transaction() as tx:
            # Compare-and-set on the old claimer: of two runs recovering at once, one wins.
            changed = await tx.execute(
                "UPDATE prompt_posts SET claimed_by = ?, claimed_at = ?, attempts = attempts + 1"
                " WHERE id = ? AND state = 'sending' AND claimed_by = ?",
                (run_id, to_ts(now), post_id, stale_run),
            )
            if not changed:
                return None
            post = await load_post(tx, post_id)
            if post.attempts > MAX_RECOVERIES:
                error = "A post was interrupted by restarts several times and was given up."
                await tx.execute(
                    "UPDATE prompt_posts SET state = 'failed', error = ? WHERE id = ?",
                    (error, post_id),
                )
                if post.slot_at is not None:
                    await tx.execute(
                        "UPDATE teams SET last_post_error = ? WHERE id = ?", (error, post.team_id)
                    )
                return None
            return post

    async def next_due(self, now: datetime, run_id: str) -> datetime | None:
        """The earliest coming slot, retry or recovery (it may be in the past: see
        `Prompts.next_due`)."""
        times: list[datetime] = []
        for row in await self.db.fetchall(
            "SELECT * FROM teams WHERE schedule_weekday IS NOT NULL AND schedule_time IS NOT NULL"
        ):
            team = Team.from_row(row)
            assert team.schedule_weekday is not None and team.schedule_time is not None
            times += next_slots(now, team.schedule_weekday, team.schedule_time, team.zone, 1)
        for row in await self.db.fetchall(
            "SELECT state, claimed_at FROM prompt_posts WHERE state = 'retry'"
            " OR (state = 'sending' AND claimed_by != ?)",
            (run_id,),
        ):
            delay = RETRY_AFTER if row["state"] == "retry" else STALE_AFTER
            times.append(datetime.fromtimestamp(row["claimed_at"], UTC) + delay)
        return min(times, default=None)
