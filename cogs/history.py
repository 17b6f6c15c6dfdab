"""`/history`: the team's timeline in embed pages, with the answers-per-week chart and, for re-run
polls, the share-across-runs chart. Discord glue only: the data comes from `bot/history.py`.

Paging buttons are DynamicItems carrying the team, the window and the moment the timeline was
taken, so each page is rebuilt the same way on a click, also after a restart.
"""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, date, datetime

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import escape_markdown

from bot.client import Breakroom
from bot.errors import NotFound
from bot.history import DEFAULT_WEEKS, MAX_WEEKS, PollEntry, PromptEntry, Timeline
from bot.teams import Team
from cogs._options import TeamOption, team_here
from cogs._shared import EMBED_COLOUR, UNKNOWN_BUTTON, FromCustomId, Interaction, guarded

#: characters of entries per page (Discord allows 4096 in a description, 6000 per embed)
PAGE_BUDGET = 3800
ENTRY_LIMIT = 1500
LABEL_WIDTH = 18
MAX_RUN_CHARTS = 4
ANSWERS_CHART = "answers-per-week.png"


# -- rendering ---------------------------------------------------------------------------------


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def local_day(moment: datetime, team: Team, year: bool = False) -> str:
    """`Mon 5 Jan` (and the year if asked) in the team's timezone."""
    local = moment.astimezone(team.zone)
    return f"{local:%a} {short_day(moment, team)}" + (f" {local.year}" if year else "")


def short_day(moment: datetime, team: Team) -> str:
    local = moment.astimezone(team.zone)
    return f"{local.day} {local:%b}"


def week_title(start: date) -> str:
    return f"**Week of {start:%a} {start.day} {start:%b %Y}**"


def thread_url(team: Team, entry: PromptEntry) -> str | None:
    post = entry.post
    if post.thread_id is not None:
        return f"https://discord.com/channels/{team.guild_id}/{post.thread_id}"
    if post.message_id is not None:
        return f"https://discord.com/channels/{team.guild_id}/{post.channel_id}/{post.message_id}"
    return None


def prompt_block(team: Team, entry: PromptEntry) -> str:
    post = entry.post
    lines = [
        f"📝 **{local_day(entry.when, team)}** · {escape_markdown(shorten(post.prompt_text, 250))}"
    ]
    detail = plural(entry.answers, "answer")
    if url := thread_url(team, entry):
        detail += f" · [discussion]({url})"
    lines.append(f"   {detail}")
    if entry.previous_answers is not None:
        before = post.repeat_of_posted_at
        when = f" on {local_day(before, team, year=True)}" if before else ""
        change = entry.answers - entry.previous_answers
        lines.append(
            f"   ↻ Asked before{when}: **{entry.answers}** answered this time, "
            f"**{entry.previous_answers}** last time ({change:+d})."
        )
    return "\n".join(lines)


def distribution(entry: PollEntry) -> str:
    poll = entry.poll
    parts = [f"{escape_markdown(o.label)} {poll.share(o)}%" for o in poll.options]
    text = " · ".join(parts)
    if poll.closed:
        winners = poll.winners
        if not winners:
            text += " — nobody voted"
        elif len(winners) == 1:
            text += f" — 🏆 {escape_markdown(winners[0].label)}"
        else:
            text += " — tie: " + ", ".join(escape_markdown(w.label) for w in winners)
    return text


def code_cell(text: str, width: int) -> str:
    text = shorten(text.replace("`", "ˋ"), width)
    return text.ljust(width)


def comparison_table(team: Team, entry: PollEntry) -> str:
    """This run beside the previous one, per option, in a fixed-width block."""
    assert entry.previous is not None
    before = short_day(entry.previous.date, team)
    now = short_day(entry.poll.closed_at or entry.poll.created_at, team)
    width = min(LABEL_WIDTH, max(6, *(len(c.label) for c in entry.changes)))
    rows = [f"{'Option'.ljust(width)}  {before:>7}  {now:>7}  Change"]
    for change in entry.changes:
        points = f"{change.points:+d} pts" if change.points else "±0"
        rows.append(
            f"{code_cell(change.label, width)}  {change.before:>6}%  {change.after:>6}%  {points}"
        )
    return "```\n" + "\n".join(rows) + "\n```"


def poll_block(team: Team, entry: PollEntry) -> str:
    poll = entry.poll
    state = (
        f"closed {local_day(poll.closed_at, team)}"
        if poll.closed_at is not None
        else f"open until {local_day(poll.closes_at, team)}"
    )
    run = f", run {entry.run_number}" if entry.is_rerun else ""
    head = (
        f"📊 **{escape_markdown(shorten(poll.question, 200))}** (poll #{poll.id}{run}, {state})"
        f" — {plural(poll.voters, 'voter')}"
    )
    lines = [head]
    if not entry.results_visible:
        lines.append("   Results hidden until the poll closes.")
    elif entry.changes and entry.previous is not None:
        lines.append(
            f"   Beside the previous run (poll #{entry.previous.poll_id}, "
            f"{plural(entry.previous.voters, 'voter')}), share of voters per option:"
        )
        lines.append(comparison_table(team, entry))
    else:
        lines.append(f"   {distribution(entry)}")
        if entry.is_rerun and entry.previous is not None:
            lines.append("   (The previous run's results are still hidden.)")
    return "\n".join(lines)


def reflections_block(count: int) -> str:
    return f"💬 {plural(count, 'anonymous reflection')} shared"


def summary(timeline: Timeline) -> str:
    return (
        f"**Last {plural(timeline.weeks_asked, 'week')}:** "
        f"{plural(timeline.prompt_count, 'prompt')} "
        f"({plural(timeline.answer_count, 'answer')}) · {plural(timeline.poll_count, 'poll')} · "
        f"{plural(timeline.reflection_count, 'reflection')} shared"
    )


def page_texts(timeline: Timeline) -> list[str]:
    """The timeline, newest week first, cut into pages that fit an embed description."""
    team = timeline.team
    pages: list[list[str]] = [[summary(timeline)]]
    size = len(pages[0][0])
    if timeline.empty:
        pages[0].append(
            "Nothing yet in this time: no prompt posted, no poll asked, no reflection shared. "
            "Try more `weeks`, or start with `/prompt post` or `/poll create`."
        )
        return ["\n\n".join(page) for page in pages]
    for week in reversed(timeline.weeks):
        if week.empty:
            continue
        blocks = [prompt_block(team, e) for e in reversed(week.prompts)]
        blocks += [poll_block(team, e) for e in reversed(week.polls)]
        if week.reflections:
            blocks.append(reflections_block(week.reflections))
        header = week_title(week.start)
        first = True
        for block in blocks:
            block = shorten_block(block)
            piece = f"{header}\n{block}" if first else block
            if size + len(piece) + 2 > PAGE_BUDGET:
                piece = f"{header} (continued)\n{block}"
                pages.append([])
                size = 0
            pages[-1].append(piece)
            size += len(piece) + 2
            first = False
    return ["\n\n".join(page) for page in pages]


def shorten_block(block: str) -> str:
    if len(block) <= ENTRY_LIMIT:
        return block
    cut = block[: ENTRY_LIMIT - 5]
    if cut.count("```") % 2:
        cut += "\n```"
    return cut + "\n…"


def page_embed(timeline: Timeline, pages: list[str], page: int) -> discord.Embed:
    team = timeline.team
    embed = discord.Embed(
        title=shorten(f"History — {team.name}", 256),
        description=pages[page - 1],
        colour=EMBED_COLOUR,
    )
    since = timeline.since.astimezone(team.zone)
    footer = (
        f"Since {since:%a} {since.day} {since:%b %Y} ({team.timezone}) · "
        "reflections are counts only, never who wrote them"
    )
    if len(pages) > 1:
        footer = f"Page {page} of {len(pages)} · " + footer
    embed.set_footer(text=footer)
    return embed


class HistoryPage(
    FromCustomId,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=(
        r"breakroom:history:(?P<team>[0-9]+):(?P<weeks>[0-9]+):(?P<until>[0-9]+):(?P<page>[0-9]+)"
    ),
):
    """Previous / Next: shows page `page` of the timeline taken at `until`."""

    def __init__(
        self,
        team_id: int,
        weeks: int,
        until: int,
        page: int,
        label: str = "",
        disabled: bool = False,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or f"Page {page}",
                style=discord.ButtonStyle.secondary,
                custom_id=f"breakroom:history:{team_id}:{weeks}:{until}:{page}",
                disabled=disabled,
            )
        )
        self.team_id, self.weeks, self.until, self.page = team_id, weeks, until, page

    @guarded
    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        bot = interaction.client
        team = await bot.teams.get(self.team_id)
        if team.guild_id != interaction.guild_id:
            raise NotFound("That team no longer exists; `/team list` shows the teams.")
        if self.until > bot.clock.now().timestamp():  # a timeline is taken at or before now
            raise NotFound(UNKNOWN_BUTTON)
        until = datetime.fromtimestamp(self.until, UTC)
        timeline = await bot.services.history.timeline(team, self.weeks, until)
        pages = page_texts(timeline)
        page = min(max(self.page, 1), len(pages))
        await interaction.response.edit_message(
            embed=page_embed(timeline, pages, page), view=pages_view(timeline, len(pages), page)
        )


def pages_view(timeline: Timeline, pages: int, page: int) -> discord.ui.View | None:
    if pages <= 1:
        return None
    until = int(timeline.until.timestamp())
    ids = (timeline.team.id, timeline.weeks_asked, until)
    view = discord.ui.View(timeout=None)
    view.add_item(HistoryPage(*ids, page - 1, "◀ Previous", disabled=page <= 1))
    view.add_item(HistoryPage(*ids, page + 1, "Next ▶", disabled=page >= pages))
    return view


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


# -- the cog -----------------------------------------------------------------------------------


class HistoryCog(commands.Cog, name="History"):
    """The team's timeline, with repeats compared."""

    def __init__(self, bot: Breakroom) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(HistoryPage)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(HistoryPage)

    @app_commands.command(name="history")
    @app_commands.describe(
        team="The team (default: this channel's team)",
        weeks=f"How many weeks to look back, 1 to {MAX_WEEKS} (default {DEFAULT_WEEKS})",
    )
    async def history(
        self,
        interaction: Interaction,
        team: TeamOption | None = None,
        weeks: app_commands.Range[int, 1, MAX_WEEKS] = DEFAULT_WEEKS,
    ) -> None:
        """The team's timeline: prompts, polls, reflections; repeats beside last time"""
        found = team or await team_here(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        timeline = await self.bot.services.history.timeline(found, weeks)
        pages = page_texts(timeline)
        charts = await asyncio.to_thread(render_charts, timeline)
        files = [discord.File(io.BytesIO(data), filename=name) for name, data in charts]
        view = pages_view(timeline, len(pages), 1)
        embed = page_embed(timeline, pages, 1)
        if view is None:
            await interaction.followup.send(embed=embed, files=files, ephemeral=True)
        else:
            await interaction.followup.send(embed=embed, files=files, view=view, ephemeral=True)


async def setup(bot: Breakroom) -> None:
    await bot.add_cog(HistoryCog(bot))
