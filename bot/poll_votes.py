"""Polls, part 3: voting. Clicks become rows in as few round trips as possible.

A click is answered from one transaction of a few statements, and clicks that arrive together
share one (`VoteQueue`, bot/vote_queue.py), so hundreds of members clicking at once are answered
in time. Votes in anonymous polls are stored under the member's keyed hash for that poll only,
never their id.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.db import Database, Row, SyncTransaction
from bot.errors import Conflict, NotFound, UserError
from bot.i18n import _
from bot.poll_ballots import Ballots
from bot.poll_model import (
    CLOSED_POLL,
    GONE_POLL,
    Poll,
    PollOption,
    Vote,
    VoteAction,
    VoteRequest,
    counts_stepped,
    placeholders,
    poll_from_row,
    voter_key,
)
from bot.poll_refusals import Refusal, not_in_team, refused
from bot.teams import takes_part


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
    counted: dict[int, Poll] = {}
    for poll in polls.values():
        if not any(o.id in votes for o in poll.options) and not voters.get(poll.id):
            counted[poll.id] = poll  # nothing changed in it (refused clicks only)
            continue
        recounted = tuple(
            PollOption(o.id, o.position, o.label, o.votes + votes[o.id]) if o.id in votes else o
            for o in poll.options
        )
        counted[poll.id] = dataclasses.replace(
            poll, voters=poll.voters + voters.get(poll.id, 0), options=recounted
        )
    return counted


Selections = dict[tuple[int, int | bytes], set[int]]


async def cast_votes(
    db: Database,
    now: datetime,
    voter_hash_of: Callable[[int, int, int], bytes],
    ballots: Ballots,
    requests: Sequence[VoteRequest],
) -> list[Vote | UserError]:
    """Clicks, in the order they came, as ONE transaction of a few statements however many
    there are: read the polls and the voters' current selections, apply each click in
    memory, then write only the net changes. The new counts are computed, not read back: the
    transaction is the only writer.

    Single choice: a click sets the vote, moves it, or (on the current option) removes it.
    Multiple choice: a click toggles the option. A refused click gets its UserError and
    changes nothing; the others still count.
    """
    if not requests:
        return []
    # The hash is computed for every click (microseconds), whatever kind of poll it is for.
    voters = [(r, voter_hash_of(r.guild_id, r.user_id, r.poll_id)) for r in requests]
    poll_ids = sorted({r.poll_id for r in requests})
    Applied = list[tuple[int, VoteAction, int, frozenset[int]] | Refusal]

    def write(tx: SyncTransaction) -> tuple[dict[int, Poll], Applied]:
        # Runs at once, in one transaction for the whole batch (`Database.run_in_transaction`).
        polls, shown, roles = _load_for_votes(tx, poll_ids)
        selections = _selections(tx, polls, voters, ballots)
        before = {key: set(options) for key, options in selections.items()}
        applied: Applied = []
        for request, voter_hash in voters:
            poll = polls.get(request.poll_id)
            option = poll.option(request.option_id) if poll else None
            if poll is None or option is None or poll.guild_id != request.guild_id:
                applied.append(lambda: NotFound(_(GONE_POLL)))
                continue
            team_role, lead_role = roles[poll.id]
            if not takes_part(team_role, lead_role, request.role_ids, request.is_manager):
                applied.append(functools.partial(not_in_team, poll.team_name, team_role))
                continue
            if not poll.accepts_votes(now):
                applied.append(lambda: Conflict(_(CLOSED_POLL)))
                continue
            current = selections.setdefault(voter_key(poll, request.user_id, voter_hash), set())
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
        fresh = _counted(polls, before, selections)
        _write_named(tx, polls, before, selections)
        stepped = _write_anonymous(tx, fresh, before, selections, ballots)
        shown_now = {pid: _shown(p, shown.get(pid), pid in stepped) for pid, p in fresh.items()}
        return shown_now, applied

    fresh, applied = await db.run_in_transaction(write)
    results: list[Vote | UserError] = []
    for item in applied:
        if not isinstance(item, tuple):
            results.append(refused(item))
            continue
        poll_id, action, option_id, selected = item
        poll = fresh[poll_id]
        chosen = poll.option(option_id)
        assert chosen is not None
        picked = tuple(o for o in poll.options if o.id in selected)
        results.append(Vote(poll, action, chosen, picked))
    return results


Shown = tuple[int, dict[int, int]]


def _shown(poll: Poll, shown: Shown | None, stepped: bool) -> Poll:
    """The poll with the counts members may see: an open anonymous poll's last step."""
    if shown is None or stepped:
        return poll
    voters, votes = shown
    return dataclasses.replace(
        poll,
        voters=voters,
        options=tuple(dataclasses.replace(o, votes=votes[o.id]) for o in poll.options),
    )


def _load_for_votes(
    tx: SyncTransaction, poll_ids: Sequence[int]
) -> tuple[dict[int, Poll], dict[int, Shown], dict[int, tuple[int | None, int | None]]]:
    """The polls with their options and exact counts in one statement (a click must cost few
    round trips), the shown counts of the open anonymous ones, and each poll's team role and
    lead role (who may vote)."""
    rows = tx.fetchall(
        "SELECT p.*, t.name AS team_name, t.role_id AS team_role_id,"
        " t.lead_role_id AS team_lead_role_id, o.id AS option_id, o.position, o.label, o.votes,"
        " o.shown_votes FROM polls p JOIN teams t ON t.id = p.team_id"
        " JOIN poll_options o ON o.poll_id = p.id"
        f" WHERE p.id IN ({placeholders(poll_ids)}) ORDER BY p.id, o.position",
        poll_ids,
    )
    grouped: dict[int, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row["id"], []).append(row)
    polls: dict[int, Poll] = {}
    shown: dict[int, Shown] = {}
    roles: dict[int, tuple[int | None, int | None]] = {}
    for poll_id, group in grouped.items():
        first = group[0]
        roles[poll_id] = (first["team_role_id"], first["team_lead_role_id"])
        options = [PollOption(r["option_id"], r["position"], r["label"], r["votes"]) for r in group]
        polls[poll_id] = poll_from_row(first, options, exact=True)
        if counts_stepped(first):
            shown[poll_id] = (
                first["shown_voters"],
                {r["option_id"]: r["shown_votes"] for r in group},
            )
    return polls, shown, roles


def _selections(
    tx: SyncTransaction,
    polls: dict[int, Poll],
    voters: Sequence[tuple[VoteRequest, bytes]],
    ballots: Ballots,
) -> Selections:
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
    selections: Selections = {}
    # Rows of these polls and these voters, then the pairs asked for: the same on SQLite and
    # PostgreSQL (whose `IN (VALUES (?, ?))` has no column types for its parameters).
    if named:
        poll_ids, user_ids = tuple({k[0] for k in named}), tuple({k[1] for k in named})
        rows = tx.fetchall(
            "SELECT poll_id, user_id, option_id FROM poll_votes"
            f" WHERE poll_id IN ({placeholders(poll_ids)})"
            f" AND user_id IN ({placeholders(user_ids)})",
            [*poll_ids, *user_ids],
        )
        for row in rows:
            if (row[0], row[1]) in named:
                selections.setdefault((row[0], row[1]), set()).add(row[2])
    if anonymous:
        poll_ids, hashes = tuple({k[0] for k in anonymous}), tuple({k[1] for k in anonymous})
        rows = tx.fetchall(
            "SELECT poll_id, voter_hash, ballot FROM poll_ballots"
            f" WHERE poll_id IN ({placeholders(poll_ids)})"
            f" AND voter_hash IN ({placeholders(hashes)})",
            [*poll_ids, *hashes],
        )
        for row in rows:
            voter = bytes(row[1])
            if (row[0], voter) in anonymous:
                selections[(row[0], voter)] = ballots.open(polls[row[0]], voter, bytes(row[2]))
    return selections


def _write_named(
    tx: SyncTransaction, polls: dict[int, Poll], before: Selections, after: Selections
) -> None:
    """Named votes: removed rows first, then added ones (the counter triggers keep counts and
    turnout right through both)."""
    removed: list[tuple[int, int | bytes, int]] = []
    added: list[tuple[int, int | bytes, int]] = []
    for key, options in after.items():
        if polls[key[0]].anonymous:
            continue
        old = before.get(key, set())
        removed += [(key[0], key[1], option) for option in sorted(old - options)]
        added += [(key[0], key[1], option) for option in sorted(options - old)]
    if removed:
        tx.executemany(
            "DELETE FROM poll_votes WHERE poll_id = ? AND user_id = ? AND option_id = ?", removed
        )
    if added:
        tx.executemany(
            "INSERT INTO poll_votes (poll_id, user_id, option_id) VALUES (?, ?, ?)", added
        )


def _write_anonymous(
    tx: SyncTransaction,
    polls: dict[int, Poll],
    before: Selections,
    after: Selections,
    ballots: Ballots,
) -> set[int]:
    """Anonymous votes (`polls` has the new exact counts): each changed voter's ballot resealed
    (or deleted when empty), the exact counts written, and the shown counts moved where a step
    is complete. Returns the polls whose shown counts moved. Marks the transaction sensitive:
    the WAL is truncated after it, so the files keep no sequence of votes."""
    changed: dict[int, set[bytes]] = {}
    for key, options in after.items():
        poll = polls[key[0]]
        if not poll.anonymous or options == before.get(key, set()):
            continue
        voter = key[1]
        assert isinstance(voter, bytes)
        changed.setdefault(poll.id, set()).add(voter)
        if options:
            tx.execute(
                "INSERT INTO poll_ballots (poll_id, voter_hash, ballot) VALUES (?, ?, ?)"
                " ON CONFLICT (poll_id, voter_hash) DO UPDATE SET ballot = excluded.ballot",
                (poll.id, voter, ballots.seal(poll, voter, options)),
            )
        else:
            tx.execute(
                "DELETE FROM poll_ballots WHERE poll_id = ? AND voter_hash = ?", (poll.id, voter)
            )
    if not changed:
        return set()
    tx.mark_sensitive()
    stepped: set[int] = set()
    for poll_id, voters in changed.items():
        poll = polls[poll_id]
        tx.executemany(
            "UPDATE poll_options SET votes = ? WHERE id = ?",
            [(o.votes, o.id) for o in poll.options],
        )
        tx.execute("UPDATE polls SET voters = ? WHERE id = ?", (poll.voters, poll_id))
        if ballots.step(poll_id, voters):
            tx.execute("UPDATE poll_options SET shown_votes = votes WHERE poll_id = ?", (poll_id,))
            tx.execute("UPDATE polls SET shown_voters = voters WHERE id = ?", (poll_id,))
            stepped.add(poll_id)
    return stepped
