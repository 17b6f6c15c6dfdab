"""`/team` end to end through the Discord double: what managers and members see."""

from __future__ import annotations

from typing import Any

from bot.client import DM_MESSAGE, MANAGER_MESSAGE
from tests.double import Message
from tests.support import World
from tests.test_prompts_e2e import create_team, embed_text, slash
from tests.test_teams import dump

#: what a member who is neither a manager nor a lead of the team reads
LEADS_ONLY = "Only managers (Manage Server) can do this for Front desk."


async def refused(world: World, member: Any, command: str, expected: str, **options: Any) -> None:
    """The command answers `expected` to the member alone, and the database is unchanged."""
    before = await dump(world.bot.db)
    _, text = await slash(world, member, command, **options)
    assert expected in text, text
    assert await dump(world.bot.db) == before


async def test_create_list_edit_and_the_starter_bank(world: World) -> None:
    dd = world.dd
    role = dd.add_role(world.guild, "reception")
    await create_team(world, role=role, timezone="america/new_york")
    _, listing = await slash(world, world.members[0], "team list")
    assert "Front desk" in listing
    assert f"<#{world.channel.id}>" in listing and f"<@&{role.id}>" in listing
    assert "America/New_York" in listing
    assert "Weekly prompt: off" in listing
    _, bank = await slash(world, world.members[0], "prompt list")
    assert "20 active" in bank

    records = dd.add_channel(world.guild, "records")
    _, text = await slash(
        world, world.manager, "team edit", team="front desk", name="Records room", channel=records
    )
    assert "Team updated" in text and f"<#{records.id}>" in text
    _, text = await slash(world, world.manager, "team edit", team="Records room", remove_role=True)
    assert "no role" in text
    await slash(world, world.manager, "prompt schedule", records, weekday="friday", time="16:00")
    _, listing = await slash(world, world.members[0], "team list")
    assert "Records room" in listing and "Front desk" not in listing
    assert "Fridays at 16:00 (America/New_York)" in listing
    assert "<t:1767992400:F>" in listing  # Friday 9 January 2026, 16:00 EST


async def ask_to_delete(world: World, team: str = "Front desk") -> Message:
    ix = await world.dd.slash(
        world.manager, "team delete", channel=world.channel, options={"team": team}
    )
    response = await ix.response()
    assert ix.ephemeral
    assert f"Delete the team **{team}**?" in embed_text(response["data"])
    assert ix.original is not None
    return ix.original


async def test_delete_asks_to_confirm_then_deletes_the_team_and_its_data(world: World) -> None:
    dd = world.dd
    await create_team(world)
    await slash(world, world.manager, "prompt post")
    confirm = await ask_to_delete(world)
    labels = [b["label"] for b in confirm.buttons()]
    assert labels == ["Delete the team and its data", "Keep it"]
    kept = await dd.click(world.manager, confirm, confirm.button("Keep it")["custom_id"])
    assert "Nothing was deleted" in embed_text((await kept.response())["data"])
    assert confirm.buttons() == []
    assert await world.bot.db.fetchval("SELECT COUNT(*) FROM teams") == 1

    confirm = await ask_to_delete(world)
    click = await dd.click(
        world.manager, confirm, confirm.button("Delete the team and its data")["custom_id"]
    )
    assert "Deleted the team **Front desk**" in embed_text((await click.response())["data"])
    for table in ("teams", "prompt_posts", "prompt_schedules"):
        assert await world.bot.db.fetchval(f"SELECT COUNT(*) FROM {table}") == 0
    _, listing = await slash(world, world.members[0], "team list")
    assert "no team yet" in listing


async def test_an_old_confirm_button_never_deletes_a_newer_team(world: World) -> None:
    dd = world.dd
    await create_team(world)
    first, second = await ask_to_delete(world), await ask_to_delete(world)
    label = "Delete the team and its data"
    await (await dd.click(world.manager, first, first.button(label)["custom_id"])).response()
    world.clock.advance(seconds=5)
    await create_team(world, "Front desk again")  # SQLite hands it the deleted team's id
    if world.bot.db.backend == "sqlite":  # (PostgreSQL's identity ids never come back)
        assert await world.bot.db.fetchval("SELECT id FROM teams") == 1
    stale = await dd.click(world.manager, second, second.button(label)["custom_id"])
    assert "no longer exists" in embed_text((await stale.response())["data"])
    assert await world.bot.db.fetchval("SELECT COUNT(*) FROM teams") == 1


# -- bad input: a clear ephemeral error, and nothing changed --------------------------------


async def test_unknown_timezone_is_refused(world: World) -> None:
    await refused(
        world,
        world.manager,
        "team create",
        "“Mars/Olympus_Mons” is not a timezone I know",
        name="Front desk",
        channel=world.channel,
        timezone="Mars/Olympus_Mons",
    )
    await create_team(world)
    await refused(
        world,
        world.manager,
        "team edit",
        "not a timezone I know",
        team="Front desk",
        timezone="Europe/Lundon",
    )


async def test_a_channel_the_bot_cannot_post_in_is_refused(world: World) -> None:
    locked = world.dd.add_channel(world.guild, "locked", bot_can_send=False)
    expected = (
        f"Breakroom can't post in <#{locked.id}>: it is missing Send Messages and Create Public "
        f"Threads there."
    )
    await refused(world, world.manager, "team create", expected, name="Front desk", channel=locked)
    await create_team(world)
    await refused(world, world.manager, "team edit", expected, team="Front desk", channel=locked)


async def test_team_name_over_the_limit_or_taken_is_refused(world: World) -> None:
    await refused(
        world,
        world.manager,
        "team create",
        "at most 50 characters",
        name="x" * 51,
        channel=world.channel,
    )
    await create_team(world)
    await refused(
        world,
        world.manager,
        "team create",
        "already has a team called",
        name="FRONT DESK",
        channel=world.channel,
    )


async def test_unknown_team_is_refused(world: World) -> None:
    await create_team(world)
    await refused(world, world.manager, "team delete", "no team called “Mailroom”", team="Mailroom")
    await refused(world, world.manager, "team edit", "no team called", team="Mailroom", name="New")
    await refused(world, world.manager, "team edit", "Nothing to change", team="Front desk")


async def test_non_managers_cannot_use_team_manager_commands(world: World) -> None:
    alice = world.members[0]
    await refused(world, alice, "team create", MANAGER_MESSAGE, name="Mine", channel=world.channel)
    await create_team(world)
    await refused(world, alice, "team edit", LEADS_ONLY, team="Front desk", name="Mine")
    await refused(world, alice, "team delete", MANAGER_MESSAGE, team="Front desk")
    # the confirm button checks again when it is clicked
    ix = await world.dd.slash(
        world.manager, "team delete", channel=world.channel, options={"team": "Front desk"}
    )
    await ix.response()
    assert ix.original is not None
    button = ix.original.button("Delete the team and its data")["custom_id"]
    before = await dump(world.bot.db)
    click = await world.dd.click(alice, ix.original, button)
    assert MANAGER_MESSAGE in embed_text((await click.response())["data"])
    assert click.ephemeral
    assert await dump(world.bot.db) == before


async def test_team_commands_in_a_dm_say_breakroom_works_in_a_server(world: World) -> None:
    for command in ("team list", "team create"):
        options = {"name": "x", "channel": world.channel} if command == "team create" else {}
        ix = await world.dd.slash_dm(world.members[0], command, options=options)
        response = await ix.response()
        assert ix.ephemeral
        assert DM_MESSAGE in embed_text(response["data"])
    assert await world.bot.db.fetchval("SELECT COUNT(*) FROM teams") == 0
