"""Polls, closing: now (`/poll close`) or at the deadline. Closing puts the announcement — the
poll message's final state and the result post — in the outbox ('poll_result', bot/outbox.py)
in the same transaction, so a closed poll is announced exactly once whatever stops the bot.

In its last hour (`LAST_HOUR`) an open poll's message says it closes soon: `last_hour_due` tells
the polls job which messages to edit once when that hour begins (`last_hour_shown` remembers it).

`result_state` tells where the announcement is: 'posting' (in the outbox), 'posted' (with
`result_message_id`), or 'failed' (Discord refused it, or a day went by).

Feature logic only: plain async Python over the database, nothing from discord. The cog drafts
the announcement when the outbox sends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.db import Database, Transaction
from bot.errors import Conflict, NotAllowed
from bot.i18n import _
from bot.outbox import Delivery, Outbox, Sent
from bot.poll_model import Poll, from_ts, placeholders, to_ts
from bot.poll_store import get_poll
from bot.sharding import EVERY_SERVER, Shards

RESULT = "poll_result"
#: The poll message says "closes soon" this long before the deadline.
LAST_HOUR = timedelta(hours=1)
#: A result not posted within a day of the close is given up ('failed'): news that late is none.
RESULT_DEADLINE = timedelta(days=1)


_LAST_HOUR_S = int(LAST_HOUR.total_seconds())
#: open, posted, its last hour not shown yet, and not posted within it (one parameter: the hour)
_LAST_HOUR_PENDING = (
    "closed_at IS NULL AND message_id IS NOT NULL AND last_hour_shown = 0"
    " AND closes_at - created_at > ?"
)


class PollClosing:
    def __init__(
        self, db: Database, clock: Clock, outbox: Outbox, shards: Shards = EVERY_SERVER
    ) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        #: only these shards' servers' polls are this process's to close at their deadline
        self.shards = shards
        outbox.register(RESULT, self._announced, self._not_announced)

    async def close(
        self, poll_id: int, guild_id: int, actor_id: int, actor_is_manager: bool
    ) -> Poll:
        """Close now (`/poll close`); the announcement waits in the outbox."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            poll = await get_poll(tx, poll_id, guild_id)
            if not poll.can_manage(actor_id, actor_is_manager):
                raise NotAllowed(
                    _(
                        "Only the member who created this poll, the team's leads or a manager "
                        "can close it; it closes by itself at its deadline."
                    )
                )
            if poll.closed:
                raise Conflict(_("This poll is already closed; `/poll results` shows its results."))
            await tx.execute(
                "UPDATE polls SET closed_at = ?, result_state = 'posting' WHERE id = ?",
                (min(to_ts(now), to_ts(poll.closes_at)), poll_id),
            )
            await self._announce(tx, [(poll_id, poll.team_id)], now)
            return await get_poll(tx, poll_id, None)

    async def close_due(self, now: datetime) -> list[int]:
        """Close every posted poll whose deadline has passed (also while the bot was down) and
        put each announcement in the outbox. Returns the polls closed (each is closed once: the
        update and the enqueue commit together). A poll whose message never went out is left to
        the outbox, which gives it up at that deadline: nobody saw it, nothing is announced."""
        ours, params = self.shards.where("guild_id")
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE polls SET closed_at = closes_at, result_state = 'posting'"
                " WHERE closed_at IS NULL AND message_id IS NOT NULL AND closes_at <= ?"
                f" AND {ours} RETURNING id, team_id",
                (to_ts(now), *params),
            )
            closed = sorted((row[0], row[1]) for row in rows)
            await self._announce(tx, closed, now)
        return [poll_id for poll_id, _team in closed]

    async def last_hour_due(self, now: datetime) -> list[int]:
        """The open, posted polls whose last hour has begun by `now` and whose message has not
        been edited for it yet: marked as shown (each is returned once), for the caller to edit
        their messages. A poll open for an hour or less never is: its post shows it already."""
        ours, params = self.shards.where("guild_id")
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE polls SET last_hour_shown = 1"
                f" WHERE {_LAST_HOUR_PENDING} AND closes_at - ? <= ? AND {ours}"
                " RETURNING id",
                (_LAST_HOUR_S, _LAST_HOUR_S, to_ts(now), *params),
            )
        return sorted(row[0] for row in rows)

    async def next_due(self) -> datetime | None:
        """The next deadline of an open, posted poll, or the start of a last hour still to show,
        whichever is sooner."""
        ours, params = self.shards.where("guild_id")
        row = await self.db.fetchone(
            "SELECT min(closes_at),"
            f" min(CASE WHEN {_LAST_HOUR_PENDING} THEN closes_at - ? END)"
            f" FROM polls WHERE closed_at IS NULL AND message_id IS NOT NULL AND {ours}",
            (_LAST_HOUR_S, _LAST_HOUR_S, *params),
        )
        times = [value for value in (row[0], row[1]) if value is not None] if row else []
        return from_ts(min(times)) if times else None

    async def _announce(
        self, tx: Transaction, closed: Sequence[tuple[int, int]], now: datetime
    ) -> None:
        for poll_id, team_id in closed:
            await self.outbox.enqueue(
                tx, RESULT, poll_id, team_id=team_id, deadline=now + RESULT_DEADLINE
            )
        await _drop_ballots(tx, [poll_id for poll_id, _team in closed])

    # -- told by the outbox --------------------------------------------------------------------

    async def _announced(self, tx: Transaction, delivery: Delivery, sent: Sent) -> bool:
        return bool(
            await tx.execute(
                "UPDATE polls SET result_state = 'posted', result_message_id = ? WHERE id = ?",
                (sent.message_id, delivery.subject),
            )
        )

    async def _not_announced(self, tx: Transaction, delivery: Delivery, reason: str) -> None:
        await tx.execute(
            "UPDATE polls SET result_state = 'failed' WHERE id = ?", (delivery.subject,)
        )


async def _drop_ballots(tx: Transaction, poll_ids: Sequence[int]) -> None:
    """A closing anonymous poll keeps its counts and forgets its voters: with the ballots gone,
    nothing in the files says who voted, even with the key."""
    if not poll_ids:
        return
    if await tx.execute(
        f"DELETE FROM poll_ballots WHERE poll_id IN ({placeholders(poll_ids)})", poll_ids
    ):
        tx.mark_sensitive()
