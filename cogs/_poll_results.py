"""A poll's results as Components V2 layouts: the result post (a reply to the poll when it
closes: `result_layout`) and `/poll results` for one member (`results_layout`), in one style: the
question and the winner beside a link to the poll, each option's share with a bar (and the change
since the last run), one footer line. `is_result_message` recognises a result post, as this
layout or as the embed earlier versions posted.
"""

from __future__ import annotations

from typing import Any

import discord
from discord.utils import format_dt

from bot.i18n import LANGUAGES, N_, _, n_, speaking
from bot.poll_model import Poll, Results
from cogs._layout import Layout, card, layout, link_button, separator, text
from cogs._polls_ui import (
    Comparison,
    changes_by_option,
    fitted_labels,
    headline,
    jump_url,
    literal,
    option_text,
    since_text,
    winner_text,
)

#: the old result embed's footer ended so (`Poll #3 · Front desk · results`)
LEGACY_RESULT_FOOTER = "results"
#: text for the voters of all options together, in `/poll results` with voters
VOTERS_ROOM = 1500
#: the result post's heading, and `/poll results`'
_RESULTS_HEADLINE = N_("📊 Results: {question}")
_POLL_HEADLINE = N_("📊 Poll #{id}: {question}")


def result_marker(poll_id: int) -> str:
    """How the result post's footer line starts (in the current language): what finds it again
    in the channel."""
    return "-# " + _("📊 Results of poll #{id}", id=poll_id) + " · "


def _top(lines: str, url: str | None) -> discord.ui.Item[Any]:
    """The question and the summary, with a link to the poll beside them when it is posted."""
    if url is None:
        return text(lines)
    return discord.ui.Section(text(lines), accessory=link_button(url, _("See the poll")))


def _options(
    poll: Poll, counts: bool, comparison: Comparison | None, room: int | None
) -> list[discord.ui.Item[Any]]:
    return [
        text(option_text(poll, index, counts=counts, label_room=room, change=change))
        for index, change in enumerate(changes_by_option(poll, comparison))
    ]


def result_layout(poll: Poll, comparison: Comparison | None) -> Layout:
    """The post in the team channel when a poll closes: who won, every option's share, the
    turnout and, for a re-run, each option's change since the last run."""
    top = f"{headline(poll.question, _RESULTS_HEADLINE)}\n{winner_text(poll)}"
    footer = [n_("{count} member voted", "{count} members voted", poll.voters)]
    if (since := since_text(comparison)) is not None:
        footer.append(since)
    footer_line = result_marker(poll.id) + f"{literal(poll.team_name)} · " + " · ".join(footer)

    def build(room: int | None) -> discord.ui.Container[Any]:
        options = _options(poll, True, comparison, room)
        return card(_top(top, jump_url(poll)), *options, separator(), text(footer_line))

    return layout(fitted_labels(poll, build))


def is_result_message(message: discord.Message, poll_id: int) -> bool:
    """Whether `message` is the result post of that poll (and not the poll itself): this
    layout's footer line (in any language: the team's may have changed since), or the embed
    footer `Poll #3 · <team> · results` of earlier versions."""
    if message.embeds and not message.components:
        footer = message.embeds[0].footer.text or ""
        return footer.startswith(f"Poll #{poll_id} · ") and footer.endswith(
            f" · {LEGACY_RESULT_FOOTER}"
        )
    markers = tuple(_marker_in(language, poll_id) for language in LANGUAGES)
    return any(
        isinstance(item, discord.TextDisplay) and item.content.startswith(markers)
        for item in _walk(message.components)
    )


def _marker_in(language: str, poll_id: int) -> str:
    with speaking(language):
        return result_marker(poll_id)


def _walk(components: list[Any]) -> list[Any]:
    found: list[Any] = []
    for component in components:
        found.append(component)
        found += _walk(list(getattr(component, "children", ()) or ()))
    return found


def _voters(poll: Poll, voters: dict[int, tuple[int, ...]], room: int) -> list[str]:
    """Each option's voters as mentions, sharing `room` characters ("and 3 more" past it)."""
    budget = max(20, room // max(1, len(poll.options)))
    lines: list[str] = []
    for option in poll.options:
        ids = voters.get(option.id, ())
        value = ""
        for shown, user_id in enumerate(ids):
            left = len(ids) - shown
            more = n_("{voters} and {count} more", "{voters} and {count} more", left, voters=value)
            mention = f"{', ' if value else ''}<@{user_id}>"
            if len(more) + len(mention) > budget:
                value = more if value else n_("{count} voter", "{count} voters", len(ids))
                break
            value += mention
        lines.append(f"-# {value or _('nobody')}")
    return lines


def results_layout(
    results: Results, comparison: Comparison | None, chart: str | None = None
) -> Layout:
    """`/poll results`, for one member: the counts they may see (with who voted, when asked
    for and allowed), and the chart of the runs (`chart`: the attachment's file name)."""
    poll = results.poll
    counts = results.counts_visible
    if poll.closed:
        assert poll.closed_at is not None
        summary = winner_text(poll) if counts else _("Closed.")
        when = _("closed {when}", when=format_dt(poll.closed_at, "R"))
    else:
        summary = _("Open · closes {when}", when=format_dt(poll.closes_at, "R"))
        when = _("closes {when}", when=format_dt(poll.closes_at, "R"))
    top = f"{headline(poll.question, _POLL_HEADLINE, id=poll.id)}\n{summary}"
    notes: list[str] = []
    if counts and poll.hide_results and not poll.closed:
        notes.append(
            _(
                "🔒 Hidden from the team until the poll closes; you see them as its creator or "
                "a manager."
            )
        )
    elif not counts:
        closes = format_dt(poll.closes_at, "R")
        notes.append(_("🔒 The results are hidden until the poll closes {when}.", when=closes))
    turnout = n_("{count} member voted", "{count} members voted", poll.voters)
    footer = [_("poll #{id}", id=poll.id), literal(poll.team_name), turnout, when]
    if (since := since_text(comparison)) is not None and counts:
        footer.append(since)
    voters = None if results.voters is None else _voters(poll, results.voters, VOTERS_ROOM)

    def build(room: int | None) -> discord.ui.Container[Any]:
        options = _options(poll, counts, comparison, room)
        for item, line in zip(options, voters or (), strict=False):
            assert isinstance(item, discord.ui.TextDisplay)
            item.content += f"\n{line}"
        items = [_top(top, jump_url(poll)), *options, *map(text, notes), separator()]
        items.append(text("-# " + " · ".join(footer)))
        if chart is not None:
            items.append(discord.ui.MediaGallery(discord.MediaGalleryItem(f"attachment://{chart}")))
        return card(*items)

    return layout(fitted_labels(poll, build))
