"""What reflections look like in Discord: the posted message, the receipt, the managers'
overview and the two forms. Rendering only; the cog (cogs/reflections.py) does the work.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import discord
from discord.utils import escape_markdown

from bot.i18n import _, day, n_
from bot.reflection_store import ERASE
from bot.reflection_text import (
    MAX_ABOUT,
    MAX_BODY,
    MAX_REASON,
    Deleted,
    Hidden,
    OpenReport,
    Overview,
    PostedMessage,
    Receipt,
    Reflection,
    excerpt,
)
from bot.schedule import show_time
from bot.teams import Team
from cogs._layout import TEXT_LIMIT, Layout, card, layout, message_url, text
from cogs._shared import routed_by_custom_id

COLOUR = discord.Colour.from_rgb(120, 110, 160)
CUSTOM_ID_PREFIX = "breakroom:reflection:"
MAX_REPORTS_SHOWN = 8
MAX_REASONS_SHOWN = 3


def reflection_post(
    reflection: Reflection, team: Team, shared_on: date, report: discord.ui.Item[Any]
) -> Layout:
    """A released reflection as its own card: what was written, shown as typed (markdown does
    nothing), then one muted line (team, "anonymous reflection", the day, the code leads hide it
    by) with the Report button beside it. Nothing in it points at who wrote it. In the team's
    language: the caller renders it inside `speaking(team.language)`."""
    muted = "-# " + _(
        "{team} · anonymous reflection · {day} · code {code}",
        team=escape_markdown(team.name),
        day=day(shared_on),
        code=reflection.ref,
    )
    about = ""
    if reflection.about:
        about = _("**About:** {about}", about=escape_markdown(reflection.about)) + "\n\n"
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
    return _(
        "**Your reflection is saved, without your name.**\n"
        "Receipt code: **{code}**\n"
        "Keep it if you might want to delete this reflection later "
        "(`/reflections delete code:{code}`). It is shown only to you, only now: "
        "Breakroom keeps no copy of it.\n"
        "It will be shared at {time} ({timezone}) on the first day enough "
        "teammates have written, together with theirs and in random order, so nobody can tell "
        "whose is whose.",
        code=receipt.code,
        time=receipt.share_time,
        timezone=team.timezone,
    )


def deleted_text(deleted: Deleted, removed: bool | None) -> str:
    """`/reflections delete`'s answer; `removed`: whether its post went (None: it had none to
    remove, or a manager had hidden it)."""
    if deleted.state == "hidden":
        return _("Deleted: a manager had already hidden it; now nothing of it remains.")
    if removed is None:
        return _("Deleted. It had not been posted yet, so nobody saw it.")
    if removed:
        return _("Deleted, and its post is removed from the team channel.")
    return _(
        "Deleted from Breakroom, but its post could not be removed from the channel; "
        "a manager can delete that message."
    )


def hidden_text(hidden: Hidden, removed: bool) -> str:
    """`/reflections hide`'s answer; `removed`: whether its message went (or it had none)."""
    if removed:
        answer = _(
            "Reflection {code} is hidden: its text is deleted and only an empty record remains.",
            code=hidden.ref,
        )
    else:
        answer = _(
            "Reflection {code} is hidden: its text is deleted and only an empty record "
            "remains, but its message could not be removed.",
            code=hidden.ref,
        )
    if hidden.reports_closed:
        answer += " " + n_(
            "Its {count} open report is closed.",
            "Its {count} open reports are closed.",
            hidden.reports_closed,
        )
    return answer


def settings_notes(team: Team, closed: int | None, threshold: int | None, timed: bool) -> str:
    """What `/reflections settings` just did, before the overview: reports closed, the new
    threshold, the new sharing time (`timed`)."""
    notes = []
    if closed is not None:
        notes.append(n_("Closed {count} report.", "Closed {count} reports.", closed))
    if threshold is not None:
        notes.append(
            _(
                "Threshold set to {threshold}, for reflections written from now on.",
                threshold=threshold,
            )
        )
    if timed:
        notes.append(
            _(
                "Batches are shared at {time}, {timezone} time.",
                time=show_time(team.reflection_share_time),
                timezone=team.timezone,
            )
        )
    return " ".join(notes)


def jump_url(guild_id: int, message: PostedMessage) -> str:
    return message_url(guild_id, message.channel_id, message.message_id)


def post_url(team: Team, report: OpenReport) -> str | None:
    return None if report.message is None else jump_url(team.guild_id, report.message)


def overview_embed(team: Team, overview: Overview) -> discord.Embed:
    lines = [
        _(
            "Reflections are shared at **{time}** ({timezone}) on days when at least "
            "**{threshold}** different people have written (the `threshold` and `share_time` "
            "options change this; a new threshold counts for reflections written after the "
            "change).",
            time=overview.share_time,
            timezone=team.timezone,
            threshold=overview.threshold,
        ),
        _("How many are waiting is never shown, to anyone: watching it would tell who wrote."),
        _(
            "Shared so far: **{shared}** · hidden: **{hidden}**.",
            shared=overview.posted,
            hidden=overview.hidden,
        ),
    ]
    if overview.waiting_to_post:
        lines.append(_("Being posted: **{count}**.", count=overview.waiting_to_post))
    if overview.trouble is not None:
        lines.append(trouble_line(overview.trouble.kind == ERASE, overview.trouble.error))
        if overview.trouble.retry_at is None:  # given up until the team's settings change
            lines[-1] += " " + _("Breakroom tries again once the team is edited (`/team edit`).")
    embed = discord.Embed(
        title=_("Reflections — {team}", team=team.name)[:256],
        description="\n".join(lines),
        colour=COLOUR,
    )
    reports = overview.open_reports
    if not reports:
        embed.add_field(name=_("Open reports"), value=_("None."), inline=False)
    for report in reports[:MAX_REPORTS_SHOWN]:
        embed.add_field(
            name=n_(
                "{code} — {count} report",
                "{code} — {count} reports",
                len(report.reasons),
                code=report.ref,
            ),
            value=report_value(team, report)[:1024],
            inline=False,
        )
    if len(reports) > MAX_REPORTS_SHOWN:
        left = len(reports) - MAX_REPORTS_SHOWN
        embed.add_field(
            name=_("More"),
            value=n_("{count} more reported", "{count} more reported", left),
            inline=False,
        )
    embed.set_footer(
        text=_(
            "Authors and reporters are never shown, not even to managers. "
            "/reflections hide removes one; the dismiss option closes its reports."
        )
    )
    return embed


def trouble_line(removing: bool, error: str) -> str:
    """The latest failure to post or remove one (the outbox's reason, as it was stored)."""
    if removing:
        return _("⚠️ A reflection could not be removed: {error}", error=error)
    return _("⚠️ A reflection could not be posted: {error}", error=error)


def report_value(team: Team, report: OpenReport) -> str:
    """A reported post's excerpt, its link, and the first reasons."""
    count = len(report.reasons)
    reasons = "\n".join(f"• {excerpt(r, 200)}" for r in report.reasons[:MAX_REASONS_SHOWN])
    if count > MAX_REASONS_SHOWN:
        left = count - MAX_REASONS_SHOWN
        reasons += "\n• " + n_("…and {count} more", "…and {count} more", left)
    link = ""
    if report.message:
        url = jump_url(team.guild_id, report.message)
        link = " · " + _("[message]({url})", url=url)
    return f"> {discord.utils.escape_markdown(report.excerpt)}{link}\n{reasons}"


def notice_embed(team: Team, report: OpenReport) -> discord.Embed:
    """For the team's leads, in their channel: which post was reported and why; never who wrote
    it or who reported it. The post's link is the notice's "Jump to post" button
    (`post_url`)."""
    embed = discord.Embed(
        title=_("🚩 A reflection in {team} was reported", team=team.name)[:256],
        description=_(
            "Code **{code}**: “{excerpt}”", code=report.ref, excerpt=escape_markdown(report.excerpt)
        ),
        colour=discord.Colour.orange(),
    )
    for number, reason in enumerate(report.reasons[:5], start=1):
        embed.add_field(name=_("Reason {number}", number=number), value=reason[:1024], inline=False)
    embed.set_footer(
        text=n_(
            "{count} open report. /reflections hide code:{code} removes it; "
            "/reflections settings dismiss:{code} closes the report.",
            "{count} open reports. /reflections hide code:{code} removes it; "
            "/reflections settings dismiss:{code} closes the reports.",
            len(report.reasons),
            code=report.ref,
        )
    )
    return embed


def write_modal(team: Team) -> discord.ui.Modal:
    modal = discord.ui.Modal(
        title=_("Write an anonymous reflection"), custom_id=f"{CUSTOM_ID_PREFIX}write:{team.id}"
    )
    modal.add_item(
        discord.ui.TextInput(
            label=_("Your reflection (no name is kept)"),
            custom_id="body",
            style=discord.TextStyle.paragraph,
            max_length=MAX_BODY,
            placeholder=_("What's on your mind about the work itself?"),
        )
    )
    modal.add_item(
        discord.ui.TextInput(
            label=_("What is it about? (optional)"),
            custom_id="about",
            required=False,
            max_length=MAX_ABOUT,
        )
    )
    return routed_by_custom_id(modal)


def report_modal(reflection_id: int) -> discord.ui.Modal:
    modal = discord.ui.Modal(
        title=_("Report this reflection"), custom_id=f"{CUSTOM_ID_PREFIX}reason:{reflection_id}"
    )
    modal.add_item(
        discord.ui.TextInput(
            label=_("What is wrong with it?"),
            custom_id="reason",
            style=discord.TextStyle.paragraph,
            max_length=MAX_REASON,
            placeholder=_("Managers see this reason, never who sent it."),
        )
    )
    return routed_by_custom_id(modal)
