"""Team leads and team members (issue 12), as an office uses them: the records supervisor leads
Records without Manage Server; a team with a role is its members' conversation.

The lead commands are hidden from non-managers in Discord's menus by default; the server shows
them to its lead roles under Server Settings → Integrations (`server_override` here).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from bot.teams import Team
from tests.double import Member, Role
from tests.faults_support import answer_text, changed_tables, dump_db, server_override
from tests.support import World
from tests.test_polls_helpers import option_button
from tests.test_reflections import post_a_batch, posts, ref_of, report

LEAD_COMMANDS = (
    "prompt post",
    "prompt schedule",
    "reflections hide",
    "reflections settings",
    "export",
    "team edit",
)


@contextlib.contextmanager
def shown_to_leads(world: World) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for name in (*LEAD_COMMANDS, "team create"):
            stack.enter_context(server_override(world.dd, name))
        yield


async def say(world: World, member: Member, command: str, **options: Any) -> str:
    ix = await world.dd.slash(member, command, channel=world.channel, options=options)
    text = await answer_text(ix)
    assert ix.ephemeral, text
    return text


@pytest.fixture
async def office(world: World) -> tuple[Team, Team, Role, Role, Member, Member]:
    """Front desk (role: Front desk team; leads: Front desk leads) in the team channel, and
    Records elsewhere. Alice leads Front desk; Bob is a member of neither."""
    dd = world.dd
    members = dd.add_role(world.guild, "Front desk team")
    leads = dd.add_role(world.guild, "Front desk leads")
    alice, bob = world.members[0], world.members[1]
    dd.set_roles(alice, [leads])
    await dd.settle()
    records_channel = dd.add_channel(world.guild, "records")
    await dd.settle()
    desk = await world.bot.teams.create(
        world.guild.id, "Front desk", world.channel.id, members.id, lead_role_id=leads.id
    )
    records = await world.bot.teams.create(world.guild.id, "Records", records_channel.id)
    return desk, records, members, leads, alice, bob


async def test_a_lead_does_for_their_team_what_a_manager_may_and_no_more(
    world: World, office: tuple[Team, Team, Role, Role, Member, Member]
) -> None:
    desk, records, _, _, alice, _ = office
    with shown_to_leads(world):
        assert "Posted" in await say(world, alice, "prompt post")
        text = await say(world, alice, "prompt schedule", weekday="monday", time="9am")
        assert "Mondays at 09:00 (9:00 am)" in text
        assert "Threshold set to 4" in await say(world, alice, "reflections settings", threshold=4)
        assert "Here is the data of **Front desk**" in await say(
            world, alice, "export", format="csv"
        )
        assert "Team updated" in await say(
            world, alice, "team edit", team="Front desk", timezone="Europe/London"
        )
        # Not for another team, not a team's leads, not the server's teams.
        before = await dump_db(world.bot.db)
        refused = "Only managers (Manage Server) can do this for Records."
        assert (await say(world, alice, "prompt post", team="Records")).startswith(refused)
        assert (await say(world, alice, "export", format="json", team="Records")).startswith(
            refused
        )
        assert "Only managers (Manage Server) choose a team's leads" in await say(
            world,
            alice,
            "team edit",
            team="Front desk",
            lead_role=world.dd.add_role(world.guild, "Everyone, almost"),
        )
        assert "Only managers" in await say(
            world, alice, "team create", name="Mine", channel=world.channel
        )
        assert changed_tables(before, await dump_db(world.bot.db)) == []
    team = await world.bot.teams.get(desk.id)
    assert (team.schedule_time, team.reflection_threshold, team.timezone) == (
        "09:00",
        4,
        "Europe/London",
    )
    assert (await world.bot.teams.get(records.id)).schedule_time is None
    assert f"Leads <@&{team.lead_role_id}>" in await say(world, world.manager, "team list")


async def test_without_the_team_role_nobody_answers_or_votes_and_nothing_is_stored(
    world: World, office: tuple[Team, Team, Role, Role, Member, Member]
) -> None:
    _, _, members, _, alice, bob = office
    carol = world.members[2]
    world.dd.set_roles(carol, [members])
    await world.dd.settle()
    assert "Posted" in await say(world, world.manager, "prompt post")
    post = await world.dd.wait_for_message(world.channel, lambda m: bool(m.buttons()))
    text = await say(world, carol, "poll create", question="Lunch?", options="Yes | No")
    assert "poll #" in text, text
    poll = await world.dd.wait_for_message(
        world.channel, lambda m: "**Yes**" in m.text and bool(m.buttons())
    )
    before = await dump_db(world.bot.db)
    refused = f"Front desk is for its members, who hold the <@&{members.id}> role"
    click = await world.dd.click(bob, post, post.button("Answer")["custom_id"])
    assert refused in await answer_text(click)
    assert refused in await say(world, bob, "prompt answer")
    vote = await world.dd.click(bob, poll, option_button(poll, "Yes")["custom_id"])
    assert refused in await answer_text(vote)
    assert refused in await say(world, bob, "reflect")
    assert changed_tables(before, await dump_db(world.bot.db)) == []
    # Members, leads and managers take part.
    for member in (carol, alice, world.manager):
        ix = await world.dd.click(member, poll, option_button(poll, "Yes")["custom_id"])
        assert refused not in await answer_text(ix)
    assert await world.bot.db.fetchval("SELECT voters FROM polls") == 3


async def test_a_lead_hides_a_reflection_of_their_team_only(
    world: World, office: tuple[Team, Team, Role, Role, Member, Member]
) -> None:
    _, _, members, _, alice, bob = office
    world.dd.set_roles(bob, [members])
    world.dd.set_roles(world.members[2], [members])
    await world.dd.settle()
    await post_a_batch(world, ("Mornings are long.", "I like the quiet.", "Files, files."))
    message = posts(world)[0]
    with shown_to_leads(world):
        assert "is hidden" in await say(world, alice, "reflections hide", code=ref_of(message))
        # bob is a member of the team, not one of its leads
        other = posts(world)[0]
        before = await dump_db(world.bot.db)
        text = await say(world, bob, "reflections hide", code=ref_of(other))
        assert text.startswith("Only managers (Manage Server) and Front desk's leads"), text
        assert changed_tables(before, await dump_db(world.bot.db)) == []
    assert len(posts(world)) == 2
    # Someone outside the team can't report its reflections either.
    dave = world.dd.add_member(world.guild, "dave")
    await world.dd.settle()
    before = await dump_db(world.bot.db)
    click = await world.dd.click(dave, other, other.buttons()[0]["custom_id"])
    assert f"<@&{members.id}> role" in await answer_text(click)
    assert changed_tables(before, await dump_db(world.bot.db)) == []


async def test_a_report_is_noticed_in_the_lead_channel_naming_nobody(
    world: World, office: tuple[Team, Team, Role, Role, Member, Member]
) -> None:
    desk, _, members, _, alice, bob = office
    carol = world.members[2]
    leads_room = world.dd.add_channel(world.guild, "desk-leads")
    await world.dd.settle()
    await world.bot.teams.edit(desk.id, lead_channel_id=leads_room.id)
    world.dd.set_roles(bob, [members])
    world.dd.set_roles(carol, [members])
    await world.dd.settle()
    await post_a_batch(world, ("Mornings are long.", "I like the quiet.", "Files, files."))
    message = posts(world)[0]
    assert "recorded" in await report(world, carol, message, "Names a client.")
    await world.run_scheduler()
    # The outbox sends it: in this pass, or in the one the report woke (which may hold it)
    await world.dd.wait_for_message(leads_room, lambda m: True, timeout=10)
    [notice] = world.dd.messages(leads_room)
    text = str(notice.embeds[0])
    assert ref_of(message) in text and "Names a client." in text
    names = [m.name for m in (alice, bob, carol)] + [str(m.id) for m in (alice, bob, carol)]
    assert not [name for name in names if name in text], text
    assert notice.allowed_mentions == {"parse": []}


async def test_help_shows_a_lead_their_part_after_the_members(
    world: World, office: tuple[Team, Team, Role, Role, Member, Member]
) -> None:
    ix = await world.dd.slash(office[4], "help", channel=world.channel)
    response = await ix.response(timeout=5)
    names = [field["name"] for field in response["data"]["embeds"][0]["fields"]]
    assert names == ["What you can do", "For your team, as its lead"]


async def test_a_lead_closes_a_poll_of_their_team(
    world: World, office: tuple[Team, Team, Role, Role, Member, Member]
) -> None:
    _, _, members, _, alice, bob = office
    world.dd.set_roles(bob, [members])
    await world.dd.settle()
    text = await say(world, bob, "poll create", question="Lunch?", options="Yes | No")
    poll_id = text.split("poll #")[1].split()[0]
    assert "is closed" in await say(world, alice, "poll close", poll=poll_id)
    assert await world.bot.db.fetchval("SELECT closed_at IS NOT NULL FROM polls") == 1
