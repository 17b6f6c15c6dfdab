"""Helpers shared by the poll tests that drive the real bot through the Discord double (no tests
here; the name keeps it among the poll test files)."""

from __future__ import annotations

import re
from typing import Any

from bot.polls import Polls
from bot.teams import Team
from tests.double import InteractionRecord, Member, Message
from tests.faults_support import eventually
from tests.support import World

POLL_TABLES = ("polls", "poll_options", "poll_votes", "poll_ballots")
_COUNT_LINE = re.compile(r"^\*\*\d+\. (.+?)\*\*(?: 🏆)? — (\d+) votes?", re.MULTILINE)


async def make_team(world: World, name: str = "Front desk") -> Team:
    return await world.bot.teams.create(world.guild.id, name, world.channel.id)


def embed(message: Message) -> dict[str, Any]:
    assert message.embeds, f"message {message.id} has no embed: {message.content!r}"
    return message.embeds[0]


def footer(message: Message) -> str:
    if not message.embeds:
        return ""
    return str((message.embeds[0].get("footer") or {}).get("text") or "")


def field(message_or_embed: Message | dict[str, Any], name: str) -> str:
    data = embed(message_or_embed) if isinstance(message_or_embed, Message) else message_or_embed
    for item in data.get("fields") or []:
        if item["name"] == name:
            return str(item["value"])
    raise KeyError(f"no field {name!r} in {data}")


def shown_counts(data: Message | dict[str, Any]) -> dict[str, int]:
    """The counts a member reads on a poll message (or a /poll results embed)."""
    description = str((embed(data) if isinstance(data, Message) else data).get("description") or "")
    return {label: int(votes) for label, votes in _COUNT_LINE.findall(description)}


def poll_message(world: World, poll_id: int) -> Message:
    found = [
        m for m in world.dd.messages(world.channel) if footer(m).startswith(f"Poll #{poll_id} ")
    ]
    found = [m for m in found if m.buttons()]
    assert len(found) == 1, f"poll #{poll_id}: {len(found)} poll messages"
    return found[0]


def result_messages(world: World, poll_id: int) -> list[Message]:
    return [
        m
        for m in world.dd.messages(world.channel)
        if footer(m).startswith(f"Poll #{poll_id} ") and not m.buttons()
    ]


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
    message = await world.dd.wait_for_message(
        world.channel, lambda m: footer(m).startswith(f"Poll #{poll_id} ") and m.buttons()
    )
    return poll_id, message


async def click(world: World, member: Member, message: Message, label: str) -> str:
    """Click an option button; returns the ephemeral answer."""
    ix = await world.dd.click(member, message, message.button(label)["custom_id"])
    response = await ix.response(timeout=5)
    assert ix.ephemeral, response
    return str(response["data"]["content"])


async def ephemeral_reply(ix: InteractionRecord) -> dict[str, Any]:
    """What the member reads, for them only: the response, or after a deferral ("thinking…")
    the follow-up that replaces it. Returns {"content", "embeds"}."""
    response = await ix.response(timeout=5)
    assert ix.ephemeral, response
    assert not ix.rejected, ix.rejected
    if response["type"] == 5:
        message = await ix.wait_followup(timeout=10)
        return {"content": message.content, "embeds": message.embeds}
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
