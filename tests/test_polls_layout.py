"""Polls in Discord's current layouts (Components V2), through the Discord double: what members
read on the poll message, its receipts and confirmations; and messages an earlier version posted
(an embed with a button per option, a result embed) keep working and become layouts."""

from __future__ import annotations

import re
from typing import Any

import discord
import pytest

from cogs._poll_messages import PollMessages
from tests.double import Message
from tests.double.models import walk_components
from tests.support import World
from tests.test_polls_helpers import (
    as_message,
    click,
    create_poll,
    ephemeral_reply,
    footer_line,
    make_team,
    option_button,
    poll_message,
    result_messages,
    shown_counts,
    stored_counts,
    wait_announced,
)


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PollMessages, "interval", 0.05)


@pytest.fixture
async def team_world(world: World) -> World:
    await make_team(world)
    return world


async def test_the_open_poll_shows_each_option_once_beside_its_button(team_world: World) -> None:
    world = team_world
    alice = world.members[0]
    poll_id, message = await create_poll(world, alice, anonymous=True, duration="2d")
    stamp = await world.bot.db.fetchval("SELECT closes_at FROM polls WHERE id = ?", (poll_id,))
    assert message.components_v2 and message.embeds == [] and message.content == ""
    assert message.text == (
        "### 📊 Job or career?\n"
        "**Job**\n`░░░░░░░░░░░░` 0% · 0 votes\n"
        "**Career**\n`░░░░░░░░░░░░` 0% · 0 votes\n"
        "**Both**\n`░░░░░░░░░░░░` 0% · 0 votes\n"
        f"-# 🔒 Anonymous · 0 voted · closes <t:{stamp}:R> · asked by <@{alice.id}> · "
        f"poll #{poll_id}"
    )
    [card] = message.components
    assert card["type"] == 17  # one container: the card
    sections = [c for c in walk_components(message.components) if c["type"] == 9]
    option_ids = [
        row[0]
        for row in await world.bot.db.fetchall(
            "SELECT id FROM poll_options WHERE poll_id = ? ORDER BY position", (poll_id,)
        )
    ]
    assert [s["accessory"]["custom_id"] for s in sections] == [
        f"breakroom:poll:{poll_id}:{option}" for option in option_ids
    ]
    buttons = [(b["label"], b["style"], b["disabled"]) for b in message.buttons()]
    assert buttons == [("Vote", 2, False)] * 3 + [("Close", 4, False)]
    assert message.button("Close")["custom_id"] == f"breakroom:poll-close:{poll_id}"


async def test_create_and_rerun_confirm_in_one_line_with_a_jump_button(team_world: World) -> None:
    world = team_world
    ix = await world.dd.slash(
        world.manager,
        "poll create",
        channel=world.channel,
        question="Lunch?",
        options={"options": "Yes|No"},
    )
    reply = as_message(await ephemeral_reply(ix))
    poll_id = int(re.findall(r"poll #(\d+)", reply.content)[0])
    message = poll_message(world, poll_id)
    stamp = await world.bot.db.fetchval("SELECT closes_at FROM polls WHERE id = ?", (poll_id,))
    assert reply.content == (
        f"📊 Your poll #{poll_id} is posted in <#{world.channel.id}> · closes <t:{stamp}:R>"
    )
    url = f"https://discord.com/channels/{world.guild.id}/{world.channel.id}/{message.id}"
    assert [(b["label"], b["style"], b["url"]) for b in reply.buttons()] == [
        ("Jump to post", 5, url)
    ]


async def test_a_closed_poll_and_its_result_post(team_world: World) -> None:
    world = team_world
    alice, bob, carol = world.members
    poll_id, message = await create_poll(world, alice)
    for member, label in ((alice, "Job"), (bob, "Career"), (carol, "Career")):
        await click(world, member, message, label)
    ix = await world.dd.slash(alice, "poll close", channel=world.channel, poll=str(poll_id))
    await ephemeral_reply(ix)
    await wait_announced(world, poll_id)
    await world.dd.wait_until(lambda: footer_line(message).startswith("-# 🏁 Closed"))
    closed_at = await world.bot.db.fetchval("SELECT closed_at FROM polls WHERE id = ?", (poll_id,))
    assert message.text == (
        "### 📊 Job or career?\n"
        "**Job**\n`████░░░░░░░░` 33% · 1 vote\n"
        "**Career** 🏆\n`████████░░░░` 67% · 2 votes\n"
        "**Both**\n`░░░░░░░░░░░░` 0% · 0 votes\n"
        f"-# 🏁 Closed <t:{closed_at}:R> · 👤 Not anonymous · 3 voted · asked by <@{alice.id}> · "
        f"poll #{poll_id}"
    )
    buttons = [(b["label"], b["style"], b["disabled"]) for b in message.buttons()]
    assert buttons == [("Vote", 2, True), ("Winner", 3, True), ("Vote", 2, True)]
    [result] = result_messages(world, poll_id)
    assert result.components_v2 and result.message_reference is not None
    assert result.text == (
        "### 📊 Results: Job or career?\n"
        "🏆 **Career** wins with 67% (2 of 3 voters).\n"
        "**Job**\n`████░░░░░░░░` 33% · 1 vote\n"
        "**Career** 🏆\n`████████░░░░` 67% · 2 votes\n"
        "**Both**\n`░░░░░░░░░░░░` 0% · 0 votes\n"
        f"-# 📊 Results of poll #{poll_id} · Front desk · 3 members voted"
    )
    url = f"https://discord.com/channels/{world.guild.id}/{world.channel.id}/{message.id}"
    assert [(b["label"], b["url"]) for b in result.buttons()] == [("See the poll", url)]


# -- what an earlier version posted -----------------------------------------------------------


def legacy_poll_post(poll_id: int, options: list[tuple[int, str]]) -> dict[str, Any]:
    """The poll message as Breakroom posted it before layouts: an embed (the question, the
    options numbered, how to vote, closes, anonymity, who asked) and a button per option named
    after it, in rows of five, and Close, with the custom ids the poll's buttons still have."""
    embed = discord.Embed(
        title="📊 Team poll",
        description="**Job or career?**\n\n"
        + "\n".join(f"**{n}. {label}** — 0 votes · 0%" for n, (_, label) in enumerate(options, 1)),
    )
    embed.add_field(name="How to vote", value="Click an answer to vote.", inline=False)
    embed.add_field(name="Votes so far", value="0 members voted")
    embed.set_footer(text=f"Poll #{poll_id} · Front desk")
    view = discord.ui.View(timeout=None)
    for index, (option_id, label) in enumerate(options):
        view.add_item(
            discord.ui.Button(
                label=label, custom_id=f"breakroom:poll:{poll_id}:{option_id}", row=index // 5
            )
        )
    close = discord.ui.Button(
        label="Close", custom_id=f"breakroom:poll-close:{poll_id}", style=discord.ButtonStyle.danger
    )
    view.add_item(close)
    return {"embeds": [embed.to_dict()], "components": view.to_components()}


async def posted_the_old_way(world: World, poll_id: int) -> Message:
    """The poll's message replaced by one as an earlier version posted it."""
    rows = await world.bot.db.fetchall(
        "SELECT id, label FROM poll_options WHERE poll_id = ? ORDER BY position", (poll_id,)
    )
    options = [(int(row["id"]), str(row["label"])) for row in rows]
    world.dd.delete_message(poll_message(world, poll_id))
    legacy = world.dd.bot_message(world.channel, **legacy_poll_post(poll_id, options))
    await world.bot.db.execute("UPDATE polls SET message_id = ? WHERE id = ?", (legacy.id, poll_id))
    return legacy


async def test_an_old_poll_message_takes_votes_and_becomes_the_layout(team_world: World) -> None:
    world = team_world
    alice, bob, _ = world.members
    poll_id, _ = await create_poll(world, alice)
    legacy = await posted_the_old_way(world, poll_id)
    custom_ids = [b["custom_id"] for b in legacy.buttons()]
    assert legacy.embeds and not legacy.components_v2 and "How to vote" in legacy.text

    ix = await world.dd.click(bob, legacy, legacy.button("Career")["custom_id"])  # old labels
    assert (await ix.response(timeout=5))["data"]["content"] == "✅ Voted **Career**"
    await world.dd.wait_until(lambda: legacy.components_v2, what="the first edit")
    assert legacy.embeds == [] and legacy.content == ""
    assert shown_counts(legacy) == {"Job": 0, "Career": 1, "Both": 0}
    assert " · 1 voted · " in footer_line(legacy) and "How to vote" not in legacy.text
    assert [b["custom_id"] for b in legacy.buttons()] == custom_ids  # the same buttons
    assert await click(world, alice, legacy, "Job") == "✅ Voted **Job**"
    assert await stored_counts(world, poll_id) == {"Job": 1, "Career": 1, "Both": 0}
    await world.dd.wait_until(lambda: shown_counts(legacy)["Job"] == 1)


async def test_an_old_poll_messages_close_button_closes_it(team_world: World) -> None:
    world = team_world
    alice = world.members[0]
    poll_id, _ = await create_poll(world, alice)
    legacy = await posted_the_old_way(world, poll_id)
    vote = await world.dd.click(alice, legacy, legacy.button("Job")["custom_id"])
    assert (await vote.response(timeout=5))["data"]["content"] == "✅ Voted **Job**"
    ix = await world.dd.click(alice, legacy, legacy.button("Close")["custom_id"])
    assert f"Poll #{poll_id} is closed" in (await ephemeral_reply(ix))["content"]
    await wait_announced(world, poll_id)
    await world.dd.wait_until(lambda: footer_line(legacy).startswith("-# 🏁 Closed"))
    assert legacy.embeds == [] and all(b["disabled"] for b in legacy.buttons())
    assert option_button(legacy, "Job")["label"] == "Winner"
    [result] = result_messages(world, poll_id)
    assert result.message_reference is not None
    assert int(result.message_reference["message_id"]) == legacy.id


async def test_an_old_result_post_left_unrecorded_is_found_not_posted_again(
    team_world: World,
) -> None:
    """A run that posted the old result embed, then died before recording it: the next run
    recognises it (its footer) in the channel's history, edits it into the layout, and posts
    nothing twice."""
    world = team_world
    poll_id, _ = await create_poll(world)
    ix = await world.dd.slash(world.manager, "poll close", channel=world.channel, poll=str(poll_id))
    await ephemeral_reply(ix)
    await wait_announced(world, poll_id)
    [posted] = result_messages(world, poll_id)
    world.dd.delete_message(posted)
    old = discord.Embed(title="📊 Results: Job or career?", description="Nobody voted.")
    old.set_footer(text=f"Poll #{poll_id} · Front desk · results")
    legacy = world.dd.bot_message(world.channel, embeds=[old.to_dict()])
    await world.bot.db.execute(
        "UPDATE polls SET result_state = 'posting', result_message_id = NULL WHERE id = ?",
        (poll_id,),
    )
    await world.bot.db.execute(
        "INSERT INTO deliveries (id, kind, subject, team_id, state, due_at, attempts, claimed_by,"
        " nonce) SELECT 7, 'poll_result', id, team_id, 'sending', ?, 1, 'killed-run', 'other'"
        " FROM polls WHERE id = ?",
        (int(world.clock.now().timestamp()) + 120, poll_id),
    )
    world.clock.advance(minutes=2)
    await world.run_scheduler()
    row = await world.bot.db.fetchone(
        "SELECT result_state, result_message_id FROM polls WHERE id = ?", (poll_id,)
    )
    assert row is not None and tuple(row) == ("posted", legacy.id)
    assert result_messages(world, poll_id) == [legacy]  # edited into the layout, not posted
    assert legacy.components_v2 and legacy.embeds == []
    assert "Nobody voted." in legacy.text
