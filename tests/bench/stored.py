"""What the database holds after a phase, compared with what the clicks must have produced.

Read on a connection of its own, as an outsider would, never through the bot: SQLite through a
read-only `sqlite3` connection on the file, PostgreSQL through `asyncpg` in one read-only
transaction (one snapshot, while the shard processes may still be writing). The same queries run
on both: each takes one parameter, written `{p}` here (`?1` for SQLite, `$1` for asyncpg).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.bench.world import OPTIONS

QUERIES = {
    "rows": "SELECT user_id, option_id FROM poll_votes WHERE poll_id = {p}",
    # An anonymous poll's ballots are sealed: only their number can be read without the key.
    "ballots": "SELECT count(*) FROM poll_ballots WHERE poll_id = {p}",
    "counters": "SELECT id, votes FROM poll_options WHERE poll_id = {p}",
    "voters": "SELECT voters FROM polls WHERE id = {p}",
    # The seeded polls' votes must not move: anonymous ones are sealed ballots (single-choice
    # seeded polls, one per voter). `{p}` is the LIKE pattern here.
    "others": "SELECT (SELECT count(*) FROM poll_votes v JOIN polls p ON p.id = v.poll_id"
    "        WHERE p.question LIKE {p})"
    " + (SELECT count(*) FROM poll_ballots b JOIN polls p ON p.id = b.poll_id"
    "    WHERE p.question LIKE {p})",
}
SEEDED = "Seeded question%"


@dataclass(frozen=True, slots=True)
class Stored:
    """One poll's votes as stored, and the seeded polls' vote count."""

    rows: list[tuple[int, int]]
    ballots: int
    counters: dict[int, int]
    voters: int
    others: int


def expected_counts(expected: dict[int, str]) -> dict[str, int]:
    counts = dict.fromkeys(OPTIONS, 0)
    for label in expected.values():
        counts[label] += 1
    return counts


def read_sqlite(path: Path, poll_id: int) -> Stored:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        q = {name: sql.format(p="?1") for name, sql in QUERIES.items()}
        with conn:  # one read transaction: one moment for every figure
            conn.execute("BEGIN")
            return Stored(
                rows=[tuple(r) for r in conn.execute(q["rows"], (poll_id,)).fetchall()],
                ballots=conn.execute(q["ballots"], (poll_id,)).fetchone()[0],
                counters=dict(conn.execute(q["counters"], (poll_id,)).fetchall()),
                voters=conn.execute(q["voters"], (poll_id,)).fetchone()[0],
                others=conn.execute(q["others"], (SEEDED,)).fetchone()[0],
            )
    finally:
        conn.close()


async def read_postgresql(url: str, poll_id: int) -> Stored:
    conn = await asyncpg.connect(url, timeout=15)
    try:
        q = {name: sql.format(p="$1") for name, sql in QUERIES.items()}
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return Stored(
                rows=[(r[0], r[1]) for r in await conn.fetch(q["rows"], poll_id)],
                ballots=await conn.fetchval(q["ballots"], poll_id),
                counters={r[0]: r[1] for r in await conn.fetch(q["counters"], poll_id)},
                voters=await conn.fetchval(q["voters"], poll_id),
                others=await conn.fetchval(q["others"], SEEDED),
            )
    finally:
        await conn.close()


async def read(target: Path | str, poll_id: int) -> Stored:
    """`target`: the SQLite file, or a `postgresql://` URL."""
    if isinstance(target, str):
        return await read_postgresql(target, poll_id)
    return read_sqlite(target, poll_id)


def compare(
    stored: Stored,
    option_ids: dict[str, int],
    expected: dict[int, str],
    seeded_votes: int,
    anonymous: bool = False,
) -> tuple[bool, str]:
    """Every stored vote and counter against the click sequence's outcome: (exact, note)."""
    want = {user: option_ids[label] for user, label in expected.items()}
    votes = dict(stored.rows)
    problems = []
    if anonymous:
        if stored.rows or stored.ballots != len(want):
            problems.append(f"{stored.ballots} ballots for {len(want)} voters")
    elif len(stored.rows) != len(votes) or votes != want:
        wrong = sum(1 for u in set(votes) | set(want) if votes.get(u) != want.get(u))
        problems.append(f"{wrong} members' stored votes differ from their clicks")
    want_counts = {option_ids[label]: n for label, n in expected_counts(expected).items()}
    if stored.counters != want_counts:
        problems.append(f"option counters {stored.counters} != {want_counts}")
    if stored.voters != len(want):
        problems.append(f"voters counter {stored.voters} != {len(want)}")
    if stored.others != seeded_votes:
        problems.append(f"seeded votes {stored.others} != {seeded_votes}")
    if problems:
        return False, "; ".join(problems)
    counts = "/".join(str(n) for n in expected_counts(expected).values())
    return True, f"{len(want)} votes ({counts})"


async def check_stored(
    target: Path | str,
    poll_id: int,
    option_ids: dict[str, int],
    expected: dict[int, str],
    seeded_votes: int,
    anonymous: bool = False,
) -> tuple[bool, str]:
    """Read the database (SQLite file or PostgreSQL URL) and compare it with the clicks."""
    stored = await read(target, poll_id)
    return compare(stored, option_ids, expected, seeded_votes, anonymous)
