"""An answer whose message in the prompt's thread failed is saved, the member is told the truth,
and the prompts job posts (or edits) it later: once, with growing pauses, across restarts.

Logic first (real SQLite, a manual clock), then through the Discord double."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.db import Database
from bot.errors import InvalidInput
from bot.prompt_answers import (
    ANSWER_GIVE_UP,
    ANSWER_LEASE,
    ANSWER_RETRY_FIRST,
    ANSWER_RETRY_FORBIDDEN,
    ANSWER_RETRY_LIMIT,
)
from bot.prompt_posts import Post
from bot.prompts import Prompts
from bot.teams import Teams
from tests.double import Channel, Message
from tests.support import World
from tests.test_prompts_e2e import answer, create_team, slash, wait_post

GUILD, DESK = 1001, 501
ALICE, BOB = 111, 222


# -- the logic ------------------------------------------------------------------------------


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 1, 8, 8, 0, tzinfo=UTC))


@pytest.fixture
def prompts(db: Database, clock: ManualClock) -> Prompts:
    return Prompts(db, clock)


@pytest.fixture
async def post(db: Database, clock: ManualClock, prompts: Prompts) -> Post:
    team = await Teams(db, clock).create(GUILD, "Front desk", DESK)
    claimed = await prompts.posts.claim_manual(team.id, None, run_id="test")
    return await prompts.posts.mark_posted(claimed.id, 70_000)


async def pending(db: Database) -> list[tuple[Any, ...]]:
    rows = await db.fetchall(
        "SELECT answer_id, due_at, attempts, error FROM prompt_answer_posts ORDER BY answer_id"
    )
    return [tuple(row) for row in rows]


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


async def test_a_saved_answer_is_due_until_its_message_is_recorded(
    prompts: Prompts, post: Post, db: Database, clock: ManualClock
) -> None:
    saved = await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "A job is a car.")
    start = clock.now()
    # Claimed by the member's own attempt: the job leaves it alone while that attempt may run.
    assert not saved.delivery.look
    assert await prompts.deliveries.due_answers(start) == []
    assert await prompts.next_due(start, "run") == start + ANSWER_LEASE
    # The run stopped before recording anything: after the lease the job takes it over, looking
    # for a message that attempt may have sent.
    later = start + ANSWER_LEASE
    [due] = await prompts.deliveries.due_answers(later)
    taken = await prompts.deliveries.claim_answer(due.id, later)
    assert taken is not None and taken.look and taken.nonce == saved.delivery.nonce
    assert (
        await prompts.deliveries.claim_answer(due.id, later) is None
    )  # of two passes, one gets it
    assert await prompts.deliveries.answer_posted(taken, 9001)
    assert await pending(db) == []
    assert await db.fetchval("SELECT message_id FROM prompt_answers") == 9001
    assert await prompts.next_due(later, "run") is None
    # The member's own (now stale) attempt can't record anything any more.
    assert await prompts.deliveries.answer_failed(saved.delivery, "late", "transient") is None
    assert await pending(db) == []


async def test_transient_failures_wait_longer_each_time_and_give_up_after_a_day(
    prompts: Prompts, post: Post, db: Database, clock: ManualClock
) -> None:
    saved = await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "Hello")
    start = clock.now()
    retry_at = await prompts.deliveries.answer_failed(
        saved.delivery, "Discord had a problem (503)", "transient"
    )
    assert retry_at == start + ANSWER_RETRY_FIRST
    assert await pending(db) == [(saved.answer.id, ts(retry_at), 1, "Discord had a problem (503)")]
    assert await prompts.next_due(start, "run") == retry_at
    assert (
        await prompts.deliveries.claim_answer(saved.answer.id, retry_at - timedelta(seconds=1))
        is None
    )

    pauses = []
    while retry_at is not None:
        clock.set(retry_at)
        delivery = await prompts.deliveries.claim_answer(saved.answer.id, retry_at)
        if delivery is None:
            break
        retry_at = await prompts.deliveries.answer_failed(delivery, "still down", "transient")
        if retry_at is not None:
            pauses.append(retry_at - clock.now())
    assert pauses[:5] == [timedelta(minutes=m) for m in (2, 4, 8, 16, 30)]
    assert set(pauses[4:]) == {ANSWER_RETRY_LIMIT}
    assert clock.now() - start <= ANSWER_GIVE_UP
    assert await pending(db) == []  # given up: it stays in /prompt answers
    assert await db.fetchval("SELECT text FROM prompt_answers") == "Hello"


async def test_a_refusal_is_retried_hourly_and_a_deleted_thread_not_at_all(
    prompts: Prompts, post: Post, db: Database, clock: ManualClock
) -> None:
    mine = await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "Mine")
    retry_at = await prompts.deliveries.answer_failed(
        mine.delivery, "lacks a permission", "forbidden"
    )
    assert retry_at == clock.now() + ANSWER_RETRY_FORBIDDEN
    bobs = await prompts.answers.save_answer(GUILD, post.id, BOB, "bob", "Bob's")
    assert await prompts.deliveries.answer_failed(bobs.delivery, "gone", "gone") is None
    assert [row[0] for row in await pending(db)] == [mine.answer.id]


async def test_saving_again_during_an_attempt_leaves_the_answer_due_for_an_edit(
    prompts: Prompts, post: Post, db: Database, clock: ManualClock
) -> None:
    first = await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "First")
    clock.advance(seconds=5)
    second = await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "Second")
    assert second.delivery.look  # the first attempt may have reached Discord
    assert second.delivery.nonce == first.delivery.nonce  # a resend returns that message
    # The first attempt's message arrives: recorded, and still due so the new text replaces it.
    assert await prompts.deliveries.answer_posted(first.delivery, 9001)
    assert len(await pending(db)) == 1
    assert await db.fetchval("SELECT message_id FROM prompt_answers") == 9001
    assert await prompts.deliveries.answer_posted(second.delivery, 9001)
    assert await pending(db) == []


async def test_an_answer_forgotten_during_an_attempt_is_reported_and_a_bad_save_changes_nothing(
    prompts: Prompts, post: Post, db: Database
) -> None:
    saved = await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "Forget me")
    await prompts.answers.forget_member(GUILD, ALICE)
    assert await pending(db) == []  # deleted with the answer
    assert not await prompts.deliveries.answer_posted(
        saved.delivery, 9001
    )  # the cog deletes the message
    with pytest.raises(InvalidInput):
        await prompts.answers.save_answer(GUILD, post.id, BOB, "bob", "   ")
    assert await pending(db) == []


# -- through the double ---------------------------------------------------------------------


async def hold_scheduler(world: World) -> None:
    """Stop the scheduler's own loop (between two passes): the test runs the passes itself."""
    scheduler = world.bot.scheduler
    async with scheduler._pass_lock:
        await scheduler.stop()


async def prompt_with_thread(world: World) -> tuple[Message, Channel]:
    await create_team(world)
    await hold_scheduler(world)
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    [thread] = await world.dd.wait_until(lambda: world.dd.threads(world.channel))
    return post, thread


def thread_posts(world: World, thread: Channel) -> list[Message]:
    return world.dd.messages(thread)


def attempts(world: World, thread: Channel) -> int:
    """Requests to post in the thread (failed ones included)."""
    path = f"/channels/{thread.id}/messages"
    return sum(1 for c in world.dd.calls if c.method == "POST" and c.path == path)


async def answers_pending(world: World) -> int:
    return int(await world.bot.db.fetchval("SELECT COUNT(*) FROM prompt_answer_posts"))


async def test_a_503_on_the_thread_post_saves_the_answer_and_the_job_posts_it_once(
    world: World,
) -> None:
    dd = world.dd
    post, thread = await prompt_with_thread(world)
    failure = dd.fail_next("POST", rf"/channels/{thread.id}/messages", status=503)
    _, receipt = await answer(world, world.members[0], post, "A career is chosen.")
    assert failure.hits == 1
    assert "answer is saved" in receipt
    assert "isn't in the thread yet; Breakroom will post it there shortly" in receipt
    assert "permission" not in receipt.lower()
    assert thread_posts(world, thread) == []
    assert await world.bot.db.fetchval("SELECT text FROM prompt_answers") == "A career is chosen."

    # The job's next due time is the retry; a pass before it doesn't touch Discord.
    cog: Any = world.bot.get_cog("Prompts")
    failed_at = world.clock.now()
    assert await cog.run_due(failed_at) == failed_at + ANSWER_RETRY_FIRST
    await world.run_scheduler()
    assert attempts(world, thread) == 1

    world.clock.advance(minutes=1)
    await world.run_scheduler()
    [message] = thread_posts(world, thread)
    assert message.embeds[0]["description"] == "A career is chosen."
    assert message.embeds[0]["author"]["name"] == "alice"
    assert await world.bot.db.fetchval("SELECT message_id FROM prompt_answers") == message.id
    assert await answers_pending(world) == 0

    for _ in range(3):  # later passes find nothing to do
        world.clock.advance(minutes=5)
        await world.run_scheduler()
    assert thread_posts(world, thread) == [message]
    assert attempts(world, thread) == 2


async def test_while_discord_keeps_failing_the_retries_wait_longer_each_time(
    world: World,
) -> None:
    dd = world.dd
    post, thread = await prompt_with_thread(world)
    failure = dd.fail_next("POST", rf"/channels/{thread.id}/messages", status=503, times=100)
    await answer(world, world.members[0], post, "Hello from the desk")
    tries_at: list[int] = []
    for minute in range(1, 16):  # a pass every minute for a quarter of an hour
        world.clock.advance(minutes=1)
        hits = failure.hits
        await world.run_scheduler()
        if failure.hits > hits:
            tries_at.append(minute)
    assert tries_at == [1, 3, 7, 15]  # 1, 2, 4, 8 minutes apart: not hammered
    failure.remaining = 0  # Discord is back
    world.clock.advance(minutes=16)
    await world.run_scheduler()
    await world.run_scheduler()
    assert [m.embeds[0]["description"] for m in thread_posts(world, thread)] == [
        "Hello from the desk"
    ]


async def test_a_restart_before_the_retry_still_posts_the_answer_once(world: World) -> None:
    dd = world.dd
    post, thread = await prompt_with_thread(world)
    dd.fail_next("POST", rf"/channels/{thread.id}/messages", status=503)
    _, receipt = await answer(world, world.members[1], post, "Said before the restart.")
    assert "shortly" in receipt
    await world.restart()
    await hold_scheduler(world)
    world.clock.advance(minutes=1)
    await world.run_scheduler()
    await world.run_scheduler()
    await world.restart()
    await hold_scheduler(world)
    world.clock.advance(hours=1)
    await world.run_scheduler()
    assert [m.embeds[0]["description"] for m in thread_posts(world, thread)] == [
        "Said before the restart."
    ]
    assert await answers_pending(world) == 0


async def test_a_run_stopped_after_sending_is_not_posted_twice(world: World) -> None:
    """The run stopped between Discord taking the message and recording it: the next run finds
    the message in the thread (under another nonce, so only the look can tell) and adopts it."""
    post, thread = await prompt_with_thread(world)
    alice = world.members[0]
    await answer(world, alice, post, "Sent once.")
    [message] = thread_posts(world, thread)
    await world.stop()
    db = await Database.open(world.db_path)
    try:
        now = ts(world.clock.now())
        async with db.transaction() as tx:
            answer_id = await tx.fetchval("SELECT id FROM prompt_answers")
            await tx.execute("UPDATE prompt_answers SET message_id = NULL")
            await tx.execute(
                "INSERT INTO prompt_answer_posts (answer_id, due_at, claim, nonce, since)"
                " VALUES (?, ?, 'stopped-run', 'another-nonce', ?)",
                (answer_id, now + int(ANSWER_LEASE.total_seconds()), now),
            )
    finally:
        await db.close()
    await world.start()
    await hold_scheduler(world)
    await world.run_scheduler()
    world.clock.advance(ANSWER_LEASE)
    await world.run_scheduler()
    await world.run_scheduler()
    assert thread_posts(world, thread) == [message]
    assert await world.bot.db.fetchval("SELECT message_id FROM prompt_answers") == message.id
    assert await answers_pending(world) == 0
    # and it is hers to edit again
    _, receipt = await answer(world, alice, post, "Sent once, edited once.")
    assert "Your post in the thread is updated" in receipt
    assert message.embeds[0]["description"] == "Sent once, edited once."


async def test_a_refused_thread_post_tells_the_member_a_manager_must_fix_permissions(
    world: World,
) -> None:
    dd = world.dd
    post, thread = await prompt_with_thread(world)
    dd.fail_next("POST", rf"/channels/{thread.id}/messages", status=403, code=50013)
    _, receipt = await answer(world, world.members[0], post, "Refused for now.")
    assert "answer is saved" in receipt
    assert "A manager needs to fix Breakroom's permissions" in receipt
    assert f"<#{world.channel.id}>" in receipt
    assert "shortly" not in receipt
    world.clock.advance(minutes=59)
    await world.run_scheduler()
    assert thread_posts(world, thread) == []
    world.clock.advance(minutes=1)  # an hour later, the permission fixed
    await world.run_scheduler()
    assert [m.embeds[0]["description"] for m in thread_posts(world, thread)] == ["Refused for now."]


async def test_a_deleted_thread_is_said_plainly_and_not_retried(world: World) -> None:
    dd = world.dd
    post, thread = await prompt_with_thread(world)
    dd.fail_next(
        "POST",
        rf"/channels/{thread.id}/messages",
        status=404,
        code=10003,
        message="Unknown Channel",
    )
    _, receipt = await answer(world, world.members[0], post, "Into the void.")
    assert "answer is saved" in receipt and "was deleted" in receipt
    assert await answers_pending(world) == 0
    world.clock.advance(hours=1)
    await world.run_scheduler()
    assert attempts(world, thread) == 1


async def test_a_failed_edit_is_made_later_and_the_thread_keeps_one_message(
    world: World,
) -> None:
    dd = world.dd
    post, thread = await prompt_with_thread(world)
    alice = world.members[0]
    await answer(world, alice, post, "Before.")
    [message] = thread_posts(world, thread)
    dd.fail_next("PATCH", rf"/channels/{thread.id}/messages/{message.id}", status=503)
    _, receipt = await answer(world, alice, post, "After.")
    assert "Updated your answer" in receipt and "saved" in receipt
    assert "the thread still shows your earlier answer; Breakroom will update it shortly" in receipt
    assert message.embeds[0]["description"] == "Before."
    world.clock.advance(minutes=1)
    await world.run_scheduler()
    assert thread_posts(world, thread) == [message]
    assert message.embeds[0]["description"] == "After."
    assert message.embeds[0]["footer"]["text"] == "edited"


async def test_a_thread_that_could_not_be_opened_is_opened_by_the_retry(world: World) -> None:
    """The post went out but Discord failed to make its thread, and failed again when the first
    answer came: the job makes the thread and posts the answer in it."""
    dd = world.dd
    await create_team(world)
    await hold_scheduler(world)
    threads = dd.fail_next("POST", r"/channels/\d+/messages/\d+/threads", status=503, times=2)
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    _, receipt = await answer(world, world.members[2], post, "Thread, please.")
    assert threads.hits == 2
    assert "shortly" in receipt and "permission" not in receipt.lower()
    assert dd.threads(world.channel) == []
    world.clock.advance(minutes=1)
    await world.run_scheduler()
    [thread] = dd.threads(world.channel)
    assert [m.embeds[0]["description"] for m in thread_posts(world, thread)] == ["Thread, please."]
