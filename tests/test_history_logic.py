"""bot/history.py on a real SQLite file, with data made through the features' own classes."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.db import Database
from bot.errors import InvalidInput
from bot.history import History, PollEntry, Timeline, window
from bot.poll_model import Poll
from bot.polls import Polls
from bot.prompts import Prompts
from bot.reflections import Reflections
from bot.teams import Team, Teams
from tests.support import click, poll_posted, prompt_posted, share_and_post

GUILD = 7001
KEY = b"k" * 32
USERS = [10**17 + n for n in range(10)]


@dataclasses.dataclass
class Env:
    db: Database
    clock: ManualClock
    team: Team
    prompts: Prompts
    polls: Polls
    reflections: Reflections
    history: History
    messages: int = 5000

    def next_message(self) -> int:
        self.messages += 1
        return self.messages

    async def post(self, prompt_id: int | None = None, answers: int = 0) -> int:
        claimed = (await self.prompts.posts.queue_manual(self.team.id, prompt_id)).post
        await prompt_posted(self.prompts, claimed, self.next_message())
        for user in USERS[:answers]:
            await self.prompts.answers.save_answer(GUILD, claimed.id, user, f"u{user}", "an answer")
        return claimed.id

    async def poll(
        self, votes: list[int], rerun_of: int | None = None, close: bool = True, **flags: bool
    ) -> Poll:
        if rerun_of is None:
            poll = await self.polls.create(
                self.team, USERS[0], "Job or career?", "Job|Career|Both", **flags
            )
        else:
            poll = await self.polls.runs.rerun(rerun_of, GUILD, USERS[0])
        await poll_posted(self.polls, poll.id, self.team.channel_id, self.next_message())
        for user, option in zip(USERS, votes, strict=False):
            await click(self.polls, poll.id, poll.options[option].id, GUILD, user)
        if close:
            await self.polls.closing.close(poll.id, GUILD, USERS[0], True)
        return await self.polls.get(poll.id)

    async def share_reflections(self, authors: int) -> None:
        for user in USERS[:authors]:
            await self.reflections.write(self.team, user, f"a thought of {user}")
        await share_and_post(
            self.db,
            self.clock,
            KEY,
            self.team.id,
            self.team.channel_id,
            10**6 + self.next_message(),
        )


@pytest.fixture
async def env(database: Path | str) -> AsyncIterator[Env]:
    db = await Database.open(database)
    clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))  # a Monday
    team = await Teams(db, clock).create(GUILD, "Front desk", 555, timezone="Europe/London")
    prompts = Prompts(db, clock, starter=("First prompt?", "Second prompt?", "Third prompt?"))
    await prompts.bank.ensure_bank(GUILD)
    yield Env(
        db,
        clock,
        team,
        prompts,
        polls := Polls(db, clock, KEY),
        reflections := Reflections(db, clock, KEY),
        History(db, clock, prompts, polls, reflections),
    )
    await db.close()


def all_polls(timeline: Timeline) -> list[PollEntry]:
    return [entry for week in timeline.weeks for entry in week.polls]


async def test_window_is_whole_team_local_weeks_with_the_current_one(env: Env) -> None:
    auckland = dataclasses.replace(env.team, timezone="Pacific/Auckland")
    # Sunday 4 January 20:00 UTC is Monday 5 January 09:00 in Auckland (UTC+13).
    since, mondays = window(datetime(2026, 1, 4, 20, 0, tzinfo=UTC), 3, auckland)
    assert mondays == [date(2025, 12, 22), date(2025, 12, 29), date(2026, 1, 5)]
    assert since == datetime(2025, 12, 21, 11, 0, tzinfo=UTC)  # Monday 22nd, 00:00 NZDT
    since, mondays = window(datetime(2026, 1, 4, 20, 0, tzinfo=UTC), 1, env.team)
    assert mondays == [date(2025, 12, 29)]  # still Sunday in London


async def test_entries_fall_in_their_weeks_and_old_ones_are_left_out(env: Env) -> None:
    for week in range(5):
        env.clock.set(datetime(2026, 1, 5, 9, 0, tzinfo=UTC) + timedelta(weeks=week))
        await env.post(answers=week)
    timeline = await env.history.timeline(env.team, weeks=3)
    assert [w.start for w in timeline.weeks] == [
        date(2026, 1, 19),
        date(2026, 1, 26),
        date(2026, 2, 2),
    ]
    assert [[e.answers for e in w.prompts] for w in timeline.weeks] == [[2], [3], [4]]
    assert timeline.answers_per_week == [
        (date(2026, 1, 19), 2),
        (date(2026, 1, 26), 3),
        (date(2026, 2, 2), 4),
    ]
    assert (timeline.prompt_count, timeline.answer_count) == (3, 9)


async def test_a_repeat_carries_the_answers_of_the_last_time_even_outside_the_window(
    env: Env,
) -> None:
    first = await env.post(answers=3)
    prompt_id = (await env.prompts.posts.get_post(GUILD, first)).prompt_id
    env.clock.advance(weeks=1)
    await env.post(answers=1)  # another prompt in between
    env.clock.advance(weeks=8)
    again = await env.post(prompt_id=prompt_id, answers=2)
    timeline = await env.history.timeline(env.team, weeks=1)
    [entry] = timeline.weeks[-1].prompts
    assert entry.post.id == again and entry.post.repeat_of == first
    assert (entry.answers, entry.previous_answers) == (2, 3)
    assert entry.post.repeat_of_posted_at == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def test_a_repeat_carries_the_words_used_more_or_less_and_no_name(env: Env) -> None:
    said_then = [
        ("Priya Shah", "A job pays the bills, nothing more."),
        ("Tom", "Honestly, the job pays the bills. Priya agrees!"),
        ("Ana", "A job pays the bills; the team makes it fun."),
    ]
    said_now = [
        ("Priya Shah", "I see a career path now, thanks to the training."),
        ("Tom", "Career path! Shah's training on records helped."),
        ("Ben", "Still a job, but the training is great. Thanks Tom."),
        ("Ana", "The training, and a career path in the office."),
    ]
    first = await env.post()
    for user, (name, text) in zip(USERS, said_then, strict=False):
        await env.prompts.answers.save_answer(GUILD, first, user, name, text)
    prompt_id = (await env.prompts.posts.get_post(GUILD, first)).prompt_id
    env.clock.advance(weeks=3)
    again = await env.post(prompt_id=prompt_id)
    for user, (name, text) in zip(USERS, said_now, strict=False):
        await env.prompts.answers.save_answer(GUILD, again, user, name, text)
    timeline = await env.history.timeline(env.team, weeks=4)
    entries = [e for week in timeline.weeks for e in week.prompts]
    assert [(e.post.id, e.previous_answers) for e in entries] == [(first, None), (again, 3)]
    assert entries[0].words is None  # a first asking: nothing to compare with
    words = entries[1].words
    assert words is not None and words.language == "en"
    assert (words.answers_before, words.answers_after) == (3, 4)
    assert [(c.phrase, c.before, c.after) for c in words.more] == [
        ("training", 0, 4),
        ("career path", 0, 3),
        ("thanks", 0, 2),
    ]
    # "job" (3 answers, then 1) is told by "job pays"; ties in alphabetical order
    assert [(c.phrase, c.before, c.after) for c in words.less] == [
        ("bills", 3, 0),
        ("job pays", 3, 0),
    ]
    # "Priya", "Shah" and "Tom" were each written twice, but they are names of who answered
    shown = {w for c in (*words.more, *words.less) for w in c.phrase.split()}
    assert not shown & {"priya", "shah", "tom", "ana", "ben"}


async def test_a_rerun_poll_is_compared_with_its_previous_run(env: Env) -> None:
    first = await env.poll([0, 1, 1])  # Job, Career, Career
    env.clock.advance(weeks=2)
    second = await env.poll([1, 1, 2, 2], rerun_of=first.id)  # Career ×2, Both ×2
    timeline = await env.history.timeline(env.team, weeks=4)
    entries = all_polls(timeline)
    assert [(e.poll.id, e.run_number) for e in entries] == [(first.id, 1), (second.id, 2)]
    rerun = entries[1]
    assert rerun.previous is not None and rerun.previous.poll_id == first.id
    assert [(c.label, c.before, c.after, c.points) for c in rerun.changes] == [
        ("Job", 33, 0, -33),
        ("Career", 67, 50, -17),
        ("Both", 0, 50, 50),
    ]
    [series] = timeline.series
    assert [r.poll_id for r in series.runs] == [first.id, second.id]
    assert series.question == "Job or career?"


async def test_hidden_results_of_an_open_poll_are_not_in_the_timeline(env: Env) -> None:
    first = await env.poll([0, 1], hide_results=True)
    second = await env.poll([2, 2], rerun_of=first.id, close=False)
    timeline = await env.history.timeline(env.team)
    closed, still_open = all_polls(timeline)
    assert closed.results_visible and not still_open.results_visible
    assert still_open.changes == ()  # nothing of the hidden run's counts
    assert timeline.series == ()  # one public run only: no chart
    # Once it closes, everything shows.
    await env.polls.closing.close(second.id, GUILD, USERS[0], True)
    timeline = await env.history.timeline(env.team)
    assert all_polls(timeline)[1].changes
    assert len(timeline.series[0].runs) == 2


async def test_reflections_are_counted_per_week_and_pending_ones_not_at_all(env: Env) -> None:
    await env.share_reflections(3)
    env.clock.advance(weeks=1)
    await env.share_reflections(4)
    await env.reflections.write(env.team, USERS[0], "still waiting")  # pending
    timeline = await env.history.timeline(env.team, weeks=2)
    assert [w.reflections for w in timeline.weeks] == [3, 4]
    assert timeline.reflection_count == 7


async def test_weeks_out_of_range_are_refused(env: Env) -> None:
    for weeks in (0, 53, -1):
        with pytest.raises(InvalidInput, match="from 1 to 52"):
            await env.history.timeline(env.team, weeks=weeks)


async def test_another_teams_entries_never_appear(env: Env) -> None:
    other = await Teams(env.db, env.clock).create(GUILD, "Mail room", 556)
    claimed = (await env.prompts.posts.queue_manual(other.id, None)).post
    await prompt_posted(env.prompts, claimed, 1)
    other_poll = await env.polls.create(other, USERS[0], "Other?", "a|b")
    await poll_posted(env.polls, other_poll.id, 556, 2)
    await env.post(answers=1)
    timeline = await env.history.timeline(env.team)
    assert timeline.prompt_count == 1 and timeline.poll_count == 0


async def test_the_weekly_chart_starts_with_a_team_younger_than_the_window(env: Env) -> None:
    # Sunday 18 January 20:00 UTC is already Monday 19 January 09:00 in Auckland.
    env.clock.set(datetime(2026, 1, 18, 20, 0, tzinfo=UTC))
    young = await Teams(env.db, env.clock).create(
        GUILD, "Night shift", 557, timezone="Pacific/Auckland"
    )
    for week in range(3):
        env.clock.set(datetime(2026, 1, 18, 21, 0, tzinfo=UTC) + timedelta(weeks=week))
        claimed = (await env.prompts.posts.queue_manual(young.id, None)).post
        await prompt_posted(env.prompts, claimed, env.next_message())
        for user in USERS[: week + 1]:
            await env.prompts.answers.save_answer(GUILD, claimed.id, user, f"u{user}", "an answer")
    timeline = await env.history.timeline(young, weeks=8)
    assert len(timeline.weeks) == 8 and timeline.weeks[0].start == date(2025, 12, 15)
    assert timeline.first_week == date(2026, 1, 19)  # the team's own Monday, in its zone
    assert timeline.answers_per_week == [
        (date(2026, 1, 19), 1),
        (date(2026, 1, 26), 2),
        (date(2026, 2, 2), 3),
    ]
    # a team older than the window: the window's weeks, empty ones included
    env.clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    older = await env.history.timeline(env.team, weeks=4)
    assert [start for start, _ in older.answers_per_week] == [
        date(2026, 2, 9),
        date(2026, 2, 16),
        date(2026, 2, 23),
        date(2026, 3, 2),
    ]
