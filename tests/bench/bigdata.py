"""The big-data section of `make bench` (`python -m tests.bench --bigdata-only` runs it alone):
Breakroom on a database of thousands of servers' worth of data (tests/bench/bigdata_seed.py),
in its own process against the double, answering real interactions one at a time — `/history`
of the big team (a year), `/export` of it, `/poll results` of a re-run poll, the team and poll
autocompletes, vote clicks — and the same bot on an empty database, for its memory.

Latency is the double's own: from INTERACTION_CREATE written to the first callback received,
and for the deferred commands also to the follow-up (the file, the timeline) received. Nothing
here is asserted about time; the figures go to the report's target lines.

This module runs the section: the world built, the database seeded, each bot (the empty database's,
then the big one's) started, driven and stopped. The interactions are
tests/bench/bigdata_drive.py's, the figures and the report's lines tests/bench/bigdata_report.py's,
the knobs tests/bench/bigdata_config.py's.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.bench.bigdata_config import BigdataConfig
from tests.bench.bigdata_drive import build_world, exercise
from tests.bench.bigdata_report import BigdataResult, BotRun
from tests.bench.bigdata_seed import seed_big
from tests.bench.procs import BenchProcess
from tests.bench.scenario import BREAKROOM_READY, bot_env, log_problems
from tests.double import DiscordDouble
from tests.support import TEST_SECRET


async def run_bot(
    dd: DiscordDouble,
    env: dict[str, str],
    folder: Path,
    work: Callable[[BenchProcess], Awaitable[None]],
) -> BotRun:
    process = BenchProcess("bot", env, folder)
    run = BotRun()
    await process.start()
    try:
        run.ready_seconds = await process.wait_for_line(BREAKROOM_READY, timeout=180)
        run.ready_rss_kib = process.peak_rss_kib()
        await work(process)
        run.peak_rss_kib = process.peak_rss_kib()
    finally:
        run.exit_code = await process.stop()
    run.errors = log_problems(process.lines)
    return run


async def run_bigdata(config: BigdataConfig, workdir: Path) -> BigdataResult:
    started = time.perf_counter()
    async with DiscordDouble() as dd:
        world = build_world(dd, config.size)
        big_db = workdir / "big" / "data" / "breakroom.db"
        seeded = await seed_big(big_db, TEST_SECRET, world.for_seed(), config.size)
        result = BigdataResult(config, seeded, [], BotRun(), BotRun())

        async def empty_work(process: BenchProcess) -> None:
            notes: list[str] = []
            await exercise(dd, world, config, None, process, None, notes)
            result.notes += [f"empty database: {line}" for line in notes]

        empty_db = workdir / "empty" / "data" / "breakroom.db"
        empty_db.parent.mkdir(parents=True)
        result.empty = await run_bot(dd, bot_env(dd, empty_db), empty_db.parent.parent, empty_work)
        # the empty run's poll and team must not be in the big run's way: a fresh double state
        # is not needed (the big run's database knows nothing of them)

        async def big_work(process: BenchProcess) -> None:
            notes: list[str] = []
            result.measured = await exercise(dd, world, config, seeded, process, result, notes)
            result.notes += [f"big database: {line}" for line in notes]

        result.big = await run_bot(dd, bot_env(dd, big_db), big_db.parent.parent, big_work)
    result.seconds = time.perf_counter() - started
    return result
