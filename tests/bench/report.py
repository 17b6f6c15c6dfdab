"""The printed tables: figures per phase for every bot, SQLite beside two PostgreSQL shard
processes, the processes, and the targets."""

from __future__ import annotations

import os
import re

from tests.bench.bigdata_report import bigdata_section
from tests.bench.burst_report import burst_section
from tests.bench.phase import PhaseResult
from tests.bench.run import BenchReport
from tests.bench.scenario import ScenarioResult
from tests.bench.targets import Target, fmt, ratio, targets

__all__ = ["Target", "render", "targets"]


def ratio_cell(phase: PhaseResult, base: PhaseResult | None) -> str:
    value = ratio(phase.cpu_per_click_ms, base.cpu_per_click_ms if base else None)
    return fmt(value, ".2f") + "×" if value is not None else "-"


def phase_row(
    bot: str, phase: PhaseResult, base: PhaseResult | None, same: PhaseResult | None = None
) -> list[str]:
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
        ratio_cell(phase, base),
        ratio_cell(phase, same),
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
    "÷ bare",
    "÷ same pkgs",
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
            "runs on",
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
                s.runs_on or "-",
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
    fast = report.baseline_fast

    def nth(scenario: ScenarioResult | None, n: int) -> PhaseResult | None:
        return scenario.phases[n] if scenario is not None and n < len(scenario.phases) else None

    for n, phase in enumerate(br.phases):
        base_phase, same = nth(base, n), nth(fast, n)
        if base_phase is not None:
            rows.append(phase_row("baseline", base_phase, None))
        if same is not None:
            rows.append(phase_row("baseline+speed", same, base_phase))
        rows.append(phase_row("Breakroom", phase, base_phase, same))
        if anon is not None and n < len(anon.phases):
            rows.append(phase_row("Breakroom anon", anon.phases[n], base_phase, same))
    out += [table(rows), ""]
    out += postgresql_section(report)
    pg = report.postgresql
    scenarios = [s for s in (base, fast, br, anon, pg) if s is not None]
    out += [table(process_rows(scenarios)), ""]
    if anon is not None:
        out += [
            "Breakroom anon: the same clicks on an anonymous poll — each vote a sealed ballot "
            "(AES-GCM), the WAL checkpointed and truncated after every batch, counts shown in "
            "steps (so 'final shown' is not asked of it).",
            "",
        ]
    for s in scenarios:
        if s.errors:
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
    out += bigdata_section(report.bigdata)
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
        "final and quiet) ÷ clicks; ÷ bare: against the bare discord.py bot (baseline: asyncio's "
        "loop, json, zlib), ÷ same pkgs: against it on Breakroom's packages (baseline+speed: "
        "uvloop, orjson, zstd), in the same phase; 'runs on' says what each process logged.",
        "send lag: how late the generator sent clicks against their schedule; bench CPU: the "
        "double + generator process (100 = one core);",
        f"others: cores kept busy by every other process on this {os.cpu_count()}-core machine "
        "during the phase (other engineers' work moves the figures).",
        f"total run time {report.seconds:.0f} s",
    ]
    return "\n".join(out)
