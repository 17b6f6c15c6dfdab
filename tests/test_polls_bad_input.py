"""Every bad `/poll` input, through the Discord double: a clear ephemeral error, nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.double import Perm
from tests.support import World
from tests.test_polls_helpers import (
    create_poll,
    ephemeral_reply,
    make_team,
    option_button,
    poll_tables,
    result_messages,
    wait_announced,
)


async def refused_create(world: World, **values: Any) -> str:
    """Send `/poll create`; check nothing was stored or posted; return the ephemeral error."""
    before_rows = await poll_tables(world)
    before_messages = len(world.dd.messages(world.channel))
    values.setdefault("question", "Job or career?")
    options = values.pop("options", "Job|Career")
    ix = await world.dd.slash(
        world.members[0],
        "poll create",
        channel=world.channel,
        options={"options": options},
        **values,
    )
    data = await ephemeral_reply(ix)
    assert await poll_tables(world) == before_rows
    assert len(world.dd.messages(world.channel)) == before_messages
    return str(data["content"])


@pytest.fixture
async def team_world(world: World) -> World:
    await make_team(world)
    return world


async def test_fewer_than_two_options(team_world: World) -> None:
    reply = await refused_create(team_world, options="Just one")
    assert "at least 2 options, separated by `|`" in reply


async def test_more_than_twenty_options(team_world: World) -> None:
    reply = await refused_create(team_world, options="|".join(f"o{n}" for n in range(21)))
    assert "at most 20 options; you gave 21" in reply


async def test_an_empty_option(team_world: World) -> None:
    reply = await refused_create(team_world, options="Job||Career")
    assert "Option 2 is empty" in reply


async def test_a_duplicate_option(team_world: World) -> None:
    reply = await refused_create(team_world, options="Job|Career|career")
    assert "“career” appears twice" in reply


async def test_an_over_long_question(team_world: World) -> None:
    reply = await refused_create(team_world, question="Why? " * 61)
    assert "at most 300 characters" in reply


async def test_an_over_long_option(team_world: World) -> None:
    reply = await refused_create(team_world, options="Job|" + "C" * 56)
    assert "has 56 characters; an option can have at most 55" in reply


async def test_a_duration_that_does_not_parse(team_world: World) -> None:
    reply = await refused_create(team_world, duration="next tuesday")
    assert "not a duration I understand" in reply and "30m, 2h, 3d, 1w or 1d12h" in reply


async def test_a_duration_that_is_too_long(team_world: World) -> None:
    reply = await refused_create(team_world, duration="5w")
    assert "too long: the longest is 4 weeks" in reply


async def test_a_duration_that_is_too_short(team_world: World) -> None:
    reply = await refused_create(team_world, duration="0m")
    assert "too short: the shortest is 1 minute" in reply


async def test_a_poll_in_a_dm(team_world: World) -> None:
    before = await poll_tables(team_world)
    ix = await team_world.dd.slash_dm(
        team_world.members[0], "poll create", question="Q?", options={"options": "a|b"}
    )
    data = await ephemeral_reply(ix)
    assert "works inside a server" in data["content"]
    assert await poll_tables(team_world) == before


async def test_no_team_yet(world: World) -> None:
    reply = await refused_create(world)
    assert "no team yet" in reply and "/team create" in reply


async def test_a_channel_the_bot_cannot_post_in(world: World) -> None:
    locked = world.dd.add_channel(world.guild, "records", bot_can_send=False)
    await world.dd.settle()
    await world.bot.teams.create(world.guild.id, "Records", locked.id)
    before = await poll_tables(world)
    ix = await world.dd.slash(
        world.members[0], "poll create", channel=locked, question="Q?", options={"options": "a|b"}
    )
    data = await ephemeral_reply(ix)
    assert f"I can't post in <#{locked.id}>" in data["content"]
    assert await poll_tables(world) == before
    assert world.dd.messages(locked) == []


async def test_a_team_channel_that_no_longer_exists(team_world: World) -> None:
    """Discord answers 404 Unknown Channel: given up at once (not retried), the poll forgotten,
    and the member told what to do."""
    world = team_world
    before = await poll_tables(world)
    world.dd.fail_next("POST", rf"/channels/{world.channel.id}/messages", status=404, code=10003)
    ix = await world.dd.slash(
        world.members[0],
        "poll create",
        channel=world.channel,
        question="Q?",
        options={"options": "a|b"},
    )
    data = await ephemeral_reply(ix)
    assert (
        "The team's channel no longer exists" in data["content"] and "/team edit" in data["content"]
    )
    assert await poll_tables(world) == before
    assert await world.bot.db.fetchval("SELECT count(*) FROM deliveries") == 0


@pytest.mark.parametrize("command", ["poll close", "poll results", "poll rerun"])
@pytest.mark.parametrize("ref", ["999", "lunch poll"])
async def test_an_unknown_poll(team_world: World, command: str, ref: str) -> None:
    await create_poll(team_world)
    before = await poll_tables(team_world)
    messages = len(team_world.dd.messages(team_world.channel))
    ix = await team_world.dd.slash(
        team_world.manager, command, channel=team_world.channel, poll=ref
    )
    data = await ephemeral_reply(ix)
    assert "no poll #999" in data["content"] or "not a poll I know" in data["content"]
    assert "/poll list" in data["content"]
    assert await poll_tables(team_world) == before
    assert len(team_world.dd.messages(team_world.channel)) == messages


async def test_a_poll_of_another_server_is_unknown(team_world: World) -> None:
    world = team_world
    other_guild = world.dd.add_guild("Other office")
    other_channel = world.dd.add_channel(other_guild, "desk")
    stranger = world.dd.add_member(other_guild, "stranger", manager=True)
    await world.dd.settle()
    poll_id, _ = await create_poll(world)
    before = await poll_tables(world)
    ix = await world.dd.slash(stranger, "poll close", channel=other_channel, poll=str(poll_id))
    assert f"no poll #{poll_id}" in (await ephemeral_reply(ix))["content"]
    assert await poll_tables(world) == before


async def test_closing_someone_elses_poll_without_being_a_manager(team_world: World) -> None:
    world = team_world
    alice, bob, _ = world.members
    poll_id, message = await create_poll(world, alice)
    before = await poll_tables(world)
    ix = await world.dd.slash(bob, "poll close", channel=world.channel, poll=str(poll_id))
    data = await ephemeral_reply(ix)
    assert (
        "Only the member who created this poll, the team's leads or a manager can close it"
        in data["content"]
    )
    assert await poll_tables(world) == before
    assert not any(b["disabled"] for b in message.buttons())
    assert result_messages(world, poll_id) == []


async def test_closing_a_closed_poll(team_world: World) -> None:
    world = team_world
    poll_id, _ = await create_poll(world)
    ix = await world.dd.slash(world.manager, "poll close", channel=world.channel, poll=str(poll_id))
    await ephemeral_reply(ix)
    await wait_announced(world, poll_id)
    before = await poll_tables(world)
    ix = await world.dd.slash(world.manager, "poll close", channel=world.channel, poll=str(poll_id))
    assert "already closed" in (await ephemeral_reply(ix))["content"]
    assert await poll_tables(world) == before
    assert len(result_messages(world, poll_id)) == 1


async def test_voting_on_a_closed_poll(team_world: World) -> None:
    """A member whose message still shows enabled buttons (here: the edit at close failed) gets a
    clear answer, the vote isn't stored, and the message is fixed."""
    world = team_world
    poll_id, message = await create_poll(world)
    world.dd.fail_next("PATCH", rf"/channels/{world.channel.id}/messages/{message.id}", status=403)
    ix = await world.dd.slash(world.manager, "poll close", channel=world.channel, poll=str(poll_id))
    await ephemeral_reply(ix)
    await wait_announced(world, poll_id)
    assert len(result_messages(world, poll_id)) == 1
    assert not any(b["disabled"] for b in message.buttons())

    before = await poll_tables(world)
    ix = await world.dd.click(world.members[0], message, option_button(message, "Job")["custom_id"])
    data = await ephemeral_reply(ix)
    assert "This poll is closed, so votes are no longer counted" in data["content"]
    assert await poll_tables(world) == before
    await world.dd.wait_until(lambda: all(b["disabled"] for b in message.buttons()))


async def test_voters_of_an_anonymous_poll(team_world: World) -> None:
    world = team_world
    poll_id, _ = await create_poll(world, world.members[0], anonymous=True)
    for member in (world.members[0], world.manager):
        ix = await world.dd.slash(
            member, "poll results", channel=world.channel, poll=str(poll_id), voters=True
        )
        data = await ephemeral_reply(ix)
        assert "anonymous: nobody, managers included, can see who voted" in data["content"]


def test_everyone_may_use_poll_commands() -> None:
    """`/poll` has no default permissions: closing checks creator-or-manager at run time."""
    from cogs.polls import PollsCog

    assert PollsCog.poll.default_permissions is None
    assert Perm.MANAGE_GUILD  # (managers are recognised by this permission)
