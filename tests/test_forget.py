"""`/forget-me` end to end: exactly the member's rows and posts go, nobody else's; twice is fine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cogs._poll_messages import PollMessages
from tests.double import Member, Message
from tests.support import World
from tests.test_history import database_state
from tests.test_history_helpers import (
    answer,
    command,
    create_poll,
    create_team,
    poll_message,
    prompt_posts,
    reflect,
    reflection_posts,
    reply_text,
    vote,
)

Rows = list[tuple[Any, ...]]


@pytest.fixture(autouse=True)
def quick_refresh() -> Iterator[None]:
    saved = PollMessages.interval
    PollMessages.interval = 0.05
    yield
    PollMessages.interval = saved


async def everyone_writes(world: World) -> dict[str, int]:
    """alice and bob answer two prompts and vote in a named and an anonymous poll; alice, bob and
    carol share reflections; alice has one more waiting. Returns the poll ids."""
    alice, bob, carol = world.members
    await create_team(world)
    for _ in range(2):
        assert "Posted prompt" in await command(world, world.manager, "prompt post")
        post = prompt_posts(world)[-1]
        for member in (alice, bob):
            assert "saved" in await answer(world, member, post, f"{member.name} answers")
    named = await create_poll(world, world.manager, "Job or career?", "Job|Career")
    anonymous = await create_poll(world, world.manager, "Swap desks?", "Yes|No", anonymous=True)
    for poll_id, (first, second) in ((named, ("Job", "Career")), (anonymous, ("Yes", "No"))):
        await vote(world, alice, poll_id, first)
        await vote(world, bob, poll_id, second)
    for member in (alice, bob, carol):
        await reflect_as(world, member, f"{member.name} reflects")
    await world.share_reflections()
    await world.dd.wait_until(lambda: len(reflection_posts(world)) == 3)
    await reflect_as(world, alice, "alice waits")
    return {"named": named, "anonymous": anonymous}


async def reflect_as(world: World, member: Member, body: str) -> None:
    assert "R-" in await reflect(world, member, body)


async def forget_me(world: World, member: Member) -> Message:
    """`/forget-me`: the ephemeral question with its two buttons."""
    ix = await world.dd.slash(member, "forget-me", channel=world.channel)
    await ix.response(timeout=5)
    assert ix.ephemeral and ix.original is not None
    assert [b["label"] for b in ix.original.buttons()] == ["Delete my data", "Keep it"]
    return ix.original


async def confirm(world: World, member: Member, question: Message, label: str) -> str:
    click = await world.dd.click(member, question, question.button(label)["custom_id"])
    response = await click.response(timeout=5)
    if response["type"] != 7:  # not an update of the question: an error for this member
        assert click.ephemeral
        return str(response["data"]["content"])
    await world.dd.wait_until(
        lambda: "Deleting" not in question.text, timeout=15, what="the result of /forget-me"
    )
    assert question.buttons() == []
    return question.text


def all_messages(world: World) -> dict[int, Message]:
    found = {m.id: m for m in world.dd.messages(world.channel)}
    for thread in world.dd.threads(world.channel):
        found.update({m.id: m for m in world.dd.messages(thread)})
    return found


def authored_by(message: Message, name: str) -> bool:
    embed = message.embeds[0] if message.embeds else {}
    author = (embed.get("author") or {}).get("name")
    # an answer's layout begins with the member's name; a reflection's card (or older embed)
    # starts with its text
    return (
        author == name
        or str(embed.get("description", "") or message.text).startswith(name)
        or message.text.startswith(f"**{name}**")
    )


def erasures(state: dict[str, Rows]) -> Rows:
    """The removals `/forget-me` scheduled, waiting in the outbox."""
    return [row for row in state["deliveries"] if row[1] == "reflection_erasure"]


def without(rows: Rows, gone: Rows) -> Rows:
    return [row for row in rows if row not in gone]


async def test_forget_me_removes_exactly_that_members_rows_and_posts(world: World) -> None:
    alice = world.members[0]
    polls = await everyone_writes(world)
    db = world.bot.db
    before = await database_state(world)
    messages_before = all_messages(world)
    alices_answers = [
        tuple(r)
        for r in await db.fetchall("SELECT * FROM prompt_answers WHERE user_id = ?", (alice.id,))
    ]
    alices_votes = [
        tuple(r)
        for r in await db.fetchall("SELECT * FROM poll_votes WHERE user_id = ?", (alice.id,))
    ]
    alices_reflections = [
        tuple(r) for r in await db.fetchall("SELECT * FROM reflections WHERE body LIKE 'alice%'")
    ]
    alices_pending = [
        tuple(r) for r in await db.fetchall("SELECT * FROM reflections WHERE body = 'alice waits'")
    ]
    assert (len(alices_answers), len(alices_votes), len(alices_reflections)) == (2, 1, 2)

    question = await forget_me(world, alice)
    assert "in this server only" in question.text and "anonymous polls" in question.text
    result = await confirm(world, alice, question, "Delete my data")
    assert "• 2 answers to prompts, and 2 posts in the discussion threads" in result
    assert "• your votes in 1 named poll (their counts are updated)" in result
    assert "• 1 reflection of yours not on show (not yet shared, or hidden)" in result
    assert "• 1 shared reflection of yours: each is removed, text and post, at its own" in result
    assert "Not found, by design: votes in anonymous polls" in result

    # The database: alice's rows are gone and nothing else changed but the counters.
    after = await database_state(world)
    assert after["prompt_answers"] == without(before["prompt_answers"], alices_answers)
    assert after["poll_votes"] == without(before["poll_votes"], alices_votes)
    # Her waiting reflection is gone now; her shared one waits for its own random time.
    assert after["reflections"] == without(before["reflections"], alices_pending)
    assert after["poll_ballots"] == before["poll_ballots"]  # can't be found
    assert len(erasures(after)) == 1
    named_options = await db.fetchall(
        "SELECT label, votes FROM poll_options WHERE poll_id = ? ORDER BY position",
        (polls["named"],),
    )
    assert [tuple(r) for r in named_options] == [("Job", 0), ("Career", 1)]
    changed = {"prompt_answers", "poll_votes", "reflections", "deliveries"}
    changed |= {"poll_options", "polls"}
    for table, rows in before.items():
        if table not in changed:
            assert after[table] == rows, table

    # Discord: alice's answer posts are gone now, and within a day her shared reflection too;
    # nobody else's.
    assert len(messages_before) - len(all_messages(world)) == 2
    for _ in range(24):
        world.clock.advance(hours=1)
        await world.run_scheduler()
    messages_after = all_messages(world)
    removed = {mid: m for mid, m in messages_before.items() if mid not in messages_after}
    assert len(removed) == 3
    after = await database_state(world)
    assert after["reflections"] == without(before["reflections"], alices_reflections)
    assert erasures(after) == []
    assert all(authored_by(m, "alice") for m in removed.values())
    assert not any(authored_by(m, "alice") for m in messages_after.values())
    assert sum(authored_by(m, "bob") for m in messages_after.values()) == 3  # 2 answers, 1 note
    # The named poll's message shows the new count.
    await world.dd.wait_until(
        lambda: "**Job**\n`░░░░░░░░░░░░` 0% · 0 votes" in poll_message(world, polls["named"]).text,
        what="the poll message refreshed",
    )

    # A second time: nothing left, nothing changed.
    result = await confirm(world, alice, await forget_me(world, alice), "Delete my data")
    assert "Nothing of yours was left to delete in this server" in result
    assert await database_state(world) == after
    assert all_messages(world).keys() == messages_after.keys()


async def test_only_the_member_who_asked_can_confirm(world: World) -> None:
    alice, bob, _ = world.members
    await everyone_writes(world)
    question = await forget_me(world, alice)
    before = await database_state(world)
    answer_text = await confirm(world, bob, question, "Delete my data")
    assert "Only the member who asked can confirm this" in answer_text
    assert await database_state(world) == before
    assert [b["label"] for b in question.buttons()] == ["Delete my data", "Keep it"]


async def test_keep_it_deletes_nothing(world: World) -> None:
    alice = world.members[0]
    await everyone_writes(world)
    before = await database_state(world)
    messages = all_messages(world).keys()
    assert await confirm(world, alice, await forget_me(world, alice), "Keep it") == (
        "Nothing was deleted."
    )
    assert await database_state(world) == before
    assert all_messages(world).keys() == messages


async def test_forget_me_works_after_a_restart_and_tolerates_posts_already_gone(
    world: World,
) -> None:
    alice = world.members[0]
    await everyone_writes(world)
    question = await forget_me(world, alice)
    await world.restart()
    # One of alice's posts was already deleted by hand: Discord answers 404 Unknown Message.
    world.dd.fail_next("DELETE", r"/channels/\d+/messages/\d+", status=404, code=10008)
    result = await confirm(world, alice, question, "Delete my data")
    assert "• 2 answers to prompts, and 2 posts in the discussion threads" in result
    assert "could not be removed" not in result


async def test_posts_discord_refuses_to_delete_are_reported(world: World) -> None:
    alice = world.members[0]
    await everyone_writes(world)
    world.dd.fail_next("DELETE", r"/channels/\d+/messages/\d+", status=403, code=50013)
    result = await confirm(world, alice, await forget_me(world, alice), "Delete my data")
    assert "• 2 answers to prompts, and 1 post in the discussion threads" in result
    assert "⚠️ 1 post could not be removed from Discord" in result
    assert not await world.bot.db.fetchall(
        "SELECT 1 FROM prompt_answers WHERE user_id = ?", (alice.id,)
    )


async def test_forget_me_in_a_dm_says_breakroom_works_in_a_server(world: World) -> None:
    ix = await world.dd.slash_dm(world.members[0], "forget-me")
    assert "works inside a server" in await reply_text(ix)
