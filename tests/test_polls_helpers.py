"""Helpers shared by the poll tests that drive the real bot through the Discord double (no tests
here; the name keeps it among the poll test files)."""

from __future__ import annotations

import re
from typing import Any

from bot.polls import Polls
from bot.teams import Team
from tests.double import InteractionRecord, Member, Message
from tests.double.models import walk_components
from tests.faults_support import eventually
from tests.support import World

POLL_TABLES = ("polls", "poll_options", "poll_votes", "poll_ballots")
#: an option as the poll message (or a results layout) shows it with its count: its label in
#: bold (numbered when the options are a list), then its bar, share and votes
_COUNT_LINE = re.compile(
    r"^\*\*(?:\d+\. )?(.+?)\*\*(?: 🏆)?\n`[█░]+` \d+% · (\d+) votes?", re.MULTILINE
)


async def make_team(world: World, name: str = "Front desk") -> Team:
    return await world.bot.teams.create(world.guild.id, name, world.channel.id)


def embed(message: Message) -> dict[str, Any]:
    assert message.embeds, f"message {message.id} has no embed: {message.content!r}"
    return message.embeds[0]


def field(message_or_embed: Message | dict[str, Any], name: str) -> str:
    data = embed(message_or_embed) if isinstance(message_or_embed, Message) else message_or_embed
    for item in data.get("fields") or []:
        if item["name"] == name:
            return str(item["value"])
    raise KeyError(f"no field {name!r} in {data}")


def as_message(data: dict[str, Any]) -> Message:
    """An interaction's reply data ({"content", "embeds", "components"}) as a message, to read
    it as a member does (`.text`, `.buttons()`)."""
    return Message(
        id=0,
        channel_id=0,
        content=str(data.get("content") or ""),
        embeds=list(data.get("embeds") or []),
        components=list(data.get("components") or []),
        flags=int(data.get("flags") or 0),
    )


def footer_line(message: Message) -> str:
    """The layout's last line of small text (the poll message's or a result post's footer)."""
    lines = [line for line in message.text.splitlines() if line.startswith("-# ")]
    return lines[-1] if lines else ""


def shown_counts(data: Message | dict[str, Any]) -> dict[str, int]:
    """The counts a member reads on a poll message (or a /poll results reply)."""
    message = data if isinstance(data, Message) else as_message(data)
    return {label: int(votes) for label, votes in _COUNT_LINE.findall(message.text)}


def is_poll_of(message: Message, poll_id: int) -> bool:
    """The poll's own message: it carries the poll's option buttons."""
    prefix = f"breakroom:poll:{poll_id}:"
    return any(str(b["custom_id"] or "").startswith(prefix) for b in message.buttons())


def poll_message(world: World, poll_id: int) -> Message:
    found = [m for m in world.dd.messages(world.channel) if is_poll_of(m, poll_id)]
    assert len(found) == 1, f"poll #{poll_id}: {len(found)} poll messages"
    return found[0]


def is_result_of(message: Message, poll_id: int) -> bool:
    return footer_line(message).startswith(f"-# 📊 Results of poll #{poll_id} · ")


def result_messages(world: World, poll_id: int) -> list[Message]:
    return [m for m in world.dd.messages(world.channel) if is_result_of(m, poll_id)]


def option_button(message: Message, label: str) -> dict[str, Any]:
    """The button beside an option: the accessory of the section that names it, or in the
    numbered list the button with the option's number (KeyError if the option isn't shown)."""
    for component in walk_components(message.components):
        if component.get("type") != 9:  # a section
            continue
        first = str(component["components"][0].get("content") or "").split("\n")[0]
        if re.fullmatch(rf"\*\*{re.escape(label)}\*\*(?: 🏆)?", first):
            button: dict[str, Any] = component["accessory"]
            return message.button(str(button["custom_id"]))
    numbered = re.search(rf"^\*\*(\d+)\. {re.escape(label)}\*\*", message.text, re.MULTILINE)
    if numbered is None:
        raise KeyError(f"no option {label!r} on {message}")
    [button] = [b for b in message.buttons() if b["label"] == numbered.group(1)]
    return button


async def create_poll(
    world: World,
    member: Member | None = None,
    question: str = "Job or career?",
    options: str = "Job|Career|Both",
    **values: Any,
) -> tuple[int, Message]:
    """`/poll create` through the double; returns the poll id and its message in the channel."""
    ix = await world.dd.slash(
        member or world.manager,
        "poll create",
        channel=world.channel,
        question=question,
        options={"options": options},
        **values,
    )
    content = str((await ephemeral_reply(ix))["content"])
    match = re.search(r"poll #(\d+)", content)
    assert match, content
    poll_id = int(match.group(1))
    message = await world.dd.wait_for_message(world.channel, lambda m: is_poll_of(m, poll_id))
    return poll_id, message


async def click(world: World, member: Member, message: Message, label: str) -> str:
    """Click an option's button (by the option's label) or Close; returns the ephemeral answer
    (its one line)."""
    button = message.button("Close") if label == "Close" else option_button(message, label)
    ix = await world.dd.click(member, message, button["custom_id"])
    response = await ix.response(timeout=5)
    assert ix.ephemeral, response
    return str(response["data"]["content"])


async def ephemeral_reply(ix: InteractionRecord) -> dict[str, Any]:
    """What the member reads, for them only: the response, or after a deferral ("thinking…")
    the follow-up that replaces it. Returns {"content", "embeds", "components"}: read it with
    `as_message`."""
    response = await ix.response(timeout=5)
    assert ix.ephemeral, response
    assert not ix.rejected, ix.rejected
    if response["type"] == 5:
        message = await ix.wait_followup(timeout=10)
        return {
            "content": message.content,
            "embeds": message.embeds,
            "components": message.components,
            "flags": message.flags,
        }
    data: dict[str, Any] = response["data"]
    return data


async def stored_counts(world: World, poll_id: int) -> dict[str, int]:
    """Counts straight from the stored votes (not the counters): named rows, and anonymous
    ballots opened with the bot's key (as only the bot can)."""
    polls = Polls(world.bot.db, world.bot.clock, world.bot.key)
    poll = await polls.get(poll_id)
    labels = {o.id: o.label for o in poll.options}
    found = {o.label: 0 for o in poll.options}
    for row in await world.bot.db.fetchall(
        "SELECT option_id FROM poll_votes WHERE poll_id = ?", (poll_id,)
    ):
        found[labels[row[0]]] += 1
    for row in await world.bot.db.fetchall(
        "SELECT voter_hash, ballot FROM poll_ballots WHERE poll_id = ?", (poll_id,)
    ):
        for option in polls.ballots.open(poll, bytes(row[0]), bytes(row[1])):
            found[labels[option]] += 1
    return found


async def poll_tables(world: World) -> list[list[tuple[Any, ...]]]:
    """Every stored poll row: to show that a refused action changed nothing."""
    return [
        [tuple(r) for r in await world.bot.db.fetchall(f"SELECT * FROM {table} ORDER BY 1, 2")]
        for table in POLL_TABLES
    ]


def poll_cog(world: World) -> Any:
    """The running bot's polls cog (found by name: discord.py loads each extension as a fresh
    module, so `cogs.polls.PollsCog` as a test imports it is not the running bot's class)."""
    cog = world.bot.get_cog("Polls")
    assert cog is not None and type(cog).__name__ == "PollsCog"
    return cog


async def wait_announced(world: World, poll_id: int, timeout: float = 5.0) -> None:
    """Wait until the bot has stored how the announcement of a closed poll ended, and check that
    its result message went out (the post shows in the double a moment before it is stored)."""

    async def ended() -> str | None:
        sql = "SELECT result_state FROM polls WHERE id = ?"
        state = await world.bot.db.fetchval(sql, (poll_id,))
        return None if state == "posting" else str(state)

    state = await eventually(ended, timeout, what=f"the announcement of poll {poll_id} to end")
    assert state == "posted"
