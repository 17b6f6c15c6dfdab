"""What the big-data section (tests/bench/bigdata.py) measures and what the report says of it:
each interaction's latencies (`Measured`), each bot's start, memory and log (`BotRun`), the whole
run (`BigdataResult`), and from them the section's target lines (`bigdata_targets`, for
tests/bench/targets.py), its tables (`bigdata_section`, for tests/bench/report.py) and the
`--bigdata-only` printout (`render_bigdata`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tests.bench.bigdata_config import BigdataConfig
from tests.bench.bigdata_seed_state import Seeded
from tests.bench.load import percentile

if TYPE_CHECKING:
    from tests.bench.targets import Target

LATENCY_TARGET_MS = 100.0
RSS_RATIO_TARGET = 1.5
SEED_TARGET_S = 120.0


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
