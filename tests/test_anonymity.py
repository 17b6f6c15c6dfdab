"""Anonymity as an attacker tries it (issue 10): a manager changing settings, a colleague with a
second account, and someone copying the data folder while the bot runs. Each test is one of the
findings, through the real bot and the double, or on the real files (db, -wal, -shm) read while
the bot runs."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.poll_model import ANONYMOUS_STEP
from bot.secret import keyed_hash
from cogs._poll_messages import PollMessages
from tests.double import CommandError, Member
from tests.support import World, database_files
from tests.test_polls_helpers import (
    click,
    create_poll,
    ephemeral_reply,
    footer_line,
    make_team,
    poll_message,
    result_messages,
    shown_counts,
)
from tests.test_reflections import RECEIPT, answer, body_of, posts, setup_team, submit, write


@pytest.fixture(autouse=True)
def quick_refresh() -> Iterator[None]:
    saved = PollMessages.interval
    PollMessages.interval = 0.05
    yield
    PollMessages.interval = saved


def files(world: World) -> dict[str, bytes]:
    """The database, its -wal and its -shm as someone copying the folder now would get them."""
    return {p.name: p.read_bytes() for p in database_files(world.db_path) if p.exists()}


def copy_of_files(world: World, folder: Path) -> sqlite3.Connection:
    """A copy of the three files taken while the bot runs, opened as an attacker would."""
    folder.mkdir()
    for path in database_files(world.db_path):
        if path.exists():
            shutil.copy(path, folder / path.name)
    return sqlite3.connect(folder / world.db_path.name)


def windows(value: Any, size: int = 8) -> set[bytes]:
    """Every run of `size` bytes in a stored value (as SQLite stores text, blobs and ints)."""
    if value is None:
        return set()
    if isinstance(value, int):
        value = value.to_bytes(8, "big", signed=True)
    elif isinstance(value, str):
        value = value.encode()
    return {bytes(value[i : i + size]) for i in range(len(value) - size + 1)}


async def more_members(world: World, count: int) -> list[Member]:
    extra = [world.dd.add_member(world.guild, f"clerk{n}") for n in range(count)]
    await world.dd.settle()
    return extra


# --- 1. a manager steering the threshold -------------------------------------------------------


async def test_a_manager_cannot_release_one_author_by_lowering_the_threshold(world: World) -> None:
    await setup_team(world)
    alice, bob, carol = world.members
    manager = world.manager
    for threshold in (1, 2):  # below 3 is refused by the option's own range
        with pytest.raises(CommandError, match="outside"):
            await world.dd.slash(
                manager, "reflections settings", channel=world.channel, threshold=threshold
            )
    await answer(world, manager, "reflections settings", threshold=4)
    overview = await answer(world, manager, "reflections settings")
    await write(world, alice, "the one the manager is after")
    # Polling the overview after a write shows nothing new: no count of anything pending.
    assert await answer(world, manager, "reflections settings") == overview
    await answer(world, manager, "reflections settings", threshold=3)
    await write(world, manager, "the manager's own probe")
    await write(world, bob, "a colleague's")
    assert await answer(world, manager, "reflections settings") == (
        overview.replace("**4**", "**3**")
    )
    # Three authors now, but alice wrote under 4: hers waits, and the two others (3 each) are
    # not released on their own either, since without hers only two authors remain.
    await world.share_reflections()
    assert posts(world) == []
    await write(world, carol, "a fourth author")
    await world.share_reflections()
    assert sorted(body_of(m) for m in posts(world)) == sorted(
        [
            "the one the manager is after",
            "the manager's own probe",
            "a colleague's",
            "a fourth author",
        ]
    )


async def test_batches_go_out_at_the_sharing_time_never_after_a_write(world: World) -> None:
    await setup_team(world)
    for member in world.members:
        await write(world, member, f"from {member.name}")
    for _ in range(3):  # passes before the sharing time release nothing
        world.clock.advance(minutes=20)
        await world.run_scheduler()
    assert posts(world) == []
    sharing = await world.next_sharing_time()
    assert sharing.strftime("%H:%M") == "17:00"  # the default, in the team's timezone (UTC)
    world.clock.set(sharing)
    await world.run_scheduler()
    assert len(posts(world)) == 3


# --- 2. counts that would enable an n-1 attack --------------------------------------------------


async def test_no_receipt_says_how_many_others_are_waiting(world: World) -> None:
    await setup_team(world)
    second_account = (await more_members(world, 1))[0]
    receipts = []
    codes = []
    for member in (*world.members, second_account):
        response = await submit(world, member, f"words of {member.name}")
        content = response["data"]["content"]
        codes.append(RECEIPT.findall(content)[0])
        receipts.append(RECEIPT.sub("R-CODE", content))
    # The first writer, the third and a fourth read exactly the same: nothing to count on.
    assert len(set(receipts)) == 1, receipts
    overview = await answer(world, world.manager, "reflections settings")
    assert "Waiting" not in overview and "needs" not in overview
    # Deleting one's own probe changes nothing anyone can read either.
    reply = await answer(world, second_account, "reflections delete", code=codes[-1])
    assert "not been posted yet" in reply
    assert await answer(world, world.manager, "reflections settings") == overview
    again = await submit(world, second_account, "a second probe")
    assert (
        again["data"]["content"].replace(RECEIPT.findall(again["data"]["content"])[0], "R-CODE")
        in receipts
    )


# --- 3. a live copy of the database and its WAL ------------------------------------------------


@pytest.mark.sqlite_only
async def test_a_live_copy_of_the_files_holds_no_history(world: World, tmp_path: Path) -> None:
    team = await setup_team(world)
    alice, bob, carol = world.members
    codes = {}
    for member, text in (
        (alice, "alice first thoughts"),
        (bob, "bob thoughts"),
        (alice, "alice second thoughts"),
        (carol, "carol deletes this one"),
    ):
        codes[text] = await write(world, member, text)
        # Right after the write was acknowledged: the WAL holds no frame, so no history of
        # which pages changed in which commit.
        assert files(world).get(world.db_path.name + "-wal", b"") == b""
    reply = await answer(world, carol, "reflections delete", code=codes["carol deletes this one"])
    assert "Deleted" in reply
    for name, content in files(world).items():
        assert b"carol deletes this one" not in content, f"deleted text is still in {name}"

    attacker = copy_of_files(world, tmp_path / "copy")
    tables = {row[0] for row in attacker.execute("SELECT name FROM sqlite_master")}
    assert not {"reflection_daily", "reflection_pending_authors"} & tables
    rows = attacker.execute(
        "SELECT id, team_id, state, posted_at, ref, code_hash, nonce, author_hash, author_box,"
        " body FROM reflections"
    ).fetchall()
    assert {row[2] for row in rows} == {"pending"} and {row[3] for row in rows} == {None}
    first, second = (r for r in rows if r[9].startswith("alice"))
    # Nothing stored with alice's two reflections shares a byte run, but the team id.
    for a, b in zip(first[:9], second[:9], strict=True):
        if a == team.id:
            continue
        assert not windows(a) & windows(b), (a, b)
    attacker.close()


@pytest.mark.sqlite_only
async def test_a_live_copy_holds_no_order_of_anonymous_votes(world: World, tmp_path: Path) -> None:
    await make_team(world)
    voters = [*world.members, *(await more_members(world, 3))]
    _, message = await create_poll(world, anonymous=True)
    for member in voters:  # all the same option: the ballots must still look unrelated
        await click(world, member, message, "Career")
        assert files(world).get(world.db_path.name + "-wal", b"") == b""
    attacker = copy_of_files(world, tmp_path / "copy")
    assert attacker.execute("SELECT count(*) FROM poll_anonymous_votes").fetchone() == (0,)
    ballots = [bytes(r[0]) for r in attacker.execute("SELECT ballot FROM poll_ballots")]
    assert len(ballots) == len(voters)
    for n, ballot in enumerate(ballots):
        for other in ballots[n + 1 :]:
            assert not windows(ballot, 4) & windows(other, 4)
    attacker.close()


# --- 4. the main file alone: physical order and counters ----------------------------------------


@pytest.mark.sqlite_only
async def test_the_main_file_keeps_no_order_of_writing(world: World) -> None:
    await setup_team(world, seed=3)
    authors = [*world.members, *(await more_members(world, 1))]
    texts = [f"order probe number {n} " + "x" * (20 + 7 * n) for n in range(8)]
    for n, text in enumerate(texts):
        await write(world, authors[n % len(authors)], text)
    data = files(world)[world.db_path.name]
    offsets = [data.index(text.encode()) for text in texts]
    # SQLite fills a page from its end, so rows written one by one would sit in falling order.
    assert offsets != sorted(offsets) and offsets != sorted(offsets, reverse=True), offsets


@pytest.mark.sqlite_only
async def test_the_main_file_holds_no_daily_counter(world: World) -> None:
    team = await setup_team(world)
    alice = world.members[0]
    for n in range(5):
        await write(world, alice, f"busy day {n}")
    day = world.clock.now().date().isoformat()
    marker = keyed_hash(world.bot.key, world.guild.id, alice.id, f"day:{team.id}:{day}")
    for name, content in files(world).items():
        assert marker not in content, name
    response = await submit(world, alice, "the sixth")
    assert "5 reflections for this team today" in response["data"]["content"]


# --- 5. hidden results through a re-run --------------------------------------------------------


async def test_a_rerun_never_shows_a_hidden_open_polls_results(world: World) -> None:
    await make_team(world)
    alice, bob, carol = world.members
    hidden_id, hidden = await create_poll(world, alice, options="Job|Career", hide_results=True)
    for member, label in ((alice, "Job"), (bob, "Career"), (world.manager, "Career")):
        await click(world, member, hidden, label)
    ix = await world.dd.slash(carol, "poll rerun", channel=world.channel, poll=str(hidden_id))
    await ephemeral_reply(ix)
    rerun = world.dd.messages(world.channel)[-1]
    rerun_id = int(re.findall(r"poll #(\d+)", footer_line(rerun))[0])
    await click(world, carol, rerun, "Job")
    # carol created the re-run, not the hidden poll: no chart, no shares of the hidden run.
    ix = await world.dd.slash(carol, "poll results", channel=world.channel, poll=str(rerun_id))
    data = await ephemeral_reply(ix)
    assert not [c for c in world.dd.calls if c.path.startswith("/webhooks") and c.files]
    assert "67%" not in str(data) and "33%" not in str(data)
    # A manager may see both runs: the chart is there for them.
    ix = await world.dd.slash(
        world.manager, "poll results", channel=world.channel, poll=str(rerun_id)
    )
    followup = await ix.wait_followup(timeout=10)
    assert [name for name, _ in followup.attachments] == [f"poll-{rerun_id}-runs.png"]


# --- 6. /forget-me and the public channel ------------------------------------------------------


async def test_forget_me_removes_shared_reflections_one_at_a_time_over_a_day(
    world: World,
) -> None:
    await setup_team(world)
    alice, bob, carol = world.members
    for member, text in ((alice, "alice one"), (alice, "alice two"), (bob, "b"), (carol, "c")):
        await write(world, member, text)
    await world.share_reflections()
    mine = [m for m in posts(world) if body_of(m).startswith("alice")]
    assert len(mine) == 2
    ix = await world.dd.slash(alice, "forget-me", channel=world.channel)
    await ix.response(timeout=5)
    assert ix.original is not None and "over the next 24" in ix.original.text
    question = ix.original
    click_ix = await world.dd.click(alice, question, question.button("Delete my data")["custom_id"])
    await click_ix.response(timeout=5)
    await world.dd.wait_until(lambda: "Deleting" not in question.text)
    assert "random time within the next 24 hours" in question.text
    assert not any(m.deleted for m in mine), "removed at once: the channel sees them go together"
    gone_at: dict[int, int] = {}
    for hour in range(1, 25):
        world.clock.advance(hours=1)
        await world.run_scheduler()
        for message in mine:
            if message.deleted:
                gone_at.setdefault(message.id, hour)
    assert len(gone_at) == 2, "both removed within 24 hours"
    rows = await world.bot.db.fetchall("SELECT body FROM reflections")
    assert sorted(r[0] for r in rows) == ["b", "c"]


async def test_the_removal_times_are_spread_and_random(world: World) -> None:
    """Ten shared reflections of one member: their removals don't come at one time."""
    await setup_team(world)
    alice, bob, carol = world.members
    for day in range(2):
        for n in range(5):
            await write(world, alice, f"alice day {day} note {n}")
        await write(world, bob, f"bob {day}")
        await write(world, carol, f"carol {day}")
        await world.share_reflections()
        world.clock.advance(hours=9)  # the next day
    await world.bot.services.reflections.forget_member(world.guild.id, alice.id)
    rows = await world.bot.db.fetchall(
        "SELECT id, subject, box, due_at FROM deliveries WHERE kind = 'reflection_erasure'"
    )
    due = [r["due_at"] for r in rows]
    now = int(world.clock.now().timestamp())
    assert len(due) == 10 and len(set(due)) == 10
    assert all(now < at <= now + 24 * 3600 for at in due)
    assert max(due) - min(due) > 3 * 3600
    # Sealed, under random ids: neither says which reflection goes, nor that they were queued
    # together (ids in a row, or in the order of their times).
    assert {r["subject"] for r in rows} == {None}
    ids = [r["id"] for r in sorted(rows, key=lambda r: r["due_at"])]
    assert ids != sorted(ids) and ids != sorted(ids, reverse=True)
    assert max(ids) - min(ids) > 2**40
    for n, row in enumerate(rows):
        for other in rows[n + 1 :]:
            assert not windows(row["box"], 4) & windows(other["box"], 4)


# --- 7. live counts of an anonymous poll -------------------------------------------------------


async def test_live_counts_of_an_anonymous_poll_move_only_in_steps(world: World) -> None:
    await make_team(world)
    voters = [*world.members, *(await more_members(world, ANONYMOUS_STEP))]
    poll_id, message = await create_poll(world, anonymous=True)
    zero = {"Job": 0, "Career": 0, "Both": 0}
    for n, member in enumerate(voters[: ANONYMOUS_STEP - 1]):
        edits = message.edit_count
        reply = await click(world, member, message, "Job" if n == 0 else "Career")
        assert not re.search(r"\d", reply), reply  # the receipt carries no count either
        await world.dd.wait_until(lambda e=edits: message.edit_count > e)  # type: ignore[misc]
        assert shown_counts(message) == zero, "one edit would give one vote away"
        ix = await world.dd.slash(member, "poll results", channel=world.channel, poll=str(poll_id))
        assert shown_counts(await ephemeral_reply(ix)) == zero
    await click(world, voters[ANONYMOUS_STEP - 1], message, "Both")
    stepped = {"Job": 1, "Career": ANONYMOUS_STEP - 2, "Both": 1}
    await world.dd.wait_until(lambda: shown_counts(message) == stepped)
    # One more voter: no move until several more have voted.
    await click(world, voters[ANONYMOUS_STEP], message, "Job")
    await world.dd.settle()
    assert shown_counts(poll_message(world, poll_id)) == stepped
    # At close the exact counts are shown, and the ballots are gone (the counts stay).
    ix = await world.dd.slash(world.manager, "poll close", channel=world.channel, poll=str(poll_id))
    await ephemeral_reply(ix)
    await world.dd.wait_until(lambda: len(result_messages(world, poll_id)) == 1)
    exact = {"Job": 2, "Career": ANONYMOUS_STEP - 2, "Both": 1}
    await world.dd.wait_until(lambda: shown_counts(message) == exact)
    assert await world.bot.db.fetchval("SELECT count(*) FROM poll_ballots") == 0


# --- one member's two reflections through a whole run ----------------------------------------


@pytest.mark.sqlite_only
async def test_two_reflections_of_one_member_are_never_linked_in_the_files(
    world: World, tmp_path: Path
) -> None:
    """Alice writes twice; at every step of the run (written, released, posted, reported,
    restarted) no byte run of one of her rows appears with the other, and the only thing that
    would link them (her author tag for the team, in clear) is nowhere in the files."""
    team = await setup_team(world)
    alice, bob, carol = world.members
    tag = keyed_hash(world.bot.key, world.guild.id, alice.id, f"author:{team.id}")
    texts = ("the copier jams on Mondays", "nobody thanks the night shift")

    async def check(moment: str) -> None:
        rows = await world.bot.db.fetchall("SELECT * FROM reflections")
        hers = [r for r in rows if r["body"] in texts]
        others = [r for r in rows if r["body"] not in texts]
        for column in hers[0].keys():  # noqa: SIM118 (sqlite3.Row)
            shared = windows(hers[0][column]) & windows(hers[1][column])
            # What her two share, someone else's shares too (the team, the state, the key's
            # fingerprint, the batch time): nothing that is hers alone.
            theirs = set().union(*(windows(o[column]) for o in others))
            assert shared <= theirs, f"{column} links them {moment}"
        for name, content in files(world).items():
            assert tag not in content, f"{name} {moment}"
        assert files(world).get(world.db_path.name + "-wal", b"") == b"", moment

    await write(world, alice, texts[0])
    await write(world, bob, "bob's")
    await write(world, alice, texts[1])
    await write(world, carol, "carol's")
    await check("while pending")
    await world.share_reflections()
    await check("once posted")
    assert {r[0] for r in await world.bot.db.fetchall("SELECT author_box FROM reflections")} == {
        None
    }
    await world.restart()
    await check("after a restart")


# --- team members only -------------------------------------------------------------------------


async def test_with_a_team_role_only_its_members_write_and_report(world: World) -> None:
    """The distinct authors of a batch are colleagues: someone outside the team can't add
    probes to a batch, nor report in it."""
    team = await setup_team(world)
    role = world.dd.add_role(world.guild, "front-desk")
    desk = [world.dd.add_member(world.guild, f"desk{n}", roles=[role]) for n in range(3)]
    await world.dd.settle()
    await world.bot.teams.edit(team.id, role_id=role.id)
    outsider = world.members[0]
    before = await world.bot.db.fetchall("SELECT * FROM reflections")
    ix = await world.dd.slash(outsider, "reflect", channel=world.channel)
    refusal = (await ix.response(timeout=5))["data"]["content"]
    assert ix.ephemeral and f"<@&{role.id}>" in refusal
    assert await world.bot.db.fetchall("SELECT * FROM reflections") == before
    for member in desk:
        await write(world, member, f"from {member.name}")
    await world.share_reflections()
    [first, *_] = posts(world)
    click = await world.dd.click(outsider, first, first.buttons()[0]["custom_id"])
    answer_ = await click.response(timeout=5)
    assert click.ephemeral and f"<@&{role.id}>" in answer_["data"]["content"]
    assert await world.bot.db.fetchval("SELECT count(*) FROM reflection_reports") == 0
    # A manager counts as a member of every team.
    assert "saved" in (await submit(world, world.manager, "a manager writes"))["data"]["content"]


@pytest.mark.sqlite_only
async def test_a_deleted_team_leaves_none_of_its_reflections_in_the_files(world: World) -> None:
    team = await setup_team(world)
    for member in world.members:
        await write(world, member, f"deleted with the team, by {member.name}")
    await world.bot.teams.delete(team.id)
    for name, content in files(world).items():
        assert b"deleted with the team" not in content, name
