"""The big-data benchmark's database: thousands of servers' worth of teams, posts, answers, polls,
votes and reflections, written as bulk SQL straight into the SQLite file before the bot starts.

The rows are the ones Breakroom itself writes (the schema's migrations make the file first):
posted prompts with their answers, closed and open polls with their options, counters and votes,
sealed ballots of the open anonymous polls (bot/poll_ballots.py, keyed hashes of bot/polls.py),
and reflections shared in batches with their keyed hashes (bot/reflection_text.py,
bot/reflection_store.py), all under the key the bench's BREAKROOM_SECRET gives. The vote triggers
are dropped while the votes go in and put back after, with the counters they would have kept
computed here: a million trigger runs would take minutes.

One team, the *big team* (the first team of the first server), holds much of it: two years of
weekly posts (repeats included) with hundreds of answers each, a hundred polls (re-runs among
them) with thousands of votes each, and thousands of shared reflections. The others share the
rest evenly.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import cast

from bot.db import Database
from bot.poll_ballots import Ballots
from bot.poll_model import Poll
from bot.prompt_bank import prompt_key
from bot.reflection_store import ReflectionStore
from bot.reflection_text import code_hash, key_id, new_code
from bot.secret import keyed_hash, load_or_create_key
from bot.teams import name_key
from tests.bench_export import answer_text

DAY = 86_400
WEEK = 7 * DAY
OPTIONS = ("Job", "Career", "Both", "Not sure")
#: ids of members who answered and voted in the seeded data (the double never uses them)
SEEDED_USER = 9 * 10**17


@dataclass(frozen=True, slots=True)
class BigSize:
    guilds: int = 2_500
    teams_per_guild: int = 5
    votes: int = 1_000_000
    answers: int = 200_000
    reflections: int = 50_000
    #: the big team's share: weekly posts and answers per post, polls and votes per poll,
    #: shared reflections
    big_posts: int = 104
    big_answers_per_post: int = 200
    big_polls: int = 100
    big_votes_per_poll: int = 1_000
    big_reflections: int = 2_000
    prompts_per_guild: int = 12
    #: members of the first server who click the vote buttons
    voters: int = 200
    answer_length: int = 200

    @property
    def teams(self) -> int:
        return self.guilds * self.teams_per_guild


@dataclass(frozen=True, slots=True)
class BigdataConfig:
    size: BigSize = field(default_factory=BigSize)
    #: how many of each interaction are sent (one at a time)
    history: int = 30
    exports: int = 10
    results: int = 50
    autocompletes: int = 100
    votes: int = 300
    #: `/history weeks:`
    weeks: int = 52


#: what the test suite's smoke run uses: the whole path, a few of each
SMOKE_BIGDATA = BigdataConfig(
    size=BigSize(
        guilds=3,
        teams_per_guild=2,
        votes=600,
        answers=300,
        reflections=60,
        big_posts=10,
        big_answers_per_post=10,
        big_polls=8,
        big_votes_per_poll=40,
        big_reflections=20,
        prompts_per_guild=4,
        voters=6,
        answer_length=60,
    ),
    history=2,
    exports=1,
    results=2,
    autocompletes=2,
    votes=6,
    weeks=12,
)


@dataclass
class Seeded:
    """What went in, and the ids the benchmark's commands name."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    big_team_id: int = 1
    #: a closed named poll of the big team, the last of a chain of re-runs
    results_poll_id: int = 0
    #: the big team's polls (for the autocomplete's typed text)
    big_poll_question: str = ""


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


class _Ids:
    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def __call__(self, table: str) -> int:
        self.next[table] = self.next.get(table, 0) + 1
        return self.next[table]


def _vote_triggers(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        " AND tbl_name IN ('poll_votes', 'poll_ballots')"
    ).fetchall()


async def create_schema(db_path: Path) -> None:
    """The schema, as the bot's migrations make it."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = await Database.open(db_path)
    await db.close()


async def seed_big(
    db_path: Path,
    secret: str,
    guilds: list[tuple[int, list[int], int]],
    size: BigSize,
    now: datetime | None = None,
) -> Seeded:
    """Fill the database at `db_path` (made by the migrations first). `guilds`: per server its
    id, its team channels' ids and its manager's id (the double's world)."""
    started = time.perf_counter()
    await create_schema(db_path)
    key = load_or_create_key(secret, db_path.with_name("unused.key"), db_path)
    seeded = _Seeder(db_path, key, guilds, size, now or datetime.now(UTC)).run()
    seeded.seconds = time.perf_counter() - started
    return seeded


class _Seeder:
    def __init__(
        self,
        db_path: Path,
        key: bytes,
        guilds: list[tuple[int, list[int], int]],
        size: BigSize,
        now: datetime,
    ) -> None:
        self.db_path = db_path
        self.key = key
        self.guilds = guilds
        self.size = size
        self.now = _ts(now)
        self.rng = random.Random(16)
        self.ids = _Ids()
        self.seeded = Seeded()
        self.ballots = Ballots(key)
        # its keyed hashes and sealed author boxes, without a database of its own
        self.store_hashes = ReflectionStore.__new__(ReflectionStore)
        self.store_hashes.key = key
        self.store_hashes._sealer = None
        self.texts = [answer_text(self.rng, size.answer_length) for _ in range(500)]
        #: team id -> (guild id, channel id, manager id, created_at)
        self.teams: dict[int, tuple[int, int, int, int]] = {}
        self.prompts: dict[int, list[int]] = {}

    def run(self) -> Seeded:
        conn = sqlite3.connect(self.db_path, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous = OFF")
            triggers = _vote_triggers(conn)
            conn.execute("BEGIN")
            for name, _sql in triggers:
                conn.execute(f"DROP TRIGGER {name}")
            self._guilds_and_teams(conn)
            self._posts_and_answers(conn)
            self._polls_and_votes(conn)
            self._reflections(conn)
            for _name, sql in triggers:
                conn.execute(sql)
            conn.execute("COMMIT")
            # no ANALYZE: the bot never runs it, so its planner works without statistics here too
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            for table in ("teams", "prompt_posts", "prompt_answers", "polls", "poll_votes"):
                self.seeded.counts[table] = conn.execute(
                    f"SELECT count(*) FROM {table}"
                ).fetchone()[0]
            self.seeded.counts["poll_ballots"] = conn.execute(
                "SELECT count(*) FROM poll_ballots"
            ).fetchone()[0]
            self.seeded.counts["votes"] = conn.execute(
                "SELECT sum(votes) FROM poll_options"
            ).fetchone()[0]
            self.seeded.counts["reflections"] = conn.execute(
                "SELECT count(*) FROM reflections"
            ).fetchone()[0]
        finally:
            conn.close()
        return self.seeded

    # -- servers, teams, prompts ----------------------------------------------------------------

    def _guilds_and_teams(self, conn: sqlite3.Connection) -> None:
        size, now = self.size, self.now
        joined = now - 2 * 365 * DAY - 30 * DAY
        # A weekly slot 3 days from now: the last one was 4 days ago, none is due in the run.
        slot = datetime.fromtimestamp(now + 3 * DAY, UTC)
        weekday, hhmm = slot.weekday(), "09:00"
        guild_rows, bank_rows, prompt_rows, team_rows, schedule_rows = [], [], [], [], []
        for g, (guild_id, channels, manager) in enumerate(self.guilds):
            guild_rows.append((guild_id, joined))
            bank_rows.append((guild_id, joined))
            ids = []
            count = size.prompts_per_guild
            for n in range(count):
                prompt_id = self.ids("prompts")
                text = f"Prompt {n + 1} of office {g + 1}: what made this week's work matter?"
                prompt_rows.append((prompt_id, guild_id, text, prompt_key(text), 1, joined))
                ids.append(prompt_id)
            self.prompts[guild_id] = ids
            for t, channel_id in enumerate(channels):
                team_id = self.ids("teams")
                name = f"Team {t + 1}"
                created = joined + DAY
                self.teams[team_id] = (guild_id, channel_id, manager, created)
                team_rows.append(
                    (team_id, guild_id, name, name_key(name), channel_id, weekday, hhmm, created)
                )
                schedule_rows.append((team_id, created))
        conn.executemany("INSERT INTO guilds (guild_id, joined_at) VALUES (?, ?)", guild_rows)
        conn.executemany("INSERT INTO prompt_banks (guild_id, seeded_at) VALUES (?, ?)", bank_rows)
        conn.executemany(
            "INSERT INTO prompts (id, guild_id, text, text_key, starter, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            prompt_rows,
        )
        conn.executemany(
            "INSERT INTO teams (id, guild_id, name, name_key, channel_id, schedule_weekday,"
            " schedule_time, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            team_rows,
        )
        conn.executemany(
            "INSERT INTO prompt_schedules (team_id, active_since) VALUES (?, ?)", schedule_rows
        )

    # -- prompt posts and answers ---------------------------------------------------------------

    def _posts_and_answers(self, conn: sqlite3.Connection) -> None:
        size = self.size
        big = size.big_posts * size.big_answers_per_post
        others = max(0, size.answers - big)
        other_teams = max(1, size.teams - 1)
        # every other team: a few posts, the rest of the answers spread over them
        per_team = others // other_teams
        extra = others - per_team * other_teams
        posts, answers = [], []
        for team_id, (guild_id, channel_id, _manager, _created) in self.teams.items():
            if team_id == self.seeded.big_team_id:
                plan = [size.big_answers_per_post] * size.big_posts
            else:
                n = per_team + (1 if team_id - 1 <= extra else 0)
                count = max(1, min(4, n // 4)) if n else 1
                plan = [n // count + (1 if i < n % count else 0) for i in range(count)]
            self._team_posts(team_id, guild_id, channel_id, plan, posts, answers)
        conn.executemany(
            "INSERT INTO prompt_posts (id, team_id, prompt_id, slot_at, state, claimed_at,"
            " posted_at, channel_id, message_id, thread_id, repeat_of)"
            " VALUES (?, ?, ?, ?, 'posted', ?, ?, ?, ?, ?, ?)",
            posts,
        )
        conn.executemany(
            "INSERT INTO prompt_answers (id, post_id, user_id, display_name, text, answered_at,"
            " message_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            answers,
        )

    def _team_posts(
        self,
        team_id: int,
        guild_id: int,
        channel_id: int,
        plan: list[int],
        posts: list[tuple[object, ...]],
        answers: list[tuple[object, ...]],
    ) -> None:
        prompts = self.prompts[guild_id]
        last_of: dict[int, int] = {}
        for week, count in enumerate(plan):
            post_id = self.ids("prompt_posts")
            # weekly, the last one this week
            at = self.now - (len(plan) - week) * WEEK + 3 * DAY
            if at >= self.now:
                at = self.now - DAY
            prompt_id = prompts[week % len(prompts)]
            message = 10**18 + post_id * 2
            posts.append(
                (
                    post_id,
                    team_id,
                    prompt_id,
                    at,
                    at,
                    at,
                    channel_id,
                    message,
                    message + 1,
                    last_of.get(prompt_id),
                )
            )
            last_of[prompt_id] = post_id
            for n in range(count):
                user = SEEDED_USER + n
                answers.append(
                    (
                        self.ids("prompt_answers"),
                        post_id,
                        user,
                        f"clerk {n}",
                        self.texts[(post_id * 7 + n) % len(self.texts)],
                        at + 60 + n,
                        10**18 + 10**9 + self.next_message(),
                    )
                )

    def next_message(self) -> int:
        return self.ids("messages")

    # -- polls, options, votes, ballots ---------------------------------------------------------

    def _polls_and_votes(self, conn: sqlite3.Connection) -> None:
        size = self.size
        big_votes = size.big_polls * size.big_votes_per_poll
        other_teams = max(1, size.teams - 1)
        polls_per_team = 2
        per_poll = max(1, (size.votes - big_votes) // (other_teams * polls_per_team))
        poll_rows: list[tuple[object, ...]] = []
        option_rows: list[tuple[object, ...]] = []
        vote_rows: list[tuple[int, int, int]] = []
        ballot_rows: list[tuple[int, bytes, bytes]] = []
        for team_id in self.teams:
            if team_id == self.seeded.big_team_id:
                plan = [size.big_votes_per_poll] * size.big_polls
            else:
                plan = [per_poll] * polls_per_team
            previous: int | None = None
            for n, votes in enumerate(plan):
                # every fourth of the big team's polls re-runs the one before; the last one is
                # open, and every tenth poll is anonymous
                rerun = team_id == self.seeded.big_team_id and n % 4 != 0
                is_open = n == len(plan) - 1
                anonymous = n % 10 == 5 or (team_id % 7 == 0 and n == 1)
                poll_id = self._poll(
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
                if team_id == self.seeded.big_team_id and not is_open and not anonymous:
                    self.seeded.results_poll_id = poll_id
                previous = poll_id
            if len(vote_rows) > 200_000:
                self._flush_votes(conn, poll_rows, option_rows, vote_rows, ballot_rows)
        self._flush_votes(conn, poll_rows, option_rows, vote_rows, ballot_rows)

    def _flush_votes(
        self,
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
        conn.executemany(
            "INSERT INTO poll_votes (poll_id, user_id, option_id) VALUES (?, ?, ?)", votes
        )
        conn.executemany(
            "INSERT INTO poll_ballots (poll_id, voter_hash, ballot) VALUES (?, ?, ?)", ballots
        )
        for rows in (polls, options, votes, ballots):
            rows.clear()

    def _poll(
        self,
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
        guild_id, channel_id, manager, _created = self.teams[team_id]
        poll_id = self.ids("polls")
        created = self.now - (of - n) * 5 * DAY - DAY
        closes = self.now + 7 * DAY if is_open else created + 3 * DAY
        closed = None if is_open else closes
        # a re-run asks its chain's question again (chains of 4 in the big team)
        first = n - n % 4 if rerun_of is not None else n
        question = f"Poll {first + 1}: is what you do here a job or a career?"
        if team_id == self.seeded.big_team_id:
            self.seeded.big_poll_question = question
        option_ids = [self.ids("poll_options") for _ in OPTIONS]
        weights = self.rng.sample(range(1, 10), len(OPTIONS))
        picks = self.rng.choices(range(len(OPTIONS)), weights=weights, k=votes)
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
                voter = keyed_hash(self.key, guild_id, SEEDED_USER + user, f"poll:{poll_id}")
                ballot_rows.append(
                    (poll_id, voter, self.ballots.seal(poll, voter, {option_ids[pick]}))
                )
        return poll_id

    # -- reflections ----------------------------------------------------------------------------

    def _reflections(self, conn: sqlite3.Connection) -> None:
        size = self.size
        others = max(0, size.reflections - size.big_reflections)
        per_team, extra = divmod(others, max(1, size.teams - 1))
        ident = key_id(self.key)
        rows: list[tuple[object, ...]] = []
        shares = []
        used: set[str] = set()
        ids: set[int] = set()
        for team_id, (guild_id, channel_id, _manager, _created) in self.teams.items():
            count = per_team + (1 if team_id - 1 <= extra else 0)
            if team_id == self.seeded.big_team_id:
                count = size.big_reflections
            # batches of 4, one a day going back; the last one still waiting (pending)
            for n in range(count):
                batch = n // 4
                pending = n >= count - 2 and count > 4
                posted_at = None if pending else self.now - (batch + 1) * DAY
                rows.append(
                    self._reflection(team_id, guild_id, channel_id, n, posted_at, ident, used, ids)
                )
            shares.append((team_id, self.now + DAY))
        conn.executemany(
            "INSERT INTO reflections (id, team_id, state, body, about, ref, code_hash, nonce,"
            " author_hash, key_id, posted_at, channel_id, message_id, min_authors, author_box)"
            " VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, 3, ?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO reflection_teams (team_id, next_share_at) VALUES (?, ?)", shares
        )

    def _reflection(
        self,
        team_id: int,
        guild_id: int,
        channel_id: int,
        n: int,
        posted_at: int | None,
        ident: bytes,
        used: set[str],
        ids: set[int],
    ) -> tuple[object, ...]:
        while True:
            ref, code = new_code(self.rng), new_code(self.rng)
            reflection_id = self.rng.randrange(1, 2**53)
            if ref not in used and reflection_id not in ids:
                break
        used.add(ref)
        ids.add(reflection_id)
        nonce = hashlib.sha256(b"nonce:%d" % reflection_id).digest()[:16]
        user = SEEDED_USER + n % 9
        author = self.store_hashes.author_hash(guild_id, user, nonce)
        box = None
        if posted_at is None:
            tag = self.store_hashes.author_tag(guild_id, user, team_id)
            box = self.store_hashes.seal_author(reflection_id, tag)
        return (
            reflection_id,
            team_id,
            "pending" if posted_at is None else "posted",
            self.texts[n % len(self.texts)],
            ref,
            code_hash(self.key, guild_id, code),
            nonce,
            author,
            ident,
            posted_at,
            None if posted_at is None else channel_id,
            None if posted_at is None else 10**18 + 7 * 10**9 + self.next_message(),
            box,
        )
