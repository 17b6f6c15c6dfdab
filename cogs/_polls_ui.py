"""What polls say in Discord, in pieces every poll layout shares: an option's line with its bar,
the winner, the footer line, the vote receipt, and `/poll list`. The poll message is built in
cogs/_poll_layout.py, the result post and `/poll results` in cogs/_poll_results.py; the buttons
are in cogs/_poll_buttons.py, the cog (cogs/polls.py) does the work, and cogs/_poll_messages.py
keeps the posted messages up to date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import discord
from discord.utils import escape_markdown, escape_mentions, format_dt

from bot.poll_closing import LAST_HOUR
from bot.poll_model import OptionChange, Poll, PollRun, Vote
from cogs._layout import TEXT_LIMIT, message_url, shorten
from cogs._shared import EMBED_COLOUR

COLOUR_OPEN = EMBED_COLOUR
BAR_WIDTH = 12
FIELD_LIMIT = 1024
DESCRIPTION_LIMIT = 4096
EMBED_LIMIT = 6000
LIST_OPEN_LIMIT = 15
#: Discord's limit for a message's content (the vote receipt)
CONTENT_LIMIT = 2000
#: characters of each option named in a multiple-choice receipt's "you have …"
RECEIPT_LABEL = 40

Comparison = tuple[PollRun, list[OptionChange]]
Text = discord.ui.TextDisplay


# -- words -------------------------------------------------------------------------------------


def literal(text: str, limit: int | None = None) -> str:
    """What a member typed, shown as typed: markdown (`**`, `#`, `>`, backticks) escaped and
    mentions (@everyone, <@…>) broken, within `limit` characters once escaped."""
    shown = escape_mentions(escape_markdown(text))
    if limit is None or len(shown) <= limit:
        return shown
    keep = min(len(text), limit)
    while keep > 1:
        shown = escape_mentions(escape_markdown(text[: keep - 1]).rstrip("\\")) + "…"
        if len(shown) <= limit:
            return shown
        keep -= max(1, (len(shown) - limit) // 2)
    return "…"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def bar(percent: int) -> str:
    filled = max(0, min(BAR_WIDTH, round(BAR_WIDTH * percent / 100)))
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def jump_url(poll: Poll) -> str | None:
    if poll.channel_id is None or poll.message_id is None:
        return None
    return message_url(poll.guild_id, poll.channel_id, poll.message_id)


def closes_soon(poll: Poll, now: datetime) -> bool:
    """An open poll in its last hour (derived, nothing stored: see bot/poll_closing.py)."""
    return not poll.closed and poll.closes_at - LAST_HOUR <= now


def headline(question: str, prefix: str = "📊 ") -> str:
    return f"### {prefix}{literal(question)}"


def option_text(
    poll: Poll,
    index: int,
    *,
    counts: bool,
    label_room: int | None,
    numbered: bool = False,
    change: OptionChange | None = None,
) -> str:
    """One option as members read it: its label (🏆 for a winner once closed) and, when counts
    are shown, a bar with its share and votes (and the change since the last run)."""
    option = poll.options[index]
    number = f"{option.position}. " if numbered else ""
    label = f"**{number}{literal(option.label, label_room)}**"
    if poll.closed and option in poll.winners:
        label += " 🏆"
    if not counts:
        return label
    share = poll.share(option)
    line = f"`{bar(share)}` {share}% · {plural(option.votes, 'vote')}"
    if change is not None:
        line += f" · {change.points:+d} pts"
    return f"{label}\n{line}"


def fitted_labels(
    poll: Poll, build: Callable[[int | None], discord.ui.Container[Any]]
) -> discord.ui.Container[Any]:
    """`build(room)` with every option's label held to `room` characters (None: whole), so that
    the card's text fits Discord's total: each label shortened alike, none left out, whatever
    the question, the bars and the footer take (measured, not guessed)."""
    whole = build(None)
    total = sum(len(item.content) for item in whole.walk_children() if isinstance(item, Text))
    if total <= TEXT_LIMIT:
        return whole
    labels = sum(len(literal(option.label)) for option in poll.options)
    room = (TEXT_LIMIT - (total - labels)) // max(1, len(poll.options))
    return build(max(8, room))


def changes_by_option(poll: Poll, comparison: Comparison | None) -> list[OptionChange | None]:
    by_label = {c.label.casefold(): c for c in comparison[1]} if comparison else {}
    return [by_label.get(option.label.casefold()) for option in poll.options]


def winner_text(poll: Poll) -> str:
    winners = poll.winners
    if not winners:
        return "Nobody voted."
    names = " and ".join(f"**{literal(o.label)}**" for o in winners[:3])
    if len(winners) > 3:
        names = ", ".join(f"**{literal(o.label)}**" for o in winners[:3])
        names += f" and {len(winners) - 3} more"
    top = winners[0]
    picked = f"{top.votes} of {plural(poll.voters, 'voter')}"
    if len(winners) == 1:
        return f"🏆 {names} wins with {poll.share(top)}% ({picked})."
    return f"🏆 Tie between {names}: {poll.share(top)}% each ({picked} each)."


def since_text(comparison: Comparison | None) -> str | None:
    """The re-run's comparison, as a footer part: "pts since poll #2 · <date> (5 voted)"."""
    if comparison is None:
        return None
    previous = comparison[0]
    return (
        f"pts since poll #{previous.poll_id} · {format_dt(previous.date, 'D')} "
        f"({previous.voters} voted)"
    )


def poll_footer(poll: Poll, now: datetime) -> str:
    """The poll message's one footer line: how it works, turnout, deadline, who asked."""
    parts = ["🔒 Anonymous" if poll.anonymous else "👤 Not anonymous"]
    if poll.multiple:
        parts.append("pick any")
    if poll.hide_results and not poll.closed:
        parts.append("results at close")
    parts.append(f"{poll.voters} voted")
    if poll.closed:
        assert poll.closed_at is not None
        parts.insert(0, f"🏁 Closed {format_dt(poll.closed_at, 'R')}")
    elif closes_soon(poll, now):
        parts.append(f"⏳ closes soon {format_dt(poll.closes_at, 'R')}")
    else:
        parts.append(f"closes {format_dt(poll.closes_at, 'R')}")
    parts.append(f"asked by <@{poll.creator_id}>")
    ref = f"poll #{poll.id}"
    if poll.rerun_of is not None:
        ref += f" (re-run of #{poll.rerun_of})"
    parts.append(ref)
    return "-# " + " · ".join(parts)


# -- the vote receipt --------------------------------------------------------------------------


def vote_message(vote: Vote) -> str:
    """The ephemeral receipt, one line: what the click did (and, for several answers, what the
    member has now). The poll's footer says whether it is anonymous; the receipt only notes it."""
    chosen = f"**{literal(vote.option.label)}**"
    if not vote.poll.multiple:
        text = {
            "voted": f"✅ Voted {chosen}",
            "added": f"✅ Voted {chosen}",
            "moved": f"✅ Moved to {chosen}",
            "removed": f"Removed your vote for {chosen}",
        }[vote.action]
    else:
        text = f"Removed {chosen}" if vote.action == "removed" else f"✅ Added {chosen}"
        have = ", ".join(literal(o.label, RECEIPT_LABEL) for o in vote.selected)
        text += f" · you have {have}" if have else " · you have nothing selected"
    if vote.poll.anonymous:
        text += " · anonymous"
    return shorten(text, CONTENT_LIMIT)


# -- /poll list (an embed: a list of links, no buttons) ----------------------------------------


def fit(embed: discord.Embed) -> discord.Embed:
    """Keep an embed within Discord's limits whatever members typed: field values ≤ 1024,
    description ≤ 4096, the whole ≤ 6000."""
    for index, item in enumerate(embed.fields):
        if len(item.value or "") > FIELD_LIMIT:
            embed.set_field_at(
                index,
                name=item.name,
                value=shorten(item.value or "", FIELD_LIMIT),
                inline=item.inline,
            )
    description = embed.description or ""
    excess = max(len(description) - DESCRIPTION_LIMIT, len(embed) - EMBED_LIMIT)
    if excess > 0 and description:
        embed.description = shorten(description, max(1, len(description) - excess))
    return embed


def list_embed(team_name: str, polls: list[Poll]) -> discord.Embed:
    """`/poll list`: the team's open polls (soonest deadline first), then the last closed."""
    open_polls = [p for p in polls if not p.closed]
    closed = [p for p in polls if p.closed]
    embed = discord.Embed(title=f"📊 Polls of {team_name}", colour=COLOUR_OPEN)
    lines: list[str] = []
    for poll in open_polls[:LIST_OPEN_LIMIT]:
        link = f" · [message]({url})" if (url := jump_url(poll)) else ""
        lines.append(
            f"**#{poll.id}** {escape_markdown(shorten(poll.question, 90))} — "
            f"{plural(poll.voters, 'voter')}, closes {format_dt(poll.closes_at, 'R')}{link}"
        )
    if len(open_polls) > LIST_OPEN_LIMIT:
        lines.append(f"…and {len(open_polls) - LIST_OPEN_LIMIT} more open polls.")
    embed.add_field(
        name="Open", value="\n".join(lines) or "No open polls. Start one with `/poll create`."
    )
    lines = [
        f"**#{p.id}** {escape_markdown(shorten(p.question, 90))} — {winner_text(p)}" for p in closed
    ]
    embed.add_field(name="Recently closed", value="\n".join(lines) or "None yet.", inline=False)
    return fit(embed)
