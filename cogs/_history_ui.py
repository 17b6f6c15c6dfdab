"""What `/history` shows: the team's timeline as a card per page (Components V2) — a headline and
a summary, then week by week, newest first, the prompts (answer counts, a link to the
discussion, a repeat beside its last time: answers and the words said more or less), the polls
(results; a re-run beside its previous run, per option) and the reflections (counts only), and
the charts in a media gallery.

Pages are cut by Discord's limits for one message: 4000 characters of text (`page_budget`) and
40 components (`WEEKS_PER_PAGE`), whatever members typed. Nothing is cut to uselessness: an
option is listed on its own line, in full.

A private module (not an extension): rendering only; the data comes from `bot/history.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import discord
from babel import dates
from discord.utils import escape_markdown

from bot.history import PollEntry, PromptEntry, Timeline, Week
from bot.i18n import ENGLISH, N_, _, current, locale, n_, percent
from bot.teams import Team
from bot.wording import WordChange, WordShift
from cogs._layout import TEXT_LIMIT, card, layout, message_url, separator, shorten, text

#: a page's weeks: each is a separator and a text display; with the card, its headline, the
#: gallery, the footer and three buttons in their row, 12 make 33 of Discord's 40 components
WEEKS_PER_PAGE = 12
MAX_RUN_CHARTS = 4
ANSWERS_CHART = "answers-per-week.png"
CONTINUED = N_(" (continued)")
#: phrases shown per direction for a repeated prompt ("Said more: …")
MAX_PHRASES = 5
PHRASE_LIMIT = 40
PROMPT_LIMIT = 300
QUESTION_LIMIT = 300
NOTHING_YET = N_(
    "Nothing yet in this time: no prompt posted, no poll asked, no reflection shared. "
    "Try more `weeks`, or start with `/prompt post` or `/poll create`."
)


# -- words -------------------------------------------------------------------------------------


def written_day(local: date, *, weekday: bool = True, year: bool = False) -> str:
    """`Mon 5 Jan 2026` (weekday and year if asked) as the current language writes a day:
    English as Breakroom always wrote it, other languages as Babel's locale data does."""
    if current() != ENGLISH:
        skeleton = ("y" if year else "") + "MMM" + ("E" if weekday else "") + "d"
        return dates.format_skeleton(skeleton, local, locale=locale())
    text = f"{local.day} {local:%b}"
    text = f"{local:%a} {text}" if weekday else text
    return f"{text} {local.year}" if year else text


def short_day(moment: datetime | date, team: Team) -> str:
    """`5 Jan` in the team's timezone."""
    local = moment.astimezone(team.zone) if isinstance(moment, datetime) else moment
    return written_day(local, weekday=False)


def local_day(moment: datetime, team: Team, year: bool = False) -> str:
    """`Mon 5 Jan` (and the year if asked) in the team's timezone."""
    return written_day(moment.astimezone(team.zone), year=year)


def week_title(start: date) -> str:
    return _("### Week of {day}", day=written_day(start, year=True))


def thread_url(team: Team, entry: PromptEntry) -> str | None:
    post = entry.post
    if post.thread_id is not None:
        return message_url(team.guild_id, post.thread_id)
    if post.message_id is not None:
        return message_url(team.guild_id, post.channel_id, post.message_id)
    return None


def change(points: int) -> str:
    return f"{points:+d}" if points else "±0"


def points_change(points: int) -> str:
    """A share's change in percentage points: `+33 pts`, `±0`."""
    return _("{change} pts", change=f"{points:+d}") if points else "±0"


def share_text(share: int) -> str:
    """A share in percent (67) as the language writes it (`67%`, `67 %`)."""
    return percent(share / 100)


def voters(count: int) -> str:
    return n_("{count} voter", "{count} voters", count)


# -- the entries -------------------------------------------------------------------------------


def phrases(changes: Sequence[WordChange]) -> str:
    return ", ".join(
        f"*{escape_markdown(shorten(' '.join(c.phrase.split()), PHRASE_LIMIT))}* "
        f"({c.before}→{c.after})"
        for c in changes[:MAX_PHRASES]
    )


def words_line(shift: WordShift | None) -> str | None:
    """`Said more: *flexible hours* (1→4) · Said less: *pay* (5→2)`: answers using each phrase,
    last time → this time."""
    if shift is None or shift.empty:
        return None
    parts = []
    if shift.more:
        parts.append(_("Said more: {phrases}", phrases=phrases(shift.more)))
    if shift.less:
        parts.append(_("Said less: {phrases}", phrases=phrases(shift.less)))
    return " · ".join(parts)


def prompt_block(team: Team, entry: PromptEntry) -> str:
    post = entry.post
    prompt = escape_markdown(shorten(" ".join(post.prompt_text.split()), PROMPT_LIMIT))
    lines = [f"📝 **{local_day(entry.when, team)}** · {prompt}"]
    detail = n_("{count} answer", "{count} answers", entry.answers)
    if url := thread_url(team, entry):
        detail += " · " + _("[Open the discussion]({url})", url=url)
    lines.append(detail)
    if entry.previous_answers is not None:
        before = post.repeat_of_posted_at
        counts = {
            "now": entry.answers,
            "then": entry.previous_answers,
            "change": change(entry.answers - entry.previous_answers),
        }
        if before:
            lines.append(
                _(
                    "↻ Asked before on {day}: **{now}** answered this time, **{then}** last "
                    "time ({change}).",
                    day=local_day(before, team, year=True),
                    **counts,
                )
            )
        else:
            lines.append(
                _(
                    "↻ Asked before: **{now}** answered this time, **{then}** last time "
                    "({change}).",
                    **counts,
                )
            )
        if (said := words_line(entry.words)) is not None:
            lines.append(said)
    return "\n".join(lines)


def run_label(number: int, moment: datetime, team: Team) -> str:
    return _("Run {number} · {day}", number=number, day=short_day(moment, team))


def option_lines(entry: PollEntry) -> list[str]:
    """One line per option, in full: `• Career: 67% 🏆`."""
    poll = entry.poll
    winners = {o.id for o in poll.winners} if poll.closed else set()
    return [
        _("• {option}: {share}", option=escape_markdown(o.label), share=share_text(poll.share(o)))
        + (" 🏆" if o.id in winners else "")
        for o in poll.options
    ]


def comparison_lines(team: Team, entry: PollEntry) -> list[str]:
    """This run beside the previous one, per option: `• Job: 33% → 0% (-33 pts)`."""
    assert entry.previous is not None
    poll = entry.poll
    winners = {o.label.casefold() for o in poll.winners} if poll.closed else set()
    before = run_label(entry.run_number - 1, entry.previous.date, team)
    now = run_label(entry.run_number, poll.closed_at or poll.created_at, team)
    lines = [f"**{before}** ({voters(entry.previous.voters)}) → **{now}** ({voters(poll.voters)})"]
    for c in entry.changes:
        won = " 🏆" if c.label.casefold() in winners else ""
        line = _(
            "• {option}: {before} → {after} ({change})",
            option=escape_markdown(c.label),
            before=share_text(c.before),
            after=share_text(c.after),
            change=points_change(c.points),
        )
        lines.append(line + won)
    return lines


def poll_block(team: Team, entry: PollEntry) -> str:
    poll = entry.poll
    state = (
        _("closed {day}", day=local_day(poll.closed_at, team))
        if poll.closed_at is not None
        else _("open until {day}", day=local_day(poll.closes_at, team))
    )
    question = escape_markdown(shorten(poll.question, QUESTION_LIMIT))
    fields = {"question": question, "id": poll.id, "state": state}
    if entry.is_rerun:
        head = _(
            "📊 **{question}** · poll #{id}, run {run} · {state}", run=entry.run_number, **fields
        )
    else:
        head = _("📊 **{question}** · poll #{id} · {state}", **fields)
    if not (entry.results_visible and entry.changes and entry.previous is not None):
        head += " · " + voters(poll.voters)
    lines = [head]
    if not entry.results_visible:
        lines.append(_("Results hidden until the poll closes."))
    elif entry.changes and entry.previous is not None:
        lines += comparison_lines(team, entry)
    else:
        lines += option_lines(entry) if poll.voters else [_("Nobody voted.")]
        if entry.is_rerun and entry.previous is not None:
            lines.append(_("Run {number}'s results are still hidden.", number=entry.run_number - 1))
    return "\n".join(lines)


def reflections_block(count: int) -> str:
    return n_(
        "💬 {count} anonymous reflection shared", "💬 {count} anonymous reflections shared", count
    )


def week_blocks(team: Team, week: Week) -> list[str]:
    blocks = [prompt_block(team, e) for e in reversed(week.prompts)]
    blocks += [poll_block(team, e) for e in reversed(week.polls)]
    if week.reflections:
        blocks.append(reflections_block(week.reflections))
    return blocks


# -- the pages ---------------------------------------------------------------------------------


def began_later(timeline: Timeline) -> bool:
    """The team is younger than the window: its first week is inside it."""
    return timeline.first_week > timeline.weeks[0].start


def summary(timeline: Timeline) -> str:
    team = timeline.team
    when = (
        _("Since the team began on {day}", day=local_day(team.created_at, team))
        if began_later(timeline)
        else n_("Last {count} week", "Last {count} weeks", timeline.weeks_asked)
    )
    return _(
        "**{when}:** {prompts} ({answers}) · {polls} · {reflections}",
        when=when,
        prompts=n_("{count} prompt", "{count} prompts", timeline.prompt_count),
        answers=n_("{count} answer", "{count} answers", timeline.answer_count),
        polls=n_("{count} poll", "{count} polls", timeline.poll_count),
        reflections=n_(
            "{count} reflection shared", "{count} reflections shared", timeline.reflection_count
        ),
    )


def headline(timeline: Timeline) -> str:
    name = escape_markdown(shorten(timeline.team.name, 100))
    return _("## History — {team}", team=name) + "\n" + summary(timeline)


def footer(timeline: Timeline, page: int, pages: int, *, shared: bool = False) -> str:
    team = timeline.team
    start = timeline.first_week
    parts = [
        _("From {day} ({timezone})", day=written_day(start, year=True), timezone=team.timezone),
        _("reflections are counts only, never who wrote them"),
    ]
    if shared:
        parts.insert(0, _("Shared from `/history`"))
        if pages > 1:
            parts.append(_("more weeks in `/history`"))
    elif pages > 1:
        parts.insert(0, _("Page {page} of {pages}", page=page, pages=pages))
    return "-# " + " · ".join(parts)


def page_budget(timeline: Timeline) -> int:
    """Characters left for the weeks on one page, after the headline and the longest footer."""
    longest = max(
        len(footer(timeline, 99, 99)),
        len(footer(timeline, 1, 99, shared=True)),
        len(_(NOTHING_YET)),
    )
    return TEXT_LIMIT - len(headline(timeline)) - longest - 8


def paginate(timeline: Timeline) -> list[list[str]]:
    """The weeks' texts (one text display each), newest first, cut into pages by the text
    budget and `WEEKS_PER_PAGE`; a week too long for what is left of a page goes on on the next
    one, "(continued)". An empty timeline is one page with nothing on it."""
    budget = page_budget(timeline)
    continued = _(CONTINUED)
    pages: list[list[str]] = [[]]
    used = 0
    for week in reversed(timeline.weeks):
        if week.empty:
            continue
        header = week_title(week.start)
        piece_so_far: str | None = None
        for block in week_blocks(timeline.team, week):
            block = shorten(block, budget - len(header) - len(continued) - 1)
            if piece_so_far is not None and used + 2 + len(block) <= budget:
                piece_so_far += "\n\n" + block
                used += 2 + len(block)
                pages[-1][-1] = piece_so_far
                continue
            piece = f"{header}{continued if piece_so_far else ''}\n{block}"
            if pages[-1] and (used + len(piece) > budget or len(pages[-1]) >= WEEKS_PER_PAGE):
                pages.append([])
                used = 0
            pages[-1].append(piece)
            used += len(piece)
            piece_so_far = piece
    return pages


def chart_names(timeline: Timeline) -> list[str]:
    """The charts' file names, in the gallery's order (without drawing them)."""
    names = [ANSWERS_CHART] if timeline.prompt_count else []
    return names + [f"poll-{s.runs[-1].poll_id}-runs.png" for s in timeline.series[:MAX_RUN_CHARTS]]


def render_charts(timeline: Timeline) -> list[tuple[str, bytes]]:
    """The PNGs for a timeline (CPU work: run in a thread)."""
    # Imported on first use: matplotlib costs ~40 MiB and half a second at start-up.
    from bot.charts import answers_chart, poll_runs_chart

    charts: list[tuple[str, bytes]] = []
    if timeline.prompt_count:
        charts.append((ANSWERS_CHART, answers_chart(timeline.team.name, timeline.answers_per_week)))
    for series in timeline.series[:MAX_RUN_CHARTS]:
        name = f"poll-{series.runs[-1].poll_id}-runs.png"
        charts.append((name, poll_runs_chart(series.runs, series.question)))
    return charts


def gallery(timeline: Timeline, names: Sequence[str]) -> discord.ui.MediaGallery[Any]:
    questions = {f"poll-{s.runs[-1].poll_id}-runs.png": s.question for s in timeline.series}
    items = []
    for name in names:
        question = shorten(questions.get(name) or _("A re-run poll"), 200)
        about = (
            _("Answers per week")
            if name == ANSWERS_CHART
            else _("{question}: run by run", question=question)
        )
        items.append(discord.MediaGalleryItem(f"attachment://{name}", description=about))
    return discord.ui.MediaGallery(*items)


def history_card(
    timeline: Timeline,
    pages: list[list[str]],
    page: int,
    charts: Sequence[str] = (),
    *,
    shared: bool = False,
) -> discord.ui.Container[Any]:
    """Page `page` (from 1) as one card; `charts`: the files of the message to show."""
    items: list[discord.ui.Item[Any]] = []
    if timeline.empty:
        items.append(text(f"{headline(timeline)}\n\n{_(NOTHING_YET)}"))
    else:
        items.append(text(headline(timeline)))
        for week in pages[page - 1]:
            items += [separator(), text(week)]
    if charts:
        items += [separator(), gallery(timeline, charts)]
    items.append(text(footer(timeline, page, len(pages), shared=shared)))
    return card(*items)


def history_layout(
    timeline: Timeline,
    pages: list[list[str]],
    page: int,
    charts: Sequence[str] = (),
    buttons: Sequence[discord.ui.Item[Any]] = (),
    *,
    shared: bool = False,
) -> discord.ui.LayoutView:
    items: list[discord.ui.Item[Any]] = [history_card(timeline, pages, page, charts, shared=shared)]
    if buttons:
        items.append(discord.ui.ActionRow(*buttons))
    return layout(*items)
