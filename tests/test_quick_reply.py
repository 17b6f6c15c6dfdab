"""bot/quick_reply.py: a click's text answer in one plain POST, through the real bot and the
double; what the member sees is what `send_message` would have shown them."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import discord
import pytest

from cogs._poll_buttons import VOTE_TEMPLATE
from cogs._poll_messages import PollMessages
from tests.double import CallRecord
from tests.support import World
from tests.test_polls_helpers import click, create_poll, make_team, option_button

CALLBACK = r"/interactions/(\d+)/[^/]+/callback"


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PollMessages, "interval", 0.05)


def callbacks(world: World, interaction_id: int) -> list[CallRecord]:
    return [
        c
        for c in world.dd.calls
        if c.method == "POST"
        and (m := re.fullmatch(CALLBACK, c.path)) is not None
        and int(m.group(1)) == interaction_id
    ]


async def test_a_vote_is_answered_in_one_post_that_asks_for_nothing_back(world: World) -> None:
    await make_team(world)
    alice = world.members[0]
    _, message = await create_poll(world)
    ix = await world.dd.click(alice, message, option_button(message, "Job")["custom_id"])
    response = await ix.response(timeout=5)
    assert response["data"]["content"] == "✅ Voted **Job**" and ix.ephemeral
    [call] = callbacks(world, ix.id)
    assert call.status == 204 and "with_response" not in call.query
    assert call.json["data"]["allowed_mentions"] == {"parse": []}  # the bot's: nobody pinged
    assert not ix.rejected


async def test_the_interaction_counts_as_answered_after_a_quick_reply(world: World) -> None:
    """As after `send_message`: `is_done()`, and a second answer is refused before it is sent."""
    await make_team(world)
    _, message = await create_poll(world)
    seen: list[Any] = []

    async def probe(interaction: discord.Interaction[Any], match: re.Match[str]) -> None:
        await world.bot.replies.text(interaction, "first")
        seen.append(interaction.response.is_done())
        try:
            await world.bot.replies.text(interaction, "second")
        except discord.InteractionResponded as error:
            seen.append(error)

    world.bot.remove_handler(VOTE_TEMPLATE)
    world.bot.add_button_handler(VOTE_TEMPLATE, probe)
    ix = await world.dd.click(world.members[0], message, option_button(message, "Job")["custom_id"])
    response = await ix.response(timeout=5)
    await world.dd.wait_until(lambda: len(seen) == 2, what="the probe to finish")
    assert response["data"]["content"] == "first"
    assert seen[0] is True and isinstance(seen[1], discord.InteractionResponded)
    assert len(callbacks(world, ix.id)) == 1


async def test_an_expired_interaction_is_not_sent_twice(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord's refusal (10062: the click came too late) is raised as send_message raises it,
    so it is logged in one line; it is not sent again through discord.py."""
    await make_team(world)
    alice = world.members[0]
    poll_id, message = await create_poll(world)
    refusal = world.dd.fail_next(
        "POST", CALLBACK, status=404, code=10062, message="Unknown interaction"
    )
    with caplog.at_level(logging.WARNING, logger="bot.client"):
        ix = await world.dd.click(alice, message, option_button(message, "Job")["custom_id"])
        for _ in range(500):  # the log line comes after the double's last event
            if "expired before it was answered" in caplog.text:
                break
            await asyncio.sleep(0.01)
    assert caplog.text.count("expired before it was answered") == 1, caplog.text
    assert refusal.hits == 1 and len(callbacks(world, ix.id)) == 1
    # The vote itself was committed before the answer was tried.
    stored = await world.bot.db.fetchval(
        "SELECT count(*) FROM poll_votes WHERE poll_id = ?", (poll_id,)
    )
    assert stored == 1


async def test_a_dropped_connection_is_retried_through_discord_py(world: World) -> None:
    await make_team(world)
    _, message = await create_poll(world)
    dropped = world.dd.fail_next("POST", CALLBACK, status=0)
    assert await click(world, world.members[0], message, "Career") == "✅ Voted **Career**"
    assert dropped.hits == 1


async def test_a_rate_limited_answer_waits_out_retry_after_before_trying_again(
    world: World,
) -> None:
    await make_team(world)
    _, message = await create_poll(world)
    limited = world.dd.fail_next("POST", CALLBACK, status=429, retry_after=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    ix = await world.dd.click(world.members[0], message, option_button(message, "Job")["custom_id"])
    await ix.response(timeout=5)
    [first, second] = callbacks(world, ix.id)
    assert limited.hits == 1 and first.status == 429 and second.status < 300
    assert second.at - first.at >= 0.25, "sent again before retry_after"
    assert ix.ephemeral and loop.time() - started < 3


async def test_once_closed_it_opens_no_new_session_and_answers_through_discord_py(
    world: World,
) -> None:
    """The bot stopping: a click still under way is answered, on discord.py's session."""
    await make_team(world)
    _, message = await create_poll(world)
    await world.bot.replies.close()
    ix = await world.dd.click(world.members[0], message, option_button(message, "Job")["custom_id"])
    response = await ix.response(timeout=5)
    assert response["data"]["content"] == "✅ Voted **Job**" and ix.ephemeral
    [call] = callbacks(world, ix.id)
    assert call.query.get("with_response") == "1"  # discord.py's send_message asks for it
