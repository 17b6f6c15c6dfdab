"""An answer whose message in the prompt's thread failed is saved, the member is told the truth,
and the outbox posts (or edits) it later: once, with growing pauses, across restarts.

Logic first (real SQLite, a manual clock: what the outbox tells the answers), then through the
Discord double."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.db import Database
from bot.errors import InvalidInput
from bot.outbox import BACKOFF_FIRST, LEASE, Sent
from bot.prompt_answers import ANSWER_GIVE_UP
from bot.prompt_posts import Post
from bot.prompts import Prompts
from bot.teams import Teams
from tests.double import Channel, Message
from tests.prompts_support import answer_body, answer_name
from tests.support import World, prompt_posted
from tests.test_prompts_e2e import answer, create_team, reply, slash, wait_post

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
    queued = await prompts.posts.queue_manual(team.id, None)
    return await prompt_posted(prompts, queued.post, 70_000)


async def pending(db: Database) -> list[tuple[Any, ...]]:
    rows = await db.fetchall(
        "SELECT subject, state, deadline FROM deliveries WHERE kind = 'answer' ORDER BY subject"
    )
    return [tuple(row) for row in rows]


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


async def test_a_saved_answer_is_in_the_outbox_until_its_message_is_recorded(
    prompts: Prompts, post: Post, db: Database, clock: ManualClock
) -> None:
    saved = await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "A job is a car.")
    deadline = ts(clock.now() + ANSWER_GIVE_UP)
    assert await pending(db) == [(saved.answer.id, "due", deadline)]
    found = await prompts.answers.to_send(saved.answer.id)
    assert found is not None and found.answer.message_id is None and found.post.id == post.id
    delivery = await prompts.outbox.claim(saved.delivery_id, early=True)
    assert delivery is not None
    # Discord took it, in the thread the attempt opened: both are recorded, the delivery is done
    assert await prompts.outbox.delivered(delivery, Sent(9001, 8080, thread_id=8080))
    assert await pending(db) == []
    assert await db.fetchval("SELECT message_id FROM prompt_answers") == 9001
    assert await db.fetchval("SELECT thread_id FROM prompt_posts") == 8080
    # a later save is due again, to edit that message; another answer's message is not hers
    await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "A job is a bus.")
    assert await pending(db) == [(saved.answer.id, "due", ts(clock.now() + ANSWER_GIVE_UP))]
    bobs = await prompts.answers.save_answer(GUILD, post.id, BOB, "bob", "A house.")
    delivery = await prompts.outbox.claim(bobs.delivery_id, early=True)
    assert delivery is not None
    assert await prompts.outbox.delivered(delivery, Sent(9002, 8080, thread_id=8080))
    found = await prompts.answers.to_send(saved.answer.id)
    assert found is not None
    assert (found.answer.message_id, found.answer.text) == (9001, "A job is a bus.")
    assert found.others == {9002}


async def test_saving_again_during_an_attempt_leaves_the_answer_due_for_an_edit(
    prompts: Prompts, post: Post, db: Database, clock: ManualClock
) -> None:
    first = await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "First")
    attempt = await prompts.outbox.claim(first.delivery_id, early=True)
    assert attempt is not None
    clock.advance(seconds=5)
    await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "Second")
    # The first attempt's message arrives: recorded, and still due so the new text replaces it.
    assert await prompts.outbox.delivered(attempt, Sent(9001, 8080))
    assert [row[:2] for row in await pending(db)] == [(first.answer.id, "due")]
    found = await prompts.answers.to_send(first.answer.id)
    assert found is not None
    assert (found.answer.message_id, found.answer.text) == (9001, "Second")


async def test_an_answer_not_in_its_thread_a_day_later_is_given_up_and_stays_listed(
    prompts: Prompts, post: Post, db: Database, clock: ManualClock
) -> None:
    saved = await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "Hello")
    attempt = await prompts.outbox.claim(saved.delivery_id, early=True)
    assert attempt is not None
    reason = "Discord had a problem (503)."
    assert await prompts.outbox.failed(attempt, reason, retry=True) == clock.now() + BACKOFF_FIRST
    clock.advance(ANSWER_GIVE_UP)
    assert await prompts.outbox.claim(saved.delivery_id) is None
    assert [row[:2] for row in await pending(db)] == [(saved.answer.id, "given_up")]
    [trouble] = await prompts.outbox.troubles(post.team_id)
    assert (trouble.kind, trouble.error, trouble.retry_at) == ("answer", reason, None)
    listed = await prompts.answers.for_post(GUILD, post.id)
    assert [a.text for a in listed.answers] == ["Hello"]


async def test_an_answer_forgotten_during_an_attempt_is_reported_and_a_bad_save_changes_nothing(
    prompts: Prompts, post: Post, db: Database
) -> None:
    saved = await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "Forget me")
    attempt = await prompts.outbox.claim(saved.delivery_id, early=True)
    assert attempt is not None
    await prompts.answers.forget_member(GUILD, ALICE)
    assert await pending(db) == []  # deleted with the answer
    assert await prompts.answers.to_send(saved.answer.id) is None
    # Discord took it meanwhile: False, so the sender deletes the message
    assert not await prompts.outbox.delivered(attempt, Sent(9001, 8080))
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
    """Answers whose thread message the outbox still tries to deliver."""
    return int(
        await world.bot.db.fetchval(
            "SELECT COUNT(*) FROM deliveries WHERE kind = 'answer' AND state != 'given_up'"
        )
    )


async def test_a_503_on_the_thread_post_saves_the_answer_and_the_job_posts_it_once(
    world: World,
) -> None:
    dd = world.dd
    post, thread = await prompt_with_thread(world)
    failure = dd.fail_next("POST", rf"/channels/{thread.id}/messages", status=503)
    _, receipt = await answer(world, world.members[0], post, "A career is chosen.")
    assert failure.hits == 1
    assert receipt == (
        "✅ Answer saved. Discord is having trouble, so Breakroom will post it in the thread "
        "shortly, by itself."
    )
    assert "permission" not in receipt.lower()
    assert thread_posts(world, thread) == []
    assert await world.bot.db.fetchval("SELECT text FROM prompt_answers") == "A career is chosen."

    # The outbox job's next due time is the retry; a pass before it doesn't touch Discord.
    failed_at = world.clock.now()
    assert await world.bot.courier.run_due(failed_at) == failed_at + BACKOFF_FIRST
    await world.run_scheduler()
    assert attempts(world, thread) == 1

    world.clock.advance(BACKOFF_FIRST)
    await world.run_scheduler()
    [message] = thread_posts(world, thread)
    assert answer_body(message) == "A career is chosen."
    assert answer_name(message) == "alice"
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
    # after 30 s, then 1, 2, 4, 8 minutes apart (a pass a minute): not hammered
    assert tries_at == [1, 2, 4, 8]
    failure.remaining = 0  # Discord is back
    world.clock.advance(minutes=16)
    await world.run_scheduler()
    await world.run_scheduler()
    assert [answer_body(m) for m in thread_posts(world, thread)] == ["Hello from the desk"]


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
    assert [answer_body(m) for m in thread_posts(world, thread)] == ["Said before the restart."]
    assert await answers_pending(world) == 0


async def test_a_run_stopped_after_sending_is_not_posted_twice(world: World) -> None:
    """The run stopped between Discord taking the message and recording it: the next run finds
    the message in the thread (under another nonce, so only the look can tell) and adopts it."""
    post, thread = await prompt_with_thread(world)
    alice = world.members[0]
    await answer(world, alice, post, "Sent once.")
    [message] = thread_posts(world, thread)
    await world.stop()
    db = await Database.open(world.database)
    try:
        now = ts(world.clock.now())
        async with db.transaction() as tx:
            await tx.execute("UPDATE prompt_answers SET message_id = NULL")
            await tx.execute(
                "INSERT INTO deliveries (id, kind, subject, team_id, state, due_at, deadline,"
                " attempts, claimed_by, nonce) SELECT 77, 'answer', a.id, pp.team_id, 'sending',"
                " ?, ?, 1, 'stopped-run', 'another-nonce'"
                " FROM prompt_answers a JOIN prompt_posts pp ON pp.id = a.post_id",
                (now + int(LEASE.total_seconds()), now + int(ANSWER_GIVE_UP.total_seconds())),
            )
    finally:
        await db.close()
    await world.start()
    await hold_scheduler(world)
    await world.run_scheduler()
    assert await answers_pending(world) == 1  # its lease: the stopped run might still be posting
    world.clock.advance(LEASE)
    await world.run_scheduler()
    await world.run_scheduler()
    assert thread_posts(world, thread) == [message]
    assert await world.bot.db.fetchval("SELECT message_id FROM prompt_answers") == message.id
    assert await answers_pending(world) == 0
    # and it is hers to edit again
    _, receipt = await answer(world, alice, post, "Sent once, edited once.")
    assert receipt == "✅ Answer saved and updated in the thread"
    assert answer_body(message) == "Sent once, edited once."


async def test_a_refused_thread_post_tells_the_member_a_manager_must_fix_permissions(
    world: World,
) -> None:
    """A 403 is given up at once (not retried on a timer), with the reason kept for managers."""
    dd = world.dd
    post, thread = await prompt_with_thread(world)
    dd.fail_next("POST", rf"/channels/{thread.id}/messages", status=403, code=50013)
    _, receipt = await answer(world, world.members[0], post, "Refused for now.")
    assert "Answer saved" in receipt
    assert "lacks a permission" in receipt and "a manager needs to fix it" in receipt
    assert "`/team edit`" in receipt
    assert f"<#{world.channel.id}>" in receipt
    assert "shortly" not in receipt
    world.clock.advance(hours=2)
    await world.run_scheduler()
    assert thread_posts(world, thread) == []
    assert attempts(world, thread) == 1
    [team] = await world.bot.teams.for_guild(world.guild.id)
    [trouble] = await world.bot.services.outbox.troubles(team.id)
    assert trouble.kind == "answer" and trouble.retry_at is None
    assert "lacks a permission" in trouble.error


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
    assert "Answer saved" in receipt and "was deleted" in receipt
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
    assert receipt == (
        "✅ Answer saved. Discord is having trouble, so the thread shows your earlier answer "
        "until Breakroom updates it shortly, by itself."
    )
    assert answer_body(message) == "Before."
    world.clock.advance(minutes=1)
    await world.run_scheduler()
    assert thread_posts(world, thread) == [message]
    assert answer_body(message) == "After."
    assert message.text.endswith("-# edited")


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
    assert [answer_body(m) for m in thread_posts(world, thread)] == ["Thread, please."]


async def test_two_submits_at_once_leave_one_message_showing_the_saved_text(
    world: World,
) -> None:
    dd = world.dd
    post, thread = await prompt_with_thread(world)
    alice = world.members[0]
    click = await dd.click(alice, post, post.button("Answer")["custom_id"])
    await click.response(timeout=5)
    assert click.modal is not None
    form = click.modal["custom_id"]
    submits = await asyncio.gather(
        dd.submit_modal(alice, form, {"answer": "First thought."}),
        dd.submit_modal(alice, form, {"answer": "Second thought."}),
    )
    receipts = await asyncio.gather(*(reply(ix) for ix in submits))
    assert all("saved" in r for r in receipts), receipts
    await world.run_scheduler()
    stored = await world.bot.db.fetchval("SELECT text FROM prompt_answers")
    [message] = thread_posts(world, thread)
    assert answer_body(message) == stored
    assert await answers_pending(world) == 0
