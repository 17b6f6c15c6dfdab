"""Team polls: creating, voting, closing, re-running and reading results.

Feature logic only: plain async Python over the database, nothing from discord. Every rule that
reads and then writes (is the poll open? what has this member selected?) runs inside one
transaction. Votes in anonymous polls are stored under a keyed hash of the member for that one
poll, never under their id (see PRODUCT.md, "Anonymity model").
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.clock import Clock
from bot.db import Database, Row, Transaction
from bot.durations import parse_duration
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound, UserError
from bot.secret import keyed_hash
from bot.teams import Team, clean_text

MAX_QUESTION_LENGTH = 300
MAX_OPTION_LENGTH = 55
MIN_OPTIONS = 2
MAX_OPTIONS = 20
DEFAULT_DURATION = timedelta(days=1)
RECENT_CLOSED = 10
RETRY_LIMIT = 15 * 60  # seconds: the longest wait before retrying a failed result post

ResultState = Literal["none", "posting", "pending", "posted", "failed"]
VoteAction = Literal["voted", "moved", "removed", "added"]

UNKNOWN_POLL = "There is no poll {ref} in this server; `/poll list` shows the team's polls."
GONE_POLL = "This poll no longer exists (it may have been deleted with its team)."
CLOSED_POLL = (
    "This poll is closed, so votes are no longer counted. `/poll results` shows the final counts."
)


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def _dt(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _voter_key(poll: Poll, user_id: int, voter_hash: bytes) -> tuple[int, int | bytes]:
    """Who a vote is stored under: the member's id, or in an anonymous poll only their hash."""
    return (poll.id, voter_hash if poll.anonymous else user_id)


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
    #: how many times announcing the close was claimed (more than 1: look before posting)
    result_attempts: int
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
class VoteRequest:
    """One click on an option button."""

    poll_id: int
    option_id: int
    guild_id: int
    user_id: int


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


def _counted(
    polls: dict[int, Poll],
    before: dict[tuple[int, int | bytes], set[int]],
    after: dict[tuple[int, int | bytes], set[int]],
) -> dict[int, Poll]:
    """The polls with the counts and turnout that the changes from `before` to `after` give."""
    votes: dict[int, int] = {}
    voters: dict[int, int] = {}
    for key, options in after.items():
        old = before.get(key, set())
        for option in options - old:
            votes[option] = votes.get(option, 0) + 1
        for option in old - options:
            votes[option] = votes.get(option, 0) - 1
        voters[key[0]] = voters.get(key[0], 0) + bool(options) - bool(old)
    return {
        poll.id: dataclasses.replace(
            poll,
            voters=poll.voters + voters.get(poll.id, 0),
            options=tuple(
                dataclasses.replace(o, votes=o.votes + votes.get(o.id, 0)) for o in poll.options
            ),
        )
        for poll in polls.values()
    }


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
            result_attempts=row["result_attempts"],
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
        """One click on an option button (see `vote_many`); raises the UserError if refused."""
        result = (await self.vote_many([VoteRequest(poll_id, option_id, guild_id, user_id)]))[0]
        if isinstance(result, UserError):
            raise result
        return result

    async def vote_many(self, requests: Sequence[VoteRequest]) -> list[Vote | UserError]:
        """Clicks, in the order they came, as ONE transaction of a few statements however many
        there are: read the polls and the voters' current selections, apply each click in
        memory, then write only the net changes and read the new counts.

        Single choice: a click sets the vote, moves it, or (on the current option) removes it.
        Multiple choice: a click toggles the option. A refused click gets its UserError and
        changes nothing; the others still count.
        """
        if not requests:
            return []
        now = self.clock.now()
        # The hash is computed for every click (microseconds), whatever kind of poll it is for.
        voters = [
            (r, self.voter_hash(r.guild_id, r.user_id, r.poll_id) if self.key else b"")
            for r in requests
        ]
        poll_ids = sorted({r.poll_id for r in requests})
        async with self.db.transaction() as tx:
            polls = await self._load_for_votes(tx, poll_ids)
            selections = await self._selections(tx, polls, voters)
            before = {key: set(options) for key, options in selections.items()}
            applied: list[tuple[int, VoteAction, int, frozenset[int]] | UserError] = []
            for request, voter_hash in voters:
                poll = polls.get(request.poll_id)
                option = poll.option(request.option_id) if poll else None
                if poll is None or option is None or poll.guild_id != request.guild_id:
                    applied.append(NotFound(GONE_POLL))
                    continue
                if not poll.accepts_votes(now):
                    applied.append(Conflict(CLOSED_POLL))
                    continue
                if poll.anonymous and not voter_hash:
                    raise RuntimeError("the key for keyed hashes is not loaded")
                current = selections.setdefault(
                    _voter_key(poll, request.user_id, voter_hash), set()
                )
                action: VoteAction
                if option.id in current:
                    current.discard(option.id)
                    action = "removed"
                elif current and not poll.multiple:
                    current.clear()
                    current.add(option.id)
                    action = "moved"
                else:
                    action = "added" if current else "voted"
                    current.add(option.id)
                applied.append((poll.id, action, option.id, frozenset(current)))
            await self._write_changes(tx, polls, before, selections)
        # The new counts, without reading them back: this transaction was the only writer, and
        # the counter triggers applied exactly these changes.
        fresh = _counted(polls, before, selections)
        results: list[Vote | UserError] = []
        for item in applied:
            if isinstance(item, UserError):
                results.append(item)
                continue
            poll_id, action, option_id, selected = item
            poll = fresh[poll_id]
            chosen = poll.option(option_id)
            assert chosen is not None
            picked = tuple(o for o in poll.options if o.id in selected)
            results.append(Vote(poll, action, chosen, picked))
        return results

    async def _load_for_votes(self, tx: Transaction, poll_ids: Sequence[int]) -> dict[int, Poll]:
        """The polls with their options in one statement (a click must cost few round trips)."""
        rows = await tx.fetchall(
            "SELECT p.*, t.name AS team_name, o.id AS option_id, o.position, o.label, o.votes"
            " FROM polls p JOIN teams t ON t.id = p.team_id"
            " JOIN poll_options o ON o.poll_id = p.id"
            f" WHERE p.id IN ({_marks(poll_ids)}) ORDER BY p.id, o.position",
            poll_ids,
        )
        grouped: dict[int, list[Row]] = {}
        for row in rows:
            grouped.setdefault(row["id"], []).append(row)
        return {
            poll_id: dataclasses.replace(
                self._poll(group[0], []),
                options=tuple(
                    PollOption(r["option_id"], r["position"], r["label"], r["votes"]) for r in group
                ),
            )
            for poll_id, group in grouped.items()
        }

    @staticmethod
    async def _selections(
        tx: Transaction, polls: dict[int, Poll], voters: Sequence[tuple[VoteRequest, bytes]]
    ) -> dict[tuple[int, int | bytes], set[int]]:
        """What each clicking member has selected now, in the polls they click in."""
        named: set[tuple[int, int]] = set()
        anonymous: set[tuple[int, bytes]] = set()
        for request, voter_hash in voters:
            poll = polls.get(request.poll_id)
            if poll is None:
                continue
            if poll.anonymous:
                anonymous.add((poll.id, voter_hash))
            else:
                named.add((poll.id, request.user_id))
        selections: dict[tuple[int, int | bytes], set[int]] = {}
        for table, column, keys in (
            ("poll_votes", "user_id", list(named)),
            ("poll_anonymous_votes", "voter_hash", list(anonymous)),
        ):
            if not keys:
                continue
            values = ",".join("(?, ?)" for _ in keys)
            rows = await tx.fetchall(
                f"SELECT poll_id, {column}, option_id FROM {table}"
                f" WHERE (poll_id, {column}) IN (VALUES {values})",
                [part for key in keys for part in key],
            )
            for row in rows:
                voter = bytes(row[1]) if isinstance(row[1], bytes) else row[1]
                selections.setdefault((row[0], voter), set()).add(row[2])
        return selections

    @staticmethod
    async def _write_changes(
        tx: Transaction,
        polls: dict[int, Poll],
        before: dict[tuple[int, int | bytes], set[int]],
        after: dict[tuple[int, int | bytes], set[int]],
    ) -> None:
        """Write the net effect of the clicks: removed rows first, then added ones (the counter
        triggers keep counts and turnout right through both)."""
        removed: dict[str, list[tuple[int, int | bytes, int]]] = {"named": [], "anonymous": []}
        added: dict[str, list[tuple[int, int | bytes, int]]] = {"named": [], "anonymous": []}
        for key, options in after.items():
            kind = "anonymous" if polls[key[0]].anonymous else "named"
            old = before.get(key, set())
            removed[kind] += [(key[0], key[1], option) for option in sorted(old - options)]
            added[kind] += [(key[0], key[1], option) for option in sorted(options - old)]
        for kind, table, column in (
            ("named", "poll_votes", "user_id"),
            ("anonymous", "poll_anonymous_votes", "voter_hash"),
        ):
            if removed[kind]:
                await tx.executemany(
                    f"DELETE FROM {table} WHERE poll_id = ? AND {column} = ? AND option_id = ?",
                    removed[kind],
                )
        for kind, table, column in (
            ("named", "poll_votes", "user_id"),
            ("anonymous", "poll_anonymous_votes", "voter_hash"),
        ):
            if added[kind]:
                await tx.executemany(
                    f"INSERT INTO {table} (poll_id, {column}, option_id) VALUES (?, ?, ?)",
                    added[kind],
                )

    # -- closing -------------------------------------------------------------------------------

    async def close(
        self, poll_id: int, guild_id: int, actor_id: int, actor_is_manager: bool, claimer: str
    ) -> Poll:
        """Close now (`/poll close`). The caller (the run `claimer`) then owns announcing it."""
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
                "UPDATE polls SET closed_at = ?, result_state = 'posting', result_claimed_by = ?,"
                " result_attempts = result_attempts + 1 WHERE id = ?",
                (min(now, _ts(poll.closes_at)), claimer, poll_id),
            )
            return await self._get(tx, poll_id, None)

    async def claim_due(self, now: datetime, claimer: str) -> list[Poll]:
        """Close every poll whose deadline has passed (also while the bot was down) and claim
        the announcements to post now: those just closed, failed ones whose retry time came, and
        claims left by another run of the bot (it stopped before finishing them).

        Claiming sets 'posting' with the claimer in the same transaction, so two passes never
        announce the same close; `result_attempts` > 1 tells the announcer to look first for a
        post that may have gone out.
        """
        at = _ts(now)
        async with self.db.transaction() as tx:
            closed = await tx.fetchall(
                "UPDATE polls SET closed_at = closes_at, result_state = 'posting',"
                " result_claimed_by = ?, result_attempts = result_attempts + 1"
                " WHERE closed_at IS NULL AND closes_at <= ? RETURNING id",
                (claimer, at),
            )
            retried = await tx.fetchall(
                "UPDATE polls SET result_state = 'posting', result_claimed_by = ?,"
                " result_attempts = result_attempts + 1"
                " WHERE (result_state = 'pending' AND result_retry_at <= ?)"
                " OR (result_state = 'posting' AND result_claimed_by IS NOT ?) RETURNING id",
                (claimer, at, claimer),
            )
            ids = sorted({row[0] for row in closed + retried})
            if not ids:
                return []
            return await self._load(tx, f"p.id IN ({_marks(ids)}) ORDER BY p.id", ids)

    async def finish_announcement(
        self,
        poll_id: int,
        claimer: str,
        state: Literal["posted", "failed", "pending"],
        message_id: int | None = None,
        *,
        retry_now: bool = False,
    ) -> None:
        """Record how announcing a claimed close went. 'pending' retries later, waiting longer
        after each failure (30 s, 1 min, 2 min … at most 15 min), or at the next pass when
        `retry_now` (the run stopped before trying)."""
        async with self.db.transaction() as tx:
            attempts = await tx.fetchval(
                "SELECT result_attempts FROM polls"
                " WHERE id = ? AND result_state = 'posting' AND result_claimed_by = ?",
                (poll_id, claimer),
            )
            if attempts is None:  # not (or no longer) this run's claim
                return
            delay = 0 if retry_now else min(30 * 2 ** max(0, int(attempts) - 1), RETRY_LIMIT)
            await tx.execute(
                "UPDATE polls SET result_state = ?, result_claimed_by = NULL,"
                " result_message_id = coalesce(?, result_message_id), result_retry_at = ?"
                " WHERE id = ?",
                (
                    state,
                    message_id,
                    _ts(self.clock.now()) + delay if state == "pending" else None,
                    poll_id,
                ),
            )

    async def next_due(self, claimer: str) -> datetime | None:
        """When the polls job next has something to do: a deadline, a retry, or now for a claim
        left by another run."""
        row = await self.db.fetchone(
            "SELECT (SELECT min(closes_at) FROM polls WHERE closed_at IS NULL),"
            " (SELECT min(result_retry_at) FROM polls WHERE result_state = 'pending'),"
            " EXISTS (SELECT 1 FROM polls WHERE result_state = 'posting'"
            "         AND result_claimed_by IS NOT ?)",
            (claimer,),
        )
        assert row is not None
        if row[2]:
            return self.clock.now()
        times = [t for t in (row[0], row[1]) if t is not None]
        return _dt(min(times)) if times else None

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


class Unavailable(UserError):
    """The bot is stopping: the member should try again shortly."""


class VoteQueue:
    """Clicks that arrive while a batch is being written go together in the next one.

    When hundreds of members click at once, each click waiting for its own transaction would
    queue them one by one behind the database lock; here a single writer task takes everything
    waiting, writes it with `Polls.vote_many` (one transaction, a few statements), and answers
    each click. A lone click waits only `gather_delay`, then is written as a batch of one.
    """

    max_batch = 250
    #: seconds a writer waits for more clicks before writing the first one: a few milliseconds
    #: on a 3 s budget, and under steady load each transaction carries several clicks
    gather_delay = 0.004

    def __init__(self, polls: Polls) -> None:
        self.polls = polls
        self.batches = 0
        self._waiting: list[tuple[VoteRequest, asyncio.Future[Vote]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._closed = False

    async def vote(self, poll_id: int, option_id: int, guild_id: int, user_id: int) -> Vote:
        if self._closed:
            raise Unavailable(
                "Breakroom is restarting, so your vote was not counted. Click again in a minute."
            )
        future: asyncio.Future[Vote] = asyncio.get_running_loop().create_future()
        self._waiting.append((VoteRequest(poll_id, option_id, guild_id, user_id), future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="breakroom-poll-votes")
        return await future

    async def _write(self) -> None:
        if self.gather_delay > 0:
            await asyncio.sleep(self.gather_delay)
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            try:
                results = await self.polls.vote_many([request for request, _ in batch])
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise
            except Exception as error:  # the whole batch failed (rolled back): tell each click
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            self.batches += 1
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, UserError):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def close(self, timeout: float = 5.0) -> None:
        """Stop taking clicks, and let those already taken be written."""
        self._closed = True
        writer = self._writer
        if writer is not None and not writer.done():
            try:
                await asyncio.wait_for(asyncio.shield(writer), timeout)
            except TimeoutError:
                writer.cancel()
                await asyncio.gather(writer, return_exceptions=True)
        for _, future in self._waiting:
            future.cancel()
        self._waiting.clear()
