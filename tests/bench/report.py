"""The printed tables: figures per phase for every bot, SQLite beside two PostgreSQL shard
processes, the processes, and the targets."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from tests.bench.burst_report import burst_section, burst_targets
from tests.bench.config import DEADLINE
from tests.bench.phase import PhaseResult
from tests.bench.run import BenchReport
from tests.bench.scenario import ScenarioResult

P99_TARGET_MS = 50.0
P99_TARGET_RATE = 500.0
CPU_RATIO_TARGET = 1.3
RSS_RATIO_TARGET = 1.5
EDIT_GAP_TARGET = 2.0


@dataclass(frozen=True, slots=True)
class Target:
    text: str
    measured: str
    met: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return "n/a" if self.met is None else ("MET" if self.met else "NOT MET")


def fmt(value: float | None, spec: str = ".1f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def ratio(a: float, b: float | None) -> float | None:
    if b is None or not b or math.isnan(b) or math.isnan(a):
        return None
    return a / b


def phase_row(bot: str, phase: PhaseResult, base: PhaseResult | None) -> list[str]:
    cpu_ratio = ratio(phase.cpu_per_click_ms, base.cpu_per_click_ms if base else None)
    totals = "-"
    if phase.totals_exact is not None:
        totals = ("exact: " if phase.totals_exact else "WRONG: ") + phase.totals_note
    return [
        phase.name,
        bot,
        str(phase.clicks),
        str(phase.answered),
        fmt(phase.latency_ms(50)),
        fmt(phase.latency_ms(95)),
        fmt(phase.latency_ms(99)),
        fmt(1000 * phase.max_latency, ".0f"),
        fmt(phase.throughput, ".0f"),
        fmt(phase.cpu_per_click_ms, ".3f"),
        fmt(cpu_ratio, ".2f") + "×" if cpu_ratio is not None else "-",
        "-" if phase.edits is None else str(phase.edits),
        "-" if phase.shown_final is None else ("yes" if phase.shown_final else "NO"),
        fmt(phase.min_edit_gap, ".2f"),
        fmt(1000 * phase.send_lag_p99, ".1f"),
        fmt(100 * phase.bench_cpu, ".0f"),
        fmt(phase.other_cpu, ".2f"),
        totals,
    ]


HEADER = [
    "phase",
    "bot",
    "clicks",
    "answered",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "clicks/s",
    "CPU ms/click",
    "÷ base",
    "edits",
    "final shown",
    "min edit gap s",
    "send lag p99 ms",
    "bench CPU %",
    "others, cores",
    "stored totals",
]


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(w) if i in (0, 1, len(row) - 1) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def targets(report: BenchReport) -> list[Target]:
    br, base = report.breakroom, report.baseline
    found: list[Target] = []
    burst = br.phases[0] if br.phases else None
    if burst is not None:
        found.append(
            Target(
                f"every click answered, none later than {DEADLINE:g} s ({burst.name} at once)",
                f"{burst.answered}/{burst.clicks} answered, "
                f"slowest {fmt(burst.max_latency, '.2f')} s",
                burst.all_answered and burst.max_latency <= DEADLINE,
            )
        )
    at_rate = next((p for p in br.phases if p.rate == P99_TARGET_RATE), None)
    found.append(
        Target(
            f"p99 ≤ {P99_TARGET_MS:g} ms at {P99_TARGET_RATE:g} votes/s sustained",
            "not run"
            if at_rate is None
            else f"p99 {fmt(at_rate.latency_ms(99))} ms"
            f" ({at_rate.answered}/{at_rate.clicks} answered)",
            None
            if at_rate is None
            else at_rate.all_answered and at_rate.latency_ms(99) <= P99_TARGET_MS,
        )
    )
    if base is None:
        found.append(Target(f"CPU per click ≤ {CPU_RATIO_TARGET}× baseline", "no baseline", None))
    else:
        ratios = [
            ratio(p.cpu_per_click_ms, b.cpu_per_click_ms)
            for p, b in zip(br.phases, base.phases, strict=True)
        ]
        overall = ratio(br.cpu_per_click_ms, base.cpu_per_click_ms)
        known = [r for r in ratios if r is not None]
        found.append(
            Target(
                f"CPU per click ≤ {CPU_RATIO_TARGET}× baseline (in every phase)",
                "phases "
                + ", ".join(fmt(r, ".2f") + "×" for r in ratios)
                + f"; all clicks {fmt(overall, '.2f')}×",
                bool(known) and len(known) == len(ratios) and max(known) <= CPU_RATIO_TARGET,
            )
        )
    exact = [p.totals_exact for p in br.phases]
    found.append(
        Target(
            "stored totals exact (database checked after every phase)",
            f"{sum(1 for e in exact if e)}/{len(exact)} phases exact",
            bool(exact) and all(e is True for e in exact),
        )
    )
    gaps = [p.min_edit_gap for p in br.phases if p.min_edit_gap is not None]
    edits = sum(p.edits or 0 for p in br.phases)
    found.append(
        Target(
            f"poll-message edits ≤ 1 per {EDIT_GAP_TARGET:g} s per poll",
            f"{edits} edits, closest two {fmt(min(gaps) if gaps else None, '.2f')} s apart",
            not gaps or min(gaps) >= EDIT_GAP_TARGET,
        )
    )
    shown = [p.shown_final for p in br.phases]
    found.append(
        Target(
            "(extra) the poll message shows the final counts when each phase ends",
            f"{sum(1 for s in shown if s)}/{len(shown)} phases",
            bool(shown) and all(s is True for s in shown),
        )
    )
    size = report.config.size
    world = f"{size.guilds} servers, {size.guilds * size.teams_per_guild} teams, "
    world += f"{report.world.seeded_votes:,} votes"
    if base is None:
        found.append(Target(f"peak RSS ≤ {RSS_RATIO_TARGET}× baseline", "no baseline", None))
    else:
        rss_ratio = br.peak_rss_kib / base.peak_rss_kib
        found.append(
            Target(
                f"peak RSS ≤ {RSS_RATIO_TARGET}× baseline ({world})",
                f"{br.peak_rss_kib / 1024:.1f} MiB / {base.peak_rss_kib / 1024:.1f} MiB"
                f" = {rss_ratio:.2f}×",
                rss_ratio <= RSS_RATIO_TARGET,
            )
        )
    anon = report.anonymous
    if anon is not None:
        anon_rate = next((p for p in anon.phases if p.rate == P99_TARGET_RATE), None)
        anon_exact = [p.totals_exact for p in anon.phases]
        found.append(
            Target(
                f"(anonymous poll) every click answered, p99 ≤ {P99_TARGET_MS:g} ms at "
                f"{P99_TARGET_RATE:g}/s, totals exact",
                f"{sum(p.answered for p in anon.phases)}/{sum(p.clicks for p in anon.phases)}"
                f" answered, p99 {fmt(anon_rate.latency_ms(99) if anon_rate else None)} ms, "
                f"{sum(1 for e in anon_exact if e)}/{len(anon_exact)} exact",
                all(p.all_answered and p.max_latency <= DEADLINE for p in anon.phases)
                and (anon_rate is None or anon_rate.latency_ms(99) <= P99_TARGET_MS)
                and all(e is True for e in anon_exact),
            )
        )
    found.append(postgresql_target(report))
    if report.config.monday:
        found += [Target(*line) for line in burst_targets(report.burst)]
    return found


def postgresql_target(report: BenchReport) -> Target:
    text = (
        f"(PostgreSQL, 2 shard processes) every click answered within {DEADLINE:g} s, "
        "both shards clicked, totals exact"
    )
    pg = report.postgresql
    if pg is None:
        return Target(text, report.postgresql_note or "not run", None)
    answered = sum(p.answered for p in pg.phases)
    clicks = sum(p.clicks for p in pg.phases)
    exact = sum(1 for p in pg.phases if p.totals_exact)
    both = all(p.by_shard and len(p.by_shard) == 2 for p in pg.phases)
    return Target(
        text,
        f"{answered}/{clicks} answered, slowest {fmt(max(p.max_latency for p in pg.phases), '.2f')}"
        f" s, {'both shards in every phase' if both else 'NOT both shards'}, "
        f"{exact}/{len(pg.phases)} exact",
        answered == clicks
        and all(p.max_latency <= DEADLINE for p in pg.phases)
        and both
        and exact == len(pg.phases),
    )


PG_HEADER = [
    "phase",
    "setup",
    "clicks",
    "answered",
    "p50 ms",
    "p99 ms",
    "max ms",
    "votes/s",
    "CPU ms/click",
    "+ server ms/click",
    "answered per shard",
    "others, cores",
    "stored totals",
]


def pg_row(setup: str, phase: PhaseResult) -> list[str]:
    totals = "-"
    if phase.totals_exact is not None:
        totals = ("exact: " if phase.totals_exact else "WRONG: ") + phase.totals_note
    shards = "-"
    if phase.by_shard:
        shards = ", ".join(f"{shard}: {n}" for shard, n in phase.by_shard.items())
    return [
        phase.name,
        setup,
        str(phase.clicks),
        str(phase.answered),
        fmt(phase.latency_ms(50)),
        fmt(phase.latency_ms(99)),
        fmt(1000 * phase.max_latency, ".0f"),
        fmt(phase.throughput, ".0f"),
        fmt(phase.cpu_per_click_ms, ".3f"),
        fmt(phase.server_cpu_per_click_ms, ".3f"),
        shards,
        fmt(phase.other_cpu, ".2f"),
        totals,
    ]


def postgresql_section(report: BenchReport) -> list[str]:
    """One SQLite process beside two shard processes on PostgreSQL, phase by phase."""
    pg = report.postgresql
    out = ["PostgreSQL: the same clicks, one process on SQLite beside 2 shard processes"]
    out.append(report.postgresql_note)
    if pg is None:
        return [*out, ""]
    out.append(
        "2 shards: SHARD_COUNT=2, SHARD_IDS=0 and SHARD_IDS=1 in two processes, one DATABASE_URL;"
        " a poll in a server of each shard, the voters (members of both) taking turns between"
        " them, at the same total rate"
    )
    out += pg.notes
    rows = [PG_HEADER]
    for n, phase in enumerate(pg.phases):
        if n < len(report.breakroom.phases):
            rows.append(pg_row("1 process, SQLite", report.breakroom.phases[n]))
        rows.append(pg_row("2 shards, PostgreSQL", phase))
    out += [table(rows)]
    out.append(
        "CPU ms/click: the bot processes' (both shards' summed); + server: the PostgreSQL "
        "server's own (postmaster and backends), which SQLite spends inside the bot's process."
    )
    return [*out, ""]


def process_rows(scenarios: list[ScenarioResult]) -> list[list[str]]:
    rows = [
        [
            "bot",
            "start-to-ready s",
            "RSS when ready MiB",
            "peak RSS MiB",
            "exit code",
            "scenario s",
            "log problems",
        ]
    ]
    for s in scenarios:
        rows.append(
            [
                s.name if s.processes == 1 else f"{s.name} ({s.processes} processes, summed)",
                f"{s.ready_seconds:.2f}",
                f"{s.ready_rss_kib / 1024:.1f}",
                f"{s.peak_rss_kib / 1024:.1f}",
                str(s.exit_code),
                f"{s.seconds:.0f}",
                str(len(s.errors)),
            ]
        )
    return rows


def strip_time(line: str) -> str:
    """A log line without its timestamp (`2026-01-01 10:00:00,123 WARNING name: text`)."""
    parts = line.split(" ", 2)
    return parts[2] if len(parts) == 3 and parts[0][:4].isdigit() else line


def distinct(lines: list[str]) -> list[str]:
    """One line per kind of message, with how many there were (numbers and references are
    blanked to compare them)."""
    counts: dict[str, int] = {}
    first: dict[str, str] = {}
    for line in lines:
        key = re.sub(r"reference \w+|'[^']*'|\d+|\*\*\w+\*\*", "#", strip_time(line))
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, strip_time(line))
    return [f"{first[key]} (×{count})" for key, count in counts.items()]


def export_line(report: BenchReport) -> str:
    """Issue 6's figure, from tests/bench_export.py (its own bot, in the benchmark process)."""
    figures = report.export
    if figures is None:
        return report.export_note
    try:
        return (
            f"export (tests/bench_export.py, csv): a team with {int(figures['answers']):,} answers"
            f" exported in {figures['export_seconds']:.2f} s"
            f" ({figures['export_megabytes']:.2f} MB);"
            f" slowest other reply meanwhile {1000 * figures['slowest_other_reply_seconds']:.0f} ms"
            f" ({int(figures['other_replies_during_export'])} /help and /team list sent during it)"
        )
    except (KeyError, TypeError, ValueError):
        return "export: " + ", ".join(f"{key} {value}" for key, value in figures.items())


def render(report: BenchReport) -> str:
    br, base = report.breakroom, report.baseline
    size = report.config.size
    out = [
        "Breakroom benchmark (make bench): each bot in its own process, driven through the "
        "Discord double",
        f"world: {size.guilds} servers × {size.teams_per_guild} teams, "
        f"{report.world.seeded_polls} seeded polls with {report.world.seeded_votes:,} votes "
        f"(seeded in {report.world.seed_seconds:.1f} s); {size.voters} members click",
        "load average before the run: "
        + ", ".join(f"{x:.2f}" for x in report.load_before)
        + " (the machine may be shared: figures move with other work on it)",
        "",
    ]
    anon = report.anonymous
    rows = [HEADER]
    for n, phase in enumerate(br.phases):
        base_phase = base.phases[n] if base is not None and n < len(base.phases) else None
        if base_phase is not None:
            rows.append(phase_row("baseline", base_phase, None))
        rows.append(phase_row("Breakroom", phase, base_phase))
        if anon is not None and n < len(anon.phases):
            rows.append(phase_row("Breakroom anon", anon.phases[n], base_phase))
    out += [table(rows), ""]
    out += postgresql_section(report)
    pg = report.postgresql
    out += [table(process_rows([s for s in (base, br, anon, pg) if s is not None])), ""]
    if anon is not None:
        out += [
            "Breakroom anon: the same clicks on an anonymous poll — each vote a sealed ballot "
            "(AES-GCM), the WAL checkpointed and truncated after every batch, counts shown in "
            "steps (so 'final shown' is not asked of it).",
            "",
        ]
    for s in (base, br, anon, pg):
        if s is not None and s.errors:
            out.append(f"{s.name} log, first warnings/errors:")
            out += ["  " + line[:200] for line in distinct(s.errors)[:4]]
            if any("Can't keep up" in line for line in s.errors):
                out += [
                    "  (\"Can't keep up … ~41 s behind\": discord.py's keep-alive thread records "
                    "a heartbeat as sent only after the loop sent it,",
                    "   and the double ACKs at once, so a busy loop can compare the ACK with the "
                    "previous heartbeat; no click waited that long: see max ms)",
                ]
            out.append("")
    out += burst_section(report.burst)
    out.append("targets:")
    target_rows = [["target", "measured", "verdict"]]
    target_rows += [[t.text, t.measured, t.verdict] for t in targets(report)]
    out += [table(target_rows), ""]
    out.append(export_line(report))
    if report.export_log:
        out.append("export benchmark log (its bot runs in the benchmark process):")
        out += ["  " + line[:200] for line in distinct(report.export_log)[:4]]
    out += [
        "",
        "latency: from INTERACTION_CREATE written by the double to the bot's callback received.",
        "CPU ms/click: utime+stime of the bot's process over the phase (until its poll message is "
        "final and quiet) ÷ clicks; ÷ base: the same ratio for the baseline in the same phase.",
        "send lag: how late the generator sent clicks against their schedule; bench CPU: the "
        "double + generator process (100 = one core);",
        f"others: cores kept busy by every other process on this {os.cpu_count()}-core machine "
        "during the phase (other engineers' work moves the figures).",
        f"total run time {report.seconds:.0f} s",
    ]
    return "\n".join(out)
