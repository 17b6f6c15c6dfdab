"""What the big-data seeding's steps share (tests/bench/bigdata_seed.py runs them): the seeder's
state — the key, the random source, the id counters, the answer texts, the teams and prompts made so
far, the hashers and sealers of bot/poll_ballots.py and bot/reflection_store.py — the time units,
the seeded members' ids, and `Seeded`, what went in."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.poll_ballots import Ballots
from bot.reflection_store import ReflectionStore
from tests.bench_export import answer_text

if TYPE_CHECKING:
    from tests.bench.bigdata_config import BigSize

DAY = 86_400
WEEK = 7 * DAY
#: ids of members who answered and voted in the seeded data (the double never uses them)
SEEDED_USER = 9 * 10**17


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


class SeedState:
    """The rows' shared inputs and counters, and the teams and prompts made so far."""

    def __init__(
        self,
        key: bytes,
        guilds: list[tuple[int, list[int], int]],
        size: BigSize,
        now: datetime,
    ) -> None:
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

    def next_message(self) -> int:
        return self.ids("messages")
