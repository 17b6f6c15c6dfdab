"""The big-data benchmark's database: thousands of servers' worth of teams, posts, answers, polls,
votes and reflections, written as bulk SQL straight into the SQLite file before the bot starts.

The rows are the ones Breakroom itself writes (the schema's migrations make the file first):
posted prompts with their answers, closed and open polls with their options, counters and votes,
sealed ballots of the open anonymous polls (bot/poll_ballots.py, keyed hashes of bot/polls.py),
and reflections shared in batches with their keyed hashes (bot/reflection_text.py,
bot/reflection_store.py), all under the key the bench's BREAKROOM_SECRET gives. The vote triggers
are dropped while the votes go in and put back after, with the counters they would have kept
computed here: a million trigger runs would take minutes.

One team, the *big team* (the first team of the first server), holds much of it: two years of
weekly posts (repeats included) with hundreds of answers each, a hundred polls (re-runs among
them) with thousands of votes each, and thousands of shared reflections. The others share the
rest evenly.

This module makes the schema, the servers, their prompts and teams, runs the other kinds in one
transaction and counts what went in: the posts and answers in tests/bench/bigdata_seed_posts.py,
the polls, votes and ballots in tests/bench/bigdata_seed_polls.py, the reflections in
tests/bench/bigdata_seed_reflections.py, sharing the state of tests/bench/bigdata_seed_state.py;
the sizes are tests/bench/bigdata_config.py's `BigSize`.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.db import Database
from bot.prompt_bank import prompt_key
from bot.secret import load_or_create_key
from bot.teams import name_key
from tests.bench.bigdata_config import BigSize
from tests.bench.bigdata_seed_polls import seed_polls
from tests.bench.bigdata_seed_posts import seed_posts
from tests.bench.bigdata_seed_reflections import seed_reflections
from tests.bench.bigdata_seed_state import DAY, Seeded, SeedState


def _vote_triggers(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        " AND tbl_name IN ('poll_votes', 'poll_ballots')"
    ).fetchall()


async def create_schema(db_path: Path) -> None:
    """The schema, as the bot's migrations make it."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = await Database.open(db_path)
    await db.close()


async def seed_big(
    db_path: Path,
    secret: str,
    guilds: list[tuple[int, list[int], int]],
    size: BigSize,
    now: datetime | None = None,
) -> Seeded:
    """Fill the database at `db_path` (made by the migrations first). `guilds`: per server its
    id, its team channels' ids and its manager's id (the double's world)."""
    started = time.perf_counter()
    await create_schema(db_path)
    key = load_or_create_key(secret, db_path.with_name("unused.key"), db_path)
    seeded = _run(db_path, SeedState(key, guilds, size, now or datetime.now(UTC)))
    seeded.seconds = time.perf_counter() - started
    return seeded


def _run(db_path: Path, state: SeedState) -> Seeded:
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        triggers = _vote_triggers(conn)
        conn.execute("BEGIN")
        for name, _sql in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        _guilds_and_teams(state, conn)
        seed_posts(state, conn)
        seed_polls(state, conn)
        seed_reflections(state, conn)
        for _name, sql in triggers:
            conn.execute(sql)
        conn.execute("COMMIT")
        # no ANALYZE: the bot never runs it, so its planner works without statistics here too
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for table in ("teams", "prompt_posts", "prompt_answers", "polls", "poll_votes"):
            state.seeded.counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        state.seeded.counts["poll_ballots"] = conn.execute(
            "SELECT count(*) FROM poll_ballots"
        ).fetchone()[0]
        state.seeded.counts["votes"] = conn.execute(
            "SELECT sum(votes) FROM poll_options"
        ).fetchone()[0]
        state.seeded.counts["reflections"] = conn.execute(
            "SELECT count(*) FROM reflections"
        ).fetchone()[0]
    finally:
        conn.close()
    return state.seeded


def _guilds_and_teams(state: SeedState, conn: sqlite3.Connection) -> None:
    size, now = state.size, state.now
    joined = now - 2 * 365 * DAY - 30 * DAY
    # A weekly slot 3 days from now: the last one was 4 days ago, none is due in the run.
    slot = datetime.fromtimestamp(now + 3 * DAY, UTC)
    weekday, hhmm = slot.weekday(), "09:00"
    guild_rows, bank_rows, prompt_rows, team_rows, schedule_rows = [], [], [], [], []
    for g, (guild_id, channels, manager) in enumerate(state.guilds):
        guild_rows.append((guild_id, joined))
        bank_rows.append((guild_id, joined))
        ids = []
        count = size.prompts_per_guild
        for n in range(count):
            prompt_id = state.ids("prompts")
            text = f"Prompt {n + 1} of office {g + 1}: what made this week's work matter?"
            prompt_rows.append((prompt_id, guild_id, text, prompt_key(text), 1, joined))
            ids.append(prompt_id)
        state.prompts[guild_id] = ids
        for t, channel_id in enumerate(channels):
            team_id = state.ids("teams")
            name = f"Team {t + 1}"
            created = joined + DAY
            state.teams[team_id] = (guild_id, channel_id, manager, created)
            team_rows.append(
                (team_id, guild_id, name, name_key(name), channel_id, weekday, hhmm, created)
            )
            schedule_rows.append((team_id, created))
    conn.executemany("INSERT INTO guilds (guild_id, joined_at) VALUES (?, ?)", guild_rows)
    conn.executemany("INSERT INTO prompt_banks (guild_id, seeded_at) VALUES (?, ?)", bank_rows)
    conn.executemany(
        "INSERT INTO prompts (id, guild_id, text, text_key, starter, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        prompt_rows,
    )
    conn.executemany(
        "INSERT INTO teams (id, guild_id, name, name_key, channel_id, schedule_weekday,"
        " schedule_time, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        team_rows,
    )
    conn.executemany(
        "INSERT INTO prompt_schedules (team_id, active_since) VALUES (?, ?)", schedule_rows
    )
