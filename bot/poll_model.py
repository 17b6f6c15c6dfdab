"""Polls, part 1: what a poll is (frozen dataclasses) and the rules for what members type.

No SQL and nothing from discord: `bot/poll_store.py` stores and reads polls with these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.db import Row
from bot.errors import InvalidInput, NotFound
from bot.i18n import N_, _
from bot.teams import clean_text
from bot.text import comparison_key, parse_id, shows_nothing

MAX_QUESTION_LENGTH = 300
MAX_OPTION_LENGTH = 55
MIN_OPTIONS = 2
MAX_OPTIONS = 20
DEFAULT_DURATION = timedelta(days=1)
RECENT_CLOSED = 10
#: The shown counts of an open anonymous poll move only once this many different members have
#: voted (or changed their vote) since the last move, so no edit of the poll message, and no
#: `/poll results`, gives one member's vote away. At close the exact counts are shown.
ANONYMOUS_STEP = 5

#: announcing a close: not closed, in the outbox, posted, given up
ResultState = Literal["none", "posting", "posted", "failed"]
VoteAction = Literal["voted", "moved", "removed", "added"]

UNKNOWN_POLL = N_("There is no poll {ref} in this server; `/poll list` shows the team's polls.")
GONE_POLL = N_("This poll no longer exists (it may have been deleted with its team).")
CLOSED_POLL = N_(
    "This poll is closed, so votes are no longer counted. `/poll results` shows the final counts."
)


def to_ts(moment: datetime) -> int:
    return int(moment.timestamp())


def from_ts(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def placeholders(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def voter_key(poll: Poll, user_id: int, voter_hash: bytes) -> tuple[int, int | bytes]:
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
    #: the member's roles and whether they manage the server: a team with a role takes votes
    #: from its members only
    role_ids: frozenset[int] = frozenset()
    is_manager: bool = False


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
    #: who posted this run: with managers, the only one who sees it while its results are hidden
    creator_id: int = 0

    @property
    def date(self) -> datetime:
        return self.closed_at or self.created_at

    @property
    def results_public(self) -> bool:
        return self.closed_at is not None or not self.hide_results

    def visible_to(self, user_id: int, is_manager: bool) -> bool:
        """Whether this member may see this run's counts: each run by its own rules (a member
        who re-ran a hidden poll is the creator of the new run, not of the hidden one)."""
        return self.results_public or is_manager or user_id == self.creator_id


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
    if shows_nothing(cleaned):
        raise InvalidInput(_("A poll needs a question: type what you want to ask the team."))
    if len(cleaned) > MAX_QUESTION_LENGTH:
        raise InvalidInput(
            _(
                "A poll question can be at most {limit} characters; yours has {length}. "
                "Shorten it and try again.",
                limit=MAX_QUESTION_LENGTH,
                length=len(cleaned),
            )
        )
    return cleaned


def parse_options(text: str) -> list[str]:
    """`a | b | c` -> ["a", "b", "c"]; a clear error for empty, too few or many, long or
    duplicate options. An option that shows nothing (only spaces or invisible characters) is
    empty; two options that read the same (`bot.text.comparison_key`) are duplicates."""
    parts = [clean_text(part) for part in text.split("|")]
    for number, part in enumerate(parts, start=1):
        if shows_nothing(part) and len(parts) > 1:
            raise InvalidInput(
                _(
                    "Option {number} is empty: remove the extra `|` or type an option between "
                    "them (for example `Job | Career | Both`).",
                    number=number,
                )
            )
    options = [part for part in parts if not shows_nothing(part)]
    if len(options) < MIN_OPTIONS:
        raise InvalidInput(
            _(
                "A poll needs at least {minimum} options, separated by `|` "
                "(for example `Job | Career | Both`).",
                minimum=MIN_OPTIONS,
            )
        )
    if len(options) > MAX_OPTIONS:
        raise InvalidInput(
            _(
                "A poll can have at most {maximum} options; you gave {given}. "
                "Remove some and try again.",
                maximum=MAX_OPTIONS,
                given=len(options),
            )
        )
    seen: dict[str, int] = {}
    for number, option in enumerate(options, start=1):
        if len(option) > MAX_OPTION_LENGTH:
            raise InvalidInput(
                _(
                    "Option {number} (“{start}…”) has {length} characters; an option can have "
                    "at most {limit}. Shorten it and try again.",
                    number=number,
                    start=option[:30],
                    length=len(option),
                    limit=MAX_OPTION_LENGTH,
                )
            )
        key = comparison_key(option)
        if key in seen:
            raise InvalidInput(
                _(
                    "“{option}” appears twice (options {first} and {second}); "
                    "each option must be different.",
                    option=option,
                    first=seen[key],
                    second=number,
                )
            )
        seen[key] = number
    return options


def parse_poll_ref(text: str | int) -> int:
    """A poll id as typed or picked from autocomplete: `12` or `#12` (see `bot.text.parse_id`)."""
    poll_id = parse_id(text)
    if poll_id is not None:
        return poll_id
    raise NotFound(
        _(
            "“{typed}” is not a poll I know: pick one from the list as you type, "
            "or use its number (`/poll list` shows them).",
            typed=str(text).strip()[:40],
        )
    )


def compare_runs(previous: PollRun, current: PollRun) -> list[OptionChange]:
    """Each option of the current run beside the previous run (matched by label)."""
    before = {option.label.casefold(): option.percent for option in previous.options}
    return [
        OptionChange(option.label, before.get(option.label.casefold(), 0), option.percent)
        for option in current.options
    ]


def counts_stepped(row: Row) -> bool:
    """Whether a `polls` row's counts are shown in steps (anonymous and still open)."""
    return bool(row["anonymous"]) and row["closed_at"] is None


def option_from_row(row: Row, stepped: bool) -> PollOption:
    """An option from a `poll_options` row, with the counts that may be shown."""
    votes = row["shown_votes"] if stepped else row["votes"]
    return PollOption(row["id"], row["position"], row["label"], votes)


def poll_from_row(row: Row, options: Sequence[PollOption], *, exact: bool = False) -> Poll:
    """A poll from a `polls` row joined with its team's name (`team_name`). Its turnout is the
    one that may be shown (see `ANONYMOUS_STEP`) unless `exact` (only the vote writer)."""
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
        closed_at=from_ts(row["closed_at"]),
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        rerun_of=row["rerun_of"],
        result_state=row["result_state"],
        result_message_id=row["result_message_id"],
        voters=row["shown_voters"] if counts_stepped(row) and not exact else row["voters"],
        options=tuple(options),
    )
