"""One phase of clicks against a running bot (one process or several), and what it measured."""

from __future__ import annotations

import asyncio
import gc
import itertools
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tests.bench import load
from tests.bench.config import DEADLINE, BenchConfig
from tests.bench.load import Click, PhasePlan
from tests.bench.procs import machine_busy_seconds
from tests.bench.stored import check_stored, expected_counts
from tests.double import DiscordDouble, Message

#: Breakroom's live poll message counts, as members read them
#: (an option's section: "**Job**" and below it "`████░░░░` 33% · 1 vote")
_COUNT_LINE = re.compile(r"^\*\*(.+?)\*\*(?: 🏆)?\n`[^`\n]*` \d+% · (\d+) votes?$", re.MULTILINE)


class Measured(Protocol):
    """A bot's process (tests/bench/procs.py), or the group of a sharded bot's processes."""

    def cpu_seconds(self) -> float: ...

    def peak_rss_kib(self) -> int: ...


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
    #: the bot's processes' CPU time (the sum of them all for a sharded bot)
    cpu_seconds: float
    #: how late the generator sent clicks against their schedule (p99 and max, seconds)
    send_lag_p99: float
    send_lag_max: float
    #: CPU share of the benchmark process (double + generator) during the phase, 0..1 per core
    bench_cpu: float
    #: cores kept busy by everything else on the machine during the phase (other engineers' work)
    other_cpu: float = 0.0
    #: the database server's CPU time, when the bot uses one this run started (PostgreSQL)
    server_cpu_seconds: float | None = None
    #: answered clicks per shard id, when the bot runs as several shards
    by_shard: dict[int, int] | None = None
    #: the bot's peak RSS at the end of the phase (VmHWM, KiB)
    peak_rss_kib: int = 0
    edits: int | None = None
    #: the smallest gap between two edits of one poll message (None: fewer than two edits)
    min_edit_gap: float | None = None
    totals_exact: bool | None = None
    totals_note: str = ""
    #: the counts the poll messages showed when the phase ended (summed over the polls), and
    #: whether each showed its final counts
    shown_counts: dict[str, int] | None = None
    shown_final: bool | None = None
    replies_ok: int | None = None

    @property
    def cpu_per_click_ms(self) -> float:
        return 1000 * self.cpu_seconds / self.clicks if self.clicks else float("nan")

    @property
    def server_cpu_per_click_ms(self) -> float | None:
        if self.server_cpu_seconds is None or not self.clicks:
            return None
        return 1000 * self.server_cpu_seconds / self.clicks

    def latency_ms(self, q: float) -> float:
        return 1000 * load.percentile(self.latencies, q)

    @property
    def max_latency(self) -> float:
        return self.latencies[-1] if self.latencies else float("nan")

    @property
    def all_answered(self) -> bool:
        return self.answered == self.clicks


@dataclass
class PollUnderTest:
    message: Message
    poll_id: int
    option_ids: dict[str, int]
    #: where the bot stores it: the SQLite file, or the PostgreSQL database's URL
    database: Path | str
    seeded_votes: int
    anonymous: bool = False


@dataclass
class Clicked:
    """What a scenario clicks: poll messages, and which member clicks which (`route`: member id
    -> index in `messages`; a member it doesn't name clicks the first). With `polls` (Breakroom,
    one per message) each phase also checks every poll's message and stored votes."""

    messages: list[Message]
    polls: list[PollUnderTest] | None = None
    route: dict[int, int] = field(default_factory=dict)

    def expected(self, plan: PhasePlan, n: int) -> dict[int, str]:
        """The stored state poll `n` must reach: the votes of the members who click it."""
        return {m: label for m, label in plan.expected.items() if self.route.get(m, 0) == n}


def shown_counts(message: Message) -> dict[str, int]:
    return {label: int(votes) for label, votes in _COUNT_LINE.findall(message.text)}


def edit_times(dd: DiscordDouble, message_id: int, since: float) -> list[float]:
    suffix = f"/messages/{message_id}"
    return [
        c.at
        for c in dd.calls
        if c.at >= since and c.method == "PATCH" and c.path.endswith(suffix) and c.status < 300
    ]


async def run_phase(
    dd: DiscordDouble,
    bot: Measured,
    plan: PhasePlan,
    target: Clicked,
    config: BenchConfig,
    server_cpu: Callable[[], float | None] | None = None,
) -> PhaseResult:
    """Send one phase's clicks and measure it. With `target.polls` (Breakroom), the phase also
    waits for the poll messages to show the final counts and go quiet, and checks the database.
    `server_cpu`: the database server's CPU seconds so far, when there is one to count."""
    clicks = load.prebuild(dd, target.messages, plan, target.route)
    # The double keeps every interaction and message; a full collection over that heap would
    # pause the double (and so every timestamp) for tens of milliseconds. Nothing made during a
    # phase is garbage worth collecting then.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        return await _run_phase(dd, bot, plan, clicks, target, config, server_cpu)
    finally:
        gc.enable()
        gc.unfreeze()


async def _run_phase(
    dd: DiscordDouble,
    bot: Measured,
    plan: PhasePlan,
    clicks: list[Click],
    target: Clicked,
    config: BenchConfig,
    server_cpu: Callable[[], float | None] | None,
) -> PhaseResult:
    loop = asyncio.get_running_loop()
    polls = target.polls
    edits_before = [dd.edits(m) for m in target.messages]
    started_loop = loop.time()
    started_wall, started_own = time.perf_counter(), time.process_time()
    cpu_before = bot.cpu_seconds()
    server_before = server_cpu() if server_cpu else None
    machine_before = machine_busy_seconds()

    await load.send(dd, clicks, plan.rate)
    await load.wait_answered(clicks, DEADLINE + 2.0)
    if polls is not None:
        wants = [expected_counts(target.expected(plan, n)) for n in range(len(polls))]
        try:
            await dd.wait_until(
                lambda: all(
                    shown_counts(dd.message(p.message.id)) == want
                    for p, want in zip(polls, wants, strict=True)
                ),
                timeout=DEADLINE + 10.0,
                what="the poll messages to show the final counts",
            )
        except AssertionError:
            pass  # reported (shown_final): a message did not show them in time
        await quiet(dd, target.messages, config.quiet)

    cpu = bot.cpu_seconds() - cpu_before
    server_after = server_cpu() if server_cpu else None
    machine = machine_busy_seconds() - machine_before
    wall = time.perf_counter() - started_wall
    own = time.process_time() - started_own
    bench_cpu = own / wall if wall > 0 else 0.0
    result = measure(plan, clicks, cpu, bench_cpu)
    if server_before is not None and server_after is not None:
        result.server_cpu_seconds = server_after - server_before
    result.peak_rss_kib = bot.peak_rss_kib()
    others = machine - cpu - own - (result.server_cpu_seconds or 0.0)
    result.other_cpu = max(0.0, others / wall) if wall > 0 else 0.0
    if polls is not None:
        await check_polls(result, dd, plan, clicks, target, polls, started_loop, edits_before)
    return result


async def quiet(dd: DiscordDouble, messages: list[Message], seconds: float) -> None:
    """Wait until the messages went `seconds` without an edit."""
    edits = [dd.edits(m) for m in messages]
    while True:
        await asyncio.sleep(seconds)
        now = [dd.edits(m) for m in messages]
        if now == edits:
            return
        edits = now


def measure(plan: PhasePlan, clicks: list[Click], cpu: float, bench_cpu: float) -> PhaseResult:
    answered = [c for c in clicks if c.ix.acknowledged and c.ix.latency is not None]
    latencies = sorted(c.ix.latency or 0.0 for c in answered)
    lags = sorted(max(0.0, (c.ix.sent_at or c.due) - c.due) for c in clicks)
    if answered:
        first = min(c.ix.sent_at or 0.0 for c in clicks)
        last = max(c.ix.responded_at or 0.0 for c in answered)
        throughput = len(answered) / max(last - first, 1e-6)
    else:
        throughput = 0.0
    shards = Counter(c.ix.shard[0] for c in answered if c.ix.shard and c.ix.shard[1] > 1)
    return PhaseResult(
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
        by_shard=dict(sorted(shards.items())) if shards else None,
    )


async def check_polls(
    result: PhaseResult,
    dd: DiscordDouble,
    plan: PhasePlan,
    clicks: list[Click],
    target: Clicked,
    polls: list[PollUnderTest],
    started: float,
    edits_before: list[int],
) -> None:
    """The poll messages (edits, their pace, the counts shown), the confirmations, and every
    poll's stored votes against its members' clicks."""
    gaps: list[float] = []
    notes, exact, finals = [], [], []
    shown: Counter[str] = Counter()
    for n, poll in enumerate(polls):
        times = edit_times(dd, poll.message.id, started)
        gaps += [b - a for a, b in itertools.pairwise(times)]
        expected = target.expected(plan, n)
        ok, note = await check_stored(
            poll.database,
            poll.poll_id,
            poll.option_ids,
            expected,
            poll.seeded_votes,
            poll.anonymous,
        )
        exact.append(ok)
        notes.append(note)
        counts = shown_counts(dd.message(poll.message.id))
        shown.update(counts)
        if not poll.anonymous:  # an open anonymous poll shows its counts in steps
            finals.append(counts == expected_counts(expected))
    result.edits = sum(dd.edits(m) for m in target.messages) - sum(edits_before)
    result.min_edit_gap = min(gaps) if gaps else None
    answered = [c for c in clicks if c.ix.acknowledged and c.ix.latency is not None]
    result.replies_ok = sum(1 for c in answered if load.reply_matches(c))
    result.totals_exact = all(exact)
    result.totals_note = " + ".join(notes)
    result.shown_counts = dict(shown)
    result.shown_final = all(finals) if finals else None
