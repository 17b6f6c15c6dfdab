"""What reflections look like in Discord: the posted message, the receipt, the managers'
overview and the two forms. Rendering only; the cog (cogs/reflections.py) does the work.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import discord
from discord.utils import escape_markdown

from bot.reflection_store import ERASE
from bot.reflection_text import (
    MAX_ABOUT,
    MAX_BODY,
    MAX_REASON,
    OpenReport,
    Overview,
    PostedMessage,
    Receipt,
    Reflection,
    excerpt,
)
from bot.teams import Team
from cogs._layout import TEXT_LIMIT, Layout, card, layout, message_url, text
from cogs._shared import routed_by_custom_id

COLOUR = discord.Colour.from_rgb(120, 110, 160)
CUSTOM_ID_PREFIX = "breakroom:reflection:"
MAX_REPORTS_SHOWN = 8
MAX_REASONS_SHOWN = 3


def reflection_post(
    reflection: Reflection, team: Team, day: date, report: discord.ui.Item[Any]
) -> Layout:
    """A released reflection as its own card: what was written, shown as typed (markdown does
    nothing), then one muted line (team, "anonymous reflection", the day, the code leads hide it
    by) with the Report button beside it. Nothing in it points at who wrote it."""
    muted = (
        f"-# {escape_markdown(team.name)} · anonymous reflection · "
        f"{day.day} {day:%b %Y} · code {reflection.ref}"
    )
    about = f"**About:** {escape_markdown(reflection.about)}\n\n" if reflection.about else ""
    body = literal(reflection.body or "", TEXT_LIMIT - len(muted) - len(about))
    return layout(
        card(
            text(about + body),
            discord.ui.Section(text(muted), accessory=report),
            accent=COLOUR,
        )
    )


def literal(body: str, room: int) -> str:
    """`body` shown as typed: its markdown escaped; or, when escaping would not fit `room` (a
    2,000-character run of `*`, say), in a code block, which shows it as typed at its length."""
    escaped = escape_markdown(body)
    if len(escaped) <= room:
        return escaped
    return "```\n" + body.replace("``", "``\u200b") + "\n```"


def receipt_text(receipt: Receipt, team: Team) -> str:
    # No count of who else has written: it would tell the member how close a batch is.
    return (
        f"**Your reflection is saved, without your name.**\n"
        f"Receipt code: **{receipt.code}**\n"
        f"Keep it if you might want to delete this reflection later "
        f"(`/reflections delete code:{receipt.code}`). It is shown only to you, only now: "
        f"Breakroom keeps no copy of it.\n"
        f"It will be shared at {receipt.share_time} ({team.timezone}) on the first day enough "
        f"teammates have written, together with theirs and in random order, so nobody can tell "
        f"whose is whose."
    )


def jump_url(guild_id: int, message: PostedMessage) -> str:
    return message_url(guild_id, message.channel_id, message.message_id)


def post_url(team: Team, report: OpenReport) -> str | None:
    return None if report.message is None else jump_url(team.guild_id, report.message)


def overview_embed(team: Team, overview: Overview) -> discord.Embed:
    lines = [
        f"Reflections are shared at **{overview.share_time}** ({team.timezone}) on days when "
        f"at least **{overview.threshold}** different people have written (the `threshold` "
        f"and `share_time` options change this; a new threshold counts for reflections "
        f"written after the change).",
        "How many are waiting is never shown, to anyone: watching it would tell who wrote.",
        f"Shared so far: **{overview.posted}** · hidden: **{overview.hidden}**.",
    ]
    if overview.waiting_to_post:
        lines.append(f"Being posted: **{overview.waiting_to_post}**.")
    if overview.trouble is not None:
        what = "removed" if overview.trouble.kind == ERASE else "posted"
        line = f"⚠️ A reflection could not be {what}: {overview.trouble.error}"
        if overview.trouble.retry_at is None:  # given up until the team's settings change
            line += " Breakroom tries again once the team is edited (`/team edit`)."
        lines.append(line)
    embed = discord.Embed(
        title=f"Reflections — {team.name}"[:256], description="\n".join(lines), colour=COLOUR
    )
    reports = overview.open_reports
    if not reports:
        embed.add_field(name="Open reports", value="None.", inline=False)
    for report in reports[:MAX_REPORTS_SHOWN]:
        count = len(report.reasons)
        reasons = "\n".join(f"• {excerpt(r, 200)}" for r in report.reasons[:MAX_REASONS_SHOWN])
        if count > MAX_REASONS_SHOWN:
            reasons += f"\n• …and {count - MAX_REASONS_SHOWN} more"
        link = f" · [message]({jump_url(team.guild_id, report.message)})" if report.message else ""
        value = f"> {discord.utils.escape_markdown(report.excerpt)}{link}\n{reasons}"
        embed.add_field(
            name=f"{report.ref} — {count} report{'s' if count != 1 else ''}",
            value=value[:1024],
            inline=False,
        )
    if len(reports) > MAX_REPORTS_SHOWN:
        embed.add_field(
            name="More", value=f"{len(reports) - MAX_REPORTS_SHOWN} more reported", inline=False
        )
    embed.set_footer(
        text="Authors and reporters are never shown, not even to managers. "
        "/reflections hide removes one; the dismiss option closes its reports."
    )
    return embed


def notice_embed(team: Team, report: OpenReport) -> discord.Embed:
    """For the team's leads, in their channel: which post was reported and why; never who wrote
    it or who reported it. The post's link is the notice's "Jump to post" button
    (`post_url`)."""
    embed = discord.Embed(
        title=f"🚩 A reflection in {team.name} was reported",
        description=f"Code **{report.ref}**: “{escape_markdown(report.excerpt)}”",
        colour=discord.Colour.orange(),
    )
    for number, reason in enumerate(report.reasons[:5], start=1):
        embed.add_field(name=f"Reason {number}", value=reason[:1024], inline=False)
    embed.set_footer(
        text=f"{len(report.reasons)} open report(s). /reflections hide code:{report.ref} removes "
        f"it; /reflections settings dismiss:{report.ref} closes the reports."
    )
    return embed


def write_modal(team: Team) -> discord.ui.Modal:
    modal = discord.ui.Modal(
        title="Write an anonymous reflection", custom_id=f"{CUSTOM_ID_PREFIX}write:{team.id}"
    )
    modal.add_item(
        discord.ui.TextInput(
            label="Your reflection (no name is kept)",
            custom_id="body",
            style=discord.TextStyle.paragraph,
            max_length=MAX_BODY,
            placeholder="What's on your mind about the work itself?",
        )
    )
    modal.add_item(
        discord.ui.TextInput(
            label="What is it about? (optional)",
            custom_id="about",
            required=False,
            max_length=MAX_ABOUT,
        )
    )
    return routed_by_custom_id(modal)


def report_modal(reflection_id: int) -> discord.ui.Modal:
    modal = discord.ui.Modal(
        title="Report this reflection", custom_id=f"{CUSTOM_ID_PREFIX}reason:{reflection_id}"
    )
    modal.add_item(
        discord.ui.TextInput(
            label="What is wrong with it?",
            custom_id="reason",
            style=discord.TextStyle.paragraph,
            max_length=MAX_REASON,
            placeholder="Managers see this reason, never who sent it.",
        )
    )
    return routed_by_custom_id(modal)
