"""One benchmark run: the world, Breakroom's process, the baseline's process, their phases."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import importlib.util
import itertools
import logging
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench import load
from tests.bench.baseline_bot import READY_LINE as BASELINE_READY
from tests.bench.load import Click, PhasePlan
from tests.bench.procs import BenchProcess, machine_busy_seconds
from tests.bench.world import OPTIONS, BenchWorld, WorldSize, build_double_world, seed_database
from tests.double import DiscordDouble, Message
from tests.support import TEST_SECRET

BREAKROOM_READY = "Breakroom is ready"
#: Discord refuses a first answer later than this (the double does too)
DEADLINE = 3.0
#: Breakroom's live poll message counts, as members read them
#: (an option's section: "**Job**" and below it "`████░░░░` 33% · 1 vote")
_COUNT_LINE = re.compile(r"^\*\*(.+?)\*\*(?: 🏆)?\n`[^`\n]*` \d+% · (\d+) votes?$", re.MULTILINE)


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


#: what the test suite runs: the whole harness, about 20 clicks, a few seconds
SMOKE = BenchConfig(
    size=WorldSize(guilds=2, teams_per_guild=2, seeded_votes=40, voters=10),
    burst=10,
    rates=(10,),
    seconds=1.0,
    quiet=0.3,
    export=False,
)


@dataclass
class PhaseResult:
    name: str
    rate: float | None
    clicks: int
    answered: int
    #: seconds from INTERACTION_CREATE written to the callback received, ascending
    latencies: list[float]
    #: answered clicks per second, first sent to last answered
    throughput: float
    cpu_seconds: float
    #: how late the generator sent clicks against their schedule (p99 and max, seconds)
    send_lag_p99: float
    send_lag_max: float
    #: CPU share of the benchmark process (double + generator) during the phase, 0..1 per core
    bench_cpu: float
    #: cores kept busy by everything else on the machine during the phase (other engineers' work)
    other_cpu: float = 0.0
    #: the bot's peak RSS at the end of the phase (VmHWM, KiB)
    peak_rss_kib: int = 0
    edits: int | None = None
    #: the smallest gap between two edits of the poll message (None: fewer than two edits)
    min_edit_gap: float | None = None
    totals_exact: bool | None = None
    totals_note: str = ""
    #: the counts the poll message showed when the phase ended, and whether they were final
    shown_counts: dict[str, int] | None = None
    shown_final: bool | None = None
    replies_ok: int | None = None

    @property
    def cpu_per_click_ms(self) -> float:
        return 1000 * self.cpu_seconds / self.clicks if self.clicks else float("nan")

    def latency_ms(self, q: float) -> float:
        return 1000 * load.percentile(self.latencies, q)

    @property
    def max_latency(self) -> float:
        return self.latencies[-1] if self.latencies else float("nan")

    @property
    def all_answered(self) -> bool:
        return self.answered == self.clicks


@dataclass
class ScenarioResult:
    name: str
    ready_seconds: float
    #: peak RSS once ready (before any click), and at the end (VmHWM, KiB)
    ready_rss_kib: int
    peak_rss_kib: int
    phases: list[PhaseResult]
    exit_code: int | None = None
    errors: list[str] = field(default_factory=list)

    def phase(self, name: str) -> PhaseResult | None:
        return next((p for p in self.phases if p.name == name), None)

    @property
    def cpu_per_click_ms(self) -> float:
        clicks = sum(p.clicks for p in self.phases)
        return 1000 * sum(p.cpu_seconds for p in self.phases) / clicks if clicks else float("nan")


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


# -- helpers ---------------------------------------------------------------------------------


def shown_counts(message: Message) -> dict[str, int]:
    return {label: int(votes) for label, votes in _COUNT_LINE.findall(message.text)}


def expected_counts(expected: dict[int, str]) -> dict[str, int]:
    counts = dict.fromkeys(OPTIONS, 0)
    for label in expected.values():
        counts[label] += 1
    return counts


def edit_times(dd: DiscordDouble, message_id: int, since: float) -> list[float]:
    suffix = f"/messages/{message_id}"
    return [
        c.at
        for c in dd.calls
        if c.at >= since and c.method == "PATCH" and c.path.endswith(suffix) and c.status < 300
    ]


def check_stored(
    db_path: Path,
    poll_id: int,
    option_ids: dict[str, int],
    expected: dict[int, str],
    seeded_votes: int,
    anonymous: bool = False,
) -> tuple[bool, str]:
    """Read the database (a separate read-only connection, as the bot runs) and compare every
    stored vote and counter with what the click sequence must have produced."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT user_id, option_id FROM poll_votes WHERE poll_id = ?", (poll_id,)
        ).fetchall()
        # An anonymous poll's ballots are sealed: only their number can be read without the key.
        ballots = conn.execute(
            "SELECT count(*) FROM poll_ballots WHERE poll_id = ?", (poll_id,)
        ).fetchone()[0]
        counters = dict(
            conn.execute(
                "SELECT id, votes FROM poll_options WHERE poll_id = ?", (poll_id,)
            ).fetchall()
        )
        voters = conn.execute("SELECT voters FROM polls WHERE id = ?", (poll_id,)).fetchone()[0]
        others = conn.execute(
            "SELECT (SELECT count(*) FROM poll_votes v JOIN polls p ON p.id = v.poll_id"
            "        WHERE p.question LIKE 'Seeded question%')"
            # anonymous votes are sealed ballots: single-choice seeded polls, one per voter
            " + (SELECT count(*) FROM poll_ballots b JOIN polls p ON p.id = b.poll_id"
            "    WHERE p.question LIKE 'Seeded question%')"
        ).fetchone()[0]
    finally:
        conn.close()
    want = {user: option_ids[label] for user, label in expected.items()}
    stored = dict(rows)
    problems = []
    if anonymous:
        if rows or ballots != len(want):
            problems.append(f"{ballots} ballots for {len(want)} voters")
    elif len(rows) != len(stored) or stored != want:
        wrong = sum(1 for u in set(stored) | set(want) if stored.get(u) != want.get(u))
        problems.append(f"{wrong} members' stored votes differ from their clicks")
    want_counts = {option_ids[label]: n for label, n in expected_counts(expected).items()}
    if counters != want_counts:
        problems.append(f"option counters {counters} != {want_counts}")
    if voters != len(want):
        problems.append(f"voters counter {voters} != {len(want)}")
    if others != seeded_votes:
        problems.append(f"seeded votes {others} != {seeded_votes}")
    if problems:
        return False, "; ".join(problems)
    counts = "/".join(str(n) for n in expected_counts(expected).values())
    return True, f"{len(want)} votes ({counts})"


# -- phases ----------------------------------------------------------------------------------


@dataclass
class PollUnderTest:
    message: Message
    poll_id: int
    option_ids: dict[str, int]
    db_path: Path
    seeded_votes: int
    anonymous: bool = False


async def run_phase(
    dd: DiscordDouble,
    bot: BenchProcess,
    plan: PhasePlan,
    message: Message,
    config: BenchConfig,
    poll: PollUnderTest | None,
) -> PhaseResult:
    """Send one phase's clicks and measure it. With `poll` (Breakroom), the phase also waits
    for the poll message to show the final counts and go quiet, and checks the database."""
    clicks = load.prebuild(dd, message, plan)
    # The double keeps every interaction and message; a full collection over that heap would
    # pause the double (and so every timestamp) for tens of milliseconds. Nothing made during a
    # phase is garbage worth collecting then.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        return await _run_phase(dd, bot, plan, clicks, message, config, poll)
    finally:
        gc.enable()
        gc.unfreeze()


async def _run_phase(
    dd: DiscordDouble,
    bot: BenchProcess,
    plan: PhasePlan,
    clicks: list[Click],
    message: Message,
    config: BenchConfig,
    poll: PollUnderTest | None,
) -> PhaseResult:
    loop = asyncio.get_running_loop()
    edits_before = dd.edits(message) if poll else 0
    started_loop = loop.time()
    started_wall, started_own = time.perf_counter(), time.process_time()
    cpu_before = bot.cpu_seconds()
    machine_before = machine_busy_seconds()

    await load.send(dd, clicks, plan.rate)
    await load.wait_answered(clicks, DEADLINE + 2.0)
    if poll is not None:
        want = expected_counts(plan.expected)
        try:
            await dd.wait_until(
                lambda: shown_counts(dd.message(message.id)) == want,
                timeout=DEADLINE + 10.0,
                what="the poll message to show the final counts",
            )
        except AssertionError:
            pass  # reported (shown_final): the message did not show them in time
        await quiet(dd, message, config.quiet)

    cpu = bot.cpu_seconds() - cpu_before
    machine = machine_busy_seconds() - machine_before
    wall = time.perf_counter() - started_wall
    own = time.process_time() - started_own
    bench_cpu = own / wall if wall > 0 else 0.0
    result = measure(plan, clicks, cpu, bench_cpu, dd, message, started_loop, edits_before, poll)
    result.peak_rss_kib = bot.peak_rss_kib()
    result.other_cpu = max(0.0, (machine - cpu - own) / wall) if wall > 0 else 0.0
    return result


async def quiet(dd: DiscordDouble, message: Message, seconds: float) -> None:
    """Wait until the message went `seconds` without an edit."""
    edits = dd.edits(message)
    while True:
        await asyncio.sleep(seconds)
        now = dd.edits(message)
        if now == edits:
            return
        edits = now


def measure(
    plan: PhasePlan,
    clicks: list[Click],
    cpu: float,
    bench_cpu: float,
    dd: DiscordDouble,
    message: Message,
    started: float,
    edits_before: int,
    poll: PollUnderTest | None,
) -> PhaseResult:
    answered = [c for c in clicks if c.ix.acknowledged and c.ix.latency is not None]
    latencies = sorted(c.ix.latency or 0.0 for c in answered)
    lags = sorted(max(0.0, (c.ix.sent_at or c.due) - c.due) for c in clicks)
    if answered:
        first = min(c.ix.sent_at or 0.0 for c in clicks)
        last = max(c.ix.responded_at or 0.0 for c in answered)
        throughput = len(answered) / max(last - first, 1e-6)
    else:
        throughput = 0.0
    result = PhaseResult(
        name=plan.name,
        rate=plan.rate,
        clicks=len(clicks),
        answered=len(answered),
        latencies=latencies,
        throughput=throughput,
        cpu_seconds=cpu,
        send_lag_p99=load.percentile(lags, 99),
        send_lag_max=lags[-1] if lags else 0.0,
        bench_cpu=bench_cpu,
    )
    if poll is not None:
        times = edit_times(dd, message.id, started)
        result.edits = dd.edits(message) - edits_before
        gaps = [b - a for a, b in itertools.pairwise(times)]
        result.min_edit_gap = min(gaps) if gaps else None
        result.replies_ok = sum(1 for c in answered if load.reply_matches(c))
        result.totals_exact, result.totals_note = check_stored(
            poll.db_path,
            poll.poll_id,
            poll.option_ids,
            plan.expected,
            poll.seeded_votes,
            poll.anonymous,
        )
        result.shown_counts = shown_counts(dd.message(message.id))
        if not poll.anonymous:  # an open anonymous poll shows its counts in steps
            result.shown_final = result.shown_counts == expected_counts(plan.expected)
    return result


# -- scenarios -------------------------------------------------------------------------------


def bot_env(dd: DiscordDouble, db_path: Path) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": dd.token,
        "DISCORD_API_BASE": dd.api_base,
        "DISCORD_GATEWAY_URL": dd.gateway_url,
        "DATABASE_PATH": str(db_path),
        "BREAKROOM_SECRET": TEST_SECRET,
        "LOG_LEVEL": "INFO",
    }


async def create_poll(world: BenchWorld, anonymous: bool = False) -> tuple[int, Message]:
    """`/poll create` by a manager in the first team's channel, open for a day."""
    dd = world.dd
    question = "Is what you do here a job or a career?"
    if anonymous:
        question = "Anonymously: is what you do here a job or a career?"
    ix = await dd.slash(
        world.poll_manager,
        "poll create",
        channel=world.poll_channel,
        question=question,
        options={"options": " | ".join(OPTIONS)},
        duration="1d",
        anonymous=anonymous,
    )
    await ix.response(timeout=10)  # a message, or "thinking" and the message later
    try:
        message = await dd.wait_for_message(
            world.poll_channel,
            lambda m: bool(m.buttons()) and question in m.text,
            timeout=10,
        )
    except AssertionError as error:
        answer = ix.original.text if ix.original is not None else ix.followups
        raise RuntimeError(f"/poll create posted no poll (it answered {answer!r})") from error
    return load.poll_id_of(message), message


async def run_scenario(
    name: str,
    process: BenchProcess,
    ready_line: str,
    world: BenchWorld,
    plans: list[PhasePlan],
    config: BenchConfig,
    get_poll: Callable[[], Awaitable[tuple[Message, PollUnderTest | None]]],
) -> ScenarioResult:
    """Start the bot's process, time it to ready, run every phase, read its peak RSS, stop it.

    `get_poll` gives the message to click, and for Breakroom what to check after each phase."""
    await process.start()
    try:
        ready = await process.wait_for_line(ready_line, timeout=60)
        ready_rss = process.peak_rss_kib()
        message, poll = await get_poll()
        phases = []
        for plan in plans:
            phases.append(await run_phase(world.dd, process, plan, message, config, poll))
        rss = process.peak_rss_kib()
    finally:
        code = await process.stop()
    return ScenarioResult(name, ready, ready_rss, rss, phases, code, log_problems(process.lines))


def log_problems(lines: list[str]) -> list[str]:
    """Warnings and errors the bot logged, and for each traceback the exception it ended with."""
    problems = []
    for n, line in enumerate(lines):
        if "voice will NOT be supported" in line:  # discord.py: no voice libraries installed
            continue
        if any(level in line for level in (" WARNING ", " ERROR ", " CRITICAL ")):
            problems.append(line)
        elif line.startswith("Traceback"):
            for follow in lines[n + 1 : n + 400]:
                if follow and not follow[0].isspace():
                    problems.append(f"  raised {follow}")
                    break
    return problems


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
        async with DiscordDouble() as dd:
            world = build_double_world(dd, db_path, config.size)
            await seed_database(world, config.size)
            plans = load.plan_phases(
                world.voters, OPTIONS, config.burst, config.rates, config.seconds
            )
            env = bot_env(dd, db_path)

            polls: list[Message] = []

            async def breakroom_poll() -> tuple[Message, PollUnderTest]:
                poll_id, message = await create_poll(world)
                polls.append(message)
                ids = load.option_ids(message)
                return message, PollUnderTest(message, poll_id, ids, db_path, world.seeded_votes)

            breakroom = await run_scenario(
                "Breakroom",
                BenchProcess("bot", env, folder),
                BREAKROOM_READY,
                world,
                plans,
                config,
                breakroom_poll,
            )
            anonymous = None
            if config.anonymous:

                async def anonymous_poll() -> tuple[Message, PollUnderTest]:
                    poll_id, message = await create_poll(world, anonymous=True)
                    ids = load.option_ids(message)
                    poll = PollUnderTest(
                        message, poll_id, ids, db_path, world.seeded_votes, anonymous=True
                    )
                    return message, poll

                anonymous = await run_scenario(
                    "Breakroom anon",
                    BenchProcess("bot", env, folder),
                    BREAKROOM_READY,
                    world,
                    plans,
                    config,
                    anonymous_poll,
                )
            baseline = None
            if config.baseline:
                # The baseline clicks the same poll message (the double keeps it), so both bots
                # parse the same payloads.
                async def same_message() -> tuple[Message, None]:
                    return polls[0], None

                baseline = await run_scenario(
                    "baseline",
                    BenchProcess("tests.bench.baseline_bot", env, folder),
                    BASELINE_READY,
                    world,
                    plans,
                    config,
                    same_message,
                )
        export: dict[str, Any] | None = None
        export_note, export_log = "export: not measured", list[str]()
        if config.export:
            export, export_note, export_log = await run_export()
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
    )
