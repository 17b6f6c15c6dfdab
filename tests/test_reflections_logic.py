"""Anonymous reflections, the feature logic on real SQLite files (bot/reflections.py)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.db import Database
from bot.errors import Conflict, InvalidInput, NotFound
from bot.outbox import Sent
from bot.reflection_batches import ReflectionBatches, releasable
from bot.reflection_store import NOTICE
from bot.reflection_text import (
    DAILY_LIMIT,
    NEUTRAL_NOT_FOUND,
    NEUTRAL_NOT_FOUND_KEY_REPLACED,
    clean_body,
    parse_receipt,
    parse_ref,
)
from bot.reflections import Reflections
from bot.secret import keyed_hash
from bot.teams import Team, Teams
from tests.support import database_files, files_containing, id_patterns, post_released

GUILD = 424242424242424242
OTHER_GUILD = 515151515151515151
CHANNEL = 700000000000000001
KEY = b"k" * 32
ALICE, BOB, CAROL, DAVE = (
    310000000000000001,
    320000000000000002,
    330000000000000003,
    340000000000000004,
)
TABLES = (
    "reflections",
    "reflection_teams",
    "reflection_reports",
    "deliveries",
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def team(db: Database, clock: ManualClock) -> Team:
    return await Teams(db, clock).create(GUILD, "Front desk", CHANNEL)


@pytest.fixture
def logic(db: Database, clock: ManualClock) -> Reflections:
    return Reflections(db, clock, KEY, rng=random.Random(5))


@pytest.fixture
def batches(db: Database, clock: ManualClock, logic: Reflections) -> ReflectionBatches:
    return ReflectionBatches(db, clock, KEY, rng=logic.rng)


async def share(batches: ReflectionBatches, clock: ManualClock) -> list[int]:
    """The next sharing time comes, and the scheduler's pass runs at it."""
    at = await batches.next_sharing(clock.now())
    assert at is not None, "no team"
    clock.set(max(at, clock.now()))  # one already due is shared at the next pass
    return await batches.release_due(clock.now())


async def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the feature stores, to assert that a refused action changed nothing."""
    return {
        table: [tuple(row) for row in await db.fetchall(f"SELECT * FROM {table} ORDER BY 1, 2")]
        for table in TABLES
    }


async def post_all(
    batches: ReflectionBatches, clock: ManualClock, team: Team, first_message: int = 900
) -> list[int]:
    """What the scheduler's pass does at the sharing time, minus Discord: release, then the
    outbox's claim → send → record."""
    await share(batches, clock)
    return [r.id for r in await post_released(batches, team.id, CHANNEL, first_message)]


async def deliveries(db: Database, kind: str = "reflection") -> list[Any]:
    return await db.fetchall("SELECT * FROM deliveries WHERE kind = ? ORDER BY id", (kind,))


# --- writing ----------------------------------------------------------------------------------


async def test_write_gives_a_receipt_and_stores_no_author(
    logic: Reflections, team: Team, db: Database
) -> None:
    receipt = await logic.write(team, ALICE, "  The phones never stop.  \n\n\n\nBut I like it. ")
    assert parse_receipt(receipt.code) is not None and receipt.code.startswith("R-")
    assert (receipt.share_time, receipt.threshold) == ("17:00", 3)
    row = await db.fetchone("SELECT * FROM reflections")
    assert row is not None
    assert row["state"] == "pending"
    assert row["body"] == "The phones never stop.\n\nBut I like it."
    assert row["posted_at"] is None
    assert receipt.code[2:] not in [str(v) for v in tuple(row)]


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n", "\u200b\u200b", " \u2028 "])
async def test_an_empty_reflection_is_refused_and_nothing_is_stored(
    logic: Reflections, team: Team, db: Database, text: str
) -> None:
    before = await dump(db)
    with pytest.raises(InvalidInput, match="empty"):
        await logic.write(team, ALICE, text)
    assert await dump(db) == before


async def test_an_overlong_reflection_is_refused(
    logic: Reflections, team: Team, db: Database
) -> None:
    before = await dump(db)
    with pytest.raises(InvalidInput, match="at most 2000"):
        await logic.write(team, ALICE, "x" * 2001)
    with pytest.raises(InvalidInput, match="at most 100"):
        await logic.write(team, ALICE, "fine", about="y" * 101)
    assert await dump(db) == before
    await logic.write(team, ALICE, "x" * 2000, about="   ")
    assert await db.fetchval("SELECT about FROM reflections") is None


async def test_the_sixth_reflection_of_the_day_is_refused_until_the_next_day(
    logic: Reflections, team: Team, db: Database, clock: ManualClock
) -> None:
    for n in range(DAILY_LIMIT):
        await logic.write(team, ALICE, f"note {n}")
    before = await dump(db)
    with pytest.raises(InvalidInput, match="5 reflections for this team today"):
        await logic.write(team, ALICE, "one more")
    assert await dump(db) == before
    await logic.write(team, BOB, "someone else is not limited by alice")
    clock.advance(days=1)
    await logic.write(team, ALICE, "a new day")


@pytest.mark.sqlite_only
async def test_the_daily_count_is_kept_in_memory_not_in_the_files(
    logic: Reflections, team: Team, db: Database, clock: ManualClock
) -> None:
    """A counter in the files would say how many one person wrote today (finding 4)."""
    for n in range(DAILY_LIMIT):
        await logic.write(team, ALICE, f"note {n}")
    tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
    assert "reflection_daily" not in tables and "reflection_pending_authors" not in tables
    blobs = b"".join(p.read_bytes() for p in database_files(db.path) if p.exists())
    day = clock.now().date().isoformat()
    assert keyed_hash(KEY, GUILD, ALICE, f"day:{team.id}:{day}") not in blobs
    # A restart (a new Reflections) starts the count again: the price of keeping it nowhere.
    await Reflections(db, clock, KEY).write(team, ALICE, "after a restart")


async def test_the_day_is_the_teams_local_day(db: Database, clock: ManualClock) -> None:
    team = await Teams(db, clock).create(GUILD, "Tokyo desk", CHANNEL, timezone="Asia/Tokyo")
    logic = Reflections(db, clock, KEY)
    clock.set(clock.now().replace(hour=14, minute=30))  # 23:30 in Tokyo
    for n in range(DAILY_LIMIT):
        await logic.write(team, ALICE, f"late {n}")
    with pytest.raises(InvalidInput):
        await logic.write(team, ALICE, "still the same day in Tokyo")
    clock.advance(hours=1)  # 00:30 the next day in Tokyo, still the same UTC day
    await logic.write(team, ALICE, "after midnight in Tokyo")


# --- batching ---------------------------------------------------------------------------------


async def test_nothing_is_released_until_three_different_authors(
    logic: Reflections, batches: ReflectionBatches, team: Team, db: Database, clock: ManualClock
) -> None:
    await logic.write(team, ALICE, "one")
    await logic.write(team, ALICE, "two from the same person")
    await logic.write(team, BOB, "three")
    assert await share(batches, clock) == []
    await logic.write(team, CAROL, "four")
    # Not in reaction to the write: only at the next sharing time.
    assert await batches.release_due(clock.now()) == []
    assert await share(batches, clock) == [team.id]
    states = await db.fetchall("SELECT state, posted_at, author_box FROM reflections")
    assert {tuple(r) for r in states} == {("queued", int(clock.now().timestamp()), None)}


async def test_passes_before_the_sharing_time_write_nothing_and_moving_it_releases_nothing(
    logic: Reflections, batches: ReflectionBatches, team: Team, db: Database, clock: ManualClock
) -> None:
    for who in (ALICE, BOB, CAROL):
        await logic.write(team, who, f"from {who}")
    assert await batches.release_due(clock.now()) == []  # 08:00
    assert await db.fetchall("SELECT * FROM reflection_teams") == []
    clock.set(clock.now().replace(hour=12))
    # A manager moving the time to one already past today doesn't release the batch now (it
    # would point at whoever wrote last): the next 09:30 is tomorrow's.
    await logic.configure(team.id, share_time="9:30")
    assert await batches.release_due(clock.now()) == []
    tomorrow = clock.now().replace(hour=9, minute=30) + timedelta(days=1)
    assert await batches.next_sharing(clock.now()) == tomorrow
    assert await share(batches, clock) == [team.id] and clock.now() == tomorrow


async def test_the_sharing_time_is_the_teams_local_time(db: Database, clock: ManualClock) -> None:
    team = await Teams(db, clock).create(GUILD, "Berlin desk", CHANNEL, timezone="Europe/Berlin")
    batches = ReflectionBatches(db, clock, KEY)
    # 17:00 in Berlin in January is 16:00 UTC.
    assert await batches.next_sharing(clock.now()) == clock.now().replace(hour=16)
    assert team.reflection_share_time == "17:00"


@pytest.mark.parametrize(
    ("pending", "released"),
    [
        ([(3, b"a"), (3, b"b")], set()),
        ([(3, b"a"), (3, b"b"), (3, b"a")], set()),
        ([(3, b"a"), (3, b"b"), (3, b"c")], {0, 1, 2}),
        ([(4, b"a"), (3, b"b"), (3, b"c"), (3, b"d")], {0, 1, 2, 3}),
        ([(4, b"a"), (3, b"b"), (3, b"c")], set()),  # without a's, two authors remain
        ([(5, b"a"), (3, b"b"), (3, b"c"), (3, b"d")], {1, 2, 3}),
        ([(3, b""), (3, b""), (3, b"x")], set()),  # unknown authors count as one
    ],
)
def test_the_release_rule(pending: list[tuple[int, bytes]], released: set[int]) -> None:
    assert releasable(pending) == released


async def test_a_deleted_pending_reflection_stops_counting_its_author(
    logic: Reflections, batches: ReflectionBatches, team: Team, clock: ManualClock
) -> None:
    first = await logic.write(team, ALICE, "first")
    second = await logic.write(team, ALICE, "second")
    await logic.write(team, BOB, "bob")
    await logic.delete_by_author(GUILD, ALICE, first.code)
    await logic.delete_by_author(GUILD, ALICE, second.code)
    await logic.write(team, CAROL, "carol")
    # Only Bob and Carol: posting would promise three authors and deliver two.
    assert await share(batches, clock) == []


async def test_queued_order_is_random_and_follows_the_seed(
    tmp_path: Path, clock: ManualClock
) -> None:
    orders = []
    for run, seed in enumerate((1, 1, 2, 3, 4)):
        db = await Database.open(tmp_path / f"run{run}.db")
        try:
            team = await Teams(db, clock).create(GUILD, "Front desk", CHANNEL)
            logic = Reflections(db, clock, KEY, rng=random.Random(seed))
            batches = ReflectionBatches(db, clock, KEY, rng=logic.rng)
            for who, text in ((ALICE, "a"), (BOB, "b"), (CAROL, "c"), (DAVE, "d")):
                await logic.write(team, who, text)
            await share(batches, clock)
            orders.append([r.body for r in await post_released(batches, team.id, CHANNEL)])
        finally:
            await db.close()
    assert orders[0] == orders[1]  # seeded: reproducible in tests
    assert sorted(orders[0]) == ["a", "b", "c", "d"]
    assert sum(order == ["a", "b", "c", "d"] for order in orders) <= 1
    assert len({tuple(o) for o in orders}) >= 3


@pytest.mark.sqlite_only
async def test_the_release_puts_each_reflection_in_the_outbox_in_its_own_transaction(
    logic: Reflections, batches: ReflectionBatches, team: Team, db: Database, clock: ManualClock
) -> None:
    for who in (ALICE, BOB, CAROL):
        await logic.write(team, who, f"from {who}")
    assert await deliveries(db) == []  # nothing is due before the sharing time
    await share(batches, clock)
    rows = await db.fetchall("SELECT id, state FROM reflections")
    assert {r["state"] for r in rows} == {"queued"}
    queued = await deliveries(db)
    # One delivery per reflection, due now, kept trying (no deadline), with the nonce a
    # repeated send is recognised by; random ids, not 1, 2, 3.
    assert sorted(d["subject"] for d in queued) == sorted(r["id"] for r in rows)
    for delivery in queued:
        assert (delivery["team_id"], delivery["state"], delivery["deadline"]) == (
            team.id,
            "due",
            None,
        )
        assert delivery["due_at"] == int(clock.now().timestamp())
        assert delivery["nonce"] == f"r{delivery['subject']}"
        assert delivery["id"] > 2**32
    # The WAL holds no frame of the release (the batch it made and their order).
    wal = db.path.with_name(db.path.name + "-wal")
    assert not wal.exists() or wal.read_bytes() == b""


async def test_a_posted_reflection_is_recorded_once_and_one_deleted_meanwhile_is_undone(
    logic: Reflections, batches: ReflectionBatches, team: Team, db: Database, clock: ManualClock
) -> None:
    receipts = {who: await logic.write(team, who, f"from {who}") for who in (ALICE, BOB, CAROL)}
    await share(batches, clock)
    outbox = batches.outbox
    first, second, third = await deliveries(db)
    # Sent and recorded: posted, and the delivery is done; it can't be claimed again.
    claimed = await outbox.claim(first["id"])
    assert claimed is not None and claimed.subject == first["subject"]
    assert await outbox.delivered(claimed, Sent(901, CHANNEL))
    row = await db.fetchone("SELECT * FROM reflections WHERE id = ?", (first["subject"],))
    assert row is not None
    assert (row["state"], row["channel_id"], row["message_id"]) == ("posted", CHANNEL, 901)
    assert await outbox.claim(first["id"]) is None
    # A failure Discord may get over: tried again after the one back-off; managers see why.
    claimed = await outbox.claim(second["id"])
    assert claimed is not None
    retry_at = await outbox.failed(claimed, "Discord had a problem (503).", retry=True)
    assert retry_at == clock.now() + timedelta(seconds=30)
    trouble = (await logic.overview(team.id)).trouble
    assert trouble is not None and trouble.retry_at == retry_at
    assert trouble.error == "Discord had a problem (503)."
    assert await outbox.claim(second["id"]) is None  # not before its time
    clock.set(retry_at)
    claimed = await outbox.claim(second["id"])
    assert claimed is not None and claimed.is_repeat  # a repeat looks for the first one's message
    assert await outbox.delivered(claimed, Sent(902, CHANNEL))
    assert (await logic.overview(team.id)).trouble is None
    # Deleted by its author while being sent: the hook says so (the sender deletes the post).
    claimed = await outbox.claim(third["id"])
    assert claimed is not None
    body = await db.fetchval("SELECT body FROM reflections WHERE id = ?", (claimed.subject,))
    author = int(body.split()[1])
    await logic.delete_by_author(GUILD, author, receipts[author].code)
    assert not await outbox.delivered(claimed, Sent(903, CHANNEL))
    assert await deliveries(db) == []
    overview = await logic.overview(team.id)
    assert (overview.posted, overview.waiting_to_post, overview.trouble) == (2, 0, None)


async def test_a_refused_post_is_given_up_and_shown_to_managers_until_the_team_changes(
    logic: Reflections, batches: ReflectionBatches, team: Team, db: Database, clock: ManualClock
) -> None:
    for who in (ALICE, BOB, CAROL):
        await logic.write(team, who, f"from {who}")
    await share(batches, clock)
    outbox = batches.outbox
    [first, *_] = await deliveries(db)
    claimed = await outbox.claim(first["id"])
    assert claimed is not None
    assert await outbox.failed(claimed, "Discord refused it: no permission.", retry=False) is None
    overview = await logic.overview(team.id)
    assert overview.trouble is not None and overview.trouble.retry_at is None
    assert overview.trouble.error == "Discord refused it: no permission."
    assert overview.waiting_to_post == 3
    clock.advance(days=1)
    assert first["id"] not in await outbox.due(clock.now())
    async with db.transaction() as tx:  # what editing the team does
        assert await outbox.retry_team(tx, team.id) == 1
    assert first["id"] in await outbox.due(clock.now())
    assert len(await post_released(batches, team.id, CHANNEL)) == 3
    overview = await logic.overview(team.id)
    assert (overview.posted, overview.trouble) == (3, None)


# --- deleting ---------------------------------------------------------------------------------


async def test_the_author_deletes_with_the_receipt_and_others_get_the_neutral_sentence(
    logic: Reflections, team: Team, db: Database
) -> None:
    receipt = await logic.write(team, ALICE, "mine")
    before = await dump(db)
    for who, code in (
        (BOB, receipt.code),  # someone else's code
        (ALICE, "R-22222"),  # a wrong code
        (ALICE, "not a code"),  # not even a code
        (BOB, receipt.code.lower().replace("-", " ")),
    ):
        with pytest.raises(NotFound) as refused:
            await logic.delete_by_author(GUILD, who, code)
        assert str(refused.value) == NEUTRAL_NOT_FOUND
    # The same code in another server is not this reflection.
    with pytest.raises(NotFound):
        await logic.delete_by_author(OTHER_GUILD, ALICE, receipt.code)
    assert await dump(db) == before
    deleted = await logic.delete_by_author(GUILD, ALICE, receipt.code.lower())
    assert deleted.state == "pending" and deleted.message is None
    assert await db.fetchval("SELECT COUNT(*) FROM reflections") == 0


async def test_deleting_a_posted_reflection_returns_its_message(
    logic: Reflections, batches: ReflectionBatches, team: Team, db: Database, clock: ManualClock
) -> None:
    receipts = [await logic.write(team, who, f"from {n}") for n, who in enumerate((1, 2, 3))]
    await post_all(batches, clock, team)
    deleted = await logic.delete_by_author(GUILD, 2, receipts[1].code)
    assert deleted.state == "posted" and deleted.message is not None
    assert deleted.message.channel_id == CHANNEL
    assert await db.fetchval("SELECT COUNT(*) FROM reflections") == 2


async def test_after_the_key_is_replaced_old_receipts_are_said_to_be_unverifiable(
    db: Database, team: Team, clock: ManualClock
) -> None:
    old = Reflections(db, clock, b"o" * 32)
    receipt = await old.write(team, ALICE, "written under the old key")
    new = Reflections(db, clock, b"n" * 32)
    for who, code in ((ALICE, receipt.code), (BOB, receipt.code), (ALICE, "R-33333")):
        with pytest.raises(NotFound) as refused:
            await new.delete_by_author(GUILD, who, code)
        assert str(refused.value) == NEUTRAL_NOT_FOUND_KEY_REPLACED
    # The old key's author boxes can't be opened: together they count as one author, so the
    # same person writing again under the new key is never counted twice.
    await new.write(team, ALICE, "again")
    assert await share(ReflectionBatches(db, clock, b"n" * 32), clock) == []
    # The bot keeps working: new receipts work.
    fresh = await new.write(team, BOB, "new")
    await new.delete_by_author(GUILD, BOB, fresh.code)


# --- hiding and reporting ---------------------------------------------------------------------


async def test_a_manager_hides_by_the_public_code_leaving_a_tombstone(
    logic: Reflections, batches: ReflectionBatches, team: Team, db: Database, clock: ManualClock
) -> None:
    receipts = [await logic.write(team, who, f"text {who}") for who in (ALICE, BOB, CAROL)]
    await post_all(batches, clock, team)
    posted = await logic.shared(team.id)
    target = posted[0]
    await logic.report(GUILD, DAVE, target.id, "rude")
    before = await dump(db)
    with pytest.raises(NotFound):  # a receipt code is never accepted for hiding
        await logic.hide(GUILD, receipts[0].code)
    with pytest.raises(NotFound):
        await logic.hide(OTHER_GUILD, target.ref)
    with pytest.raises(NotFound):
        await logic.hide(GUILD, "??")
    assert await dump(db) == before
    hidden = await logic.hide(GUILD, f"#{target.ref.lower()}")
    assert hidden.message == target.message and hidden.reports_closed == 1
    row = await db.fetchone("SELECT * FROM reflections WHERE id = ?", (target.id,))
    assert row is not None
    assert (row["state"], row["body"], row["about"], row["message_id"]) == (
        "hidden",
        None,
        None,
        None,
    )
    with pytest.raises(Conflict, match="already hidden"):
        await logic.hide(GUILD, target.ref)
    # Its author can still remove the tombstone with the receipt.
    assert target.body is not None
    author = int(target.body.split()[1])
    receipt = receipts[(ALICE, BOB, CAROL).index(author)]
    deleted = await logic.delete_by_author(GUILD, author, receipt.code)
    assert deleted.state == "hidden" and deleted.message is None
    assert await db.fetchval("SELECT COUNT(*) FROM reflections WHERE id = ?", (target.id,)) == 0
    assert [b.count for b in await logic.batches(team.id, clock.now() - timedelta(days=1))] == [2]


async def test_pending_reflections_cannot_be_hidden_by_their_code(
    logic: Reflections, team: Team, db: Database
) -> None:
    await logic.write(team, ALICE, "pending")
    ref = await db.fetchval("SELECT ref FROM reflections")
    with pytest.raises(NotFound):
        await logic.hide(GUILD, ref)


async def test_the_leads_notice_is_due_with_the_report_and_not_before(
    logic: Reflections,
    batches: ReflectionBatches,
    team: Team,
    db: Database,
    clock: ManualClock,
) -> None:
    """Made due in the report's own transaction: made due before it (when the form opened, or
    when it was submitted but not yet written), an outbox pass in between found no report to
    tell of, sent nothing, and closed the notice; the leads never heard of the report."""
    await Teams(db, clock).edit(team.id, lead_channel_id=CHANNEL + 1)
    for who in (ALICE, BOB, CAROL):
        await logic.write(team, who, f"text {who}")
    await post_all(batches, clock, team)
    target = (await logic.shared(team.id))[0]
    await logic.check_reportable(GUILD, DAVE, target.id)  # the form opens
    assert await deliveries(db, NOTICE) == []  # nothing to tell of yet
    await logic.report(GUILD, DAVE, target.id, "Names a colleague")
    [notice] = await deliveries(db, NOTICE)
    assert notice["subject"] == target.id and notice["state"] == "due"
    # Without a lead channel, a report makes no notice.
    await Teams(db, clock).edit(team.id, lead_channel_id=None)
    await db.execute("DELETE FROM deliveries")
    await logic.report(GUILD, ALICE, target.id, "Too personal")
    assert await deliveries(db, NOTICE) == []


async def test_a_report_is_recorded_once_per_reporter_and_never_who(
    logic: Reflections, batches: ReflectionBatches, team: Team, db: Database, clock: ManualClock
) -> None:
    for who in (ALICE, BOB, CAROL):
        await logic.write(team, who, f"text {who}")
    await post_all(batches, clock, team)
    target = (await logic.shared(team.id))[0]
    await logic.check_reportable(GUILD, DAVE, target.id)
    await logic.report(GUILD, DAVE, target.id, "  Names a colleague  ")
    before = await dump(db)
    with pytest.raises(Conflict, match="already reported"):
        await logic.check_reportable(GUILD, DAVE, target.id)
    with pytest.raises(Conflict, match="already reported"):
        await logic.report(GUILD, DAVE, target.id, "again")
    with pytest.raises(InvalidInput):
        await logic.report(GUILD, ALICE, target.id, " \u200b ")
    with pytest.raises(InvalidInput):
        await logic.report(GUILD, ALICE, target.id, "x" * 301)
    with pytest.raises(NotFound):
        await logic.report(OTHER_GUILD, ALICE, target.id, "wrong server")
    assert await dump(db) == before
    await logic.report(GUILD, ALICE, target.id, "Too personal")
    [report] = await logic.open_reports(team.id)
    assert report.ref == target.ref
    assert sorted(report.reasons) == ["Names a colleague", "Too personal"]
    overview = await logic.overview(team.id)
    assert overview.open_reports == (report,) and overview.posted == 3
    # Dismissed: no longer open, and the reflection stays.
    assert await logic.dismiss_reports(GUILD, target.ref) == 2
    assert await logic.open_reports(team.id) == []
    with pytest.raises(NotFound, match="no open reports"):
        await logic.dismiss_reports(GUILD, target.ref)


async def test_a_pending_or_hidden_reflection_cannot_be_reported(
    logic: Reflections, team: Team, db: Database
) -> None:
    await logic.write(team, ALICE, "pending")
    reflection_id = await db.fetchval("SELECT id FROM reflections")
    with pytest.raises(NotFound, match="no longer shown"):
        await logic.report(GUILD, BOB, reflection_id, "why")


# --- privacy of what is stored ----------------------------------------------------------------


@pytest.mark.sqlite_only
async def test_the_database_files_hold_no_member_id_and_no_receipt_code(
    logic: Reflections, batches: ReflectionBatches, team: Team, db: Database, clock: ManualClock
) -> None:
    receipts = []
    for who in (ALICE, BOB, CAROL, ALICE):
        receipts.append(await logic.write(team, who, f"honest words {who % 7}"))
    await post_all(batches, clock, team)
    shown = await logic.shared(team.id)
    await logic.report(GUILD, DAVE, shown[0].id, "report reason")
    await logic.write(team, DAVE, "pending, with its sealed author")
    files = database_files(db.path)
    blobs = b"".join(p.read_bytes() for p in files if p.exists())
    assert blobs, "the database files exist"
    for user in (ALICE, BOB, CAROL, DAVE):
        for pattern in id_patterns(user):
            assert pattern not in blobs
    for receipt in receipts:
        assert receipt.code.encode() not in blobs
        assert receipt.code[2:].encode() not in blobs


async def test_posted_reflections_share_no_value_that_links_one_author(
    logic: Reflections, batches: ReflectionBatches, team: Team, db: Database, clock: ManualClock
) -> None:
    """Alice writes twice in each of two batches; no column value is shared by two of her
    reflections unless someone else's reflection shares it too (team, batch time, channel)."""
    authors: dict[int, int] = {}
    for _ in range(2):
        for who in (ALICE, BOB, ALICE, CAROL):
            await logic.write(team, who, f"reflection number {len(authors)}")
            [new] = {row[0] for row in await db.fetchall("SELECT id FROM reflections")} - set(
                authors
            )
            authors[new] = who
        await post_all(batches, clock, team, first_message=len(authors) * 10)
        clock.advance(hours=2)
    rows = await db.fetchall("SELECT * FROM reflections")
    assert len(rows) == 8 and {r["state"] for r in rows} == {"posted"}
    for column in rows[0].keys():  # noqa: SIM118 (sqlite3.Row)
        by_value: dict[Any, set[int]] = {}
        for row in rows:
            by_value.setdefault(row[column], set()).add(authors[row["id"]])
        for value, who_shares in by_value.items():
            sharing = [r for r in rows if r[column] == value]
            if len(sharing) > 1:
                assert len(who_shares) > 1, f"{column}={value!r} links one author's reflections"


# --- forget-me --------------------------------------------------------------------------------


@pytest.mark.sqlite_only
async def test_forget_member_removes_exactly_that_members_traces(
    logic: Reflections, batches: ReflectionBatches, team: Team, db: Database, clock: ManualClock
) -> None:
    other_team = await Teams(db, clock).create(OTHER_GUILD, "Elsewhere", CHANNEL + 1)
    for who in (ALICE, BOB, CAROL):
        await logic.write(team, who, f"posted {who}")
    await post_all(batches, clock, team)
    await logic.write(team, ALICE, "alice pending")
    await logic.write(team, BOB, "bob pending")
    await logic.write(other_team, ALICE, "alice in another server")
    shown = await logic.shared(team.id)
    bob_reported = shown[0].id
    await logic.report(GUILD, BOB, bob_reported, "bob reports")
    forgotten = await logic.forget_member(GUILD, ALICE)
    assert (forgotten.kind, forgotten.deleted, forgotten.later) == ("reflections", 1, 1)
    bodies = {r[0] for r in await db.fetchall("SELECT body FROM reflections")}
    # Her shared reflection stays until its own random time; her pending one is gone now.
    assert bodies == {
        "posted 310000000000000001",
        "posted 320000000000000002",
        "posted 330000000000000003",
        "bob pending",
        "alice in another server",
    }
    # Running it again queues nothing twice.
    assert (await logic.forget_member(GUILD, ALICE)).deleted == 0
    [erasure] = await deliveries(db, "reflection_erasure")
    # Sealed: the queue doesn't say which reflection it removes.
    assert erasure["subject"] is None and erasure["team_id"] == team.id
    for (reflection_id,) in await db.fetchall("SELECT id FROM reflections"):
        assert str(reflection_id).encode() not in erasure["box"]
        assert reflection_id.to_bytes(8, "big") not in erasure["box"]
    assert 0 < erasure["due_at"] - clock.now().timestamp() <= 24 * 3600
    outbox = batches.outbox
    assert await outbox.due(clock.now()) == []
    clock.set(datetime.fromtimestamp(erasure["due_at"], UTC))
    claimed = await outbox.claim(erasure["id"])
    assert claimed is not None
    message = await batches.to_erase(claimed.box)
    assert message is not None and message.channel_id == CHANNEL  # the post goes first…
    assert len(await db.fetchall("SELECT 1 FROM reflections")) == 5
    assert await outbox.delivered(claimed, Sent(None, CHANNEL))  # …then the row
    bodies = {r[0] for r in await db.fetchall("SELECT body FROM reflections")}
    assert "posted 310000000000000001" not in bodies and len(bodies) == 4
    assert files_containing(database_files(db.path), b"posted 310000000000000001") == []
    assert await deliveries(db, "reflection_erasure") == []


@pytest.mark.sqlite_only
async def test_a_removal_whose_post_is_already_gone_removes_the_row_at_its_time(
    logic: Reflections, batches: ReflectionBatches, team: Team, db: Database, clock: ManualClock
) -> None:
    """Hidden by a manager after /forget-me (a tombstone, no message), or deleted by its author:
    at its time there is nothing to delete in Discord, and nothing of it stays."""
    for who in (ALICE, BOB, CAROL):
        await logic.write(team, who, f"posted {who}")
    await post_all(batches, clock, team)
    await logic.forget_member(GUILD, ALICE)
    ref = await db.fetchval("SELECT ref FROM reflections WHERE body = ?", (f"posted {ALICE}",))
    await logic.hide(GUILD, ref)
    [erasure] = await deliveries(db, "reflection_erasure")
    assert await batches.to_erase(erasure["box"]) is None
    assert await db.fetchval("SELECT count(*) FROM reflections WHERE ref = ?", (ref,)) == 0
    assert files_containing(database_files(db.path), ref.encode()) == []
    assert await batches.to_erase(erasure["box"]) is None  # and again: nothing left


# --- concurrency ------------------------------------------------------------------------------


async def test_many_writers_at_once_are_all_counted_once(
    logic: Reflections, batches: ReflectionBatches, team: Team, db: Database, clock: ManualClock
) -> None:
    await logic.configure(team.id, threshold=10)
    writers = [logic.write(team, 1000 + n % 12, f"note {n}") for n in range(40)]
    receipts = await asyncio.gather(*writers)
    assert len({r.code for r in receipts}) == 40
    assert await share(batches, clock) == [team.id]
    assert len(await deliveries(db)) == 40


def test_codes_are_read_forgivingly() -> None:
    assert parse_receipt("R-7F3KQ") == parse_receipt(" r 7f3kq ") == parse_receipt("7F3KQ")
    assert parse_receipt("R-7F3K0") is None  # 0 is not in the alphabet
    assert parse_ref("#k7q2m") == "K7Q2M"
    assert clean_body(" a \r\n\r\n\r\n b\t") == "a\n\n b"
