"""The `make bench` harness, tiny (about 20 clicks): both bots start in their own processes, every
click is answered, and Breakroom stored exactly what the clicks add up to. Nothing about time is
asserted here; the figures are for `make bench`."""

from __future__ import annotations

from pathlib import Path

from tests.bench.report import render
from tests.bench.run import SMOKE, run_bench


async def test_bench_harness_answers_every_click_and_stores_exact_totals(tmp_path: Path) -> None:
    report = await run_bench(SMOKE, tmp_path)

    assert report.baseline is not None and report.anonymous is not None
    for scenario in (report.breakroom, report.baseline, report.anonymous):
        assert [p.clicks for p in scenario.phases] == [10, 10], scenario.name
        for phase in scenario.phases:
            assert phase.answered == phase.clicks, (scenario.name, phase.name)
        assert scenario.exit_code == 0, scenario.name
    for phase in (*report.breakroom.phases, *report.anonymous.phases):
        assert phase.totals_exact, f"{phase.name}: {phase.totals_note}"
        # each confirmation says what the click did (voted, moved or removed)
        assert phase.replies_ok == phase.clicks, phase.name
    for phase in report.breakroom.phases:  # (the anonymous poll's counts move in steps)
        # the poll message, as members read it, ends on the final counts
        assert phase.shown_final, (phase.name, phase.shown_counts)
    assert report.world.seeded_votes == SMOKE.size.seeded_votes
    assert "targets:" in render(report)
