"""Seeding the big-data database's polls (tests/bench/bigdata_seed.py calls `seed_polls`): each with
its options and their counters, the votes of the named polls and the sealed ballots
(bot/poll_ballots.py, voters' keyed hashes of bot/polls.py) of the open anonymous ones. The big team
has a hundred polls of a thousand votes each, in chains of four re-runs; every other team two polls
sharing the rest of the votes; each team's last poll is open. The vote triggers are off meanwhile
(tests/bench/bigdata_seed.py), so the counters are computed here."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace
from typing import cast

from bot.poll_model import Poll
from bot.secret import keyed_hash
from tests.bench.bigdata_seed_state import DAY, SEEDED_USER, SeedState

OPTIONS = ("Job", "Career", "Both", "Not sure")


def seed_polls(state: SeedState, conn: sqlite3.Connection) -> None:
    size = state.size
    big_votes = size.big_polls * size.big_votes_per_poll
    other_teams = max(1, size.teams - 1)
    polls_per_team = 2
    per_poll = max(1, (size.votes - big_votes) // (other_teams * polls_per_team))
    poll_rows: list[tuple[object, ...]] = []
    option_rows: list[tuple[object, ...]] = []
    vote_rows: list[tuple[int, int, int]] = []
    ballot_rows: list[tuple[int, bytes, bytes]] = []
    for team_id in state.teams:
        if team_id == state.seeded.big_team_id:
            plan = [size.big_votes_per_poll] * size.big_polls
        else:
            plan = [per_poll] * polls_per_team
        previous: int | None = None
        for n, votes in enumerate(plan):
            # every fourth of the big team's polls re-runs the one before; the last one is
            # open, and every tenth poll is anonymous
            rerun = team_id == state.seeded.big_team_id and n % 4 != 0
            is_open = n == len(plan) - 1
            anonymous = n % 10 == 5 or (team_id % 7 == 0 and n == 1)
            poll_id = _poll(
                state,
                team_id,
                n,
                len(plan),
                votes,
                previous if rerun else None,
                is_open,
                anonymous,
                poll_rows,
                option_rows,
                vote_rows,
                ballot_rows,
            )
            if team_id == state.seeded.big_team_id and not is_open and not anonymous:
                state.seeded.results_poll_id = poll_id
            previous = poll_id
        if len(vote_rows) > 200_000:
            _flush_votes(conn, poll_rows, option_rows, vote_rows, ballot_rows)
    _flush_votes(conn, poll_rows, option_rows, vote_rows, ballot_rows)


def _flush_votes(
    conn: sqlite3.Connection,
    polls: list[tuple[object, ...]],
    options: list[tuple[object, ...]],
    votes: list[tuple[int, int, int]],
    ballots: list[tuple[int, bytes, bytes]],
) -> None:
    conn.executemany(
        "INSERT INTO polls (id, team_id, guild_id, creator_id, question, multiple, anonymous,"
        " created_at, closes_at, closed_at, channel_id, message_id, rerun_of, result_state,"
        " result_message_id, voters, shown_voters, last_hour_shown)"
        " VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        polls,
    )
    conn.executemany(
        "INSERT INTO poll_options (id, poll_id, position, label, votes, shown_votes)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        options,
    )
    conn.executemany("INSERT INTO poll_votes (poll_id, user_id, option_id) VALUES (?, ?, ?)", votes)
    conn.executemany(
        "INSERT INTO poll_ballots (poll_id, voter_hash, ballot) VALUES (?, ?, ?)", ballots
    )
    for rows in (polls, options, votes, ballots):
        rows.clear()


def _poll(
    state: SeedState,
    team_id: int,
    n: int,
    of: int,
    votes: int,
    rerun_of: int | None,
    is_open: bool,
    anonymous: bool,
    poll_rows: list[tuple[object, ...]],
    option_rows: list[tuple[object, ...]],
    vote_rows: list[tuple[int, int, int]],
    ballot_rows: list[tuple[int, bytes, bytes]],
) -> int:
    guild_id, channel_id, manager, _created = state.teams[team_id]
    poll_id = state.ids("polls")
    created = state.now - (of - n) * 5 * DAY - DAY
    closes = state.now + 7 * DAY if is_open else created + 3 * DAY
    closed = None if is_open else closes
    # a re-run asks its chain's question again (chains of 4 in the big team)
    first = n - n % 4 if rerun_of is not None else n
    question = f"Poll {first + 1}: is what you do here a job or a career?"
    if team_id == state.seeded.big_team_id:
        state.seeded.big_poll_question = question
    option_ids = [state.ids("poll_options") for _ in OPTIONS]
    weights = state.rng.sample(range(1, 10), len(OPTIONS))
    picks = state.rng.choices(range(len(OPTIONS)), weights=weights, k=votes)
    counts = [0] * len(OPTIONS)
    for pick in picks:
        counts[pick] += 1
    for position, (option_id, label) in enumerate(zip(option_ids, OPTIONS, strict=True)):
        option_rows.append(
            (option_id, poll_id, position, label, counts[position], counts[position])
        )
    message = 10**18 + 5 * 10**9 + poll_id
    poll_rows.append(
        (
            poll_id,
            team_id,
            guild_id,
            manager,
            question,
            int(anonymous),
            created,
            closes,
            closed,
            channel_id,
            message,
            rerun_of,
            "none" if is_open else "posted",
            None if is_open else message + 10**9,
            votes,
            votes,
            0,
        )
    )
    if not anonymous:
        vote_rows.extend(
            (poll_id, SEEDED_USER + user, option_ids[pick]) for user, pick in enumerate(picks)
        )
    elif is_open:  # a closed anonymous poll keeps its counts only (its ballots are deleted)
        # what Ballots.seal reads of a poll: its id and its options' ids, in order
        poll = cast(
            Poll,
            SimpleNamespace(id=poll_id, options=[SimpleNamespace(id=o) for o in option_ids]),
        )
        for user, pick in enumerate(picks):
            voter = keyed_hash(state.key, guild_id, SEEDED_USER + user, f"poll:{poll_id}")
            ballot_rows.append(
                (poll_id, voter, state.ballots.seal(poll, voter, {option_ids[pick]}))
            )
    return poll_id
