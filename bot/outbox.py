"""The outbox: everything Breakroom must post, edit or delete in Discord exactly once, whatever the
feature — prompt posts, answers, poll messages and results, reflections, scheduled deletions.

A feature adds a delivery (`enqueue`) in the transaction that makes the work due, so the work and
the promise to deliver it commit together. The one sender, `bot/courier.py`, claims it, sends, and
reports back here; the feature is told the outcome through the hooks it registered for its kind
(`register`), in the transaction that records it. The rules, the same for every kind:

- **claim**: an attempt claims a delivery for this run of the bot with a lease (`LEASE`); until
  the lease ends nobody else takes it. A run that stopped mid-attempt leaves it to whoever comes
  after the lease, and that attempt looks for the earlier one's message before sending.
- **back-off**: a failure that may pass (5xx, 429, the network) is tried again after 30 s, 1 min,
  2 min … at most `BACKOFF_LIMIT` apart.
- **give up**: when Discord refuses it (403, 404, another 4xx) or its deadline passes. The reason
  is kept for managers (`troubles`) until the team's settings change (`retry_team`).

Feature logic only: plain async Python over the database, nothing from discord.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock, from_ts, to_ts
from bot.db import Database, Row, Transaction
from bot.i18n import _
from bot.sharding import EVERY_SERVER, Shards

#: How long one attempt may run before another run may take the delivery over.
LEASE = timedelta(minutes=2)
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_LIMIT = timedelta(minutes=30)
#: Deliveries one pass of the job claims at most (the rest wait for the next pass, right after).
PASS_LIMIT = 100


def backoff(failures: int) -> timedelta:
    """The pause after the n-th failure in a row (n ≥ 1): 30 s, 1 min, 2 min … at most 30 min."""
    pause: timedelta = BACKOFF_FIRST * 2 ** min(max(failures, 1) - 1, 16)
    return min(pause, BACKOFF_LIMIT)


def new_id() -> int:
    """Random row ids: rows written together (one member's deletions) must not sit together."""
    return secrets.randbelow(2**62) + 1


def new_nonce() -> str:
    return secrets.token_hex(10)  # Discord allows 25 characters


@dataclass(frozen=True, slots=True)
class Delivery:
    """One claimed attempt. Only its holder (`attempt` is the claim's number) records how it went;
    `is_repeat`: an earlier attempt may have reached Discord unrecorded (its answer lost, its run
    stopped), so the sender looks for that one's message before sending."""

    id: int
    kind: str
    subject: int | None
    box: bytes | None
    team_id: int | None
    attempt: int
    nonce: str
    deadline: datetime | None
    error: str | None

    @property
    def is_repeat(self) -> bool:
        return self.attempt > 1

    @classmethod
    def from_row(cls, row: Row) -> Delivery:
        return cls(
            id=row["id"],
            kind=row["kind"],
            subject=row["subject"],
            box=None if row["box"] is None else bytes(row["box"]),
            team_id=row["team_id"],
            attempt=row["attempts"],
            nonce=row["nonce"],
            deadline=from_ts(row["deadline"]),
            error=row["error"],
        )


@dataclass(frozen=True, slots=True)
class Sent:
    """What Discord did: the message (in `channel_id`, a thread's id for a message in a thread),
    and the thread opened from or for it, if any. `message_id` is None for a deletion."""

    message_id: int | None
    channel_id: int
    thread_id: int | None = None


@dataclass(frozen=True, slots=True)
class Trouble:
    """A delivery that failed, for managers: given up, or retrying at `retry_at`."""

    kind: str
    error: str
    retry_at: datetime | None


#: Told in the recording transaction that it was delivered; False: the subject is gone (deleted
#: while the attempt ran), so what was sent must be deleted too.
Delivered = Callable[[Transaction, Delivery, Sent], Awaitable[bool]]
#: Told in the recording transaction that it was given up, and why.
GivenUp = Callable[[Transaction, Delivery, str], Awaitable[None]]


async def _nothing(tx: Transaction, delivery: Delivery, reason: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class _Hooks:
    delivered: Delivered
    given_up: GivenUp


class Outbox:
    def __init__(self, db: Database, clock: Clock, shards: Shards = EVERY_SERVER) -> None:
        self.db = db
        self.clock = clock
        #: the job sends only the deliveries of these shards' servers' teams (bot/sharding.py)
        self.shards = shards
        #: names this run's claims: one per bot, so a claim under another name was another run's
        self.run_id = secrets.token_hex(8)
        self._hooks: dict[str, _Hooks] = {}

    def register(self, kind: str, delivered: Delivered, given_up: GivenUp = _nothing) -> None:
        self._hooks[kind] = _Hooks(delivered, given_up)

    # -- what features call -------------------------------------------------------------------

    async def enqueue(
        self,
        tx: Transaction,
        kind: str,
        subject: int | None = None,
        *,
        team_id: int | None,
        due_at: datetime | None = None,
        deadline: datetime | None = None,
        box: bytes | None = None,
        nonce: str | None = None,
        delivery_id: int | None = None,
        waited_for: bool = False,
    ) -> int:
        """Make a delivery due (at `due_at`, default now), in the caller's transaction. A subject
        already in the outbox is due again: at once if it was waiting or given up, right after
        the attempt that holds it otherwise (it may have sent the old version).

        `delivery_id`: a random id of the caller's (default `new_id`). Deliveries due together go
        out in the order of their ids, so a feature that draws them from its own random source
        decides that order (reflections: a seeded one in tests).

        `waited_for`: a member waits for it, and their interaction makes the first attempt
        (`Courier.attempt(id, early=True)`): due only after a lease, so the job leaves it to them
        unless the bot stops first."""
        now = self.clock.now()
        due = to_ts(due_at or (now + LEASE if waited_for else now))
        if subject is not None:
            row = await tx.fetchone(
                "SELECT id, state FROM deliveries WHERE kind = ? AND subject = ?", (kind, subject)
            )
            if row is not None:
                if row["state"] == "sending":
                    await tx.execute("UPDATE deliveries SET again = 1 WHERE id = ?", (row["id"],))
                else:
                    await tx.execute(
                        "UPDATE deliveries SET state = 'due', due_at = ?, deadline = ?,"
                        " attempts = 0, error = NULL WHERE id = ?",
                        (due, to_ts(deadline) if deadline else None, row["id"]),
                    )
                return int(row["id"])
        delivery_id = delivery_id or new_id()
        await tx.execute(
            "INSERT INTO deliveries (id, kind, subject, box, team_id, due_at, deadline, nonce)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                delivery_id,
                kind,
                subject,
                box,
                team_id,
                due,
                to_ts(deadline) if deadline else None,
                nonce or new_nonce(),
            ),
        )
        return delivery_id

    async def pending(self, kind: str, subject: int) -> int | None:
        """The delivery of this subject still to be made (or given up), if any."""
        found = await self.db.fetchval(
            "SELECT id FROM deliveries WHERE kind = ? AND subject = ?", (kind, subject)
        )
        return None if found is None else int(found)

    async def sealed(self, tx: Transaction, kind: str, team_ids: set[int]) -> list[bytes]:
        """The sealed subjects of these teams' deliveries of a kind (for its feature to open)."""
        marks = ",".join("?" * len(team_ids))
        rows = await tx.fetchall(
            f"SELECT box FROM deliveries WHERE kind = ? AND box IS NOT NULL"
            f" AND team_id IN ({marks})",
            (kind, *sorted(team_ids)),
        )
        return [bytes(row["box"]) for row in rows]

    async def troubles(self, team_id: int) -> list[Trouble]:
        """The team's deliveries that failed, newest reason first: for managers."""
        rows = await self.db.fetchall(
            "SELECT kind, state, due_at, error FROM deliveries"
            " WHERE team_id = ? AND error IS NOT NULL ORDER BY state = 'given_up' DESC, due_at",
            (team_id,),
        )
        return [
            Trouble(
                row["kind"],
                row["error"],
                None if row["state"] == "given_up" else from_ts(row["due_at"]),
            )
            for row in rows
        ]

    async def retry_team(self, tx: Transaction, team_id: int) -> int:
        """The team's settings changed (a new channel, a permission fixed): what was given up
        (and whose deadline hasn't passed) is tried again now."""
        return await tx.execute(
            "UPDATE deliveries SET state = 'due', due_at = ?, attempts = attempts"
            " WHERE team_id = ? AND state = 'given_up' AND (deadline IS NULL OR deadline > ?)",
            (to_ts(self.clock.now()), team_id, to_ts(self.clock.now())),
        )

    # -- what the sender calls ----------------------------------------------------------------

    async def due(self, now: datetime, limit: int = PASS_LIMIT) -> list[int]:
        """Deliveries an attempt may claim now: due, or left 'sending' past their lease."""
        ours, params = self.shards.where_team("team_id")
        rows = await self.db.fetchall(
            f"SELECT id FROM deliveries WHERE state != 'given_up' AND due_at <= ? AND {ours}"
            " ORDER BY due_at, id LIMIT ?",
            (to_ts(now), *params, limit),
        )
        return [row["id"] for row in rows]

    async def next_due(self) -> datetime | None:
        ours, params = self.shards.where_team("team_id")
        return from_ts(
            await self.db.fetchval(
                f"SELECT MIN(due_at) FROM deliveries WHERE state != 'given_up' AND {ours}", params
            )
        )

    async def claim(self, delivery_id: int, *, early: bool = False) -> Delivery | None:
        """Claim the next attempt if the delivery is due (or its lease ended): of two passes or
        runs, one gets it. None when it isn't due, is gone, or was given up at its deadline.
        `early`: a member waits for it, so it is claimed before its due time unless an attempt
        holds it (enqueued due a little later, it is theirs to try first)."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT * FROM deliveries WHERE id = ? AND state != 'given_up'"
                " AND (due_at <= ? OR (? = 1 AND state = 'due'))",
                (delivery_id, to_ts(now), int(early)),
            )
            if row is None:
                return None
            if row["deadline"] is not None and row["deadline"] <= to_ts(now):
                reason = row["error"] or _("It could not be delivered in time.")
                await self._give_up(tx, Delivery.from_row(row), reason)
                return None
            # Conditional on the attempt read above: another process (shards overlapping after a
            # restart) may have claimed it since; at READ COMMITTED its update waits for ours,
            # then finds `attempts` moved on and changes nothing.
            if not await tx.execute(
                "UPDATE deliveries SET state = 'sending', due_at = ?, claimed_by = ?,"
                " attempts = attempts + 1, again = 0"
                " WHERE id = ? AND attempts = ? AND state = ? AND due_at = ?",
                (
                    to_ts(now + LEASE),
                    self.run_id,
                    delivery_id,
                    row["attempts"],
                    row["state"],
                    row["due_at"],
                ),
            ):
                return None
            claimed = await tx.fetchone("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))
        assert claimed is not None
        return Delivery.from_row(claimed)

    async def _holds(self, tx: Transaction, delivery: Delivery) -> Row | None:
        """The row, if this attempt still holds it (a later attempt may have taken it over),
        locked until `tx` ends: an update that matches nothing but keeps the row as it is, so
        that another process's claim of it (an attempt that outlived its lease) waits for this
        outcome and then finds the row changed, instead of both going ahead."""
        if not await tx.execute(
            "UPDATE deliveries SET attempts = attempts WHERE id = ? AND state = 'sending'"
            " AND attempts = ? AND claimed_by = ?",
            (delivery.id, delivery.attempt, self.run_id),
        ):
            return None
        return await tx.fetchone("SELECT * FROM deliveries WHERE id = ?", (delivery.id,))

    async def delivered(self, delivery: Delivery, sent: Sent) -> bool:
        """Discord has it: the feature records it, and the delivery is done — or due again at
        once when its subject changed meanwhile. False: the subject is gone, undo what was sent.
        A later attempt that took over is told nothing here: the feature's record is kept all
        the same (it did reach Discord), and that attempt finds the message when it looks."""
        async with self.db.transaction() as tx:
            kept = await self._hooks[delivery.kind].delivered(tx, delivery, sent)
            row = await self._holds(tx, delivery)
            if row is None:
                return kept
            if kept and row["again"]:
                await tx.execute(
                    "UPDATE deliveries SET state = 'due', due_at = ?, attempts = 0, again = 0,"
                    " error = NULL, nonce = ? WHERE id = ?",
                    (to_ts(self.clock.now()), new_nonce(), delivery.id),
                )
            else:
                await tx.execute("DELETE FROM deliveries WHERE id = ?", (delivery.id,))
            return kept

    async def failed(self, delivery: Delivery, reason: str, *, retry: bool) -> datetime | None:
        """The attempt failed: when it is tried again, or None when it was given up (not worth
        retrying, or the next try would come after its deadline)."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            row = await self._holds(tx, delivery)
            if row is None:
                return None
            retry_at = now + backoff(delivery.attempt)
            if row["again"]:
                retry_at = now  # changed meanwhile: the new version may fare better
            if not retry or (delivery.deadline is not None and retry_at >= delivery.deadline):
                await self._give_up(tx, delivery, reason)
                return None
            await tx.execute(
                "UPDATE deliveries SET state = 'due', due_at = ?, again = 0, error = ?"
                " WHERE id = ?",
                (to_ts(retry_at), reason[:500], delivery.id),
            )
            return retry_at

    async def released(self, delivery: Delivery) -> None:
        """The attempt stopped before sending anything (the bot is stopping): due again now."""
        async with self.db.transaction() as tx:
            if await self._holds(tx, delivery) is not None:
                await tx.execute(
                    "UPDATE deliveries SET state = 'due', due_at = ?, attempts = attempts - 1"
                    " WHERE id = ?",
                    (to_ts(self.clock.now()), delivery.id),
                )

    async def drop(self, delivery: Delivery) -> None:
        """Nothing to deliver any more (its subject is gone, or needs nothing)."""
        await self.db.execute("DELETE FROM deliveries WHERE id = ?", (delivery.id,))

    async def _give_up(self, tx: Transaction, delivery: Delivery, reason: str) -> None:
        await tx.execute(
            "UPDATE deliveries SET state = 'given_up', error = ?, claimed_by = NULL WHERE id = ?",
            (reason[:500], delivery.id),
        )
        await self._hooks[delivery.kind].given_up(tx, delivery, reason)


async def due_lanes(outbox: Outbox, now: datetime, limit: int = PASS_LIMIT) -> list[list[int]]:
    """`Outbox.due`, by team: each team's deliveries in `due`'s order (one lane for those of no
    team). A lane's go out one after another, lanes side by side (bot/lanes.py)."""
    ours, params = outbox.shards.where_team("team_id")
    rows = await outbox.db.fetchall(
        f"SELECT id, team_id FROM deliveries WHERE state != 'given_up' AND due_at <= ? AND {ours}"
        " ORDER BY due_at, id LIMIT ?",
        (to_ts(now), *params, limit),
    )
    lanes: dict[int | None, list[int]] = {}
    for row in rows:
        lanes.setdefault(row["team_id"], []).append(row["id"])
    return list(lanes.values())
