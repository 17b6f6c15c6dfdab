"""A released reflection as Discord's current layout (a card), and the posts older versions left
(an embed with the same Report button) still reported, hidden, deleted and recognised."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.double import Message
from tests.double.models import walk_components
from tests.reflection_posts import body_of, ref_of, text_displays
from tests.support import World
from tests.test_reflections import (
    answer,
    cog,
    pause_scheduler_loop,
    post_with,
    posts,
    released_and_first_claimed,
    report,
    sends,
    setup_team,
    write,
)

TEXT_LIMIT = 4000
COMPONENT_LIMIT = 40


def today(world: World) -> str:
    """The day the sharing happens, as the post names it in (British) English (the team's
    timezone is UTC): "5 Jan 2026"."""
    now = world.clock.now()
    return f"{now.day} {now:%b} {now.year}"


async def reflection_id(world: World, ref: str) -> int:
    found = await world.bot.db.fetchval("SELECT id FROM reflections WHERE ref = ?", (ref,))
    assert isinstance(found, int)
    return found


def legacy_post(world: World, reflection: int, ref: str, body: str) -> Message:
    """The message an older Breakroom posted for a reflection: an embed and a Report row."""
    embed = {
        "title": "Anonymous reflection",
        "description": body,
        "color": 0x786EA0,
        "footer": {"text": f"Code {ref} · Nobody, managers included, can tell who wrote this."},
    }
    button = {
        "type": 2,
        "style": 2,
        "label": "Report",
        "custom_id": f"breakroom:reflection:report:{reflection}",
    }
    return world.dd.bot_message(
        world.channel, embeds=[embed], components=[{"type": 1, "components": [button]}]
    )


async def as_older_version_posted(world: World, message: Message) -> Message:
    """Swap a card for the post an older version made of the same reflection, as that version
    recorded it (its message id on the reflection's row)."""
    ref = ref_of(message)
    found = await reflection_id(world, ref)
    old = legacy_post(world, found, ref, body_of(message))
    await world.bot.db.execute(
        "UPDATE reflections SET message_id = ? WHERE id = ?", (old.id, found)
    )
    world.dd.delete_message(message)
    await world.dd.settle()
    return old


# --- the card ---------------------------------------------------------------------------------


async def test_a_released_reflection_is_a_card_with_its_text_a_muted_line_and_report(
    world: World,
) -> None:
    await setup_team(world)
    typed = "Tuesdays **feel** long.\n# not a heading\n> not a quote\n||no spoiler|| `x`"
    await write(world, world.members[0], typed, about="the _phones_")
    await write(world, world.members[1], "Quiet today.")
    await write(world, world.members[2], "Files, files.")
    await world.share_reflections()
    message = post_with(world, "Quiet today.")
    ref = ref_of(message)
    assert message.components_v2 and message.content == "" and message.embeds == []
    assert (
        message.text
        == f"Quiet today.\n-# Front desk · anonymous reflection · {today(world)} · code {ref}"
    )
    [button] = message.buttons()
    found = await reflection_id(world, ref)
    assert (button["label"], button["custom_id"]) == (
        "Report",
        f"breakroom:reflection:report:{found}",
    )
    # One card: the text, then the muted line with Report beside it.
    [container] = message.components
    assert container["type"] == 17
    assert [c["type"] for c in container["components"]] == [10, 9]
    # What was typed is shown as typed: markdown escaped, nothing lost.
    [styled] = [m for m in posts(world) if "feel" in m.text]
    shown = text_displays(styled)[0]
    assert shown.startswith("**About:** the \\_phones\\_\n\n")
    for escaped in ("\\*\\*feel\\*\\*", "\\# not a heading", "\\> not a quote", "\\|\\|no spoiler"):
        assert escaped in shown
    assert shown.replace("\\", "").endswith(typed)


async def test_nothing_in_a_card_carries_its_author_or_the_time_it_was_written(
    world: World,
) -> None:
    await setup_team(world)
    for member, text in zip(world.members, ("one", "two", "three"), strict=True):
        await write(world, member, text)
        world.clock.advance(minutes=7)
    await world.share_reflections()
    cards = posts(world)
    assert len(cards) == 3
    for message in cards:
        raw = json.dumps(message.components)
        for member in world.members:
            assert str(member.id) not in raw and member.name not in raw
        ids = [c.get("custom_id") for c in walk_components(message.components) if "custom_id" in c]
        assert len(ids) == 1 and ids[0].startswith("breakroom:reflection:report:")
        assert "<t:" not in raw and ":" not in message.text.splitlines()[-1]  # a day, no time
    # The three of a batch differ in their text, code and Report id only.
    lines = {m.text.splitlines()[-1].rsplit(" · code ", 1)[0] for m in cards}
    assert lines == {f"-# Front desk · anonymous reflection · {today(world)}"}


@pytest.mark.parametrize(
    ("body", "about"),
    [
        ("*" * 2000, "_" * 100),  # every character escaped: too long, so a code block
        ("`" * 2000, "`" * 100),  # the code block's own fence typed
        ("**bold** " * 222 + "xx", "*" * 100),  # escaped, and it fits
        ("word " * 400, ""),
    ],
    ids=["stars", "backticks", "bold", "plain"],
)
async def test_a_2000_character_reflection_fits_discords_limits_whole(
    world: World, body: str, about: str
) -> None:
    await setup_team(world)
    assert len(body) == 2000
    await write(world, world.members[0], body, about=about)
    await write(world, world.members[1], "b")
    await write(world, world.members[2], "c")
    await world.share_reflections()
    assert len(posts(world)) == 3, world.dd.rejected_calls
    [message] = [m for m in posts(world) if len(m.text) > 1000]
    displays = text_displays(message)
    assert sum(len(d) for d in displays) <= TEXT_LIMIT
    assert sum(1 for _ in walk_components(message.components)) <= COMPONENT_LIMIT
    shown = displays[0].split("\n\n", 1)[-1] if about else displays[0]
    if shown.startswith("```\n"):
        assert shown.endswith("\n```") and "```" not in shown[4:-4]
        assert shown[4:-4].replace("\u200b", "") == body.strip()
    else:
        assert shown.replace("\\", "") == body.strip()
    assert message.buttons()[0]["label"] == "Report"


# --- posts older versions left ----------------------------------------------------------------


async def test_an_older_versions_post_is_still_reported_hidden_and_deleted(world: World) -> None:
    await setup_team(world)
    alice = world.members[0]
    codes = {}
    for member, text in zip(world.members, ("to hide", "to report", "mine"), strict=True):
        codes[text] = await write(world, member, text)
    await world.share_reflections()
    old = {text: await as_older_version_posted(world, post_with(world, text)) for text in codes}
    assert {body_of(m) for m in posts(world)} == set(codes)
    assert not any(m.components_v2 for m in posts(world))
    # Report: its button opens the form, the reason is recorded.
    bob = world.members[1]
    assert "never who" in await report(world, bob, old["to report"], "Names a client.")
    shown = await answer(world, world.manager, "reflections settings")
    assert "Names a client." in shown and ref_of(old["to report"]) in shown
    # Hide: the old message goes.
    hidden = await answer(world, world.manager, "reflections hide", code=ref_of(old["to hide"]))
    assert "is hidden" in hidden and "could not" not in hidden
    assert old["to hide"].deleted
    # Its author deletes one with the receipt code: the old message goes.
    mine = await answer(world, world.members[2], "reflections delete", code=codes["mine"])
    assert "post is removed" in mine
    assert old["mine"].deleted and not old["to report"].deleted
    assert alice.name not in shown


async def test_forget_me_removes_an_older_versions_post(world: World) -> None:
    await setup_team(world)
    alice = world.members[0]
    for member, text in zip(world.members, ("alice's", "b", "c"), strict=True):
        await write(world, member, text)
    await world.share_reflections()
    old = await as_older_version_posted(world, post_with(world, "alice's"))
    await world.bot.services.reflections.forget_member(world.guild.id, alice.id)
    for _ in range(24 * 6 + 1):  # each removal at its own time within 24 hours
        world.clock.advance(minutes=10)
        await world.run_scheduler()
    assert old.deleted
    assert sorted(body_of(m) for m in posts(world)) == ["b", "c"]


async def test_a_repeat_attempt_finds_an_older_versions_post_and_makes_it_a_card(
    world: World,
) -> None:
    """An older version sent the post and stopped before recording it; after the upgrade the
    repeat attempt recognises that message by its Report button and edits it into a card."""
    delivery = await released_and_first_claimed(world)
    assert delivery.subject is not None
    reflection: Any = await cog(world).batches.to_post(delivery.subject)
    old = legacy_post(world, reflection.id, reflection.ref, reflection.body)
    await world.restart()
    await pause_scheduler_loop(world)
    await world.run_scheduler()  # the other two
    world.clock.advance(minutes=2)  # the claimed one's lease ends
    await world.run_scheduler()
    assert sends(world) == 2  # the old message was found, not posted again
    assert sorted(body_of(m) for m in posts(world)) == ["a", "b", "c"]
    assert old.components_v2 and old.embeds == [] and old.content == ""
    assert old.text.startswith(f"{reflection.body}\n-# Front desk · anonymous reflection · ")
    assert old.buttons()[0]["custom_id"] == f"breakroom:reflection:report:{reflection.id}"
    posted = await world.bot.db.fetchval(
        "SELECT message_id FROM reflections WHERE id = ?", (reflection.id,)
    )
    assert posted == old.id


# --- the leads' notice ------------------------------------------------------------------------


async def test_the_leads_notice_links_the_post_with_a_button_not_a_pasted_url(
    world: World,
) -> None:
    team = await setup_team(world)
    leads_room = world.dd.add_channel(world.guild, "desk-leads")
    await world.dd.settle()
    await world.bot.teams.edit(team.id, lead_channel_id=leads_room.id)
    for member, text in zip(world.members, ("reported", "b", "c"), strict=True):
        await write(world, member, text)
    await world.share_reflections()
    message = post_with(world, "reported")
    await report(world, world.members[1], message, "Names a client.")
    await world.run_scheduler()
    [notice] = world.dd.messages(leads_room)
    assert "discord.com" not in notice.text
    assert f"Code **{ref_of(message)}**: “reported”" in notice.text
    [jump] = notice.buttons()
    url = f"https://discord.com/channels/{world.guild.id}/{world.channel.id}/{message.id}"
    assert (jump["label"], jump["url"]) == ("Jump to post", url)
