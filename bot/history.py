"""`/history`: a team's timeline, week by week — prompts asked (with answer counts), polls (with
results), reflections shared (counts only) — and the comparisons that make a repeat worth asking:
a repeated prompt beside the last time it was asked, a re-run poll beside its previous run.

Feature logic only: plain async Python, nothing from discord. It reads through the public
functions of prompts, polls and reflections, so their rules (what is posted, what is hidden)
stay theirs. What anyone may see and nothing more: no reflection author, no voter of any poll,
no counts of a poll whose results are hidden until it closes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from bot import history_words
from bot.clock import Clock
from bot.db import Database
from bot.errors import InvalidInput
from bot.i18n import _
from bot.poll_model import OptionChange, Poll, PollRun, compare_runs
from bot.polls import Polls
from bot.prompt_answers import Answer
from bot.prompt_posts import Post
from bot.prompts import Prompts
from bot.reflection_moderation import ReflectionModeration
from bot.teams import Team
from bot.wording import WordShift

DEFAULT_WEEKS = 8
MAX_WEEKS = 52
#: how many posts of a team are read at most (a year of weekly posts many times over)
MAX_POSTS = 5000


@dataclass(frozen=True, slots=True)
class PromptEntry:
    post: Post
    answers: int
    #: when the prompt is a repeat: how many answered the previous time it was asked
    previous_answers: int | None = None
    #: when the prompt is a repeat: the words the team used more or less than the previous time
    words: WordShift | None = None

    @property
    def when(self) -> datetime:
        assert self.post.posted_at is not None
        return self.post.posted_at


@dataclass(frozen=True, slots=True)
class PollEntry:
    poll: Poll
    #: the counts may be shown to anyone (closed, or not hidden until close)
    results_visible: bool
    #: 1 for a first asking; n for the n-th run of a re-run question
    run_number: int = 1
    #: the run just before this one, and the change per option (when both may be shown)
    previous: PollRun | None = None
    changes: tuple[OptionChange, ...] = ()

    @property
    def when(self) -> datetime:
        return self.poll.created_at

    @property
    def is_rerun(self) -> bool:
        return self.run_number > 1


@dataclass(frozen=True, slots=True)
class Week:
    #: Monday of the week, in the team's timezone
    start: date
    prompts: tuple[PromptEntry, ...] = ()
    polls: tuple[PollEntry, ...] = ()
    #: reflections shared that week (posted, or since hidden): a count, nothing else
    reflections: int = 0

    @property
    def empty(self) -> bool:
        return not (self.prompts or self.polls or self.reflections)

    @property
    def answers(self) -> int:
        return sum(entry.answers for entry in self.prompts)


@dataclass(frozen=True, slots=True)
class RunSeries:
    """A re-run question's runs whose results are public, for the share-across-runs chart."""

    question: str
    runs: tuple[PollRun, ...]


@dataclass(frozen=True, slots=True)
class Timeline:
    team: Team
    weeks_asked: int
    since: datetime
    until: datetime
    #: oldest first, one per calendar week of the window (empty weeks included)
    weeks: tuple[Week, ...]
    series: tuple[RunSeries, ...] = field(default=())

    @property
    def prompt_count(self) -> int:
        return sum(len(w.prompts) for w in self.weeks)

    @property
    def poll_count(self) -> int:
        return sum(len(w.polls) for w in self.weeks)

    @property
    def answer_count(self) -> int:
        return sum(w.answers for w in self.weeks)

    @property
    def reflection_count(self) -> int:
        return sum(w.reflections for w in self.weeks)

    @property
    def first_week(self) -> date:
        """The window's first Monday, or the team's first week when the team is younger."""
        return max(self.weeks[0].start, min(self.weeks[-1].start, week_start_of_team(self.team)))

    @property
    def answers_per_week(self) -> list[tuple[date, int]]:
        """Week by week since the first week: none from before the team existed."""
        return [(w.start, w.answers) for w in self.weeks if w.start >= self.first_week]

    @property
    def empty(self) -> bool:
        return all(w.empty for w in self.weeks)


def _word_shifts(pairs: list[tuple[list[Answer], list[Answer]]], team: Team) -> list[WordShift]:
    """Each repeat's words used more or less than the last time, never a name of who answered."""
    shifts = []
    for then, now in pairs:
        names = [answer.display_name for answer in (*then, *now)]
        before, after = [a.text for a in then], [a.text for a in now]
        # the team's language names the stop words to leave out (a hint: see bot/wording.py)
        shifts.append(history_words.shift(before, after, exclude=names, language=team.language))
    return shifts


def validate_weeks(weeks: int) -> int:
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput(
            _("Pick how many weeks to look back: from 1 to {weeks}.", weeks=MAX_WEEKS)
        )
    return weeks


def week_start(moment: datetime, team: Team) -> date:
    """Monday of the team-local week that `moment` falls in."""
    local = moment.astimezone(team.zone).date()
    return local - timedelta(days=local.weekday())


def week_start_of_team(team: Team) -> date:
    """Monday of the week the team was created in (its own timezone)."""
    return week_start(team.created_at, team)


def window(until: datetime, weeks: int, team: Team) -> tuple[datetime, list[date]]:
    """The start of the window (Monday 00:00 team time, `weeks` calendar weeks back, the current
    week included) and the Mondays of those weeks."""
    last = week_start(until, team)
    mondays = [last - timedelta(weeks=n) for n in reversed(range(weeks))]
    since = datetime.combine(mondays[0], time(0), tzinfo=team.zone).astimezone(UTC)
    return since, mondays


class History:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        prompts: Prompts,
        polls: Polls,
        reflections: ReflectionModeration,
    ) -> None:
        self.db = db
        self.clock = clock
        self.prompts = prompts
        self.polls = polls
        self.reflections = reflections

    async def timeline(
        self, team: Team, weeks: int = DEFAULT_WEEKS, until: datetime | None = None
    ) -> Timeline:
        """The team's last `weeks` calendar weeks up to `until` (default now)."""
        weeks = validate_weeks(weeks)
        until = until or self.clock.now()
        since, mondays = window(until, weeks, team)
        prompts = await self._prompt_entries(team, since, until)
        polls, series = await self._poll_entries(team, since, until)
        shared: dict[date, int] = {}
        for batch in await self.reflections.batches(team.id, since):
            if batch.posted_at <= until:
                start = week_start(batch.posted_at, team)
                shared[start] = shared.get(start, 0) + batch.count
        built = []
        for monday in mondays:
            built.append(
                Week(
                    start=monday,
                    prompts=tuple(e for e in prompts if week_start(e.when, team) == monday),
                    polls=tuple(e for e in polls if week_start(e.when, team) == monday),
                    reflections=shared.get(monday, 0),
                )
            )
        return Timeline(team, weeks, since, until, tuple(built), tuple(series))

    async def _prompt_entries(
        self, team: Team, since: datetime, until: datetime
    ) -> list[PromptEntry]:
        every = await self.prompts.posts.recent_posts(team.id, "", limit=MAX_POSTS)
        # the team's posted posts come with their answer counts: nothing to read for those
        counts = {post.id: post.answer_count for post in every}
        posts = [
            post
            for post in every
            if post.posted_at is not None and since <= post.posted_at <= until
        ]
        answers: dict[int, list[Answer]] = {}

        async def answers_of(post_id: int) -> list[Answer]:
            if post_id not in answers:  # each post's answers read once, repeats sharing them
                found = await self.prompts.answers.for_post(team.guild_id, post_id)
                answers[post_id] = found.answers
                counts[post_id] = found.count
            return answers[post_id]

        async def count(post_id: int) -> int:
            if post_id not in counts:
                await answers_of(post_id)
            return counts[post_id]

        entries = []
        repeats: list[tuple[int, list[Answer], list[Answer]]] = []
        for post in sorted(posts, key=lambda p: (p.posted_at, p.id)):
            previous = None if post.repeat_of is None else await count(post.repeat_of)
            entries.append(PromptEntry(post, await count(post.id), previous))
            if post.repeat_of is not None:
                then, now = await answers_of(post.repeat_of), await answers_of(post.id)
                repeats.append((len(entries) - 1, then, now))
        # the words, off the event loop (seconds of work for a year of large repeats, the
        # first time: bot/history_words.py remembers them)
        shifts = await asyncio.to_thread(_word_shifts, [(t, n) for _, t, n in repeats], team)
        for (index, _then, _now), words in zip(repeats, shifts, strict=True):
            entries[index] = replace(entries[index], words=words)
        return entries

    async def _poll_entries(
        self, team: Team, since: datetime, until: datetime
    ) -> tuple[list[PollEntry], list[RunSeries]]:
        # The polls asked in the window; everything about each comes through Polls.
        rows = await self.db.fetchall(
            "SELECT id FROM polls WHERE team_id = ? AND created_at >= ? AND created_at <= ?"
            " AND message_id IS NOT NULL ORDER BY created_at, id",
            (team.id, int(since.timestamp()), int(until.timestamp())),
        )
        entries: list[PollEntry] = []
        chains: dict[int, RunSeries] = {}
        for row in rows:
            poll = await self.polls.get(row[0])
            visible = poll.closed or not poll.hide_results
            if poll.rerun_of is None:
                entries.append(PollEntry(poll, visible))
                continue
            runs = await self.polls.runs.poll_runs(poll.id)
            previous = runs[-2] if len(runs) >= 2 else None
            changes: tuple[OptionChange, ...] = ()
            if previous is not None and previous.results_public and visible:
                changes = tuple(compare_runs(previous, runs[-1]))
            entries.append(PollEntry(poll, visible, len(runs), previous, changes))
            public = tuple(run for run in runs if run.results_public)
            root = runs[0].poll_id
            if len(public) >= 2 and len(public) >= len(chains.get(root, RunSeries("", ())).runs):
                chains[root] = RunSeries(poll.question, public)
        return entries, list(chains.values())
