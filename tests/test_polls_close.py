"""The poll message's Close button, its last hour ("closes soon"), and the results as a reply to
it: the real bot, driven through the Discord double."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cogs._poll_messages import PollMessages
from tests.double import Message
from tests.support import World
from tests.test_polls_helpers import (
    click,
    create_poll,
    ephemeral_reply,
    footer_line,
    make_team,
    poll_tables,
    result_messages,
    shown_counts,
    wait_announced,
)


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PollMessages, "interval", 0.05)


@pytest.fixture
async def team_world(world: World) -> World:
    await make_team(world)
    return world


def replied_to(message: Message) -> int | None:
    """The id of the message `message` replies to (None: not a reply)."""
    ref = message.message_reference
    return None if ref is None else int(ref["message_id"])


async def closed_by_button(world: World, poll_id: int, message: Message, who: str) -> Message:
    """After a Close click was accepted: the poll message shows the final state, without Close,
    and the results come as one reply to it. Returns the result message."""
    assert f"Poll #{poll_id} is closed" in who
    await wait_announced(world, poll_id)
    await world.dd.wait_until(
        lambda: footer_line(message).startswith("-# 🏁 Closed "), what="the final state"
    )
    assert "Close" not in [b["label"] for b in message.buttons()]
    assert len(message.buttons()) == 3
    assert all(b["disabled"] for b in message.buttons())
    [result] = result_messages(world, poll_id)
    assert replied_to(result) == message.id
    return result


async def test_the_creator_closes_their_poll_with_its_button(team_world: World) -> None:
    world = team_world
    alice, bob, _ = world.members
    poll_id, message = await create_poll(world, alice)
    assert message.button("Close")["style"] == 4  # red, on its own row
    await click(world, bob, message, "Career")
    answer = await click(world, alice, message, "Close")
    result = await closed_by_button(world, poll_id, message, answer)
    assert "🏆 **Career** wins with 100%" in result.text
    assert [b["label"] for b in message.buttons()] == ["Vote", "Winner", "Vote"]
    await world.run_scheduler()
    assert len(result_messages(world, poll_id)) == 1


async def test_a_manager_closes_someone_elses_poll_with_its_button(team_world: World) -> None:
    world = team_world
    poll_id, message = await create_poll(world, world.members[0])
    await closed_by_button(
        world, poll_id, message, await click(world, world.manager, message, "Close")
    )


async def test_the_close_button_is_refused_to_another_member(team_world: World) -> None:
    world = team_world
    alice, bob, _ = world.members
    poll_id, message = await create_poll(world, alice)
    before = await poll_tables(world)
    shown = (message.embeds, message.components, world.dd.edits(message))
    answer = await click(world, bob, message, "Close")
    assert answer == (
        "Only the member who created this poll, the team's leads or a manager can close it; "
        "it closes by itself at its deadline."
    )
    assert await poll_tables(world) == before
    assert (message.embeds, message.components, world.dd.edits(message)) == shown
    assert result_messages(world, poll_id) == []


async def test_the_close_button_works_after_a_restart(team_world: World) -> None:
    world = team_world
    alice = world.members[0]
    poll_id, message = await create_poll(world, alice)
    await world.restart()
    await closed_by_button(world, poll_id, message, await click(world, alice, message, "Close"))


async def test_close_on_a_message_left_open_says_so_and_fixes_it(team_world: World) -> None:
    """A Close button still showing (the edit at close failed) answers "already closed", and
    the message loses it."""
    world = team_world
    poll_id, message = await create_poll(world)
    world.dd.fail_next("PATCH", rf"/channels/{world.channel.id}/messages/{message.id}", status=403)
    ix = await world.dd.slash(world.manager, "poll close", channel=world.channel, poll=str(poll_id))
    await ephemeral_reply(ix)
    await wait_announced(world, poll_id)
    before = await poll_tables(world)
    assert "already closed" in await click(world, world.manager, message, "Close")
    assert await poll_tables(world) == before
    await world.dd.wait_until(lambda: "Close" not in [b["label"] for b in message.buttons()])
    assert len(result_messages(world, poll_id)) == 1


async def test_results_at_the_deadline_reply_to_the_poll_message(team_world: World) -> None:
    world = team_world
    poll_id, message = await create_poll(world, duration="2h")
    world.clock.advance(hours=2)
    await world.run_scheduler()
    await wait_announced(world, poll_id)
    [result] = result_messages(world, poll_id)
    assert replied_to(result) == message.id
    assert "Close" not in [b["label"] for b in message.buttons()]


async def test_results_still_go_out_when_the_poll_message_was_deleted(team_world: World) -> None:
    world = team_world
    poll_id, message = await create_poll(world)
    world.dd.delete_message(message)
    ix = await world.dd.slash(world.manager, "poll close", channel=world.channel, poll=str(poll_id))
    await ephemeral_reply(ix)
    await wait_announced(world, poll_id)
    [result] = result_messages(world, poll_id)
    assert replied_to(result) is None  # a plain post: there is nothing to reply to


async def closes_at(world: World, poll_id: int) -> datetime:
    seconds = await world.bot.db.fetchval("SELECT closes_at FROM polls WHERE id = ?", (poll_id,))
    return datetime.fromtimestamp(seconds, UTC)


async def test_the_last_hour_is_shown_once_when_it_begins(team_world: World) -> None:
    world = team_world
    poll_id, message = await create_poll(world, duration="1d")
    deadline = await closes_at(world, poll_id)
    stamp = int(deadline.timestamp())
    assert f" · closes <t:{stamp}:R> · " in footer_line(message)

    world.clock.set(deadline - timedelta(hours=1, seconds=1))
    await world.run_scheduler()
    assert "closes soon" not in message.text
    edits = world.dd.edits(message)

    world.clock.set(deadline - timedelta(hours=1))  # nobody votes: the job edits it
    await world.run_scheduler()
    await world.dd.wait_until(lambda: "closes soon" in message.text, what="the last-hour notice")
    assert f" · ⏳ closes soon <t:{stamp}:R> · " in footer_line(message)
    assert world.dd.edits(message) == edits + 1

    world.clock.advance(minutes=10)
    await world.run_scheduler()
    await world.run_scheduler()
    await click(world, world.members[0], message, "Job")  # one edit for the vote, none before
    await world.dd.wait_until(lambda: shown_counts(message)["Job"] == 1, what="the vote")
    assert world.dd.edits(message) == edits + 2
    assert "⏳ closes soon" in message.text
