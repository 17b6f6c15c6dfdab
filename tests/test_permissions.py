"""Manager commands refuse members without Manage Server at run time (issue 7, "Permissions").

Discord hides a command whose default member permissions a member lacks, but a server can change
that in its Integrations settings, and Discord never syncs default permissions for subcommands
at all (`/team create` is visible to everyone, like `/team list`). So every manager command must
check again when it runs: this walks the bot's own command tree, so a command added later is
covered without touching this file.
"""

from __future__ import annotations

import logging
import re

import pytest

from bot.client import MANAGER_MESSAGE
from tests.double import Member, Message, Perm
from tests.faults_support import (
    Fixtures,
    answer_text,
    changed_tables,
    dump_db,
    eventually,
    is_manager_command,
    leaf_commands,
    server_override,
)
from tests.reflection_posts import is_reflection_post, ref_of
from tests.support import World

#: The manager commands of COMMANDS.md; the walk must find at least these.
KNOWN_MANAGER_COMMANDS = {
    "team create",
    "team edit",
    "team delete",
    "prompt add",
    "prompt remove",
    "prompt post",
    "prompt schedule",
    "reflections hide",
    "reflections settings",
}
#: what a team's leads may do too (COMMANDS.md): refused to others with the team named
LEAD_COMMANDS = {
    "team edit",
    "prompt post",
    "prompt schedule",
    "reflections hide",
    "reflections settings",
    "export",
}


async def say(world: World, member: Member, command: str, /, **options: object) -> str:
    ix = await world.dd.slash(member, command, channel=world.channel, options=options)
    text = await answer_text(ix)
    assert ix.ephemeral, f"/{command} answered publicly: {text}"
    return text


async def populate(world: World) -> Fixtures:
    """A team with a role, a posted prompt, an open poll and a posted reflection."""
    dd, manager, alice = world.dd, world.manager, world.members[0]
    role = dd.add_role(world.guild, "Front desk team")
    await dd.settle()
    text = await say(
        world, manager, "team create", name="Front desk", channel=world.channel, role=role
    )
    assert "Team created" in text, text
    text = await say(world, manager, "prompt post")
    assert "Posted prompt" in text, text
    post = await world.bot.db.fetchone("SELECT id, prompt_id FROM prompt_posts")
    assert post is not None
    text = await say(world, alice, "poll create", question="Lunch at noon?", options="Yes | No")
    match = re.search(r"poll #(\d+)", text)
    assert match, text

    # Three of the team (it has a role: only those holding it write): a batch at 17:00.
    writers = [dd.add_member(world.guild, f"desk{n}", roles=[role]) for n in range(3)]
    await dd.settle()
    for n, member in enumerate(writers):
        form = await world.dd.slash(member, "reflect", channel=world.channel)
        modal = await form.response(timeout=5)
        body = {"body": f"Mondays are long ({n})."}
        ix = await dd.submit_modal(member, modal["data"]["custom_id"], body)
        await ix.response(timeout=5)
    await world.share_reflections()
    posted = await dd.wait_for_message(
        world.channel,
        is_reflection_post,
    )
    ref = ref_of(posted)
    db = world.bot.db

    async def stored() -> bool:
        return bool(await db.fetchval("SELECT 1 FROM reflections WHERE state = 'posted'"))

    await eventually(stored, what="the reflection to be recorded as posted")
    return Fixtures(
        team="Front desk",
        channel=world.channel,
        role=role,
        member=world.members[1],
        prompt_id=post["prompt_id"],
        post_id=post["id"],
        poll_id=int(match.group(1)),
        reflection_ref=ref,
    )


def channel_writes(world: World, since: int) -> list[str]:
    """REST calls after `since` that would change a channel (post, edit, delete, thread)."""
    return [
        f"{c.method} {c.path}"
        for c in world.dd.calls[since:]
        if c.method in ("POST", "PATCH", "PUT", "DELETE") and c.path.startswith("/channels/")
    ]


def visible(world: World) -> list[tuple[int, str, int]]:
    return [(m.id, m.text, m.edit_count) for m in world.dd.messages(world.channel)]


@pytest.mark.parametrize("extra_permissions", [0, Perm.MANAGE_MESSAGES | Perm.MANAGE_CHANNELS])
async def test_every_manager_command_refuses_a_member_at_run_time(
    world: World, caplog: pytest.LogCaptureFixture, extra_permissions: int
) -> None:
    fixtures = await populate(world)
    dd = world.dd
    member = world.members[2]
    if extra_permissions:
        # Powerful, but not Manage Server: still not a manager.
        moderators = dd.add_role(world.guild, "Moderators", extra_permissions)
        dd.set_roles(member, [moderators])
        await dd.settle()

    commands = [c for c in leaf_commands(world.bot) if is_manager_command(c)]
    names = {c.qualified_name for c in commands}
    assert names >= KNOWN_MANAGER_COMMANDS, f"missing: {KNOWN_MANAGER_COMMANDS - names}"

    before, seen, calls = await dump_db(world.bot.db), visible(world), len(dd.calls)
    caplog.set_level(logging.WARNING)
    for command in commands:
        options = fixtures.options(command)
        with server_override(dd, command.qualified_name):
            ix = await dd.slash(
                member, command.qualified_name, channel=world.channel, options=options
            )
        text = await answer_text(ix)
        assert ix.ephemeral, f"/{command.qualified_name} answered publicly: {text}"
        if command.qualified_name in LEAD_COMMANDS:
            expected = "Only managers (Manage Server) can do this for Front desk."
            assert text.startswith(expected), f"/{command.qualified_name} {options}: {text}"
        else:
            assert text == MANAGER_MESSAGE, f"/{command.qualified_name} {options}: {text}"
        assert ix.latency is not None and ix.latency < 3
    after = await dump_db(world.bot.db)
    assert changed_tables(before, after) == []
    assert visible(world) == seen
    assert channel_writes(world, calls) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_member_clicking_a_managers_delete_button_deletes_nothing(world: World) -> None:
    """The confirm button of `/team delete` is on the manager's ephemeral message; a crafted
    click by someone else is refused too."""
    fixtures = await populate(world)
    ix = await world.dd.slash(
        world.manager, "team delete", channel=world.channel, team=fixtures.team
    )
    await ix.response(timeout=5)
    confirm: Message | None = ix.original
    assert confirm is not None
    before = await dump_db(world.bot.db)
    delete_button = next(b for b in confirm.buttons() if "Delete" in str(b["label"]))
    click = await world.dd.click(world.members[0], confirm, delete_button["custom_id"])
    assert await answer_text(click) == MANAGER_MESSAGE
    assert click.ephemeral
    assert changed_tables(before, await dump_db(world.bot.db)) == []
    assert "Delete the team" in confirm.text  # the manager's message is unchanged


async def test_manager_only_autocomplete_shows_members_nothing(world: World) -> None:
    """Reflection codes are offered to managers only (to hide one); a member sees no choices."""
    fixtures = await populate(world)
    member = world.members[1]
    choices = await world.dd.autocomplete(
        member, "reflections hide", focused="code", channel=world.channel, code=""
    )
    assert choices == []
    choices = await world.dd.autocomplete(
        world.manager, "reflections hide", focused="code", channel=world.channel, code=""
    )
    assert fixtures.reflection_ref in [c["value"] for c in choices] and len(choices) == 3
