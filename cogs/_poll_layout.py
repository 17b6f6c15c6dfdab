"""The poll message as a Components V2 layout (`poll_layout`): a card headed by the question,
each option once beside its own button, one footer line, and Close while the poll is open.

Up to `SECTION_OPTIONS` options each get a section (its text, its "Vote" button as the
accessory: three components); more would pass Discord's 40 components, so the options are then a
numbered list with bars, five at a time, each five followed by a row of their numbered buttons.
The custom ids are the ones the embed-and-buttons message had (cogs/_poll_buttons.py), so the
buttons of a message posted before this layout keep working, and its next edit turns it into this.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import discord

from bot.i18n import _
from bot.poll_model import Poll
from cogs._layout import (
    COMPONENT_LIMIT,
    Layout,
    card,
    layout,
    separator,
    text,
)
from cogs._poll_buttons import PollButton, PollCloseButton
from cogs._polls_ui import (
    Comparison,
    changes_by_option,
    fitted_labels,
    headline,
    option_text,
    poll_footer,
)

#: options shown five to a row of numbered buttons when they don't fit as sections
ROW = 5


def _vote_button(poll: Poll, index: int, label: str) -> PollButton:
    option = poll.options[index]
    won = poll.closed and option in poll.winners
    return PollButton(
        poll.id,
        option.id,
        label=label,
        disabled=poll.closed,
        style=discord.ButtonStyle.success if won else discord.ButtonStyle.secondary,
    )


def _frame_top(poll: Poll) -> list[discord.ui.Item[Any]]:
    return [text(headline(poll.question))]


def _frame_bottom(poll: Poll, now: datetime) -> list[discord.ui.Item[Any]]:
    items: list[discord.ui.Item[Any]] = [separator(), text(poll_footer(poll, now))]
    if not poll.closed:
        items.append(discord.ui.ActionRow(PollCloseButton(poll.id)))
    return items


def sections_card(
    poll: Poll, comparison: Comparison | None, now: datetime
) -> discord.ui.Container[Any]:
    """A section per option: its label, bar and count, and its "Vote" button beside it."""
    return fitted_labels(poll, lambda room: _sections(poll, comparison, now, room))


def _sections(
    poll: Poll, comparison: Comparison | None, now: datetime, room: int | None
) -> discord.ui.Container[Any]:
    counts = poll.closed or not poll.hide_results
    items = _frame_top(poll)
    for index, change in enumerate(changes_by_option(poll, comparison)):
        label = _("Winner") if poll.closed and poll.options[index] in poll.winners else _("Vote")
        items.append(
            discord.ui.Section(
                text(option_text(poll, index, counts=counts, label_room=room, change=change)),
                accessory=_vote_button(poll, index, label),
            )
        )
    items += _frame_bottom(poll, now)
    return card(*items)


def list_layout(poll: Poll, comparison: Comparison | None, now: datetime) -> Layout:
    """The options numbered, five to a text, each five followed by their numbered buttons."""
    return layout(fitted_labels(poll, lambda room: _listed(poll, comparison, now, room)))


def _listed(
    poll: Poll, comparison: Comparison | None, now: datetime, room: int | None
) -> discord.ui.Container[Any]:
    counts = poll.closed or not poll.hide_results
    changes = changes_by_option(poll, comparison)
    items = _frame_top(poll)
    for start in range(0, len(poll.options), ROW):
        group = range(start, min(start + ROW, len(poll.options)))
        lines = [
            option_text(poll, i, counts=counts, label_room=room, numbered=True, change=changes[i])
            for i in group
        ]
        items.append(text("\n".join(lines)))
        buttons = [_vote_button(poll, i, str(poll.options[i].position)) for i in group]
        items.append(discord.ui.ActionRow(*buttons))
    items += _frame_bottom(poll, now)
    return card(*items)


def fits_as_sections(poll: Poll, now: datetime) -> bool:
    """Whether a section per option stays within Discord's 40 components while the poll is
    open (Close included): decided for the open poll, so closing never changes its shape."""
    frame = sections_card(replace(poll, closed_at=None), None, now)
    return 1 + sum(1 for _ in frame.walk_children()) <= COMPONENT_LIMIT


def poll_layout(poll: Poll, comparison: Comparison | None = None, *, now: datetime) -> Layout:
    """The poll message: live while open (in its last hour, saying it closes soon), the final
    results once closed (winners' buttons green, every button disabled, Close gone)."""
    if fits_as_sections(poll, now):
        return layout(sections_card(poll, comparison, now))
    return list_layout(poll, comparison, now)
