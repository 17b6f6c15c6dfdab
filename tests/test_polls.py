"""`/poll` end to end: the real bot, driven through the Discord double, as members see it."""

from __future__ import annotations

import asyncio
import itertools
import re

import pytest

from cogs._poll_messages import PollMessages
from tests.double.models import walk_components
from tests.support import World, database_files, files_containing, id_patterns
from tests.test_polls_helpers import (
    as_message,
    click,
    create_poll,
    ephemeral_reply,
    field,
    footer_line,
    make_team,
    option_button,
    poll_message,
    result_messages,
    shown_counts,
    stored_counts,
    wait_announced,
)


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests don't wait 2.5 s between message edits (the coalescing itself is tested below)."""
    monkeypatch.setattr(PollMessages, "interval", 0.05)


async def test_votes_moves_and_removals_match_message_results_and_storage(world: World) -> None:
    await make_team(world)
    alice, bob, carol = world.members
    poll_id, message = await create_poll(world)
    assert message.allowed_mentions is None or not message.allowed_mentions.get("parse")
    assert message.components_v2 and not message.embeds and not message.content
    assert [b["label"] for b in message.buttons()] == ["Vote", "Vote", "Vote", "Close"]
    assert "Job or career?" in message.text and "closes <t:" in footer_line(message)

    assert await click(world, alice, message, "Job") == "✅ Voted **Job**"
    assert await click(world, bob, message, "Career") == "✅ Voted **Career**"
    assert await click(world, carol, message, "Career") == "✅ Voted **Career**"
    assert await click(world, alice, message, "Career") == "✅ Moved to **Career**"
    assert await click(world, bob, message, "Career") == "Removed your vote for **Career**"

    expected = {"Job": 0, "Career": 2, "Both": 0}
    assert await stored_counts(world, poll_id) == expected
    await world.dd.wait_until(lambda: shown_counts(message) == expected, what="the live counts")
    assert " · 2 voted · " in footer_line(message)

    ix = await world.dd.slash(bob, "poll results", channel=world.channel, poll=str(poll_id))
    data = await ephemeral_reply(ix)
    assert shown_counts(data) == expected
    rows = await world.bot.db.fetchall("SELECT user_id FROM poll_votes ORDER BY user_id")
    assert sorted(r[0] for r in rows) == sorted([alice.id, carol.id])


async def test_multiple_choice_confirms_the_whole_selection(world: World) -> None:
    await make_team(world)
    alice = world.members[0]
    poll_id, message = await create_poll(world, multiple=True)
    assert await click(world, alice, message, "Job") == "✅ Added **Job** · you have Job"
    assert await click(world, alice, message, "Both") == "✅ Added **Both** · you have Job, Both"
    assert await click(world, alice, message, "Job") == "Removed **Job** · you have Both"
    assert await click(world, alice, message, "Both") == (
        "Removed **Both** · you have nothing selected"
    )
    await click(world, alice, message, "Both")
    assert await stored_counts(world, poll_id) == {"Job": 0, "Career": 0, "Both": 1}


async def test_300_members_clicking_in_the_same_second(world: World) -> None:
    PollMessages.interval = 1.0  # restored by quick_refresh
    await make_team(world)
    voters = [world.dd.add_member(world.guild, f"clerk{n}") for n in range(300)]
    await world.dd.settle()
    poll_id, message = await create_poll(world)
    labels = ["Job", "Career", "Both"]
    custom_ids = {label: option_button(message, label)["custom_id"] for label in labels}
    picks = {member.id: labels[n % 3] for n, member in enumerate(voters)}

    interactions = await asyncio.gather(
        *(world.dd.click(m, message, custom_ids[picks[m.id]]) for m in voters)
    )
    spread = max(ix.sent_at or 0 for ix in interactions) - min(
        ix.sent_at or 0 for ix in interactions
    )
    assert spread < 1.0, f"the clicks took {spread:.2f} s to send"
    responses = await asyncio.gather(*(ix.response(timeout=10) for ix in interactions))
    latencies = sorted(ix.latency or 99.0 for ix in interactions)
    assert latencies[-1] < 3.0, f"slowest confirmation {latencies[-1]:.2f} s"
    assert all(ix.ephemeral and not ix.rejected for ix in interactions)
    assert all(r["data"]["content"].startswith("✅ Voted **") for r in responses)

    expected = {label: 100 for label in labels}
    assert await stored_counts(world, poll_id) == expected
    await world.dd.wait_until(
        lambda: shown_counts(message) == expected, timeout=10, what="the final counts"
    )
    assert " · 300 voted · " in footer_line(message)
    times = edit_times(world, message.id)
    assert len(times) <= 12, f"{len(times)} edits for 300 votes"
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= 0.9 for gap in gaps), f"edits closer than the interval: {gaps}"
    print(
        f"300 clicks sent in {spread:.2f} s: slowest confirmation {latencies[-1]:.2f} s, "
        f"median {latencies[150]:.2f} s, {len(times)} message edits"
    )


def edit_times(world: World, message_id: int) -> list[float]:
    return [
        c.at
        for c in world.dd.calls
        if c.method == "PATCH" and c.path.endswith(f"/messages/{message_id}") and c.status < 300
    ]


async def test_edits_are_coalesced_and_end_with_the_final_state(world: World) -> None:
    PollMessages.interval = 0.5  # restored by quick_refresh
    await make_team(world)
    voters = [world.dd.add_member(world.guild, f"runner{n}") for n in range(60)]
    poll_id, message = await create_poll(world)
    job = option_button(message, "Job")["custom_id"]
    for wave in range(3):  # three bursts of 20 clicks
        interactions = await asyncio.gather(
            *(world.dd.click(m, message, job) for m in voters[wave * 20 : wave * 20 + 20])
        )
        await asyncio.gather(*(ix.response(timeout=5) for ix in interactions))
    await world.dd.wait_until(lambda: shown_counts(message).get("Job") == 60, timeout=5)
    times = edit_times(world, message.id)
    assert 1 <= len(times) < 60
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= 0.45 for gap in gaps), f"edits closer than the interval: {gaps}"
    assert await stored_counts(world, poll_id) == {"Job": 60, "Career": 0, "Both": 0}


async def test_the_last_votes_reach_the_message_when_the_bot_stops(world: World) -> None:
    PollMessages.interval = 30.0  # restored by quick_refresh
    await make_team(world)
    alice, bob, carol = world.members
    _, message = await create_poll(world)
    await click(world, alice, message, "Job")
    await world.dd.wait_until(lambda: shown_counts(message).get("Job") == 1)
    await click(world, bob, message, "Job")
    await click(world, carol, message, "Both")  # both wait for the next edit, 30 s away
    await world.stop()
    assert shown_counts(message) == {"Job": 2, "Career": 0, "Both": 1}
    await world.start()


async def test_anonymous_poll_stores_no_voter_id_anywhere(world: World) -> None:
    await make_team(world)
    poll_id, message = await create_poll(world, anonymous=True)
    assert footer_line(message).startswith("-# 🔒 Anonymous · ")
    for member, label in zip(world.members, ["Job", "Career", "Career"], strict=True):
        reply = await click(world, member, message, label)
        assert reply == f"✅ Voted **{label}** · anonymous"
    assert await click(world, world.members[0], message, "Both") == (
        "✅ Moved to **Both** · anonymous"
    )
    assert await stored_counts(world, poll_id) == {"Job": 0, "Career": 2, "Both": 1}

    ix = await world.dd.slash(
        world.manager, "poll results", channel=world.channel, poll=str(poll_id), voters=True
    )
    assert "anonymous: nobody, managers included" in (await ephemeral_reply(ix))["content"]
    for moment in ("while running (database and WAL)", "after a stop (checkpointed)"):
        if moment.startswith("after"):
            await world.stop()
        for member in world.members:
            for pattern in id_patterns(member.id):
                files = files_containing(database_files(world.db_path), pattern)
                assert files == [], f"{member.name}'s id {pattern!r} is in {files} {moment}"
    await world.start()


async def test_named_poll_voters_for_the_creator_and_managers_only(world: World) -> None:
    await make_team(world)
    alice, bob, _ = world.members
    poll_id, message = await create_poll(world, alice)
    await click(world, bob, message, "Career")
    for member in (alice, world.manager):
        ix = await world.dd.slash(
            member, "poll results", channel=world.channel, poll=str(poll_id), voters=True
        )
        shown = as_message(await ephemeral_reply(ix))
        [career] = [
            c["content"]
            for c in walk_components(shown.components)
            if c.get("type") == 10 and str(c.get("content")).startswith("**Career**")
        ]
        assert career.endswith(f"\n-# <@{bob.id}>")  # under the option bob voted for
        assert f"<@{bob.id}>" not in shown.text.replace(career, "")
    ix = await world.dd.slash(
        bob, "poll results", channel=world.channel, poll=str(poll_id), voters=True
    )
    assert (
        "Only the member who created this poll and managers"
        in (await ephemeral_reply(ix))["content"]
    )


async def test_hidden_results_stay_hidden_to_members_until_close(world: World) -> None:
    await make_team(world)
    alice, bob, _ = world.members
    poll_id, message = await create_poll(world, hide_results=True)
    await click(world, alice, message, "Career")
    await click(world, bob, message, "Career")
    await world.dd.wait_until(lambda: " · 2 voted · " in footer_line(message))
    assert shown_counts(message) == {} and " · results at close · " in footer_line(message)
    assert "%" not in message.text and "Career" in message.text

    ix = await world.dd.slash(alice, "poll results", channel=world.channel, poll=str(poll_id))
    data = await ephemeral_reply(ix)
    assert shown_counts(data) == {}
    assert "The results are hidden until the poll closes <t:" in as_message(data).text

    ix = await world.dd.slash(
        world.manager, "poll results", channel=world.channel, poll=str(poll_id)
    )
    data = await ephemeral_reply(ix)
    assert shown_counts(data) == {"Job": 0, "Career": 2, "Both": 0}
    assert "Hidden from the team until the poll closes" in as_message(data).text

    ix = await world.dd.slash(world.manager, "poll close", channel=world.channel, poll=str(poll_id))
    await ephemeral_reply(ix)
    await world.dd.wait_until(lambda: shown_counts(message) == {"Job": 0, "Career": 2, "Both": 0})
    ix = await world.dd.slash(alice, "poll results", channel=world.channel, poll=str(poll_id))
    data = await ephemeral_reply(ix)
    assert shown_counts(data) == {"Job": 0, "Career": 2, "Both": 0}


async def test_close_disables_buttons_and_posts_the_results_once(world: World) -> None:
    await make_team(world)
    alice, bob, carol = world.members
    poll_id, message = await create_poll(world, alice)
    await click(world, bob, message, "Career")
    await click(world, carol, message, "Career")
    await click(world, alice, message, "Job")

    ix = await world.dd.slash(alice, "poll close", channel=world.channel, poll=str(poll_id))
    reply = as_message(await ephemeral_reply(ix))
    assert reply.content == (
        f"🏁 Poll #{poll_id} is closed; its results are being posted in <#{world.channel.id}>"
    )
    [jump] = reply.buttons()
    assert jump["label"] == "Jump to post" and str(jump["url"]).endswith(f"/{message.id}")
    await wait_announced(world, poll_id)
    [result] = result_messages(world, poll_id)
    assert "🏆 **Career** wins with 67% (2 of 3 voters)" in result.text
    assert "3 members voted" in footer_line(result)
    assert [(b["label"], b["url"]) for b in result.buttons()] == [("See the poll", jump["url"])]
    await world.dd.wait_until(lambda: all(b["disabled"] for b in message.buttons()))
    assert footer_line(message).startswith("-# 🏁 Closed <t:")
    assert "**Career** 🏆" in message.text and "67%" in message.text
    assert " · 3 voted · " in footer_line(message)
    assert [(b["label"], b["style"]) for b in message.buttons()] == [
        ("Vote", 2),
        ("Winner", 3),
        ("Vote", 2),
    ]
    await world.run_scheduler()
    assert len(result_messages(world, poll_id)) == 1


async def test_deadline_passing_while_stopped_closes_once_after_restart(world: World) -> None:
    await make_team(world)
    alice, bob, _ = world.members
    short_id, short = await create_poll(world, question="Lunch at noon?", duration="30m")
    long_id, long = await create_poll(world, question="Career or job?", duration="1w")
    await click(world, alice, short, "Job")
    await click(world, alice, long, "Career")

    await world.stop()
    world.clock.advance(hours=2)
    await world.start()

    await world.dd.wait_until(lambda: len(result_messages(world, short_id)) == 1, timeout=10)
    await world.dd.wait_until(lambda: all(b["disabled"] for b in short.buttons()))
    await world.run_scheduler()
    await world.run_scheduler()
    assert len(result_messages(world, short_id)) == 1
    state = await world.bot.db.fetchone(
        "SELECT closed_at, result_state FROM polls WHERE id = ?", (short_id,)
    )
    assert state is not None and state["result_state"] == "posted"

    # The open poll's buttons, posted before the restart, still count votes.
    assert await click(world, bob, long, "Job") == "✅ Voted **Job**"
    assert await stored_counts(world, long_id) == {"Job": 1, "Career": 1, "Both": 0}
    await world.dd.wait_until(lambda: shown_counts(long) == {"Job": 1, "Career": 1, "Both": 0})
    assert not any(b["disabled"] for b in poll_message(world, long_id).buttons())


async def test_deadline_closes_the_poll_while_running(world: World) -> None:
    await make_team(world)
    poll_id, message = await create_poll(world, duration="2h")
    await click(world, world.members[0], message, "Both")
    world.clock.advance(hours=2)
    await world.run_scheduler()
    await world.dd.wait_until(lambda: len(result_messages(world, poll_id)) == 1)
    assert all(b["disabled"] for b in message.buttons())
    assert "🏆 **Both** wins with 100%" in result_messages(world, poll_id)[0].text


async def test_a_failed_result_post_is_retried_later_and_posted_once(world: World) -> None:
    await make_team(world)
    poll_id, message = await create_poll(world, duration="1h")
    world.dd.fail_next("POST", rf"/channels/{world.channel.id}/messages", status=503)
    world.clock.advance(hours=1)
    await world.run_scheduler()
    assert result_messages(world, poll_id) == []
    assert (
        await world.bot.db.fetchval("SELECT result_state FROM polls WHERE id = ?", (poll_id,))
        == "posting"
    )
    waiting = await world.bot.db.fetchone(
        "SELECT state, due_at, error FROM deliveries WHERE kind = 'poll_result' AND subject = ?",
        (poll_id,),
    )
    assert waiting is not None and waiting["state"] == "due"
    assert waiting["due_at"] == int(world.clock.now().timestamp()) + 30  # the outbox's back-off
    assert "Discord had a problem (503)" in waiting["error"]
    await world.run_scheduler()
    assert result_messages(world, poll_id) == []  # not at once: no hot loop
    world.clock.advance(seconds=30)
    await world.run_scheduler()
    await world.run_scheduler()
    assert len(result_messages(world, poll_id)) == 1
    assert all(b["disabled"] for b in message.buttons())


async def test_a_refused_result_post_is_given_up_with_the_reason_kept_for_managers(
    world: World,
) -> None:
    team = await make_team(world)
    poll_id, message = await create_poll(world, duration="1h")
    world.dd.fail_next("POST", rf"/channels/{world.channel.id}/messages", status=403, code=50013)
    world.clock.advance(hours=1)
    await world.run_scheduler()
    for _ in range(2):  # not retried
        world.clock.advance(minutes=30)
        await world.run_scheduler()
    assert result_messages(world, poll_id) == []
    assert all(b["disabled"] for b in message.buttons())  # closed all the same
    state = "SELECT result_state FROM polls WHERE id = ?"
    assert await world.bot.db.fetchval(state, (poll_id,)) == "failed"
    [trouble] = await world.bot.services.outbox.troubles(team.id)
    assert trouble.kind == "poll_result" and trouble.retry_at is None
    assert f"Discord refused it in <#{world.channel.id}>" in trouble.error


async def left_by_a_killed_run(world: World, kind: str, poll_id: int) -> None:
    """What a run killed after Discord took its message, before it recorded it, leaves: the
    delivery claimed by that run for its lease, and nothing recorded on the poll."""
    await world.bot.db.execute(
        "INSERT INTO deliveries (id, kind, subject, team_id, state, due_at, attempts, claimed_by,"
        " nonce) SELECT 7, ?, id, team_id, 'sending', ?, 1, 'killed-run', 'not-the-same'"
        " FROM polls WHERE id = ?",
        (kind, int(world.clock.now().timestamp()) + 120, poll_id),
    )


async def test_a_result_post_left_by_a_killed_run_is_found_not_posted_twice(
    world: World,
) -> None:
    """The next run takes the delivery over once the killed run's lease ends, finds the post in
    the channel, and doesn't post again."""
    await make_team(world)
    poll_id, _ = await create_poll(world)
    ix = await world.dd.slash(world.manager, "poll close", channel=world.channel, poll=str(poll_id))
    await ephemeral_reply(ix)
    await wait_announced(world, poll_id)
    await world.bot.db.execute(
        "UPDATE polls SET result_state = 'posting', result_message_id = NULL WHERE id = ?",
        (poll_id,),
    )
    await left_by_a_killed_run(world, "poll_result", poll_id)
    await world.run_scheduler()  # its lease holds: nobody touches it
    sql = "SELECT result_state, result_message_id FROM polls WHERE id = ?"
    assert tuple(await world.bot.db.fetchone(sql, (poll_id,)) or ()) == ("posting", None)
    world.clock.advance(minutes=2)
    await world.run_scheduler()
    row = await world.bot.db.fetchone(sql, (poll_id,))
    assert row is not None and row["result_state"] == "posted"
    [result] = result_messages(world, poll_id)
    assert row["result_message_id"] == result.id


async def test_a_poll_message_left_by_a_killed_run_is_found_by_its_buttons(world: World) -> None:
    await make_team(world)
    poll_id, message = await create_poll(world)
    await world.bot.db.execute(
        "UPDATE polls SET channel_id = NULL, message_id = NULL WHERE id = ?", (poll_id,)
    )
    await left_by_a_killed_run(world, "poll_post", poll_id)
    world.clock.advance(minutes=2)
    await world.run_scheduler()
    row = await world.bot.db.fetchone(
        "SELECT channel_id, message_id FROM polls WHERE id = ?", (poll_id,)
    )
    assert row is not None and tuple(row) == (world.channel.id, message.id)
    assert poll_message(world, poll_id).id == message.id  # one poll message, the first
    assert await click(world, world.members[0], message, "Job") == "✅ Voted **Job**"


async def test_a_failed_refresh_is_retried_without_another_vote(world: World) -> None:
    await make_team(world)
    _, message = await create_poll(world)
    failure = world.dd.fail_next("PATCH", rf"/channels/\d+/messages/{message.id}", status=503)
    await click(world, world.members[0], message, "Job")
    await world.dd.wait_until(lambda: failure.hits == 1, what="the failed edit")
    await world.dd.wait_until(lambda: shown_counts(message).get("Job") == 1, what="the retry")


async def test_rerun_shows_the_change_since_the_previous_run(world: World) -> None:
    await make_team(world)
    voters = world.members + [world.dd.add_member(world.guild, f"clerk{n}") for n in range(2)]
    first_id, first = await create_poll(world, options="Job|Career", duration="3d")
    for n, member in enumerate(voters):  # Career 2 of 5 = 40%
        await click(world, member, first, "Career" if n < 2 else "Job")
    ix = await world.dd.slash(
        world.manager, "poll close", channel=world.channel, poll=str(first_id)
    )
    await ephemeral_reply(ix)
    await world.dd.wait_until(lambda: len(result_messages(world, first_id)) == 1)

    world.clock.advance(weeks=2)
    ix = await world.dd.slash(voters[0], "poll rerun", channel=world.channel, poll=str(first_id))
    reply = as_message(await ephemeral_reply(ix))
    assert f"asks the question of poll #{first_id} again: it is posted in <#" in reply.content
    assert "\n" not in reply.content and "https://" not in reply.content
    second = world.dd.messages(world.channel)[-1]
    assert [b["label"] for b in reply.buttons()] == ["Jump to post"]
    assert str(reply.buttons()[0]["url"]).endswith(f"/{second.id}")
    found = re.search(r"poll #(\d+) \(re-run of #(\d+)\)$", footer_line(second))
    assert found is not None and int(found.group(2)) == first_id
    second_id = int(found.group(1))
    assert [b["label"] for b in second.buttons()] == ["Vote", "Vote", "Close"]
    row = await world.bot.db.fetchone(
        "SELECT rerun_of, closes_at - created_at FROM polls WHERE id = ?", (second_id,)
    )
    assert row is not None and tuple(row) == (first_id, 3 * 86400)

    for n, member in enumerate(voters):  # Career 3 of 5 = 60%
        await click(world, member, second, "Career" if n < 3 else "Job")
    world.clock.advance(days=3)
    await world.run_scheduler()
    await world.dd.wait_until(lambda: len(result_messages(world, second_id)) == 1)
    [result] = result_messages(world, second_id)
    assert "**Career** 🏆\n`███████░░░░░` 60% · 3 votes · +20 pts" in result.text
    assert "**Job**\n`█████░░░░░░░` 40% · 2 votes · -20 pts" in result.text
    assert f" · pts since poll #{first_id} · <t:" in footer_line(result)
    await world.dd.wait_until(lambda: "60% · 3 votes · +20 pts" in second.text)

    # /poll results of a re-run carries a chart of each option's share across the runs.
    ix = await world.dd.slash(voters[4], "poll results", channel=world.channel, poll=str(second_id))
    followup = await ix.wait_followup(timeout=10)
    assert ix.ephemeral
    [(filename, png)] = followup.attachments
    assert filename == f"poll-{second_id}-runs.png"
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000
    [gallery] = [c for c in walk_components(followup.components) if c.get("type") == 12]
    assert gallery["items"][0]["media"]["url"] == f"attachment://{filename}"
    assert "60% · 3 votes · +20 pts" in followup.text


async def test_autocomplete_lists_the_teams_polls_open_first(world: World) -> None:
    await make_team(world)
    first_id, _ = await create_poll(world, question="Where do we eat on Friday?")
    second_id, _ = await create_poll(world, question="Is this a career?")
    ix = await world.dd.slash(
        world.manager, "poll close", channel=world.channel, poll=str(first_id)
    )
    await ephemeral_reply(ix)
    choices = await world.dd.autocomplete(
        world.members[0], "poll results", focused="poll", channel=world.channel, poll=""
    )
    assert [c["value"] for c in choices] == [str(second_id), str(first_id)]
    assert choices[0]["name"] == "Is this a career?"
    assert choices[1]["name"].startswith("Where do we eat on Friday?")
    choices = await world.dd.autocomplete(
        world.manager, "poll close", focused="poll", channel=world.channel, poll="eat"
    )
    assert choices == []  # the only match is closed
    choices = await world.dd.autocomplete(
        world.manager, "poll close", focused="poll", channel=world.channel, poll="career"
    )
    assert [c["value"] for c in choices] == [str(second_id)]


async def test_list_shows_open_and_recently_closed_polls(world: World) -> None:
    await make_team(world)
    open_id, _ = await create_poll(world, question="Still open?")
    closed_id, closed = await create_poll(world, question="Already done?", options="Yes|No")
    await click(world, world.members[0], closed, "Yes")
    ix = await world.dd.slash(
        world.manager, "poll close", channel=world.channel, poll=str(closed_id)
    )
    await ephemeral_reply(ix)
    ix = await world.dd.slash(world.members[1], "poll list", channel=world.channel)
    data = await ephemeral_reply(ix)
    assert f"#{open_id}** Still open?" in field(data["embeds"][0], "Open")
    recent = field(data["embeds"][0], "Recently closed")
    assert f"#{closed_id}** Already done?" in recent and "**Yes** wins" in recent


async def test_twenty_options_make_four_rows_of_five(world: World) -> None:
    await make_team(world)
    labels = [f"Option {n}" for n in range(1, 21)]
    poll_id, message = await create_poll(world, options=" | ".join(labels))
    rows = [c for c in walk_components(message.components) if c.get("type") == 1]
    assert [len(r["components"]) for r in rows] == [5, 5, 5, 5, 1]  # Close on a row of its own
    assert [b["label"] for b in message.buttons()] == [str(n) for n in range(1, 21)] + ["Close"]
    for n, label in enumerate(labels, start=1):
        assert f"**{n}. {label}**\n`░░░░░░░░░░░░` 0% · 0 votes" in message.text
    assert await click(world, world.members[0], message, "Option 17") == "✅ Voted **Option 17**"
    assert (await stored_counts(world, poll_id))["Option 17"] == 1
    await world.dd.wait_until(lambda: shown_counts(message)["Option 17"] == 1)


async def test_poll_text_never_pings(world: World) -> None:
    await make_team(world)
    _, message = await create_poll(
        world, question="@everyone <@&123> who's in?", options="@here|no"
    )
    assert not (message.allowed_mentions or {}).get("parse")
    assert message.mentioned_user_ids == []


async def test_forget_member_removes_named_votes_and_refreshes(world: World) -> None:
    await make_team(world)
    alice, bob, _ = world.members
    named_id, named = await create_poll(world)
    anon_id, anon = await create_poll(world, anonymous=True)
    for message in (named, anon):
        await click(world, alice, message, "Job")
        await click(world, bob, message, "Job")
    done = await world.bot.services.polls.forget_member(world.guild.id, alice.id)
    assert done.polls == (named_id,)
    world.bot.dispatch("poll_counts_changed", done.polls)  # what /forget-me does after it
    await world.dd.wait_until(lambda: shown_counts(named).get("Job") == 1)
    assert (await stored_counts(world, anon_id))["Job"] == 2


async def test_help_lists_the_poll_commands(world: World) -> None:
    ix = await world.dd.slash(world.members[0], "help", channel=world.channel)
    text = str(await ephemeral_reply(ix))
    for name in ("create", "close", "results", "list", "rerun"):
        assert f"`/poll {name}`" in text
