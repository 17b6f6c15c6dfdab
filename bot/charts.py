"""PNG charts for `/history` and `/poll results`: answers per week, and a poll's share per option
across its runs.

Plain functions from data to PNG bytes, with matplotlib's object API on the Agg backend (no
pyplot: its global figure state is not safe across threads). Rendering is CPU work: callers on
the event loop run these through `asyncio.to_thread`; one render at a time (`_render_lock`).
`answers_figure` and `poll_runs_figure` build the Figure alone (unlocked), for tests to inspect.

Made for Discord's dark theme, where most members read: an opaque dark card (Discord's own
surfaces) with light text, so it reads the same in the light theme. Series colours are
Okabe–Ito (safe for the common colour-vision deficiencies), each at least 3:1 against the card;
runs also differ by hatch, so nothing depends on colour alone. Saved at 200 dpi: an 8 × 4.5 in
figure is 1600 × 900 px, sharp on phones. The same input always gives the same bytes (no
timestamps in the file).
"""

from __future__ import annotations

import functools
import io
import math
import textwrap
import threading
import warnings
from collections.abc import Sequence
from datetime import date

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator
from PIL import Image

from bot.chart_words import (
    answers_summary,
    day_label,
    percent_axis,
    percent_label,
    run_label,
    runs_subtitle,
)
from bot.i18n import _, current
from bot.poll_model import PollRun

WIDTH, HEIGHT = 8.0, 4.5  # inches, at 100 dpi for layout
DPI = 100
SAVE_DPI = 200  # 2×: 1600 × 900 px
# Discord's dark surfaces and text colours.
CARD = "#2b2d31"
PLOT = "#313338"
TEXT = "#f2f3f5"
MUTED = "#b5bac1"
GRID = "#45474e"
BAR = "#56b4e9"  # Okabe–Ito sky blue
# Okabe–Ito without black and blue (too dark on the card), newest run first: the latest run is
# always sky blue and solid, older ones orange, green… and hatched.
RUN_COLOURS = ("#56b4e9", "#e69f00", "#009e73", "#cc79a7", "#f0e442", "#d55e00")
RUN_HATCHES = ("", "///", "...", "xxx", "\\\\\\", "+++")
MAX_RUNS = len(RUN_COLOURS)  # older runs are left out of the chart (and said so)
MAX_LABEL_LINES = 3
COLUMN = 3.2  # inches at most for option labels beside lying bars
MAX_HEIGHT = 14.0  # inches: taller charts get thinner bars

# Labels may hold characters the bundled font lacks (emoji): drawn as boxes, not worth a warning.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from", category=UserWarning)

# FreeType fonts are cached and shared between figures; one render at a time keeps that safe.
_render_lock = threading.Lock()


def short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _png(fig: Figure) -> bytes:
    """The figure at 2×, as a 256-colour PNG: ~2.5× smaller than full colour, and the same
    to the eye (flat colours, anti-aliased text). No timestamp: same input, same bytes."""
    fig.set_dpi(SAVE_DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # type: ignore[no-untyped-call]
    pixels = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
    image = Image.frombuffer("RGBA", canvas.get_width_height(), pixels)
    palette = image.convert("RGB").quantize(256, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG")
    return buffer.getvalue()


@functools.lru_cache(maxsize=8192)
def _text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in inches of one line of `text` at `size` points, as Agg draws it (cached: each
    measure costs about a millisecond). Called under `_render_lock` only."""
    font = FontProperties(size=size, weight="bold" if bold else "normal")
    renderer = _probe().get_renderer()  # type: ignore[no-untyped-call]
    width, _height, _descent = renderer.get_text_width_height_descent(text, font, False)
    return float(width) / SAVE_DPI


@functools.cache
def _probe() -> FigureCanvasAgg:
    return FigureCanvasAgg(Figure(dpi=SAVE_DPI))  # measured as drawn: hinting varies with dpi


def _new_figure(height: float) -> Figure:
    fig = Figure(figsize=(WIDTH, height), dpi=DPI, facecolor=CARD)
    FigureCanvasAgg(fig)
    return fig


def fit_lines(text: str, size: float, width: float, lines: int, *, bold: bool = False) -> str:
    """`text` wrapped to lines of at most `width` inches at `size` points (measured, not
    guessed); past `lines` lines the last one is shortened with "…"."""
    text = " ".join(text.split())
    full = _text_width(text, size, bold)
    chars = len(text) if full <= width else max(1, int(len(text) * width / full * 1.05))
    while True:
        wrapped = textwrap.wrap(text, chars) or [""]
        if chars == 1 or all(_text_width(line, size, bold) <= width for line in wrapped):
            break
        chars = max(1, chars - max(1, chars // 25))
    if len(wrapped) > lines:
        rest, limit = " ".join(wrapped[lines - 1 :]), chars
        while _text_width(short(rest, limit), size, bold) > width and limit > 1:
            limit -= 1
        wrapped = [*wrapped[: lines - 1], short(rest, limit)]
    return "\n".join(wrapped)


def _fit_labels(
    labels: Sequence[str], width: float, size: float, smallest: float, lines: int = 3
) -> tuple[float, list[str]]:
    """The largest font size (from `size` down to `smallest`) at which every label fits `width`
    inches on at most `lines` lines, and the wrapped labels: wrapped, never cut."""
    while True:
        texts = [fit_lines(label.strip() or _("(no label)"), size, width, 99) for label in labels]
        if size <= smallest or max(t.count("\n") for t in texts) < lines:
            return size, texts
        size -= 0.5


def _header(fig: Figure, title: str, subtitle: str) -> float:
    """Title (bold, up to 2 lines) and a muted subtitle at the top; returns inches used."""
    height = fig.get_figheight()
    title = fit_lines(title, 14, WIDTH - 0.5, 2, bold=True)
    fig.text(0.25 / WIDTH, 1 - 0.2 / height, title, color=TEXT, fontsize=14,
             fontweight="bold", ha="left", va="top", linespacing=1.15)  # fmt: skip
    top = 0.2 + 0.27 * (title.count("\n") + 1) + 0.08
    subtitle = fit_lines(subtitle, 10, WIDTH - 0.5, 1)
    fig.text(0.25 / WIDTH, 1 - top / height, subtitle, color=MUTED, fontsize=10, ha="left",
             va="top")  # fmt: skip
    return top + 0.35


def _axes(fig: Figure, left: float, top: float, bottom: float, right: float = 0.35) -> Axes:
    """Axes placed in inches from the figure's edges, styled for the dark card."""
    width, height = fig.get_figwidth(), fig.get_figheight()
    ax = fig.add_axes((left / width, bottom / height, 1 - (left + right) / width,
                       1 - (top + bottom) / height))  # fmt: skip
    ax.set_facecolor(PLOT)
    for name, spine in ax.spines.items():
        spine.set_visible(name in ("left", "bottom"))
        spine.set_color(GRID)
    ax.tick_params(colors=MUTED, labelcolor=TEXT, labelsize=9.5)
    ax.set_axisbelow(True)
    return ax


# -- answers per week ------------------------------------------------------------------------


def answers_figure(team_name: str, weeks: Sequence[tuple[date, int]]) -> Figure:
    """Bars: the answers given to each week's prompts (weeks start on Monday, team time).

    Reads with 1 week as with 52: the bars keep a sensible width (at least 8 slots wide), the
    date labels thin out to at most 13 (the year shown on the first and where it changes),
    every week with answers carries its count (turned upright when the bars get narrow), and a
    window with no answers says "No answers yet" across an empty plot."""
    fig = _new_figure(HEIGHT)
    counts = [count for _week, count in weeks]
    total = sum(counts)
    busiest = None
    if total and len(weeks) > 1:
        busiest = max(range(len(weeks)), key=lambda i: (counts[i], -i))
    summary = answers_summary(weeks, busiest)
    title = _("Answers per week — {team}", team=short(team_name, 60))
    top = _header(fig, title, summary)
    ax = _axes(fig, left=0.75, top=top, bottom=0.85)
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    slots = max(len(weeks), 8)
    pad = (slots - len(weeks)) / 2
    ax.set_xlim(-0.5 - pad, len(weeks) - 0.5 + pad)
    positions = list(range(len(weeks)))
    bars = ax.bar(positions, counts, color=BAR, width=0.72)
    bar_points = 0.72 * (WIDTH - 1.1) * 72 / slots
    size = 10.0 if slots <= 12 else 8.5 if slots <= 26 else 7.0
    digits = len(str(max(counts, default=0)))
    upright = digits * 0.64 * size > bar_points * 1.05
    ax.bar_label(bars, labels=[str(c) if c else "" for c in counts], color=TEXT, fontsize=size,
                 padding=2, rotation=90 if upright else 0)  # fmt: skip
    step = 1 if len(weeks) <= 12 else 2 if len(weeks) <= 24 else math.ceil(len(weeks) / 13)
    ticks, labels, last_year = [], [], None
    for index in positions[::step]:
        start = weeks[index][0]
        labels.append(day_label(start) + (f"\n{start.year}" if start.year != last_year else ""))
        ticks.append(index)
        last_year = start.year
    ax.set_xticks(ticks, labels, fontsize=9)
    ax.set_xlabel(_("Week starting (Monday)"), color=MUTED, fontsize=9.5)
    ax.set_ylabel(_("Answers"), color=MUTED, fontsize=9.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    room = 1.3 if upright else 1.15
    ax.set_ylim(0, max(max(counts, default=0) * room, 4 if total else 5))
    if not total:
        ax.text(0.5, 0.55, _("No answers yet"), transform=ax.transAxes, ha="center", va="center",
                color=MUTED, fontsize=18, fontweight="bold")  # fmt: skip
        hint = _("Each week's answers to the team's prompts will show here.")
        ax.text(0.5, 0.4, hint, transform=ax.transAxes, ha="center", va="center", color=MUTED,
                fontsize=10)  # fmt: skip
    return fig


def answers_chart(team_name: str, weeks: Sequence[tuple[date, int]]) -> bytes:
    with _render_lock:
        return _png(answers_figure(team_name, weeks))


# -- runs of a re-run poll -------------------------------------------------------------------


def _options(shown: Sequence[PollRun]) -> tuple[list[str], list[list[float | None]]]:
    """The options (matched across runs by label, case-insensitive, the latest run's spelling
    and order first) and each one's percent of the voters per run (None: not in that run)."""
    labels: dict[str, str] = {}
    for run in reversed(shown):
        for option in run.options:
            labels.setdefault(" ".join(option.label.split()).casefold(), option.label)
    shares = []
    for run in shown:
        by_key = {" ".join(o.label.split()).casefold(): o.share * 100 for o in run.options}
        shares.append([by_key.get(key) for key in labels])
    return list(labels.values()), shares


def poll_runs_figure(
    runs: Sequence[PollRun], question: str | None = None, *, include_hidden: bool = False
) -> Figure:
    """Grouped bars: one group per option, one bar per run (oldest to newest, told apart by
    colour and hatch, the newest solid sky blue), each bar labelled with its percent of that
    run's voters, 0% included, so a tie reads as two equal bars with the same number and a
    zero is still there. Options are matched across runs by label (case-insensitive).

    Up to 6 options with room for every label on ≤3 lines (at ≥8 pt) and bars at least 0.3 in
    wide, the bars stand upright; otherwise they lie down (many options, long labels, many
    runs): an option label then reads left to right on up to 3 lines in its own column, the
    percent sits at the end of its bar and never collides with a neighbour, and the figure
    grows taller (keeping its width) so each bar keeps a readable thickness. Labels of up to
    100 characters are wrapped, never cut; the font shrinks (down to 6.5 pt) to fit.

    A run whose results are still hidden (open, `hide_results`) is left out unless
    `include_hidden` (for its creator and managers); only the latest 6 runs are drawn. Raises
    ValueError when no run can be shown.
    """
    numbered = [(n, r) for n, r in enumerate(runs, 1) if include_hidden or r.results_public]
    if not numbered:
        raise ValueError("no run of this poll has results that may be shown")
    left_out = max(0, len(numbered) - MAX_RUNS)
    numbered = numbered[left_out:]
    shown = [run for _number, run in numbered]
    labels, shares = _options(shown)
    years = len({run.date.year for run in shown}) > 1
    run_labels = [run_label(n, run, years) for n, run in numbered]
    n_runs, n_options = len(shown), len(labels)
    group = (WIDTH - 1.1) / n_options * 0.92  # inches of label per option, upright
    upright = n_options <= 6 and group * 0.85 / n_runs >= 0.3
    if upright:
        size, texts = _fit_labels(labels, group, 10.0, 8.0)
        upright = max(t.count("\n") for t in texts) < MAX_LABEL_LINES
    legend_cols = n_runs if n_runs <= 3 else 2 if n_runs == 4 else 3
    legend_rows = math.ceil(n_runs / legend_cols)
    header = 1.3 + 0.28 * legend_rows + 0.1
    height = HEIGHT
    if not upright:
        if n_options <= 8:
            size, texts = _fit_labels(labels, COLUMN, 10.0, 8.5)
        else:  # many options: 2 lines a label if 7.5 pt allows, keeping the chart shorter
            size, texts = _fit_labels(labels, COLUMN, 8.5, 7.5, lines=2)
            if max(t.count("\n") for t in texts) >= 2:
                size, texts = _fit_labels(labels, COLUMN, 8.5, 6.5)
        bar = 0.17 if n_options <= 8 else 0.13  # inches per bar, before the height cap
        needed = max(t.count("\n") + 1 for t in texts) * size * 1.25 / 72 + 0.08
        slot = max(min(n_runs * bar * 1.25, (MAX_HEIGHT - header - 0.6) / n_options), needed)
        height = max(HEIGHT, header + 0.6 + n_options * slot)
    fig = _new_figure(height)
    subtitle = runs_subtitle(n_runs, left_out)
    legend_top = _header(fig, question or _("Poll results across runs"), subtitle) - 0.15
    top = legend_top + 0.05 + 0.28 * legend_rows + 0.1
    lines = max(t.count("\n") + 1 for t in texts)
    if upright:
        ax = _axes(fig, left=0.75, top=top, bottom=0.15 + lines * size * 1.25 / 72)
    else:
        column = max(_text_width(line, size) for t in texts for line in t.split("\n"))
        ax = _axes(fig, left=column + 0.35, top=top, bottom=0.6, right=0.3)
    _draw_runs(ax, shares, run_labels, upright)
    if upright:
        ax.set_xticks(range(n_options), texts)
        ax.tick_params(axis="x", labelsize=size, length=0)
    else:
        ax.set_yticks(range(n_options), texts)
        ax.tick_params(axis="y", labelsize=size, length=0)
        ax.invert_yaxis()  # the poll's first option at the top
    # matplotlib fills legend columns first: reordered so runs read left to right, row by row
    order = [r * legend_cols + c for c in range(legend_cols) for r in range(legend_rows)]
    order = [i for i in order if i < n_runs]
    fig.legend(
        handles=[ax.containers[i] for i in order], labels=[run_labels[i] for i in order],
        loc="upper left", ncols=legend_cols,
        bbox_to_anchor=(0.2 / WIDTH, 1 - legend_top / height), frameon=False, labelcolor=TEXT,
        fontsize=9, handlelength=2.4, handleheight=1.1, columnspacing=1.6, borderaxespad=0,
    )  # fmt: skip
    return fig


def _draw_runs(
    ax: Axes, shares: list[list[float | None]], run_labels: list[str], upright: bool
) -> None:
    """One bar series per run, newest sky blue and solid; a % label on every bar."""
    n_runs = len(shares)
    thickness = 0.8 / n_runs
    peak = max((v or 0.0 for run in shares for v in run), default=0.0)
    limit = max(peak, 10.0) * (1.18 if upright else 1.22)
    bar_points = thickness * ax.bbox.width / ax.figure.dpi * 72 / len(shares[0])
    size = min(9.5, max(6.5, bar_points / 3.1)) if upright else 8.5 if n_runs <= 3 else 7.5
    for index, run in enumerate(shares):
        age = n_runs - 1 - index  # 0 for the newest
        offsets = [o + (index - (n_runs - 1) / 2) * thickness for o in range(len(run))]
        values = [v or 0.0 for v in run]
        style = dict(color=RUN_COLOURS[age], hatch=RUN_HATCHES[age], edgecolor=CARD,
                     linewidth=0.8, label=run_labels[index])  # fmt: skip
        if upright:
            bars = ax.bar(offsets, values, width=thickness * 0.92, **style)  # type: ignore[arg-type]
        else:
            bars = ax.barh(offsets, values, height=thickness * 0.86, **style)  # type: ignore[arg-type]
        for patch, value in zip(bars, values, strict=True):
            patch.set_hatchcolor(CARD)
            patch.set_hatch_linewidth(1.4)
            if not value:  # a zero still shows, as a stub in the run's colour at the baseline
                patch.set_edgecolor(RUN_COLOURS[age])
                patch.set_linewidth(4)
        texts = ["—" if v is None else percent_label(v) for v in run]
        ax.bar_label(bars, labels=texts, color=TEXT, fontsize=size, padding=2)
    axis = ax.yaxis if upright else ax.xaxis
    axis.set_major_formatter(percent_axis(current()))
    axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    ax.grid(axis="y" if upright else "x", color=GRID, linewidth=0.8)
    if upright:
        ax.set_ylim(0, limit)
        ax.set_xlim(-0.55, len(shares[0]) - 0.45)
    else:
        ax.set_xlim(0, limit)
        ax.set_ylim(-0.55, len(shares[0]) - 0.45)
        ax.spines["left"].set_visible(False)


def bar_series(fig: Figure) -> list[BarContainer]:
    """The bar series of a runs chart, oldest run first (for tests and snapshots)."""
    return [c for c in fig.axes[0].containers if isinstance(c, BarContainer)]


def poll_runs_chart(
    runs: Sequence[PollRun], question: str | None = None, *, include_hidden: bool = False
) -> bytes:
    with _render_lock:
        return _png(poll_runs_figure(runs, question, include_hidden=include_hidden))
