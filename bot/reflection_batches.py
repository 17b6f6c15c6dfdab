"""Reflections, part 4: the scheduler's side — releasing batches at the sharing time, the queue
of reflections being posted, and the removals `/forget-me` spread over a day.

The release rules, which no one can steer:
- once a day per team, at its sharing time (team-local `reflection_share_time`), never in reaction
  to a write, so a release does not point at its last writer;
- a pending reflection goes out only in a batch with at least as many distinct authors as the
  threshold in force when it was written (`min_authors`, never below 3): lowering the threshold
  later can't release one alone. Distinct authors are counted from the sealed `author_box` of
  each pending reflection, opened in memory; the boxes are erased as the batch is released.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.db import Transaction
from bot.reflection_store import ReflectionStore, set_next_share
from bot.reflection_text import (
    RETRY_DELAY,
    Erasure,
    PostedMessage,
    Reflection,
    next_share_at,
    to_ts,
)

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
                if await self._release(tx, team.id, now):
                    released.append(team.id)
                await set_next_share(tx, team.id, next_share_at(now, team.hhmm, team.zone))
        return released

    async def next_sharing(self, now: datetime) -> datetime | None:
        """The earliest sharing time still to come (or due now) across the teams."""
        async with self.db.reading() as tx:
            return await self._next_sharing(tx, now)

    async def _next_sharing(self, tx: Transaction, now: datetime) -> datetime | None:
        noted = await tx.fetchval("SELECT MIN(next_share_at) FROM reflection_teams")
        due = [team.due for team in await self._sharing_times(tx, now)]
        if noted is not None:
            due.append(datetime.fromtimestamp(noted, UTC))
        return min(due, default=None)

    async def _sharing_times(self, tx: Transaction, now: datetime) -> list[SharingTime]:
        """Each team whose sharing time is due, or not yet noted: a new team's first sharing
        time is the first after it was created."""
        rows = await tx.fetchall(
            "SELECT t.id, t.timezone, t.reflection_share_time, t.created_at, s.next_share_at"
            " FROM teams t LEFT JOIN reflection_teams s ON s.team_id = t.id"
            " WHERE s.next_share_at IS NULL OR s.next_share_at <= ?",
            (to_ts(now),),
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
        await tx.executemany(
            "UPDATE reflections SET state = 'queued', posted_at = ?, author_box = NULL"
            " WHERE id = ?",
            [(to_ts(now), rows[i]["id"]) for i in sorted(chosen, key=lambda i: rows[i]["id"])],
        )
        return True

    # -- posting ----------------------------------------------------------------------------------

    async def teams_to_post(self, now: datetime) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT r.team_id FROM reflections r"
            " LEFT JOIN reflection_teams s ON s.team_id = r.team_id"
            " WHERE r.state = 'queued' AND (s.retry_at IS NULL OR s.retry_at <= ?)",
            (to_ts(now),),
        )
        return [row[0] for row in rows]

    async def queued(self, team_id: int) -> list[Reflection]:
        """The team's reflections waiting to be posted, in random order."""
        rows = await self.db.fetchall(
            "SELECT * FROM reflections WHERE team_id = ? AND state = 'queued' ORDER BY id",
            (team_id,),
        )
        batch = [Reflection.from_row(row) for row in rows]
        self.rng.shuffle(batch)
        return batch

    async def claim(self, reflection_id: int) -> Reflection | None:
        """Before sending: the reflection as it is now, or None if it left the queue (deleted)."""
        async with self.db.transaction() as tx:
            tx.mark_sensitive()  # every write to a reflection leaves the WAL empty behind it
            if not await tx.execute(
                "UPDATE reflections SET send_attempts = send_attempts + 1"
                " WHERE id = ? AND state = 'queued'",
                (reflection_id,),
            ):
                return None
            row = await tx.fetchone("SELECT * FROM reflections WHERE id = ?", (reflection_id,))
        assert row is not None
        return Reflection.from_row(row)

    async def record_posted(self, reflection_id: int, channel_id: int, message_id: int) -> bool:
        """After sending: False if it was deleted meanwhile (then the message must go too)."""
        async with self.db.transaction() as tx:
            tx.mark_sensitive()
            return bool(
                await tx.execute(
                    "UPDATE reflections SET state = 'posted', channel_id = ?, message_id = ?"
                    " WHERE id = ? AND state = 'queued'",
                    (channel_id, message_id, reflection_id),
                )
            )

    async def record_send_failure(self, team_id: int, error: str, now: datetime) -> datetime:
        """Keep the rest queued and try again after a pause; managers see why."""
        retry = now + RETRY_DELAY
        await self.db.execute(
            "INSERT INTO reflection_teams (team_id, retry_at, last_error) VALUES (?, ?, ?)"
            " ON CONFLICT (team_id) DO UPDATE SET retry_at = excluded.retry_at,"
            " last_error = excluded.last_error",
            (team_id, to_ts(retry), error[:300]),
        )
        return retry

    async def clear_send_failure(self, team_id: int) -> None:
        await self.db.execute(
            "UPDATE reflection_teams SET retry_at = NULL, last_error = NULL"
            " WHERE team_id = ? AND (retry_at IS NOT NULL OR last_error IS NOT NULL)",
            (team_id,),
        )

    # -- removals that /forget-me spread over a day ------------------------------------------

    async def due_erasures(self, now: datetime) -> list[Erasure]:
        """Removals whose time came, with the message to delete first (the row goes after, in
        `finish_erasure`, so a crash in between only repeats the message deletion)."""
        rows = await self.db.fetchall(
            "SELECT id, box FROM reflection_erasures WHERE due_at <= ? ORDER BY due_at",
            (to_ts(now),),
        )
        erasures: list[Erasure] = []
        for row in rows:
            opened = self.sealer.open(bytes(row["box"]), b"erase")
            reflection_id = int(opened) if opened is not None else 0
            found = await self.db.fetchone(
                "SELECT channel_id, message_id FROM reflections WHERE id = ?", (reflection_id,)
            )
            message = None
            if found is not None and found["message_id"] is not None:
                message = PostedMessage(found["channel_id"], found["message_id"])
            erasures.append(Erasure(row["id"], reflection_id, message))
        return erasures

    async def finish_erasure(self, erasure: Erasure) -> None:
        async with self.db.transaction() as tx:
            tx.mark_sensitive()
            await tx.execute("DELETE FROM reflections WHERE id = ?", (erasure.reflection_id,))
            await tx.execute("DELETE FROM reflection_erasures WHERE id = ?", (erasure.id,))

    async def postpone_erasure(self, erasure: Erasure, now: datetime) -> None:
        """The post could not be deleted (Discord failed): try again after a pause."""
        await self.db.execute(
            "UPDATE reflection_erasures SET due_at = ? WHERE id = ?",
            (to_ts(now + RETRY_DELAY), erasure.id),
        )

    # -- when to come back -----------------------------------------------------------------------

    async def next_due(self, now: datetime) -> datetime | None:
        """The next sharing time, retry of a failed post or removal."""
        async with self.db.reading() as tx:
            row = await tx.fetchone(
                "SELECT (SELECT MIN(s.retry_at) FROM reflection_teams s WHERE EXISTS"
                "  (SELECT 1 FROM reflections r WHERE r.team_id = s.team_id"
                "   AND r.state = 'queued')),"
                " (SELECT MIN(due_at) FROM reflection_erasures),"
                " EXISTS (SELECT 1 FROM reflections r LEFT JOIN reflection_teams s"
                "  ON s.team_id = r.team_id WHERE r.state = 'queued' AND s.retry_at IS NULL)"
            )
            sharing = await self._next_sharing(tx, now)
        assert row is not None
        moments = [datetime.fromtimestamp(t, UTC) for t in row[:2] if t is not None]
        if sharing is not None:
            moments.append(sharing)
        if row[2]:
            # A batch left queued by an interrupted pass: soon, but never a busy loop.
            moments.append(now + timedelta(seconds=5))
        return min(moments, default=None)
