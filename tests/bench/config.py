"""The benchmark's knobs (`python -m tests.bench --help`), and the smoke run the test suite uses."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.bench.bigdata_config import SMOKE_BIGDATA, BigdataConfig
from tests.bench.world import WorldSize

#: Discord refuses a first answer later than this (the double does too)
DEADLINE = 3.0


@dataclass(frozen=True, slots=True)
class BenchConfig:
    size: WorldSize = field(default_factory=WorldSize)
    burst: int = 500
    rates: tuple[int, ...] = (200, 500, 800)
    seconds: float = 10.0
    #: a phase ends once the poll message went this long without an edit (Breakroom edits it
    #: at most every 2.5 s, and once more after the last vote)
    quiet: float = 3.0
    baseline: bool = True
    export: bool = True
    #: the same phases again on an anonymous poll (sealed ballots, a WAL checkpoint per batch)
    anonymous: bool = True
    #: the same phases again on two shard processes sharing one PostgreSQL (tests/bench/postgres.py)
    postgresql: bool = True
    #: a folder: py-spy samples each single-process bot's phases into it (tests/bench/profile.py)
    profile: str | None = None
    #: the Monday-morning burst (tests/bench/burst.py): teams in as many servers due at once (0:
    #: not run), polls sharing the first team's channel, the members clicking them, and how often
    monday: int = 500
    monday_polls: int = 3
    monday_voters: int = 200
    monday_click_rate: float = 20.0
    #: Breakroom on a big database (tests/bench/bigdata.py); None: not run
    bigdata: BigdataConfig | None = field(default_factory=BigdataConfig)


#: what the test suite runs: the whole harness, about 20 clicks per scenario, a few seconds each
SMOKE = BenchConfig(
    size=WorldSize(guilds=2, teams_per_guild=2, seeded_votes=40, voters=10),
    burst=10,
    rates=(10,),
    seconds=1.0,
    quiet=0.3,
    export=False,
    monday=6,
    monday_voters=10,
    monday_click_rate=10.0,
    bigdata=SMOKE_BIGDATA,
)
