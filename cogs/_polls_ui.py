"""What polls look like in Discord: the poll message, the result post, `/poll results` and the
vote confirmation. Rendering only; the poll message's buttons are in cogs/_poll_buttons.py, the
cog (cogs/polls.py) does the work, and cogs/_poll_messages.py keeps the posted messages up to date.
"""

from __future__ import annotations

from datetime import datetime

import discord
from discord.utils import escape_markdown, format_dt

from bot.poll_closing import LAST_HOUR
from bot.poll_model import OptionChange, Poll, PollRun, Results, Vote
from cogs._shared import EMBED_COLOUR

COLOUR_OPEN = EMBED_COLOUR
COLOUR_CLOSED = discord.Colour.from_rgb(120, 120, 130)
BAR_WIDTH = 12
FIELD_LIMIT = 1024
DESCRIPTION_LIMIT = 4096
EMBED_LIMIT = 6000
RESULT_FOOTER = "results"
EMBED_BUDGET = 5800  # Discord allows 6000 characters per embed; keep a margin
LIST_OPEN_LIMIT = 15

Comparison = tuple[PollRun, list[OptionChange]]


# -- rendering ---------------------------------------------------------------------------------


def fit(embed: discord.Embed) -> discord.Embed:
    """Keep an embed within Discord's limits whatever members typed (escaped markdown can double
    a text's length): field values ≤ 1024, description ≤ 4096, the whole ≤ 6000."""
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


def closing(poll: Poll) -> str:
    """When an open poll closes: "in 2 days (5 January 2026 08:00)", in each member's timezone."""
    return f"{format_dt(poll.closes_at, 'R')} ({format_dt(poll.closes_at, 'f')})"


def closes_soon(poll: Poll, now: datetime) -> bool:
    """An open poll in its last hour (derived, nothing stored: see bot/poll_closing.py)."""
    return not poll.closed and poll.closes_at - LAST_HOUR <= now


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def bar(percent: int) -> str:
    filled = round(BAR_WIDTH * percent / 100)
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def jump_url(poll: Poll) -> str | None:
    if poll.channel_id is None or poll.message_id is None:
        return None
    return f"https://discord.com/channels/{poll.guild_id}/{poll.channel_id}/{poll.message_id}"


def option_lines(poll: Poll, counts: bool, changes: list[OptionChange] | None = None) -> list[str]:
    by_label = {c.label.casefold(): c for c in changes or []}
    winners = {o.id for o in poll.winners} if poll.closed else set()
    lines: list[str] = []
    for option in poll.options:
        label = escape_markdown(option.label)
        if not counts:
            lines.append(f"**{option.position}.** {label}")
            continue
        share = poll.share(option)
        trophy = " 🏆" if option.id in winners else ""
        line = f"**{option.position}. {label}**{trophy} — {plural(option.votes, 'vote')} · {share}%"
        change = by_label.get(option.label.casefold())
        if change is not None:
            line += f" (last time {change.before}%, {change.points:+d})"
        lines.append(f"{line}\n`{bar(share)}`")
    return lines


def winner_text(poll: Poll) -> str:
    winners = poll.winners
    if not winners:
        return "Nobody voted."
    names = " and ".join(f"**{escape_markdown(o.label)}**" for o in winners[:3])
    if len(winners) > 3:
        names = ", ".join(f"**{escape_markdown(o.label)}**" for o in winners[:3])
        names += f" and {len(winners) - 3} more"
    top = winners[0]
    picked = f"{top.votes} of {plural(poll.voters, 'voter')}"
    if len(winners) == 1:
        return f"{names} wins with {poll.share(top)}% ({picked})."
    return f"Tie between {names}: {poll.share(top)}% each ({picked} each)."


def poll_embed(poll: Poll, comparison: Comparison | None = None, *, now: datetime) -> discord.Embed:
    """The poll message: live while open (in its last hour, saying it closes soon), the final
    results once closed."""
    counts = poll.closed or not poll.hide_results
    changes = comparison[1] if comparison else None
    lines = [f"**{escape_markdown(poll.question)}**", "", *option_lines(poll, counts, changes)]
    embed = discord.Embed(
        title="📊 Poll closed" if poll.closed else "📊 Team poll",
        description="\n".join(lines),
        colour=COLOUR_CLOSED if poll.closed else COLOUR_OPEN,
    )
    if poll.closed:
        assert poll.closed_at is not None
        embed.add_field(name="Result", value=winner_text(poll), inline=False)
        embed.add_field(name="Turnout", value=f"{plural(poll.voters, 'member')} voted")
        embed.add_field(name="Closed", value=format_dt(poll.closed_at, "f"))
        if comparison:
            previous = comparison[0]
            embed.add_field(
                name="Last time",
                value=f"{format_dt(previous.date, 'D')}: {plural(previous.voters, 'member')} voted",
            )
    else:
        how = (
            "Click every answer you choose; click one again to remove it."
            if poll.multiple
            else "Click an answer to vote. Click another to move your vote, or yours again to "
            "remove it."
        )
        embed.add_field(name="How to vote", value=how, inline=False)
        if closes_soon(poll, now):
            soon = f"⏳ Closes soon — {format_dt(poll.closes_at, 'R')}"
            embed.add_field(name="Closes", value=f"{soon} ({format_dt(poll.closes_at, 't')})")
        else:
            embed.add_field(name="Closes", value=closing(poll))
        embed.add_field(name="Votes so far", value=f"{plural(poll.voters, 'member')} voted")
        if poll.hide_results:
            embed.add_field(name="Results", value="Hidden until the poll closes.")
    embed.add_field(
        name="Anonymous",
        value="Yes: nobody, managers included, can see who voted."
        if poll.anonymous
        else "No: the poll's creator and managers can see who voted.",
        inline=False,
    )
    embed.add_field(name="Asked by", value=f"<@{poll.creator_id}>")
    footer = f"Poll #{poll.id} · {poll.team_name}"
    if poll.rerun_of is not None:
        footer += f" · re-run of poll #{poll.rerun_of}"
    embed.set_footer(text=footer)
    return fit(embed)


def result_embed(poll: Poll, comparison: Comparison | None) -> discord.Embed:
    """The short message posted in the team channel when a poll closes."""
    lines = [winner_text(poll), f"{plural(poll.voters, 'member')} voted."]
    if comparison:
        previous, changes = comparison
        lines += [
            "",
            f"**Compared with the previous run** ({format_dt(previous.date, 'D')}, "
            f"{plural(previous.voters, 'member')} voted):",
        ]
        lines += [
            f"{escape_markdown(c.label)} {c.before}% → {c.after}%, {c.points:+d}" for c in changes
        ]
    else:
        lines.append(
            " · ".join(f"{escape_markdown(o.label)} {poll.share(o)}%" for o in poll.options)
        )
    url = jump_url(poll)
    if url:
        lines.append(f"[See the poll]({url})")
    embed = discord.Embed(
        title=shorten(f"📊 Results: {poll.question}", 256),
        description="\n".join(lines),
        colour=COLOUR_CLOSED,
    )
    return fit(embed.set_footer(text=f"Poll #{poll.id} · {poll.team_name} · {RESULT_FOOTER}"))


def is_result_message(message: discord.Message, poll_id: int) -> bool:
    """Whether `message` is the result message of that poll (and not the poll itself)."""
    footer = message.embeds[0].footer.text if message.embeds else None
    return (
        not message.components
        and footer is not None
        and footer.startswith(f"Poll #{poll_id} · ")
        and footer.endswith(f" · {RESULT_FOOTER}")
    )


def results_embed(results: Results, comparison: Comparison | None) -> discord.Embed:
    """`/poll results`, for one member."""
    poll = results.poll
    changes = comparison[1] if comparison else None
    lines = [f"**{escape_markdown(poll.question)}**", ""]
    lines += option_lines(poll, results.counts_visible, changes)
    if results.counts_visible and poll.hide_results and not poll.closed:
        lines += [
            "",
            "🔒 Hidden from the team until the poll closes; you see them as its creator "
            "or a manager.",
        ]
    elif not results.counts_visible:
        lines += [
            "",
            f"🔒 The results are hidden until the poll closes {format_dt(poll.closes_at, 'R')}.",
        ]
    embed = discord.Embed(
        title=f"📊 Poll #{poll.id}", description="\n".join(lines), colour=COLOUR_OPEN
    )
    if poll.closed:
        assert poll.closed_at is not None
        if results.counts_visible:
            embed.add_field(name="Result", value=winner_text(poll), inline=False)
        embed.add_field(name="Closed", value=format_dt(poll.closed_at, "f"))
    else:
        embed.add_field(name="Closes", value=closing(poll))
    embed.add_field(name="Turnout", value=f"{plural(poll.voters, 'member')} voted")
    if url := jump_url(poll):
        embed.add_field(name="Message", value=f"[See the poll]({url})")
    if results.voters is not None:
        add_voter_fields(embed, poll, results.voters)
    return fit(embed)


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


def add_voter_fields(embed: discord.Embed, poll: Poll, voters: dict[int, tuple[int, ...]]) -> None:
    """A field per option listing its voters, sharing what room the embed has left."""
    names = [shorten(f"{option.position}. {option.label}", 256) for option in poll.options]
    room = EMBED_BUDGET - len(embed) - sum(len(name) for name in names)
    budget = min(FIELD_LIMIT, max(0, room) // max(1, len(poll.options)))
    for name, option in zip(names, poll.options, strict=True):
        ids = voters.get(option.id, ())
        value = ""
        for shown, user_id in enumerate(ids):
            more = f" and {len(ids) - shown} more"
            mention = f"{', ' if value else ''}<@{user_id}>"
            if len(value) + len(mention) + len(more) > budget:
                value = (value + more) if value else f"{len(ids)} voters"
                break
            value += mention
        embed.add_field(name=name, value=value or "—")


def vote_message(vote: Vote) -> str:
    """The ephemeral confirmation: what the member now has selected."""
    chosen = f"**{escape_markdown(vote.option.label)}**"
    if not vote.poll.multiple:
        text = {
            "voted": f"✅ Your vote: {chosen}.",
            "added": f"✅ Your vote: {chosen}.",
            "moved": f"✅ You moved your vote to {chosen}.",
            "removed": f"Your vote for {chosen} is removed: you have no vote in this poll now. "
            f"Click an answer to vote again.",
        }[vote.action]
    else:
        selected = ", ".join(f"**{escape_markdown(o.label)}**" for o in vote.selected)
        text = f"Removed {chosen}." if vote.action == "removed" else f"✅ Added {chosen}."
        text += (
            f" You now have selected: {selected}." if selected else " You have nothing selected."
        )
    if vote.poll.anonymous:
        text += "\n🔒 This poll is anonymous: nobody, managers included, can see who voted."
    return text
