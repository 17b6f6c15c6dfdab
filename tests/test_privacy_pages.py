"""`/privacy`: a short summary whose menu opens each topic and whose button shows the full text,
in place, through the Discord double; after a restart and in a DM too."""

from __future__ import annotations

from typing import Any

import pytest

from cogs._privacy_text import TOPICS, full_pages, full_text
from tests.double import Member, Message
from tests.double.models import walk_components
from tests.support import World

MENU = "breakroom:privacy:topic"
FULL = "breakroom:privacy:page:full-1"
SUMMARY = "breakroom:privacy:page:summary"

#: every promise the /privacy text made before it was split into topics, by the topic that
#: now holds it: moved, none dropped
FACTS: dict[str, tuple[str, ...]] = {
    "What is stored": (
        "database on the host's machine",
        "name, channel, roles, timezone, weekly schedule, reflection settings",
        "with your Discord id, name and avatar link (your picture beside it in the thread), so "
        "you can edit it and the team can look back",
        "`/forget-me` deletes them",
        "journal is emptied, deleted text is overwritten",
        "waiting reflections are stored in random order",
        "no author, no order of writing or voting, and nothing deleted",
    ),
    "Anonymous reflections": (
        "never who wrote it",
        "kept only sealed (encrypted), to count different authors; that goes when the batch",
        "keyed hash with a random value lets *you* delete yours with your receipt code",
        "5-a-day limit is counted in the bot's memory only",
        "sharing time (17:00 unless changed)",
        "the threshold (3 or more) of different people",
        "all together in random order; never right after someone writes",
        "waits for the threshold that was set when it was written",
        "Nobody, managers included, is told how many are waiting",
    ),
    "Polls and votes": (
        "your id and your choice. `/forget-me` deletes them",
        "no id. One vote per person is kept by a keyed hash (HMAC",
        "secret key kept outside the data folder",
        "of the server, your id and that poll",
        "choice sealed (encrypted) under the key",
        "counts move only in steps of several voters, so no change gives one vote away",
        "the hashes and sealed choices are deleted and only the counts stay",
    ),
    "Leads and managers": (
        "hide a posted reflection",
        "never who wrote it or who reported it",
        "is told how many reflections are waiting",
        "reflections with no author; anonymous polls as counts only",
    ),
    "The honest limit": (
        "Whoever runs the bot holds the key",
        "*and* the member list",
        "one member at a time, who matches a stored hash, or change the program",
    ),
    "Deleting your data": (
        "a team's data stays until a manager deletes the team",
        "deleted after 30 days unless it is added back",
        "in that server only: your answers and their posts, your votes in named polls",
        "those written under the current key): waiting ones at once",
        "each at its own random time within 24 hours, so nobody sees them vanish together",
        "votes in anonymous polls, reflections written under an older key, your own Discord "
        "messages, or copies a manager already exported",
    ),
}
#: on PostgreSQL the stored topic says what the database server keeps instead of the files' scrub
ON_POSTGRESQL = {
    "journal is emptied, deleted text is overwritten": "The database server keeps a log of changes",
    "waiting reflections are stored in random order": "the order in which things were written",
    "no author, no order of writing or voting, and nothing deleted": (
        "never show who wrote a reflection or what an anonymous vote chose"
    ),
}


def promised(world: World) -> dict[str, tuple[str, ...]]:
    """FACTS, as /privacy says them on this world's database."""
    if world.bot.db.backend == "sqlite":
        return FACTS
    return {
        label: tuple(ON_POSTGRESQL.get(fact, fact) for fact in facts)
        for label, facts in FACTS.items()
    }


async def open_privacy(world: World, member: Member | None = None, dm: bool = False) -> Message:
    who = member or world.members[0]
    if dm:
        ix = await world.dd.slash_dm(who, "privacy")
    else:
        ix = await world.dd.slash(who, "privacy", channel=world.channel)
    await ix.response(timeout=5)
    assert ix.ephemeral
    return await ix.wait_original()


async def choose(world: World, message: Message, label: str) -> dict[str, Any]:
    [menu] = message.selects()
    [value] = [o["value"] for o in menu["options"] if o["label"] == label]
    ix = await world.dd.select(world.members[0], message, MENU, [value])
    response = await ix.response(timeout=5)
    assert response["type"] == 7, response  # the reply itself changes
    return response


async def click(world: World, message: Message, custom_id: str) -> dict[str, Any]:
    ix = await world.dd.click(world.members[0], message, custom_id)
    response = await ix.response(timeout=5)
    assert response["type"] == 7, response
    return response


def text_length(message: Message) -> int:
    return sum(len(c["content"]) for c in walk_components(message.components) if c["type"] == 10)


async def test_privacy_is_a_short_summary_with_topics_and_the_full_text(world: World) -> None:
    message = await open_privacy(world)
    assert message.components_v2 and message.embeds == []
    assert message.text == (
        "**Breakroom and your privacy**\n"
        "• **Stored:** your prompt answers and your votes in named polls, with your Discord id, "
        "in a database on the host's machine.\n"
        "• **Reflections** never carry who wrote them: nobody, managers included, can trace one "
        "to you. Anonymous polls keep no id either.\n"
        "• **Kept** until a manager deletes the team; deleted 30 days after Breakroom leaves the "
        "server.\n"
        "• **`/forget-me`** deletes what you wrote in this server.\n"
        "-# Choose a topic below, or read the full text."
    )
    assert len(message.text) < 600  # read in ten seconds
    [menu] = message.selects()
    assert [o["label"] for o in menu["options"]] == list(FACTS)
    assert not any(o.get("default") for o in menu["options"])
    assert [(b["label"], b["custom_id"]) for b in message.buttons()] == [("Full text", FULL)]


@pytest.mark.parametrize("label", list(FACTS))
async def test_each_topic_opens_in_place_with_what_it_promises(world: World, label: str) -> None:
    message = await open_privacy(world)
    await choose(world, message, label)
    assert message.text.startswith(f"**{label}**\n")
    facts = promised(world)
    for fact in facts[label]:
        assert fact in message.text, f"{label!r} does not say {fact!r}"
    others = [fact for other, said in facts.items() if other != label for fact in said]
    assert not all(fact in message.text for fact in others)  # a topic, not everything
    [menu] = message.selects()
    assert [o["label"] for o in menu["options"] if o.get("default")] == [label]
    assert [b["label"] for b in message.buttons()] == ["Summary", "Full text"]
    await click(world, message, SUMMARY)
    assert message.text.startswith("**Breakroom and your privacy**\n• **Stored:**")


async def test_the_full_text_holds_every_promise(world: World) -> None:
    message = await open_privacy(world)
    await click(world, message, FULL)
    for label, facts in promised(world).items():
        assert f"**{label}**" in message.text
        for fact in facts:
            assert fact in message.text, f"the full text does not say {fact!r}"
    assert message.text == "**Breakroom and your privacy**\n\n" + full_text()
    assert text_length(message) <= 4000
    assert [b["label"] for b in message.buttons()] == ["Summary"]


async def test_the_menu_and_buttons_work_after_a_restart_and_in_a_dm(world: World) -> None:
    message = await open_privacy(world)
    dm_message = await open_privacy(world, dm=True)
    await world.restart()
    await choose(world, message, "Polls and votes")
    assert "steps of several voters" in message.text
    await click(world, message, FULL)
    assert "member list" in message.text
    await choose(world, dm_message, "Deleting your data")
    assert "within 24 hours" in dm_message.text
    await click(world, dm_message, SUMMARY)
    assert "`/forget-me`" in dm_message.text


async def test_a_button_for_a_page_that_is_not_there_shows_the_nearest_one(world: World) -> None:
    """Buttons an older or later version made: a full-text page past the end, an unknown page."""
    buttons = [
        {"type": 2, "style": 2, "label": "Next", "custom_id": "breakroom:privacy:page:full-9"},
        {"type": 2, "style": 2, "label": "?", "custom_id": "breakroom:privacy:page:gone"},
    ]
    old = world.dd.bot_message(world.channel, components=[{"type": 1, "components": buttons}])
    await click(world, old, "breakroom:privacy:page:full-9")
    assert old.text.endswith(full_pages()[-1])
    assert [b["label"] for b in old.buttons()] == ["Summary"]
    gone = world.dd.bot_message(world.channel, components=[{"type": 1, "components": buttons}])
    await click(world, gone, "breakroom:privacy:page:gone")
    assert gone.text.startswith("**Breakroom and your privacy**\n• **Stored:**")


def test_a_longer_full_text_is_paged_between_topics() -> None:
    pages = full_pages(budget=1500)
    assert len(pages) > 1
    assert "\n\n".join(pages) == full_text()
    starts = {topic.text.split("\n", 1)[0] for topic in TOPICS}
    assert all(page.split("\n", 1)[0] in starts for page in pages)
    assert all(len(page) <= 1500 for page in pages)
