"""The `make bench` harness, tiny (about 20 clicks per bot): every bot starts in its own processes,
every click is answered, and Breakroom stored exactly what the clicks add up to, on SQLite and on
PostgreSQL with two shard processes that both got clicks; and a Monday burst of a few teams,
each posted once. The double's rate limits are on throughout, as in `make bench`. Nothing about
time is asserted here; the figures are for `make bench`.

The PostgreSQL phase follows the suite's rule (tests/pg.py): without a PostgreSQL on the machine
it is skipped and the report says why, except under CI=true, where that fails."""

from __future__ import annotations

import os
from pathlib import Path

from tests.bench.config import SMOKE
from tests.bench.report import render
from tests.bench.run import run_bench
from tests.pg import Unavailable, choose, in_ci


async def test_bench_harness_answers_every_click_and_stores_exact_totals(tmp_path: Path) -> None:
    report = await run_bench(SMOKE, tmp_path)

    assert report.baseline is not None and report.anonymous is not None
    sharded = report.postgresql
    scenarios = [report.breakroom, report.baseline, report.anonymous]
    if isinstance(choose(os.environ), Unavailable) and not in_ci(os.environ):
        assert sharded is None
        assert report.postgresql_note.startswith("PostgreSQL phase skipped: ")
        assert report.postgresql_note in render(report)
    else:
        assert sharded is not None, report.postgresql_note
        assert sharded.processes == 2
        scenarios.append(sharded)
        for phase in sharded.phases:
            # both shard processes answered clicks: the polls of both shards' servers
            assert phase.by_shard == {0: 5, 1: 5}, phase.name
    for scenario in scenarios:
        assert [p.clicks for p in scenario.phases] == [10, 10], scenario.name
        for phase in scenario.phases:
            assert phase.answered == phase.clicks, (scenario.name, phase.name)
        assert scenario.exit_code == 0, scenario.name
    checked = [s for s in scenarios if s is not report.baseline]
    for phase in [p for s in checked for p in s.phases]:
        assert phase.totals_exact, f"{phase.name}: {phase.totals_note}"
        # each confirmation says what the click did (voted, moved or removed)
        assert phase.replies_ok == phase.clicks, phase.name
    for scenario in [s for s in checked if s is not report.anonymous]:
        for phase in scenario.phases:  # (the anonymous poll's counts move in steps)
            # the poll messages, as members read them, end on the final counts
            assert phase.shown_final, (scenario.name, phase.name, phase.shown_counts)
    assert report.world.seeded_votes == SMOKE.size.seeded_votes
    # the Monday burst, small: every team's prompt and thread once, every click answered
    burst = report.burst
    assert burst is not None and burst.exit_code == 0, burst
    assert burst.once == burst.posted_rows == SMOKE.monday and burst.outbox_left == 0
    assert burst.clicks > 0 and burst.answered == burst.clicks
    assert burst.shown_final, "the polls sharing a channel did not show the final counts"
    assert "targets:" in render(report)
    assert "(Monday burst) at most one 429 per bucket" in render(report)
    # the big-data section, tiny: every interaction answered (votes counted), both bots clean
    big = report.bigdata
    assert big is not None
    for measured in big.measured:
        assert measured.sent > 0 and len(measured.first) == measured.sent, measured.name
        assert measured.failures == [], (measured.name, measured.failures)
    assert big.export_bytes > 0 and big.seeded.counts["prompt_answers"] > 0
    assert (big.big.exit_code, big.empty.exit_code) == (0, 0)
    assert (big.big.errors, big.empty.errors) == ([], [])
    assert "(big data) /history answered" in render(report)
