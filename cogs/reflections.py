"""`/reflect` and `/reflections`: anonymous reflections, posted in batches (bot/reflections.py).

Privacy in the glue:
- Everything said to one person is ephemeral; `/reflect` answers with a modal, so nothing public
  shows who used it. Posting happens through the outbox (bot/courier.py) after the sharing time's
  release, never in the author's interaction.
- No user id, name or receipt code is logged for a reflection action. discord.py logs every
  gateway event at DEBUG, members' ids and what they typed included; `WithholdReflectionPayloads`
  takes the payload out of those records for reflection interactions.
- The Report button's custom_id carries the reflection id only (it reaches the error log).
"""

from __future__ import annotations

import logging
import random
import re
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Breakroom, is_manager
from bot.courier import Delete, Send, has_custom_id
from bot.errors import NotFound
from bot.i18n import _, speaking
from bot.outbox import Delivery
from bot.reflection_batches import ReflectionBatches
from bot.reflection_store import ERASE, NOTICE, POST
from bot.reflection_text import validate_reason
from bot.reflections import Reflections
from cogs._layout import jump_view
from cogs._options import TeamOption, choice_name, team_here
from cogs._reflections_ui import (
    CUSTOM_ID_PREFIX,
    deleted_text,
    hidden_text,
    notice_embed,
    overview_embed,
    post_url,
    receipt_text,
    reflection_post,
    report_modal,
    settings_notes,
    write_modal,
)
from cogs._shared import (
    FromCustomId,
    Interaction,
    guarded,
    lead_or_manager,
    no_pings,
    require_lead,
    require_team_member,
)

log = logging.getLogger(__name__)

WRITE_MODAL = r"breakroom:reflection:write:(?P<team>[0-9]+)"
REPORT_MODAL = r"breakroom:reflection:reason:(?P<id>[0-9]+)"
COMMAND_NAMES = frozenset({"reflect", "reflections"})


# --- logs -----------------------------------------------------------------------------------


def is_reflection_interaction(payload: Any) -> bool:
    """A gateway event that is someone using /reflect, /reflections or a reflection's button or
    form: its payload holds the member's id next to what they wrote, deleted or reported."""
    if not isinstance(payload, dict) or payload.get("t") != "INTERACTION_CREATE":
        return False
    data = (payload.get("d") or {}).get("data") or {}
    name, custom_id = data.get("name"), data.get("custom_id")
    return name in COMMAND_NAMES or str(custom_id or "").startswith(CUSTOM_ID_PREFIX)


class WithholdReflectionPayloads(logging.Filter):
    """On `discord.gateway`: keep the record, drop the payload of reflection interactions."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and is_reflection_interaction(args[1]):
            record.args = (args[0], "INTERACTION_CREATE for a reflection (payload not logged)")
        return True


LOG_FILTER = WithholdReflectionPayloads()
FILTERED_LOGGERS = ("discord.gateway",)


def reflections_cog(interaction: Interaction) -> ReflectionsCog:
    cog = interaction.client.get_cog(ReflectionsCog.__cog_name__)
    if not isinstance(cog, ReflectionsCog):
        raise RuntimeError("the reflections cog is not loaded")
    return cog


class ReportButton(
    FromCustomId,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"breakroom:reflection:report:(?P<id>[0-9]+)",
):
    """The Report button under each posted reflection; its id is all the custom_id carries."""

    def __init__(self, reflection_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=_("Report"),
                style=discord.ButtonStyle.secondary,
                custom_id=f"{CUSTOM_ID_PREFIX}report:{reflection_id}",
            )
        )
        self.reflection_id = reflection_id

    @guarded
    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        assert interaction.guild_id is not None
        await reflections_cog(interaction).check_may_report(interaction, self.reflection_id)
        await interaction.response.send_modal(report_modal(self.reflection_id))


async def posted_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Posted reflections (reported ones first) by code and text; for managers only."""
    if interaction.guild_id is None or not is_manager(interaction):
        return []
    found = await interaction.client.services.reflections.search_posted(
        interaction.guild_id, current
    )
    return [
        app_commands.Choice(name=choice_name(f"{r.ref} — {r.body or ''}"), value=r.ref)
        for r in found
    ]


# --- the cog --------------------------------------------------------------------------------


class ReflectionsCog(commands.Cog, name="Reflections"):
    """Anonymous reflections."""

    group = app_commands.Group(
        name="reflections", description="Delete your reflection; hide or set up reflections"
    )

    def __init__(self, bot: Breakroom) -> None:
        self.bot = bot

    @property
    def reflections(self) -> Reflections:
        return self.bot.services.reflections  # one per bot: it holds the daily limit in memory

    @property
    def batches(self) -> ReflectionBatches:
        return self.bot.services.reflection_batches

    @property
    def rng(self) -> random.Random:
        """Receipt codes, ids, the pages' order and the posting order come from here; tests
        seed it."""
        return self.reflections.rng

    @rng.setter
    def rng(self, rng: random.Random) -> None:
        self.reflections.rng = self.batches.rng = rng

    async def cog_load(self) -> None:
        for name in FILTERED_LOGGERS:
            logging.getLogger(name).addFilter(LOG_FILTER)
        self.bot.add_dynamic_items(ReportButton)
        self.bot.add_modal_handler(WRITE_MODAL, self.submit_reflection)
        self.bot.add_modal_handler(REPORT_MODAL, self.submit_report)
        self.bot.scheduler.register("reflections", self.run_due)
        self.bot.courier.handle(POST, self.draft_post)
        self.bot.courier.handle(ERASE, self.draft_erasure)
        self.bot.courier.handle(NOTICE, self.draft_notice)

    async def cog_unload(self) -> None:
        self.bot.scheduler.unregister("reflections")
        self.bot.courier.forget(POST)
        self.bot.courier.forget(ERASE)
        self.bot.courier.forget(NOTICE)
        self.bot.remove_dynamic_items(ReportButton)
        self.bot.remove_handler(WRITE_MODAL)
        self.bot.remove_handler(REPORT_MODAL)
        for name in FILTERED_LOGGERS:
            logging.getLogger(name).removeFilter(LOG_FILTER)

    # -- writing ------------------------------------------------------------------------------

    @app_commands.command(name="reflect")
    @app_commands.describe(team="The team to share it with (default: this channel's team)")
    async def reflect(self, interaction: Interaction, team: TeamOption | None = None) -> None:
        """Write an anonymous reflection for your team"""
        found = team or await team_here(interaction)
        require_team_member(interaction, found)
        await interaction.response.send_modal(write_modal(found))

    async def submit_reflection(
        self, interaction: Interaction, match: re.Match[str], values: dict[str, str]
    ) -> None:
        team = await self.bot.teams.get(int(match["team"]))
        if team.guild_id != interaction.guild_id:
            raise NotFound(_("That team is not in this server; use /reflect here again."))
        require_team_member(interaction, team)  # checked again: a role can go meanwhile
        receipt = await self.reflections.write(
            team, interaction.user.id, values.get("body", ""), values.get("about")
        )
        # No wake-up of the scheduler: batches go out at the sharing time, never in reaction to
        # a write, so a release does not point at its last writer.
        await interaction.response.send_message(receipt_text(receipt, team), ephemeral=True)

    async def submit_report(
        self, interaction: Interaction, match: re.Match[str], values: dict[str, str]
    ) -> None:
        assert interaction.guild_id is not None
        reason = validate_reason(values.get("reason", ""))  # an empty reason is told first
        reflection_id = int(match["id"])
        await self.check_may_report(interaction, reflection_id)
        await self.reflections.report(
            interaction.guild_id, interaction.user.id, reflection_id, reason
        )
        await interaction.response.send_message(
            _(
                "Thank you: your report is recorded. Managers and the team's leads see the "
                "reason, never who sent it."
            ),
            ephemeral=True,
        )
        self.bot.scheduler.wake()  # the leads' notice, if the team has a lead channel

    async def check_may_report(self, interaction: Interaction, reflection_id: int) -> None:
        """Shown, not yet reported by this member, and this member is one of its team."""
        assert interaction.guild_id is not None
        team_id = await self.reflections.check_reportable(
            interaction.guild_id, interaction.user.id, reflection_id
        )
        require_team_member(interaction, await self.bot.teams.get(team_id))

    # -- /reflections -------------------------------------------------------------------------

    @group.command(name="delete")
    @app_commands.describe(code="The receipt code you were shown when you wrote it (R-…)")
    async def delete(self, interaction: Interaction, code: app_commands.Range[str, 1, 40]) -> None:
        """Delete a reflection you wrote, with its receipt code"""
        assert interaction.guild_id is not None
        deleted = await self.reflections.delete_by_author(
            interaction.guild_id, interaction.user.id, code
        )
        removed = None
        if deleted.state != "hidden" and deleted.message is not None:
            removed = await self.bot.courier.delete_now(
                deleted.message.channel_id, deleted.message.message_id
            )
        await interaction.response.send_message(deleted_text(deleted, removed), ephemeral=True)

    @group.command(name="hide")
    @app_commands.describe(code="The code under the posted reflection (like K7Q2M)")
    @app_commands.autocomplete(code=posted_autocomplete)
    @lead_or_manager()
    async def hide(self, interaction: Interaction, code: app_commands.Range[str, 1, 40]) -> None:
        """Hide a posted reflection: its message goes, an empty record stays"""
        assert interaction.guild_id is not None
        team_id = await self.reflections.team_of_post(interaction.guild_id, code)
        require_lead(interaction, await self.bot.teams.get(team_id))
        hidden = await self.reflections.hide(interaction.guild_id, code)
        removed = hidden.message is None or await self.bot.courier.delete_now(
            hidden.message.channel_id, hidden.message.message_id
        )
        await interaction.response.send_message(hidden_text(hidden, removed), ephemeral=True)

    @group.command(name="settings")
    @app_commands.describe(
        team="The team (default: this channel's team)",
        threshold="How many different people must write before reflections are shared (3–10)",
        share_time="The daily time a complete batch is shared (team time: 17:00, 5pm, 17h)",
        dismiss="Close the reports on this reflection (its code) without hiding it",
    )
    @app_commands.autocomplete(dismiss=posted_autocomplete)
    @lead_or_manager()
    async def settings(
        self,
        interaction: Interaction,
        team: TeamOption | None = None,
        threshold: app_commands.Range[int, 3, 10] | None = None,
        share_time: app_commands.Range[str, 1, 20] | None = None,
        dismiss: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        """Reflection settings and open reports"""
        assert interaction.guild_id is not None
        found = team or await team_here(interaction)
        require_lead(interaction, found)
        closed = None
        if dismiss is not None:
            closed = await self.reflections.dismiss_reports(interaction.guild_id, dismiss)
        if threshold is not None or share_time is not None:
            await self.reflections.configure(found.id, threshold, share_time)
            found = await self.bot.teams.get(found.id)
            self.bot.scheduler.wake()  # to work out the next sharing time; it releases nothing
        notes = settings_notes(found, closed, threshold, share_time is not None)
        overview = await self.reflections.overview(found.id)
        await interaction.response.send_message(
            notes or None, embed=overview_embed(found, overview), ephemeral=True
        )

    # -- posting (the scheduler job releases; the outbox posts and removes) ---------------------

    async def run_due(self, now: datetime) -> datetime | None:
        """At each team's sharing time, release what may go out: its deliveries, due now, go
        out in the outbox's job that runs right after in the same pass."""
        await self.batches.release_due(now)
        return await self.batches.next_sharing(now)

    async def draft_post(self, delivery: Delivery) -> Send | None:
        """A released reflection, as its own message with a Report button (the button's custom
        id tells a repeat attempt that the message is already there)."""
        assert delivery.subject is not None
        reflection = await self.batches.to_post(delivery.subject)
        if reflection is None:
            return None  # deleted by its author meanwhile
        try:
            team = await self.bot.teams.get(reflection.team_id)
        except NotFound:
            return None  # deleted meanwhile: its reflections went with it
        # The day only (the team's), like the post's own date: no finer time than Discord shows.
        day = self.bot.clock.now().astimezone(team.zone).date()
        with speaking(team.language):  # posted for the team: in its language
            view = reflection_post(reflection, team, day, ReportButton(reflection.id))
        # An earlier attempt's message, in this layout or an older version's embed, carries the
        # same Report button (`has_custom_id` looks inside cards and rows alike).
        custom_id = f"{CUSTOM_ID_PREFIX}report:{reflection.id}"
        return Send(
            team.channel_id,
            team.guild_id,
            view=view,
            mentions=no_pings(),
            marker=lambda message: has_custom_id(message, custom_id),
        )

    async def draft_notice(self, delivery: Delivery) -> Send | None:
        """A report, told to the team's leads in their channel at once (nothing when the report
        was closed meanwhile or the team has no lead channel now)."""
        assert delivery.subject is not None
        found = await self.reflections.open_report(delivery.subject)
        if found is None:
            return None
        team = await self.bot.teams.get(found[0])
        if team.lead_channel_id is None:
            return None
        url = post_url(team, found[1])
        with speaking(team.language):  # for the team's leads, in the team's language
            embed = notice_embed(team, found[1])
            view = None if url is None else jump_view(url, _("Jump to post"))
        return Send(
            team.lead_channel_id, team.guild_id, embed=embed, view=view, mentions=no_pings()
        )

    async def draft_erasure(self, delivery: Delivery) -> Delete | None:
        """A removal `/forget-me` scheduled: the post first; the row goes when it is done."""
        message = await self.batches.to_erase(delivery.box)
        return None if message is None else Delete(message.channel_id, message.message_id)


async def setup(bot: Breakroom) -> None:
    await bot.add_cog(ReflectionsCog(bot))
