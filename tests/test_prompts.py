"""Prompts, feature logic on real SQLite: the bank, rotation, answers, the weekly slots queued in
the outbox and what the outbox tells the feature."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.db import Database
from bot.errors import Conflict, InvalidInput, NotFound
from bot.outbox import Sent
from bot.prompt_answers import MAX_ANSWER_LENGTH
from bot.prompt_bank import NO_PROMPTS, prompt_key, starter_prompts
from bot.prompt_posts import Post
from bot.prompts import Prompts
from bot.schedule import GRACE
from bot.teams import Team, Teams
from tests.support import REFUSED_BY_SCHEMA, prompt_posted
from tests.test_teams import DESK, GUILD, OTHER_GUILD, RECORDS, dump

MONDAY = 0
#: Monday 12 January 2026, 09:30 in London (GMT)
SLOT = datetime(2026, 1, 12, 9, 30, tzinfo=UTC)
ALICE, BOB = 111, 222


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 1, 8, 8, 0, tzinfo=UTC))  # a Thursday


@pytest.fixture
def teams(db: Database, clock: ManualClock) -> Teams:
    return Teams(db, clock)


@pytest.fixture
def prompts(db: Database, clock: ManualClock) -> Prompts:
    return Prompts(db, clock)


@pytest.fixture
async def desk(teams: Teams) -> Team:
    return await teams.create(GUILD, "Front desk", DESK, timezone="Europe/London")


async def posted(prompts: Prompts, team: Team, prompt_id: int | None = None) -> Post:
    queued = await prompts.posts.queue_manual(team.id, prompt_id)
    return await prompt_posted(prompts, queued.post, 70_000 + queued.post.id)


async def deliver(prompts: Prompts, delivery_id: int, sent: Sent) -> bool:
    """One attempt by the outbox's sender that Discord took (what the hooks are told); the first
    is the member's own, made at once."""
    delivery = await prompts.outbox.claim(delivery_id, early=True)
    assert delivery is not None
    return await prompts.outbox.delivered(delivery, sent)


async def refuse(prompts: Prompts, delivery_id: int, reason: str) -> None:
    """One attempt that Discord refused: given up at once."""
    delivery = await prompts.outbox.claim(delivery_id, early=True)
    assert delivery is not None
    assert await prompts.outbox.failed(delivery, reason, retry=False) is None


# -- the bank -------------------------------------------------------------------------------


def test_starter_bank_has_at_least_15_distinct_prompts_within_limits() -> None:
    bank = starter_prompts()
    assert len(bank) >= 15
    assert len({prompt_key(p) for p in bank}) == len(bank)
    assert all(0 < len(p) <= 300 for p in bank)
    assert "What is the difference between a job and a career?" in bank


async def test_each_server_gets_the_starter_bank_once(prompts: Prompts, db: Database) -> None:
    await prompts.bank.ensure_bank(GUILD)
    await prompts.bank.ensure_bank(GUILD)
    page = await prompts.bank.list_page(GUILD)
    assert page.active == len(starter_prompts())
    first = page.prompts[0]
    await prompts.bank.retire(GUILD, first.id)
    await prompts.bank.ensure_bank(GUILD)
    assert (await prompts.bank.list_page(GUILD)).active == len(starter_prompts()) - 1
    # another server has its own bank
    assert (await prompts.bank.list_page(OTHER_GUILD)).active == len(starter_prompts())


async def test_add_and_list_with_pages(prompts: Prompts) -> None:
    added = await prompts.bank.add(GUILD, "  What did   you learn this week? ")
    assert added.prompt.text == "What did you learn this week?"
    assert not added.restored
    page = await prompts.bank.list_page(GUILD, page=1, per_page=10)
    total = len(starter_prompts()) + 1
    assert (page.active, page.pages) == (total, -(-total // 10))
    last = await prompts.bank.list_page(GUILD, page=99, per_page=10)
    assert last.page == page.pages
    assert last.prompts[-1].id == added.prompt.id


async def test_duplicate_prompt_ignoring_case_and_spacing_is_refused(
    prompts: Prompts, db: Database
) -> None:
    await prompts.bank.add(GUILD, "Who notices the work you do?")
    before = await dump(db)
    with pytest.raises(Conflict, match="already has this prompt"):
        await prompts.bank.add(GUILD, "who  NOTICES the work  you do ?")
    with pytest.raises(Conflict):
        await prompts.bank.add(GUILD, "what is the difference between a job and a career?")
    assert await dump(db) == before


async def test_prompt_text_over_300_or_empty_is_refused_and_changes_nothing(
    prompts: Prompts, db: Database
) -> None:
    await prompts.bank.ensure_bank(GUILD)
    before = await dump(db)
    with pytest.raises(InvalidInput, match="at most 300 characters; this one has 301"):
        await prompts.bank.add(GUILD, "x" * 301)
    with pytest.raises(InvalidInput, match="needs some text"):
        await prompts.bank.add(GUILD, "   \n ")
    assert await dump(db) == before
    assert len((await prompts.bank.add(GUILD, "y" * 300)).prompt.text) == 300


async def test_retire_unknown_or_other_servers_prompt_is_refused(
    prompts: Prompts, db: Database
) -> None:
    await prompts.bank.ensure_bank(GUILD)
    await prompts.bank.ensure_bank(OTHER_GUILD)
    theirs = (await prompts.bank.list_page(OTHER_GUILD)).prompts[0]
    before = await dump(db)
    with pytest.raises(NotFound, match="no prompt #9999"):
        await prompts.bank.retire(GUILD, 9999)
    with pytest.raises(NotFound):
        await prompts.bank.retire(GUILD, theirs.id)
    assert await dump(db) == before


async def test_retired_prompt_stays_in_history_and_comes_back_when_added_again(
    prompts: Prompts, desk: Team
) -> None:
    added = await prompts.bank.add(GUILD, "Who notices the work you do?")
    post = await posted(prompts, desk, added.prompt.id)
    retired = await prompts.bank.retire(GUILD, added.prompt.id)
    assert not retired.active
    assert retired.times_asked == 1
    with pytest.raises(Conflict, match="already retired"):
        await prompts.bank.retire(GUILD, added.prompt.id)
    assert (
        await prompts.posts.get_post(GUILD, post.id)
    ).prompt_text == "Who notices the work you do?"
    assert added.prompt.id not in [p.id for p in await prompts.bank.search(GUILD, "notices")]
    with pytest.raises(InvalidInput, match="retired"):
        await prompts.posts.queue_manual(desk.id, added.prompt.id)
    again = await prompts.bank.add(GUILD, "who notices the work you do?")
    assert again.restored
    assert again.prompt.id == added.prompt.id


async def test_search_by_text_or_id(prompts: Prompts) -> None:
    found = await prompts.bank.search(GUILD, "résumé")
    assert found
    assert all("résumé" in p.text for p in found)
    assert (await prompts.bank.search(GUILD, str(found[0].id)))[0].id == found[0].id


# -- rotation -------------------------------------------------------------------------------


async def test_rotation_asks_every_prompt_once_before_a_repeat(
    db: Database, clock: ManualClock, teams: Teams
) -> None:
    bank = ("First?", "Second?", "Third?", "Fourth?")
    prompts = Prompts(db, clock, starter=bank)
    desk = await teams.create(GUILD, "Front desk", DESK)
    records = await teams.create(GUILD, "Records", RECORDS)
    posts = [await posted(prompts, desk) for _ in bank]
    assert sorted(p.prompt_text for p in posts) == sorted(bank)
    assert all(p.repeat_of is None for p in posts)
    repeat = await posted(prompts, desk)
    assert repeat.prompt_id == posts[0].prompt_id
    assert repeat.repeat_of == posts[0].id
    assert repeat.repeat_of_posted_at == posts[0].posted_at
    # another team's rotation is its own
    assert (await posted(prompts, records)).repeat_of is None
    # a new prompt, never asked, comes next; a retired one is skipped
    new = await prompts.bank.add(GUILD, "Fifth?")
    await prompts.bank.retire(GUILD, posts[1].prompt_id)
    following = [await posted(prompts, desk) for _ in range(3)]
    assert [p.prompt_text for p in following] == [
        "Fifth?",
        posts[2].prompt_text,
        posts[3].prompt_text,
    ]
    assert following[0].prompt_id == new.prompt.id


async def test_failed_posts_do_not_count_in_rotation(
    prompts: Prompts, desk: Team, db: Database
) -> None:
    failed = await prompts.posts.queue_manual(desk.id, None)
    await refuse(prompts, failed.delivery_id, "Discord refused it (400: bad).")
    row = await db.fetchone("SELECT state, error FROM prompt_posts WHERE id = ?", (failed.post.id,))
    assert row is not None and tuple(row) == ("failed", "Discord refused it (400: bad).")
    again = await prompts.posts.queue_manual(desk.id, None)
    assert again.post.prompt_id == failed.post.prompt_id
    with pytest.raises(NotFound, match="no prompt post"):
        await prompts.posts.get_post(GUILD, failed.post.id)


async def test_posting_with_an_empty_bank_is_a_clear_error(
    db: Database, clock: ManualClock, teams: Teams
) -> None:
    prompts = Prompts(db, clock, starter=("Only?",))
    desk = await teams.create(GUILD, "Front desk", DESK)
    only = (await prompts.bank.list_page(GUILD)).prompts[0]
    await prompts.bank.retire(GUILD, only.id)
    before = await dump(db)
    with pytest.raises(NotFound, match="no active prompts"):
        await prompts.posts.queue_manual(desk.id, None)
    with pytest.raises(NotFound, match="no prompt #424242"):
        await prompts.posts.queue_manual(desk.id, 424242)
    assert await dump(db) == before


# -- answers --------------------------------------------------------------------------------


async def test_answering_again_replaces_the_one_stored_answer(
    prompts: Prompts, desk: Team, db: Database, clock: ManualClock
) -> None:
    post = await posted(prompts, desk)
    first = await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "A job is a car.")
    assert not first.replaced
    assert await deliver(prompts, first.delivery_id, Sent(5555, 8080, 8080))
    clock.advance(minutes=5)
    second = await prompts.answers.save_answer(
        GUILD, post.id, ALICE, "Alice B", "  A job is a\n\n\n bus. "
    )
    assert second.replaced
    assert second.answer.id == first.answer.id
    assert second.answer.text == "A job is a\n\n bus."
    assert second.answer.message_id == 5555
    assert second.answer.display_name == "Alice B"
    assert second.answer.answered_at == first.answer.answered_at
    assert second.answer.edited_at == clock.now().replace(microsecond=0)
    await prompts.answers.save_answer(GUILD, post.id, BOB, "bob", "A career is a house.")
    listed = await prompts.answers.for_post(GUILD, post.id)
    assert listed.count == 2
    assert [a.display_name for a in listed.answers] == ["Alice B", "bob"]
    assert await db.fetchval("SELECT COUNT(*) FROM prompt_answers") == 2


async def test_empty_or_too_long_answer_is_refused_and_changes_nothing(
    prompts: Prompts, desk: Team, db: Database
) -> None:
    post = await posted(prompts, desk)
    await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "Kept.")
    before = await dump(db)
    with pytest.raises(InvalidInput, match="empty"):
        await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", " \n ")
    with pytest.raises(InvalidInput, match="at most 1000 characters; yours has 1001"):
        await prompts.answers.save_answer(
            GUILD, post.id, ALICE, "alice", "x" * (MAX_ANSWER_LENGTH + 1)
        )
    assert await dump(db) == before


async def test_answer_to_unknown_or_other_servers_post_is_refused(
    prompts: Prompts, teams: Teams, desk: Team, db: Database
) -> None:
    theirs = await teams.create(OTHER_GUILD, "Mailroom", 900)
    their_post = await posted(prompts, theirs)
    before = await dump(db)
    for post_id in (their_post.id, 999_999):
        with pytest.raises(NotFound):
            await prompts.answers.save_answer(GUILD, post_id, ALICE, "alice", "Hi")
        with pytest.raises(NotFound):
            await prompts.answers.answer_form(GUILD, post_id, ALICE)
        with pytest.raises(NotFound):
            await prompts.answers.for_post(GUILD, post_id)
    assert await dump(db) == before


async def test_a_repeat_remembers_the_members_previous_answer(
    db: Database, clock: ManualClock, teams: Teams
) -> None:
    prompts = Prompts(db, clock, starter=("Job or career?", "Car or home?"))
    desk = await teams.create(GUILD, "Front desk", DESK)
    first = await posted(prompts, desk)
    await prompts.answers.save_answer(GUILD, first.id, ALICE, "alice", "A job, for now.")
    form = await prompts.answers.answer_form(GUILD, first.id, ALICE)
    assert form.current is not None and form.current.text == "A job, for now."
    assert form.previous is None
    await posted(prompts, desk)
    repeat = await posted(prompts, desk)
    assert repeat.repeat_of == first.id
    form = await prompts.answers.answer_form(GUILD, repeat.id, ALICE)
    assert form.current is None
    assert form.previous is not None and form.previous.text == "A job, for now."
    # bob never answered it: nothing to remind him of
    assert (await prompts.answers.answer_form(GUILD, repeat.id, BOB)).previous is None


async def test_forget_member_deletes_their_answers_in_that_server_only(
    prompts: Prompts, teams: Teams, desk: Team, db: Database
) -> None:
    post = await posted(prompts, desk)
    mine = await prompts.answers.save_answer(GUILD, post.id, ALICE, "alice", "Mine.")
    # the first answer's attempt opened the post's thread
    assert await deliver(prompts, mine.delivery_id, Sent(5151, 8080, thread_id=8080))
    assert (await prompts.posts.get_post(GUILD, post.id)).thread_id == 8080
    await prompts.answers.save_answer(GUILD, post.id, BOB, "bob", "Bob's.")
    elsewhere = await teams.create(OTHER_GUILD, "Mailroom", 900)
    other_post = await posted(prompts, elsewhere)
    await prompts.answers.save_answer(OTHER_GUILD, other_post.id, ALICE, "alice", "Elsewhere.")

    done = await prompts.answers.forget_member(GUILD, ALICE)
    assert (done.kind, done.deleted, done.posts) == ("answers", 1, ((8080, 5151),))
    rows = await db.fetchall("SELECT post_id, user_id FROM prompt_answers ORDER BY id")
    assert [tuple(r) for r in rows] == [(post.id, BOB), (other_post.id, ALICE)]
    again = await prompts.answers.forget_member(GUILD, ALICE)
    assert (again.deleted, again.posts) == (0, ())


# -- the weekly schedule --------------------------------------------------------------------


async def scheduled(teams: Teams, team: Team, clock: ManualClock) -> None:
    await teams.set_schedule(team.id, MONDAY, "09:30")
    assert clock.now() < SLOT


async def test_a_slot_is_queued_once_even_by_racing_passes(
    prompts: Prompts, teams: Teams, desk: Team, clock: ManualClock, db: Database
) -> None:
    await scheduled(teams, desk, clock)
    assert await prompts.weekly.queue_due(SLOT - timedelta(seconds=1)) == []
    assert await prompts.next_due(clock.now()) == SLOT
    clock.set(SLOT)
    results = await asyncio.gather(
        prompts.weekly.queue_due(SLOT),
        prompts.weekly.queue_due(SLOT),
        prompts.weekly.queue_due(SLOT),
    )
    [post] = [p for ps in results for p in ps]
    assert (post.slot_at, post.state) == (SLOT, "sending")
    # its delivery is in the outbox, given up if not in Discord 12 hours after the slot
    [delivery] = await db.fetchall("SELECT kind, subject, team_id, deadline FROM deliveries")
    assert tuple(delivery) == ("prompt_post", post.id, desk.id, int((SLOT + GRACE).timestamp()))
    # a later pass (or a restart: a new run) after the post went out queues nothing either
    delivery_id = await prompts.outbox.pending("prompt_post", post.id)
    assert delivery_id is not None
    assert await deliver(prompts, delivery_id, Sent(1234, DESK, thread_id=1234))
    clock.advance(minutes=10)
    assert await prompts.weekly.queue_due(clock.now()) == []
    assert await db.fetchval("SELECT COUNT(*) FROM prompt_posts") == 1
    assert await db.fetchval("SELECT COUNT(*) FROM deliveries") == 0
    assert await prompts.next_due(clock.now()) == SLOT + timedelta(days=7)


async def test_the_unique_constraint_refuses_a_second_post_of_a_slot(
    prompts: Prompts, desk: Team, db: Database
) -> None:
    row = (
        "INSERT INTO prompt_posts (team_id, prompt_id, slot_at, state, claimed_at, channel_id)"
        " VALUES (?, ?, ?, 'sending', 0, ?)"
    )
    await prompts.bank.ensure_bank(GUILD)
    prompt_id = (await prompts.bank.list_page(GUILD)).prompts[0].id
    await db.execute(row, (desk.id, prompt_id, int(SLOT.timestamp()), DESK))
    with pytest.raises(REFUSED_BY_SCHEMA):
        await db.execute(row, (desk.id, prompt_id, int(SLOT.timestamp()), DESK))


async def test_a_missed_slot_under_12_hours_late_is_posted_older_is_skipped(
    prompts: Prompts, teams: Teams, desk: Team, clock: ManualClock
) -> None:
    await scheduled(teams, desk, clock)
    late = SLOT + GRACE - timedelta(minutes=1)
    clock.set(late)
    queued = await prompts.weekly.queue_due(late)
    assert [p.slot_at for p in queued] == [SLOT]

    next_week = SLOT + timedelta(days=7)
    clock.set(next_week + GRACE)
    assert await prompts.weekly.queue_due(clock.now()) == []
    assert await prompts.next_due(clock.now()) == next_week + timedelta(days=7)


async def test_setting_a_schedule_after_its_time_starts_next_week(
    prompts: Prompts, teams: Teams, desk: Team, clock: ManualClock
) -> None:
    clock.set(SLOT + timedelta(minutes=5))
    await teams.set_schedule(desk.id, MONDAY, "09:30")
    assert await prompts.weekly.queue_due(clock.now()) == []
    assert await prompts.next_due(clock.now()) == SLOT + timedelta(days=7)


async def test_a_given_up_post_is_reported_and_other_teams_still_post(
    prompts: Prompts, teams: Teams, desk: Team, clock: ManualClock, db: Database
) -> None:
    records = await teams.create(GUILD, "Records", RECORDS, timezone="Europe/London")
    await scheduled(teams, desk, clock)
    await scheduled(teams, records, clock)
    clock.set(SLOT)
    queued = await prompts.weekly.queue_due(SLOT)
    by_team = {p.team_id: p for p in queued}
    assert sorted(by_team) == [desk.id, records.id]
    desks = await prompts.outbox.pending("prompt_post", by_team[desk.id].id)
    records_post = await prompts.outbox.pending("prompt_post", by_team[records.id].id)
    assert desks is not None and records_post is not None
    await refuse(prompts, desks, "No permission.")
    # the team moved to another channel meanwhile: the post is recorded where it went
    assert await deliver(prompts, records_post, Sent(99, 4242, thread_id=99))
    assert (await teams.get(desk.id)).last_post_error == "No permission."
    assert (await teams.get(records.id)).last_post_error is None
    out = await prompts.posts.get_post(GUILD, by_team[records.id].id)
    assert (out.state, out.message_id, out.channel_id, out.thread_id) == ("posted", 99, 4242, 99)
    assert out.posted_at == SLOT
    # a post by hand that fails leaves the team's scheduled-post report alone
    manual = await prompts.posts.queue_manual(records.id, None)
    await refuse(prompts, manual.delivery_id, "Refused by hand.")
    assert (await teams.get(records.id)).last_post_error is None
    # a later good post clears the team's error
    later = await prompts.posts.queue_manual(desk.id, None)
    assert await deliver(prompts, later.delivery_id, Sent(100, DESK))
    assert (await teams.get(desk.id)).last_post_error is None


async def test_a_post_still_failing_at_its_deadline_reports_the_last_reason(
    prompts: Prompts, teams: Teams, desk: Team, clock: ManualClock
) -> None:
    await scheduled(teams, desk, clock)
    clock.set(SLOT)
    [post] = await prompts.weekly.queue_due(SLOT)
    delivery_id = await prompts.outbox.pending("prompt_post", post.id)
    assert delivery_id is not None
    clock.set(SLOT + GRACE - timedelta(seconds=10))
    delivery = await prompts.outbox.claim(delivery_id)
    assert delivery is not None
    reason = "Discord had a problem (503)."
    assert await prompts.outbox.failed(delivery, reason, retry=True) is None  # past the deadline
    assert (await teams.get(desk.id)).last_post_error == "Discord had a problem (503)."


async def test_a_post_whose_team_was_deleted_during_its_attempt_is_undone(
    prompts: Prompts, teams: Teams, desk: Team
) -> None:
    queued = await prompts.posts.queue_manual(desk.id, None)
    delivery = await prompts.outbox.claim(queued.delivery_id, early=True)
    assert delivery is not None
    await teams.delete(desk.id)
    assert await prompts.posts.to_send(queued.post.id) is None  # nothing to send any more
    # Discord took it meanwhile: False, so the sender deletes the message
    assert not await prompts.outbox.delivered(delivery, Sent(5, DESK))


async def test_an_empty_bank_is_reported_and_the_slot_waits_within_grace(
    db: Database, clock: ManualClock, teams: Teams
) -> None:
    prompts = Prompts(db, clock, starter=("Only?",))
    desk = await teams.create(GUILD, "Front desk", DESK, timezone="Europe/London")
    await scheduled(teams, desk, clock)
    only = (await prompts.bank.list_page(GUILD)).prompts[0]
    await prompts.bank.retire(GUILD, only.id)
    clock.set(SLOT)
    assert await prompts.weekly.queue_due(SLOT) == []
    assert (await teams.get(desk.id)).last_post_error == NO_PROMPTS
    assert await db.fetchval("SELECT COUNT(*) FROM deliveries") == 0
    await prompts.bank.add(GUILD, "Only?")
    clock.advance(hours=1)
    [post] = await prompts.weekly.queue_due(clock.now())
    assert post.slot_at == SLOT
