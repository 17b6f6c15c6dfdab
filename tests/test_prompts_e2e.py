"""Prompts end to end: the real bot against the Discord double, as members and managers use it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from babel.dates import format_skeleton

from bot.db import Database
from bot.i18n import time_of_day
from bot.prompts import Prompts
from tests.double import Channel, InteractionRecord, Member, Message
from tests.double.models import walk_components
from tests.prompts_support import answer_body, answer_name, headline, texts
from tests.support import World

#: The world's clock starts on Monday 5 January 2026 at 08:00 UTC; London is on GMT (UTC+0).
SLOT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def embed_text(data: dict[str, Any]) -> str:
    parts = [str(data.get("content") or "")]
    for embed in data.get("embeds") or []:
        parts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields") or []]
        parts.append(str((embed.get("footer") or {}).get("text") or ""))
    for component in walk_components(list(data.get("components") or [])):
        if component.get("type") == 10:  # a text display (Components V2)
            parts.append(str(component.get("content") or ""))
    return "\n".join(p for p in parts if p)


async def reply(ix: InteractionRecord) -> str:
    """What the member sees in answer to an interaction (after a deferral: the follow-up)."""
    response = await ix.response(timeout=5)
    if response["type"] == 5:
        return (await ix.wait_followup()).text
    return embed_text(response.get("data") or {})


async def slash(
    world: World, member: Member, command: str, /, where: Channel | None = None, **options: Any
) -> tuple[InteractionRecord, str]:
    """Use a slash command (in the team channel unless `where`); its ephemeral answer's text."""
    ix = await world.dd.slash(member, command, channel=where or world.channel, options=options)
    text = await reply(ix)
    assert ix.ephemeral, f"/{command} answered publicly: {text}"
    return ix, text


async def create_team(world: World, team_name: str = "Front desk", **options: Any) -> None:
    options.setdefault("channel", world.channel)
    options.setdefault("timezone", "Europe/London")
    _, text = await slash(world, world.manager, "team create", name=team_name, **options)
    assert "Team created" in text, text


async def prompt_posts(world: World, channel: Channel | None = None) -> list[Message]:
    return [m for m in world.dd.messages(channel or world.channel) if m.buttons()]


async def wait_post(world: World, count: int = 1) -> Message:
    await world.dd.wait_until(
        lambda: len([m for m in world.dd.messages(world.channel) if m.buttons()]) >= count,
        what=f"{count} prompt post(s)",
    )
    return (await prompt_posts(world))[count - 1]


async def answer(
    world: World, member: Member, post: Message, text: str
) -> tuple[dict[str, Any], str]:
    """Click Answer on the post, fill the modal, submit: (the modal shown, the receipt)."""
    click = await world.dd.click(member, post, post.button("Answer")["custom_id"])
    await click.response(timeout=5)
    assert click.modal is not None, "the Answer button did not open a modal"
    modal = click.modal
    submitted = await world.dd.submit_modal(member, modal["custom_id"], {"answer": text})
    receipt = await reply(submitted)
    assert submitted.ephemeral
    return modal, receipt


def modal_text(modal: dict[str, Any]) -> str:
    """Everything a member reads in a modal: text displays, labels, pre-filled values."""
    parts: list[str] = [str(modal.get("title") or "")]
    for top in modal.get("components") or []:
        if top.get("type") == 10:
            parts.append(str(top.get("content") or ""))
        if top.get("type") == 18:
            parts += [str(top.get("label") or ""), str(top.get("description") or "")]
            parts.append(str((top.get("component") or {}).get("value") or ""))
        for inner in top.get("components") or []:
            parts += [str(inner.get("label") or ""), str(inner.get("value") or "")]
    return "\n".join(parts)


async def test_scheduled_prompt_thread_three_answers_and_an_edit(world: World) -> None:
    dd = world.dd
    await create_team(world)
    _, text = await slash(world, world.manager, "prompt schedule", weekday="monday", time="09:30")
    assert "Mondays at 09:30 (9:30 am), Europe/London time" in text
    first = int(SLOT.timestamp())
    for slot in (first, first + 7 * 86400, first + 14 * 86400):
        assert f"<t:{slot}:F>" in text
    assert f"{format_skeleton('yMMMEd', SLOT, locale='en_GB')}, {time_of_day(SLOT)} GMT" in text

    world.clock.set(SLOT - timedelta(minutes=1))
    await world.run_scheduler()
    assert await prompt_posts(world) == []

    world.clock.set(SLOT)
    await world.run_scheduler()
    post = await wait_post(world)
    assert headline(post) == "What is the difference between a job and a career?"
    assert post.button("Answer")["custom_id"].startswith("breakroom:answer:")
    assert post.allowed_mentions == {"parse": []}
    [thread] = dd.threads(world.channel)
    assert thread.name.startswith("What is the difference between a job")

    alice, bob, carol = world.members
    for member, words in (
        (alice, "A job is the car."),
        (bob, "A career is where you live."),
        (carol, "No difference."),
    ):
        modal, receipt = await answer(world, member, post, words)
        assert "What is the difference between a job and a career?" in modal_text(modal)
        assert receipt == "✅ Answer saved and posted in the thread"
    thread_posts = await dd.wait_until(
        lambda: len(dd.messages(thread)) == 3 and dd.messages(thread)
    )
    assert [answer_name(m) for m in thread_posts] == ["alice", "bob", "carol"]
    assert answer_body(thread_posts[0]) == "A job is the car."
    assert all(m.allowed_mentions == {"parse": []} for m in thread_posts)

    modal, receipt = await answer(world, alice, post, "A job is the car; I'm still driving.")
    assert "A job is the car." in modal_text(modal)  # pre-filled with her answer
    assert receipt == "✅ Answer saved and updated in the thread"
    assert len(dd.messages(thread)) == 3
    assert dd.edits(thread_posts[0]) == 1
    assert answer_body(thread_posts[0]) == "A job is the car; I'm still driving."
    assert "edited" in thread_posts[0].text and "edited" not in thread_posts[1].text

    _, listing = await slash(world, bob, "prompt answers")
    assert "3 people answered" in listing
    assert "A job is the car; I'm still driving." in listing
    assert "A career is where you live." in listing

    # another pass at the same time, and a later one: still one post
    await world.run_scheduler()
    world.clock.advance(hours=1)
    await world.run_scheduler()
    assert len(await prompt_posts(world)) == 1


# -- restarts and racing passes -------------------------------------------------------------


async def schedule_monday(world: World) -> None:
    await create_team(world)
    await slash(world, world.manager, "prompt schedule", weekday="monday", time="09:30")


async def test_a_restart_before_the_slot_posts_once_after_coming_back(world: World) -> None:
    await schedule_monday(world)
    await world.stop()
    world.clock.set(SLOT + timedelta(hours=3))  # the bot was down at 09:30
    await world.start()
    await world.run_scheduler()
    post = await wait_post(world)
    await world.run_scheduler()
    await world.restart()
    await world.run_scheduler()
    assert await prompt_posts(world) == [post]
    assert len(world.dd.threads(world.channel)) == 1
    # the Answer button of the post made before the restart still works
    _, receipt = await answer(world, world.members[1], post, "Still here after a restart.")
    assert "Answer saved" in receipt


async def test_a_slot_missed_by_12_hours_or_more_is_skipped_to_the_next(world: World) -> None:
    await schedule_monday(world)
    await world.stop()
    world.clock.set(SLOT + timedelta(hours=12))
    await world.start()
    await world.run_scheduler()
    assert await prompt_posts(world) == []
    world.clock.set(SLOT + timedelta(days=7))
    await world.run_scheduler()
    await wait_post(world)
    assert len(await prompt_posts(world)) == 1


async def test_two_scheduler_passes_racing_for_one_slot_post_once(world: World) -> None:
    await schedule_monday(world)
    world.clock.set(SLOT)
    cog = world.bot.get_cog("Prompts")
    assert cog is not None
    await asyncio.gather(
        world.run_scheduler(),
        world.run_scheduler(),
        cog.run_due(SLOT),  # type: ignore[attr-defined]
        cog.run_due(SLOT),  # type: ignore[attr-defined]
    )
    await wait_post(world)
    assert len(await prompt_posts(world)) == 1
    assert await world.bot.db.fetchval("SELECT COUNT(*) FROM prompt_posts") == 1


async def while_stopped(world: World, *sql: str) -> int | None:
    """Stage what a run that stopped mid-post leaves, on the database file, while no bot runs:
    either the slot queued and its delivery claimed by that run, nothing recorded as sent, or
    (`sql`) changes to the posts and the outbox."""
    db = await Database.open(world.database)
    try:
        if sql:
            async with db.transaction() as tx:
                for statement in sql:
                    await tx.execute(statement)
            return None
        prompts = Prompts(db, world.clock)
        [post] = await prompts.weekly.queue_due(world.clock.now())
        delivery_id = await prompts.outbox.pending("prompt_post", post.id)
        assert delivery_id is not None
        assert await prompts.outbox.claim(delivery_id) is not None  # its attempt, never reported
        return post.id
    finally:
        await db.close()


async def test_a_restart_mid_post_before_sending_posts_once(world: World) -> None:
    await schedule_monday(world)
    await world.stop()
    world.clock.set(SLOT)
    post_id = await while_stopped(world)
    await world.start()
    await world.run_scheduler()
    assert await prompt_posts(world) == []  # the claim might still be live: wait before checking
    world.clock.advance(minutes=2)
    await world.run_scheduler()
    post = await wait_post(world)
    assert post.button("Answer")["custom_id"] == f"breakroom:answer:{post_id}"
    world.clock.advance(minutes=10)
    await world.run_scheduler()
    assert len(await prompt_posts(world)) == 1
    assert len(world.dd.threads(world.channel)) == 1


async def test_a_restart_mid_post_after_sending_adopts_the_message(world: World) -> None:
    await schedule_monday(world)
    world.clock.set(SLOT)
    await world.run_scheduler()
    post = await wait_post(world)
    await world.stop()
    # as if the run stopped right after Discord took the message, before recording it (under
    # another nonce: only the look for the Answer button can tell)
    lease_end = int((world.clock.now() + timedelta(minutes=2)).timestamp())
    await while_stopped(
        world,
        "UPDATE prompt_posts SET state = 'sending', message_id = NULL, thread_id = NULL,"
        " posted_at = NULL",
        "INSERT INTO deliveries (id, kind, subject, team_id, state, due_at, attempts, claimed_by,"
        f" nonce) SELECT 77, 'prompt_post', id, team_id, 'sending', {lease_end}, 1, 'stopped-run',"
        " 'another-nonce' FROM prompt_posts",
    )
    await world.start()
    await world.run_scheduler()
    assert await world.bot.db.fetchval("SELECT state FROM prompt_posts") == "sending"  # its lease
    world.clock.advance(minutes=2)
    await world.run_scheduler()
    await world.run_scheduler()
    row = await world.bot.db.fetchone("SELECT state, message_id, thread_id FROM prompt_posts")
    assert row is not None
    assert tuple(row) == ("posted", post.id, post.id)
    assert await prompt_posts(world) == [post]
    assert len(world.dd.threads(world.channel)) == 1


# -- Discord refusing or failing ------------------------------------------------------------


async def test_a_transient_failure_is_retried_after_a_pause_and_posts_once(world: World) -> None:
    await schedule_monday(world)
    world.dd.fail_next("POST", rf"/channels/{world.channel.id}/messages", status=503)
    world.clock.set(SLOT)
    await world.run_scheduler()
    assert await prompt_posts(world) == []
    world.clock.advance(minutes=1)
    await world.run_scheduler()
    await wait_post(world)
    world.clock.advance(minutes=5)
    await world.run_scheduler()
    assert len(await prompt_posts(world)) == 1
    _, listing = await slash(world, world.members[0], "team list")
    assert "failed" not in listing


async def test_a_post_failing_until_its_slot_is_12_hours_old_is_given_up_and_reported(
    world: World,
) -> None:
    await schedule_monday(world)
    failure = world.dd.fail_next(
        "POST", rf"/channels/{world.channel.id}/messages", status=503, times=1000
    )
    world.clock.set(SLOT)
    await world.run_scheduler()
    while world.clock.now() < SLOT + timedelta(hours=11):
        world.clock.advance(minutes=30)
        await world.run_scheduler()
        _, listing = await slash(world, world.members[0], "team list")
        assert "failed" not in listing  # still being tried: nothing to report yet
    while world.clock.now() < SLOT + timedelta(hours=13):
        world.clock.advance(minutes=30)
        await world.run_scheduler()
    assert await prompt_posts(world) == []
    _, listing = await slash(world, world.members[0], "team list")
    assert "Last scheduled post failed: Discord had a problem (503)." in listing
    assert "trying again" not in listing
    hits = failure.hits
    world.clock.advance(hours=6)
    await world.run_scheduler()
    assert failure.hits == hits  # given up: not tried again


async def test_a_refused_post_is_shown_to_managers_and_other_teams_still_post(world: World) -> None:
    dd = world.dd
    records = dd.add_channel(world.guild, "records")
    await schedule_monday(world)
    await create_team(world, "Records", channel=records)
    await slash(world, world.manager, "prompt schedule", records, weekday="monday", time="09:30")
    dd.fail_next("POST", rf"/channels/{world.channel.id}/messages", status=403, code=50013)
    world.clock.set(SLOT)
    await world.run_scheduler()
    await dd.wait_until(
        lambda: [m for m in dd.messages(records) if m.buttons()], what="a post in #records"
    )
    assert await prompt_posts(world) == []

    _, listing = await slash(world, world.members[0], "team list")
    assert "Last scheduled post failed: Discord refused it in" in listing
    assert "lacks a permission" in listing
    world.clock.advance(hours=1)
    await world.run_scheduler()
    assert await prompt_posts(world) == []  # a refusal is given up, not tried again
    _, text = await slash(world, world.manager, "prompt schedule", weekday="tuesday", time="10:00")
    assert "The last scheduled post failed: Discord refused it in" in text
    assert "Tuesdays at 10:00" in text


async def test_a_deleted_channel_is_reported_and_the_loop_goes_on(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    dd = world.dd
    lounge = dd.add_channel(world.guild, "lounge")
    await schedule_monday(world)
    deleted = asyncio.ensure_future(world.bot.wait_for("guild_channel_delete", timeout=5))
    dd.delete_channel(world.channel)
    await deleted
    world.clock.set(SLOT)
    await world.run_scheduler()
    _, listing = await slash(world, world.manager, "team list", lounge)
    assert "Last scheduled post failed: The team's channel no longer exists" in listing
    world.clock.advance(days=7)
    await world.run_scheduler()  # no crash, nothing to post in a channel that is gone
    assert "scheduled job 'prompts' failed" not in caplog.text
    assert dd.messages(lounge) == []


# -- posting by hand, rotation and repeats --------------------------------------------------


async def keep_only(world: World, count: int) -> list[int]:
    """Retire all but the first `count` starter prompts (test set-up); their ids."""
    prompts = Prompts(world.bot.db, world.clock)
    bank = await prompts.bank.list_page(world.guild.id, per_page=100)
    for prompt in bank.prompts[count:]:
        await prompts.bank.retire(world.guild.id, prompt.id)
    return [p.id for p in bank.prompts[:count]]


async def test_rotation_asks_every_prompt_then_a_repeat_reminds_of_the_last_answer(
    world: World,
) -> None:
    await create_team(world)
    kept = await keep_only(world, 3)
    alice = world.members[0]
    posts = []
    for count in range(1, 4):
        _, receipt = await slash(world, world.manager, "prompt post")
        assert "Posted prompt" in receipt and "repeat" not in receipt
        posts.append(await wait_post(world, count))
    assert len({headline(p) for p in posts}) == 3
    first_text = headline(posts[0])
    await answer(world, alice, posts[0], "A job, on my way somewhere.")

    _, receipt = await slash(world, world.manager, "prompt post")
    assert "(a repeat: last asked <t:" in receipt
    repeat = await wait_post(world, 4)
    assert headline(repeat) == first_text
    assert "Asked before" in repeat.text
    modal, _ = await answer(world, alice, repeat, "A career, now.")
    shown = modal_text(modal)
    assert "Last time this was asked" in shown
    assert "A job, on my way somewhere." in shown
    # bob never answered it: his modal has nothing to remind him of
    click = await world.dd.click(world.members[1], repeat, repeat.button("Answer")["custom_id"])
    await click.response()
    assert click.modal is not None and "Last time" not in modal_text(click.modal)
    _, listing = await slash(world, world.manager, "prompt list")
    assert f"`#{kept[0]}` · asked 2×" in listing


async def test_manual_post_of_a_chosen_prompt_pings_the_role_only_when_asked(world: World) -> None:
    dd = world.dd
    role = dd.add_role(world.guild, "front-desk-team")
    await create_team(world, role=role)
    [chosen] = await keep_only(world, 1)
    _, receipt = await slash(world, world.manager, "prompt post", prompt=str(chosen))
    assert f"Posted prompt **#{chosen}** in <#{world.channel.id}>" in receipt
    quiet = await wait_post(world)
    assert "<@&" not in quiet.text
    assert len(dd.threads(world.channel)) == 1

    await slash(world, world.manager, "prompt post", ping_role=True)
    loud = await wait_post(world, 2)
    assert loud.components_v2 and texts(loud)[0] == f"<@&{role.id}>"
    assert loud.allowed_mentions is not None
    assert loud.allowed_mentions["parse"] == []
    assert [int(r) for r in loud.allowed_mentions["roles"]] == [role.id]
    assert "users" not in loud.allowed_mentions or loud.allowed_mentions["users"] == []


async def test_answer_command_opens_the_latest_prompts_modal(world: World) -> None:
    await create_team(world)
    _, text = await slash(world, world.members[0], "prompt answer")
    assert "Nothing has been posted for Front desk yet" in text
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    ix = await world.dd.slash(world.members[0], "prompt answer", channel=world.channel)
    await ix.response()
    assert ix.modal is not None
    assert headline(post) in modal_text(ix.modal)
    submitted = await world.dd.submit_modal(
        world.members[0], ix.modal["custom_id"], {"answer": "Mine"}
    )
    assert "Answer saved" in await reply(submitted)
    [thread] = world.dd.threads(world.channel)
    assert [answer_body(m) for m in world.dd.messages(thread)] == ["Mine"]


async def test_answer_in_a_thread_uses_the_threads_team(world: World) -> None:
    await create_team(world)
    await slash(world, world.manager, "prompt post")
    await wait_post(world)
    [thread] = world.dd.threads(world.channel)
    _, text = await slash(world, world.members[0], "prompt answers", thread)
    assert "0 people answered" in text
    assert "Nobody has answered yet" in text


async def test_answers_page_when_long_and_count_everyone(world: World) -> None:
    await create_team(world)
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    for index in range(6):
        member = world.dd.add_member(world.guild, f"clerk{index}")
        await answer(world, member, post, f"{index} " + "x" * 900)
    _, first = await slash(world, world.members[0], "prompt answers")
    assert "6 people answered" in first
    assert "page 1 of 2" in first
    _, second = await slash(world, world.members[0], "prompt answers", page=2)
    assert "page 2 of 2" in second
    assert "clerk5" in second and "clerk5" not in first


async def test_bank_add_list_remove_and_autocomplete(world: World) -> None:
    await create_team(world)
    manager = world.manager
    _, text = await slash(world, manager, "prompt add", text="What did the copier teach you?")
    assert "Added prompt **#" in text
    _, listing = await slash(world, manager, "prompt list", page=3)
    assert "What did the copier teach you?" in listing
    assert "page 3 of 3" in listing and "21 active · 0 retired" in listing

    choices = await world.dd.autocomplete(
        manager, "prompt remove", focused="prompt", prompt="copier teach"
    )
    assert len(choices) == 1
    assert "What did the copier teach you?" in choices[0]["name"]
    prompt_id = choices[0]["value"]
    assert prompt_id.isdigit()
    _, text = await slash(world, manager, "prompt remove", prompt=prompt_id)
    assert f"Retired prompt **#{prompt_id}**" in text
    assert (
        await world.dd.autocomplete(manager, "prompt post", focused="prompt", prompt="copier teach")
        == []
    )
    _, text = await slash(world, manager, "prompt add", text="what did the COPIER teach you?")
    assert "Brought back" in text

    await slash(world, manager, "prompt post")
    await wait_post(world)
    posts = await world.dd.autocomplete(world.members[0], "prompt answers", focused="post", post="")
    assert [c["name"] for c in posts] == [
        "05 Jan 2026 · What is the difference between a job and a career?"
    ]
    _, text = await slash(world, world.members[0], "prompt answers", post=posts[0]["value"])
    assert "0 people answered" in text
    zones = await world.dd.autocomplete(
        manager, "team create", focused="timezone", timezone="new y"
    )
    assert "America/New_York" in [c["value"] for c in zones]
    teams = await world.dd.autocomplete(manager, "prompt post", focused="team", team="fro")
    assert teams == [{"name": "Front desk", "value": "Front desk"}]


async def test_a_post_refused_by_discord_tells_the_manager(world: World) -> None:
    await create_team(world)
    world.dd.fail_next("POST", rf"/channels/{world.channel.id}/messages", status=403, code=50013)
    _, text = await slash(world, world.manager, "prompt post")
    assert "could not be posted: Discord refused it in" in text
    assert "lacks a permission" in text
    assert await prompt_posts(world) == []
    assert (
        await world.bot.db.fetchval("SELECT COUNT(*) FROM prompt_posts WHERE state = 'posted'") == 0
    )


async def test_a_scheduled_post_pings_the_role_when_the_manager_asked(world: World) -> None:
    role = world.dd.add_role(world.guild, "front-desk-team")
    await create_team(world, role=role)
    await slash(
        world, world.manager, "prompt schedule", weekday="monday", time="09:30", ping_role=True
    )
    # rescheduling without saying keeps the mention
    _, text = await slash(world, world.manager, "prompt schedule", weekday="monday", time="09:30")
    assert "Mondays at 09:30" in text
    _, listing = await slash(world, world.members[0], "team list")
    assert f"mentioning <@&{role.id}>" in listing
    world.clock.set(SLOT)
    await world.run_scheduler()
    post = await wait_post(world)
    assert texts(post)[0] == f"<@&{role.id}>"
    assert post.allowed_mentions is not None
    assert [int(r) for r in post.allowed_mentions["roles"]] == [role.id]


async def test_a_manual_post_discord_fails_for_now_is_posted_by_itself_once(world: World) -> None:
    await create_team(world)
    world.dd.fail_next("POST", rf"/channels/{world.channel.id}/messages", status=503)
    _, text = await slash(world, world.manager, "prompt post")
    assert f"isn't in <#{world.channel.id}> yet: Discord had a problem (503)" in text
    assert "Breakroom posts it by itself (<t:" in text
    assert await prompt_posts(world) == []
    world.clock.advance(minutes=1)
    await world.run_scheduler()
    await wait_post(world)
    world.clock.advance(minutes=5)
    await world.run_scheduler()
    assert len(await prompt_posts(world)) == 1
    assert len(world.dd.threads(world.channel)) == 1
