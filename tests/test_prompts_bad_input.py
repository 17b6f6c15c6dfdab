"""`/prompt` bad input through the Discord double: each a clear ephemeral error, nothing changed."""

from __future__ import annotations

from bot.client import DM_MESSAGE, MANAGER_MESSAGE
from tests.support import World
from tests.test_prompts_e2e import answer, create_team, embed_text, slash, wait_post
from tests.test_teams import dump
from tests.test_teams_e2e import LEADS_ONLY, refused


async def test_unknown_team_is_refused(world: World) -> None:
    await create_team(world)
    await refused(world, world.manager, "prompt post", "no team called “Mailroom”", team="Mailroom")
    await refused(world, world.members[0], "prompt answers", "no team called", team="Mailroom")
    await refused(
        world, world.manager, "prompt schedule", "no team called", team="Mailroom", weekday="monday"
    )


async def test_a_team_is_asked_for_when_the_channel_says_nothing(world: World) -> None:
    lounge = world.dd.add_channel(world.guild, "lounge")
    records = world.dd.add_channel(world.guild, "records")
    await create_team(world)
    await create_team(world, "Records", channel=records)
    await refused(world, world.manager, "prompt post", "Which team?", where=lounge)


async def test_unknown_prompt_or_post_id_is_refused(world: World) -> None:
    await create_team(world)
    await refused(world, world.manager, "prompt remove", "no prompt #9999", prompt="9999")
    await refused(world, world.manager, "prompt post", "no prompt #9999", prompt="9999")
    await refused(
        world, world.manager, "prompt remove", "Pick a prompt from the list", prompt="copier"
    )
    await refused(world, world.members[0], "prompt answers", "no prompt post #9999", post="9999")


async def test_text_over_the_limit_is_refused(world: World) -> None:
    await create_team(world)
    await refused(
        world,
        world.manager,
        "prompt add",
        "A prompt can be at most 300 characters; this one has 301",
        text="x" * 301,
    )


async def test_empty_text_is_refused(world: World) -> None:
    await create_team(world)
    await refused(world, world.manager, "prompt add", "A prompt needs some text", text="   ")
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    await answer(world, world.members[0], post, "Kept.")
    before = await dump(world.bot.db)
    _, receipt = await answer(world, world.members[0], post, "  \n  ")
    assert "Your answer is empty" in receipt
    assert await dump(world.bot.db) == before


async def test_an_answer_over_1000_characters_cannot_be_sent(world: World) -> None:
    """The modal tells Discord the limit, so the member's app counts and refuses it (the bot
    checks again: tests/test_prompts.py)."""
    await create_team(world)
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    click = await world.dd.click(world.members[0], post, post.button("Answer")["custom_id"])
    await click.response()
    assert click.modal is not None
    [field] = [c["component"] for c in click.modal["components"] if c["type"] == 18]
    assert field["max_length"] == 1000


async def test_every_way_of_writing_a_time_gives_the_same_slot(world: World) -> None:
    """`/prompt schedule` and `/reflections settings` read a time as people type it and say it
    back on both clocks; the stored slot is the same whichever form was used."""
    await create_team(world)
    [team] = await world.bot.teams.for_guild(world.guild.id)
    for typed in ("9:30 pm", "9.30pm", "21:30", "21.30", "21h30", "2130"):
        _, text = await slash(world, world.manager, "prompt schedule", weekday="monday", time=typed)
        assert "Mondays at 21:30 (9:30 pm)" in text, (typed, text)
        assert (await world.bot.teams.get(team.id)).schedule_time == "21:30"
    for typed in ("5pm", "17h", "1700"):
        _, text = await slash(world, world.manager, "reflections settings", share_time=typed)
        assert "Batches are shared at 17:00 (5:00 pm)" in text, (typed, text)
        assert (await world.bot.teams.get(team.id)).reflection_share_time == "17:00"


async def test_a_time_that_is_not_a_time_is_refused_with_examples(world: World) -> None:
    await create_team(world)
    for bad in ("9.3", "25:00", "13pm", "17", "soon"):
        await refused(
            world,
            world.manager,
            "prompt schedule",
            "Write it like 09:30",
            weekday="monday",
            time=bad,
        )


async def test_non_managers_cannot_use_prompt_manager_commands(world: World) -> None:
    await create_team(world)
    alice = world.members[0]
    await refused(world, alice, "prompt add", MANAGER_MESSAGE, text="Mine?")
    await refused(world, alice, "prompt remove", MANAGER_MESSAGE, prompt="1")
    await refused(world, alice, "prompt post", LEADS_ONLY)
    await refused(world, alice, "prompt schedule", LEADS_ONLY, weekday="monday", time="09:00")
    assert world.dd.messages(world.channel) == []


async def test_a_post_in_a_channel_the_bot_lost_access_to_is_refused(world: World) -> None:
    await create_team(world)
    world.dd.fail_next("POST", rf"/channels/{world.channel.id}/messages", status=404, code=10003)
    _, text = await slash(world, world.manager, "prompt post")
    assert "no longer exists" in text
    assert (
        await world.bot.db.fetchval("SELECT COUNT(*) FROM prompt_posts WHERE state = 'posted'") == 0
    )


async def test_prompt_commands_in_a_dm_say_breakroom_works_in_a_server(world: World) -> None:
    for command, options in (
        ("prompt list", {}),
        ("prompt add", {"text": "From my DMs?"}),
        ("prompt answer", {}),
    ):
        ix = await world.dd.slash_dm(world.members[0], command, options=options)
        response = await ix.response()
        assert ix.ephemeral
        assert DM_MESSAGE in embed_text(response["data"])
    assert await world.bot.db.fetchval("SELECT COUNT(*) FROM prompts") == 0
