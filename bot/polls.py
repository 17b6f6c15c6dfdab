"""Team polls: creating, voting, closing, re-running and reading results.

Feature logic only: plain async Python over the database, nothing from discord. Every rule that
reads and then writes (is the poll open? what has this member selected?) runs inside one
transaction. Votes in anonymous polls are stored under a keyed hash of the member for that one
poll, never under their id (see PRODUCT.md, "Anonymity model").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.clock import Clock
from bot.db import Database, Row, Transaction
from bot.durations import parse_duration
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.secret import keyed_hash
from bot.teams import Team, clean_text

MAX_QUESTION_LENGTH = 300
MAX_OPTION_LENGTH = 55
MIN_OPTIONS = 2
MAX_OPTIONS = 20
DEFAULT_DURATION = timedelta(days=1)
RECENT_CLOSED = 10

ResultState = Literal["none", "posting", "pending", "posted", "failed"]
VoteAction = Literal["voted", "moved", "removed", "added"]

UNKNOWN_POLL = "There is no poll {ref} in this server; `/poll list` shows the team's polls."


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def _dt(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def percent(part: int, whole: int) -> int:
    """A share as a whole percentage (0 when nobody voted)."""
    return round(100 * part / whole) if whole else 0


@dataclass(frozen=True, slots=True)
class PollOption:
    id: int
    position: int
    label: str
    votes: int


@dataclass(frozen=True, slots=True)
class Poll:
    id: int
    team_id: int
    team_name: str
    guild_id: int
    creator_id: int
    question: str
    multiple: bool
    anonymous: bool
    hide_results: bool
    created_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    channel_id: int | None
    message_id: int | None
    rerun_of: int | None
    result_state: ResultState
    result_message_id: int | None
    #: distinct members with at least one option selected (the turnout)
    voters: int
    options: tuple[PollOption, ...]

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def accepts_votes(self, now: datetime) -> bool:
        return self.closed_at is None and now < self.closes_at

    @property
    def duration(self) -> timedelta:
        return self.closes_at - self.created_at

    @property
    def total_votes(self) -> int:
        return sum(option.votes for option in self.options)

    def share(self, option: PollOption) -> int:
        """Percentage of voters who picked the option (in a multiple-choice poll these can add
        up to more than 100)."""
        return percent(option.votes, self.voters)

    @property
    def winners(self) -> tuple[PollOption, ...]:
        """The option(s) with the most votes; none when nobody voted."""
        top = max((option.votes for option in self.options), default=0)
        return tuple(o for o in self.options if top and o.votes == top)

    def option(self, option_id: int) -> PollOption | None:
        return next((o for o in self.options if o.id == option_id), None)

    def can_manage(self, user_id: int, is_manager: bool) -> bool:
        return is_manager or user_id == self.creator_id

    def counts_visible_to(self, user_id: int, is_manager: bool) -> bool:
        return not self.hide_results or self.closed or self.can_manage(user_id, is_manager)


@dataclass(frozen=True, slots=True)
class Vote:
    """What a click did: the poll with its new counts and the member's selection now."""

    poll: Poll
    action: VoteAction
    option: PollOption
    selected: tuple[PollOption, ...]


@dataclass(frozen=True, slots=True)
class Results:
    poll: Poll
    counts_visible: bool
    #: option id -> user ids, when voters were asked for (named polls, creator or managers)
    voters: dict[int, tuple[int, ...]] | None


@dataclass(frozen=True, slots=True)
class PollChoice:
    """A poll as autocomplete shows it."""

    id: int
    question: str
    closed: bool


@dataclass(frozen=True, slots=True)
class RunOption:
    label: str
    votes: int
    #: fraction of the run's voters who picked it, 0.0–1.0
    share: float

    @property
    def percent(self) -> int:
        return round(self.share * 100)


@dataclass(frozen=True, slots=True)
class PollRun:
    """One run of a repeated question, for comparisons and history charts."""

    poll_id: int
    created_at: datetime
    closed_at: datetime | None
    voters: int
    hide_results: bool
    options: tuple[RunOption, ...]

    @property
    def date(self) -> datetime:
        return self.closed_at or self.created_at

    @property
    def results_public(self) -> bool:
        return self.closed_at is not None or not self.hide_results


@dataclass(frozen=True, slots=True)
class OptionChange:
    label: str
    before: int  # percent in the previous run
    after: int  # percent in this run

    @property
    def points(self) -> int:
        return self.after - self.before


def validate_question(question: str) -> str:
    cleaned = clean_text(question)
    if not cleaned:
        raise InvalidInput("A poll needs a question: type what you want to ask the team.")
    if len(cleaned) > MAX_QUESTION_LENGTH:
        raise InvalidInput(
            f"A poll question can be at most {MAX_QUESTION_LENGTH} characters; yours has "
            f"{len(cleaned)}. Shorten it and try again."
        )
    return cleaned


def parse_options(text: str) -> list[str]:
    """`a | b | c` -> ["a", "b", "c"]; a clear error for empty, too few or many, long or
    duplicate options."""
    parts = [clean_text(part) for part in text.split("|")]
    for number, part in enumerate(parts, start=1):
        if not part and len(parts) > 1:
            raise InvalidInput(
                f"Option {number} is empty: remove the extra `|` or type an option between them "
                f"(for example `Job | Career | Both`)."
            )
    options = [part for part in parts if part]
    if len(options) < MIN_OPTIONS:
        raise InvalidInput(
            f"A poll needs at least {MIN_OPTIONS} options, separated by `|` "
            f"(for example `Job | Career | Both`)."
        )
    if len(options) > MAX_OPTIONS:
        raise InvalidInput(
            f"A poll can have at most {MAX_OPTIONS} options; you gave {len(options)}. "
            f"Remove some and try again."
        )
    seen: dict[str, int] = {}
    for number, option in enumerate(options, start=1):
        if len(option) > MAX_OPTION_LENGTH:
            raise InvalidInput(
                f"Option {number} (“{option[:30]}…”) has {len(option)} characters; an option "
                f"can have at most {MAX_OPTION_LENGTH}. Shorten it and try again."
            )
        key = option.casefold()
        if key in seen:
            raise InvalidInput(
                f"“{option}” appears twice (options {seen[key]} and {number}); "
                f"each option must be different."
            )
        seen[key] = number
    return options


def parse_poll_ref(text: str | int) -> int:
    """A poll id as typed or picked from autocomplete: `12` or `#12`."""
    cleaned = str(text).strip().lstrip("#").strip()
    if cleaned.isdigit() and 0 < int(cleaned) < 2**63:
        return int(cleaned)
    raise NotFound(
        f"“{str(text).strip()[:40]}” is not a poll I know: pick one from the list as you type, "
        f"or use its number (`/poll list` shows them)."
    )


def compare_runs(previous: PollRun, current: PollRun) -> list[OptionChange]:
    """Each option of the current run beside the previous run (matched by label)."""
    before = {option.label.casefold(): option.percent for option in previous.options}
    return [
        OptionChange(option.label, before.get(option.label.casefold(), 0), option.percent)
        for option in current.options
    ]


_POLL_SELECT = "SELECT p.*, t.name AS team_name FROM polls p JOIN teams t ON t.id = p.team_id"


class Polls:
    def __init__(self, db: Database, clock: Clock, key: bytes) -> None:
        self.db = db
        self.clock = clock
        self.key = key

    # -- reading -------------------------------------------------------------------------------

    @staticmethod
    def _poll(row: Row, options: Sequence[Row]) -> Poll:
        return Poll(
            id=row["id"],
            team_id=row["team_id"],
            team_name=row["team_name"],
            guild_id=row["guild_id"],
            creator_id=row["creator_id"],
            question=row["question"],
            multiple=bool(row["multiple"]),
            anonymous=bool(row["anonymous"]),
            hide_results=bool(row["hide_results"]),
            created_at=datetime.fromtimestamp(row["created_at"], UTC),
            closes_at=datetime.fromtimestamp(row["closes_at"], UTC),
            closed_at=_dt(row["closed_at"]),
            channel_id=row["channel_id"],
            message_id=row["message_id"],
            rerun_of=row["rerun_of"],
            result_state=row["result_state"],
            result_message_id=row["result_message_id"],
            voters=row["voters"],
            options=tuple(
                PollOption(o["id"], o["position"], o["label"], o["votes"]) for o in options
            ),
        )

    async def _load(self, tx: Transaction, where: str, params: Sequence[object]) -> list[Poll]:
        rows = await tx.fetchall(f"{_POLL_SELECT} WHERE {where}", params)
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        marks = ",".join("?" * len(ids))
        options = await tx.fetchall(
            f"SELECT * FROM poll_options WHERE poll_id IN ({marks}) ORDER BY poll_id, position",
            ids,
        )
        by_poll: dict[int, list[Row]] = {}
        for option in options:
            by_poll.setdefault(option["poll_id"], []).append(option)
        return [self._poll(row, by_poll.get(row["id"], [])) for row in rows]

    async def _get(self, tx: Transaction, poll_id: int, guild_id: int | None) -> Poll:
        polls = await self._load(tx, "p.id = ?", (poll_id,))
        if not polls or (guild_id is not None and polls[0].guild_id != guild_id):
            raise NotFound(UNKNOWN_POLL.format(ref=f"#{poll_id}"))
        return polls[0]

    async def get(self, poll_id: int, guild_id: int | None = None) -> Poll:
        """The poll; with `guild_id`, only if it belongs to that server."""
        async with self.db.reading() as tx:
            return await self._get(tx, poll_id, guild_id)

    async def for_team(self, team_id: int, closed_limit: int = RECENT_CLOSED) -> list[Poll]:
        """The team's open polls (soonest deadline first), then its last closed ones."""
        async with self.db.reading() as tx:
            open_polls = await self._load(
                tx, "p.team_id = ? AND p.closed_at IS NULL ORDER BY p.closes_at, p.id", (team_id,)
            )
            closed = await self._load(
                tx,
                "p.team_id = ? AND p.closed_at IS NOT NULL ORDER BY p.closed_at DESC, p.id DESC "
                "LIMIT ?",
                (team_id, closed_limit),
            )
        return open_polls + closed

    async def search(
        self,
        guild_id: int,
        text: str,
        *,
        team_id: int | None = None,
        open_only: bool = False,
        limit: int = 25,
    ) -> list[PollChoice]:
        """Polls for autocomplete: open ones first, then the most recent; matching the question
        or the number typed."""
        where = ["guild_id = ?"]
        params: list[object] = [guild_id]
        if team_id is not None:
            where.append("team_id = ?")
            params.append(team_id)
        if open_only:
            where.append("closed_at IS NULL")
        rows = await self.db.fetchall(
            f"SELECT id, question, closed_at FROM polls WHERE {' AND '.join(where)} "
            "ORDER BY closed_at IS NOT NULL, id DESC LIMIT 500",
            params,
        )
        needle = clean_text(text).casefold().lstrip("#")
        choices = [PollChoice(r["id"], r["question"], r["closed_at"] is not None) for r in rows]
        if needle:
            choices = [c for c in choices if needle in c.question.casefold() or needle == str(c.id)]
        return choices[:limit]

    async def results(
        self, poll_id: int, guild_id: int, viewer_id: int, viewer_is_manager: bool, voters: bool
    ) -> Results:
        async with self.db.reading() as tx:
            poll = await self._get(tx, poll_id, guild_id)
            if voters and poll.anonymous:
                raise NotAllowed(
                    "This poll is anonymous: nobody, managers included, can see who voted. "
                    "Leave out the `voters` option to see the counts."
                )
            if voters and not poll.can_manage(viewer_id, viewer_is_manager):
                raise NotAllowed(
                    "Only the member who created this poll and managers can see who voted. "
                    "Leave out the `voters` option to see the counts."
                )
            names: dict[int, tuple[int, ...]] | None = None
            if voters:
                rows = await tx.fetchall(
                    "SELECT option_id, user_id FROM poll_votes WHERE poll_id = ? "
                    "ORDER BY option_id, user_id",
                    (poll_id,),
                )
                grouped: dict[int, list[int]] = {}
                for row in rows:
                    grouped.setdefault(row["option_id"], []).append(row["user_id"])
                names = {option: tuple(users) for option, users in grouped.items()}
        return Results(poll, poll.counts_visible_to(viewer_id, viewer_is_manager), names)

    # -- creating ------------------------------------------------------------------------------

    async def create(
        self,
        team: Team,
        creator_id: int,
        question: str,
        options: str,
        *,
        multiple: bool = False,
        anonymous: bool = False,
        hide_results: bool = False,
        duration: str | None = None,
    ) -> Poll:
        """Validate everything, then store the poll (not yet posted: see `set_message`)."""
        cleaned_question = validate_question(question)
        labels = parse_options(options)
        length = DEFAULT_DURATION if duration is None else parse_duration(duration)
        async with self.db.transaction() as tx:
            return await self._insert(
                tx,
                team.id,
                team.guild_id,
                creator_id,
                cleaned_question,
                labels,
                multiple=multiple,
                anonymous=anonymous,
                hide_results=hide_results,
                duration=length,
                rerun_of=None,
            )

    async def _insert(
        self,
        tx: Transaction,
        team_id: int,
        guild_id: int,
        creator_id: int,
        question: str,
        labels: Sequence[str],
        *,
        multiple: bool,
        anonymous: bool,
        hide_results: bool,
        duration: timedelta,
        rerun_of: int | None,
    ) -> Poll:
        now = self.clock.now()
        poll_id = await tx.insert(
            "INSERT INTO polls (team_id, guild_id, creator_id, question, multiple, anonymous,"
            " hide_results, created_at, closes_at, rerun_of)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                team_id,
                guild_id,
                creator_id,
                question,
                int(multiple),
                int(anonymous),
                int(hide_results),
                _ts(now),
                _ts(now + duration),
                rerun_of,
            ),
        )
        assert poll_id is not None
        await tx.executemany(
            "INSERT INTO poll_options (poll_id, position, label) VALUES (?, ?, ?)",
            [(poll_id, position, label) for position, label in enumerate(labels, start=1)],
        )
        return await self._get(tx, poll_id, None)

    async def set_message(self, poll_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE polls SET channel_id = ?, message_id = ? WHERE id = ?",
            (channel_id, message_id, poll_id),
        )

    async def discard(self, poll_id: int) -> None:
        """Forget a poll whose message could not be posted (nobody has seen it)."""
        await self.db.execute("DELETE FROM polls WHERE id = ? AND message_id IS NULL", (poll_id,))

    async def rerun(self, poll_id: int, guild_id: int, creator_id: int) -> Poll:
        """The same question, options and flags again, for the same time, as the next run.

        A series stays one line: re-running a poll that was already re-run continues from its
        latest run, so every run is compared with the one just before it.
        """
        async with self.db.transaction() as tx:
            original = await self._get(tx, poll_id, guild_id)
            latest = poll_id
            for _ in range(10_000):
                child = await tx.fetchval(
                    "SELECT id FROM polls WHERE rerun_of = ? ORDER BY id DESC LIMIT 1", (latest,)
                )
                if child is None:
                    break
                latest = int(child)
            return await self._insert(
                tx,
                original.team_id,
                original.guild_id,
                creator_id,
                original.question,
                [option.label for option in original.options],
                multiple=original.multiple,
                anonymous=original.anonymous,
                hide_results=original.hide_results,
                duration=original.duration,
                rerun_of=latest,
            )

    # -- voting --------------------------------------------------------------------------------

    def voter_hash(self, guild_id: int, user_id: int, poll_id: int) -> bytes:
        if not self.key:  # an empty key would make every voter testable from the database alone
            raise RuntimeError("the key for keyed hashes is not loaded")
        return keyed_hash(self.key, guild_id, user_id, f"poll:{poll_id}")

    async def vote(self, poll_id: int, option_id: int, guild_id: int, user_id: int) -> Vote:
        """One click on an option button, as one transaction of a few statements.

        Single choice: sets the vote, moves it, or (on the current option) removes it.
        Multiple choice: toggles the option.
        """
        now = _ts(self.clock.now())
        # Computed for every vote (a few microseconds) so that the first statement can read the
        # poll and the member's current selection at once, whichever kind of poll it is.
        voter_hash = self.voter_hash(guild_id, user_id, poll_id)
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT p.*, t.name AS team_name,"
                " EXISTS (SELECT 1 FROM poll_options o WHERE o.id = ? AND o.poll_id = p.id)"
                " AS option_ok,"
                " CASE WHEN p.anonymous"
                "  THEN (SELECT group_concat(option_id) FROM poll_anonymous_votes"
                "        WHERE poll_id = p.id AND voter_hash = ?)"
                "  ELSE (SELECT group_concat(option_id) FROM poll_votes"
                "        WHERE poll_id = p.id AND user_id = ?)"
                " END AS selected"
                " FROM polls p JOIN teams t ON t.id = p.team_id WHERE p.id = ?",
                (option_id, voter_hash, user_id, poll_id),
            )
            if row is None or row["guild_id"] != guild_id or not row["option_ok"]:
                raise NotFound(
                    "This poll no longer exists (it may have been deleted with its team)."
                )
            if row["closed_at"] is not None or now >= row["closes_at"]:
                raise Conflict(
                    "This poll is closed, so votes are no longer counted. "
                    "`/poll results` shows the final counts."
                )
            if row["anonymous"]:
                table, column = "poll_anonymous_votes", "voter_hash"
                voter: int | bytes = voter_hash
            else:
                table, column = "poll_votes", "user_id"
                voter = user_id
            current = {int(part) for part in str(row["selected"] or "").split(",") if part}
            action: VoteAction
            if option_id in current:
                await tx.execute(
                    f"DELETE FROM {table} WHERE poll_id = ? AND {column} = ? AND option_id = ?",
                    (poll_id, voter, option_id),
                )
                current.discard(option_id)
                action = "removed"
            elif current and not row["multiple"]:
                await tx.execute(
                    f"UPDATE {table} SET option_id = ? WHERE poll_id = ? AND {column} = ?",
                    (option_id, poll_id, voter),
                )
                current = {option_id}
                action = "moved"
            else:
                await tx.execute(
                    f"INSERT INTO {table} (poll_id, {column}, option_id) VALUES (?, ?, ?)",
                    (poll_id, voter, option_id),
                )
                action = "added" if current else "voted"
                current.add(option_id)
            counts = await tx.fetchall(
                "SELECT o.*, p.voters FROM poll_options o JOIN polls p ON p.id = o.poll_id"
                " WHERE o.poll_id = ? ORDER BY o.position",
                (poll_id,),
            )
        poll = self._poll(row, counts)
        poll = dataclasses.replace(poll, voters=counts[0]["voters"])
        chosen = poll.option(option_id)
        assert chosen is not None
        return Vote(poll, action, chosen, tuple(o for o in poll.options if o.id in current))

    # -- closing -------------------------------------------------------------------------------

    async def close(
        self, poll_id: int, guild_id: int, actor_id: int, actor_is_manager: bool
    ) -> Poll:
        """Close now (`/poll close`). The caller then owns announcing it (state 'posting')."""
        now = _ts(self.clock.now())
        async with self.db.transaction() as tx:
            poll = await self._get(tx, poll_id, guild_id)
            if not poll.can_manage(actor_id, actor_is_manager):
                raise NotAllowed(
                    "Only the member who created this poll or a manager can close it. "
                    "It closes by itself at its deadline."
                )
            if poll.closed:
                raise Conflict("This poll is already closed; `/poll results` shows its results.")
            await tx.execute(
                "UPDATE polls SET closed_at = ?, result_state = 'posting' WHERE id = ?",
                (min(now, _ts(poll.closes_at)), poll_id),
            )
            return await self._get(tx, poll_id, None)

    async def claim_due(self, now: datetime) -> list[Poll]:
        """Close every poll whose deadline has passed (also while the bot was down) and claim
        the announcements still to post (due ones and earlier transient failures).

        Claiming sets 'posting' in the same transaction, so two passes never announce twice.
        """
        async with self.db.transaction() as tx:
            closed = await tx.fetchall(
                "UPDATE polls SET closed_at = closes_at, result_state = 'posting'"
                " WHERE closed_at IS NULL AND closes_at <= ? RETURNING id",
                (_ts(now),),
            )
            retried = await tx.fetchall(
                "UPDATE polls SET result_state = 'posting' WHERE result_state = 'pending'"
                " RETURNING id",
            )
            ids = sorted({row[0] for row in closed + retried})
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            return await self._load(tx, f"p.id IN ({marks}) ORDER BY p.id", ids)

    async def finish_announcement(
        self, poll_id: int, state: ResultState, message_id: int | None = None
    ) -> None:
        """Record how announcing a claimed close went: 'posted', 'failed' or 'pending' (retry)."""
        await self.db.execute(
            "UPDATE polls SET result_state = ?, result_message_id = coalesce(?, result_message_id)"
            " WHERE id = ? AND result_state = 'posting'",
            (state, message_id, poll_id),
        )

    async def next_due(self, retry_delay: timedelta = timedelta(seconds=30)) -> datetime | None:
        """The next deadline of an open poll; sooner if an announcement waits for a retry."""
        row = await self.db.fetchone(
            "SELECT (SELECT min(closes_at) FROM polls WHERE closed_at IS NULL),"
            " EXISTS (SELECT 1 FROM polls WHERE result_state = 'pending')"
        )
        assert row is not None
        deadline = _dt(row[0])
        if row[1]:
            retry = self.clock.now() + retry_delay
            return retry if deadline is None else min(deadline, retry)
        return deadline

    # -- re-runs -------------------------------------------------------------------------------

    async def poll_runs(self, poll_id: int) -> list[PollRun]:
        """The runs of this poll's question up to and including it, oldest first."""
        async with self.db.reading() as tx:
            chain = await tx.fetchall(
                "WITH RECURSIVE chain (id, depth) AS ("
                " SELECT ?, 0"
                " UNION ALL SELECT p.rerun_of, c.depth + 1 FROM polls p JOIN chain c ON p.id = c.id"
                " WHERE p.rerun_of IS NOT NULL AND c.depth < 1000"
                ") SELECT id FROM chain ORDER BY depth DESC",
                (poll_id,),
            )
            ids = [row[0] for row in chain]
            marks = ",".join("?" * len(ids))
            polls = {p.id: p for p in await self._load(tx, f"p.id IN ({marks})", ids)}
        runs: list[PollRun] = []
        for run_id in ids:
            poll = polls.get(run_id)
            if poll is None:
                continue
            voters = poll.voters
            runs.append(
                PollRun(
                    poll_id=poll.id,
                    created_at=poll.created_at,
                    closed_at=poll.closed_at,
                    voters=voters,
                    hide_results=poll.hide_results,
                    options=tuple(
                        RunOption(o.label, o.votes, o.votes / voters if voters else 0.0)
                        for o in poll.options
                    ),
                )
            )
        return runs

    async def comparison(self, poll_id: int) -> tuple[PollRun, list[OptionChange]] | None:
        """The previous run and the change per option, if this poll is a re-run whose
        previous results may be shown."""
        runs = await self.poll_runs(poll_id)
        if len(runs) < 2 or runs[-1].poll_id != poll_id or not runs[-2].results_public:
            return None
        return runs[-2], compare_runs(runs[-2], runs[-1])

    # -- privacy -------------------------------------------------------------------------------

    async def forget_member(self, guild_id: int, user_id: int) -> list[int]:
        """Delete the member's votes in this server's named polls; returns the polls touched.

        Votes in anonymous polls can't be found: nothing links them to the member.
        """
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "DELETE FROM poll_votes WHERE user_id = ? AND poll_id IN"
                " (SELECT id FROM polls WHERE guild_id = ?) RETURNING poll_id",
                (user_id, guild_id),
            )
        return sorted({row[0] for row in rows})
