"""The outbox's contract, run through every kind of delivery (issue 11): a prompt post, an
answer in its thread, a poll's message, a poll's result post, a released reflection and a
deletion `/forget-me` scheduled.

For each kind, what a member or manager would see:
- Discord failing for now (503) → tried again after the one back-off (30 s), then delivered once;
- Discord refusing (403, 404) → given up, the reason shown to managers in `/team list`, nothing
  retried behind their back; `/team edit` (the fix) tries it again;
- a run that stopped mid-attempt (its lease not over) → the next run waits for the lease, then
  takes the delivery over, once.

The crash between send and record with a real process (kill -9) is in tests/test_faults_crash.py.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bot.db import Database
from bot.outbox import BACKOFF_FIRST, LEASE
from bot.teams import Team
from tests.double import Message
from tests.faults_support import answer_text
from tests.poll_posts import footer, has_poll_buttons
from tests.reflection_posts import reflection_posts
from tests.support import World

POSTS = r"/channels/\d+/messages"
DELETES = r"/channels/\d+/messages/\d+"
MISSING_PERMISSIONS = 50013
UNKNOWN_CHANNEL = 10003


async def pause_loop(world: World) -> None:
    """The scheduler's own loop stops between two passes: each test runs the passes itself."""
    scheduler = world.bot.scheduler
    async with scheduler._pass_lock:
        await scheduler.stop()


def titled(world: World, title: str) -> list[Message]:
    return [
        m
        for m in world.dd.messages(world.channel)
        if m.embeds and m.embeds[0].get("title") == title
    ]


def prompt_posts(world: World) -> list[Message]:
    return [
        m
        for m in world.dd.messages(world.channel)
        if any(b.get("label") == "Answer" for b in m.buttons())
    ]


def thread_messages(world: World) -> list[Message]:
    return [m for t in world.dd.threads(world.channel) for m in world.dd.messages(t)]


def poll_messages(world: World, *, results: bool) -> list[Message]:
    return [
        m
        for m in world.dd.messages(world.channel)
        if footer(m).startswith("Poll #") and has_poll_buttons(m) != results
    ]


async def say(world: World, member: Any, command: str, **options: Any) -> str:
    ix = await world.dd.slash(member, command, channel=world.channel, options=options)
    return await answer_text(ix)


async def answer_latest_post(world: World, text: str = "A career is chosen.") -> str:
    [post] = prompt_posts(world)
    member = world.members[0]
    click = await world.dd.click(member, post, post.button("Answer")["custom_id"])
    await click.response(timeout=5)
    assert click.modal is not None
    ix = await world.dd.submit_modal(member, click.modal["custom_id"], {"answer": text})
    return await answer_text(ix)


async def write_reflections(world: World) -> None:
    for number, member in enumerate(world.members[:3]):
        ix = await world.dd.slash(member, "reflect", channel=world.channel)
        form = await ix.response(timeout=5)
        submitted = await world.dd.submit_modal(
            member, form["data"]["custom_id"], {"body": f"Reflection {number}", "about": ""}
        )
        await submitted.response(timeout=5)


@dataclass(frozen=True)
class Kind:
    """One kind of delivery, seen from Discord: how to make one due, which request makes it,
    and how many of what it delivers the channel shows once delivered."""

    name: str
    method: str
    path: str
    prepare: Callable[[World, Team], Awaitable[None]]
    #: make it due; the first attempt runs (inline, or in the scheduler pass this runs)
    trigger: Callable[[World, Team], Awaitable[None]]
    shown: Callable[[World], int]
    delivered: int
    #: a refused one is told to its author at once and not kept (a poll nobody can see)
    refused_is_discarded: bool = False


async def nothing(world: World, team: Team) -> None:
    return None


async def weekly_slot(world: World, team: Team) -> None:
    await world.bot.teams.set_schedule(team.id, 0, "09:30", False)  # the clock: Monday 08:00


async def slot_comes(world: World, team: Team) -> None:
    world.clock.advance(hours=1, minutes=30)
    await world.run_scheduler()


async def post_prompt(world: World, team: Team) -> None:
    assert "Posted" in await say(world, world.manager, "prompt post")
    await world.dd.wait_until(lambda: bool(world.dd.threads(world.channel)), what="its thread")


async def answer(world: World, team: Team) -> None:
    await answer_latest_post(world)


async def create_poll(world: World, team: Team) -> None:
    await say(
        world,
        world.members[0],
        "poll create",
        question="Job or career?",
        options="Job | Career",
        duration="30m",
    )


async def deadline_passes(world: World, team: Team) -> None:
    world.clock.advance(minutes=31)
    await world.run_scheduler()


async def share(world: World, team: Team) -> None:
    await world.share_reflections()


async def shared_then_forgotten(world: World, team: Team) -> None:
    await write_reflections(world)
    await world.share_reflections()
    assert len(reflection_posts(world.dd.messages(world.channel))) == 3
    alice = world.members[0]
    ix = await world.dd.slash(alice, "forget-me", channel=world.channel)
    await ix.response(timeout=5)
    assert ix.original is not None
    click = await world.dd.click(
        alice, ix.original, ix.original.button("Delete my data")["custom_id"]
    )
    await click.response(timeout=5)
    await world.dd.wait_until(
        lambda: "Deleting" not in ix.original.text, timeout=15, what="forget-me"
    )  # type: ignore[union-attr]


async def a_day_later(world: World, team: Team) -> None:
    world.clock.advance(hours=24, minutes=1)
    await world.run_scheduler()


KINDS = [
    Kind("prompt_post", "POST", POSTS, weekly_slot, slot_comes, lambda w: len(prompt_posts(w)), 1),
    Kind("answer", "POST", POSTS, post_prompt, answer, lambda w: len(thread_messages(w)), 1),
    Kind(
        "poll_post",
        "POST",
        POSTS,
        nothing,
        create_poll,
        lambda w: len(poll_messages(w, results=False)),
        1,
        refused_is_discarded=True,
    ),
    Kind(
        "poll_result",
        "POST",
        POSTS,
        create_poll,
        deadline_passes,
        lambda w: len(poll_messages(w, results=True)),
        1,
    ),
    Kind(
        "reflection",
        "POST",
        POSTS,
        lambda w, t: write_reflections(w),
        share,
        lambda w: len(reflection_posts(w.dd.messages(w.channel))),
        3,
    ),
    Kind(
        "reflection_erasure",
        "DELETE",
        DELETES,
        shared_then_forgotten,
        a_day_later,
        lambda w: len(reflection_posts(w.dd.messages(w.channel))),
        2,
    ),
]


@pytest.fixture
async def team(world: World) -> Team:
    await pause_loop(world)
    return await world.bot.teams.create(world.guild.id, "Front desk", world.channel.id)


async def rows(world: World, kind: str) -> list[dict[str, Any]]:
    found = await world.bot.db.fetchall(
        "SELECT state, attempts, due_at, error FROM deliveries WHERE kind = ?", (kind,)
    )
    return [dict(row) for row in found]


def now_ts(world: World) -> int:
    return int(world.clock.now().timestamp())


#: Failures that may pass, and the reason managers would read: a 5xx; a 429 asking for a longer
#: wait than discord.py holds a request for (30 s; the bucket itself is free again at once); the
#: connection dropped.
PASSING = {
    "503": ({"status": 503}, "Discord had a problem (503)."),
    "429": (
        {"status": 429, "retry_after": 120.0, "reset_after": 0.05},
        "Discord could not be reached (RateLimited).",
    ),
    "network": ({"status": 0}, "Discord could not be reached (ServerDisconnectedError)."),
}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
@pytest.mark.parametrize("fault", list(PASSING))
async def test_a_failure_that_may_pass_is_retried_after_the_one_backoff(
    world: World, team: Team, kind: Kind, fault: str
) -> None:
    await kind.prepare(world, team)
    before = kind.shown(world)
    options, reason = PASSING[fault]
    # aiohttp itself repeats an idempotent request (DELETE) once on a dropped connection.
    times = 2 if fault == "network" and kind.method == "DELETE" else 1
    failure = world.dd.fail_next(kind.method, kind.path, times=times, **options)  # type: ignore[arg-type]
    await kind.trigger(world, team)
    assert failure.hits == times
    [row] = await rows(world, kind.name)
    assert row["state"] == "due" and row["attempts"] == 1, row
    assert row["due_at"] == now_ts(world) + BACKOFF_FIRST.total_seconds(), row
    assert row["error"] == reason

    world.clock.advance(seconds=BACKOFF_FIRST.total_seconds() - 1)
    await world.run_scheduler()
    assert len(await rows(world, kind.name)) == 1, "retried before the back-off was over"

    world.clock.advance(seconds=1)
    await world.run_scheduler()
    await world.run_scheduler()
    assert kind.shown(world) == kind.delivered, (before, kind.shown(world))
    assert await rows(world, kind.name) == []


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
@pytest.mark.parametrize(
    ("status", "code"), [(403, MISSING_PERMISSIONS), (404, UNKNOWN_CHANNEL)], ids=["403", "404"]
)
async def test_a_refusal_is_given_up_shown_to_managers_and_tried_again_after_a_fix(
    world: World, team: Team, kind: Kind, status: int, code: int
) -> None:
    await kind.prepare(world, team)
    before = kind.shown(world)
    failure = world.dd.fail_next(kind.method, kind.path, status=status, code=code, times=1)
    await kind.trigger(world, team)
    assert failure.hits == 1
    after = kind.shown(world)
    if kind.method == "DELETE" and status == 404:
        # Deleting what is already gone is just as good: done, nothing retried.
        assert await rows(world, kind.name) == []
        return
    if kind.refused_is_discarded:
        assert await rows(world, kind.name) == []
        assert kind.shown(world) == before
        return
    [row] = await rows(world, kind.name)
    assert row["state"] == "given_up", row
    assert ("permission" in row["error"]) == (status == 403), row
    assert row["error"] in await say(world, world.manager, "team list")

    calls = len(world.dd.calls)
    world.clock.advance(hours=2)
    await world.run_scheduler()
    assert not [c for c in world.dd.calls[calls:] if re.fullmatch(kind.path, c.path)]
    assert kind.shown(world) == after != kind.delivered

    await say(world, world.manager, "team edit", team="Front desk", name="Front office")
    await world.run_scheduler()
    assert kind.shown(world) == kind.delivered
    assert await rows(world, kind.name) == []
    assert row["error"] not in await say(world, world.manager, "team list")


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
async def test_a_run_that_stopped_mid_attempt_is_taken_over_once_after_its_lease(
    world: World, team: Team, kind: Kind
) -> None:
    await kind.prepare(world, team)
    world.dd.fail_next(kind.method, kind.path, status=503)
    await kind.trigger(world, team)
    await world.stop()
    # What a run that claimed it and then stopped leaves behind (another process would write it).
    db = await Database.open(world.database)
    try:
        await db.execute(
            "UPDATE deliveries SET state = 'sending', claimed_by = 'a-stopped-run',"
            " attempts = attempts + 1, due_at = ? WHERE kind = ?",
            (now_ts(world) + int(LEASE.total_seconds()), kind.name),
        )
    finally:
        await db.close()
    await world.start()
    await pause_loop(world)
    before = kind.shown(world)
    world.clock.advance(seconds=LEASE.total_seconds() - 1)
    await world.run_scheduler()
    assert kind.shown(world) == before, "taken over while the other run's lease held"
    world.clock.advance(seconds=1)
    await world.run_scheduler()
    await world.run_scheduler()
    assert kind.shown(world) == kind.delivered
    assert await rows(world, kind.name) == []


async def test_the_job_passes_over_a_delivery_an_attempt_is_busy_with(
    world: World, team: Team
) -> None:
    """`/poll close` is posting the result, and Discord holds it (a 429: wait 3 s). Meanwhile the
    lease runs out on the clock and another team's weekly post is due: the job's pass posts that
    one at once rather than queueing behind the busy attempt, which then posts once."""
    records = world.dd.add_channel(world.guild, "records")
    await world.dd.settle()
    other = await world.bot.teams.create(world.guild.id, "Records", records.id)
    await weekly_slot(world, other)
    await create_poll(world, team)
    [poll] = poll_messages(world, results=False)
    poll_id = int(footer(poll).split()[1].lstrip("#"))
    held = world.dd.fail_next("POST", rf"/channels/{world.channel.id}/messages", retry_after=3.0)
    assert "is closed" in await say(world, world.members[0], "poll close", poll=str(poll_id))
    await world.dd.wait_until(lambda: held.hits == 1, what="the result post held by Discord")

    world.clock.advance(hours=1, minutes=30)  # the weekly slot, and past the result's lease
    await world.run_scheduler()
    assert [m for m in world.dd.messages(records) if m.buttons()], "the weekly post waited"
    assert poll_messages(world, results=True) == [], "the held attempt is still waiting"
    await world.dd.wait_until(
        lambda: len(poll_messages(world, results=True)) == 1, timeout=10, what="the result"
    )
    await world.run_scheduler()
    assert len(poll_messages(world, results=True)) == 1
