"""What the report says about the Monday burst (tests/bench/burst.py): its figures and its
targets, as (target, measured, met) lines for report.py's `Target`."""

from __future__ import annotations

import math

from tests.bench.burst import EDITS, GLOBAL, BurstResult
from tests.bench.config import DEADLINE

#: the targets
RATIO_TARGET = 1.25
#: a burst of fewer teams (the smoke run's) is held to `RATIO_SMOKE`: for a handful of posts the
#: fixed costs (a round trip, a scheduler pass) weigh more than the limits
SMALL = 50
RATIO_SMOKE = 3.0


def fmt(value: float, spec: str = ".2f") -> str:
    return "-" if math.isnan(value) else format(value, spec)


def burst_targets(result: BurstResult | None) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) lines for report.py's `Target`."""
    name = "Monday burst"
    if result is None:
        return [(f"({name}) every team's prompt and thread exactly once", "not run", None)]
    teams = result.teams
    once = result.once == teams and result.posted_rows == teams and result.outbox_left == 0
    most = max(result.hits.values(), default=0)
    target = RATIO_SMOKE if result.teams < SMALL else RATIO_TARGET
    p99 = result.latency_ms(99)
    slowest = 1000 * (result.latencies[-1] if result.latencies else math.nan)
    names = ", ".join(f"{k}: {v}" for k, v in result.hit_names.items())
    return [
        (
            f"({name}) {teams} teams in {teams} servers due at once: every prompt and its thread "
            "exactly once",
            f"{result.once}/{teams} in Discord, {result.posted_rows}/{teams} posted in the "
            f"database, {result.outbox_left} left in the outbox",
            once,
        ),
        (
            f"({name}) first post to last thread ≤ {target:g}× the least the rate limits allow",
            f"{fmt(result.span)} s for {result.requests} requests (least {fmt(result.minimum)} s"
            f" at {GLOBAL.limit}/s) = {fmt(result.ratio)}×",
            not math.isnan(result.ratio) and result.ratio <= target,
        ),
        (
            f"({name}) at most one 429 per bucket",
            f"max {most} per bucket, {sum(result.hits.values())} in all"
            + (f" ({names})" if names else ""),
            most <= 1,
        ),
        (
            f"({name}) clicks answered within {DEADLINE:g} s throughout (p99 and max)",
            f"{result.answered}/{result.clicks} answered, p99 {fmt(p99, '.0f')} ms, "
            f"max {fmt(slowest, '.0f')} ms",
            result.clicks > 0 and result.answered == result.clicks and slowest <= 1000 * DEADLINE,
        ),
        (
            f"({name}) {result.polls} polls in one channel: ≤ {EDITS.limit} edits in any "
            f"{EDITS.per:g} s, no 429 on them, final counts shown",
            f"most {result.edits_most} in {EDITS.per:g} s ({result.edits} edits), "
            f"{result.edit_hits} 429s, final {'shown' if result.shown_final else 'NOT shown'}",
            result.edits_most <= EDITS.limit and result.edit_hits == 0 and bool(result.shown_final),
        ),
    ]


def burst_section(result: BurstResult | None) -> list[str]:
    """What the report prints about the burst, above the targets."""
    if result is None:
        return []
    most = max(result.hits.values(), default=0)
    out = [
        f"Monday burst: {result.teams} teams in {result.teams} servers due at the same minute, "
        f"the double's rate limits on ({GLOBAL.limit}/s global, {EDITS.limit} per "
        f"{EDITS.per:g} s per channel); {result.polls} polls in the first team's channel "
        "clicked meanwhile",
        f"  seeded in {result.seed_seconds:.1f} s; start to ready {result.ready_seconds:.1f} s; "
        f"first post {fmt(result.first_post_after_ready)} s after ready",
        f"  first post to last thread {fmt(result.span)} s: {result.requests} requests in the "
        f"global limit ({result.posts_and_threads} posts and threads, "
        f"{result.requests - result.posts_and_threads} others: poll posts and edits, …); "
        f"least {fmt(result.minimum)} s ((requests − 1) ÷ {GLOBAL.limit}/s) → {fmt(result.ratio)}×",
        f"  429s: {sum(result.hits.values())}"
        + (f" ({dict(result.hit_names)}; max {most} per bucket)" if result.hits else ""),
        f"  clicks: {result.answered}/{result.clicks} answered,"
        f" p50 {fmt(result.latency_ms(50), '.1f')} ms, p99 {fmt(result.latency_ms(99), '.1f')} ms;"
        f" Breakroom's CPU {result.cpu_seconds:.1f} s; exit code {result.exit_code}",
    ]
    out += ["  " + problem for problem in result.problems]
    if result.log:
        out.append("  Breakroom's log, first warnings/errors:")
        out += ["    " + line[:200] for line in result.log[:4]]
    return [*out, ""]
