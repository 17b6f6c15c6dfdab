"""Prompt posts and answers as members read them (Components V2 layouts): the question as the
post's headline with a live answer count, dated thread names, answers with a face, one-line
receipts with a Jump button, old-format messages still working, worst-case input in limits."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import itertools
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.db import Database
from bot.export import export_team
from bot.i18n import day, day_month
from bot.prompt_answers import Answer
from bot.prompts import Prompts
from bot.teams import Teams
from cogs._layout import component_count, text_length
from cogs._prompt_layouts import answer_layout, post_layout, thread_name
from cogs._prompt_messages import PostMessages
from tests.double import Message
from tests.prompts_support import (
    answer_body,
    answer_name,
    headline,
    texts,
    thumbnails,
    within_discord_limits,
)
from tests.support import World, prompt_posted
from tests.test_forget import confirm, forget_me
from tests.test_prompts_e2e import SLOT, create_team, keep_only, slash, wait_post
from tests.test_prompts_retry import answers_pending, hold_scheduler, thread_posts

QUESTION = "What is the difference between a job and a career?"
#: Dates as the post writes them (bot/i18n.py, English here)
JAN_5 = day_month(date(2026, 1, 5))


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests don't wait 2.5 s between edits of a post (the coalescing is tested below)."""
    monkeypatch.setattr(PostMessages, "interval", 0.05)


async def answered(world: World, member_index: int, post: Message, words: str) -> Message:
    """The member answers; the follow-up they read (text and Jump button)."""
    member = world.members[member_index]
    click = await world.dd.click(member, post, post.button("Answer")["custom_id"])
    await click.response(timeout=5)
    assert click.modal is not None
    submitted = await world.dd.submit_modal(member, click.modal["custom_id"], {"answer": words})
    await submitted.response(timeout=5)
    assert submitted.ephemeral
    return await submitted.wait_followup()


def edit_times(world: World, message_id: int) -> list[float]:
    return [
        c.at
        for c in world.dd.calls
        if c.method == "PATCH" and c.path.endswith(f"/messages/{message_id}") and c.status < 300
    ]


async def test_a_post_shows_its_question_and_a_live_answer_count(world: World) -> None:
    dd = world.dd
    await create_team(world)
    await slash(world, world.manager, "prompt schedule", weekday="monday", time="09:30")
    world.clock.set(SLOT)
    await world.run_scheduler()
    post = await wait_post(world)
    print(f"--- the post\n{post.text}")
    within_discord_limits(post)
    assert texts(post) == [f"## {QUESTION}", f"-# Front desk · Week of {JAN_5} · No answers yet"]
    [button] = post.buttons()
    assert (button["label"], button["emoji"]["name"]) == ("Answer", "✍️")
    post_id = int(await world.bot.db.fetchval("SELECT id FROM prompt_posts"))
    assert button["custom_id"] == f"breakroom:answer:{post_id}"
    assert post.allowed_mentions == {"parse": []}
    [thread] = dd.threads(world.channel)
    assert thread.name == f"{QUESTION} · {day(date(2026, 1, 5))}"

    await answered(world, 0, post, "A job is the car.")
    await dd.wait_until(lambda: "· 1 answer so far" in post.text, what="the count")
    await answered(world, 1, post, "A career is where you live.")
    await dd.wait_until(lambda: "· 2 answers so far" in post.text, what="the count")
    edits = dd.edits(post)
    await answered(world, 1, post, "A career is where you stay.")  # a change: still 2
    await asyncio.sleep(0.2)
    assert "· 2 answers so far" in post.text and dd.edits(post) == edits
    assert await world.bot.db.fetchval("SELECT COUNT(*) FROM prompt_answers") == 2
    print(f"--- after two answers\n{post.text}")
    within_discord_limits(post)
    assert post.button("Answer")["custom_id"] == f"breakroom:answer:{post_id}"


async def test_a_burst_of_answers_is_coalesced_into_few_edits(world: World) -> None:
    PostMessages.interval = 0.5  # restored by quick_refresh
    dd = world.dd
    for n in range(9):
        world.members.append(dd.add_member(world.guild, f"clerk{n}"))
    await dd.settle()
    await create_team(world)
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    await asyncio.gather(
        *(answered(world, n, post, f"Answer number {n}.") for n in range(len(world.members)))
    )
    await dd.wait_until(lambda: "· 12 answers so far" in post.text, timeout=10, what="the count")
    await asyncio.sleep(0.6)  # nothing more comes after the last
    times = edit_times(world, post.id)
    assert 1 <= len(times) <= 8, f"{len(times)} edits for 12 answers"
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= 0.45 for gap in gaps), f"edits closer than the interval: {gaps}"
    assert "· 12 answers so far" in post.text


async def test_forget_me_takes_the_members_answer_off_the_count(world: World) -> None:
    await create_team(world)
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    await answered(world, 0, post, "Mine.")
    await answered(world, 1, post, "Mine too.")
    await world.dd.wait_until(lambda: "· 2 answers so far" in post.text, what="the count")
    alice = world.members[0]
    result = await confirm(world, alice, await forget_me(world, alice), "Delete my data")
    assert "1 answer to prompts" in result
    await world.dd.wait_until(lambda: "· 1 answer so far" in post.text, what="the new count")


async def test_an_answer_shows_the_members_name_and_avatar(world: World) -> None:
    dd = world.dd
    await create_team(world)
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    [thread] = await dd.wait_until(lambda: dd.threads(world.channel))
    receipt = await answered(world, 0, post, "A job is the car.")
    [message] = thread_posts(world, thread)
    print(f"--- the receipt\n{receipt.text}\n--- the answer\n{message.text}")
    assert receipt.text == "✅ Answer saved and posted in the thread"
    [jump] = receipt.buttons()
    assert jump["label"] == "Jump to post"
    assert jump["url"] == f"https://discord.com/channels/{world.guild.id}/{thread.id}/{message.id}"

    within_discord_limits(message)
    assert texts(message) == ["**alice**", "A job is the car."]
    avatar = await world.bot.db.fetchval("SELECT avatar_url FROM prompt_answers")
    assert avatar.startswith("https://cdn.discordapp.com/")
    assert thumbnails(message) == [avatar]
    assert message.allowed_mentions == {"parse": []}

    receipt = await answered(world, 0, post, "A job is the car; I'm still driving.")
    assert receipt.text == "✅ Answer saved and updated in the thread"
    assert receipt.buttons()[0]["url"] == jump["url"]
    assert texts(message) == ["**alice**", "A job is the car; I'm still driving.", "-# edited"]
    assert thumbnails(message) == [avatar]
    assert thread_posts(world, thread) == [message]
    within_discord_limits(message)


async def test_an_answer_posted_after_a_restart_still_has_its_avatar(world: World) -> None:
    """The avatar is kept with the answer: the outbox posts it after a restart, when no
    interaction knows the member's picture any more."""
    dd = world.dd
    await create_team(world)
    await hold_scheduler(world)
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    [thread] = await dd.wait_until(lambda: dd.threads(world.channel))
    dd.fail_next("POST", rf"/channels/{thread.id}/messages", status=503)
    receipt = await answered(world, 2, post, "Said before the restart.")
    assert "Discord is having trouble" in receipt.text and receipt.buttons() == []
    assert thread_posts(world, thread) == []
    await world.restart()
    await hold_scheduler(world)
    world.clock.advance(minutes=5)
    await world.run_scheduler()
    [message] = thread_posts(world, thread)
    assert answer_name(message) == "carol"
    avatar = await world.bot.db.fetchval("SELECT avatar_url FROM prompt_answers")
    assert avatar and thumbnails(message) == [avatar]
    assert await answers_pending(world) == 0


async def test_thread_names_of_a_first_asking_and_its_repeats_differ(world: World) -> None:
    dd = world.dd
    await create_team(world)
    await keep_only(world, 1)
    ix, receipt = await slash(world, world.manager, "prompt post")
    first = await wait_post(world)
    question = headline(first)
    print(f"--- /prompt post's confirmation\n{receipt}")
    assert receipt == f"✅ Posted prompt **#1** in <#{world.channel.id}>."
    [jump] = (await ix.wait_followup()).buttons()
    assert (
        jump["url"]
        == f"https://discord.com/channels/{world.guild.id}/{world.channel.id}/{first.id}"
    )

    world.clock.advance(days=7)
    _, receipt = await slash(world, world.manager, "prompt post")
    repeat = await wait_post(world, 2)
    print(f"--- a repeat\n{repeat.text}\n--- its confirmation\n{receipt}")
    assert receipt.startswith("✅ Posted prompt **#1** (a repeat: last asked <t:")
    assert headline(repeat) == question
    assert f"Asked before on {JAN_5} — has your answer changed?" in texts(repeat)
    assert f"-# Front desk · Week of {day_month(date(2026, 1, 12))} · No answers yet" in texts(
        repeat
    )
    await slash(world, world.manager, "prompt post")  # the same day again
    await wait_post(world, 3)
    threads = await dd.wait_until(lambda: len(dd.threads(world.channel)) == 3, what="3 threads")
    assert threads
    names = [t.name for t in dd.threads(world.channel)]
    first, second = day(date(2026, 1, 5)), day(date(2026, 1, 12))
    assert sorted(names) == sorted(
        [f"{question} · {first}", f"{question} · {second}", f"{question} · {second} · #3"]
    )
    assert len(set(names)) == 3


async def test_long_and_markdown_looking_input_stays_within_discords_limits(world: World) -> None:
    dd = world.dd
    role = dd.add_role(world.guild, "front-desk-team")
    world.members.append(dd.add_member(world.guild, "dana", roles=[role]))  # may answer
    await create_team(world, role=role)
    words = "When a customer asks *why* the **queue** is slow, what do you say `first`? "
    long_prompt = (words * 5)[:299] + "?"
    _, added = await slash(world, world.manager, "prompt add", text=long_prompt)
    prompt_id = int(added.split("**#", 1)[1].split("**", 1)[0])
    await slash(world, world.manager, "prompt post", prompt=str(prompt_id), ping_role=True)
    post = await wait_post(world)
    within_discord_limits(post)
    assert texts(post)[0] == f"<@&{role.id}>"
    assert headline(post) == " ".join(long_prompt.split())
    assert [int(r) for r in (post.allowed_mentions or {})["roles"]] == [role.id]
    [thread] = await dd.wait_until(lambda: dd.threads(world.channel))
    assert len(thread.name) <= 100 and thread.name.endswith(f"… · {day(date(2026, 1, 5))}")
    assert thread.name.startswith(" ".join(long_prompt.split())[:60])

    hostile = "# Not a heading\n-# tiny\n> quote ||spoiler|| ``` @everyone <@&1> " + "x" * 2000
    answer_text = hostile[:1000]
    receipt = await answered(world, 3, post, answer_text)
    assert receipt.text == "✅ Answer saved and posted in the thread"
    [message] = thread_posts(world, thread)
    within_discord_limits(message)
    assert answer_body(message) == answer_text
    assert message.allowed_mentions == {"parse": []}
    await dd.wait_until(lambda: "· 1 answer so far" in post.text, what="the count")
    within_discord_limits(post)
    assert [int(r) for r in (post.allowed_mentions or {})["roles"]] == [role.id]


async def test_worst_case_layouts_fit(db: Database) -> None:
    """A 300-character question for a team with a 50-character name, a repeat that pings; a
    2000-character answer under an 80-character name full of markdown, edited."""
    clock = ManualClock(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    prompts = Prompts(db, clock)
    team = await Teams(db, clock).create(
        1001, "*" * 50, 501, role_id=77, timezone="Pacific/Kiritimati"
    )
    added = await prompts.bank.add(1001, "Why? " * 59 + "Why?!")
    queued = await prompts.posts.queue_manual(team.id, added.prompt.id, ping_role=True)
    post = await prompt_posted(prompts, queued.post, 9000)
    post = dataclasses.replace(
        post, repeat_of_posted_at=clock.now() - timedelta(days=400), answer_count=10_000
    )
    view = post_layout(post, team, clock.now())
    assert text_length(view) <= 4000 and component_count(view) <= 40
    name = thread_name(post, team, clock.now())
    assert len(name) == 100 and name.endswith(f" · {day(date(2026, 12, 1))}")  # the team's date
    shown = [item.content for item in view.walk_children() if hasattr(item, "content")]
    assert f"Asked before on {day(date(2025, 10, 27))} — has your answer changed?" in shown
    week = day_month(date(2026, 11, 30))
    assert any(f"Week of {week} · 10000 answers so far" in line for line in shown)

    answer = Answer(
        id=1,
        post_id=post.id,
        user_id=5,
        display_name="_*~`|>#" * 11 + "abc",
        text=("**bold** " * 250)[:2000],
        answered_at=clock.now(),
        edited_at=clock.now(),
        message_id=None,
        avatar_url="https://cdn.discordapp.com/avatars/5/" + "a" * 32 + ".png",
    )
    view = answer_layout(answer)
    assert text_length(view) <= 4000 and component_count(view) <= 40
    without = answer_layout(dataclasses.replace(answer, avatar_url=None))
    assert component_count(without) < component_count(view)


async def test_an_old_post_is_still_answered_and_becomes_the_layout(world: World) -> None:
    """A post and an answer an older Breakroom left (embeds, and the same custom ids): the
    Answer button still opens the form, and Breakroom's next edits turn both into layouts."""
    dd = world.dd
    await create_team(world)
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    [thread] = await dd.wait_until(lambda: dd.threads(world.channel))
    await answered(world, 0, post, "Before layouts.")
    await dd.wait_until(lambda: "1 answer so far" in post.text, what="the count")
    await asyncio.sleep(0.2)
    custom_id = post.button("Answer")["custom_id"]
    # As it was before layouts: the post an embed with a row of one button, the answer an embed.
    post.flags, post.content = 0, ""
    post.embeds = [
        {"title": "Discussion prompt", "description": QUESTION, "footer": {"text": "Front desk"}}
    ]
    post.components = [
        {
            "type": 1,
            "components": [{"type": 2, "style": 1, "label": "Answer", "custom_id": custom_id}],
        }
    ]
    [old_answer] = thread_posts(world, thread)
    old_answer.flags = 0
    old_answer.embeds = [{"description": "Before layouts.", "author": {"name": "alice"}}]
    old_answer.components = []

    receipt = await answered(world, 1, post, "After layouts.")
    assert receipt.text == "✅ Answer saved and posted in the thread"
    await dd.wait_until(lambda: post.components_v2, what="the post upgraded")
    await dd.wait_until(lambda: "· 2 answers so far" in post.text, what="the count")
    within_discord_limits(post)
    assert headline(post) == QUESTION and post.button("Answer")["custom_id"] == custom_id

    receipt = await answered(world, 0, post, "Before layouts, and after.")
    assert receipt.text == "✅ Answer saved and updated in the thread"
    within_discord_limits(old_answer)
    assert texts(old_answer)[:2] == ["**alice**", "Before layouts, and after."]
    assert [answer_name(m) for m in thread_posts(world, thread)] == ["alice", "bob"]


@pytest.mark.parametrize("old_format", [False, True])
async def test_an_earlier_attempts_answer_is_adopted_in_either_format(
    world: World, old_format: bool
) -> None:
    """A run stopped between Discord taking the answer and recording it: the next run finds the
    message by its look (another nonce) — the layout's first line, or an old embed's author —
    and edits it rather than posting a second one."""
    dd = world.dd
    await create_team(world)
    await hold_scheduler(world)
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    [thread] = await dd.wait_until(lambda: dd.threads(world.channel))
    await answered(world, 1, post, "Sent once.")
    [message] = thread_posts(world, thread)
    if old_format:
        message.flags, message.components = 0, []
        message.embeds = [{"description": "Sent once.", "author": {"name": "bob"}}]
    await world.stop()
    db = await Database.open(world.database)
    try:
        now = int(world.clock.now().timestamp())
        async with db.transaction() as tx:
            await tx.execute("UPDATE prompt_answers SET message_id = NULL")
            await tx.execute(
                "INSERT INTO deliveries (id, kind, subject, team_id, state, due_at, deadline,"
                " attempts, claimed_by, nonce) SELECT 77, 'answer', a.id, pp.team_id, 'due',"
                " ?, ?, 1, NULL, 'another-nonce'"
                " FROM prompt_answers a JOIN prompt_posts pp ON pp.id = a.post_id",
                (now, now + 86400),
            )
    finally:
        await db.close()
    await world.start()
    await hold_scheduler(world)
    await world.run_scheduler()
    assert thread_posts(world, thread) == [message]
    assert await world.bot.db.fetchval("SELECT message_id FROM prompt_answers") == message.id
    assert message.components_v2 and texts(message) == ["**bob**", "Sent once."]
    within_discord_limits(message)


async def test_the_avatar_goes_with_the_answer_and_is_not_exported(db: Database) -> None:
    clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    prompts = Prompts(db, clock)
    team = await Teams(db, clock).create(1001, "Front desk", 501)
    queued = await prompts.posts.queue_manual(team.id, None)
    post = await prompt_posted(prompts, queued.post, 9000)
    avatar = "https://cdn.discordapp.com/avatars/111/0123456789abcdef0123456789abcdef.png"
    saved = await prompts.answers.save_answer(1001, post.id, 111, "alice", "Mine.", avatar)
    assert saved.answer.avatar_url == avatar
    refused = "https://example.com/" + "x" * 600  # not kept: too long for an avatar url
    other = await prompts.answers.save_answer(1001, post.id, 222, "bob", "His.", refused)
    assert other.answer.avatar_url is None
    for fmt in ("csv", "json"):
        export = await export_team(db, team.id, fmt, clock.now())
        contents = [export.data]
        if fmt == "csv":
            with zipfile.ZipFile(io.BytesIO(export.data)) as archive:
                contents += [archive.read(name) for name in archive.namelist()]
        assert all(b"cdn.discordapp.com" not in content for content in contents)
        assert any(b"Mine." in content for content in contents)
    kept = "SELECT COUNT(*) FROM prompt_answers WHERE avatar_url IS NOT NULL"
    assert await db.fetchval(kept) == 1
    forgotten = await prompts.answers.forget_member(1001, 111)
    assert forgotten.deleted == 1
    assert await db.fetchval(kept) == 0
