"""The big-data section's knobs: how big its database is (`BigSize`, seeded by
tests/bench/bigdata_seed.py) and how many of each interaction it sends (`BigdataConfig`, sent by
tests/bench/bigdata_drive.py), with the smaller set the test suite's smoke run uses."""

from __future__ import annotations

from dataclasses import dataclass, field


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
