"""The PNG charts: valid files of a sensible size, deterministic, robust to awkward data."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.charts import answers_chart, poll_runs_chart
from bot.poll_model import PollRun, RunOption
from tests.test_history_helpers import png_size

START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def run(
    number: int,
    votes: dict[str, int],
    *,
    voters: int | None = None,
    closed: bool = True,
    hidden: bool = False,
) -> PollRun:
    total = voters if voters is not None else sum(votes.values())
    created = START + timedelta(weeks=3 * number)
    return PollRun(
        poll_id=number + 1,
        created_at=created,
        closed_at=created + timedelta(days=1) if closed else None,
        voters=total,
        hide_results=hidden,
        options=tuple(
            RunOption(label, count, count / total if total else 0.0)
            for label, count in votes.items()
        ),
    )


def weeks(counts: list[int]) -> list[tuple[date, int]]:
    return [(date(2026, 1, 5) + timedelta(weeks=n), c) for n, c in enumerate(counts)]


def assert_sensible_png(data: bytes) -> None:
    width, height = png_size(data)
    assert (width, height) == (800, 450)
    assert 5_000 < len(data) < 500_000


def test_answers_chart_is_an_800_by_450_png() -> None:
    assert_sensible_png(answers_chart("Front desk", weeks([3, 1, 0, 2, 3, 3, 1, 2])))


def test_poll_runs_chart_is_an_800_by_450_png() -> None:
    runs = [
        run(0, {"Job": 1, "Career": 2, "Both": 0}),
        run(1, {"Job": 0, "Career": 2, "Both": 1}),
        run(2, {"Job": 2, "Career": 2, "Both": 2}),
    ]
    assert_sensible_png(poll_runs_chart(runs, "Job or career?"))


def test_charts_are_deterministic() -> None:
    runs = [run(0, {"Job": 1, "Career": 2}), run(1, {"Job": 2, "Career": 1})]
    assert poll_runs_chart(runs, "Q") == poll_runs_chart(runs, "Q")
    assert answers_chart("T", weeks([1, 2])) == answers_chart("T", weeks([1, 2]))
    assert answers_chart("T", weeks([1, 2])) != answers_chart("T", weeks([2, 1]))


@pytest.mark.parametrize("counts", [[0], [0] * 8, [5], list(range(52)), [1000, 0, 3]], ids=str)
def test_answers_chart_handles_empty_single_and_long_windows(counts: list[int]) -> None:
    assert_sensible_png(answers_chart("A team name that is fairly long, really" * 2, weeks(counts)))


def test_runs_chart_handles_nobody_voting_renamed_and_many_options() -> None:
    many = {f"Option {n} with a long label 🗂️ résumé": n for n in range(20)}
    runs = [
        run(0, {"Job": 0, "Career": 0}, voters=0),
        run(1, {"job": 1, "Career": 1, "New option": 1}),
        run(2, many),
    ]
    assert_sensible_png(poll_runs_chart(runs, "x" * 400))
    assert_sensible_png(poll_runs_chart(runs[:1]))


def test_hidden_runs_are_left_out_unless_asked_for() -> None:
    shown = run(0, {"Job": 1, "Career": 2})
    hidden = run(1, {"Job": 3, "Career": 0}, closed=False, hidden=True)
    assert poll_runs_chart([shown, hidden]) == poll_runs_chart([shown])
    assert poll_runs_chart([shown, hidden], include_hidden=True) != poll_runs_chart([shown])
    with pytest.raises(ValueError):
        poll_runs_chart([hidden])
    with pytest.raises(ValueError):
        poll_runs_chart([])


async def test_rendering_in_threads_at_once_gives_the_same_bytes() -> None:
    runs = [run(0, {"Job": 1, "Career": 2}), run(1, {"Job": 2, "Career": 1})]
    expected = poll_runs_chart(runs, "Q")
    results = await asyncio.gather(
        *(asyncio.to_thread(poll_runs_chart, runs, "Q") for _ in range(6))
    )
    assert all(result == expected for result in results)
