"""`/help`, `/privacy`, the one error handler and DMs, through the Discord double."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.client import Breakroom
from tests.support import World


async def help_fields(world: World, member: Any) -> dict[str, str]:
    ix = await world.dd.slash(member, "help", channel=world.channel)
    response = await ix.response(timeout=5)
    assert ix.ephemeral
    embed = response["data"]["embeds"][0]
    assert "job and a career" in embed["description"]
    return {field["name"]: field["value"] for field in embed["fields"]}


async def test_help_lists_every_registered_command_for_a_manager(world: World) -> None:
    fields = await help_fields(world, world.manager)
    assert list(fields) == ["What you can do", "For your team, as its lead", "For managers"]
    text = "\n".join(fields.values())
    leaves = [c for c in world.bot.tree.walk_commands() if isinstance(c, app_commands.Command)]
    assert {c.qualified_name for c in leaves} >= {"help", "privacy"}
    missing = [c.qualified_name for c in leaves if f"`/{c.qualified_name}`" not in text]
    assert missing == [], f"/help does not list {missing}"
    assert all(len(part.splitlines()) < 15 for part in fields.values())


async def test_help_shows_a_member_what_they_can_do_and_nothing_of_the_leads(
    world: World,
) -> None:
    await world.bot.teams.create(world.guild.id, "Front desk", world.channel.id)
    fields = await help_fields(world, world.members[0])
    assert list(fields) == ["What you can do"]
    for command in ("/prompt answer", "/poll create", "/reflect", "/history"):
        assert f"`{command}`" in fields["What you can do"]
    assert "/prompt post" not in fields["What you can do"]


async def test_privacy_explains_storage_and_the_hosts_limit(world: World) -> None:
    ix = await world.dd.slash(world.members[0], "privacy", channel=world.channel)
    await ix.response(timeout=5)
    assert ix.ephemeral
    summary = await ix.wait_original()
    assert "30 days" in summary.text and "/forget-me" in summary.text
    full = await world.dd.click(world.members[0], summary, "breakroom:privacy:page:full-1")
    await full.response(timeout=5)
    text = summary.text  # the reply, now the full text
    for phrase in ("keyed hash", "30 days", "forget-me", "member list", "sharing time"):
        assert phrase in text
    # What /privacy promises is what the code does: no count of waiting reflections, stepped
    # counts for anonymous polls, a threshold of at least 3.
    for phrase in ("never right after someone writes", "steps of", "3 or more", "24 hours"):
        assert phrase in text


async def test_unexpected_error_gives_a_reference_that_is_in_the_log(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    @app_commands.command(name="boom", description="fails on purpose")
    async def boom(interaction: object) -> None:
        raise RuntimeError("the printer is on fire")

    world.bot.tree.add_command(boom)
    await world.bot.tree.sync()
    with caplog.at_level(logging.ERROR):
        ix = await world.dd.slash(world.members[0], "boom", channel=world.channel)
        response = await ix.response(timeout=5)
    assert ix.ephemeral
    content = response["data"]["content"]
    match = re.search(r"reference \*\*([0-9A-F]{6})\*\*", content)
    assert match, content
    records = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert records, "the reference is not in the log"
    assert records[0].exc_info is not None
    assert "the printer is on fire" in str(records[0].exc_info[1])


async def test_command_in_a_dm_says_breakroom_works_in_a_server(world: World) -> None:
    @app_commands.command(name="teamstuff", description="a server-only command")
    async def teamstuff(interaction: object) -> None:
        raise AssertionError("must not run in a DM")

    world.bot.tree.add_command(teamstuff)
    await world.bot.tree.sync()
    ix = await world.dd.slash_dm(world.members[0], "teamstuff")
    response = await ix.response(timeout=5)
    assert ix.ephemeral
    assert "works inside a server" in response["data"]["content"]

    ix = await world.dd.slash_dm(world.members[0], "help")
    response = await ix.response(timeout=5)
    assert response["data"]["embeds"]


async def test_an_expired_interaction_is_one_warning_not_a_traceback(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Answered after Discord's deadline: no second attempt, no error with a traceback."""
    gate = asyncio.Event()

    @app_commands.command(name="slowpoke", description="answers too late")
    async def slowpoke(interaction: discord.Interaction[Breakroom]) -> None:
        await gate.wait()
        await interaction.response.send_message("late", ephemeral=True)

    world.bot.tree.add_command(slowpoke)
    await world.bot.tree.sync()
    world.dd.response_deadline = 0.05
    with caplog.at_level(logging.WARNING):
        ix = await world.dd.slash(world.members[0], "slowpoke", channel=world.channel)
        await asyncio.sleep(0.1)  # past the (shortened) deadline on purpose
        callbacks_before = len([c for c in world.dd.calls if c.path.endswith("/callback")])
        gate.set()
        await world.dd.wait_until(
            lambda: (
                len([c for c in world.dd.calls if c.path.endswith("/callback")]) > callbacks_before
            )
        )
        await world.dd.settle()
        await asyncio.sleep(0.05)
    callbacks = [c for c in world.dd.calls if c.path.endswith("/callback")]
    assert len(callbacks) == callbacks_before + 1  # the late answer, and no second try
    assert not ix.acknowledged
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("expired before it was answered" in r.getMessage() for r in caplog.records)
