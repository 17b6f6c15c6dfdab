"""`/export`: a team's data as a file attachment (csv: a zip of sheets and tables; json: one
document).

Discord glue only: the file is built by `bot/export.py` on a separate read-only connection and
in a thread, so the bot keeps answering everyone else meanwhile.
"""

from __future__ import annotations

import asyncio
import io

import discord
from babel.numbers import format_decimal
from discord import app_commands
from discord.ext import commands

from bot.client import Breakroom
from bot.errors import InvalidInput
from bot.export import SCHEMA_VERSION, ExportFile, export_team, parse_format
from bot.i18n import _, locale, n_
from cogs._options import TeamOption, team_here
from cogs._shared import Interaction, lead_or_manager, require_lead

#: exports built at once; more wait their turn (each one reads and holds a whole team in memory)
CONCURRENT_EXPORTS = 2


def megabytes(size: int) -> str:
    amount = format_decimal(size / 1_000_000, format="#,##0.0", locale=locale())
    return _("{size} MB", size=amount)


def describe(export: ExportFile, team_name: str) -> str:
    counts = export.counts
    fields = {
        "team": discord.utils.escape_markdown(team_name),
        "version": SCHEMA_VERSION,
        "posts": n_("{count} prompt post", "{count} prompt posts", counts["posts"]),
        "answers": n_("{count} answer", "{count} answers", counts["answers"]),
        "polls": n_("{count} poll", "{count} polls", counts["polls"]),
        "reflections": n_(
            "{count} shared reflection", "{count} shared reflections", counts["reflections"]
        ),
    }
    if export.format == "csv":
        first = _(
            "Here is the data of **{team}** as a zip of CSV tables (schema version {version}): "
            "{posts}, {answers}, {polls}, {reflections}.",
            **fields,
        )
    else:
        first = _(
            "Here is the data of **{team}** as one JSON document (schema version {version}): "
            "{posts}, {answers}, {polls}, {reflections}.",
            **fields,
        )
    privacy = _(
        "Reflections carry no author and anonymous polls carry counts only. Answers and votes "
        "in named polls carry members' ids: keep the file as carefully as the server itself."
    )
    return f"{first}\n{privacy}"


def too_large(export: ExportFile, limit: int) -> str:
    advice = (
        _("Try `format: csv`, which is compressed.")
        if export.format == "json"
        else _("Whoever runs Breakroom can copy the data from its database file instead.")
    )
    sizes = {"size": megabytes(export.size), "limit": megabytes(limit)}
    refusal = _(
        "The export is {size}, more than the {limit} Discord lets me attach here, so I can't "
        "send it.",
        **sizes,
    )
    return f"{refusal} {advice}"


class ExportCog(commands.Cog, name="Export"):
    """A team's data as a file."""

    def __init__(self, bot: Breakroom) -> None:
        self.bot = bot
        self._slots = asyncio.Semaphore(CONCURRENT_EXPORTS)

    @app_commands.command(name="export")
    @lead_or_manager()
    @app_commands.describe(
        format="csv: a zip of answers.csv, polls.csv and one file per table; json: one document",
        team="The team to export (default: this channel's team)",
    )
    @app_commands.choices(
        format=[
            app_commands.Choice(
                name="CSV (a zip: answers and polls sheets, and the tables)", value="csv"
            ),
            app_commands.Choice(name="JSON (one document)", value="json"),
        ]
    )
    async def export(
        self,
        interaction: Interaction,
        format: app_commands.Choice[str],
        team: TeamOption | None = None,
    ) -> None:
        """Download the team's data as a file (never reflection authors or anonymous voters)"""
        fmt = parse_format(format.value)
        found = team or await team_here(interaction)
        require_lead(interaction, found)
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._slots:
            export = await export_team(
                self.bot.db, found.id, fmt, self.bot.clock.now(), found.language
            )
        limit = interaction.filesize_limit
        if export.size > limit:
            raise InvalidInput(too_large(export, limit))
        await interaction.followup.send(
            describe(export, found.name),
            file=discord.File(io.BytesIO(export.data), filename=export.filename),
            ephemeral=True,
        )


async def setup(bot: Breakroom) -> None:
    await bot.add_cog(ExportCog(bot))
