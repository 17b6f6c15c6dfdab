"""Forms (modals) are answered from their custom_id, so one left open across a restart saves."""

from __future__ import annotations

from tests.support import World
from tests.test_prompts_e2e import create_team, reply, slash, wait_post


async def test_an_answer_form_open_across_a_restart_still_saves(world: World) -> None:
    await create_team(world)
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    alice = world.members[0]

    click = await world.dd.click(alice, post, post.button("Answer")["custom_id"])
    await click.response(timeout=5)
    assert click.modal is not None
    form_id = click.modal["custom_id"]

    await world.restart()  # alice is still typing

    submitted = await world.dd.submit_modal(
        alice, form_id, {"answer": "Still here after the restart"}, channel=world.channel
    )
    assert "Answer saved" in await reply(submitted)
    _, text = await slash(world, alice, "prompt answers")
    assert "Still here after the restart" in text


async def test_a_reflection_form_open_across_a_restart_still_saves(world: World) -> None:
    await create_team(world)
    alice = world.members[0]
    ix = await world.dd.slash(alice, "reflect", channel=world.channel)
    await ix.response(timeout=5)
    assert ix.modal is not None

    await world.restart()

    submitted = await world.dd.submit_modal(
        alice, ix.modal["custom_id"], {"body": "Written across a restart"}, channel=world.channel
    )
    receipt = await reply(submitted)
    assert submitted.ephemeral
    assert "R-" in receipt
