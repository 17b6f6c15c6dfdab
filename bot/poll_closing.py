"""Polls, closing: now (`/poll close`) or at the deadline, and the bookkeeping of announcing each
close exactly once — claimed by one run of the bot, retried with growing pauses, taken over from a
run that stopped.

Feature logic only: plain async Python over the database, nothing from discord. The cog posts the
announcement and reports back how it went (`finish_announcement`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from bot.clock import Clock
from bot.db import Database, Transaction
from bot.errors import Conflict, NotAllowed
from bot.poll_model import RETRY_LIMIT, Poll, from_ts, placeholders, to_ts
from bot.poll_store import get_poll, load_polls


class PollClosing:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def close(
        self,
        poll_id: int,
        guild_id: int,
        actor_id: int,
        actor_is_manager: bool,
        claimer: str = "",
    ) -> Poll:
        """Close now (`/poll close`). The caller (the bot run `claimer`) then owns announcing
        it; without one, the bot's next scheduler pass takes the announcement over."""
        now = to_ts(self.clock.now())
        async with self.db.transaction() as tx:
            poll = await get_poll(tx, poll_id, guild_id)
            if not poll.can_manage(actor_id, actor_is_manager):
                raise NotAllowed(
                    "Only the member who created this poll or a manager can close it. "
                    "It closes by itself at its deadline."
                )
            if poll.closed:
                raise Conflict("This poll is already closed; `/poll results` shows its results.")
            await tx.execute(
                "UPDATE polls SET closed_at = ?, result_state = 'posting', result_claimed_by = ?,"
                " result_attempts = result_attempts + 1 WHERE id = ?",
                (min(now, to_ts(poll.closes_at)), claimer, poll_id),
            )
            await _drop_ballots(tx, [poll_id])
            return await get_poll(tx, poll_id, None)

    async def claim_due(self, now: datetime, claimer: str) -> list[Poll]:
        """Close every poll whose deadline has passed (also while the bot was down) and claim
        the announcements to post now: those just closed, failed ones whose retry time came, and
        claims left by another run of the bot (it stopped before finishing them).

        Claiming sets 'posting' with the claimer in the same transaction, so two passes never
        announce the same close; `result_attempts` > 1 tells the announcer to look first for a
        post that may have gone out.
        """
        at = to_ts(now)
        async with self.db.transaction() as tx:
            closed = await tx.fetchall(
                "UPDATE polls SET closed_at = closes_at, result_state = 'posting',"
                " result_claimed_by = ?, result_attempts = result_attempts + 1"
                " WHERE closed_at IS NULL AND closes_at <= ? RETURNING id",
                (claimer, at),
            )
            retried = await tx.fetchall(
                "UPDATE polls SET result_state = 'posting', result_claimed_by = ?,"
                " result_attempts = result_attempts + 1"
                " WHERE (result_state = 'pending' AND result_retry_at <= ?)"
                " OR (result_state = 'posting' AND result_claimed_by IS NOT ?) RETURNING id",
                (claimer, at, claimer),
            )
            await _drop_ballots(tx, [row[0] for row in closed])
            ids = sorted({row[0] for row in closed + retried})
            if not ids:
                return []
            return await load_polls(tx, f"p.id IN ({placeholders(ids)}) ORDER BY p.id", ids)

    async def finish_announcement(
        self,
        poll_id: int,
        claimer: str,
        state: Literal["posted", "failed", "pending"],
        message_id: int | None = None,
        *,
        retry_now: bool = False,
    ) -> None:
        """Record how announcing a claimed close went. 'pending' retries later, waiting longer
        after each failure (30 s, 1 min, 2 min … at most 15 min), or at the next pass when
        `retry_now` (the run stopped before trying)."""
        async with self.db.transaction() as tx:
            attempts = await tx.fetchval(
                "SELECT result_attempts FROM polls"
                " WHERE id = ? AND result_state = 'posting' AND result_claimed_by = ?",
                (poll_id, claimer),
            )
            if attempts is None:  # not (or no longer) this run's claim
                return
            delay = 0 if retry_now else min(30 * 2 ** max(0, int(attempts) - 1), RETRY_LIMIT)
            await tx.execute(
                "UPDATE polls SET result_state = ?, result_claimed_by = NULL,"
                " result_message_id = coalesce(?, result_message_id), result_retry_at = ?"
                " WHERE id = ?",
                (
                    state,
                    message_id,
                    to_ts(self.clock.now()) + delay if state == "pending" else None,
                    poll_id,
                ),
            )

    async def next_due(self, claimer: str) -> datetime | None:
        """When the polls job next has something to do: a deadline, a retry, or now for a claim
        left by another run."""
        row = await self.db.fetchone(
            "SELECT (SELECT min(closes_at) FROM polls WHERE closed_at IS NULL),"
            " (SELECT min(result_retry_at) FROM polls WHERE result_state = 'pending'),"
            " EXISTS (SELECT 1 FROM polls WHERE result_state = 'posting'"
            "         AND result_claimed_by IS NOT ?)",
            (claimer,),
        )
        assert row is not None
        if row[2]:
            return self.clock.now()
        times = [t for t in (row[0], row[1]) if t is not None]
        return from_ts(min(times)) if times else None


async def _drop_ballots(tx: Transaction, poll_ids: Sequence[int]) -> None:
    """A closing anonymous poll keeps its counts and forgets its voters: with the ballots gone,
    nothing in the files says who voted, even with the key."""
    if not poll_ids:
        return
    if await tx.execute(
        f"DELETE FROM poll_ballots WHERE poll_id IN ({placeholders(poll_ids)})", poll_ids
    ):
        tx.mark_sensitive()
