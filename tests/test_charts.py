"""The PNG charts: 2× PNGs that are not blank, bars that tell runs apart and keep ties and zeros
visible, labels never cut, a palette that reads on the dark card, deterministic bytes."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from bot import charts
from bot.charts import (
    answers_chart,
    answers_figure,
    bar_series,
    poll_runs_chart,
    poll_runs_figure,
)
from bot.i18n import day_month
from bot.poll_model import PollRun, RunOption
from tests import chart_snapshots
from tests.chart_snapshots import ANSWERS, RUNS, TWENTY
from tests.test_history_helpers import png_size

START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
SNAPSHOTS = Path(__file__).parents[1] / "docs" / "charts"


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


def weeks(counts: list[int], first: date = date(2026, 1, 5)) -> list[tuple[date, int]]:
    return [(first + timedelta(weeks=n), c) for n, c in enumerate(counts)]


def assert_sensible_png(data: bytes, height: int = 900) -> None:
    """A 2× PNG (1600 px wide) of a reasonable size that shows a chart, not a flat colour."""
    assert png_size(data) == (1600, height)
    assert 5_000 < len(data) < 400_000
    pixels = Image.open(io.BytesIO(data)).convert("RGB")
    colours = pixels.getcolors(1 << 16)
    assert colours is not None and len(colours) > 40
    # the most common colour is one of Discord's dark surfaces: the card or the plot on it
    _, commonest = max(colours)
    assert isinstance(commonest, tuple)
    assert to_hex(tuple(c / 255 for c in commonest)) in (charts.CARD, charts.PLOT)


def drawn_texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def assert_no_text_leaves_the_card(fig: Figure) -> None:
    """Everything drawn (titles, legend, tick and bar labels) lies within the figure."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    drawn = fig.get_tightbbox(renderer)  # inches, from what is actually drawn
    width, height = fig.get_size_inches()
    assert drawn is not None
    assert drawn.x0 >= 0 and drawn.y0 >= 0, drawn
    assert drawn.x1 <= width and drawn.y1 <= height, (drawn, width, height)


def bar_labels(fig: Figure) -> list[list[str]]:
    """The label on each bar, per run (oldest first), from the bar labels matplotlib drew."""
    axes = fig.axes[0]
    labels = [t.get_text() for t in axes.texts]
    per_run = len(bar_series(fig)[0])
    return [labels[i : i + per_run] for i in range(0, len(labels), per_run)]


# -- answers per week --------------------------------------------------------------------------


def test_answers_chart_is_a_1600_by_900_png() -> None:
    assert_sensible_png(answers_chart("Front desk", weeks([3, 1, 0, 2, 3, 3, 1, 2])))


@pytest.mark.parametrize("counts", [[0], [0] * 8, [5], list(range(52)), [1000, 0, 3]], ids=str)
def test_answers_chart_handles_empty_single_and_long_windows(counts: list[int]) -> None:
    name = "A team name that is fairly long, really" * 2
    assert_sensible_png(answers_chart(name, weeks(counts)))
    assert_no_text_leaves_the_card(answers_figure(name, weeks(counts)))


def test_a_window_without_answers_says_no_answers_yet() -> None:
    empty = [t.get_text() for t in drawn_texts(answers_figure("T", weeks([0, 0, 0])))]
    assert "No answers yet" in empty
    assert "0 answers over 3 weeks" in empty
    some = [t.get_text() for t in drawn_texts(answers_figure("T", weeks([0, 1, 0])))]
    assert "No answers yet" not in some
    assert f"1 answer over 3 weeks · busiest: week of {day_month(date(2026, 1, 12))} (1)" in some


def test_one_week_gets_a_slim_bar_and_a_year_thins_its_dates() -> None:
    one = answers_figure("T", weeks([4]))
    [bar] = bar_series(one)[0]
    assert 0.4 < bar.get_window_extent().width / one.dpi < 1.0  # inches: not a wall of colour
    # dates as the language writes them (bot.i18n.day_month: "Jan 5" in English)
    assert [t.get_text() for t in one.axes[0].get_xticklabels()] == [
        f"{day_month(date(2026, 1, 5))}\n2026"
    ]

    counts = [0 if n % 9 == 0 else n % 7 + 1 for n in range(52)]
    year = answers_figure("T", weeks(counts, date(2025, 6, 2)))
    dates = [t.get_text() for t in year.axes[0].get_xticklabels()]
    assert 8 <= len(dates) <= 13
    first, new_year = day_month(date(2025, 6, 2)), day_month(date(2026, 1, 12))
    assert (
        dates[0] == f"{first}\n2025" and f"{new_year}\n2026" in dates
    )  # the year where it changes
    assert sum("\n" in d for d in dates) == 2
    # a count on every week with answers, none on the empty weeks
    assert bar_labels(year) == [[str(c) if c else "" for c in counts]]


# -- runs of a re-run poll ---------------------------------------------------------------------


def test_runs_chart_is_a_1600_by_900_png() -> None:
    runs = [
        run(0, {"Job": 1, "Career": 2, "Both": 0}),
        run(1, {"Job": 0, "Career": 2, "Both": 1}),
        run(2, {"Job": 2, "Career": 2, "Both": 2}),
    ]
    assert_sensible_png(poll_runs_chart(runs, "Job or career?"))


def test_runs_are_grouped_bars_told_apart_by_colour_and_hatch() -> None:
    runs = [
        run(0, {"Job": 1, "Career": 2, "Both": 0}),
        run(1, {"Job": 0, "Career": 2, "Both": 1}),
        run(2, {"Job": 2, "Career": 1, "Both": 3}),
    ]
    fig = poll_runs_figure(runs, "Job or career?")
    series = bar_series(fig)
    assert [len(bars) for bars in series] == [3, 3, 3]  # a bar per option, in each run
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["Job", "Career", "Both"]
    # oldest to newest from left to right, within each option's group
    for option in range(3):
        xs = [bars[option].get_x() for bars in series]
        assert xs == sorted(xs) and option - 0.5 < xs[0] and xs[-1] < option + 0.5
    colours = {to_hex(bars[0].get_facecolor()) for bars in series}
    hatches = {bars[0].get_hatch() or "" for bars in series}
    assert len(colours) == 3 and len(hatches) == 3
    assert series[-1][0].get_hatch() in (None, "")  # the latest run is the solid one
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [
        f"Run 1 · {day_month(date(2026, 1, 6))} · 3 voted",
        f"Run 2 · {day_month(date(2026, 1, 27))} · 3 voted",
        f"Run 3 · {day_month(date(2026, 2, 17))} · 6 voted",
    ]
    # every bar says its percent, zeros too
    assert bar_labels(fig) == [["33%", "67%", "0%"], ["0%", "67%", "33%"], ["33%", "17%", "50%"]]


def test_tied_options_are_two_equal_bars_both_plainly_visible() -> None:
    runs = [run(0, {"Job": 2, "Career": 4, "Both": 0}), run(1, {"Job": 3, "Career": 3, "Both": 0})]
    fig = poll_runs_figure(runs, "Job or career?")
    latest = bar_series(fig)[-1]
    job, career, both = latest
    assert job.get_height() == career.get_height() == 50
    axes = fig.axes[0]
    for bar in (job, career):
        box = bar.get_window_extent()
        assert box.width > 50 and box.height > 100  # display pixels at 100 dpi
        assert axes.bbox.contains(box.x0 + 1, box.y1 - 1)  # inside the plot, not clipped
        assert bar.get_facecolor()[3] == 1  # opaque
    assert bar_labels(fig)[-1] == ["50%", "50%", "0%"]
    # a zero shows as a stub in the run's colour, under its "0%"
    assert both.get_height() == 0 and both.get_linewidth() >= 2
    assert to_hex(both.get_edgecolor()) == to_hex(job.get_facecolor())


def test_twenty_long_options_lie_down_wrapped_never_cut() -> None:
    runs, question = RUNS["runs-twenty-long-options.png"]
    fig = poll_runs_figure(runs, question)
    assert all(bars.orientation == "horizontal" for bars in bar_series(fig))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert [" ".join(label.split()) for label in labels] == TWENTY  # every word, in order
    assert max(label.count("\n") + 1 for label in labels) <= 3
    sizes = {float(t.get_fontsize()) for t in fig.axes[0].get_yticklabels()}
    assert len(sizes) == 1 and min(sizes) >= 6.5
    # taller than 4.5 in so every bar keeps its thickness; 2× pixels of the figure's size
    width, height = fig.get_size_inches()
    assert width == 8 and 4.5 < height <= charts.MAX_HEIGHT
    assert png_size(poll_runs_chart(runs, question)) == (1600, round(height * 200))
    assert_no_text_leaves_the_card(fig)


def test_few_short_options_stand_up_and_many_runs_or_options_lie_down() -> None:
    two = [run(0, {"Job": 1, "Career": 2}), run(1, {"Job": 2, "Career": 1})]
    assert bar_series(poll_runs_figure(two))[0].orientation == "vertical"
    four_by_six, question = RUNS["runs-four-by-six.png"]
    assert bar_series(poll_runs_figure(four_by_six, question))[0].orientation == "horizontal"


@pytest.mark.parametrize("name", sorted(RUNS))
def test_no_label_leaves_the_card(name: str) -> None:
    runs, question = RUNS[name]
    fig = poll_runs_figure(runs, question)
    assert_no_text_leaves_the_card(fig)
    assert_sensible_png(poll_runs_chart(runs, question), round(fig.get_figheight() * 200))


def test_only_the_latest_six_runs_are_drawn_and_the_chart_says_so() -> None:
    runs = [run(n, {"Job": n, "Career": 1}) for n in range(8)]
    fig = poll_runs_figure(runs, "Q")
    assert len(bar_series(fig)) == 6
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {text.split(" · ")[0] for text in legend} == {f"Run {n}" for n in range(3, 9)}
    assert any("2 older runs not shown" in t.get_text() for t in drawn_texts(fig))


@pytest.mark.filterwarnings("ignore:Glyph")  # the emoji: drawn as a box, as in production
def test_runs_chart_handles_nobody_voting_renamed_and_many_options() -> None:
    many = {f"Option {n} with a long label 🗂️ résumé": n for n in range(20)}
    runs = [
        run(0, {"Job": 0, "Career": 0}, voters=0),
        run(1, {"job": 1, "Career": 1, "New option": 1}),
        run(2, many),
    ]
    fig = poll_runs_figure(runs, "x" * 400)
    assert_sensible_png(poll_runs_chart(runs, "x" * 400), round(fig.get_figheight() * 200))
    assert_no_text_leaves_the_card(fig)
    # an option missing from a run is marked, not shown as 0%
    assert bar_labels(fig)[0][-1] == "—"
    assert_sensible_png(poll_runs_chart(runs[:1]))


def test_hidden_runs_are_left_out_unless_asked_for() -> None:
    shown = run(0, {"Job": 1, "Career": 2})
    hidden = run(1, {"Job": 3, "Career": 0}, closed=False, hidden=True)
    assert poll_runs_chart([shown, hidden]) == poll_runs_chart([shown])
    assert poll_runs_chart([shown, hidden], include_hidden=True) != poll_runs_chart([shown])
    legend = poll_runs_figure([shown, hidden], include_hidden=True).legends[0].get_texts()
    assert legend[-1].get_text() == f"Run 2 · {day_month(date(2026, 1, 26))} (open) · 3 voted"
    with pytest.raises(ValueError):
        poll_runs_chart([hidden])
    with pytest.raises(ValueError):
        poll_runs_chart([])


# -- palette, determinism, threads, snapshots -----------------------------------------------


def contrast(first: str, second: str) -> float:
    def luminance(colour: str) -> float:
        channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in
                    to_rgb(colour)]  # fmt: skip
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_palette_reads_on_the_dark_card() -> None:
    for surface in (charts.CARD, charts.PLOT):
        assert contrast(charts.TEXT, surface) >= 7  # WCAG AAA for text
        assert contrast(charts.MUTED, surface) >= 4.5  # AA
        for colour in (charts.BAR, *charts.RUN_COLOURS):
            assert contrast(colour, surface) >= 3, colour  # WCAG for graphical objects
    assert len(set(charts.RUN_COLOURS)) == len(set(charts.RUN_HATCHES)) == charts.MAX_RUNS
    # the labels on the bars are light text on the card, never on the bar colour
    labels = poll_runs_figure([run(0, {"A": 1}), run(1, {"A": 0})]).axes[0].texts
    assert {to_hex(t.get_color()) for t in labels} == {charts.TEXT}


def test_charts_are_deterministic() -> None:
    runs = [run(0, {"Job": 1, "Career": 2}), run(1, {"Job": 2, "Career": 1})]
    assert poll_runs_chart(runs, "Q") == poll_runs_chart(runs, "Q")
    assert answers_chart("T", weeks([1, 2])) == answers_chart("T", weeks([1, 2]))
    assert answers_chart("T", weeks([1, 2])) != answers_chart("T", weeks([2, 1]))


async def test_rendering_in_threads_at_once_gives_the_same_bytes() -> None:
    runs = [run(0, {"Job": 1, "Career": 2}), run(1, {"Job": 2, "Career": 1})]
    expected = poll_runs_chart(runs, "Q")
    results = await asyncio.gather(
        *(asyncio.to_thread(poll_runs_chart, runs, "Q") for _ in range(6))
    )
    assert all(result == expected for result in results)


def test_the_snapshot_script_writes_every_kind(tmp_path: Path) -> None:
    sizes = chart_snapshots.main(tmp_path)
    assert set(sizes) == set(ANSWERS) | set(RUNS)
    for name, size in sizes.items():
        data = (tmp_path / name).read_bytes()
        assert len(data) == size
        assert png_size(data)[0] == 1600
        # Same pixel size as the committed snapshot; not the same bytes: another matplotlib,
        # FreeType or Pillow (a fresh install) may draw a pixel differently.
        committed = (SNAPSHOTS / name).read_bytes()
        assert png_size(data) == png_size(committed), (
            f"{name} is out of date: python -m tests.chart_snapshots"
        )
