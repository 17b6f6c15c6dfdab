"""Discord's current message layouts (Components V2) as Breakroom builds them: a card (a container
with Breakroom's accent colour) of text displays, sections and buttons, held within Discord's
limits whatever members typed (`layout`), and the link buttons one-line confirmations carry.

A private module (not an extension): plain builders every cog shares.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.i18n import N_, _
from cogs._shared import EMBED_COLOUR

#: all text displays of one message together (Discord's limit for a Components V2 message)
TEXT_LIMIT = 4000
#: every component of one message, nested ones included
COMPONENT_LIMIT = 40
#: characters in a button's label
BUTTON_LABEL_LIMIT = 80

Layout = discord.ui.LayoutView


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis (whitespace runs kept as typed)."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def message_url(guild_id: int, channel_id: int, message_id: int | None = None) -> str:
    """The link Discord opens a message (or a channel or thread) with."""
    url = f"https://discord.com/channels/{guild_id}/{channel_id}"
    return url if message_id is None else f"{url}/{message_id}"


#: a link button's label when none is given
JUMP = N_("Jump to post")


def link_button(url: str, label: str | None = None) -> discord.ui.Button[Any]:
    return discord.ui.Button(label=label or _(JUMP), url=url, style=discord.ButtonStyle.link)


def jump_view(url: str | None, label: str | None = None) -> discord.ui.View:
    """A one-line confirmation's link button (a plain view: it goes with `content`). Without a url
    it is empty, which sends no components."""
    view = discord.ui.View(timeout=None)
    if url:
        view.add_item(link_button(url, label))
    return view


def text(content: str) -> discord.ui.TextDisplay[Any]:
    return discord.ui.TextDisplay(content)


def separator(*, large: bool = False, visible: bool = True) -> discord.ui.Separator[Any]:
    spacing = discord.SeparatorSpacing.large if large else discord.SeparatorSpacing.small
    return discord.ui.Separator(visible=visible, spacing=spacing)


def card(
    *items: discord.ui.Item[Any], accent: discord.Colour | None = EMBED_COLOUR
) -> discord.ui.Container[Any]:
    """A container: the frame with a coloured edge that holds one post."""
    return discord.ui.Container(*items, accent_colour=accent)


def texts(view: Layout) -> list[discord.ui.TextDisplay[Any]]:
    return [item for item in view.walk_children() if isinstance(item, discord.ui.TextDisplay)]


def text_length(view: Layout) -> int:
    return sum(len(display.content) for display in texts(view))


def component_count(view: Layout) -> int:
    return sum(1 for _ in view.walk_children())


def layout(*items: discord.ui.Item[Any]) -> Layout:
    """A message of these items that never times out (its buttons are DynamicItems, found by
    custom id), its text held to Discord's total (`fit`)."""
    view = Layout(timeout=None)
    for item in items:
        view.add_item(item)
    return fit(view)


def fit(view: Layout, limit: int = TEXT_LIMIT) -> Layout:
    """Shorten the longest text displays until the message's text fits Discord's total: what
    members typed (a long question, twenty long options) can't make a post fail."""
    excess = text_length(view) - limit
    while excess > 0:
        longest = max(texts(view), key=lambda display: len(display.content))
        keep = max(1, len(longest.content) - excess)
        if keep >= len(longest.content):  # nothing left to cut
            break
        longest.content = shorten(longest.content, keep)
        excess = text_length(view) - limit
    return view
