"""What the charts say (bot/charts.py), in the language of the moment: the caller says which
(a member's for `/poll results`, the team's for `/history`) and renders through
`asyncio.to_thread`, which carries that language into the thread (it copies the context).

Plain functions from data to words; nothing from matplotlib but the axis formatter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from matplotlib.ticker import FuncFormatter

from bot.i18n import _, day, day_month, n_, percent, speaking
from bot.poll_model import PollRun


def day_label(moment: date | datetime, *, year: bool = False) -> str:
    """A day as the current language writes it, with or without its year."""
    return day(moment) if year else day_month(moment)


def percent_label(value: float) -> str:
    """A percentage (0–100, rounded to a whole one) as the current language writes it."""
    return percent(round(value) / 100)


def percent_axis(language: str) -> FuncFormatter:
    """An axis of percentages (0–100) in `language`, whenever the figure is drawn."""

    def label(value: float, _position: object) -> str:
        with speaking(language):
            return percent_label(value)

    return FuncFormatter(label)


def answers_summary(weeks: Sequence[tuple[date, int]], busiest: int | None) -> str:
    """The answers chart's subtitle: "12 answers over 8 weeks · busiest: week of 5 Jan (4)"."""
    total = sum(count for _week, count in weeks)
    answers = n_("{count} answer", "{count} answers", total)
    over = n_("{count} week", "{count} weeks", len(weeks))
    if busiest is None:
        return _("{answers} over {weeks}", answers=answers, weeks=over)
    return _(
        "{answers} over {weeks} · busiest: week of {day} ({count})",
        answers=answers,
        weeks=over,
        day=day_label(weeks[busiest][0]),
        count=weeks[busiest][1],
    )


def runs_subtitle(runs: int, left_out: int) -> str:
    """The runs chart's subtitle: what the bars are, how many runs (and how many left out)."""
    drawn = n_("{count} run", "{count} runs", runs)
    if not left_out:
        return _("Share of each run's voters per option · {runs}", runs=drawn)
    return _(
        "Share of each run's voters per option · {runs} (the latest; {older})",
        runs=drawn,
        older=n_("{count} older run not shown", "{count} older runs not shown", left_out),
    )


def run_label(number: int, run: PollRun, years: bool) -> str:
    when = day_label(run.date, year=years)
    if run.closed_at is None:
        return n_(
            "Run {number} · {day} (open) · {count} voted",
            "Run {number} · {day} (open) · {count} voted",
            run.voters,
            number=number,
            day=when,
        )
    return n_(
        "Run {number} · {day} · {count} voted",
        "Run {number} · {day} · {count} voted",
        run.voters,
        number=number,
        day=when,
    )
