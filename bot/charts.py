"""PNG charts for `/history` and `/poll results`: answers per week, and a poll's share per option
across its runs.

Plain functions from data to PNG bytes, with matplotlib's object API on the Agg backend (no
pyplot: its global figure state is not safe across threads). Rendering is CPU work: callers on
the event loop run these through `asyncio.to_thread`.

Readable in Discord's dark and light themes alike: every chart is an opaque light card with a
grey border and explicit dark text, so nothing depends on the theme behind the image. The same
input always gives the same bytes (no timestamps in the file).
"""

from __future__ import annotations

import io
import math
import textwrap
import threading
import warnings
from collections.abc import Sequence
from datetime import date, datetime

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from bot.poll_model import PollRun

WIDTH_INCHES, HEIGHT_INCHES, DPI = 8.0, 4.5, 100  # 800 × 450 px
CARD = "#f6f7f9"
BORDER = "#9ea3ab"
PLOT = "#ffffff"
TEXT = "#1f2329"
MUTED = "#5c6370"
GRID = "#dde0e5"
BAR = "#3b7a68"
# Okabe–Ito: told apart with the common colour-vision deficiencies; markers and dashes differ too.
SERIES = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
DASHES = ("-", "--", "-.", ":")
MAX_SERIES = 8  # options beyond this are summed as "Other" so the legend stays readable

# Labels may hold characters the bundled font lacks (emoji): drawn as boxes, not worth a warning.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from", category=UserWarning)

# FreeType fonts are cached and shared between figures; one render at a time keeps that safe.
_render_lock = threading.Lock()


def _figure() -> Figure:
    fig = Figure(
        figsize=(WIDTH_INCHES, HEIGHT_INCHES),
        dpi=DPI,
        facecolor=CARD,
        edgecolor=BORDER,
        linewidth=2,
    )
    return fig


def _style_axes(fig: Figure, title: str, subtitle: str | None, xlabel: str, ylabel: str) -> Axes:
    ax = fig.add_subplot()
    ax.set_facecolor(PLOT)
    for spine in ax.spines.values():
        spine.set_color(BORDER)
    ax.tick_params(colors=TEXT, labelsize=9)
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel(xlabel, color=TEXT, fontsize=10)
    ax.set_ylabel(ylabel, color=TEXT, fontsize=10)
    fig.suptitle(title, color=TEXT, fontsize=13, fontweight="bold", x=0.02, ha="left", y=0.97)
    if subtitle:
        fig.text(0.02, 0.885, subtitle, color=MUTED, fontsize=9.5, ha="left", va="bottom")
    return ax


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    # No "Software"/time metadata: identical input gives identical bytes.
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def day_label(day: date | datetime) -> str:
    return f"{day.day} {day:%b}\n{day:%Y}"


def answers_chart(team_name: str, weeks: Sequence[tuple[date, int]]) -> bytes:
    """Bars: the answers given to each week's prompts (weeks start on Monday, team time)."""
    with _render_lock:
        fig = _figure()
        total = sum(count for _, count in weeks)
        ax = _style_axes(
            fig,
            short(f"Answers per week — {team_name}", 70),
            f"{total} answers over {len(weeks)} weeks",
            "Week starting (Monday, team time)",
            "Answers",
        )
        positions = list(range(len(weeks)))
        counts = [count for _, count in weeks]
        bars = ax.bar(positions, counts, color=BAR, width=0.7)
        ax.bar_label(bars, labels=[str(c) if c else "" for c in counts], color=TEXT, fontsize=8)
        step = max(1, math.ceil(len(weeks) / 12))  # at most ~12 date labels
        ax.set_xticks(positions[::step], [day_label(start) for start, _ in weeks][::step])
        ax.set_xlim(-0.6, max(len(weeks), 1) - 0.4)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0, max(max(counts, default=0), 1) * 1.18)
        fig.subplots_adjust(left=0.08, right=0.98, top=0.84, bottom=0.18)
        return _png(fig)


def poll_runs_chart(
    runs: Sequence[PollRun], question: str | None = None, *, include_hidden: bool = False
) -> bytes:
    """Lines: each option's share of the voters in every run of a repeated poll, oldest first.

    Options are matched across runs by label (case-insensitive). A run whose results are still
    hidden (open, `hide_results`) is left out unless `include_hidden` (for its creator and
    managers). Raises ValueError when no run can be shown.
    """
    shown = [run for run in runs if include_hidden or run.results_public]
    if not shown:
        raise ValueError("no run of this poll has results that may be shown")
    labels: dict[str, str] = {}
    for run in reversed(shown):  # the latest run's spelling and order first
        for option in run.options:
            labels.setdefault(option.label.casefold(), option.label)
    keys = list(labels)
    if len(keys) > MAX_SERIES:
        keys = keys[: MAX_SERIES - 1]
    shares: dict[str, list[float]] = {key: [] for key in keys}
    other: list[float] = []
    for run in shown:
        by_key = {o.label.casefold(): o.share * 100 for o in run.options}
        for key in keys:
            shares[key].append(by_key.get(key, math.nan))
        other.append(sum(v for k, v in by_key.items() if k not in keys))
    series = [(labels[key], shares[key]) for key in keys]
    if len(labels) > len(keys):
        series.append((f"Other ({len(labels) - len(keys)} options)", other))

    with _render_lock:
        fig = _figure()
        subtitle = short(question, 95) if question else None
        ax = _style_axes(
            fig,
            "How the team's answers moved across runs",
            subtitle,
            "Run (date it closed, or was asked if still open)",
            "Share of voters",
        )
        positions = list(range(len(shown)))
        for index, (label, values) in enumerate(series):
            ax.plot(
                positions,
                values,
                color=SERIES[index % len(SERIES)],
                marker=MARKERS[index % len(MARKERS)],
                linestyle=DASHES[index % len(DASHES)],
                linewidth=2,
                markersize=6,
                label=short(label, 28),
            )
        ticks = [
            f"{day_label(run.date)}\nrun {number} · {run.voters} voted"
            for number, run in enumerate(shown, start=1)
        ]
        ax.set_xticks(positions, ticks)
        ax.set_xlim(-0.35, len(shown) - 0.65)
        ax.set_ylim(0, 105)
        ax.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
        legend = ax.legend(
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8.5,
            frameon=False,
            labelcolor=TEXT,
        )
        for text in legend.get_texts():
            text.set_text("\n".join(textwrap.wrap(text.get_text(), 18)) or " ")
        fig.subplots_adjust(left=0.09, right=0.76, top=0.84, bottom=0.22)
        return _png(fig)
