"""The big-data section of `make bench` (`python -m tests.bench --bigdata-only` runs it alone):
Breakroom on a database of thousands of servers' worth of data (tests/bench/bigdata_seed.py),
in its own process against the double, answering real interactions one at a time — `/history`
of the big team (a year), `/export` of it, `/poll results` of a re-run poll, the team and poll
autocompletes, vote clicks — and the same bot on an empty database, for its memory.

Latency is the double's own: from INTERACTION_CREATE written to the first callback received,
and for the deferred commands also to the follow-up (the file, the timeline) received. Nothing
here is asserted about time; the figures go to the report's target lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import time
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tests.bench.bigdata_seed import BigdataConfig, BigSize, Seeded, seed_big
from tests.bench.load import _layout, option_ids, percentile, poll_id_of
from tests.bench.procs import BenchProcess
from tests.bench.scenario import BREAKROOM_READY, bot_env, log_problems
from tests.double import Channel, DiscordDouble, Guild, InteractionRecord, Member
from tests.support import TEST_SECRET

if TYPE_CHECKING:
    from tests.bench.targets import Target

LATENCY_TARGET_MS = 100.0
RSS_RATIO_TARGET = 1.5
SEED_TARGET_S = 120.0
VOTE_OPTIONS = ("Job", "Career", "Both")


@dataclass
class Measured:
    name: str
    #: seconds from INTERACTION_CREATE to the first callback, per interaction sent
    first: list[float] = field(default_factory=list)
    #: to the follow-up (deferred commands)
    complete: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    sent: int = 0

    def p99_ms(self, which: str = "first") -> float:
        values = sorted(self.first if which == "first" else self.complete)
        return 1000 * percentile(values, 99) if values else math.nan

    def p50_ms(self, which: str = "first") -> float:
        values = sorted(self.first if which == "first" else self.complete)
        return 1000 * percentile(values, 50) if values else math.nan


@dataclass
class BotRun:
    ready_seconds: float = 0.0
    ready_rss_kib: int = 0
    peak_rss_kib: int = 0
    exit_code: int | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class BigdataResult:
    config: BigdataConfig
    seeded: Seeded
    measured: list[Measured]
    big: BotRun
    empty: BotRun
    #: VmRSS before the exports and VmHWM after them (KiB), and the file's size (bytes)
    export_rss: tuple[int, int] = (0, 0)
    export_bytes: int = 0
    #: the zip's files uncompressed: the team's data as CSV text
    export_text_bytes: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def get(self, name: str) -> Measured | None:
        return next((m for m in self.measured if m.name == name), None)


@dataclass
class BigWorld:
    guilds: list[Guild]
    channels: list[list[Channel]]
    managers: list[Member]
    voters: list[Member]

    def for_seed(self) -> list[tuple[int, list[int], int]]:
        return [
            (g.id, [c.id for c in chans], m.id)
            for g, chans, m in zip(self.guilds, self.channels, self.managers, strict=True)
        ]


def build_world(dd: DiscordDouble, size: BigSize) -> BigWorld:
    guilds, channels, managers = [], [], []
    for g in range(size.guilds):
        guild = dd.add_guild(f"Office {g + 1}")
        guilds.append(guild)
        channels.append(
            [dd.add_channel(guild, f"team-{t + 1}") for t in range(size.teams_per_guild)]
        )
        managers.append(dd.add_member(guild, f"manager{g + 1}", manager=True))
    voters = [dd.add_member(guilds[0], f"clerk{n}") for n in range(size.voters)]
    return BigWorld(guilds, channels, managers, voters)


async def _timed(
    dd: DiscordDouble,
    measured: Measured,
    send: Callable[[], Awaitable[InteractionRecord]],
    *,
    follow: bool = False,
    timeout: float = 60.0,
) -> InteractionRecord | None:
    """Send one interaction, wait for its answer (and follow-up), note the times."""
    measured.sent += 1
    try:
        ix = await send()
        await ix.response(timeout=10)
        if ix.latency is not None:
            measured.first.append(ix.latency)
        if follow and ix.response_type == 5:  # deferred: the answer comes as a follow-up
            await ix.wait_followup(timeout=timeout)
        if follow and ix.sent_at is not None:
            measured.complete.append(asyncio.get_running_loop().time() - ix.sent_at)
        return ix
    except AssertionError as error:
        measured.failures.append(str(error).splitlines()[0][:200])
        return None


async def exercise(
    dd: DiscordDouble,
    world: BigWorld,
    config: BigdataConfig,
    seeded: Seeded | None,
    process: BenchProcess | None = None,
    result: BigdataResult | None = None,
    notes: list[str] | None = None,
) -> list[Measured]:
    """Every measured interaction, `config`'s count of each, on the big team (the first team of
    the first server); with `seeded` None (the empty bot) one of each on a team made first."""
    manager, channel = world.managers[0], world.channels[0][0]
    counts = config
    rss: list[str] = []

    def note(phase: str) -> None:
        if process is not None:
            rss.append(
                f"{phase} {process.rss_kib() / 1024:.0f}/{process.peak_rss_kib() / 1024:.0f}"
            )

    if seeded is None:
        ix = await dd.slash(
            manager, "team create", channel=channel, name="Team 1", options={"channel": channel}
        )
        await ix.response(timeout=10)
        # a prompt posted, so that /history draws its chart here too (matplotlib's ~40 MiB
        # are the charts' cost, whatever the data)
        ix = await dd.slash(manager, "prompt post", channel=channel)
        await ix.response(timeout=10)
        await ix.wait_followup(timeout=30)
    history = Measured("/history")
    for _ in range(counts.history):
        await _timed(
            dd,
            history,
            lambda: dd.slash(manager, "history", channel=channel, weeks=config.weeks),
            follow=True,
        )
    note("/history")
    team_ac = Measured("autocomplete: team")
    for n in range(counts.autocompletes):
        typed = ("Tea", "team 1", "t", "")[n % 4]
        await _timed(
            dd,
            team_ac,
            lambda typed=typed: _autocomplete(dd, manager, channel, "history", "team", typed),
        )
    # a poll to click, posted by the bot in the big team's channel
    created = Measured("/poll create")
    # (each run's own question: the double keeps the other run's poll message in the channel)
    which = "the big database" if seeded is not None else "the empty database"
    question = f"Right now, on {which}: is what you do here a job or a career?"
    ix = await _timed(
        dd,
        created,
        lambda: dd.slash(
            manager,
            "poll create",
            channel=channel,
            question=question,
            options={"options": " | ".join(VOTE_OPTIONS)},
            duration="1d",
        ),
    )
    message = None
    if ix is not None:
        message = await dd.wait_for_message(
            channel, lambda m: bool(m.buttons()) and question in m.text, timeout=10
        )
    poll_ac = Measured("autocomplete: poll")
    for n in range(counts.autocompletes):
        typed = ("job", "", "Poll 9", "career")[n % 4]
        await _timed(
            dd,
            poll_ac,
            lambda typed=typed: _autocomplete(dd, manager, channel, "poll results", "poll", typed),
        )
    note("autocompletes")
    results = Measured("/poll results")
    if seeded is not None:
        poll_ref = str(seeded.results_poll_id)
    else:  # a re-run, closed, as the big run's: its results come with the runs chart too
        poll_ref = await _closed_rerun(dd, manager, channel)
    for _ in range(counts.results):
        await _timed(
            dd,
            results,
            lambda: dd.slash(manager, "poll results", channel=channel, poll=poll_ref),
            follow=True,
        )
    note("/poll results")
    votes = Measured("vote click")
    if message is not None:
        _guild, _channel, custom_ids = _layout(dd, message)
        assert set(option_ids(message)) >= set(VOTE_OPTIONS), option_ids(message)
        voters = world.voters or [manager]
        for n in range(counts.votes):
            label = VOTE_OPTIONS[n * 7 % len(VOTE_OPTIONS)]
            member = voters[n % len(voters)]
            ix = await _timed(
                dd,
                votes,
                lambda member=member, label=label: dd.click(member, message, custom_ids[label]),
            )
            said = ix.original.content if ix is not None and ix.original is not None else ""
            if ix is not None and f"**{label}**" not in said:  # refused, not counted
                votes.failures.append(f"the click was answered {said[:120]!r}")
            await asyncio.sleep(0.02)
    note("votes")
    export = Measured("/export")
    sampler = RssSampler(process) if process is not None else None
    for _ in range(counts.exports):
        ix = await _timed(
            dd,
            export,
            lambda: dd.slash(manager, "export", channel=channel, format="csv"),
            follow=True,
            timeout=120,
        )
        if result is not None and ix is not None and ix.followups:
            result.export_bytes = sum(len(data) for _, data in ix.followups[0].attachments)
            for _name, data in ix.followups[0].attachments:
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    result.export_text_bytes = sum(i.file_size for i in zf.infolist())
    if sampler is not None:
        before, highest = await sampler.stop()
        if result is not None:
            result.export_rss = (before, highest)
    note("/export")
    if notes is not None:
        notes.append("RSS now/peak MiB after each kind: " + ", ".join(rss))
    return [history, export, results, team_ac, poll_ac, votes, created]


class RssSampler:
    """The process's RSS now, and its highest every 10 ms until stopped (VmHWM keeps the peak of
    the whole run, charts included: not what one export adds)."""

    def __init__(self, process: BenchProcess) -> None:
        self.process = process
        self.before = process.rss_kib()
        self.highest = self.before
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            self.highest = max(self.highest, self.process.rss_kib())
            await asyncio.sleep(0.01)

    async def stop(self) -> tuple[int, int]:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.before, self.highest


async def _closed_rerun(dd: DiscordDouble, manager: Member, channel: Channel) -> str:
    """A poll asked, closed, asked again and closed: the id of its second run."""
    question = "Warming up: a job or a career?"
    ix = await dd.slash(
        manager,
        "poll create",
        channel=channel,
        question=question,
        options={"options": " | ".join(VOTE_OPTIONS)},
        duration="1d",
    )
    await ix.response(timeout=10)
    first = await dd.wait_for_message(
        channel, lambda m: bool(m.buttons()) and question in m.text, timeout=10
    )
    ids = [poll_id_of(first)]
    for n in range(2):
        if n:
            ix = await dd.slash(manager, "poll rerun", channel=channel, poll=str(ids[-1]))
            await ix.response(timeout=10)
            await ix.wait_followup(timeout=30)
            ids.append(ids[-1] + 1)  # (the next poll of an empty database)
        ix = await dd.slash(manager, "poll close", channel=channel, poll=str(ids[-1]))
        await ix.response(timeout=10)
    return str(ids[-1])


async def _autocomplete(
    dd: DiscordDouble, member: Member, channel: Channel, command: str, focused: str, typed: str
) -> InteractionRecord:
    await dd.autocomplete(member, command, focused=focused, channel=channel, **{focused: typed})
    assert dd.last_autocomplete is not None
    return dd.last_autocomplete


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


def bigdata_targets(result: BigdataResult | None) -> list[Target]:
    from tests.bench.targets import Target, fmt

    text = f"(big data) {{}} answered in < {LATENCY_TARGET_MS:g} ms p99"
    names = (
        "/history",
        "/export",
        "/poll results",
        "autocomplete: team",
        "autocomplete: poll",
        "vote click",
    )
    if result is None:
        return [Target(text.format(n), "not run", None) for n in names]
    found = []
    for name in names:
        m = result.get(name)
        if m is None:
            found.append(Target(text.format(name), "not measured", None))
            continue
        p99 = m.p99_ms()
        measured = f"p99 {fmt(p99)} ms, p50 {fmt(m.p50_ms())} ms ({len(m.first)}/{m.sent} answered)"
        if m.complete:
            measured += f"; complete p99 {fmt(m.p99_ms('complete'))} ms"
        found.append(
            Target(
                text.format(name),
                measured,
                len(m.first) == m.sent > 0 and not m.failures and p99 < LATENCY_TARGET_MS,
            )
        )
    big, empty = result.big.peak_rss_kib, result.empty.peak_rss_kib
    ratio = big / empty if empty else math.nan
    found.append(
        Target(
            f"(big data) peak RSS ≤ {RSS_RATIO_TARGET:g}× the same bot on an empty database",
            f"{big / 1024:.1f} MiB / {empty / 1024:.1f} MiB = {fmt(ratio, '.2f')}×",
            None if not empty else ratio <= RSS_RATIO_TARGET,
        )
    )
    before, after = result.export_rss
    text = result.export_text_bytes
    found.append(
        Target(
            "(big data) /export streamed: RSS rise during it < half the CSV text it writes",
            f"{(after - before) / 1024:.1f} MiB rise for {text / 2**20:.1f} MiB of CSV"
            f" ({result.export_bytes / 2**20:.1f} MiB zipped)",
            # (a file of less than a MiB tells nothing: the smoke run's)
            None if text < 2**20 else (after - before) * 1024 < text / 2,
        )
    )
    found.append(
        Target(
            f"(big data, extra) database seeded in < {SEED_TARGET_S:g} s",
            f"{result.seeded.seconds:.1f} s",
            result.seeded.seconds < SEED_TARGET_S,
        )
    )
    return found


def bigdata_section(result: BigdataResult | None) -> list[str]:
    from tests.bench.report import table
    from tests.bench.targets import fmt

    if result is None:
        return []
    size, counts = result.config.size, result.seeded.counts
    out = [
        "Big data: one Breakroom process on a database of "
        f"{size.guilds:,} servers, {counts.get('teams', 0):,} teams, "
        f"{counts.get('votes', 0):,} votes ({counts.get('poll_ballots', 0):,} of them sealed "
        f"ballots of open anonymous polls), {counts.get('prompt_answers', 0):,} answers, "
        f"{counts.get('reflections', 0):,} reflections; seeded in {result.seeded.seconds:.1f} s",
        f"the big team: {size.big_posts} weekly posts × {size.big_answers_per_post} answers, "
        f"{size.big_polls} polls × {size.big_votes_per_poll:,} votes, "
        f"{size.big_reflections:,} reflections; /history weeks:{result.config.weeks}, "
        "/export csv, /poll results of a closed re-run poll (3 runs: a chart)",
        "each interaction sent one at a time; first = the first callback, complete = the "
        "follow-up (the timeline, the file) received",
        "empty database: the same double world, a fresh database; /team create, /prompt post and "
        "a poll closed and re-run first (so that its charts are drawn too), then the same "
        "interactions, as many",
    ]
    rows = [
        [
            "interaction",
            "sent",
            "answered",
            "first p50 ms",
            "first p99 ms",
            "complete p50 ms",
            "complete p99 ms",
            "failures",
        ]
    ]
    for m in result.measured:
        rows.append(
            [
                m.name,
                str(m.sent),
                str(len(m.first)),
                fmt(m.p50_ms()),
                fmt(m.p99_ms()),
                fmt(m.p50_ms("complete")),
                fmt(m.p99_ms("complete")),
                str(len(m.failures)),
            ]
        )
    out += [table(rows)]
    rows = [
        [
            "bot",
            "start-to-ready s",
            "RSS when ready MiB",
            "peak RSS MiB",
            "exit code",
            "log problems",
        ]
    ]
    for name, run in (("empty database", result.empty), ("big database", result.big)):
        rows.append(
            [
                name,
                f"{run.ready_seconds:.2f}",
                f"{run.ready_rss_kib / 1024:.1f}",
                f"{run.peak_rss_kib / 1024:.1f}",
                str(run.exit_code),
                str(len(run.errors)),
            ]
        )
    out += [table(rows)]
    for m in result.measured:
        for failure in m.failures[:2]:
            out.append(f"  {m.name} failed: {failure}")
    for name, run in (("empty database", result.empty), ("big database", result.big)):
        if run.errors:
            out.append(f"{name} bot log, first warnings/errors:")
            out += ["  " + line[:200] for line in run.errors[:4]]
    out += result.notes
    out.append(f"big-data run time {result.seconds:.0f} s")
    return [*out, ""]


def render_bigdata(result: BigdataResult) -> str:
    from tests.bench.report import table

    out = bigdata_section(result)
    out.append("targets:")
    rows = [["target", "measured", "verdict"]]
    rows += [[t.text, t.measured, t.verdict] for t in bigdata_targets(result)]
    out += [table(rows)]
    return "\n".join(out)
