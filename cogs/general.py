"""`/help` and `/privacy`: what Breakroom does, its commands, and what it keeps."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Breakroom
from cogs._shared import Interaction

EMBED_COLOUR = discord.Colour.from_rgb(88, 134, 118)
FIELD_LIMIT = 1024

INTRO = (
    "Breakroom helps a support team talk about the work itself: *what is the difference between "
    "a job and a career?* — and ask again later to see how the answers change.\n"
    "• **Discussion prompts** posted every week, with a thread and an *Answer* button.\n"
    "• **Team polls** with buttons, deadlines, anonymous and hidden-until-close modes.\n"
    "• **Anonymous reflections** that nobody, managers included, can trace to you.\n"
    "Commands marked 🔧 are for managers (Manage Server)."
)

PRIVACY = """\
**What Breakroom keeps, in a database on the host's machine**
• Teams: name, channel, role, timezone and weekly schedule.
• Prompts you answer: your answer text, with your Discord user id and name, so you can edit it \
and the team can look back. `/forget-me` deletes them.
• Votes in ordinary polls: your user id and your choice. `/forget-me` deletes them.
• Votes in **anonymous** polls: no user id. To allow one vote per person the bot keeps a keyed \
hash (HMAC-SHA256 with a secret key kept outside the database) of the server, your id and that \
poll, which can't be reversed or linked to any other poll.
• **Reflections**: the text only, never who wrote it. A keyed hash with a random per-reflection \
value lets *you* delete yours with its receipt code; a daily-limit hash (keyed by the day) is \
dropped after the day. Reflections are posted in batches, only once several people have written, \
in random order, so timing and order give nobody away.
• Reports of a reflection: the reason, and a keyed hash so one person reports once; never who.

**How long**: a team's data stays until a manager deletes the team. If Breakroom is removed \
from the server, the server's data is deleted after 30 days unless it is added back (if it was \
removed while offline, the 30 days start when it next starts).

**Who can see what**: answers are posted under your name in the prompt's thread; the team sees \
poll results (counts only for anonymous polls); managers can export the team's data, which never \
contains who wrote a reflection or who voted in an anonymous poll.

**The honest limit**: whoever runs the bot holds the secret key. With the key *and* the list of \
members they could test, member by member, who matches a stored hash. A copy of the database \
alone reveals nobody.

**`/forget-me`** deletes, after you confirm, in that server only: your answers to prompts and \
their posts in the threads, your votes in named polls (their counts change), and the reflections \
you wrote — found by recomputing your keyed hash, so only those written under Breakroom's current \
secret key — with their posts, including any still waiting to be shared. It can't find, by \
design: your votes in anonymous polls (only a per-poll hash is kept, so they stay counted), \
reflections written before the key was replaced, messages you typed yourself in Discord (delete \
those in Discord), and copies a manager already exported. Polls you created stay with the team, \
with you as their creator."""


def _chunks(lines: list[str], limit: int = FIELD_LIMIT) -> list[str]:
    chunks: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


AppCommand = app_commands.Command[Any, Any, Any] | app_commands.Group


def command_lines(commands_: list[AppCommand]) -> list[str]:
    lines: list[str] = []
    for command in commands_:
        if isinstance(command, app_commands.Group):
            lines.extend(command_lines(list(command.commands)))
            continue
        permissions = command.default_permissions
        if permissions is None and command.root_parent is not None:
            permissions = command.root_parent.default_permissions
        marker = " 🔧" if permissions is not None and permissions.manage_guild else ""
        lines.append(f"`/{command.qualified_name}`{marker} — {command.description}")
    return lines


def help_embed(bot: commands.Bot) -> discord.Embed:
    """Built from the command tree itself, so every registered command is listed."""
    embed = discord.Embed(title="Breakroom", description=INTRO, colour=EMBED_COLOUR)
    for cog in sorted(bot.cogs.values(), key=lambda c: c.__cog_name__):
        lines = command_lines(list(cog.get_app_commands()))
        for index, chunk in enumerate(_chunks(lines)):
            name = cog.__cog_name__ if index == 0 else f"{cog.__cog_name__} (more)"
            embed.add_field(name=name, value=chunk, inline=False)
    embed.set_footer(text="Replies meant for you alone are only visible to you.")
    return embed


class General(commands.Cog, name="General"):
    """Help and privacy."""

    def __init__(self, bot: Breakroom) -> None:
        self.bot = bot

    @app_commands.command(name="help", extras={"dm_ok": True})
    async def help(self, interaction: Interaction) -> None:
        """What Breakroom does, and its commands"""
        await interaction.response.send_message(embed=help_embed(self.bot), ephemeral=True)

    @app_commands.command(name="privacy", extras={"dm_ok": True})
    async def privacy(self, interaction: Interaction) -> None:
        """What Breakroom stores, for how long, and how anonymity works"""
        embed = discord.Embed(title="Breakroom and your privacy", colour=EMBED_COLOUR)
        embed.description = PRIVACY
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: Breakroom) -> None:
    await bot.add_cog(General(bot))
