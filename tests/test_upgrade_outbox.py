"""A database from before the one outbox (migration 0009) with work under way: a weekly post
waiting for its retry, one a stopped run left half-sent, an answer whose thread message failed,
a poll result waiting for its retry and one a stopped run was posting. Upgraded in place, each is
a delivery in the outbox that looks before it sends, with the same deadline as before (the slot
+ 12 hours, the save + 1 day, the close + 1 day). Reflections: tests/test_upgrade_anonymity.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.clock import ManualClock
from bot.db import Database
from bot.prompts import Prompts
from tests.support import database_before

GUILD, CHANNEL = 424242424242424242, 700000000000000001
NOW = datetime(2026, 1, 5, 9, 40, tzinfo=UTC)
SLOT = int(datetime(2026, 1, 5, 9, 30, tzinfo=UTC).timestamp())


async def old_database(tmp_path: Path) -> Path:
    """A database at schema 8 (before 0009), with prompt and poll work under way."""
    db, db_path = await database_before(tmp_path, 9)
    now = int(NOW.timestamp())
    try:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO guilds (guild_id, joined_at) VALUES (?, 0)", (GUILD,))
            for team_id in (1, 2, 3):
                await tx.execute(
                    "INSERT INTO teams (id, guild_id, name, name_key, channel_id, created_at)"
                    " VALUES (?, ?, ?, ?, ?, 0)",
                    (team_id, GUILD, f"Team {team_id}", f"team {team_id}", CHANNEL + team_id),
                )
            await tx.execute(
                "INSERT INTO prompts (id, guild_id, text, text_key, created_at)"
                " VALUES (1, ?, 'Job or career?', 'jobor career?', 0)",
                (GUILD,),
            )
            posts = [
                # waiting for its retry after a 503; left 'sending' by a stopped run; posted
                (1, 1, SLOT, "retry", 1, "old-run", now - 60, None, "Discord had a problem."),
                (2, 2, SLOT, "sending", 1, "stopped-run", now - 600, None, None),
                (3, 3, None, "posted", 1, "old-run", now - 900, 5003, None),
            ]
            await tx.executemany(
                "INSERT INTO prompt_posts (id, team_id, prompt_id, slot_at, state, attempts,"
                " claimed_by, claimed_at, channel_id, message_id, error)"
                " VALUES (?, ?, 1, ?, ?, ?, ?, ?, 0, ?, ?)",
                posts,
            )
            await tx.execute(
                "INSERT INTO prompt_answers (id, post_id, user_id, display_name, text,"
                " answered_at) VALUES (7, 3, 111, 'alice', 'A career.', ?)",
                (now - 300,),
            )
            await tx.execute(
                "INSERT INTO prompt_answer_posts (answer_id, due_at, attempts, claim, nonce, since,"
                " error) VALUES (7, ?, 2, 'old', 'the-old-nonce', ?, 'Discord had a problem.')",
                (now + 60, now - 300),
            )
            polls = [
                # closed; its result waiting for a retry; being posted by a stopped run; posted
                (1, now - 120, "pending", None, 1, now + 30),
                (2, now - 100, "posting", "stopped-run", 1, None),
                (3, now - 900, "posted", None, 1, None),
            ]
            await tx.executemany(
                "INSERT INTO polls (id, team_id, guild_id, creator_id, question, created_at,"
                " closes_at, closed_at, result_state, result_claimed_by, result_attempts,"
                " result_retry_at) VALUES (?, 1, ?, 111, 'Lunch?', 0, 1, ?, ?, ?, ?, ?)",
                [(i, GUILD, closed, *rest) for i, closed, *rest in polls],
            )
    finally:
        await db.close()
    return db_path


async def test_work_under_way_moves_into_the_outbox(tmp_path: Path) -> None:
    db = await Database.open(await old_database(tmp_path))
    clock = ManualClock(NOW)
    try:
        prompts = Prompts(db, clock)
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
        assert "prompt_answer_posts" not in tables
        states = await db.fetchall("SELECT id, state FROM prompt_posts ORDER BY id")
        assert [tuple(r) for r in states] == [(1, "sending"), (2, "sending"), (3, "posted")]
        rows = await db.fetchall(
            "SELECT kind, subject, team_id, deadline, error FROM deliveries ORDER BY kind, subject"
        )
        now = int(NOW.timestamp())
        assert [tuple(r) for r in rows] == [
            ("answer", 7, 3, now - 300 + 86400, "Discord had a problem."),
            ("poll_result", 1, 1, now - 120 + 86400, None),
            ("poll_result", 2, 1, now - 100 + 86400, None),
            ("prompt_post", 1, 1, SLOT + 43200, "Discord had a problem."),
            ("prompt_post", 2, 2, SLOT + 43200, None),
        ]
        results = await db.fetchall("SELECT id, result_state FROM polls ORDER BY id")
        assert [tuple(r) for r in results] == [(1, "posting"), (2, "posting"), (3, "posted")]
        # each is due (the retry a minute after it failed, the answer when it was due) and its
        # attempt looks for an earlier one's message first; the answer keeps its nonce
        clock.set(datetime.fromtimestamp(now + 60, UTC))
        for kind, subject in (
            ("prompt_post", 1),
            ("prompt_post", 2),
            ("answer", 7),
            ("poll_result", 1),
            ("poll_result", 2),
        ):
            delivery_id = await prompts.outbox.pending(kind, subject)
            assert delivery_id is not None
            delivery = await prompts.outbox.claim(delivery_id)
            assert delivery is not None and delivery.is_repeat, (kind, subject)
        assert (await prompts.outbox.claim(await prompts.outbox.pending("answer", 7) or 0)) is None
        nonce = await db.fetchval("SELECT nonce FROM deliveries WHERE kind = 'answer'")
        assert nonce == "the-old-nonce"
        # and what they are to send is still there
        post = await prompts.posts.to_send(1)
        assert post is not None and post.prompt_text == "Job or career?"
        found = await prompts.answers.to_send(7)
        assert found is not None and found.post.message_id == 5003
    finally:
        await db.close()
