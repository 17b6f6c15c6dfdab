"""`make bench`'s PostgreSQL phase: the same clicks on two shard processes sharing one PostgreSQL.

Issue 15's comparison: one Breakroom process on SQLite (the bench's "Breakroom" scenario, not run
again) against `SHARD_COUNT=2` with `SHARD_IDS=0` and `SHARD_IDS=1` in two processes, one
`DATABASE_URL`, one `BREAKROOM_SECRET`. So that both processes work, there are two polls: one in
a server of shard 0, one in a server of shard 1, and the voters (members of both servers) split
between them, alternately, so each phase's clicks interleave over the two processes at the same
total rate as on SQLite.

The database is the same world: the seeded SQLite file, copied as it was before any scenario ran
(sqlite3's backup), then moved into PostgreSQL by `bot.migrate` (what `python -m bot migrate
--to URL` runs), so the shard processes start on the same teams, polls and votes. The server is
a throwaway cluster (tests/pg.py; `BREAKROOM_TEST_DATABASE_URL` is used instead when set, as in
the test suite), started only for this phase and deleted after it. Its CPU time (the postmaster
and its backends) is counted apart from the bots': a SQLite bot does that work in its own
process.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.migrate import migrate
from bot.migrations import DatabaseError
from tests.bench import load
from tests.bench.config import BenchConfig
from tests.bench.load import PhasePlan
from tests.bench.phase import Clicked, PollUnderTest
from tests.bench.procs import BenchProcess, ProcessGroup, tree_cpu_seconds
from tests.bench.scenario import BREAKROOM_READY, ScenarioResult, bot_env, create_poll, run_scenario
from tests.bench.world import BenchWorld
from tests.pg import PostgresCluster, PostgresError, Unavailable, choose

SHARDS = 2
#: what a shard process that leaves the commands to shard 0's logs (bot/client.py)
NOT_SYNCING = "the process running shard 0 syncs the commands"
NAME = f"Breakroom PG ×{SHARDS}"


@dataclass
class PostgresSetup:
    """The database the shard processes share, or why there is none (`url` None)."""

    url: str | None
    note: str
    cluster: PostgresCluster | None = None
    copy_seconds: float = 0.0


def keep_seed(db_path: Path) -> Path:
    """A copy of the freshly seeded SQLite database (the backup API: one consistent copy, WAL
    and all), for `migrate` once the SQLite scenarios have added their polls to the original."""
    copy = db_path.with_name("seeded-copy.db")
    source, target = sqlite3.connect(db_path), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    return copy


@asynccontextmanager
async def postgresql(seeded: Path) -> AsyncIterator[PostgresSetup]:
    """A PostgreSQL database holding the seeded world, for the block; the cluster stops after it.
    No PostgreSQL on this machine, or one that fails to start, gives a setup with the reason."""
    plan = choose(os.environ)
    if isinstance(plan, Unavailable):
        yield PostgresSetup(None, f"PostgreSQL phase skipped: {plan.reason}")
        return
    started = time.perf_counter()
    try:
        cluster = await asyncio.to_thread(PostgresCluster.from_plan, plan)
    except PostgresError as error:
        yield PostgresSetup(None, f"PostgreSQL phase skipped: the server did not start: {error}")
        return
    try:
        kind = "a throwaway cluster" if cluster.owned else "the server BREAKROOM_TEST_DATABASE_URL"
        url = await cluster.create_database(cluster.unique_name("bench"))
        try:
            copied = await migrate(seeded, url)
        except DatabaseError as error:
            yield PostgresSetup(None, f"PostgreSQL phase skipped: migrate failed: {error}")
            return
        note = (
            f"PostgreSQL {cluster.version} ({kind}, fsync off), the seeded database copied in by "
            f"bot.migrate ({copied.total:,} rows in {copied.seconds:.1f} s); ready in "
            f"{time.perf_counter() - started:.1f} s"
        )
        yield PostgresSetup(url, note, cluster, copied.seconds)
    finally:
        await asyncio.to_thread(cluster.stop)


def shard_env(world: BenchWorld, folder: Path, url: str, shard: int) -> dict[str, str]:
    env = bot_env(world.dd, folder / "unused.db")
    env.update({"DATABASE_URL": url, "SHARD_COUNT": str(SHARDS), "SHARD_IDS": str(shard)})
    return env


async def run_postgresql(
    world: BenchWorld,
    plans: list[PhasePlan],
    config: BenchConfig,
    setup: PostgresSetup,
    folder: Path,
) -> ScenarioResult:
    """The phases on two shard processes, one poll in each one's server; the voters take turns."""
    assert setup.url is not None and world.shard_guilds is not None
    url = setup.url
    dd = world.dd
    processes = [BenchProcess("bot", shard_env(world, folder, url, s), folder) for s in (0, 1)]
    group = ProcessGroup(processes, [f"shard {s}" for s in (0, 1)])
    route = {voter.id: n % SHARDS for n, voter in enumerate(world.voters)}

    async def two_polls() -> Clicked:
        polls = []
        for shard, g in enumerate(world.shard_guilds or ()):
            question = f"On PostgreSQL, shard {shard}: is what you do here a job or a career?"
            poll_id, message = await create_poll(
                dd, world.managers[g], world.channels[g][0], question
            )
            ids = load.option_ids(message)
            polls.append(PollUnderTest(message, poll_id, ids, url, world.seeded_votes))
        return Clicked([p.message for p in polls], polls, route)

    cluster = setup.cluster
    pid = cluster.postmaster_pid() if cluster is not None else None

    def server_cpu() -> float | None:
        return tree_cpu_seconds(pid) if pid is not None else None

    result = await run_scenario(
        NAME, group, BREAKROOM_READY, dd, plans, config, two_polls, server_cpu
    )
    result.notes += describe(group)
    return result


def describe(group: ProcessGroup) -> list[str]:
    """Each process's ready time and peak RSS, and which of them synced the commands (only the
    one running shard 0 may)."""
    parts = []
    for n, name in enumerate(group.names):
        ready = f"ready after {group.ready[n]:.2f} s" if n < len(group.ready) else "not ready"
        rss = f", peak RSS {group.rss_kib[n] / 1024:.1f} MiB" if n < len(group.rss_kib) else ""
        parts.append(f"{name} {ready}{rss}")
    syncing = [
        name
        for name, process in zip(group.names, group.processes, strict=True)
        if not any(NOT_SYNCING in line for line in process.lines)
    ]
    others = len(group.names) - len(syncing)
    sync = f"command sync: {', '.join(syncing) or 'none'}"
    sync += f" ({others} logged that they leave it to shard 0)"
    return ["; ".join(parts) + "; " + sync]
