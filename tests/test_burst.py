"""A Monday morning within Discord's rate limits: the real bot against the double with its limits
on (tests/double/ratelimits.py). Many teams in many servers due at the same minute each get their
prompt and its thread exactly once, with at most one 429 per bucket, while members' clicks keep
being answered; several polls in one channel share that channel's edit budget (5 per 5 s) without
a 429 and without a stale edit. Nothing about time is asserted here: `python -m tests.bench
--burst-only` prints the figures.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import UTC, datetime

import pytest

from cogs._poll_messages import PollMessages
from tests.double import CallRecord, Channel, DiscordDouble, InteractionRecord, Message
from tests.support import World
from tests.test_polls_helpers import create_poll, make_team, option_button, shown_counts

#: teams, each in a server of its own, due at the same minute
TEAMS = 60
#: the world's clock starts on Monday 5 January 2026 at 08:00 UTC
MONDAY_NINE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def prompt_posts(dd: DiscordDouble, channel: Channel) -> list[Message]:
    return [m for m in dd.messages(channel) if any(b["label"] == "Answer" for b in m.buttons())]


def sends(dd: DiscordDouble, channel: Channel) -> list[CallRecord]:
    """Every request that posted (or tried to post) a message in the channel."""
    path = f"/channels/{channel.id}/messages"
    return [c for c in dd.calls if c.method == "POST" and c.path == path]


def edits_of(calls: list[CallRecord], message: Message) -> list[CallRecord]:
    path = f"/channels/{message.channel_id}/messages/{message.id}"
    return [c for c in calls if c.method == "PATCH" and c.path == path and c.status < 300]


def hits_per_bucket(dd: DiscordDouble) -> Counter[str]:
    return Counter(hit.bucket for hit in dd.rate_limits.hits)


async def vote(world: World, member_index: int, message: Message, label: str) -> InteractionRecord:
    member = [*world.members, world.manager][member_index]
    ix = await world.dd.click(member, message, option_button(message, label)["custom_id"])
    await ix.response(timeout=5)
    return ix


async def test_a_monday_burst_posts_every_team_once_within_the_rate_limits(world: World) -> None:
    dd, bot = world.dd, world.bot
    guilds = [dd.add_guild(f"Office {n + 1}") for n in range(TEAMS)]
    channels = [dd.add_channel(guild, "front-desk") for guild in guilds]
    await dd.settle()  # the bot has them in its cache
    assert all(bot.get_guild(g.id) is not None for g in guilds)
    for guild, channel in zip(guilds, channels, strict=True):
        team = await bot.teams.create(guild.id, "Front desk", channel.id)
        await bot.teams.set_schedule(team.id, MONDAY_NINE.weekday(), "09:00")
    # a poll in another server, clicked while the posts go out
    await make_team(world)
    _, poll = await create_poll(world)
    dd.rate_limits.enabled = True
    dd.rate_limits.reset()

    world.clock.set(MONDAY_NINE)
    burst = asyncio.create_task(world.run_scheduler())
    clicks = []
    labels = itertools.cycle(("Job", "Career", "Both"))
    for n in range(8):  # spread over the burst: after 0, 1/8, 2/8 … of the posts

        def posted(count: int = n * TEAMS // 8) -> bool:
            return sum(len(sends(dd, c)) for c in channels) >= count

        await dd.wait_until(posted, timeout=60)
        clicks.append(await vote(world, n % 4, poll, next(labels)))
    await burst
    await dd.wait_until(
        lambda: all(dd.threads(c) for c in channels),
        timeout=60,
        what="every team's thread",
    )

    last_post = max(c.at for ch in channels for c in sends(dd, ch))
    for channel in channels:
        [post] = prompt_posts(dd, channel)
        [thread] = dd.threads(channel)
        assert thread.id == post.id  # opened from the post
        assert post.text.startswith("## What is the difference between a job and a career?")
        # sent once, never again (a 429, if any, is counted below)
        assert [c.status for c in sends(dd, channel) if c.status != 429] == [200]
    assert await bot.db.fetchval("SELECT COUNT(*) FROM deliveries") == 0
    states = await bot.db.fetchall("SELECT state, COUNT(*) AS n FROM prompt_posts GROUP BY state")
    assert [(row["state"], row["n"]) for row in states] == [("posted", TEAMS)]
    per_bucket = hits_per_bucket(dd)
    assert max(per_bucket.values(), default=0) <= 1, per_bucket
    # the members' clicks were answered while the posts were still going out
    answered = [ix.responded_at for ix in clicks if ix.acknowledged]
    assert len(answered) == len(clicks)
    assert all(at is not None and at < last_post for at in answered)


@pytest.fixture
def quick_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """A poll message would edit every 0.05 s while votes come, were it not for its channel."""
    monkeypatch.setattr(PollMessages, "interval", 0.05)


@pytest.mark.usefixtures("quick_refresh")
async def test_polls_sharing_a_channel_share_its_edit_budget_and_show_the_last_vote(
    world: World,
) -> None:
    dd = world.dd
    await make_team(world)
    polls = [(await create_poll(world, question=f"Question {n + 1}?"))[1] for n in range(3)]
    dd.rate_limits.enabled = True
    dd.rate_limits.reset()
    edit_limit = dd.rate_limits.limits["message_edit"]
    started = len(dd.calls)

    def edits_since(start: int) -> list[CallRecord]:
        return [c for m in polls for c in edits_of(dd.calls[start:], m)]

    # Two rounds of votes want six edits; the channel allows five in its window.
    for member in (0, 1):
        for poll in polls:
            await vote(world, member, poll, "Job")
    await dd.wait_until(
        lambda: len(edits_since(started)) >= edit_limit.limit, what="the channel's edits"
    )
    # The last votes come while the channel's budget is spent: each poll's next edit waits.
    for poll in polls:
        await vote(world, 2, poll, "Career")
    last_votes = len(dd.calls)
    final = {"Job": 2, "Career": 1, "Both": 0}
    await dd.wait_until(
        lambda: all(shown_counts(dd.message(p.id)) == final for p in polls),
        timeout=edit_limit.per + 10,
        what="every poll showing the last votes",
    )

    assert dd.rate_limits.hits == []
    for poll in polls:
        # one edit after the last votes, rendered when its turn came: not one rendered before
        # the last vote and held back until the channel had room again
        after = edits_of(dd.calls[last_votes:], poll)
        assert len(after) == 1, [c.json for c in after]
    times = sorted(c.at for c in edits_since(started))
    assert all(
        sum(1 for t in times if start <= t < start + edit_limit.per) <= edit_limit.limit
        for start in times
    )
