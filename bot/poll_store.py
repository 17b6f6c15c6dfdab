"""Polls, the rows: reading polls with their options, and storing a new one (with its post in the
outbox) — inside a caller's transaction, for `bot/polls.py` and `bot/poll_runs.py` alike.

Feature logic only: plain async Python over the database, nothing from discord.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.db import Row, Transaction
from bot.errors import NotFound
from bot.i18n import _
from bot.outbox import Outbox
from bot.poll_model import (
    UNKNOWN_POLL,
    Poll,
    counts_stepped,
    option_from_row,
    poll_from_row,
    to_ts,
)

#: the outbox's kind for the poll message in the team channel
POST = "poll_post"

_POLL_SELECT = "SELECT p.*, t.name AS team_name FROM polls p JOIN teams t ON t.id = p.team_id"


async def load_polls(tx: Transaction, where: str, params: Sequence[object]) -> list[Poll]:
    """The polls matching `where` (over `polls p`), each with its options, in the order asked."""
    rows = await tx.fetchall(f"{_POLL_SELECT} WHERE {where}", params)
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    marks = ",".join("?" * len(ids))
    options = await tx.fetchall(
        f"SELECT * FROM poll_options WHERE poll_id IN ({marks}) ORDER BY poll_id, position",
        ids,
    )
    by_poll: dict[int, list[Row]] = {}
    for option in options:
        by_poll.setdefault(option["poll_id"], []).append(option)
    return [
        poll_from_row(
            row,
            [option_from_row(o, counts_stepped(row)) for o in by_poll.get(row["id"], [])],
        )
        for row in rows
    ]


async def get_poll(tx: Transaction, poll_id: int, guild_id: int | None) -> Poll:
    """The poll; with `guild_id`, only if it belongs to that server (else NotFound)."""
    polls = await load_polls(tx, "p.id = ?", (poll_id,))
    if not polls or (guild_id is not None and polls[0].guild_id != guild_id):
        raise NotFound(_(UNKNOWN_POLL, ref=f"#{poll_id}"))
    return polls[0]


async def insert_poll(
    tx: Transaction,
    outbox: Outbox,
    now: datetime,
    team_id: int,
    guild_id: int,
    creator_id: int,
    question: str,
    labels: Sequence[str],
    *,
    multiple: bool,
    anonymous: bool,
    hide_results: bool,
    duration: timedelta,
    rerun_of: int | None,
) -> Poll:
    """Store a new poll, open from `now` for `duration`, and put its message in the outbox: the
    member's own attempt goes first (`early`), the outbox job takes it over after a lease if
    that never happens (the bot stopped). Not posted by the poll's deadline: given up, and the
    poll forgotten."""
    poll_id = await tx.insert(
        "INSERT INTO polls (team_id, guild_id, creator_id, question, multiple, anonymous,"
        " hide_results, created_at, closes_at, rerun_of)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            team_id,
            guild_id,
            creator_id,
            question,
            int(multiple),
            int(anonymous),
            int(hide_results),
            to_ts(now),
            to_ts(now + duration),
            rerun_of,
        ),
    )
    assert poll_id is not None
    await tx.executemany(
        "INSERT INTO poll_options (poll_id, position, label) VALUES (?, ?, ?)",
        [(poll_id, position, label) for position, label in enumerate(labels, start=1)],
    )
    poll = await get_poll(tx, poll_id, None)
    await outbox.enqueue(
        tx, POST, poll_id, team_id=team_id, deadline=poll.closes_at, waited_for=True
    )
    return poll
