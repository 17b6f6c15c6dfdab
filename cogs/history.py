"""`/history`: the team's timeline in pages (Components V2 cards, rendered by
`cogs/_history_ui.py`), with the answers-per-week chart and, for re-run polls, the
share-across-runs chart; and "Share with the team", which posts the first page and the charts in
the team channel through the outbox (kind 'history_share', drafted here). Discord glue only: the
data comes from `bot/history.py` and `bot/history_share.py`.

The buttons are DynamicItems carrying the team, the window and the moment the timeline was
taken, so each page is rebuilt the same way on a click, also after a restart — and a page sent
by an earlier version (an embed) becomes a card when it is paged.
"""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import UNKNOWN_BUTTON, Breakroom, is_manager
from bot.courier import Outcome, Send
from bot.errors import NotAllowed, NotFound
from bot.history import DEFAULT_WEEKS, MAX_WEEKS, Timeline
from bot.history_share import KIND, may_share
from bot.i18n import N_, _, speaking
from bot.outbox import Delivery
from bot.teams import TEAM_GONE, Team, not_a_member
from cogs._history_ui import chart_names, history_layout, paginate, render_charts
from cogs._layout import jump_view
from cogs._options import TeamOption, team_here
from cogs._shared import FromCustomId, Interaction, guarded, role_ids

SHARE_LABEL = N_("Share with the team")


async def team_of(interaction: Interaction, team_id: int, until: int) -> tuple[Team, datetime]:
    """The team a button names, and the moment its timeline was taken."""
    bot = interaction.client
    team = await bot.teams.get(team_id)
    if team.guild_id != interaction.guild_id:
        raise NotFound(_(TEAM_GONE))
    if until > bot.clock.now().timestamp():  # a timeline is taken at or before now
        raise NotFound(_(UNKNOWN_BUTTON))
    return team, datetime.fromtimestamp(until, UTC)


class HistoryPage(
    FromCustomId,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
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
                label=label or _("Page {page}", page=page),
                style=discord.ButtonStyle.secondary,
                custom_id=f"breakroom:history:{team_id}:{weeks}:{until}:{page}",
                disabled=disabled,
            )
        )
        self.team_id, self.weeks, self.until, self.page = team_id, weeks, until, page

    @guarded
    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        team, until = await team_of(interaction, self.team_id, self.until)
        timeline = await interaction.client.services.history.timeline(team, self.weeks, until)
        pages = paginate(timeline)
        page = min(max(self.page, 1), len(pages))
        # The charts stay the message's files (a page sent as an embed has the same ones).
        message = interaction.message
        attached = {a.filename for a in message.attachments} if message else set()
        charts = [name for name in chart_names(timeline) if name in attached]
        view = history_layout(timeline, pages, page, charts, buttons(timeline, len(pages), page))
        await interaction.response.edit_message(content=None, embed=None, view=view)


class ShareHistory(
    FromCustomId,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"breakroom:history-share:(?P<team>[0-9]+):(?P<weeks>[0-9]+):(?P<until>[0-9]+)",
):
    """Posts the timeline's first page and its charts in the team channel, for those who may."""

    def __init__(self, team_id: int, weeks: int, until: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=_(SHARE_LABEL),
                style=discord.ButtonStyle.primary,
                custom_id=f"breakroom:history-share:{team_id}:{weeks}:{until}",
            )
        )
        self.team_id, self.weeks, self.until = team_id, weeks, until

    @guarded
    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        bot = interaction.client
        team, until = await team_of(interaction, self.team_id, self.until)
        if not may_share(team, role_ids(interaction), is_manager(interaction)):
            raise NotAllowed(refusal(team))
        await interaction.response.defer(ephemeral=True, thinking=True)  # charts take a moment
        queued = await bot.services.history_shares.share(team, self.weeks, until)
        outcome = await bot.courier.attempt(queued.delivery_id, early=True)
        line, url = share_answer(team, outcome)
        await interaction.followup.send(line, view=jump_view(url), ephemeral=True)


def refusal(team: Team) -> str:
    if team.history_sharing == "everyone":
        return not_a_member(team.name, team.role_id)
    return _(
        "Only {team}'s leads and managers can share its history with the team. Ask one of "
        "them, or ask them to let every member share it (`/team edit` → `history_sharing`).",
        team=team.name,
    )


def share_answer(team: Team, outcome: Outcome) -> tuple[str, str | None]:
    """The one line a member reads after Share, and the post's link when there is one."""
    channel = team.channel_id
    if outcome.sent is not None:
        line = _("Shared with {team} in <#{channel}>.", team=team.name, channel=channel)
        return line, outcome.url
    if outcome.failure is not None and outcome.retry_at is None:
        reason = outcome.failure.reason
        return _(
            "Couldn't share it in <#{channel}>: {reason}", channel=channel, reason=reason
        ), None
    return (
        _(
            "It will be posted in <#{channel}> shortly (Discord is slow right now).",
            channel=channel,
        ),
        None,
    )


def buttons(timeline: Timeline, pages: int, page: int) -> list[discord.ui.Item[Any]]:
    """Previous / Next (with more than one page), and Share (when there is something to share)."""
    until = int(timeline.until.timestamp())
    ids = (timeline.team.id, timeline.weeks_asked, until)
    found: list[discord.ui.Item[Any]] = []
    if pages > 1:
        found.append(HistoryPage(*ids, page - 1, _("◀ Previous"), disabled=page <= 1))
        found.append(HistoryPage(*ids, page + 1, _("Next ▶"), disabled=page >= pages))
    if not timeline.empty:
        found.append(ShareHistory(*ids))
    return found


def files(charts: list[tuple[str, bytes]]) -> list[discord.File]:
    return [discord.File(io.BytesIO(data), filename=name) for name, data in charts]


class HistoryCog(commands.Cog, name="History"):
    """The team's timeline, with repeats compared."""

    def __init__(self, bot: Breakroom) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(HistoryPage, ShareHistory)
        self.bot.courier.handle(KIND, self.draft_share)

    async def cog_unload(self) -> None:
        self.bot.courier.forget(KIND)
        self.bot.remove_dynamic_items(HistoryPage, ShareHistory)

    async def draft_share(self, delivery: Delivery) -> Send | None:
        """'history_share': the first page's card and the charts, as the timeline was when it
        was shared, in the team channel."""
        assert delivery.subject is not None
        share = await self.bot.services.history_shares.get(delivery.subject)
        if share is None:  # its team was deleted
            return None
        team = await self.bot.teams.get(share.team_id)
        with speaking(team.language):  # for the team: its language, whoever shared it
            timeline = await self.bot.services.history.timeline(team, share.weeks, share.until)
            # asyncio.to_thread runs in a copy of this context: the charts speak it too
            charts = await asyncio.to_thread(render_charts, timeline)
            names = [name for name, _data in charts]
            view = history_layout(timeline, paginate(timeline), 1, names, shared=True)
        return Send(team.channel_id, team.guild_id, view=view, files=tuple(charts))

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
        pages = paginate(timeline)
        charts = await asyncio.to_thread(render_charts, timeline)
        names = [name for name, _data in charts]
        view = history_layout(timeline, pages, 1, names, buttons(timeline, len(pages), 1))
        await interaction.followup.send(view=view, files=files(charts), ephemeral=True)


async def setup(bot: Breakroom) -> None:
    await bot.add_cog(HistoryCog(bot))
