"""The targets `make bench` checks, each with what it measured and its verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass

from tests.bench.bigdata_report import bigdata_targets
from tests.bench.burst_report import burst_targets
from tests.bench.config import DEADLINE
from tests.bench.run import BenchReport
from tests.bench.scenario import ScenarioResult

P99_TARGET_MS = 50.0
P99_TARGET_RATE = 500.0
#: p50 at this rate: a lone click must not wait for a batch (group commit)
P50_TARGET_MS = 2.0
P50_TARGET_RATE = 200.0
CPU_RATIO_TARGET = 1.0
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
    at_p50 = next((p for p in br.phases if p.rate == P50_TARGET_RATE), None)
    found.append(
        Target(
            f"p50 ≤ {P50_TARGET_MS:g} ms at {P50_TARGET_RATE:g} votes/s (no wait for a batch)",
            "not run" if at_p50 is None else f"p50 {fmt(at_p50.latency_ms(50), '.2f')} ms",
            None if at_p50 is None else at_p50.latency_ms(50) <= P50_TARGET_MS,
        )
    )
    for against, what in (
        (base, "the bare bot without speed-ups (asyncio, json)"),
        (report.baseline_fast, "the bare bot on the same packages (uvloop, orjson)"),
    ):
        found.append(cpu_target(br, against, what))
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
    if report.config.bigdata is not None:
        found += bigdata_targets(report.bigdata)
    return found


def cpu_target(br: ScenarioResult, base: ScenarioResult | None, what: str) -> Target:
    text = f"CPU per click ≤ {CPU_RATIO_TARGET}× {what}, in every phase"
    if base is None:
        return Target(text, "no baseline", None)
    ratios = [
        ratio(p.cpu_per_click_ms, b.cpu_per_click_ms)
        for p, b in zip(br.phases, base.phases, strict=True)
    ]
    overall = ratio(br.cpu_per_click_ms, base.cpu_per_click_ms)
    known = [r for r in ratios if r is not None]
    return Target(
        text,
        "phases "
        + ", ".join(fmt(r, ".2f") + "×" for r in ratios)
        + f"; all clicks {fmt(overall, '.2f')}×",
        bool(known) and len(known) == len(ratios) and max(known) <= CPU_RATIO_TARGET,
    )


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
