"""Reflections, part 4: the scheduler's side — releasing batches at the sharing time, and what
the outbox (bot/outbox.py) is told when a released reflection is posted or a removal `/forget-me`
spread over a day is made.

The release rules, which no one can steer:
- once a day per team, at its sharing time (team-local `reflection_share_time`), never in reaction
  to a write, so a release does not point at its last writer;
- a pending reflection goes out only in a batch with at least as many distinct authors as the
  threshold in force when it was written (`min_authors`, never below 3): lowering the threshold
  later can't release one alone. Distinct authors are counted from the sealed `author_box` of
  each pending reflection, opened in memory; the boxes are erased as the batch is released.

A released reflection is `queued` with a delivery in the outbox, added in the release's own
transaction; the outbox posts it and the delivered hook makes it `posted`. Deliveries due together
go out in the order of their ids, drawn from the feature's random source: the posting order says
nothing of the writing order.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.db import Database, Transaction
from bot.outbox import Delivery, Outbox, Sent
from bot.reflection_store import ERASE, POST, ReflectionStore
from bot.reflection_text import PostedMessage, Reflection, next_share_at, to_ts
from bot.sharding import EVERY_SERVER, Shards

#: Pending reflections whose author can't be read (written before migration 0008, or under a key
#: since replaced) count together as one author: never more authors than there really are.
UNKNOWN_AUTHOR = b""


def releasable(pending: Sequence[tuple[int, bytes]]) -> set[int]:
    """Of the pending reflections, as (threshold written under, author), those that may go out
    together: the largest set in which every reflection's threshold is met by the number of
    distinct authors in the set. Returns their indexes."""
    chosen = set(range(len(pending)))
    while chosen:
        authors = len({pending[i][1] for i in chosen})
        keep = {i for i in chosen if pending[i][0] <= authors}
        if keep == chosen:
            break
        chosen = keep
    return chosen


@dataclass(frozen=True, slots=True)
class SharingTime:
    id: int
    zone: ZoneInfo
    hhmm: str
    due: datetime


class ReflectionBatches(ReflectionStore):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        key: bytes,
        rng: random.Random | None = None,
        *,
        outbox: Outbox | None = None,
        shards: Shards = EVERY_SERVER,
    ) -> None:
        super().__init__(db, clock, key, rng, outbox=outbox)
        #: only these shards' servers' teams are this process's to release at sharing time
        self.shards = shards
        self.outbox.register(POST, self._posted)
        self.outbox.register(ERASE, self._erased)

    # -- releasing ------------------------------------------------------------------------------

    async def release_due(self, now: datetime) -> list[int]:
        """At each team's sharing time: release what the rules allow (state `queued`, one shared
        batch time, author boxes erased) and note the next sharing time. Returns the teams that
        released a batch. Nothing is written for a team before its sharing time comes."""
        released: list[int] = []
        async with self.db.transaction() as tx:
            for team in await self._sharing_times(tx, now):
                if team.due > now:
                    continue
                if not await self._claim_sharing(tx, team, now):
                    continue  # another process released this sharing time meanwhile
                if await self._release(tx, team.id, now):
                    released.append(team.id)
        return released

    async def _claim_sharing(self, tx: Transaction, team: SharingTime, now: datetime) -> bool:
        """Move the team's sharing time on, if it is still due: of two processes that both saw
        it due (a restart's overlap), one moves it and releases, the other changes nothing."""
        return bool(
            await tx.execute(
                "INSERT INTO reflection_teams (team_id, next_share_at) VALUES (?, ?)"
                " ON CONFLICT (team_id) DO UPDATE SET next_share_at = excluded.next_share_at"
                " WHERE reflection_teams.next_share_at IS NULL"
                " OR reflection_teams.next_share_at <= ?",
                (team.id, to_ts(next_share_at(now, team.hhmm, team.zone)), to_ts(now)),
            )
        )

    async def next_sharing(self, now: datetime) -> datetime | None:
        """The earliest sharing time still to come (or due now) across the teams."""
        async with self.db.reading() as tx:
            return await self._next_sharing(tx, now)

    async def _next_sharing(self, tx: Transaction, now: datetime) -> datetime | None:
        ours, params = self.shards.where_team("team_id")
        noted = await tx.fetchval(
            f"SELECT MIN(next_share_at) FROM reflection_teams WHERE {ours}", params
        )
        due = [team.due for team in await self._sharing_times(tx, now)]
        if noted is not None:
            due.append(datetime.fromtimestamp(noted, UTC))
        return min(due, default=None)

    async def _sharing_times(self, tx: Transaction, now: datetime) -> list[SharingTime]:
        """Each team whose sharing time is due, or not yet noted: a new team's first sharing
        time is the first after it was created."""
        ours, params = self.shards.where("t.guild_id")
        rows = await tx.fetchall(
            "SELECT t.id, t.timezone, t.reflection_share_time, t.created_at, s.next_share_at"
            " FROM teams t LEFT JOIN reflection_teams s ON s.team_id = t.id"
            f" WHERE (s.next_share_at IS NULL OR s.next_share_at <= ?) AND {ours}",
            (to_ts(now), *params),
        )
        found = []
        for row in rows:
            zone, hhmm = ZoneInfo(row["timezone"]), row["reflection_share_time"]
            if row["next_share_at"] is None:
                created = datetime.fromtimestamp(row["created_at"], UTC)
                due = next_share_at(created, hhmm, zone)
            else:
                due = datetime.fromtimestamp(row["next_share_at"], UTC)
            found.append(SharingTime(row["id"], zone, hhmm, due))
        return found

    async def _release(self, tx: Transaction, team_id: int, now: datetime) -> bool:
        rows = await tx.fetchall(
            "SELECT id, min_authors, author_box FROM reflections"
            " WHERE team_id = ? AND state = 'pending'",
            (team_id,),
        )
        pending = [
            (int(row["min_authors"]), self.open_author(row["id"], row["author_box"]))
            for row in rows
        ]
        chosen = releasable([(m, author or UNKNOWN_AUTHOR) for m, author in pending])
        if not chosen:
            return False
        tx.mark_sensitive()
        released = sorted(rows[i]["id"] for i in chosen)
        await tx.executemany(
            "UPDATE reflections SET state = 'queued', posted_at = ?, author_box = NULL"
            " WHERE id = ?",
            [(to_ts(now), reflection_id) for reflection_id in released],
        )
        for reflection_id in released:
            await self.outbox.enqueue(
                tx,
                POST,
                reflection_id,
                team_id=team_id,
                nonce=f"r{reflection_id}",
                delivery_id=self.rng.randrange(1, 2**62),
            )
        return True

    # -- what the outbox delivers -------------------------------------------------------------

    async def to_post(self, reflection_id: int) -> Reflection | None:
        """A reflection of a released batch as it is now; None if it left the queue (deleted by
        its author, or its team)."""
        row = await self.db.fetchone(
            "SELECT * FROM reflections WHERE id = ? AND state = 'queued'", (reflection_id,)
        )
        return None if row is None else Reflection.from_row(row)

    async def _posted(self, tx: Transaction, delivery: Delivery, sent: Sent) -> bool:
        """Its message is in the channel. False: deleted meanwhile, so the message goes too."""
        tx.mark_sensitive()  # every write to a reflection leaves the WAL empty behind it
        return bool(
            await tx.execute(
                "UPDATE reflections SET state = 'posted', channel_id = ?, message_id = ?"
                " WHERE id = ? AND state = 'queued'",
                (sent.channel_id, sent.message_id, delivery.subject),
            )
        )

    async def to_erase(self, box: bytes | None) -> PostedMessage | None:
        """The message of a reflection whose removal `/forget-me` scheduled, to delete first;
        the row goes when the deletion is recorded (`_erased`), so a crash in between only
        repeats the deletion. None when there is no message: then the row (a tombstone, if a
        manager hid it meanwhile) is deleted now, and there is nothing left to do."""
        reflection_id = self.open_erasure(box)
        if reflection_id is None:
            return None
        row = await self.db.fetchone(
            "SELECT channel_id, message_id FROM reflections WHERE id = ?", (reflection_id,)
        )
        if row is not None and row["message_id"] is not None:
            return PostedMessage(row["channel_id"], row["message_id"])
        if row is not None:
            async with self.db.transaction() as tx:
                tx.mark_sensitive()
                await tx.execute("DELETE FROM reflections WHERE id = ?", (reflection_id,))
        return None

    async def _erased(self, tx: Transaction, delivery: Delivery, sent: Sent) -> bool:
        """The message is gone: so goes the reflection, text and all."""
        tx.mark_sensitive()
        reflection_id = self.open_erasure(delivery.box)
        if reflection_id is not None:
            await tx.execute("DELETE FROM reflections WHERE id = ?", (reflection_id,))
        return True
