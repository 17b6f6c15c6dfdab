"""`/team`: create, edit, list and delete the server's teams."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Breakroom, NotManager, is_manager
from bot.errors import InvalidInput, NotAllowed, NotFound
from bot.i18n import N_, NATIVE, _, language_of, n_, search_languages
from bot.outbox import Trouble
from bot.schedule import describe, next_slots
from bot.teams import NO_TEAM_YET, TEAM_GONE, Team, search_timezones
from cogs._options import MAX_CHOICES, TeamOption
from cogs._shared import (
    EMBED_COLOUR,
    FromCustomId,
    Interaction,
    guarded,
    lead_or_manager,
    manager_only,
    postable_channel,
    require_lead,
)

FIELD_LIMIT = 1024
MAX_TEAM_FIELDS = 25
#: who may post a `/history` summary in the team channel (`/team edit history_sharing`)
HISTORY_SHARING = {
    "leads": N_("`/history` can be shared by its leads and managers"),
    "everyone": N_("`/history` can be shared by every team member"),
}


def next_post_line(team: Team, now: datetime) -> str:
    if team.schedule_weekday is None or team.schedule_time is None:
        return _("Weekly prompt: off")
    [slot] = next_slots(now, team.schedule_weekday, team.schedule_time, team.zone, 1)
    fields = {
        "slot": describe(team.schedule_weekday, team.schedule_time),
        "timezone": team.timezone,
        "next": discord.utils.format_dt(slot, "F"),
    }
    if team.schedule_ping_role and team.role_id:
        return _(
            "Weekly prompt: {slot} ({timezone}), mentioning <@&{role}> — next {next}",
            role=team.role_id,
            **fields,
        )
    return _("Weekly prompt: {slot} ({timezone}) — next {next}", **fields)


def trouble_lines(troubles: list[Trouble], shown: str | None) -> list[str]:
    """What Discord refused for the team (given up), once per reason."""
    reasons = dict.fromkeys(t.error for t in troubles if t.retry_at is None and t.error != shown)
    return [_("⚠️ Not delivered: {reason}", reason=reason) for reason in list(reasons)[:3]]


def team_summary(team: Team, now: datetime, troubles: list[Trouble] | None = None) -> str:
    role = f"<@&{team.role_id}>" if team.role_id else _("no role")
    language = NATIVE.get(team.language, team.language)
    lines = [
        _(
            "Channel <#{channel}> · {role} · {timezone} · posts in {language}",
            channel=team.channel_id,
            role=role,
            timezone=team.timezone,
            language=language,
        ),
        next_post_line(team, now),
    ]
    if team.lead_role_id is not None and team.lead_channel_id:
        lines.append(
            _(
                "Leads <@&{role}> · report notices in <#{channel}>",
                role=team.lead_role_id,
                channel=team.lead_channel_id,
            )
        )
    elif team.lead_role_id is not None:
        lines.append(_("Leads <@&{role}>", role=team.lead_role_id))
    lines.append(_(HISTORY_SHARING[team.history_sharing]))
    if team.last_post_error:
        # stored as the catalogue's English when the bank was empty (NO_PROMPTS): shown translated
        error = _(team.last_post_error)
        lines.append(_("⚠️ Last scheduled post failed: {error}", error=error))
    lines += trouble_lines(troubles or [], team.last_post_error)
    text = "\n".join(lines)
    return text if len(text) <= FIELD_LIMIT else text[: FIELD_LIMIT - 1] + "…"


def team_embed(title: str, team: Team, now: datetime, note: str = "") -> discord.Embed:
    embed = discord.Embed(title=title, colour=EMBED_COLOUR, description=note or None)
    embed.add_field(name=team.name, value=team_summary(team, now), inline=False)
    return embed


async def timezone_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=z, value=z) for z in search_timezones(current)][:MAX_CHOICES]


async def language_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Each language in its own words; the value is its code."""
    found = search_languages(current, MAX_CHOICES)
    return [app_commands.Choice(name=name, value=code) for code, name in found]


def server_language(interaction: Interaction) -> str:
    """A new team's default language: the server's (its community locale), English when
    Breakroom doesn't speak it."""
    locale = interaction.guild_locale
    return language_of(None if locale is None else locale.value)


def team_role(role: discord.Role | None) -> int | None:
    if role is not None and role.is_default():
        raise InvalidInput(_("@everyone can't be a team's role; pick the role its members share."))
    return None if role is None else role.id


class ConfirmDelete(
    FromCustomId,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"breakroom:team-delete:(?P<team>[0-9]+):(?P<created>[0-9]+)",
):
    """Deletes the team. Carries the team's creation time too: SQLite may give a new team the id
    of a deleted one, and an old confirm button must not delete the newcomer."""

    def __init__(self, team_id: int, created: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=_("Delete the team and its data"),
                style=discord.ButtonStyle.danger,
                custom_id=f"breakroom:team-delete:{team_id}:{created}",
            )
        )
        self.team_id = team_id
        self.created = created

    @guarded
    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        if not is_manager(interaction):
            raise NotManager("manager only")
        team = await interaction.client.teams.get(self.team_id)
        if (
            team.guild_id != interaction.guild_id
            or int(team.created_at.timestamp()) != self.created
        ):
            raise NotFound(_(TEAM_GONE))
        await interaction.client.teams.delete(team.id)
        await interaction.response.edit_message(
            content=_(
                "Deleted the team **{team}** and its data.",
                team=discord.utils.escape_markdown(team.name),
            ),
            embed=None,
            view=None,
        )


class KeepTeam(
    FromCustomId, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"breakroom:team-keep"
):
    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label=_("Keep it"),
                style=discord.ButtonStyle.secondary,
                custom_id="breakroom:team-keep",
            )
        )

    @guarded
    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        await interaction.response.edit_message(
            content=_("Nothing was deleted."), embed=None, view=None
        )


class TeamsCog(commands.Cog, name="Teams"):
    """Teams: a home channel, an optional role, a timezone and a weekly prompt slot."""

    team = app_commands.Group(name="team", description="The server's teams")

    def __init__(self, bot: Breakroom) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ConfirmDelete, KeepTeam)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ConfirmDelete, KeepTeam)

    @team.command(name="create")
    @manager_only()
    @app_commands.describe(
        name="The team's name, unique in this server (up to 50 characters)",
        channel="The team's home channel, where prompts are posted",
        role="The role the team's members share (optional)",
        timezone="The team's timezone, e.g. Europe/London (default UTC)",
        lead_role="A role whose members lead the team: they may do for it what managers may",
        lead_channel="Where leads are told at once when a reflection is reported",
        language="The language of the team's posts (default: the server's language)",
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete, language=language_autocomplete)
    async def create(
        self,
        interaction: Interaction,
        name: str,
        channel: discord.TextChannel,
        role: discord.Role | None = None,
        timezone: str = "UTC",
        lead_role: discord.Role | None = None,
        lead_channel: discord.TextChannel | None = None,
        language: str | None = None,
    ) -> None:
        """Create a team with its home channel"""
        assert interaction.guild is not None
        postable_channel(interaction.guild, channel.id)
        if lead_channel is not None:
            postable_channel(interaction.guild, lead_channel.id)
        team = await self.bot.teams.create(
            interaction.guild.id,
            name,
            channel.id,
            team_role(role),
            timezone,
            lead_role_id=team_role(lead_role),
            lead_channel_id=None if lead_channel is None else lead_channel.id,
            language=language or server_language(interaction),
        )
        await self.bot.services.prompts.bank.ensure_bank(team.guild_id)
        note = _(
            "Next: set a weekly time with `/prompt schedule`, or post a prompt now with "
            "`/prompt post`. The starter prompt bank is ready (`/prompt list`)."
        )
        embed = team_embed(_("Team created"), team, self.bot.clock.now(), note)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @team.command(name="edit")
    @lead_or_manager()
    @app_commands.describe(
        team="The team to change",
        name="A new name",
        channel="A new home channel",
        role="A new role for its members",
        timezone="A new timezone, e.g. America/New_York",
        remove_role="True to remove the team's role",
        lead_role="A new lead role (managers only)",
        lead_channel="A new channel for report notices (managers only)",
        history_sharing="Who may share /history with the team: leads (and managers), or everyone",
        language="A new language for the team's posts",
    )
    @app_commands.choices(
        history_sharing=[
            app_commands.Choice(name="leads: its leads and managers (default)", value="leads"),
            app_commands.Choice(name="everyone: every team member", value="everyone"),
        ]
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete, language=language_autocomplete)
    async def edit(
        self,
        interaction: Interaction,
        team: TeamOption,
        name: str | None = None,
        channel: discord.TextChannel | None = None,
        role: discord.Role | None = None,
        timezone: str | None = None,
        remove_role: bool = False,
        lead_role: discord.Role | None = None,
        lead_channel: discord.TextChannel | None = None,
        history_sharing: app_commands.Choice[str] | None = None,
        language: str | None = None,
    ) -> None:
        """Change a team's name, channel, role, timezone or leads"""
        assert interaction.guild is not None
        require_lead(interaction, team)
        if (lead_role or lead_channel) and not is_manager(interaction):
            # A lead choosing who leads could make everyone a lead.
            raise NotAllowed(
                _("Only managers (Manage Server) choose a team's leads and lead channel.")
            )
        given = (name, channel, role, timezone, lead_role, lead_channel, history_sharing, language)
        if all(value is None for value in given) and not remove_role:
            raise InvalidInput(_("Nothing to change: give a new name, channel, role or timezone."))
        if role is not None and remove_role:
            raise InvalidInput(_("Give a new role or remove the role, not both."))
        if channel is not None:
            postable_channel(interaction.guild, channel.id)
        changes: dict[str, Any] = {}
        if role is not None or remove_role:
            changes["role_id"] = team_role(role)
        if lead_role is not None:
            changes["lead_role_id"] = team_role(lead_role)
        if lead_channel is not None:
            postable_channel(interaction.guild, lead_channel.id)
            changes["lead_channel_id"] = lead_channel.id
        edited = await self.bot.teams.edit(
            team.id,
            name=name,
            channel_id=None if channel is None else channel.id,
            timezone=timezone,
            history_sharing=None if history_sharing is None else history_sharing.value,
            language=language,
            **changes,
        )
        self.bot.scheduler.wake()  # what was given up for the team is tried again
        embed = team_embed(_("Team updated"), edited, self.bot.clock.now())
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @team.command(name="list")
    async def list_teams(self, interaction: Interaction) -> None:
        """The server's teams: channel, role, timezone, language and weekly prompt"""
        assert interaction.guild_id is not None
        teams = await self.bot.teams.for_guild(interaction.guild_id)
        if not teams:
            await interaction.response.send_message(_(NO_TEAM_YET), ephemeral=True)
            return
        now = self.bot.clock.now()
        embed = discord.Embed(title=_("Teams ({count})", count=len(teams)), colour=EMBED_COLOUR)
        for team in teams[:MAX_TEAM_FIELDS]:
            troubles = await self.bot.services.outbox.troubles(team.id)
            embed.add_field(name=team.name, value=team_summary(team, now, troubles), inline=False)
        if len(teams) > MAX_TEAM_FIELDS:
            more = len(teams) - MAX_TEAM_FIELDS
            embed.set_footer(text=n_("and {count} more team", "and {count} more teams", more))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @team.command(name="delete")
    @manager_only()
    @app_commands.describe(team="The team to delete, with its posts, answers and settings")
    async def delete(self, interaction: Interaction, team: TeamOption) -> None:
        """Delete a team and its data, after a confirm button"""
        view = discord.ui.View(timeout=None)
        view.add_item(ConfirmDelete(team.id, int(team.created_at.timestamp())))
        view.add_item(KeepTeam())
        await interaction.response.send_message(
            _(
                "Delete the team **{team}**? This deletes its prompt posts, answers, polls, "
                "reflections and schedule for good. Messages already in Discord stay.",
                team=discord.utils.escape_markdown(team.name),
            ),
            view=view,
            ephemeral=True,
        )


async def setup(bot: Breakroom) -> None:
    await bot.add_cog(TeamsCog(bot))
