"""`/history`'s "Share with the team" through the Discord double: a lead posts the summary (the
first page's card and the charts) in the team channel through the outbox; a member may too when
the team allows it (`/team edit history_sharing`, shown in `/team list`); anyone else is told
why not. One click, one post — a retry included."""

from __future__ import annotations

import pytest

from bot.teams import Team
from tests.double import InteractionRecord, Member, Message, Role
from tests.support import World
from tests.test_history import database_state, gallery, within_discord_limits
from tests.test_history_helpers import answer, answer_of, command, prompt_posts, reply_text


@pytest.fixture
async def desk(world: World) -> tuple[Team, Role, Role]:
    """Front desk (members: the "Front desk team" role; leads: "Front desk leads"): alice leads
    it, bob is a member, carol is neither. One prompt posted and answered by alice and bob."""
    dd = world.dd
    members = dd.add_role(world.guild, "Front desk team")
    leads = dd.add_role(world.guild, "Front desk leads")
    alice, bob, _ = world.members
    dd.set_roles(alice, [leads])
    dd.set_roles(bob, [members])
    await dd.settle()
    team = await world.bot.teams.create(
        world.guild.id,
        "Front desk",
        world.channel.id,
        members.id,
        "Europe/London",
        lead_role_id=leads.id,
    )
    assert "Posted" in await command(world, world.manager, "prompt post")
    [post] = prompt_posts(world)
    for member in (alice, bob):
        assert "saved" in await answer(world, member, post, f"{member.name} answers")
    world.clock.advance(hours=1)
    return team, members, leads


async def history_of(world: World, member: Member) -> Message:
    ix = await world.dd.slash(member, "history", channel=world.channel)
    shown = await answer_of(ix)
    assert isinstance(shown, Message)
    return shown


async def share(world: World, member: Member, shown: Message) -> InteractionRecord:
    return await world.dd.click(member, shown, shown.button("Share with the team")["custom_id"])


def shared_posts(world: World) -> list[Message]:
    return [m for m in world.dd.messages(world.channel) if "Shared from `/history`" in m.text]


async def test_a_lead_shares_the_summary_and_each_click_posts_once(
    world: World, desk: tuple[Team, Role, Role]
) -> None:
    alice = world.members[0]
    shown = await history_of(world, alice)
    click = await share(world, alice, shown)
    told = await answer_of(click)
    assert isinstance(told, Message) and told.ephemeral
    channel = f"<#{world.channel.id}>"
    assert told.text == f"Shared with Front desk in {channel}."
    [post] = shared_posts(world)
    [jump] = told.buttons()
    assert jump["label"] == "Jump to post" and jump["url"].endswith(f"/{post.id}")

    # the first page's card and the charts, without the member's buttons
    assert post.text.startswith(
        "## History — Front desk\n**Since the team began on Mon 5 Jan:** "
        "1 prompt (2 answers) · 0 polls · 0 reflections shared\n### Week of Mon 5 Jan 2026\n📝"
    )
    assert post.text.endswith(
        "-# Shared from `/history` · From Mon 5 Jan 2026 (Europe/London) · "
        "reflections are counts only, never who wrote them"
    )
    assert post.buttons() == []
    assert [name for name, _ in post.attachments] == ["answers-per-week.png"]
    assert gallery(post) == ["attachment://answers-per-week.png"]
    within_discord_limits(post)
    body = shown.text.split("\n-# ")[0]  # what alice read, but for her footer
    assert post.text.startswith(body)
    assert not post.ephemeral

    # a second click is a second share; nothing is left waiting in the outbox
    await answer_of(await share(world, alice, shown))
    assert len(shared_posts(world)) == 2
    assert await world.bot.db.fetchval("SELECT count(*) FROM deliveries") == 0
    rows = await world.bot.db.fetchall("SELECT message_id FROM history_shares ORDER BY id")
    assert [row[0] for row in rows] == [m.id for m in shared_posts(world)]


async def test_a_member_is_refused_until_the_team_lets_everyone_share(
    world: World, desk: tuple[Team, Role, Role]
) -> None:
    _, bob, carol = world.members
    shown = await history_of(world, bob)
    before = await database_state(world)
    refused = await reply_text(await share(world, bob, shown))
    assert refused == (
        "Only Front desk's leads and managers can share its history with the team. Ask one of "
        "them, or ask them to let every member share it (`/team edit` → `history_sharing`)."
    )
    assert shared_posts(world) == [] and await database_state(world) == before

    listed = await command(world, world.manager, "team list")
    assert "`/history` can be shared by its leads and managers" in listed
    edited = await command(
        world, world.manager, "team edit", team="Front desk", history_sharing="everyone"
    )
    assert "Team updated" in edited and "`/history` can be shared by every team member" in edited
    assert "`/history` can be shared by every team member" in await command(
        world, world.manager, "team list"
    )

    # the same button now shares for bob, a member; carol, who isn't one, is told why not
    assert (await reply_text(await share(world, bob, shown))).startswith("Shared with Front desk")
    assert len(shared_posts(world)) == 1
    refused = await reply_text(await share(world, carol, await history_of(world, carol)))
    assert "Front desk is for its members, who hold the <@&" in refused
    assert len(shared_posts(world)) == 1

    # and back to leads only
    await command(world, world.manager, "team edit", team="Front desk", history_sharing="leads")
    assert "Only Front desk's leads" in await reply_text(await share(world, bob, shown))


async def test_the_setting_is_one_of_two_choices_and_optional(world: World) -> None:
    [team_command] = [c for c in world.dd.global_commands() if c["name"] == "team"]
    [edit] = [o for o in team_command["options"] if o["name"] == "edit"]
    [option] = [o for o in edit["options"] if o["name"] == "history_sharing"]
    assert not option.get("required", False)
    assert [c["value"] for c in option["choices"]] == ["leads", "everyone"]


async def test_a_lost_answer_from_discord_still_makes_one_post(
    world: World, desk: tuple[Team, Role, Role]
) -> None:
    """Discord writes the post but its answer is lost (a 500): discord.py sends it again with
    the delivery's nonce, and Discord answers with the first one."""
    alice = world.members[0]
    shown = await history_of(world, alice)
    fault = world.dd.fail_next(
        "POST", rf"/channels/{world.channel.id}/messages", status=500, lose_reply=True
    )
    told = await reply_text(await share(world, alice, shown), timeout=15)
    assert fault.hits == 1
    assert told.startswith("Shared with Front desk")
    assert len(shared_posts(world)) == 1


async def test_a_share_for_a_deleted_team_is_not_found(
    world: World, desk: tuple[Team, Role, Role]
) -> None:
    team, _, _ = desk
    alice = world.members[0]
    shown = await history_of(world, alice)
    await world.bot.teams.delete(team.id)
    text = await reply_text(await share(world, alice, shown))
    assert "That team no longer exists" in text
    assert shared_posts(world) == []


async def test_a_share_discord_refuses_is_told_and_shown_to_managers(
    world: World, desk: tuple[Team, Role, Role]
) -> None:
    alice = world.members[0]
    shown = await history_of(world, alice)
    world.dd.fail_next("POST", rf"/channels/{world.channel.id}/messages", status=403)
    told = await reply_text(await share(world, alice, shown))
    assert told.startswith(f"Couldn't share it in <#{world.channel.id}>: Discord refused it")
    assert shared_posts(world) == []
    listed = await command(world, world.manager, "team list")
    assert "⚠️ Not delivered: Discord refused it" in listed
