"""`/help` and `/privacy`: what Breakroom does, its commands, and what it keeps (the privacy
texts and their pages: cogs/_privacy_text.py, cogs/_privacy_pages.py)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Breakroom, is_manager
from bot.i18n import N_, _
from cogs._privacy_pages import DYNAMIC_ITEMS, summary_page
from cogs._privacy_text import describe_database
from cogs._shared import EMBED_COLOUR, Interaction, manages_team

# Each line is a message of its own, translated when /help is shown (`help_embed`).
INTRO = (
    N_(
        "Breakroom helps a support team talk about the work itself: *what is the difference "
        "between a job and a career?* — and ask again later to see how the answers change."
    ),
    N_("• **Discussion prompts** posted every week, with a thread and an *Answer* button."),
    N_("• **Team polls** with buttons, deadlines, anonymous and hidden-until-close modes."),
    N_("• **Anonymous reflections** that nobody, managers included, can trace to you."),
)

#: What every member can do (each part of /help stays under 15 lines).
MEMBER_PART = (
    N_(
        "**Answer** the week's prompt with its *Answer* button or `/prompt answer`; "
        "`/prompt answers` reads the team's answers, `/prompt list` the prompts."
    ),
    N_(
        "**Vote** with a poll's buttons; `/poll create` asks your team, `/poll results`, "
        "`/poll list`, `/poll rerun`; `/poll close` closes your own poll."
    ),
    N_(
        "**Reflect** anonymously with `/reflect`; `/reflections delete` takes yours back with "
        "your receipt code."
    ),
    N_("**Look back** with `/history`; `/team list` shows the server's teams."),
    N_("`/privacy` says what is kept; `/forget-me` deletes what you wrote; `/help` is this."),
)
#: What a team's leads (and managers) can do for that team.
LEAD_PART = (
    N_("`/prompt post` posts a prompt now; `/prompt schedule` sets the weekly day and time."),
    N_("`/poll close` closes any poll of the team."),
    N_(
        "`/reflections hide` hides a posted reflection; `/reflections settings` sets the "
        "threshold and sharing time and shows the reports."
    ),
    N_("`/export` downloads the team's data; `/team edit` changes its channel, role or timezone."),
    N_(
        "These are hidden from other members in Discord's menus; a server shows them to a lead "
        "role under Server Settings → Integrations → Breakroom."
    ),
)
#: What only managers (Manage Server) can do.
MANAGER_PART = (
    N_(
        "`/team create` and `/team delete`; choosing a team's leads (`lead_role`) and their "
        "channel for report notices (`lead_channel`) with `/team edit`."
    ),
    N_("`/prompt add` and `/prompt remove`: the server's prompt bank."),
)


def lines(part: tuple[str, ...]) -> str:
    """A part of /help in the current language, a line per message."""
    return "\n".join(_(line) for line in part)


def help_embed(*, leads: bool, manages: bool) -> discord.Embed:
    """What the person asking can do first, then (for leads and managers) their part."""
    embed = discord.Embed(title="Breakroom", description=lines(INTRO), colour=EMBED_COLOUR)
    embed.add_field(name=_("What you can do"), value=lines(MEMBER_PART), inline=False)
    if leads or manages:
        embed.add_field(name=_("For your team, as its lead"), value=lines(LEAD_PART), inline=False)
    if manages:
        embed.add_field(name=_("For managers"), value=lines(MANAGER_PART), inline=False)
    embed.set_footer(text=_("Replies meant for you alone are only visible to you."))
    return embed


class General(commands.Cog, name="General"):
    """Help and privacy."""

    def __init__(self, bot: Breakroom) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        describe_database(self.bot.db.backend)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    @app_commands.command(name="help", extras={"dm_ok": True})
    async def help(self, interaction: Interaction) -> None:
        """What Breakroom does, and its commands"""
        manages = leads = True  # in a DM, Breakroom can't tell: all of it
        if interaction.guild_id is not None:
            manages = is_manager(interaction)
            teams = await self.bot.teams.for_guild(interaction.guild_id)
            leads = any(manages_team(interaction, team) for team in teams)
        embed = help_embed(leads=leads, manages=manages)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="privacy", extras={"dm_ok": True})
    async def privacy(self, interaction: Interaction) -> None:
        """What Breakroom stores, for how long, and how anonymity works"""
        # A short summary; its menu and buttons open each topic and the full text in place.
        await interaction.response.send_message(view=summary_page(), ephemeral=True)


async def setup(bot: Breakroom) -> None:
    await bot.add_cog(General(bot))
