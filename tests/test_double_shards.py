"""The double shards as Discord does, seen through real discord.py clients.

A guild belongs to shard ``(guild_id >> 22) % shard_count`` and DMs to shard 0: READY,
GUILD_CREATE, guild events, messages and interactions reach only the session of the owning shard.
Each test runs its clients in the test's loop, one websocket connection per shard, as Breakroom's
shard processes will.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.double import Channel, DiscordDouble, Guild, Member, shard_of
from tests.support import endpoints

GUILDS = 20


class Recorder:
    """What reached one client: event types off its socket, interactions, messages."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.interactions: list[tuple[int | None, str]] = []
        self.messages: list[tuple[int, str]] = []


def _wire(client: discord.Client, label: str, seen: Recorder) -> app_commands.CommandTree[Any]:
    """A /where command answering with ``label``, and listeners noting what arrives."""
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)

    @tree.command(name="where", description="Says which client answered")
    async def where(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"answered by {label}")

    async def on_socket_event_type(event_type: str) -> None:
        seen.events.append(event_type)

    async def on_interaction(interaction: discord.Interaction) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        seen.interactions.append(
            (interaction.guild_id, str(data.get("name") or data.get("custom_id")))
        )

    async def on_message(message: discord.Message) -> None:
        seen.messages.append((message.channel.id, message.content))

    for listener in (on_socket_event_type, on_interaction, on_message):
        client.event(listener)
    return tree


class ShardClient(discord.Client):
    """One shard of a bot, as one process would run it."""

    def __init__(self, shard_id: int, shard_count: int) -> None:
        super().__init__(
            intents=discord.Intents.default(),
            shard_id=shard_id,
            shard_count=shard_count,
            guild_ready_timeout=0.05,
        )
        self.seen = Recorder()
        self.tree = _wire(self, f"shard {shard_id}", self.seen)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before every IDENTIFY but its first; the double has no limit."""


class AutoClient(discord.AutoShardedClient):
    """All shards of a bot in one process."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05, **kwargs)
        self.seen = Recorder()
        self.tree = _wire(self, "auto", self.seen)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Shards after the first would wait 5 s each before IDENTIFYing."""


@dataclass
class Office:
    guild: Guild
    channel: Channel
    member: Member


def build_offices(dd: DiscordDouble, count: int = GUILDS) -> list[Office]:
    offices = []
    for n in range(count):
        guild = dd.add_guild(f"Office {n}")
        offices.append(Office(guild, dd.add_channel(guild, "desk"), dd.add_member(guild, f"u{n}")))
    return offices


def on_shard(offices: list[Office], shard_id: int, shard_count: int) -> list[Office]:
    return [o for o in offices if shard_of(o.guild.id, shard_count) == shard_id]


@contextlib.asynccontextmanager
async def running(dd: DiscordDouble, *clients: discord.Client) -> AsyncIterator[None]:
    """Log the clients in, connect them (with reconnects), wait until each fired on_ready."""
    tasks = []
    try:
        for client in clients:
            await client.login(dd.token)
            tasks.append(asyncio.create_task(client.connect(reconnect=True)))
        ready = asyncio.gather(*(client.wait_until_ready() for client in clients))
        await asyncio.wait_for(ready, 15)
        yield
    finally:
        for client in clients:
            await client.close()
        for task in tasks:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, 10)


def two_shards() -> tuple[ShardClient, ShardClient]:
    """Shards 0 and 1 of 2, each as its own process would run it (its own connection)."""
    return ShardClient(0, 2), ShardClient(1, 2)


# ----------------------------------------------------------------------------- guilds per shard


def test_guild_ids_are_snowflakes_that_go_round_the_shards() -> None:
    dd = DiscordDouble()
    ids = [dd.add_guild(f"g{n}").id for n in range(GUILDS)]
    assert ids == sorted(set(ids))  # still strictly increasing, and the bits below 22 are 0
    assert all(i & ((1 << 22) - 1) == 0 for i in ids)
    for count in range(1, 11):
        assert [shard_of(i, count) for i in ids] == [n % count for n in range(GUILDS)]


async def test_each_shard_client_gets_only_its_guilds(dd: DiscordDouble) -> None:
    offices = build_offices(dd)
    first, second = two_shards()
    async with running(dd, first, second):
        await dd.wait_ready(shard_count=2)
        assert {g.id for g in first.guilds} == {o.guild.id for o in on_shard(offices, 0, 2)}
        assert {g.id for g in second.guilds} == {o.guild.id for o in on_shard(offices, 1, 2)}
        assert first.guilds and second.guilds

        late = dd.add_guild("Opened later")
        owner, other = (first, second) if shard_of(late.id, 2) == 0 else (second, first)
        await dd.settle()
        assert owner.get_guild(late.id) is not None
        assert other.get_guild(late.id) is None
        assert other.seen.events.count("GUILD_CREATE") == len(other.guilds)


async def test_guild_events_and_messages_reach_only_the_owning_shard_dms_shard_0(
    dd: DiscordDouble,
) -> None:
    offices = build_offices(dd)
    on_first, on_second = on_shard(offices, 0, 2)[0], on_shard(offices, 1, 2)[0]
    first, second = two_shards()
    async with running(dd, first, second):
        before = list(first.seen.events)
        dd.add_channel(on_second.guild, "new-desk")
        dd.add_role(on_second.guild, "Leads")
        await dd.say(on_second.member, on_second.channel, "hello from shard 1's guild")
        await dd.settle()
        assert "CHANNEL_CREATE" in second.seen.events
        assert "GUILD_ROLE_CREATE" in second.seen.events
        assert second.seen.messages == [(on_second.channel.id, "")]  # no MESSAGE_CONTENT intent
        assert first.seen.events == before
        assert first.seen.messages == []

        dm = dd.dm_channel(on_second.member)
        dd.bot_message(dm, content="a DM")  # DMs are shard 0's, whoever the user is
        await dd.settle()
        assert first.seen.messages == [(dm.id, "a DM")]
        assert second.seen.messages == [(on_second.channel.id, "")]

        dd.remove_guild(on_first.guild)
        await dd.settle()
        assert first.get_guild(on_first.guild.id) is None
        assert "GUILD_DELETE" not in second.seen.events


# ----------------------------------------------------------------------------- interactions


async def test_interactions_go_to_the_owning_shard_and_dms_to_shard_0(dd: DiscordDouble) -> None:
    offices = build_offices(dd)
    on_first, on_second = on_shard(offices, 0, 2)[0], on_shard(offices, 1, 2)[0]
    first, second = two_shards()
    async with running(dd, first, second):
        await first.tree.sync()

        ix = await dd.slash(on_second.member, "where")
        assert (await ix.response())["data"]["content"] == "answered by shard 1"
        assert ix.shard == [1, 2]
        ix = await dd.slash(on_first.member, "where")
        assert (await ix.response())["data"]["content"] == "answered by shard 0"

        post = dd.bot_message(on_second.channel, content="old post", components=[_button()])
        await dd.click(on_second.member, post, "old:button")
        ix = await dd.slash_dm(on_second.member, "where")
        assert (await ix.response())["data"]["content"] == "answered by shard 0"
        await dd.settle()

    assert first.seen.interactions == [(on_first.guild.id, "where"), (None, "where")]
    assert second.seen.interactions == [
        (on_second.guild.id, "where"),
        (on_second.guild.id, "old:button"),
    ]


def _button() -> dict[str, Any]:
    return {
        "type": 1,
        "components": [{"type": 2, "style": 1, "label": "Go", "custom_id": "old:button"}],
    }


async def test_a_dropped_shard_resumes_alone(dd: DiscordDouble) -> None:
    offices = build_offices(dd)
    on_second = on_shard(offices, 1, 2)[0]
    first, second = two_shards()
    async with running(dd, first, second):
        await first.tree.sync()
        await dd.drop_gateway(shard_id=1)
        await dd.settle()
        assert dd.resume_count == 1
        assert dd.identify_count == 2
        assert "RESUMED" in second.seen.events
        assert "RESUMED" not in first.seen.events

        ix = await dd.slash(on_second.member, "where")
        assert (await ix.response())["data"]["content"] == "answered by shard 1"


# ----------------------------------------------------------------------------- autosharding


async def test_gateway_bot_recommends_the_shard_count_the_test_set() -> None:
    for recommended in (1, 4):
        async with DiscordDouble(recommended_shards=recommended) as dd:
            client = discord.Client(intents=discord.Intents.none())
            try:
                async with endpoints(dd):
                    await client.login(dd.token)
                    shards, url, limit = await client.http.get_bot_gateway()
            finally:
                await client.close()
        assert shards == recommended
        assert url == dd.gateway_url.rstrip("/")
        assert limit["max_concurrency"] == 1 and limit["remaining"] > 0


async def test_an_auto_sharded_client_uses_the_recommended_count(dd: DiscordDouble) -> None:
    dd.recommended_shards = 3
    offices = build_offices(dd)
    client = AutoClient()
    async with running(dd, client):
        await client.tree.sync()
        assert client.shard_count == 3
        assert sorted(s.shard for s in dd.gateway.live_sessions()) == [[0, 3], [1, 3], [2, 3]]
        assert {g.id for g in client.guilds} == {o.guild.id for o in offices}
        for shard_id in range(3):
            office = on_shard(offices, shard_id, 3)[0]
            ix = await dd.slash(office.member, "where")
            assert (await ix.response())["data"]["content"] == "answered by auto"
            assert ix.shard == [shard_id, 3]


async def test_an_auto_sharded_client_with_given_shards_sees_every_guild_once(
    dd: DiscordDouble,
) -> None:
    offices = build_offices(dd)
    client = AutoClient(shard_ids=[0, 1], shard_count=2)
    async with running(dd, client):
        assert sorted(client.shards) == [0, 1]
        assert sorted(g.id for g in client.guilds) == sorted(o.guild.id for o in offices)
        assert client.seen.events.count("GUILD_CREATE") == GUILDS  # none sent to both shards


# ----------------------------------------------------------------------------- refused shards


async def test_a_shard_id_outside_the_count_is_closed_with_4010(dd: DiscordDouble) -> None:
    build_offices(dd, 2)
    client = ShardClient(2, 2)
    try:
        await client.login(dd.token)
        with pytest.raises(discord.ConnectionClosed) as closed:
            await asyncio.wait_for(client.connect(reconnect=False), 10)
    finally:
        await client.close()
    assert closed.value.code == 4010
    assert dd.identify_count == 0 and not dd.gateway.sessions


async def _identify(dd: DiscordDouble, shard: Any) -> aiohttp.WSMessage:
    """IDENTIFY on a raw socket and return the first message after HELLO."""
    async with aiohttp.ClientSession() as http, http.ws_connect(dd.gateway_url) as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello["op"] == 10
        payload = {"token": dd.token, "intents": 1, "properties": {}, "shard": shard}
        await ws.send_json({"op": 2, "d": payload})
        return await ws.receive(timeout=5)


@pytest.mark.parametrize("shard", [[0, 0], [-1, 2], [3, 3], [0], "0,1", [0, True]])
async def test_a_malformed_shard_is_closed_with_4010(dd: DiscordDouble, shard: Any) -> None:
    reply = await _identify(dd, shard)
    assert reply.type == aiohttp.WSMsgType.CLOSE
    assert reply.data == 4010


async def test_more_than_2500_guilds_on_one_shard_is_closed_with_4011(dd: DiscordDouble) -> None:
    ids = [dd.add_guild(f"g{n}").id for n in range(2501)]
    reply = await _identify(dd, [0, 1])
    assert reply.type == aiohttp.WSMsgType.CLOSE
    assert reply.data == 4011

    reply = await _identify(dd, [1, 2])  # half of them each: allowed
    assert reply.type == aiohttp.WSMsgType.TEXT
    ready = reply.json()
    assert ready["t"] == "READY" and ready["d"]["shard"] == [1, 2]
    assert sorted(int(g["id"]) for g in ready["d"]["guilds"]) == [
        i for i in ids if shard_of(i, 2) == 1
    ]
