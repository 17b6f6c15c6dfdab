"""Polls, part 2: creating, voting and reading results, over the database.

Feature logic only: plain async Python, nothing from discord. Every rule that reads and then
writes (is the poll open? what has this member selected?) runs inside one transaction. Votes in
anonymous polls are stored under a keyed hash of the member for that one poll, never under their
id (see PRODUCT.md, "Anonymity model"). What a poll is, and the input rules, are in
`bot/poll_model.py`; reading and storing the rows in `bot/poll_store.py`; the vote writer in
`bot/poll_votes.py`; closing and announcing in `bot/poll_closing.py` (`Polls.closing`); re-runs
in `bot/poll_runs.py` (`Polls.runs`).

A new poll's message and a closed poll's announcement are posted by the outbox
(bot/outbox.py): kinds 'poll_post' and 'poll_result', told back here how it went.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.clock import Clock
from bot.db import Database, Transaction
from bot.durations import parse_duration
from bot.errors import NotAllowed, UserError
from bot.i18n import _
from bot.member_data import MemberDataDeleted
from bot.outbox import Delivery, Outbox, Sent
from bot.poll_ballots import Ballots
from bot.poll_closing import PollClosing
from bot.poll_model import (
    DEFAULT_DURATION,
    RECENT_CLOSED,
    Poll,
    PollChoice,
    Results,
    Vote,
    VoteRequest,
    parse_options,
    placeholders,
    validate_question,
)
from bot.poll_runs import PollRuns
from bot.poll_store import POST, get_poll, insert_poll, load_polls
from bot.poll_votes import cast_votes
from bot.secret import keyed_hash
from bot.sharding import EVERY_SERVER, Shards
from bot.teams import Team, clean_text


class Polls:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        key: bytes,
        *,
        outbox: Outbox | None = None,
        shards: Shards = EVERY_SERVER,
    ) -> None:
        self.db = db
        #: where its messages and result posts wait to be made (bot/outbox.py)
        self.outbox = outbox or Outbox(db, clock)
        self.clock = clock
        self.key = key
        self.ballots = Ballots(key)
        #: closing polls, and announcing each close once
        self.closing = PollClosing(db, clock, self.outbox, shards)
        #: asking a poll again, and its earlier runs
        self.runs = PollRuns(db, clock, self.outbox)
        self.outbox.register(POST, self._posted, self._not_posted)

    # -- reading -------------------------------------------------------------------------------

    async def get(self, poll_id: int, guild_id: int | None = None) -> Poll:
        """The poll; with `guild_id`, only if it belongs to that server."""
        async with self.db.reading() as tx:
            return await get_poll(tx, poll_id, guild_id)

    async def for_team(self, team_id: int, closed_limit: int = RECENT_CLOSED) -> list[Poll]:
        """The team's open polls (soonest deadline first), then its last closed ones."""
        async with self.db.reading() as tx:
            open_polls = await load_polls(
                tx, "p.team_id = ? AND p.closed_at IS NULL ORDER BY p.closes_at, p.id", (team_id,)
            )
            closed = await load_polls(
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
            poll = await get_poll(tx, poll_id, guild_id)
            if voters and poll.anonymous:
                raise NotAllowed(
                    _(
                        "This poll is anonymous: nobody, managers included, can see who voted. "
                        "Leave out the `voters` option to see the counts."
                    )
                )
            if voters and not poll.can_manage(viewer_id, viewer_is_manager):
                raise NotAllowed(
                    _(
                        "Only the member who created this poll and managers can see who voted. "
                        "Leave out the `voters` option to see the counts."
                    )
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
        """Validate everything, then store the poll with its message due in the outbox."""
        cleaned_question = validate_question(question)
        labels = parse_options(options)
        length = DEFAULT_DURATION if duration is None else parse_duration(duration)
        async with self.db.transaction() as tx:
            return await insert_poll(
                tx,
                self.outbox,
                self.clock.now(),
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

    async def _posted(self, tx: Transaction, delivery: Delivery, sent: Sent) -> bool:
        assert delivery.subject is not None and sent.message_id is not None
        return await _set_message(tx, delivery.subject, sent.channel_id, sent.message_id)

    async def _not_posted(self, tx: Transaction, delivery: Delivery, reason: str) -> None:
        """Its message can't be posted: the poll is forgotten (nobody has seen it) — unless it
        closed meanwhile, and its results are announced."""
        await tx.execute(
            "DELETE FROM polls WHERE id = ? AND message_id IS NULL AND closed_at IS NULL",
            (delivery.subject,),
        )

    # -- voting --------------------------------------------------------------------------------

    def voter_hash(self, guild_id: int, user_id: int, poll_id: int) -> bytes:
        if not self.key:  # an empty key would make every voter testable from the database alone
            raise RuntimeError("the key for keyed hashes is not loaded")
        return keyed_hash(self.key, guild_id, user_id, f"poll:{poll_id}")

    async def vote_many(self, requests: Sequence[VoteRequest]) -> list[Vote | UserError]:
        """Clicks, in the order they came, as ONE transaction (see `bot.poll_votes`)."""
        return await cast_votes(self.db, self.clock.now(), self.voter_hash, self.ballots, requests)

    async def seal_legacy_votes(self) -> int:
        """Anonymous votes stored by an earlier Breakroom as one row per option (open polls
        only; closed ones lost theirs in migration 0008) become sealed ballots. Returns how
        many voters were moved."""
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT poll_id, voter_hash, option_id FROM poll_anonymous_votes"
            )
            if not rows:
                return 0
            tx.mark_sensitive()
            picked: dict[tuple[int, bytes], set[int]] = {}
            for row in rows:
                picked.setdefault((row[0], bytes(row[1])), set()).add(row[2])
            ids = sorted({poll_id for poll_id, _voter in picked})
            polls = {p.id: p for p in await load_polls(tx, f"p.id IN ({placeholders(ids)})", ids)}
            await tx.executemany(
                "INSERT INTO poll_ballots (poll_id, voter_hash, ballot) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                [
                    (poll_id, voter, self.ballots.seal(polls[poll_id], voter, options))
                    for (poll_id, voter), options in picked.items()
                    if poll_id in polls
                ],
            )
            await tx.execute("DELETE FROM poll_anonymous_votes")
        return len(picked)

    # -- privacy -------------------------------------------------------------------------------

    async def forget_member(self, guild_id: int, user_id: int) -> MemberDataDeleted:
        """Delete the member's votes in this server's named polls; returns the polls touched.

        Votes in anonymous polls can't be found: nothing links them to the member.
        """
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "DELETE FROM poll_votes WHERE user_id = ? AND poll_id IN"
                " (SELECT id FROM polls WHERE guild_id = ?) RETURNING poll_id",
                (user_id, guild_id),
            )
        touched = tuple(sorted({row[0] for row in rows}))
        return MemberDataDeleted("votes", deleted=len(rows), polls=touched)


async def _set_message(tx: Transaction, poll_id: int, channel_id: int, message_id: int) -> bool:
    """False when the poll is gone."""
    return bool(
        await tx.execute(
            "UPDATE polls SET channel_id = ?, message_id = ? WHERE id = ?",
            (channel_id, message_id, poll_id),
        )
    )
