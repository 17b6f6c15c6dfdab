"""Poll rules on real SQLite files, with a manual clock: no Discord involved."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.db import Database
from bot.db_sqlite import SqliteDatabase
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound, UserError
from bot.outbox import Delivery, Sent
from bot.poll_model import Poll, Vote, VoteRequest, compare_runs, parse_options, parse_poll_ref
from bot.polls import Polls
from bot.teams import Team, Teams
from bot.vote_queue import VoteQueue
from tests.support import REFUSED_BY_SCHEMA, click, poll_posted

GUILD = 111_222_333_444_555_666
OTHER_GUILD = 999_888_777_666_555_444
CREATOR = 500_000_000_000_000_001
MANAGER = 500_000_000_000_000_002
KEY = b"k" * 32


class Env:
    def __init__(self, db: Database, clock: ManualClock, team: Team, polls: Polls) -> None:
        self.db = db
        self.clock = clock
        self.team = team
        self.polls = polls

    async def create(self, options: str = "Job|Career|Both", **kwargs: Any) -> Poll:
        return await self.polls.create(self.team, CREATOR, "Job or career?", options, **kwargs)

    async def snapshot(self) -> list[tuple[str, list[tuple[Any, ...]]]]:
        """Every row of every poll table: to show that a refused action changed nothing."""
        tables = ["polls", "poll_options", "poll_votes", "poll_ballots"]
        return [
            (t, [tuple(r) for r in await self.db.fetchall(f"SELECT * FROM {t} ORDER BY 1, 2, 3")])
            for t in tables
        ]

    async def ballots(self) -> dict[int, list[set[int]]]:
        """Each open anonymous poll's ballots, opened with the key (as only the bot can)."""
        found: dict[int, list[set[int]]] = {}
        for row in await self.db.fetchall("SELECT poll_id, voter_hash, ballot FROM poll_ballots"):
            poll = await self.polls.get(row[0])
            opened = self.polls.ballots.open(poll, bytes(row[1]), bytes(row[2]))
            found.setdefault(row[0], []).append(opened)
        return found

    async def check_counters(self) -> None:
        """The exact counters equal the stored votes (named rows, or opened ballots)."""
        ballots = await self.ballots()
        anonymous: dict[int, int] = {}
        for picks in ballots.values():
            for picked in picks:
                for option in picked:
                    anonymous[option] = anonymous.get(option, 0) + 1
        rows = await self.db.fetchall(
            "SELECT o.id, o.votes, (SELECT count(*) FROM poll_votes v WHERE v.option_id = o.id)"
            " FROM poll_options o JOIN polls p ON p.id = o.poll_id WHERE p.closed_at IS NULL"
        )
        assert [(r[0], r[1]) for r in rows] == [(r[0], r[2] + anonymous.get(r[0], 0)) for r in rows]
        rows = await self.db.fetchall(
            "SELECT p.id, p.voters,"
            " (SELECT count(DISTINCT user_id) FROM poll_votes v WHERE v.poll_id = p.id)"
            " FROM polls p WHERE p.closed_at IS NULL"
        )
        assert [(r[0], r[1]) for r in rows] == [
            (r[0], r[2] + len(ballots.get(r[0], []))) for r in rows
        ]

    async def exact(self, poll_id: int) -> dict[str, int]:
        """The exact counts as stored, whatever may be shown."""
        rows = await self.db.fetchall(
            "SELECT label, votes FROM poll_options WHERE poll_id = ? ORDER BY position", (poll_id,)
        )
        return {r[0]: r[1] for r in rows}


@pytest.fixture
async def env(database: Path | str) -> AsyncIterator[Env]:
    db = await Database.open(database)
    clock = ManualClock()
    team = await Teams(db, clock).create(GUILD, "Front desk", channel_id=42)
    try:
        yield Env(db, clock, team, Polls(db, clock, KEY))
    finally:
        await db.close()


def option_id(poll: Poll, label: str) -> int:
    return next(o.id for o in poll.options if o.label == label)


def counts(poll: Poll) -> dict[str, int]:
    return {o.label: o.votes for o in poll.options}


# -- creating ----------------------------------------------------------------------------------


async def test_create_stores_the_poll_with_defaults(env: Env) -> None:
    poll = await env.polls.create(
        env.team, CREATOR, "  What is   a career? ", " Job | Career |Both  "
    )
    assert poll.question == "What is a career?"
    assert [o.label for o in poll.options] == ["Job", "Career", "Both"]
    assert [o.position for o in poll.options] == [1, 2, 3]
    assert (poll.multiple, poll.anonymous, poll.hide_results) == (False, False, False)
    assert poll.closes_at - poll.created_at == timedelta(days=1)
    assert poll.created_at == env.clock.now()
    assert poll.team_id == env.team.id and poll.guild_id == GUILD and poll.team_name == "Front desk"
    assert poll.result_state == "none" and not poll.closed and poll.voters == 0
    assert await env.polls.get(poll.id, GUILD) == poll


async def test_create_with_flags_and_duration(env: Env) -> None:
    poll = await env.create(multiple=True, anonymous=True, hide_results=True, duration="1d12h")
    assert (poll.multiple, poll.anonymous, poll.hide_results) == (True, True, True)
    assert poll.duration == timedelta(days=1, hours=12)


async def test_twenty_options_of_55_characters_are_fine(env: Env) -> None:
    labels = [f"{n:02d}" + "x" * 53 for n in range(20)]
    poll = await env.create("|".join(labels))
    assert [o.label for o in poll.options] == labels


@pytest.mark.parametrize(
    ("question", "options", "duration", "message"),
    [
        ("Q", "only one", None, "at least 2 options"),
        ("Q", "|".join(str(n) for n in range(21)), None, "at most 20 options; you gave 21"),
        ("Q", "a||b", None, "Option 2 is empty"),
        ("Q", "a|b|", None, "Option 3 is empty"),
        ("Q", "a|   |b", None, "Option 2 is empty"),
        ("Q", "Career|job|CAREER", None, "“CAREER” appears twice"),
        ("Q", "a|" + "x" * 56, None, "Option 2 .* has 56 characters; .* at most 55"),
        ("x" * 301, "a|b", None, "at most 300 characters; yours has 301"),
        ("   ", "a|b", None, "needs a question"),
        ("Q", "a|b", "soon", "not a duration I understand"),
        ("Q", "a|b", "5w", "too long"),
        ("Q", "a|b", "0m", "too short"),
    ],
)
async def test_bad_input_is_refused_and_nothing_stored(
    env: Env, question: str, options: str, duration: str | None, message: str
) -> None:
    before = await env.snapshot()
    with pytest.raises(InvalidInput, match=message):
        await env.polls.create(env.team, CREATOR, question, options, duration=duration)
    assert await env.snapshot() == before


def test_poll_references() -> None:
    assert parse_poll_ref("12") == 12
    assert parse_poll_ref(" #7 ") == 7
    assert parse_poll_ref(3) == 3
    for bad in ("", "abc", "-1", "0", "1e3"):
        with pytest.raises(NotFound, match="not a poll I know"):
            parse_poll_ref(bad)


def test_options_keep_their_order_and_inner_spaces() -> None:
    assert parse_options("A  job |a career") == ["A job", "a career"]


# -- voting ------------------------------------------------------------------------------------


async def test_single_choice_set_move_remove(env: Env) -> None:
    poll = await env.create()
    job, career = option_id(poll, "Job"), option_id(poll, "Career")
    alice, bob, carol = 1001, 1002, 1003

    vote = await click(env.polls, poll.id, job, GUILD, alice)
    assert vote.action == "voted" and [o.label for o in vote.selected] == ["Job"]
    await click(env.polls, poll.id, career, GUILD, bob)
    await click(env.polls, poll.id, career, GUILD, carol)

    vote = await click(env.polls, poll.id, career, GUILD, alice)  # moves
    assert vote.action == "moved" and [o.label for o in vote.selected] == ["Career"]
    assert counts(vote.poll) == {"Job": 0, "Career": 3, "Both": 0}
    assert vote.poll.voters == 3

    vote = await click(env.polls, poll.id, career, GUILD, bob)  # removes
    assert vote.action == "removed" and vote.selected == ()
    assert counts(vote.poll) == {"Job": 0, "Career": 2, "Both": 0}
    assert vote.poll.voters == 2

    stored = await env.db.fetchall("SELECT user_id, option_id FROM poll_votes ORDER BY user_id")
    assert [tuple(r) for r in stored] == [(alice, career), (carol, career)]
    assert counts(await env.polls.get(poll.id)) == counts(vote.poll)
    await env.check_counters()


async def test_multiple_choice_toggles(env: Env) -> None:
    poll = await env.create(multiple=True)
    job, career, both = (option_id(poll, label) for label in ("Job", "Career", "Both"))
    assert (await click(env.polls, poll.id, job, GUILD, 1)).action == "voted"
    vote = await click(env.polls, poll.id, both, GUILD, 1)
    assert vote.action == "added" and [o.label for o in vote.selected] == ["Job", "Both"]
    vote = await click(env.polls, poll.id, job, GUILD, 1)
    assert vote.action == "removed" and [o.label for o in vote.selected] == ["Both"]
    await click(env.polls, poll.id, career, GUILD, 2)
    vote = await click(env.polls, poll.id, both, GUILD, 2)
    assert counts(vote.poll) == {"Job": 0, "Career": 1, "Both": 2}
    assert vote.poll.voters == 2
    assert vote.poll.share(vote.poll.options[2]) == 100  # both voters picked "Both"
    await env.check_counters()


async def test_vote_after_the_deadline_is_refused_even_before_the_scheduler_ran(env: Env) -> None:
    poll = await env.create(duration="30m")
    await click(env.polls, poll.id, option_id(poll, "Job"), GUILD, 1)
    env.clock.advance(minutes=30)
    before = await env.snapshot()
    with pytest.raises(Conflict, match="This poll is closed"):
        await click(env.polls, poll.id, option_id(poll, "Job"), GUILD, 1)
    with pytest.raises(Conflict, match="This poll is closed"):
        await click(env.polls, poll.id, option_id(poll, "Career"), GUILD, 2)
    assert await env.snapshot() == before


async def test_vote_on_a_closed_poll_is_refused(env: Env) -> None:
    poll = await env.create()
    await env.polls.closing.close(poll.id, GUILD, CREATOR, False)
    before = await env.snapshot()
    with pytest.raises(Conflict, match="closed, so votes are no longer counted"):
        await click(env.polls, poll.id, option_id(poll, "Job"), GUILD, 1)
    assert await env.snapshot() == before


async def test_vote_on_an_unknown_poll_or_option_is_refused(env: Env) -> None:
    poll = await env.create()
    other = await env.create("x|y")
    before = await env.snapshot()
    with pytest.raises(NotFound):
        await click(env.polls, 9999, option_id(poll, "Job"), GUILD, 1)
    with pytest.raises(NotFound):  # an option of another poll
        await click(env.polls, poll.id, option_id(other, "x"), GUILD, 1)
    with pytest.raises(NotFound):  # a button of another server's poll
        await click(env.polls, poll.id, option_id(poll, "Job"), OTHER_GUILD, 1)
    assert await env.snapshot() == before


async def test_anonymous_votes_store_no_user_id(env: Env) -> None:
    poll = await env.create(anonymous=True)
    voters = [700_000_000_000_000_000 + n for n in range(5)]
    for n, voter in enumerate(voters):
        await click(env.polls, poll.id, poll.options[n % 3].id, GUILD, voter)
    moved = await click(env.polls, poll.id, poll.options[2].id, GUILD, voters[0])
    assert moved.action == "moved"
    # Shown: the step reached at the fifth voter; stored: exact.
    assert counts(moved.poll) == {"Job": 2, "Career": 2, "Both": 1}
    assert await env.exact(poll.id) == {"Job": 1, "Career": 2, "Both": 2}
    assert await env.db.fetchval("SELECT count(*) FROM poll_votes") == 0
    hashes = await env.db.fetchall("SELECT voter_hash FROM poll_ballots")
    assert len({bytes(r[0]) for r in hashes}) == 5
    assert bytes(hashes[0][0]) != env.polls.voter_hash(GUILD, voters[0], poll.id + 1)
    await env.check_counters()
    if isinstance(env.db, SqliteDatabase):  # and nowhere in the files
        await env.db.close()
        raw = b"".join(p.read_bytes() for p in env.db.path.parent.iterdir() if p.is_file())
        for voter in voters:
            assert str(voter).encode() not in raw
            assert voter.to_bytes(8, "big") not in raw and voter.to_bytes(8, "little") not in raw
        env.db = await Database.open(env.db.path)  # for the fixture to close


async def test_the_schema_refuses_a_user_id_for_an_anonymous_poll(env: Env) -> None:
    poll = await env.create(anonymous=True)
    with pytest.raises(REFUSED_BY_SCHEMA, match="named polls only"):
        await env.db.execute(
            "INSERT INTO poll_votes (poll_id, user_id, option_id) VALUES (?, 1, ?)",
            (poll.id, poll.options[0].id),
        )


async def test_300_concurrent_voters_give_exact_totals(env: Env) -> None:
    """300 transactions of one vote each, interleaved 30 at a time. (Clicks reach `vote_many`
    through `VoteQueue`, which batches them; 300 lone transactions queued on the process's
    database lock at once would make the last wait out LOCK_WAIT on a loaded machine.)"""
    poll = await env.create()
    rng = random.Random(4)
    picks = {10_000 + n: rng.choice(poll.options).id for n in range(300)}
    in_flight = asyncio.Semaphore(30)

    async def voter(user: int, option: int) -> Vote:
        async with in_flight:
            return await click(env.polls, poll.id, option, GUILD, user)

    results = await asyncio.gather(*(voter(user, option) for user, option in picks.items()))
    assert all(r.action == "voted" for r in results)
    final = await env.polls.get(poll.id)
    expected = {o.label: sum(1 for p in picks.values() if p == o.id) for o in poll.options}
    assert counts(final) == expected and final.voters == 300
    assert await env.db.fetchval("SELECT count(*) FROM poll_votes") == 300
    await env.check_counters()


async def test_one_member_clicking_fast_is_stored_once(env: Env) -> None:
    single = await env.create()
    multi = await env.create(multiple=True)
    # 21 clicks on the same option: set, remove, set, ... -> ends selected; never two rows.
    await asyncio.gather(
        *(click(env.polls, single.id, single.options[0].id, GUILD, 5) for _ in range(21))
    )
    await asyncio.gather(*(click(env.polls, multi.id, o.id, GUILD, 5) for o in multi.options * 3))
    rows = await env.db.fetchall("SELECT poll_id, option_id FROM poll_votes ORDER BY 1, 2")
    assert [tuple(r) for r in rows] == [(single.id, single.options[0].id)] + [
        (multi.id, o.id) for o in multi.options
    ]
    await env.check_counters()


async def test_random_clicks_keep_counters_exact(env: Env) -> None:
    polls = [await env.create(), await env.create(multiple=True), await env.create(anonymous=True)]
    rng = random.Random(7)
    for _ in range(400):
        poll = rng.choice(polls)
        await click(env.polls, poll.id, rng.choice(poll.options).id, GUILD, rng.randrange(12))
    await env.check_counters()
    await env.polls.forget_member(GUILD, 3)
    await env.check_counters()


async def test_a_batch_of_clicks_is_applied_in_order(env: Env) -> None:
    single, multi = await env.create(), await env.create(multiple=True)
    anonymous, closed = await env.create(anonymous=True), await env.create()
    await env.polls.closing.close(closed.id, GUILD, CREATOR, False)
    job, career = option_id(single, "Job"), option_id(single, "Career")
    requests = [
        VoteRequest(single.id, job, GUILD, 1),
        VoteRequest(single.id, career, GUILD, 1),  # moves
        VoteRequest(single.id, career, GUILD, 2),
        VoteRequest(single.id, career, GUILD, 2),  # removes
        VoteRequest(multi.id, multi.options[0].id, GUILD, 1),
        VoteRequest(multi.id, multi.options[1].id, GUILD, 1),
        VoteRequest(anonymous.id, anonymous.options[0].id, GUILD, 1),
        VoteRequest(anonymous.id, anonymous.options[1].id, GUILD, 1),  # moves
        VoteRequest(closed.id, closed.options[0].id, GUILD, 3),
        VoteRequest(single.id, job, OTHER_GUILD, 4),
        VoteRequest(single.id, multi.options[0].id, GUILD, 5),  # another poll's option
    ]
    results = await env.polls.vote_many(requests)
    actions = [r.action if isinstance(r, Vote) else type(r).__name__ for r in results]
    assert actions == [
        "voted", "moved", "voted", "removed", "voted", "added", "voted", "moved",
        "Conflict", "NotFound", "NotFound",
    ]  # fmt: skip
    last = results[7]
    assert isinstance(last, Vote) and [o.label for o in last.selected] == ["Career"]
    assert counts(await env.polls.get(single.id)) == {"Job": 0, "Career": 1, "Both": 0}
    # An open anonymous poll shows its counts in steps of several voters: one voter, no step.
    assert counts(await env.polls.get(anonymous.id)) == {"Job": 0, "Career": 0, "Both": 0}
    assert await env.exact(anonymous.id) == {"Job": 0, "Career": 1, "Both": 0}
    assert (await env.polls.get(multi.id)).voters == 1
    assert (
        await env.db.fetchval("SELECT count(*) FROM poll_votes WHERE poll_id = ?", (closed.id,))
        == 0
    )
    # Every click's answer carries the counts after the whole batch.
    first = results[0]
    assert isinstance(first, Vote) and counts(first.poll)["Career"] == 1
    await env.check_counters()


async def test_the_queue_writes_simultaneous_clicks_in_few_transactions(env: Env) -> None:
    poll = await env.create()
    queue = VoteQueue(env.polls.vote_many)
    picks = {20_000 + n: poll.options[n % 3].id for n in range(300)}
    results = await asyncio.gather(
        *(queue.vote(poll.id, option, GUILD, user) for user, option in picks.items())
    )
    assert [r.action for r in results] == ["voted"] * 300
    assert counts(await env.polls.get(poll.id)) == {"Job": 100, "Career": 100, "Both": 100}
    assert queue.batches <= 5, f"{queue.batches} transactions for 300 clicks"
    await queue.close()
    await env.check_counters()


async def test_the_queue_refuses_only_the_refused_clicks(env: Env) -> None:
    open_poll, closed = await env.create(), await env.create()
    await env.polls.closing.close(closed.id, GUILD, CREATOR, False)
    queue = VoteQueue(env.polls.vote_many)
    results = await asyncio.gather(
        queue.vote(open_poll.id, open_poll.options[0].id, GUILD, 1),
        queue.vote(closed.id, closed.options[0].id, GUILD, 2),
        queue.vote(open_poll.id, open_poll.options[1].id, GUILD, 3),
        return_exceptions=True,
    )
    assert isinstance(results[0], Vote) and isinstance(results[2], Vote)
    assert isinstance(results[1], Conflict)
    assert counts(await env.polls.get(open_poll.id)) == {"Job": 1, "Career": 1, "Both": 0}
    await queue.close()


async def test_a_lone_click_is_written_at_once_and_clicks_meanwhile_share_the_next_commit(
    env: Env,
) -> None:
    """Group commit: no waiting for company. The first click's transaction starts as soon as
    the loop runs it; the clicks that arrive while it commits are written together next."""
    poll = await env.create()
    batches: list[list[int]] = []
    committing = asyncio.Event()
    release = asyncio.Event()

    async def write(requests: Sequence[VoteRequest]) -> list[Vote | UserError]:
        batches.append([r.user_id for r in requests])
        committing.set()
        await release.wait()  # the database is busy with this batch
        return await env.polls.vote_many(requests)

    queue = VoteQueue(write)
    first = asyncio.create_task(queue.vote(poll.id, poll.options[0].id, GUILD, 1))
    for _ in range(3):  # a few turns of the loop, no time: the writer took the click at once
        await asyncio.sleep(0)
    assert committing.is_set() and batches == [[1]]
    later = [
        asyncio.create_task(queue.vote(poll.id, poll.options[1].id, GUILD, user))
        for user in (2, 3, 4)
    ]
    for _ in range(5):
        await asyncio.sleep(0)
    assert batches == [[1]]  # they wait for the commit under way, not for a timer
    release.set()
    votes = await asyncio.gather(first, *later)
    assert batches == [[1], [2, 3, 4]]
    assert [v.action for v in votes] == ["voted"] * 4
    assert counts(await env.polls.get(poll.id)) == {"Job": 1, "Career": 3, "Both": 0}
    await queue.close()


# -- closing -----------------------------------------------------------------------------------


async def test_creator_and_managers_close_others_cannot(env: Env) -> None:
    first, second = await env.create(), await env.create()
    before = await env.snapshot()
    with pytest.raises(
        NotAllowed, match="Only the member who created this poll, the team's leads or a manager"
    ):
        await env.polls.closing.close(first.id, GUILD, 1234, False)
    assert await env.snapshot() == before
    env.clock.advance(minutes=5)
    closed = await env.polls.closing.close(first.id, GUILD, CREATOR, False)
    assert closed.closed_at == env.clock.now() and closed.result_state == "posting"
    assert (await env.polls.closing.close(second.id, GUILD, MANAGER, True)).closed
    before = await env.snapshot()
    with pytest.raises(Conflict, match="already closed"):
        await env.polls.closing.close(first.id, GUILD, CREATOR, False)
    with pytest.raises(NotFound, match="no poll #999"):
        await env.polls.closing.close(999, GUILD, CREATOR, True)
    with pytest.raises(NotFound):
        await env.polls.closing.close(second.id, OTHER_GUILD, CREATOR, True)
    assert await env.snapshot() == before


async def test_deadlines_close_once_and_put_the_announcement_in_the_outbox(env: Env) -> None:
    soon = await env.create(duration="30m")
    later = await env.create(duration="2h")
    unposted = await env.create(duration="10m")  # its message never went out
    for number, poll in enumerate((soon, later), start=1):
        await poll_posted(env.polls, poll.id, 42, number)
    outbox = env.polls.outbox
    assert await env.polls.closing.next_due() == soon.closes_at
    assert await env.polls.closing.close_due(env.clock.now()) == []

    env.clock.advance(hours=1)  # e.g. while the bot was down
    assert await env.polls.closing.close_due(env.clock.now()) == [soon.id]
    assert not (await env.polls.get(unposted.id)).closed  # left to the outbox to give up
    closed = await env.polls.get(soon.id)
    assert closed.closed_at == soon.closes_at and closed.result_state == "posting"
    assert await outbox.pending("poll_result", soon.id) is not None
    assert await env.polls.closing.close_due(env.clock.now()) == []  # closed: never twice
    # `later`'s last hour begins now: its message is edited once for it, then its deadline is next
    assert await env.polls.closing.next_due() == later.closes_at - timedelta(hours=1)
    assert await env.polls.closing.last_hour_due(env.clock.now()) == [later.id]
    assert await env.polls.closing.last_hour_due(env.clock.now()) == []
    assert await env.polls.closing.next_due() == later.closes_at
    assert await outbox.pending("poll_result", later.id) is None


async def test_the_last_hour_is_shown_once_and_not_for_a_poll_posted_in_it(env: Env) -> None:
    day = await env.create(duration="1d")
    hour = await env.create(duration="1h")  # posted in its last hour: no edit needed
    for number, poll in enumerate((day, hour), start=1):
        await poll_posted(env.polls, poll.id, 42, number)
    last_hour = day.closes_at - timedelta(hours=1)
    assert await env.polls.closing.next_due() == hour.closes_at
    env.clock.set(last_hour - timedelta(seconds=1))
    assert await env.polls.closing.close_due(env.clock.now()) == [hour.id]
    assert await env.polls.closing.last_hour_due(env.clock.now()) == []  # not before
    assert await env.polls.closing.next_due() == last_hour
    env.clock.set(last_hour)
    assert await env.polls.closing.last_hour_due(env.clock.now()) == [day.id]
    assert await env.polls.closing.last_hour_due(env.clock.now()) == []
    assert await env.polls.closing.next_due() == day.closes_at


async def test_the_outbox_tells_how_announcing_a_close_went(env: Env) -> None:
    posted, refused, late = await env.create(), await env.create(), await env.create()
    for poll in (posted, refused, late):
        await env.polls.closing.close(poll.id, GUILD, CREATOR, False)
    outbox = env.polls.outbox

    async def claim(poll: Poll) -> Delivery | None:
        delivery_id = await outbox.pending("poll_result", poll.id)
        assert delivery_id is not None
        return await outbox.claim(delivery_id)

    delivery = await claim(posted)
    assert delivery is not None and await outbox.delivered(delivery, Sent(777, 42))
    done = await env.polls.get(posted.id)
    assert (done.result_state, done.result_message_id) == ("posted", 777)

    delivery = await claim(refused)
    assert delivery is not None
    assert await outbox.failed(delivery, "Discord refused it.", retry=False) is None
    assert (await env.polls.get(refused.id)).result_state == "failed"
    assert [t.error for t in await outbox.troubles(env.team.id)] == ["Discord refused it."]

    env.clock.advance(days=1)  # not posted within a day of the close: news that late is none
    assert await claim(late) is None
    assert (await env.polls.get(late.id)).result_state == "failed"


async def test_a_new_poll_waits_in_the_outbox_and_is_forgotten_if_it_cant_be_posted(
    env: Env,
) -> None:
    first = await env.create()
    rerun = await env.polls.runs.rerun(first.id, GUILD, CREATOR)
    short = await env.create(duration="30m")
    outbox = env.polls.outbox
    # The member's own attempt goes first: the job leaves new polls alone for a while.
    assert await outbox.due(env.clock.now()) == []

    async def claim(poll: Poll) -> Delivery:
        delivery_id = await outbox.pending("poll_post", poll.id)
        assert delivery_id is not None
        delivery = await outbox.claim(delivery_id, early=True)
        assert delivery is not None
        return delivery

    assert await outbox.delivered(await claim(first), Sent(9001, 42))
    posted = await env.polls.get(first.id)
    assert (posted.channel_id, posted.message_id) == (42, 9001)
    assert await outbox.pending("poll_post", first.id) is None

    assert await outbox.failed(await claim(rerun), "No such channel.", retry=False) is None
    with pytest.raises(NotFound):
        await env.polls.get(rerun.id)
    assert await outbox.pending("poll_post", rerun.id) is None

    # Failing for now until its deadline: given up, and forgotten (nobody has seen it).
    retry_at = await outbox.failed(await claim(short), "Discord had a problem.", retry=True)
    assert retry_at is not None
    env.clock.advance(minutes=31)
    delivery_id = await outbox.pending("poll_post", short.id)
    assert delivery_id is not None and await outbox.claim(delivery_id) is None
    with pytest.raises(NotFound):
        await env.polls.get(short.id)


# -- results -----------------------------------------------------------------------------------


async def test_hidden_results_are_visible_to_creator_and_managers_until_close(env: Env) -> None:
    poll = await env.create(hide_results=True)
    await click(env.polls, poll.id, poll.options[0].id, GUILD, 1)
    assert not (await env.polls.results(poll.id, GUILD, 1, False, False)).counts_visible
    assert (await env.polls.results(poll.id, GUILD, CREATOR, False, False)).counts_visible
    assert (await env.polls.results(poll.id, GUILD, MANAGER, True, False)).counts_visible
    await env.polls.closing.close(poll.id, GUILD, CREATOR, False)
    assert (await env.polls.results(poll.id, GUILD, 1, False, False)).counts_visible


async def test_voters_only_for_named_polls_and_only_to_creator_or_managers(env: Env) -> None:
    named = await env.create()
    anonymous = await env.create(anonymous=True)
    await click(env.polls, named.id, named.options[1].id, GUILD, 11)
    await click(env.polls, named.id, named.options[1].id, GUILD, 12)
    await click(env.polls, anonymous.id, anonymous.options[1].id, GUILD, 11)
    results = await env.polls.results(named.id, GUILD, MANAGER, True, True)
    assert results.voters == {named.options[1].id: (11, 12)}
    assert (await env.polls.results(named.id, GUILD, 11, False, False)).voters is None
    with pytest.raises(NotAllowed, match="Only the member who created this poll and managers"):
        await env.polls.results(named.id, GUILD, 11, False, True)
    with pytest.raises(NotAllowed, match="anonymous: nobody, managers included"):
        await env.polls.results(anonymous.id, GUILD, MANAGER, True, True)


async def test_list_and_search_show_open_polls_first(env: Env) -> None:
    first = await env.polls.create(env.team, CREATOR, "Lunch spot?", "a|b")
    second = await env.polls.create(env.team, CREATOR, "Career or job?", "a|b")
    third = await env.polls.create(env.team, CREATOR, "Career next year?", "a|b")
    await env.polls.closing.close(second.id, GUILD, CREATOR, False)
    listed = await env.polls.for_team(env.team.id)
    assert [p.id for p in listed] == [first.id, third.id, second.id]
    found = await env.polls.search(GUILD, "career")
    assert [(c.id, c.closed) for c in found] == [(third.id, False), (second.id, True)]
    assert [c.id for c in await env.polls.search(GUILD, "", open_only=True)] == [third.id, first.id]
    assert [c.id for c in await env.polls.search(GUILD, str(first.id))] == [first.id]
    assert await env.polls.search(OTHER_GUILD, "") == []


# -- re-runs -----------------------------------------------------------------------------------


async def test_rerun_copies_question_options_flags_and_duration(env: Env) -> None:
    original = await env.create(multiple=True, anonymous=True, hide_results=True, duration="3d")
    env.clock.advance(days=10)
    again = await env.polls.runs.rerun(original.id, GUILD, MANAGER)
    assert again.rerun_of == original.id and again.creator_id == MANAGER
    assert again.question == original.question
    assert [o.label for o in again.options] == [o.label for o in original.options]
    assert (again.multiple, again.anonymous, again.hide_results) == (True, True, True)
    assert again.created_at == env.clock.now() and again.duration == timedelta(days=3)
    # Re-running the original again continues the series from its latest run.
    third = await env.polls.runs.rerun(original.id, GUILD, MANAGER)
    assert third.rerun_of == again.id
    with pytest.raises(NotFound):
        await env.polls.runs.rerun(original.id, OTHER_GUILD, MANAGER)


async def test_poll_runs_and_the_comparison_in_points(env: Env) -> None:
    first = await env.create("Job|Career")
    for user in range(10):  # Career 40%
        await click(env.polls, first.id, first.options[1 if user < 4 else 0].id, GUILD, user)
    await env.polls.closing.close(first.id, GUILD, CREATOR, False)
    env.clock.advance(weeks=4)
    second = await env.polls.runs.rerun(first.id, GUILD, CREATOR)
    for user in range(20):  # Career 55%
        await click(env.polls, second.id, second.options[1 if user < 11 else 0].id, GUILD, user)
    await env.polls.closing.close(second.id, GUILD, CREATOR, False)

    runs = await env.polls.runs.poll_runs(second.id)
    assert [r.poll_id for r in runs] == [first.id, second.id]
    assert [(o.label, o.votes, o.share) for o in runs[0].options] == [
        ("Job", 6, 0.6),
        ("Career", 4, 0.4),
    ]
    assert runs[1].voters == 20 and runs[1].date == env.clock.now()
    assert [r.poll_id for r in await env.polls.runs.poll_runs(first.id)] == [first.id]

    comparison = await env.polls.runs.comparison(second.id)
    assert comparison is not None
    previous, changes = comparison
    assert previous.poll_id == first.id
    assert [(c.label, c.before, c.after, c.points) for c in changes] == [
        ("Job", 60, 45, -15),
        ("Career", 40, 55, 15),
    ]
    assert compare_runs(runs[0], runs[0])[0].points == 0
    assert await env.polls.runs.comparison(first.id) is None


async def test_no_comparison_with_a_hidden_run_that_is_still_open(env: Env) -> None:
    first = await env.create(hide_results=True)
    second = await env.polls.runs.rerun(first.id, GUILD, CREATOR)
    assert await env.polls.runs.comparison(second.id) is None


# -- privacy and teams -------------------------------------------------------------------------


async def test_forget_member_deletes_named_votes_in_that_server_only(env: Env) -> None:
    other_team = await Teams(env.db, env.clock).create(OTHER_GUILD, "Mail room", channel_id=43)
    named, anonymous = await env.create(), await env.create(anonymous=True)
    elsewhere = await env.polls.create(other_team, CREATOR, "Q", "a|b")
    for poll in (named, anonymous, elsewhere):
        await click(env.polls, poll.id, poll.options[0].id, poll.guild_id, 42)
        await click(env.polls, poll.id, poll.options[0].id, poll.guild_id, 43)
    done = await env.polls.forget_member(GUILD, 42)
    assert (done.kind, done.deleted, done.polls) == ("votes", 1, (named.id,))
    assert counts(await env.polls.get(named.id))["Job"] == 1
    assert (await env.exact(anonymous.id))["Job"] == 2  # can't be found, by design
    assert (await env.polls.get(elsewhere.id)).voters == 2
    assert (await env.polls.forget_member(GUILD, 42)).deleted == 0
    await env.check_counters()


async def test_deleting_the_team_deletes_its_polls(env: Env) -> None:
    poll = await env.create()
    await click(env.polls, poll.id, poll.options[0].id, GUILD, 1)
    await env.polls.runs.rerun(poll.id, GUILD, CREATOR)
    await Teams(env.db, env.clock).delete(env.team.id)
    for table, _ in await env.snapshot():
        assert await env.db.fetchval(f"SELECT count(*) FROM {table}") == 0
