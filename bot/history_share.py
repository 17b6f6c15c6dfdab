"""Sharing `/history` with the team: a member who may (`may_share`: the team's leads and managers,
or every member when the team allows it) posts the summary of the timeline they are looking at in
the team channel.

The post is an outbox delivery of kind 'history_share' (bot/outbox.py), made due in the
transaction that records the share, and drafted later by the history cog from what is stored
here: the team, the window and the moment of the timeline. One click, one share, one post: a
retry of the delivery is the same post (its nonce), a second click is a second share. Who shared
is not stored.

Feature logic only: plain async Python over the database, nothing from discord.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock, from_ts, to_ts
from bot.db import Database, Row, Transaction
from bot.errors import InvalidInput
from bot.history import validate_weeks
from bot.i18n import _
from bot.outbox import Delivery, Outbox, Sent
from bot.teams import Team

KIND = "history_share"
EVERYONE = "everyone"
#: a share Discord could not take for this long is stale: given up, and managers are told
DEADLINE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Share:
    id: int
    team_id: int
    weeks: int
    #: the moment the timeline was taken: the post shows the timeline as it was then
    until: datetime
    shared_at: datetime
    channel_id: int | None = None
    message_id: int | None = None

    @classmethod
    def from_row(cls, row: Row) -> Share:
        until, shared_at = from_ts(row["until"]), from_ts(row["shared_at"])
        assert until is not None and shared_at is not None
        return cls(
            id=row["id"],
            team_id=row["team_id"],
            weeks=row["weeks"],
            until=until,
            shared_at=shared_at,
            channel_id=row["channel_id"],
            message_id=row["message_id"],
        )


@dataclass(frozen=True, slots=True)
class Queued:
    share: Share
    #: the outbox delivery the member's interaction attempts first
    delivery_id: int


def may_share(team: Team, role_ids: Collection[int], is_manager: bool) -> bool:
    """The team's leads and managers; every member who takes part when the team allows it."""
    if team.history_sharing == EVERYONE:
        return team.admits(role_ids, is_manager)
    return team.led_by(role_ids, is_manager)


class HistoryShares:
    def __init__(self, db: Database, clock: Clock, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        outbox.register(KIND, self._posted)

    async def share(self, team: Team, weeks: int, until: datetime) -> Queued:
        """Record a share of the timeline (`weeks` up to `until`) and make its post due, for the
        member's interaction to attempt at once."""
        weeks = validate_weeks(weeks)
        now = self.clock.now()
        if until > now:
            raise InvalidInput(_("A timeline can only be shared as it was, not as it will be."))
        async with self.db.transaction() as tx:
            share_id = await tx.insert(
                "INSERT INTO history_shares (team_id, weeks, until, shared_at) VALUES (?, ?, ?, ?)",
                (team.id, weeks, to_ts(until), to_ts(now)),
            )
            assert share_id is not None
            delivery_id = await self.outbox.enqueue(
                tx, KIND, share_id, team_id=team.id, deadline=now + DEADLINE, waited_for=True
            )
        return Queued(Share(share_id, team.id, weeks, until, now), delivery_id)

    async def get(self, share_id: int) -> Share | None:
        """The share, or None once its team is deleted (and the share with it)."""
        row = await self.db.fetchone("SELECT * FROM history_shares WHERE id = ?", (share_id,))
        return None if row is None else Share.from_row(row)

    async def _posted(self, tx: Transaction, delivery: Delivery, sent: Sent) -> bool:
        """Where it went; False when the team was deleted meanwhile (the post goes too)."""
        return bool(
            await tx.execute(
                "UPDATE history_shares SET channel_id = ?, message_id = ? WHERE id = ?",
                (sent.channel_id, sent.message_id, delivery.subject),
            )
        )
