"""One benchmark run: the world, Breakroom's process, the baseline's process, their phases, and
the PostgreSQL phase (two shard processes, tests/bench/postgres.py)."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench import load
from tests.bench.baseline_bot import READY_LINE as BASELINE_READY
from tests.bench.bigdata import run_bigdata
from tests.bench.bigdata_report import BigdataResult
from tests.bench.burst import BurstResult, run_burst
from tests.bench.config import DEADLINE, SMOKE, BenchConfig
from tests.bench.phase import Clicked, PhaseResult, PollUnderTest
from tests.bench.postgres import keep_seed, postgresql, run_postgresql
from tests.bench.procs import BenchProcess
from tests.bench.scenario import (
    BREAKROOM_READY,
    ScenarioResult,
    bot_env,
    create_poll,
    log_problems,
    run_scenario,
)
from tests.bench.world import OPTIONS, BenchWorld, build_double_world, seed_database
from tests.double import DiscordDouble, Message

__all__ = ["DEADLINE", "SMOKE", "BenchConfig", "BenchReport", "PhaseResult", "ScenarioResult"]

QUESTION = "Is what you do here a job or a career?"
ANONYMOUS_QUESTION = "Anonymously: is what you do here a job or a career?"


@dataclass
class BenchReport:
    config: BenchConfig
    world: BenchWorld
    breakroom: ScenarioResult
    baseline: ScenarioResult | None
    #: Breakroom on an anonymous poll: what the sealed, history-free storage costs
    anonymous: ScenarioResult | None
    export: dict[str, Any] | None
    export_note: str
    #: warnings and errors logged in this process during the export benchmark
    export_log: list[str]
    load_before: tuple[float, float, float]
    seconds: float = 0.0
    #: the same clicks on two shard processes sharing one PostgreSQL (None: not run)
    postgresql: ScenarioResult | None = None
    #: which PostgreSQL and how it was filled, or why the phase was not run
    postgresql_note: str = ""
    #: the baseline on Breakroom's packages (uvloop, discord.py's speed extra)
    baseline_fast: ScenarioResult | None = None
    #: the Monday-morning burst (tests/bench/burst.py; None: not run)
    burst: BurstResult | None = None
    #: Breakroom on a big database (None: not run)
    bigdata: BigdataResult | None = None


class LogLines(logging.Handler):
    """Keeps the benchmark process's own log lines (the export benchmark runs a bot in it)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += self.format(record).splitlines()


async def run_export() -> tuple[dict[str, Any] | None, str, list[str]]:
    """Issue 6's figure, if `tests/bench_export.py` is there (owned by the history engineer):
    its `run()` starts its own bot in this process, seeds 10,000 answers and exports them."""
    if importlib.util.find_spec("tests.bench_export") is None:
        return None, "export: not available (tests/bench_export.py does not exist)", []
    module = importlib.import_module("tests.bench_export")
    run = getattr(module, "run", None)
    if run is None:
        return None, "export: not available (tests/bench_export.py has no run())", []
    handler = LogLines()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        figures: dict[str, Any] = await run(answers=10_000, fmt="csv")
    except Exception as error:  # a figure we couldn't get is reported, not hidden
        return None, f"export: failed ({type(error).__name__}: {error})", handler.lines
    finally:
        root.removeHandler(handler)
    return figures, "", log_problems(handler.lines)


async def run_bench(config: BenchConfig, workdir: Path | None = None) -> BenchReport:
    started = time.perf_counter()
    load_before = os.getloadavg()
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        folder = workdir
        db_path = folder / "data" / "breakroom.db"
        async with DiscordDouble(rate_limits=True) as dd:  # as Discord limits requests
            world = build_double_world(dd, db_path, config.size)
            await seed_database(world, config.size)
            seeded = keep_seed(db_path) if config.postgresql else None
            plans = load.plan_phases(
                world.voters, OPTIONS, config.burst, config.rates, config.seconds
            )
            env = bot_env(dd, db_path)
            posted: list[Message] = []

            def breakroom_poll(
                question: str, anonymous: bool = False
            ) -> Callable[[], Awaitable[Clicked]]:
                async def make() -> Clicked:
                    poll_id, message = await create_poll(
                        dd, world.poll_manager, world.poll_channel, question, anonymous
                    )
                    posted.append(message)
                    ids = load.option_ids(message)
                    poll = PollUnderTest(
                        message, poll_id, ids, db_path, world.seeded_votes, anonymous
                    )
                    return Clicked([message], [poll])

                return make

            breakroom = await run_scenario(
                "Breakroom",
                BenchProcess("bot", env, folder),
                BREAKROOM_READY,
                dd,
                plans,
                config,
                breakroom_poll(QUESTION),
            )
            anonymous = None
            if config.anonymous:
                anonymous = await run_scenario(
                    "Breakroom anon",
                    BenchProcess("bot", env, folder),
                    BREAKROOM_READY,
                    dd,
                    plans,
                    config,
                    breakroom_poll(ANONYMOUS_QUESTION, anonymous=True),
                )
            baseline = baseline_fast = None
            if config.baseline:
                # The baseline clicks the same poll message (the double keeps it), so both bots
                # parse the same payloads.
                message = posted[0]

                async def same_message() -> Clicked:
                    return Clicked([message])

                baseline = await run_scenario(
                    "baseline",
                    BenchProcess("tests.bench.baseline_bot", env, folder),
                    BASELINE_READY,
                    dd,
                    plans,
                    config,
                    same_message,
                )
                # The same bare bot on Breakroom's packages: what the speed-ups alone give.
                baseline_fast = await run_scenario(
                    "baseline+speed",
                    BenchProcess(
                        "tests.bench.baseline_bot", {**env, "BASELINE_SPEEDUPS": "1"}, folder
                    ),
                    BASELINE_READY,
                    dd,
                    plans,
                    config,
                    same_message,
                )
            sharded, sharded_note = None, "PostgreSQL phase: not run (--no-postgresql)"
            if seeded is not None:
                if world.shard_guilds is None:
                    sharded_note = "PostgreSQL phase skipped: the world has no server of shard 1"
                else:
                    async with postgresql(seeded) as setup:
                        sharded_note = setup.note
                        if setup.url is not None:
                            sharded = await run_postgresql(world, plans, config, setup, folder)
        burst = await run_burst(config, folder) if config.monday else None
        export: dict[str, Any] | None = None
        export_note, export_log = "export: not measured", list[str]()
        if config.export:
            export, export_note, export_log = await run_export()
        bigdata = None
        if config.bigdata is not None:
            (folder / "bigdata").mkdir()
            bigdata = await run_bigdata(config.bigdata, folder / "bigdata")
    return BenchReport(
        config,
        world,
        breakroom,
        baseline,
        anonymous,
        export,
        export_note,
        export_log,
        load_before,
        time.perf_counter() - started,
        sharded,
        sharded_note,
        baseline_fast,
        burst,
        bigdata,
    )
