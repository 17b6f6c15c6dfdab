"""An office's database from before migration 0008 (per-option anonymous votes, per-batch author
markers, a daily counter, a threshold of 1) upgraded in place: nothing counted is lost, voters are
still recognised, and nothing of the old linkable markers is left. And one from before the outbox
(0009) with reflections being posted and removed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.clock import ManualClock
from bot.db import Database
from bot.outbox import Sent
from bot.poll_model import Vote, VoteRequest
from bot.polls import Polls
from bot.reflection_batches import ReflectionBatches
from bot.reflection_text import PostedMessage
from bot.reflections import Reflections
from bot.sealed import Sealer
from bot.teams import Teams
from tests.support import database_before, post_released, share_and_post

GUILD = 424242424242424242
CHANNEL = 700000000000000001
KEY = b"k" * 32
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
VOTERS = (910000000000000001, 920000000000000002, 930000000000000003)


async def old_database(tmp_path: Path) -> Path:
    """A database at schema 6 (before 0008), with what an office would have in it."""
    db, db_path = await database_before(tmp_path, 8)
    voter = Polls(db, ManualClock(NOW), KEY).voter_hash
    now = int(NOW.timestamp())
    try:
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO teams (id, guild_id, name, name_key, channel_id, timezone,"
                " reflection_threshold, created_at) VALUES (1, ?, 'Front desk', 'front desk', ?,"
                " 'UTC', 1, ?)",
                (GUILD, CHANNEL, now - 86400),
            )
            for poll_id, closed in ((1, None), (2, now - 60)):
                await tx.execute(
                    "INSERT INTO polls (id, team_id, guild_id, creator_id, question, multiple,"
                    " anonymous, created_at, closes_at, closed_at, channel_id, message_id)"
                    " VALUES (?, 1, ?, 5, 'Swap desks?', ?, 1, ?, ?, ?, ?, ?)",
                    (poll_id, GUILD, poll_id - 1, now - 3600, now + 3600, closed, CHANNEL, poll_id),
                )
                await tx.executemany(
                    "INSERT INTO poll_options (id, poll_id, position, label) VALUES (?, ?, ?, ?)",
                    [(10 * poll_id + n, poll_id, n, label) for n, label in ((1, "Yes"), (2, "No"))],
                )
            # Open single-choice poll 1: Yes, No, No. Closed multiple-choice poll 2: both, Yes.
            rows = [(1, voter(GUILD, VOTERS[0], 1), 11), (1, voter(GUILD, VOTERS[1], 1), 12)]
            rows += [(1, voter(GUILD, VOTERS[2], 1), 12), (2, voter(GUILD, VOTERS[0], 2), 21)]
            rows += [(2, voter(GUILD, VOTERS[0], 2), 22), (2, voter(GUILD, VOTERS[1], 2), 21)]
            await tx.executemany(
                "INSERT INTO poll_anonymous_votes (poll_id, voter_hash, option_id)"
                " VALUES (?, ?, ?)",
                rows,
            )
            for n in range(2):  # two pending reflections, with the old linkable markers
                await tx.execute(
                    "INSERT INTO reflections (id, team_id, state, body, ref, code_hash, nonce,"
                    " author_hash, key_id) VALUES (?, 1, 'pending', ?, ?, ?, ?, ?, ?)",
                    (n + 1, f"old pending {n}", f"REF{n}A", bytes([n]) * 32, b"n", b"a", b"k"),
                )
            await tx.execute(
                "INSERT INTO reflection_pending_authors (team_id, marker, key_id) VALUES (1, ?, ?)",
                (b"m" * 32, b"k"),
            )
            await tx.execute(
                "INSERT INTO reflection_daily (team_id, marker, day, expires_at, written)"
                " VALUES (1, ?, '2026-01-05', ?, 2)",
                (b"d" * 32, now + 3600),
            )
    finally:
        await db.close()
    return db_path


async def test_an_old_database_upgrades_without_losing_or_linking_anything(
    tmp_path: Path,
) -> None:
    db = await Database.open(await old_database(tmp_path))
    clock = ManualClock(NOW)
    try:
        polls = Polls(db, clock, KEY)
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
        assert not {"reflection_pending_authors", "reflection_daily"} & tables
        team = await Teams(db, clock).get(1)
        assert (team.reflection_threshold, team.reflection_share_time) == (3, "17:00")
        # The closed poll keeps its counts and forgets its voters; the open one's are sealed.
        assert await db.fetchval("SELECT count(*) FROM poll_anonymous_votes") == 3
        assert await polls.seal_legacy_votes() == 3
        assert await polls.seal_legacy_votes() == 0
        assert await db.fetchval("SELECT count(*) FROM poll_anonymous_votes") == 0
        closed = await polls.get(2)
        assert [o.votes for o in closed.options] == [2, 1] and closed.voters == 2
        # The same members are still recognised in the open poll: a click moves a vote.
        [vote] = await polls.vote_many([VoteRequest(1, 11, GUILD, VOTERS[1])])
        assert isinstance(vote, Vote) and vote.action == "moved"
        exact = await db.fetchall("SELECT votes FROM poll_options WHERE poll_id = 1 ORDER BY id")
        assert [r[0] for r in exact] == [2, 1]
        # The old pending reflections wait under 3 authors and count as one together.
        rows = await db.fetchall("SELECT min_authors, author_box FROM reflections")
        assert {tuple(r) for r in rows} == {(3, None)}
        reflections = Reflections(db, clock, KEY)
        await reflections.write(team, VOTERS[0], "a new one")
        assert await share_and_post(db, clock, KEY, team.id, CHANNEL) == []
        await reflections.write(team, VOTERS[1], "another new one")
        posted = await share_and_post(db, clock, KEY, team.id, CHANNEL)
        assert sorted(r.body or "" for r in posted) == [
            "a new one",
            "another new one",
            "old pending 0",
            "old pending 1",
        ]
    finally:
        await db.close()


async def test_reflection_work_from_before_the_outbox_is_finished_by_it(tmp_path: Path) -> None:
    """A database at schema 8 with a batch being posted (one sent, two still queued after a
    failure managers were shown) and a removal `/forget-me` scheduled: after 0009 the outbox
    posts the two, managers still see the failure until then, and the sealed removal opens."""
    db, db_path = await database_before(tmp_path, 9)
    now = int(NOW.timestamp())
    try:
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO teams (id, guild_id, name, name_key, channel_id, timezone,"
                " created_at) VALUES (1, ?, 'Front desk', 'front desk', ?, 'UTC', ?)",
                (GUILD, CHANNEL, now - 86400),
            )
            for n, state in ((7, "posted"), (8, "queued"), (9, "queued")):
                await tx.execute(
                    "INSERT INTO reflections (id, team_id, state, body, ref, code_hash, nonce,"
                    " author_hash, key_id, posted_at, channel_id, message_id, send_attempts)"
                    " VALUES (?, 1, ?, ?, ?, ?, 'n', 'a', 'k', ?, ?, ?, 1)",
                    (
                        n,
                        state,
                        f"reflection {n}",
                        f"REF{n}A",
                        bytes([n]) * 32,
                        now - 600,
                        CHANNEL if state == "posted" else None,
                        700 + n if state == "posted" else None,
                    ),
                )
            await tx.execute(
                "INSERT INTO reflection_teams (team_id, next_share_at, retry_at, last_error)"
                " VALUES (1, ?, ?, 'Discord answered 503')",
                (now + 3600, now - 60),
            )
            # Sealed as bot/reflections.py sealed it before the outbox.
            box = Sealer(KEY, "reflections").seal(b"7", b"erase")
            await tx.execute(
                "INSERT INTO reflection_erasures (id, team_id, box, due_at) VALUES (?, 1, ?, ?)",
                (123456789012345, box, now + 120),
            )
    finally:
        await db.close()

    db = await Database.open(db_path)
    clock = ManualClock(NOW)
    try:
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
        assert "reflection_erasures" not in tables
        reflections = Reflections(db, clock, KEY)
        batches = ReflectionBatches(db, clock, KEY, outbox=reflections.outbox)
        overview = await reflections.overview(1)
        assert overview.trouble is not None and overview.trouble.error == "Discord answered 503"
        assert overview.waiting_to_post == 2
        posted = await post_released(batches, 1, CHANNEL)
        assert sorted(r.id for r in posted) == [8, 9]
        overview = await reflections.overview(1)
        assert (overview.posted, overview.trouble) == (3, None)
        # The removal: due at its time, its box opens to the reflection, then the row goes.
        outbox = batches.outbox
        assert await outbox.due(clock.now()) == []
        clock.advance(minutes=2)
        [erasure_id] = await outbox.due(clock.now())
        erasure = await outbox.claim(erasure_id)
        assert erasure is not None and erasure.kind == "reflection_erasure"
        assert await batches.to_erase(erasure.box) == PostedMessage(CHANNEL, 707)
        assert await outbox.delivered(erasure, Sent(None, CHANNEL))
        assert await db.fetchval("SELECT COUNT(*) FROM reflections WHERE id = 7") == 0
        assert await db.fetchval("SELECT COUNT(*) FROM deliveries") == 0
    finally:
        await db.close()
