"""Reflections: what both halves of the feature share — the database, the key, its hashes and
sealed boxes, and the rewrite that keeps the pages' order meaningless (see bot/reflections.py).
"""

from __future__ import annotations

import random
from datetime import datetime

from bot.clock import Clock
from bot.db import Database, Row, Transaction
from bot.outbox import Outbox
from bot.reflection_text import key_id, to_ts
from bot.sealed import Sealer
from bot.secret import keyed_hash, same_hash

#: The outbox's kinds (bot/outbox.py): a reflection of a released batch to post (its subject is
#: the reflection), and a removal `/forget-me` scheduled (its reflection only sealed, in `box`).
POST = "reflection"
ERASE = "reflection_erasure"
#: a short notice to the team's leads that one of its reflections was reported
NOTICE = "report_notice"


class ReflectionStore:
    """What both halves of the feature share: the database, the key and its hashes."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        key: bytes,
        rng: random.Random | None = None,
        *,
        outbox: Outbox | None = None,
    ) -> None:
        if not key:
            raise ValueError("reflections need the bot's key")
        self.db = db
        self.clock = clock
        self.key = key
        self.key_id = key_id(key)
        self.rng = rng or random.SystemRandom()
        self._sealer: Sealer | None = None
        #: where its posts and deletions wait to be made (bot/outbox.py)
        self.outbox = outbox or Outbox(db, clock)

    @property
    def sealer(self) -> Sealer:
        if self._sealer is None:  # built on first use (see bot/sealed.py)
            self._sealer = Sealer(self.key, "reflections")
        return self._sealer

    def author_hash(self, guild_id: int, user_id: int, nonce: bytes) -> bytes:
        return keyed_hash(self.key, guild_id, user_id, f"reflection:{nonce.hex()}")

    def author_tag(self, guild_id: int, user_id: int, team_id: int) -> bytes:
        """The same for all of one member's reflections in one team: only ever stored sealed."""
        return keyed_hash(self.key, guild_id, user_id, f"author:{team_id}")

    def seal_author(self, reflection_id: int, tag: bytes) -> bytes:
        return self.sealer.seal(tag, b"author:%d" % reflection_id)

    def open_author(self, reflection_id: int, box: bytes | None) -> bytes | None:
        return None if box is None else self.sealer.open(bytes(box), b"author:%d" % reflection_id)

    def seal_erasure(self, reflection_id: int) -> bytes:
        return self.sealer.seal(b"%d" % reflection_id, b"erase")

    def open_erasure(self, box: bytes | None) -> int | None:
        """The reflection a removal is for (None if the box can't be opened: another key)."""
        opened = None if box is None else self.sealer.open(bytes(box), b"erase")
        return None if opened is None else int(opened)

    def is_authors(self, row: Row, guild_id: int, user_id: int) -> bool:
        return same_hash(row["author_hash"], self.author_hash(guild_id, user_id, row["nonce"]))

    async def shuffle_pending(self, tx: Transaction, team_id: int) -> None:
        """Rewrite the team's pending rows in random order, so that where each one sits in the
        table's and indexes' pages (SQLite fills a page in the order rows arrive) carries
        nothing of the order they were written in."""
        rows = await tx.fetchall(
            "SELECT * FROM reflections WHERE team_id = ? AND state = 'pending'", (team_id,)
        )
        if len(rows) < 2:
            return
        self.rng.shuffle(rows)
        columns = list(rows[0].keys())
        await tx.execute(
            "DELETE FROM reflections WHERE team_id = ? AND state = 'pending'", (team_id,)
        )
        await tx.executemany(
            f"INSERT INTO reflections ({', '.join(columns)})"
            f" VALUES ({', '.join('?' * len(columns))})",
            [tuple(row) for row in rows],
        )


async def set_next_share(tx: Transaction, team_id: int, at: datetime) -> None:
    """Note when the team's reflections are next looked at for release."""
    await tx.execute(
        "INSERT INTO reflection_teams (team_id, next_share_at) VALUES (?, ?)"
        " ON CONFLICT (team_id) DO UPDATE SET next_share_at = excluded.next_share_at",
        (team_id, to_ts(at)),
    )
