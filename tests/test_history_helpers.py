"""Helpers for the history, export and forget-me tests (no tests here): members using Breakroom
through the Discord double — prompts answered, polls voted and re-run, reflections shared — over
weeks of an injected clock."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.double import InteractionRecord, Member, Message
from tests.poll_posts import footer, has_poll_buttons
from tests.reflection_posts import is_reflection_post
from tests.support import World
from tests.test_polls_helpers import option_button

#: The world's clock starts on Monday 5 January 2026, 08:00 UTC; London is on GMT until March 29.
SLOT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
WEEK = timedelta(weeks=1)


def message_text(data: dict[str, Any]) -> str:
    """Everything a member reads in a response payload: content, embed texts."""
    parts = [str(data.get("content") or "")]
    for embed in data.get("embeds") or []:
        parts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields") or []]
        parts.append(str((embed.get("footer") or {}).get("text") or ""))
    return "\n".join(p for p in parts if p)


async def answer_of(ix: InteractionRecord, timeout: float = 10) -> Message | dict[str, Any]:
    """The bot's ephemeral answer: the follow-up after a deferral, else the response data."""
    response = await ix.response(timeout=timeout)
    assert ix.ephemeral, f"{ix.name} answered publicly: {response}"
    if response["type"] == 5:
        return await ix.wait_followup(timeout=timeout)
    data: dict[str, Any] = response.get("data") or {}
    return data


async def reply_text(ix: InteractionRecord, timeout: float = 10) -> str:
    found = await answer_of(ix, timeout)
    return found.text if isinstance(found, Message) else message_text(found)


async def command(world: World, member: Member, name: str, /, **options: Any) -> str:
    """Use a slash command in the team channel; the text of its ephemeral answer."""
    ix = await world.dd.slash(member, name, channel=world.channel, options=options)
    return await reply_text(ix)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the PNG signature and its CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    length = int.from_bytes(data[8:12], "big")
    assert data[12:16] == b"IHDR" and length == 13
    crc = int.from_bytes(data[16 + length : 20 + length], "big")
    assert zlib.crc32(data[12 : 16 + length]) == crc, "IHDR checksum"
    assert data.endswith(b"IEND\xaeB`\x82"), "no IEND chunk"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def prompt_posts(world: World) -> list[Message]:
    return [
        m
        for m in world.dd.messages(world.channel)
        if any((b["custom_id"] or "").startswith("breakroom:answer:") for b in m.buttons())
    ]


def poll_message(world: World, poll_id: int) -> Message:
    [found] = [
        m
        for m in world.dd.messages(world.channel)
        if footer(m).startswith(f"Poll #{poll_id} ") and has_poll_buttons(m)
    ]
    return found


async def answer(world: World, member: Member, post: Message, text: str) -> str:
    click = await world.dd.click(member, post, post.button("Answer")["custom_id"])
    await click.response(timeout=5)
    assert click.modal is not None, "the Answer button did not open a modal"
    submitted = await world.dd.submit_modal(member, click.modal["custom_id"], {"answer": text})
    return await reply_text(submitted)


async def create_poll(
    world: World, member: Member, question: str, options: str, **values: Any
) -> int:
    text = await command(world, member, "poll create", question=question, options=options, **values)
    match = re.search(r"poll #(\d+)", text)
    assert match, text
    return int(match.group(1))


async def vote(world: World, member: Member, poll_id: int, label: str) -> str:
    message = poll_message(world, poll_id)
    ix = await world.dd.click(member, message, option_button(message, label)["custom_id"])
    return await reply_text(ix)


async def close_poll(world: World, poll_id: int) -> None:
    text = await command(world, world.manager, "poll close", poll=str(poll_id))
    assert f"Poll #{poll_id} is closed" in text, text


async def rerun_poll(world: World, member: Member, poll_id: int) -> int:
    text = await command(world, member, "poll rerun", poll=str(poll_id))
    match = re.search(r"Poll #(\d+) asks the question", text)
    assert match, text
    return int(match.group(1))


async def reflect(world: World, member: Member, body: str) -> str:
    ix = await world.dd.slash(member, "reflect", channel=world.channel)
    response = await ix.response(timeout=5)
    assert response["type"] == 9, response
    submitted = await world.dd.submit_modal(
        member, response["data"]["custom_id"], {"body": body, "about": ""}, channel=world.channel
    )
    return await reply_text(submitted)


def reflection_posts(world: World) -> list[Message]:
    return [m for m in world.dd.messages(world.channel) if is_reflection_post(m)]


@dataclass
class TenWeeks:
    """What the scenario made, for the assertions."""

    posts: list[Message] = field(default_factory=list)
    repeat: Message | None = None
    first_prompt_id: int = 0
    answers: int = 0
    poll: int = 0
    rerun: int = 0
    anonymous_poll: int = 0


async def create_team(world: World, timezone: str = "Europe/London") -> None:
    text = await command(
        world,
        world.manager,
        "team create",
        name="Front desk",
        channel=world.channel,
        timezone=timezone,
    )
    assert "Team created" in text, text


async def ten_weeks(
    world: World,
    *,
    reflection_authors: list[Member] | None = None,
    anonymous_voters: list[Member] | None = None,
) -> TenWeeks:
    """Ten Mondays of a team's life, all through the double:

    - a weekly prompt every Monday 09:30 (London), answered by 1–3 of alice, bob and carol
      (week 1 by all three);
    - week 2: the poll "Job or career?" (alice Job, bob and carol Career), closed;
    - week 3: reflections by `reflection_authors` (default alice, bob, carol), shared together;
    - week 5: an anonymous poll voted by `anonymous_voters` (if given), closed;
    - week 7: the poll re-run (alice and bob Career, carol Both), closed;
    - week 10: the first week's prompt posted again by hand (a repeat), answered by alice and bob.
    """
    alice, bob, carol = world.members
    made = TenWeeks()
    await create_team(world)
    text = await command(world, world.manager, "prompt schedule", weekday="monday", time="09:30")
    assert "Mondays at 09:30" in text, text
    for week in range(10):
        world.clock.set(SLOT + week * WEEK)
        await world.run_scheduler()
        await world.dd.wait_until(
            lambda n=week + 1: len(prompt_posts(world)) >= n, what=f"post of week {week + 1}"
        )
        post = prompt_posts(world)[-1]
        made.posts.append(post)
        world.clock.advance(hours=1)
        who = [alice, bob, carol] if week == 0 else [alice, bob, carol][: 1 + week % 3]
        for member in who:
            assert "saved" in await answer(world, member, post, f"{member.name}, week {week + 1}")
            made.answers += 1
        if week == 1:
            made.poll = await create_poll(world, world.manager, "Job or career?", "Job|Career|Both")
            for member, label in ((alice, "Job"), (bob, "Career"), (carol, "Career")):
                await vote(world, member, made.poll, label)
            world.clock.advance(hours=2)
            await close_poll(world, made.poll)
        if week == 2:
            authors = reflection_authors or [alice, bob, carol]
            for n, member in enumerate(authors, start=1):
                assert "R-" in await reflect(world, member, f"Reflection number {n}")
            await world.share_reflections()  # 17:00 that day
            shared = len(authors)
            await world.dd.wait_until(lambda: len(reflection_posts(world)) == shared)  # noqa: B023
        if week == 4 and anonymous_voters:
            made.anonymous_poll = await create_poll(
                world, world.manager, "Should we swap desks?", "Yes|No", anonymous=True
            )
            for n, member in enumerate(anonymous_voters):
                await vote(world, member, made.anonymous_poll, "Yes" if n % 2 == 0 else "No")
            await close_poll(world, made.anonymous_poll)
        if week == 6:
            made.rerun = await rerun_poll(world, carol, made.poll)
            for member, label in ((alice, "Career"), (bob, "Career"), (carol, "Both")):
                await vote(world, member, made.rerun, label)
            world.clock.advance(hours=2)
            await close_poll(world, made.rerun)
    # The first post's prompt, from its Answer button (breakroom:answer:{post id}).
    first_post = int(made.posts[0].button("Answer")["custom_id"].rsplit(":", 1)[1])
    made.first_prompt_id = int(
        await world.bot.db.fetchval(
            "SELECT prompt_id FROM prompt_posts WHERE id = ?", (first_post,)
        )
    )
    world.clock.advance(hours=1)
    text = await command(world, world.manager, "prompt post", prompt=str(made.first_prompt_id))
    assert "(a repeat: last asked" in text, text
    made.repeat = prompt_posts(world)[-1]
    for member in (alice, bob):
        await answer(world, member, made.repeat, f"{member.name}, asked again")
        made.answers += 1
    world.clock.advance(hours=1)
    return made
