"""Discord misbehaving (issue 7, "Discord faults"): rate limits with retry_after on sends and edits,
5xx answers, a dropped gateway connection (resume) and an invalidated session (re-identify).

The bot keeps serving; a weekly post or a poll's result message that failed is retried later and
sent once; and no interaction goes unanswered because a side effect failed: the side effect is
retried, and the member is told the truth.

Faults come from the double (`fail_next`): 429s carry Discord's body and headers, and discord.py
waits `retry_after` and retries by itself; 500/502 are retried by discord.py after 1 s, 3 s, …;
a 503 is raised at once (DiscordServerError), which is how a failure reaches our code quickly.
Discord's own rate limits are on throughout (the `dd` fixture of tests/faults_support.py): the
bot meets the buckets, their headers and their 429s as it would on Discord.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.teams import Team
from tests.double import InteractionRecord, Member, Message
from tests.faults_support import UNEXPECTED, answer_text, rate_limited_dd  # noqa: F401 (`dd`: rate limits on)
from tests.poll_posts import footer, has_poll_buttons
from tests.support import World
from tests.test_polls_helpers import option_button

CHANNEL_POSTS = r"/channels/\d+/messages"
CHANNEL_EDITS = r"/channels/\d+/messages/\d+"


@pytest.fixture
async def team(world: World) -> Team:
    """A team in the front-desk channel. The scheduler's own loop is stopped (between two
    passes): each test runs the passes itself, at the times it chooses."""
    polls: Any = world.bot.get_cog("Polls")
    polls.messages.interval = 0.05  # no 2.5 s between two edits of a poll message in tests
    scheduler = world.bot.scheduler
    async with scheduler._pass_lock:
        await scheduler.stop()
    return await world.bot.teams.create(world.guild.id, "Front desk", world.channel.id)


def poll_messages(world: World, poll_id: int) -> list[Message]:
    return [
        m for m in world.dd.messages(world.channel) if footer(m).startswith(f"Poll #{poll_id} ")
    ]


def result_messages(world: World, poll_id: int) -> list[Message]:
    return [m for m in poll_messages(world, poll_id) if not has_poll_buttons(m)]


def successful(world: World, method: str, path: str) -> int:
    return sum(
        1
        for c in world.dd.calls
        if c.method == method and re.fullmatch(path, c.path) and 200 <= c.status < 300
    )


async def told(ix: InteractionRecord, timeout: float = 5.0) -> str:
    """The member's answer: accepted by Discord (in time, once), ephemeral, not a crash."""
    text = await answer_text(ix, timeout)
    assert ix.ephemeral, text
    assert not ix.rejected, ix.rejected
    assert UNEXPECTED not in text, text
    return text


async def create_poll(
    world: World, member: Member, **options: Any
) -> tuple[InteractionRecord, int]:
    options = {"question": "Job or career?", "options": "Job | Career", **options}
    ix = await world.dd.slash(member, "poll create", channel=world.channel, options=options)
    text = await told(ix)
    match = re.search(r"poll #(\d+)", text)
    assert match, text
    return ix, int(match.group(1))


def counts_shown(message: Message) -> str:
    return message.text


# --- rate limits -----------------------------------------------------------------------------


async def test_rate_limited_post_edit_and_callback_are_waited_out(world: World, team: Team) -> None:
    dd = world.dd
    alice, bob = world.members[:2]
    dd.fail_next("POST", CHANNEL_POSTS, status=429, retry_after=0.4)
    ix, poll_id = await create_poll(world, alice)
    assert ix.latency is not None and ix.latency < 3
    [message] = poll_messages(world, poll_id)
    assert successful(world, "POST", CHANNEL_POSTS) == 1  # waited, then posted once

    edits = dd.fail_next("PATCH", CHANNEL_EDITS, status=429, retry_after=0.4)
    ix = await dd.click(bob, message, option_button(message, "Job")["custom_id"])
    assert "✅ Voted **Job**" in await told(ix)
    await dd.wait_until(
        lambda: "1 vote" in counts_shown(message), what="the count after the rate-limited edit"
    )
    assert edits.hits == 1

    callbacks = dd.fail_next(
        "POST", r"/interactions/\d+/[^/]+/callback", status=429, retry_after=0.3
    )
    ix = await dd.click(alice, message, option_button(message, "Career")["custom_id"])
    assert "✅ Voted **Career**" in await told(ix)
    assert callbacks.hits == 1
    rows = await world.bot.db.fetchall("SELECT user_id FROM poll_votes ORDER BY user_id")
    assert sorted(r[0] for r in rows) == sorted([alice.id, bob.id])


async def test_a_burst_of_votes_keeps_the_poll_message_within_the_channel_edit_limit(
    world: World, team: Team
) -> None:
    """Discord's own limits (on in the fault suite), not injected 429s: twelve votes in quick
    succession on one poll, each refreshing the poll message. Every vote is answered in time
    (interaction answers aren't in the bot's limits), and the edits stay within the channel's
    edit bucket (5 per 1 s here instead of Discord's 5 per 5 s, so the test doesn't wait):
    discord.py paces them from the headers, so at most one 429 (none, as run here; a client
    ignoring the headers meets two), and the message ends with every vote."""
    dd = world.dd
    assert dd.rate_limits.enabled
    dd.rate_limits.configure(message_edit=(5, 1.0))
    _, poll_id = await create_poll(world, world.members[0])
    [message] = poll_messages(world, poll_id)
    voters = [dd.add_member(world.guild, f"clerk{n}") for n in range(12)]
    job = option_button(message, "Job")["custom_id"]
    for voter in voters:  # one after another: each vote's refresh is an edit of its own
        ix = await dd.click(voter, message, job)
        assert "✅ Voted **Job**" in await told(ix)
        assert ix.latency is not None and ix.latency < 3
        edited = len([c for c in dd.calls if c.method == "PATCH"])
        await dd.wait_until(
            lambda n=edited: len([c for c in dd.calls if c.method == "PATCH"]) > n,
            what="the refresh of the poll message after this vote",
        )
    await dd.wait_until(lambda: "12 votes" in counts_shown(message), what="every vote shown")
    edits = [h for h in dd.rate_limits.hits if h.limit == "message_edit"]
    assert len(edits) <= 1, dd.rate_limits.hits
    assert not [h for h in dd.rate_limits.hits if h.is_global], dd.rate_limits.hits


# --- 5xx on the main effect ------------------------------------------------------------------


async def test_a_502_on_the_poll_post_is_retried_by_the_client(world: World, team: Team) -> None:
    failure = world.dd.fail_next("POST", CHANNEL_POSTS, status=502)
    ix, poll_id = await create_poll(world, world.members[0])
    assert failure.hits == 1
    assert len(poll_messages(world, poll_id)) == 1
    assert ix.latency is not None and ix.latency < 3


async def test_a_502_on_an_interaction_answer_is_retried_and_counts_once(
    world: World, team: Team
) -> None:
    dd = world.dd
    alice, bob = world.members[:2]
    _, poll_id = await create_poll(world, alice)
    [message] = poll_messages(world, poll_id)
    failure = dd.fail_next("POST", r"/interactions/\d+/[^/]+/callback", status=502)
    ix = await dd.click(bob, message, option_button(message, "Job")["custom_id"])
    assert "✅ Voted **Job**" in await told(ix)
    assert failure.hits == 1
    assert await world.bot.db.fetchval("SELECT count(*) FROM poll_votes") == 1
    await dd.wait_until(lambda: "1 vote" in counts_shown(message), what="the live count")


async def test_poll_create_is_answered_in_time_while_discord_is_slow(
    world: World, team: Team
) -> None:
    """Two 500s: discord.py retries after 1 s and 3 s, so the post lands after ~4 s. The member
    must still get an answer (Discord drops interactions not answered within 3 s: they would see
    "This interaction failed", try again, and the team would get the poll twice)."""
    failure = world.dd.fail_next("POST", CHANNEL_POSTS, status=500, times=2)
    ix = await world.dd.slash(
        world.members[0],
        "poll create",
        channel=world.channel,
        options={"question": "Job or career?", "options": "Job | Career"},
    )
    text = await told(ix, timeout=10)
    assert failure.hits == 2
    assert "poll #" in text, text
    [poll_id] = [r[0] for r in await world.bot.db.fetchall("SELECT id FROM polls")]
    assert len(poll_messages(world, poll_id)) == 1


# --- failed side effects are retried; the member is told the truth ---------------------------


async def test_a_failed_poll_message_refresh_is_retried(world: World, team: Team) -> None:
    """The vote is stored and confirmed; the live count on the poll message must still catch up
    although the edit failed (Discord 503) and nobody votes again."""
    dd = world.dd
    alice = world.members[0]
    _, poll_id = await create_poll(world, alice)
    [message] = poll_messages(world, poll_id)
    failure = dd.fail_next("PATCH", CHANNEL_EDITS, status=503)
    ix = await dd.click(alice, message, option_button(message, "Job")["custom_id"])
    assert "✅ Voted **Job**" in await told(ix)
    await dd.wait_until(lambda: failure.hits == 1, what="the failed edit")
    await dd.wait_until(
        lambda: "1 vote" in counts_shown(message), timeout=5, what="the refresh to be retried"
    )


async def test_a_poll_result_message_that_failed_is_retried_and_sent_once(
    world: World, team: Team
) -> None:
    dd, clock = world.dd, world.clock
    alice = world.members[0]
    _, poll_id = await create_poll(world, alice, duration="30m")
    [message] = poll_messages(world, poll_id)
    ix = await dd.click(alice, message, option_button(message, "Career")["custom_id"])
    await told(ix)

    failure = dd.fail_next("POST", CHANNEL_POSTS, status=503, times=100)
    clock.advance(minutes=31)
    await world.run_scheduler()
    assert failure.hits == 1
    assert result_messages(world, poll_id) == []
    assert all(b["disabled"] for b in message.buttons())  # closed, whatever the result post
    state = "SELECT result_state FROM polls WHERE id = ?"
    assert await world.bot.db.fetchval(state, (poll_id,)) == "posting"  # in the outbox

    # Retried later, not at once: with Discord down, an immediate retry (and the wake-up it
    # asks for) turns the scheduler into a loop hammering Discord.
    await world.run_scheduler()
    assert failure.hits == 1, f"retried {failure.hits - 1} time(s) without waiting"

    failure.remaining = 0  # Discord is back
    for _ in range(3):  # later passes: the first one posts, the others find nothing to do
        clock.advance(minutes=1)
        await world.run_scheduler()
    [result] = result_messages(world, poll_id)
    assert "**Career** wins" in result.text
    assert await world.bot.db.fetchval(state, (poll_id,)) == "posted"


async def test_a_poll_whose_post_fails_for_now_is_kept_and_posted_later(
    world: World, team: Team
) -> None:
    """Discord 503 on the poll message: the member is told it will be posted shortly (not that
    something is wrong with the channel), and the outbox posts it once, with working buttons."""
    dd = world.dd
    alice = world.members[0]
    failure = dd.fail_next("POST", CHANNEL_POSTS, status=503)
    ix, poll_id = await create_poll(world, alice)
    text = await told(ix)
    assert failure.hits == 1
    assert "will be posted" in text and "shortly" in text, text
    assert "permission" not in text.lower() and "no longer exists" not in text, text
    assert poll_messages(world, poll_id) == []
    assert await world.bot.db.fetchval("SELECT count(*) FROM polls") == 1

    for _ in range(3):  # the outbox's back-off: 30 s first
        world.clock.advance(seconds=30)
        await world.run_scheduler()
    [message] = poll_messages(world, poll_id)
    ix = await dd.click(alice, message, option_button(message, "Job")["custom_id"])
    assert "✅ Voted **Job**" in await told(ix)
    stored = "SELECT message_id FROM polls WHERE id = ?"
    assert await world.bot.db.fetchval(stored, (poll_id,)) == message.id


async def test_manual_close_answers_at_once_even_when_the_result_post_fails(
    world: World, team: Team
) -> None:
    dd = world.dd
    alice = world.members[0]
    _, poll_id = await create_poll(world, alice)
    failure = dd.fail_next("POST", CHANNEL_POSTS, status=503)
    ix = await dd.slash(alice, "poll close", channel=world.channel, poll=str(poll_id))
    assert "is closed" in await told(ix)
    await dd.wait_until(lambda: failure.hits == 1, what="the failed result post")
    for _ in range(3):
        world.clock.advance(minutes=1)
        await world.run_scheduler()
    assert len(result_messages(world, poll_id)) == 1


async def test_a_weekly_prompt_that_failed_is_retried_and_posted_once(
    world: World, team: Team
) -> None:
    dd, clock = world.dd, world.clock
    await world.bot.teams.set_schedule(team.id, 0, "09:30", False)  # Mondays; the clock: Mon 08:00
    failure = dd.fail_next("POST", CHANNEL_POSTS, status=503)
    clock.advance(hours=1, minutes=30)
    await world.run_scheduler()
    assert failure.hits == 1
    assert [m for m in dd.messages(world.channel) if m.buttons()] == []
    for _ in range(4):
        clock.advance(minutes=1)
        await world.run_scheduler()
    posts = [m for m in dd.messages(world.channel) if m.buttons()]
    assert len(posts) == 1, posts
    assert dd.threads(world.channel), "the retried post has no discussion thread"
    states = await world.bot.db.fetchall("SELECT state FROM prompt_posts")
    assert [row["state"] for row in states] == ["posted"]
    assert await world.bot.db.fetchval("SELECT COUNT(*) FROM deliveries") == 0  # done


async def test_an_answer_whose_thread_post_failed_is_saved_and_posted_later(
    world: World, team: Team
) -> None:
    """Discord 503 on the thread post: the answer is saved, the member is told so (not that
    permissions are wrong), and the post reaches the thread once without them doing anything."""
    dd = world.dd
    alice = world.members[0]
    ix = await dd.slash(world.manager, "prompt post", channel=world.channel)
    assert "Posted prompt" in await told(ix)
    post = await dd.wait_for_message(world.channel, lambda m: bool(m.buttons()))
    await dd.wait_until(lambda: dd.threads(world.channel), what="the discussion thread")
    [thread] = dd.threads(world.channel)

    failure = dd.fail_next("POST", rf"/channels/{thread.id}/messages", status=503)
    click = await dd.click(alice, post, post.button("Answer")["custom_id"])
    form = await click.response(timeout=5)
    ix = await dd.submit_modal(alice, form["data"]["custom_id"], {"answer": "A career is chosen."})
    text = await told(ix)
    assert failure.hits == 1
    assert "saved" in text, text
    assert "permission" not in text.lower(), f"a Discord hiccup blamed on permissions: {text}"
    stored = await world.bot.db.fetchval("SELECT text FROM prompt_answers")
    assert stored == "A career is chosen."

    for _ in range(3):
        world.clock.advance(minutes=2)
        await world.run_scheduler()
    await dd.wait_until(
        lambda: [m for m in dd.messages(thread) if "A career is chosen." in m.text],
        timeout=5,
        what="the answer to reach the thread",
    )
    assert len([m for m in dd.messages(thread) if "A career is chosen." in m.text]) == 1


# --- the gateway -----------------------------------------------------------------------------


async def test_dropped_connection_resumes_and_an_invalid_session_reidentifies(
    world: World, team: Team
) -> None:
    dd = world.dd
    alice, bob, carol = world.members

    async def no_identify_pause(shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before every re-IDENTIFY (Discord's identify rate limit); the
        double has no such limit, so the test skips the wait."""

    world.bot.before_identify_hook = no_identify_pause  # type: ignore[method-assign]
    _, poll_id = await create_poll(world, alice)
    [message] = poll_messages(world, poll_id)

    resumes = dd.resume_count
    await dd.drop_gateway()
    assert dd.resume_count == resumes + 1
    ix = await dd.click(bob, message, option_button(message, "Job")["custom_id"])
    assert "✅ Voted **Job**" in await told(ix)

    identifies = dd.identify_count
    await dd.invalidate_session()
    assert dd.identify_count == identifies + 1
    ix = await dd.click(carol, message, option_button(message, "Career")["custom_id"])
    assert "✅ Voted **Career**" in await told(ix)
    ix = await dd.slash(alice, "poll results", channel=world.channel, poll=str(poll_id))
    assert "2 members voted" in await told(ix)
    await dd.wait_until(
        lambda: " · 2 voted · " in message.text, what="the poll message after reconnecting"
    )
