"""`/help` and `/privacy`: what Breakroom does, its commands, and what it keeps."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Breakroom, is_manager
from cogs._shared import EMBED_COLOUR, Interaction, manages_team

INTRO = (
    "Breakroom helps a support team talk about the work itself: *what is the difference between "
    "a job and a career?* — and ask again later to see how the answers change.\n"
    "• **Discussion prompts** posted every week, with a thread and an *Answer* button.\n"
    "• **Team polls** with buttons, deadlines, anonymous and hidden-until-close modes.\n"
    "• **Anonymous reflections** that nobody, managers included, can trace to you."
)

PRIVACY = """\
**What Breakroom keeps, in a database on the host's machine**
• Teams: name, channel, roles, timezone, weekly schedule, reflection settings.
• Prompts you answer: the text, with your Discord id and name, so you can edit it and the team \
can look back. `/forget-me` deletes them.
• Votes in ordinary polls: your id and your choice. `/forget-me` deletes them.
• Votes in **anonymous** polls: no id. One vote per person is kept by a keyed hash (HMAC with a \
secret key kept outside the data folder) of the server, your id and that poll, with your choice \
sealed (encrypted) under the key. While the poll is open its counts move only in steps of \
several voters, so no change gives one vote away; at close the hashes and sealed choices are \
deleted and only the counts stay.
• **Reflections**: the text, never who wrote it. Until it is shared, who wrote it is kept only \
sealed, to count different authors; that goes when the batch is shared. A keyed hash with a \
random value lets *you* delete yours with your receipt code. The 5-a-day limit is counted in \
the bot's memory only.

**When reflections are shared**: once a day at the team's sharing time (17:00 unless changed), \
when at least the threshold (3 or more) of different people have written, all together in \
random order; never right after someone writes. A reflection waits for the threshold that was \
set when it was written. Nobody, managers included, is told how many are waiting.

**The files keep no history**: after every write about a reflection or an anonymous vote the \
database's journal is emptied, deleted text is overwritten, and waiting reflections are stored \
in random order, so a copy of the data folder shows no author, no order of writing or voting, \
and nothing deleted.

**How long**: a team's data stays until a manager deletes the team. If Breakroom is removed \
from the server, the server's data is deleted after 30 days unless it is added back.

**The honest limit**: whoever runs the bot holds the key. With the key *and* the member list \
they could test, one member at a time, who matches a stored hash, or change the program.

**`/forget-me`** deletes, after you confirm, in that server only: your answers and their posts, \
your votes in named polls, and your reflections (those written under the current key): waiting \
ones at once, shared ones each at its own random time within 24 hours, so nobody sees them \
vanish together. It can't find your votes in anonymous polls, reflections written under an \
older key, your own Discord messages, or copies a manager already exported."""


#: What every member can do (each part of /help stays under 15 lines).
MEMBER_PART = (
    "**Answer** the week's prompt with its *Answer* button or `/prompt answer`; "
    "`/prompt answers` reads the team's answers, `/prompt list` the prompts.",
    "**Vote** with a poll's buttons; `/poll create` asks your team, `/poll results`, "
    "`/poll list`, `/poll rerun`; `/poll close` closes your own poll.",
    "**Reflect** anonymously with `/reflect`; `/reflections delete` takes yours back with your "
    "receipt code.",
    "**Look back** with `/history`; `/team list` shows the server's teams.",
    "`/privacy` says what is kept; `/forget-me` deletes what you wrote; `/help` is this.",
)
#: What a team's leads (and managers) can do for that team.
LEAD_PART = (
    "`/prompt post` posts a prompt now; `/prompt schedule` sets the weekly day and time.",
    "`/poll close` closes any poll of the team.",
    "`/reflections hide` hides a posted reflection; `/reflections settings` sets the threshold "
    "and sharing time and shows the reports.",
    "`/export` downloads the team's data; `/team edit` changes its channel, role or timezone.",
    "These are hidden from other members in Discord's menus; a server shows them to a lead "
    "role under Server Settings → Integrations → Breakroom.",
)
#: What only managers (Manage Server) can do.
MANAGER_PART = (
    "`/team create` and `/team delete`; choosing a team's leads (`lead_role`) and their "
    "channel for report notices (`lead_channel`) with `/team edit`.",
    "`/prompt add` and `/prompt remove`: the server's prompt bank.",
)


def help_embed(*, leads: bool, manages: bool) -> discord.Embed:
    """What the person asking can do first, then (for leads and managers) their part."""
    embed = discord.Embed(title="Breakroom", description=INTRO, colour=EMBED_COLOUR)
    embed.add_field(name="What you can do", value="\n".join(MEMBER_PART), inline=False)
    if leads or manages:
        embed.add_field(name="For your team, as its lead", value="\n".join(LEAD_PART), inline=False)
    if manages:
        embed.add_field(name="For managers", value="\n".join(MANAGER_PART), inline=False)
    embed.set_footer(text="Replies meant for you alone are only visible to you.")
    return embed


class General(commands.Cog, name="General"):
    """Help and privacy."""

    def __init__(self, bot: Breakroom) -> None:
        self.bot = bot

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
        embed = discord.Embed(title="Breakroom and your privacy", colour=EMBED_COLOUR)
        embed.description = PRIVACY
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: Breakroom) -> None:
    await bot.add_cog(General(bot))
