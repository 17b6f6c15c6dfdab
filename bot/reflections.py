"""Anonymous reflections, part 2: writing, deleting, hiding, reporting — the member's side.

Feature logic only (plain async Python over the database; nothing from discord). The model, from
PRODUCT.md, and how this module keeps it against a manager, a colleague with a second account and
a copy of the files (db, -wal and -shm) taken while the bot runs:

- No user id or name is stored with a reflection. To let the author delete their own, the row
  keeps `author_hash = keyed_hash(key, server, user, "reflection:<nonce>")` with a random nonce of
  its own, so two reflections by one person share no value. The receipt code is random, shown once
  and stored only as an HMAC under the key. Ids and public codes are random.
- While pending, the row also holds its author sealed (`author_box`, bot/sealed.py: AES-GCM with
  a fresh nonce), the only way to count distinct authors at sharing time; the box is erased when
  the batch is released (bot/reflection_batches.py). Without the key boxes share no byte.
- The daily limit is counted in memory only (`DailyLimit`): a counter in the files would say how
  many one person wrote, and each write would update the same marker.
- Every write keeps no history in the files: the transaction is marked sensitive, so the WAL is
  checkpointed and truncated after it (bot/db.py), deleted rows are zeroed (`secure_delete`), and
  the team's pending rows are rewritten in random order, so their place in the file's pages does
  not follow the order they were written in.
- No count of pending reflections or authors is ever returned: not in the receipt, not to
  managers.

The honest limit: whoever holds the key *and* the member list can recompute every member's
hashes and so test who wrote what. The README's privacy section says so.
"""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime, timedelta

from bot.clock import Clock
from bot.db import Database, Transaction
from bot.errors import InvalidInput, NotFound
from bot.i18n import _
from bot.member_data import MemberDataDeleted
from bot.outbox import Delivery, Outbox, Sent
from bot.reflection_moderation import ReflectionModeration
from bot.reflection_store import ERASE, NOTICE
from bot.reflection_text import (
    DAILY_LIMIT,
    ERASE_WITHIN,
    NEUTRAL_NOT_FOUND,
    NEUTRAL_NOT_FOUND_KEY_REPLACED,
    RECEIPT_PREFIX,
    TEAM_GONE,
    Deleted,
    Receipt,
    Reflection,
    code_hash,
    local_day,
    new_code,
    parse_receipt,
    validate_about,
    validate_body,
)
from bot.secret import keyed_hash, same_hash
from bot.teams import Team


class DailyLimit:
    """How many reflections each member wrote for a team today, in this process's memory only.

    Keyed by a keyed hash of (server, member, team, day); forgotten when the day ends, and on a
    restart (then the count starts again: a small price for keeping no counter in the files).
    """

    def __init__(self) -> None:
        self._counts: dict[bytes, tuple[int, int]] = {}

    def reserve(self, marker: bytes, expires_at: int, now: int) -> None:
        self._counts = {m: c for m, c in self._counts.items() if c[1] > now}
        written = self._counts.get(marker, (0, expires_at))[0]
        if written >= DAILY_LIMIT:
            raise InvalidInput(
                _(
                    "You have written {limit} reflections for this team today, the most for one "
                    "day. You can write again tomorrow.",
                    limit=DAILY_LIMIT,
                )
            )
        self._counts[marker] = (written + 1, expires_at)

    def release(self, marker: bytes) -> None:
        written, expires_at = self._counts.get(marker, (0, 0))
        if written > 1:
            self._counts[marker] = (written - 1, expires_at)
        else:
            self._counts.pop(marker, None)

    def forget(self, markers: set[bytes]) -> None:
        for marker in markers:
            self._counts.pop(marker, None)


class Reflections(ReflectionModeration):
    """The feature as the bot holds it, once: writing and deleting (here), hiding, reporting and
    what managers see (`ReflectionModeration`)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        key: bytes,
        rng: random.Random | None = None,
        *,
        outbox: Outbox | None = None,
    ) -> None:
        super().__init__(db, clock, key, rng, outbox=outbox)
        self.daily = DailyLimit()
        self.outbox.register(NOTICE, _noticed)

    def _day_marker(self, guild_id: int, user_id: int, team_id: int, day: str) -> bytes:
        return keyed_hash(self.key, guild_id, user_id, f"day:{team_id}:{day}")

    # -- writing --------------------------------------------------------------------------------

    async def write(self, team: Team, user_id: int, body: str, about: str | None = None) -> Receipt:
        """Store a reflection as pending and return its receipt (the only copy of the code)."""
        body = validate_body(body)
        about = validate_about(about)
        now = self.clock.now()
        day, day_ends = local_day(now, team)
        marker = self._day_marker(team.guild_id, user_id, team.id, day)
        self.daily.reserve(marker, day_ends, int(now.timestamp()))
        try:
            async with self.db.transaction() as tx:
                tx.mark_sensitive()
                settings = await tx.fetchone(
                    "SELECT reflection_threshold, reflection_share_time FROM teams WHERE id = ?",
                    (team.id,),
                )
                if settings is None:
                    raise NotFound(_(TEAM_GONE))
                code = await self._insert(tx, team, user_id, body, about, int(settings[0]))
                await self.shuffle_pending(tx, team.id)
        except BaseException:
            self.daily.release(marker)
            raise
        return Receipt(
            code=f"{RECEIPT_PREFIX}{code}",
            team_id=team.id,
            share_time=settings[1],
            threshold=int(settings[0]),
        )

    async def _insert(
        self,
        tx: Transaction,
        team: Team,
        user_id: int,
        body: str,
        about: str | None,
        threshold: int,
    ) -> str:
        """Insert with a fresh random id, public code and receipt code (retrying on a clash)."""
        nonce = secrets.token_bytes(16)
        while True:
            reflection_id = self.rng.randrange(1, 2**53)
            ref, code = new_code(self.rng), new_code(self.rng)
            hashed = code_hash(self.key, team.guild_id, code)
            clash = await tx.fetchval(
                "SELECT 1 FROM reflections WHERE id = ? OR ref = ? OR code_hash = ?",
                (reflection_id, ref, hashed),
            )
            if not clash:
                break
        tag = self.author_tag(team.guild_id, user_id, team.id)
        await tx.execute(
            "INSERT INTO reflections (id, team_id, state, body, about, ref, code_hash, nonce,"
            " author_hash, key_id, min_authors, author_box)"
            " VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                reflection_id,
                team.id,
                body,
                about,
                ref,
                hashed,
                nonce,
                self.author_hash(team.guild_id, user_id, nonce),
                self.key_id,
                threshold,
                self.seal_author(reflection_id, tag),
            ),
        )
        return code

    # -- deleting -------------------------------------------------------------------------------

    async def _neutral(self, tx: Transaction, guild_id: int) -> str:
        """The one answer for a wrong code and someone else's code. Whether this server still
        has reflections from before a key change depends on the server, never on the code."""
        old = await tx.fetchval(
            "SELECT 1 FROM reflections r JOIN teams t ON t.id = r.team_id"
            " WHERE t.guild_id = ? AND r.key_id != ? LIMIT 1",
            (guild_id, self.key_id),
        )
        return _(NEUTRAL_NOT_FOUND_KEY_REPLACED if old else NEUTRAL_NOT_FOUND)

    async def delete_by_author(self, guild_id: int, user_id: int, code: str) -> Deleted:
        """Delete the reflection with this receipt code, if this member wrote it."""
        parsed = parse_receipt(code)
        async with self.db.transaction() as tx:
            row = None
            if parsed is not None:
                row = await tx.fetchone(
                    "SELECT r.* FROM reflections r JOIN teams t ON t.id = r.team_id"
                    " WHERE r.code_hash = ? AND t.guild_id = ?",
                    (code_hash(self.key, guild_id, parsed), guild_id),
                )
            # Hash and compare in every case, so a wrong code and someone else's code take the
            # same work as well as getting the same answer.
            nonce = row["nonce"] if row is not None else bytes(16)
            stored = row["author_hash"] if row is not None else bytes(32)
            mine = same_hash(stored, self.author_hash(guild_id, user_id, nonce))
            if row is None or not mine:
                raise NotFound(await self._neutral(tx, guild_id))
            tx.mark_sensitive()
            await tx.execute("DELETE FROM reflections WHERE id = ?", (row["id"],))
            if row["state"] == "pending":
                await self.shuffle_pending(tx, row["team_id"])
        reflection = Reflection.from_row(row)
        return Deleted(state=row["state"], message=reflection.message)

    async def forget_member(self, guild_id: int, user_id: int) -> MemberDataDeleted:
        """`/forget-me` for reflections (those made under the current key): the ones not shared
        yet, and hidden tombstones, are deleted now; each shared one is queued to be removed,
        text and post, at its own random time within a day, so that the channel does not see
        two posts vanish together and learn they had one author. Idempotent."""
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT r.* FROM reflections r JOIN teams t ON t.id = r.team_id"
                " WHERE t.guild_id = ? AND r.key_id = ?",
                (guild_id, self.key_id),
            )
            mine = [row for row in rows if self.is_authors(row, guild_id, user_id)]
            tx.mark_sensitive()
            shared = [row for row in mine if row["state"] == "posted"]
            now_gone = [row for row in mine if row["state"] != "posted"]
            await tx.executemany(
                "DELETE FROM reflections WHERE id = ?", [(row["id"],) for row in now_gone]
            )
            for team_id in {row["team_id"] for row in now_gone if row["state"] == "pending"}:
                await self.shuffle_pending(tx, team_id)
            queued = await self._queued_erasures(tx, {row["team_id"] for row in shared})
            window = int(ERASE_WITHIN.total_seconds())
            for row in shared:
                if row["id"] in queued:
                    continue
                # Sealed, with a random id and its own random time: the queue doesn't say
                # which removals belong together.
                await self.outbox.enqueue(
                    tx,
                    ERASE,
                    team_id=row["team_id"],
                    due_at=self.clock.now() + timedelta(seconds=self.rng.randrange(60, window)),
                    box=self.seal_erasure(row["id"]),
                )
        self.daily.forget(
            {
                self._day_marker(guild_id, user_id, row["team_id"], day)
                for row in mine
                for day in _recent_days(self.clock.now())
            }
        )
        return MemberDataDeleted("reflections", deleted=len(now_gone), later=len(shared))

    async def _queued_erasures(self, tx: Transaction, team_ids: set[int]) -> set[int]:
        """The reflection ids already queued for removal in these teams."""
        if not team_ids:
            return set()
        boxes = await self.outbox.sealed(tx, ERASE, team_ids)
        opened = (self.open_erasure(box) for box in boxes)
        return {value for value in opened if value is not None}


async def _noticed(tx: Transaction, delivery: Delivery, sent: Sent) -> bool:
    return True  # a notice is only a message: nothing to record


def _recent_days(now: datetime) -> list[str]:
    """The dates a team-local 'today' can be, anywhere on Earth, at `now`."""
    today = now.astimezone(UTC).date()
    return [(today + timedelta(days=d)).isoformat() for d in (-1, 0, 1)]
