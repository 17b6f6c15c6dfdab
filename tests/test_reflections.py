"""Anonymous reflections end to end: the real bot against the Discord double (issue 5)."""

from __future__ import annotations

import logging
import random
import re
from typing import Any

import pytest

from bot.outbox import Delivery
from bot.reflection_text import NEUTRAL_NOT_FOUND, NEUTRAL_NOT_FOUND_KEY_REPLACED
from bot.teams import Team
from cogs.reflections import ReflectionsCog
from tests.double import CommandError, Member, Message
from tests.reflection_posts import body_of as body_of
from tests.reflection_posts import is_reflection_post
from tests.reflection_posts import ref_of as ref_of
from tests.support import PassProbe, World, database_files, id_patterns, start_bot

RECEIPT = re.compile(r"R-[2-9A-Z]{5}")
TABLES = (
    "reflections",
    "reflection_teams",
    "reflection_reports",
    "deliveries",
)


# --- helpers ----------------------------------------------------------------------------------


def cog(world: World) -> ReflectionsCog:
    # The bot loads the extension itself, so its class is not the one imported here.
    found: Any = world.bot.get_cog("Reflections")
    assert type(found).__name__ == ReflectionsCog.__name__
    return found  # type: ignore[no-any-return]


async def pause_scheduler_loop(world: World) -> None:
    """Stop the scheduler's own loop, between two passes: cancelling a pass in the middle of a
    database call can leave the shared connection inside a transaction (told to the lead)."""
    scheduler = world.bot.scheduler
    async with scheduler._pass_lock:
        await scheduler.stop()


async def setup_team(world: World, *, seed: int = 7, live_scheduler: bool = False) -> Team:
    """A team in the front-desk channel; the cog's randomness seeded. Without the live
    scheduler loop, posting happens exactly at `world.run_scheduler()`."""
    if not live_scheduler:
        await pause_scheduler_loop(world)
    cog(world).rng = random.Random(seed)
    return await world.bot.teams.create(world.guild.id, "Front desk", world.channel.id)


async def open_form(world: World, member: Member) -> str:
    ix = await world.dd.slash(member, "reflect", channel=world.channel)
    response = await ix.response(timeout=5)
    assert response["type"] == 9, response  # a modal, nothing posted
    custom_id: str = response["data"]["custom_id"]
    return custom_id


async def submit(world: World, member: Member, text: str, about: str = "") -> dict[str, Any]:
    """Open /reflect and send the form; the bot's ephemeral answer."""
    custom_id = await open_form(world, member)
    ix = await world.dd.submit_modal(
        member, custom_id, {"body": text, "about": about}, channel=world.channel
    )
    response = await ix.response(timeout=5)
    assert ix.ephemeral, response
    return response


async def write(world: World, member: Member, text: str, about: str = "") -> str:
    """Write a reflection; its receipt code."""
    response = await submit(world, member, text, about)
    content = response["data"]["content"]
    match = RECEIPT.search(content)
    assert match, content
    return match.group(0)


def posts(world: World) -> list[Message]:
    return [m for m in world.dd.messages(world.channel) if is_reflection_post(m)]


async def answer(world: World, member: Member, name: str, **options: Any) -> str:
    ix = await world.dd.slash(member, name, channel=world.channel, **options)
    response = await ix.response(timeout=5)
    assert ix.ephemeral, response
    data = response["data"]
    text = data.get("content") or ""
    for embed in data.get("embeds") or []:
        text += "\n" + str(embed.get("title", "")) + "\n" + str(embed.get("description", ""))
        for field in embed.get("fields") or []:
            text += f"\n{field['name']}\n{field['value']}"
    return str(text)


async def dump(world: World) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: [
            tuple(row) for row in await world.bot.db.fetchall(f"SELECT * FROM {table} ORDER BY 1")
        ]
        for table in TABLES
    }


async def post_a_batch(world: World, texts: tuple[str, str, str]) -> dict[str, str]:
    """alice, bob and carol write; one scheduler pass posts them. Receipt code per text."""
    codes = {}
    for member, text in zip(world.members, texts, strict=True):
        codes[text] = await write(world, member, text)
    await world.share_reflections()
    assert {body_of(m) for m in posts(world)} >= set(texts)
    return codes


async def report(world: World, member: Member, message: Message, reason: str) -> str:
    """Click Report under the message and send the reason; the bot's ephemeral answer."""
    click = await world.dd.click(member, message, message.buttons()[0]["custom_id"])
    form = await click.response(timeout=5)
    assert form["type"] == 9, form
    ix = await world.dd.submit_modal(member, form["data"]["custom_id"], {"reason": reason})
    response = await ix.response(timeout=5)
    assert ix.ephemeral
    return str(response["data"]["content"])


def post_with(world: World, text: str) -> Message:
    [message] = [m for m in posts(world) if body_of(m) == text]
    return message


# --- batching ---------------------------------------------------------------------------------


async def test_three_authors_are_posted_together_in_seeded_random_order(world: World) -> None:
    await setup_team(world, seed=11)
    orders = []
    for batch in range(4):
        texts = [f"batch {batch}: note {n}" for n in range(3)]
        await write(world, world.members[0], texts[0])
        await write(world, world.members[1], texts[1])
        await world.share_reflections()
        assert len(posts(world)) == 3 * batch, "posted before three different people wrote"
        await write(world, world.members[2], texts[2])
        assert len(posts(world)) == 3 * batch, "posted inside the author's interaction"
        await world.run_scheduler()
        assert len(posts(world)) == 3 * batch, "posted in reaction to the write"
        await world.share_reflections()
        batch_posts = posts(world)[3 * batch :]
        assert sorted(body_of(m) for m in batch_posts) == texts
        orders.append([texts.index(body_of(m)) for m in batch_posts])
        world.clock.advance(hours=1)
    assert any(order != [0, 1, 2] for order in orders), orders
    assert len({tuple(order) for order in orders}) > 1, orders
    # Each is its own message with the title, a Report button, and nothing that pings.
    for message in posts(world):
        assert message.content == ""
        assert message.allowed_mentions == {"parse": []}
        [button] = message.buttons()
        assert button["label"] == "Report"
        assert re.fullmatch(r"breakroom:reflection:report:\d+", button["custom_id"])


async def test_the_live_scheduler_shares_at_the_sharing_time_not_after_the_third_author(
    world: World,
) -> None:
    await setup_team(world, live_scheduler=True)
    for member in world.members:
        await write(world, member, f"live {member.name[::-1]}")
    probe = PassProbe()
    world.bot.scheduler.register("probe", probe, last=True)  # after the outbox: it runs last
    await probe.wait_for(1)  # the pass registering wakes
    for _ in range(3):  # the loop wakes every minute: no post until the sharing time
        passes = len(probe.seen)
        world.clock.advance(minutes=1)
        await probe.wait_for(passes + 1)
    assert posts(world) == []
    world.clock.set(await world.next_sharing_time())
    await world.dd.wait_until(lambda: len(posts(world)) == 3, timeout=10)


async def test_nothing_public_shows_who_used_reflect(world: World) -> None:
    await setup_team(world)
    response = await submit(world, world.members[0], "Quiet thoughts", about="the phones")
    text = response["data"]["content"]
    assert "R-" in text and "17:00" in text
    assert not re.search(r"\b[0-9]+ (more )?(people|person|teammates?) (has|have)", text)
    assert world.dd.messages(world.channel) == []
    await write(world, world.members[1], "two")
    await write(world, world.members[2], "three")
    await world.share_reflections()
    message = post_with(world, "Quiet thoughts")
    assert message.text.startswith("**About:** the phones\n\nQuiet thoughts")
    assert message.author_id == world.bot.user.id  # type: ignore[union-attr]
    for member in world.members:
        assert member.name not in message.text and str(member.id) not in message.text


async def test_at_everyone_in_a_reflection_does_not_ping(world: World) -> None:
    await setup_team(world)
    role = world.dd.add_role(world.guild, "front-desk-team")
    alice, bob, carol = world.members
    ping = f"@everyone @here <@&{role.id}> <@{bob.id}> read this"
    await write(world, alice, ping, about="@everyone")
    await write(world, bob, "b")
    await write(world, carol, "c")
    await world.share_reflections()
    calls = [
        c
        for c in world.dd.calls
        if c.method == "POST"
        and c.path == f"/channels/{world.channel.id}/messages"
        and ping in str(c.json)
    ]
    assert len(calls) == 1
    assert calls[0].json["allowed_mentions"] == {"parse": []}
    assert post_with(world, ping).mentioned_user_ids == []


# --- deleting and hiding ----------------------------------------------------------------------


async def test_the_author_deletes_with_the_code_and_the_post_goes(world: World) -> None:
    await setup_team(world)
    codes = await post_a_batch(world, ("mine to delete", "bob's", "carol's"))
    alice, bob, _ = world.members
    message = post_with(world, "mine to delete")
    before = await dump(world)
    # Another member with the same code, and a wrong code: the same neutral sentence.
    for member, code in ((bob, codes["mine to delete"]), (alice, "R-22222"), (bob, "hello")):
        assert await answer(world, member, "reflections delete", code=code) == NEUTRAL_NOT_FOUND
    assert await dump(world) == before
    assert not message.deleted
    reply = await answer(world, alice, "reflections delete", code=codes["mine to delete"])
    assert "Deleted" in reply and "removed" in reply
    assert message.deleted
    assert [body_of(m) for m in posts(world)] == [
        b for b in (body_of(m) for m in posts(world)) if b != "mine to delete"
    ]
    assert await world.bot.db.fetchval("SELECT COUNT(*) FROM reflections") == 2


async def test_a_pending_reflection_can_be_deleted_before_anyone_sees_it(world: World) -> None:
    await setup_team(world)
    code = await write(world, world.members[0], "second thoughts")
    reply = await answer(world, world.members[0], "reflections delete", code=code.lower())
    assert "not been posted yet" in reply
    assert await world.bot.db.fetchval("SELECT COUNT(*) FROM reflections") == 0


async def test_a_manager_hides_a_posted_reflection_and_its_message_goes(world: World) -> None:
    await setup_team(world)
    await post_a_batch(world, ("too much", "fine", "also fine"))
    message = post_with(world, "too much")
    ref = ref_of(message)
    # The autocomplete offers posted reflections to managers only.
    choices = await world.dd.autocomplete(
        world.manager, "reflections hide", focused="code", channel=world.channel, code="too"
    )
    assert [c["value"] for c in choices] == [ref]
    assert (
        await world.dd.autocomplete(
            world.members[0], "reflections hide", focused="code", channel=world.channel, code=""
        )
        == []
    )
    before = await dump(world)
    refused = await answer(world, world.members[0], "reflections hide", code=ref)
    assert "Only managers" in refused
    assert await dump(world) == before
    reply = await answer(world, world.manager, "reflections hide", code=ref)
    assert "hidden" in reply
    assert message.deleted
    row = await world.bot.db.fetchone(
        "SELECT state, body, about FROM reflections WHERE ref = ?", (ref,)
    )
    assert row is not None and tuple(row) == ("hidden", None, None)
    again = await answer(world, world.manager, "reflections hide", code=ref)
    assert "already hidden" in again


# --- reports and settings ---------------------------------------------------------------------


async def test_report_once_and_managers_see_reasons_but_never_who(world: World) -> None:
    await setup_team(world)
    await post_a_batch(world, ("reported one", "x", "y"))
    message = post_with(world, "reported one")
    custom_id = message.buttons()[0]["custom_id"]
    bob = world.members[1]
    click = await world.dd.click(bob, message, custom_id)
    response = await click.response(timeout=5)
    assert response["type"] == 9
    form = response["data"]["custom_id"]
    ix = await world.dd.submit_modal(bob, form, {"reason": "It names Dana."})
    thanks = await ix.response(timeout=5)
    assert ix.ephemeral and "never who" in thanks["data"]["content"]
    again = await world.dd.click(bob, message, custom_id)
    second = await again.response(timeout=5)
    assert again.ephemeral and "already reported" in second["data"]["content"]
    # After a restart the button and the form still work.
    await world.restart()
    await pause_scheduler_loop(world)
    carol = world.members[2]
    click = await world.dd.click(carol, message, custom_id)
    assert (await click.response(timeout=5))["type"] == 9
    ix = await world.dd.submit_modal(carol, form, {"reason": "Too personal"})
    await ix.response(timeout=5)
    shown = await answer(world, world.manager, "reflections settings")
    assert "2 reports" in shown and "It names Dana." in shown and "Too personal" in shown
    for member in (bob, carol):
        assert member.name not in shown and str(member.id) not in shown
    refused = await answer(world, bob, "reflections settings")
    assert "Only managers" in refused
    reply = await answer(
        world,
        world.manager,
        "reflections settings",
        dismiss=ref_of(message),
    )
    assert "Closed 2 reports." in reply and "None." in reply


async def test_settings_change_the_threshold_and_the_sharing_time(world: World) -> None:
    team = await setup_team(world)
    shown = await answer(
        world, world.manager, "reflections settings", threshold=4, share_time="9:30"
    )
    assert "Threshold set to 4, for reflections written from now on" in shown
    assert "shared at 09:30" in shown
    found = await world.bot.teams.get(team.id)
    assert (found.reflection_threshold, found.reflection_share_time) == (4, "09:30")
    assert (await world.next_sharing_time()).strftime("%H:%M") == "09:30"
    before = await dump(world)
    for threshold in (1, 2, 11):
        with pytest.raises(CommandError, match="outside"):
            await world.dd.slash(
                world.manager, "reflections settings", channel=world.channel, threshold=threshold
            )
    reply = await answer(world, world.manager, "reflections settings", share_time="25:00")
    assert "not a time" in reply
    assert await dump(world) == before


# --- limits -----------------------------------------------------------------------------------


async def test_the_sixth_reflection_of_the_day_is_refused(world: World) -> None:
    await setup_team(world)
    alice = world.members[0]
    for n in range(5):
        await write(world, alice, f"note {n}")
    before = await dump(world)
    response = await submit(world, alice, "the sixth")
    assert "5 reflections for this team today" in response["data"]["content"]
    assert await dump(world) == before
    world.clock.advance(days=1)
    await write(world, alice, "a new day")


@pytest.mark.parametrize("text", ["   ", "\n \n", "\u200b"])
async def test_an_empty_reflection_is_refused(world: World, text: str) -> None:
    await setup_team(world)
    before = await dump(world)
    response = await submit(world, world.members[0], text)
    assert "empty" in response["data"]["content"]
    assert await dump(world) == before


# --- reliability ------------------------------------------------------------------------------


def sends(world: World) -> int:
    """Messages the bot sent to the team channel."""
    path = f"/channels/{world.channel.id}/messages"
    return sum(c.method == "POST" and c.path == path for c in world.dd.calls)


async def test_a_send_discord_fails_is_tried_again_after_a_pause_and_never_twice(
    world: World,
) -> None:
    await setup_team(world)
    for member, text in zip(world.members, ("one", "two", "three"), strict=True):
        await write(world, member, text)
    world.dd.fail_next("POST", rf"/channels/{world.channel.id}/messages", status=503, times=1)
    await world.share_reflections()
    # Each reflection is its own delivery: the others go out, the failed one waits.
    assert len(posts(world)) == 2
    shown = await answer(world, world.manager, "reflections settings")
    assert "could not be posted: Discord had a problem (503)." in shown
    assert "Being posted: **1**" in shown
    world.clock.advance(seconds=29)
    await world.run_scheduler()  # too early: the outbox's first pause is 30 s
    assert len(posts(world)) == 2
    world.clock.advance(seconds=1)
    await world.run_scheduler()
    assert sorted(body_of(m) for m in posts(world)) == ["one", "three", "two"]
    assert sends(world) == 4  # three messages and the failed attempt
    world.clock.advance(hours=1)
    await world.run_scheduler()
    assert len(posts(world)) == 3
    shown = await answer(world, world.manager, "reflections settings")
    assert "could not be posted" not in shown and "Being posted" not in shown


async def test_a_send_discord_refuses_is_given_up_and_shown_until_the_team_changes(
    world: World,
) -> None:
    team = await setup_team(world)
    for member, text in zip(world.members, ("one", "two", "three"), strict=True):
        await write(world, member, text)
    world.dd.fail_next(
        "POST",
        rf"/channels/{world.channel.id}/messages",
        status=403,
        times=1,
        code=50013,
        message="Missing Permissions",
    )
    await world.share_reflections()
    assert len(posts(world)) == 2
    shown = await answer(world, world.manager, "reflections settings")
    assert "could not be posted: Discord refused it in" in shown
    assert "Breakroom lacks a permission there (Missing Permissions)" in shown
    assert "tries again once the team is edited" in shown
    world.clock.advance(days=1)
    await world.run_scheduler()  # given up: not tried again on its own
    assert len(posts(world)) == 2
    async with world.bot.db.transaction() as tx:  # what editing the team does
        await world.bot.services.outbox.retry_team(tx, team.id)
    await world.run_scheduler()
    assert sorted(body_of(m) for m in posts(world)) == ["one", "three", "two"]
    assert "could not be posted" not in await answer(world, world.manager, "reflections settings")


async def released_and_first_claimed(world: World) -> Delivery:
    """Three reflections ("a", "b", "c") released at the sharing time, and an attempt that has
    claimed the first one's delivery (as a run does just before it sends)."""
    await setup_team(world)
    for member, text in zip(world.members, ("a", "b", "c"), strict=True):
        await write(world, member, text)
    world.clock.set(await world.next_sharing_time())
    await cog(world).batches.release_due(world.clock.now())
    outbox = world.bot.services.outbox
    [first, *_] = await outbox.due(world.clock.now())
    delivery = await outbox.claim(first)
    assert delivery is not None and delivery.subject is not None
    return delivery


async def test_a_crash_between_send_and_record_does_not_post_twice(world: World) -> None:
    # An attempt claims the first delivery and sends its message…
    delivery = await released_and_first_claimed(world)
    draft = await cog(world).draft_post(delivery)
    assert draft is not None
    await world.bot.courier._send(delivery, draft)
    # …and the process dies before recording it. After a restart the others go out; the
    # claimed one waits for its lease to end, then its attempt finds the message and records it.
    await world.restart()
    await pause_scheduler_loop(world)
    await world.run_scheduler()
    assert len(posts(world)) == 3
    posted = "SELECT COUNT(*) FROM reflections WHERE state = 'posted'"
    assert await world.bot.db.fetchval(posted) == 2
    world.clock.advance(minutes=2)
    await world.run_scheduler()
    assert sorted(body_of(m) for m in posts(world)) == ["a", "b", "c"]
    assert sends(world) == 3
    assert await world.bot.db.fetchval(posted) == 3
    assert await world.bot.db.fetchval("SELECT COUNT(*) FROM deliveries") == 0


async def test_forget_me_removals_take_a_post_gone_as_done_and_show_a_refusal(
    world: World,
) -> None:
    team = await setup_team(world)
    alice, bob, carol = world.members
    for member, text in ((alice, "alice one"), (alice, "alice two"), (bob, "b"), (carol, "c")):
        await write(world, member, text)
    await world.share_reflections()
    hers = "SELECT COUNT(*) FROM reflections WHERE body LIKE 'alice%'"
    await world.bot.services.reflections.forget_member(world.guild.id, alice.id)
    # The first removal finds its post already deleted by hand (404): just as good.
    world.dd.fail_next("DELETE", r"/channels/\d+/messages/\d+", status=404, code=10008)
    refused = False
    for _ in range(24 * 6):
        world.clock.advance(minutes=10)
        await world.run_scheduler()
        if not refused and await world.bot.db.fetchval(hers) == 1:
            # The second: Breakroom may no longer delete messages there.
            world.dd.fail_next("DELETE", r"/channels/\d+/messages/\d+", status=403, code=50013)
            refused = True
    assert refused and await world.bot.db.fetchval(hers) == 1
    ref = await world.bot.db.fetchval("SELECT ref FROM reflections WHERE body LIKE 'alice%'")
    [left] = [m for m in posts(world) if ref_of(m) == ref]
    assert not left.deleted
    shown = await answer(world, world.manager, "reflections settings")
    assert "A reflection could not be removed: Discord refused it in" in shown
    assert "alice" not in shown
    async with world.bot.db.transaction() as tx:  # what editing the team does
        await world.bot.services.outbox.retry_team(tx, team.id)
    await world.run_scheduler()
    assert left.deleted and await world.bot.db.fetchval(hers) == 0
    assert "could not be removed" not in await answer(world, world.manager, "reflections settings")


async def test_pending_reflections_survive_a_restart(world: World) -> None:
    await setup_team(world)
    await write(world, world.members[0], "before")
    form = await open_form(world, world.members[1])
    await world.restart()
    await pause_scheduler_loop(world)
    # A form opened before the restart is still accepted.
    ix = await world.dd.submit_modal(
        world.members[1], form, {"body": "during", "about": ""}, channel=world.channel
    )
    assert RECEIPT.search((await ix.response(timeout=5))["data"]["content"])
    await write(world, world.members[2], "after")
    await world.share_reflections()
    assert sorted(body_of(m) for m in posts(world)) == ["after", "before", "during"]


async def test_a_replaced_key_keeps_the_bot_working_and_says_old_receipts_cant_be_checked(
    world: World,
) -> None:
    await setup_team(world)
    old_code = await write(world, world.members[0], "under the old key")
    await world.stop()
    world.running = await start_bot(
        world.dd,
        world.db_path,
        world.clock,
        secret="a-completely-new-secret-" + "n" * 20,
        database_url=world.database_url,
    )
    await pause_scheduler_loop(world)
    for member in (world.members[0], world.members[1]):
        reply = await answer(world, member, "reflections delete", code=old_code)
        assert reply == NEUTRAL_NOT_FOUND_KEY_REPLACED
    new_code = await write(world, world.members[1], "under the new key")
    assert "Deleted" in await answer(world, world.members[1], "reflections delete", code=new_code)


# --- privacy of storage and logs --------------------------------------------------------------


@pytest.mark.sqlite_only
async def test_database_files_hold_no_member_ids_names_or_links(world: World) -> None:
    team = await setup_team(world)
    alice, bob, carol = world.members
    codes = [await write(world, alice, "first from one person")]
    codes.append(await write(world, alice, "second from the same person"))
    codes.append(await write(world, bob, "another"))
    codes.append(await write(world, carol, "and another"))
    await world.share_reflections()
    assert "never who" in await report(world, bob, posts(world)[0], "a reason")
    assert await world.bot.db.fetchval("SELECT COUNT(*) FROM reflection_reports") == 1
    codes.append(await write(world, carol, "pending one"))
    await answer(world, world.manager, "reflections settings", team=team.name)
    blob = b"".join(p.read_bytes() for p in database_files(world.db_path) if p.exists())
    assert len(blob) > 10_000
    for member in (*world.members, world.manager):
        for pattern in id_patterns(member.id):
            assert pattern not in blob, f"{member.name}'s id is in the database files"
        assert member.name.encode() not in blob
    for code in codes:
        assert code.encode() not in blob and code[2:].encode() not in blob
    # The two reflections by one person share nothing the others don't share too.
    rows = await world.bot.db.fetchall("SELECT * FROM reflections WHERE state = 'posted'")
    mine = [
        r for r in rows if r["body"] in ("first from one person", "second from the same person")
    ]
    others = [r for r in rows if r not in mine]
    for column in rows[0].keys():  # noqa: SIM118 (sqlite3.Row)
        if mine[0][column] == mine[1][column]:
            assert any(o[column] == mine[0][column] for o in others), column


async def test_the_log_of_a_whole_run_never_puts_a_member_next_to_a_reflection(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("discord", "aiosqlite", "bot", "cogs"):
        caplog.set_level(logging.DEBUG, logger=name)
    await world.restart()  # start-up at DEBUG too
    team = await setup_team(world)
    alice, bob, carol = world.members
    await answer(world, alice, "help")  # a non-reflection action: ids may be logged for it
    texts = ("log check alpha", "log check beta", "log check gamma")
    codes = [
        await write(world, m, t, about="log about")
        for m, t in zip(world.members, texts, strict=True)
    ]
    await world.share_reflections()
    first = post_with(world, texts[0])
    await report(world, bob, first, "log reason")
    await answer(world, carol, "reflections delete", code=codes[0])  # not hers
    world.dd.fail_next("DELETE", r"/channels/\d+/messages/\d+", status=403, code=50013)
    await answer(world, alice, "reflections delete", code=codes[0])
    await answer(world, world.manager, "reflections hide", code=ref_of(post_with(world, texts[1])))
    await answer(world, world.manager, "reflections settings", team=team.name, threshold=4)
    for n in range(6):
        await submit(world, carol, f"log limit {n}")
    await submit(world, carol, "   ")
    await world.run_scheduler()
    await world.stop()

    records = [*caplog.get_records("call")]
    lines = []
    for record in records:
        line = f"{record.name}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + logging.Formatter().formatException(record.exc_info)
        lines.append(line)
    assert len(lines) > 100, "DEBUG logging was not captured"
    assert any("INTERACTION_CREATE for a reflection" in line for line in lines)
    # The capture would see an id: /help's payload, at DEBUG, carries alice's id.
    assert any(str(alice.id) in line and '"help"' in line.replace("'", '"') for line in lines)
    people = [*world.members, world.manager]
    action = re.compile(r"reflect|breakroom:reflection|log (check|about|reason|limit)", re.I)
    for line in lines:
        for code in codes:
            assert code not in line and code[2:] not in line, f"a receipt code is logged: {line}"
        if action.search(line):
            for person in people:
                assert str(person.id) not in line, f"{person.name}'s id is logged: {line[:300]}"
                assert person.name not in line, f"{person.name} is logged: {line[:300]}"
