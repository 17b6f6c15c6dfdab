"""The poll message's buttons: one per option, and Close while the poll is open (placed by
cogs/_poll_layout.py).
The ids live in the custom ids, so the buttons work after a restart. A vote is routed straight
to the polls cog (`VOTE_TEMPLATE`); a click on Close is handed to it, found by name.

It is a private module (not an extension), imported once per process: discord.py loads each
extension as a fresh module, and the buttons' DynamicItem classes must be one object for every bot
in the process.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import discord

from bot import errors
from bot.courier import has_custom_id
from bot.i18n import _
from bot.poll_model import Poll
from cogs._shared import FromCustomId, Interaction, guarded


def button_id(poll_id: int, option_id: int) -> str:
    """The custom id of an option's button: the ids in it make it work after a restart."""
    return f"breakroom:poll:{poll_id}:{option_id}"


def close_button_id(poll_id: int) -> str:
    """The custom id of a poll's Close button (the poll id in it: it works after a restart)."""
    return f"breakroom:poll-close:{poll_id}"


def is_poll_message(message: discord.Message, poll: Poll) -> bool:
    """Whether `message` is the poll's own message: it carries the poll's buttons."""
    return any(has_custom_id(message, button_id(poll.id, option.id)) for option in poll.options)


@runtime_checkable
class PollHandler(Protocol):
    """What a button needs from the polls cog (found by name: the cog is reloadable)."""

    async def close_poll(self, interaction: Interaction, poll_id: int) -> None: ...


def polls_cog(interaction: Interaction) -> PollHandler:
    # Found by name, not class: the cog's extension may have been reloaded since.
    cog: Any = interaction.client.get_cog("Polls")
    if not isinstance(cog, PollHandler):
        raise errors.NotFound(_("Polls are unavailable for a moment; try again in a minute."))
    return cog


#: an option's button (`button_id`): answered by the polls cog's route (`bot.add_button_handler`)
VOTE_TEMPLATE = r"breakroom:poll:(?P<poll>[0-9]+):(?P<option>[0-9]+)"


class PollButton(discord.ui.Button[discord.ui.View]):
    """One option of one poll. Its clicks are routed by custom_id (bot/routing.py) rather than
    through a view: a vote needs only the two ids, so the poll message isn't rebuilt on every
    click, and the button works after a restart."""

    def __init__(
        self,
        poll_id: int,
        option_id: int,
        *,
        label: str | None = None,
        row: int | None = None,
        disabled: bool = False,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        super().__init__(
            label=label,
            custom_id=button_id(poll_id, option_id),
            row=row,
            disabled=disabled,
            style=style,
        )
        self.poll_id = poll_id
        self.option_id = option_id


class PollCloseButton(
    FromCustomId,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"breakroom:poll-close:(?P<poll>[0-9]+)",
):
    """Close an open poll now, as `/poll close` does (its creator, or who may manage its team);
    the poll id lives in the custom_id, so it works after a restart."""

    def __init__(self, poll_id: int, *, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=_("Close"),
                custom_id=close_button_id(poll_id),
                row=row,
                style=discord.ButtonStyle.danger,
            )
        )
        self.poll_id = poll_id

    @guarded
    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        await polls_cog(interaction).close_poll(interaction, self.poll_id)
