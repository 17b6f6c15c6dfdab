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

from bot.i18n import N_, _, n_, percent
from bot.poll_closing import LAST_HOUR
from bot.poll_model import OptionChange, Poll, PollOption, PollRun, Vote
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


def headline(question: str, template: str | None = None, **fields: Any) -> str:
    """The question as a heading; `template` (a message with `{question}`) says what of it."""
    if template is None:
        return f"### 📊 {literal(question)}"
    return "### " + _(template, question=literal(question), **fields)


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
    line = n_(
        "`{bar}` {share} · {count} vote",
        "`{bar}` {share} · {count} votes",
        option.votes,
        bar=bar(share),
        share=percent(share / 100),
    )
    if change is not None:
        line = _("{line} · {points} pts", line=line, points=f"{change.points:+d}")
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
        return _("Nobody voted.")
    top = winners[0]
    share, votes, voters = percent(poll.share(top) / 100), top.votes, poll.voters
    if len(winners) == 1:
        return n_(
            "🏆 {name} wins with {share} ({votes} of {count} voter).",
            "🏆 {name} wins with {share} ({votes} of {count} voters).",
            voters,
            name=f"**{literal(top.label)}**",
            share=share,
            votes=votes,
        )
    return n_(
        "🏆 Tie between {names}: {share} each ({votes} of {count} voter each).",
        "🏆 Tie between {names}: {share} each ({votes} of {count} voters each).",
        voters,
        names=tied_names(winners),
        share=share,
        votes=votes,
    )


def tied_names(winners: tuple[PollOption, ...]) -> str:
    """The tied options: "**A** and **B**", "**A**, **B** and **C**" past three "… and 2 more"."""
    names = [f"**{literal(o.label)}**" for o in winners[:3]]
    if len(winners) > 3:
        return n_(
            "{first}, {second}, {third} and {count} more",
            "{first}, {second}, {third} and {count} more",
            len(winners) - 3,
            first=names[0],
            second=names[1],
            third=names[2],
        )
    if len(names) == 3:
        return _(
            "{first} and {second} and {third}", first=names[0], second=names[1], third=names[2]
        )
    return _("{first} and {second}", first=names[0], second=names[1])


def since_text(comparison: Comparison | None) -> str | None:
    """The re-run's comparison, as a footer part: "pts since poll #2 · <date> (5 voted)"."""
    if comparison is None:
        return None
    previous = comparison[0]
    return n_(
        "pts since poll #{id} · {date} ({count} voted)",
        "pts since poll #{id} · {date} ({count} voted)",
        previous.voters,
        id=previous.poll_id,
        date=format_dt(previous.date, "D"),
    )


def poll_footer(poll: Poll, now: datetime) -> str:
    """The poll message's one footer line: how it works, turnout, deadline, who asked."""
    parts = [_("🔒 Anonymous") if poll.anonymous else _("👤 Not anonymous")]
    if poll.multiple:
        parts.append(_("pick any"))
    if poll.hide_results and not poll.closed:
        parts.append(_("results at close"))
    parts.append(n_("{count} voted", "{count} voted", poll.voters))
    if poll.closed:
        assert poll.closed_at is not None
        parts.insert(0, _("🏁 Closed {when}", when=format_dt(poll.closed_at, "R")))
    elif closes_soon(poll, now):
        parts.append(_("⏳ closes soon {when}", when=format_dt(poll.closes_at, "R")))
    else:
        parts.append(_("closes {when}", when=format_dt(poll.closes_at, "R")))
    parts.append(_("asked by {member}", member=f"<@{poll.creator_id}>"))
    if poll.rerun_of is None:
        parts.append(_("poll #{id}", id=poll.id))
    else:
        parts.append(_("poll #{id} (re-run of #{rerun_of})", id=poll.id, rerun_of=poll.rerun_of))
    return "-# " + " · ".join(parts)


# -- the vote receipt --------------------------------------------------------------------------

#: what a click on a single-choice poll did
SINGLE_RECEIPTS = {
    "voted": N_("✅ Voted {option}"),
    "added": N_("✅ Voted {option}"),
    "moved": N_("✅ Moved to {option}"),
    "removed": N_("Removed your vote for {option}"),
}


def vote_message(vote: Vote) -> str:
    """The ephemeral receipt, one line: what the click did (and, for several answers, what the
    member has now). The poll's footer says whether it is anonymous; the receipt only notes it."""
    chosen = f"**{literal(vote.option.label)}**"
    if not vote.poll.multiple:
        text = _(SINGLE_RECEIPTS[vote.action], option=chosen)
    else:
        have = ", ".join(literal(o.label, RECEIPT_LABEL) for o in vote.selected)
        if vote.action == "removed":
            text = _("Removed {option} · you have {selected}", option=chosen, selected=have)
            if not have:
                text = _("Removed {option} · you have nothing selected", option=chosen)
        else:
            text = _("✅ Added {option} · you have {selected}", option=chosen, selected=have)
    if vote.poll.anonymous:
        text = _("{receipt} · anonymous", receipt=text)
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
    embed = discord.Embed(title=_("📊 Polls of {team}", team=team_name), colour=COLOUR_OPEN)
    lines: list[str] = []
    for poll in open_polls[:LIST_OPEN_LIMIT]:
        line = n_(
            "**#{id}** {question} — {count} voter, closes {when}",
            "**#{id}** {question} — {count} voters, closes {when}",
            poll.voters,
            id=poll.id,
            question=escape_markdown(shorten(poll.question, 90)),
            when=format_dt(poll.closes_at, "R"),
        )
        if (url := jump_url(poll)) is not None:
            line = _("{line} · [message]({url})", line=line, url=url)
        lines.append(line)
    if len(open_polls) > LIST_OPEN_LIMIT:
        more = len(open_polls) - LIST_OPEN_LIMIT
        lines.append(n_("…and {count} more open poll.", "…and {count} more open polls.", more))
    embed.add_field(
        name=_("Open"),
        value="\n".join(lines) or _("No open polls. Start one with `/poll create`."),
    )
    lines = [
        f"**#{p.id}** {escape_markdown(shorten(p.question, 90))} — {winner_text(p)}" for p in closed
    ]
    embed.add_field(
        name=_("Recently closed"), value="\n".join(lines) or _("None yet."), inline=False
    )
    return fit(embed)
