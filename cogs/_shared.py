"""Glue every cog shares: the manager checks, finding the team, autocomplete, error-safe UI."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, TypeVar

import discord
from babel.lists import format_list
from discord import app_commands

from bot.client import DM_MESSAGE, UNKNOWN_BUTTON, Breakroom, NotManager, is_manager, report_error
from bot.errors import InvalidInput, NotAllowed, NotFound
from bot.i18n import ENGLISH, N_, _, current, locale, speak
from bot.teams import Team, not_a_member
from bot.text import MAX_ID, is_number

Interaction = discord.Interaction[Breakroom]
T = TypeVar("T")
Item = TypeVar("Item", bound="FromCustomId")

EMBED_COLOUR = discord.Colour.from_rgb(88, 134, 118)


def manager_only() -> Callable[[T], T]:
    """Manage Server by default in Discord's menus, and checked again at run time (a server may
    have changed who sees the command)."""

    def predicate(interaction: Interaction) -> bool:
        if not is_manager(interaction):
            raise NotManager("manager only")
        return True

    def decorator(func: T) -> T:
        func = app_commands.default_permissions(manage_guild=True)(func)
        return app_commands.check(predicate)(func)

    return decorator


def guarded(
    callback: Callable[Concatenate[T, Interaction, ...], Awaitable[None]],
) -> Callable[Concatenate[T, Interaction, ...], Awaitable[None]]:
    """Route errors of a button or modal callback through the bot's one error handler.

    discord.py only logs errors raised in a DynamicItem's callback, which would leave the member
    with "This interaction failed"; this gives them a clear answer instead. Like the commands,
    buttons work inside a server only (a click from a DM gets the plain refusal), and a button
    whose custom_id names an id no row can have answers "not found" (`FromCustomId`).
    """

    @functools.wraps(callback)
    async def wrapper(self: T, interaction: Interaction, *args: Any, **kwargs: Any) -> None:
        speak(interaction.locale.value)  # replies in the member's language
        try:
            if interaction.guild_id is None:
                raise app_commands.NoPrivateMessage(DM_MESSAGE)
            if getattr(self, "unknown_id", False):
                raise NotFound(_(UNKNOWN_BUTTON))
            await callback(self, interaction, *args, **kwargs)
        except Exception as error:
            await report_error(interaction, error)

    return wrapper


def no_pings() -> discord.AllowedMentions:
    return discord.AllowedMentions.none()


def routed_by_custom_id(modal: discord.ui.Modal) -> discord.ui.Modal:
    """Send `modal` for the bot's modal router to answer (`bot.add_modal_handler`), by custom_id.

    This stops the modal, so that discord.py does not keep it: `send_modal` stores only modals
    that are not finished. A kept modal would be answered by its own object, which is lost at a
    restart and which two members filling in the same form would share; the router answers any
    submission whose custom_id matches a handler's template, from the custom_id and the values.
    """
    modal.stop()
    return modal


class FromCustomId:
    """Mixin for a `DynamicItem` whose state lives in its custom_id: the template's groups, in
    order, are the constructor's positional arguments (all-digit values become ints).

    `class AnswerButton(FromCustomId, DynamicItem[Button[View]], template=r"…:(?P<post>[0-9]+)")`
    with `__init__(self, post_id: int)` is rebuilt from a click after any restart. Templates say
    `[0-9]`, not `\\d` (which matches digits of every script). A number too big for an id
    (≥ 2**63, which SQLite can't hold) sets `unknown_id`: `guarded` answers "not found" before
    the callback runs.
    """

    #: the custom_id carries a number that can't be the id of anything stored
    unknown_id: bool = False

    @classmethod
    async def from_custom_id(
        cls: type[Item],
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Item:
        args = [int(value) if is_number(value) else value for value in match.groups()]
        rebuilt = cls(*args)
        rebuilt.unknown_id = any(isinstance(arg, int) and arg > MAX_ID for arg in args)
        return rebuilt


def role_ids(interaction: Interaction) -> set[int]:
    return {role.id for role in getattr(interaction.user, "roles", ())}


def manages_team(interaction: Interaction, team: Team) -> bool:
    """May this member do for the team what a manager may: a manager, or one of its leads."""
    return team.led_by(role_ids(interaction), is_manager(interaction))


def require_lead(interaction: Interaction, team: Team) -> None:
    """Checked at run time, for the team the command acts on."""
    if not manages_team(interaction, team):
        if team.lead_role_id:
            refusal = _(
                "Only managers (Manage Server) and {team}'s leads (<@&{role}>) can do this for "
                "{team}. Ask your office manager or team lead.",
                team=team.name,
                role=team.lead_role_id,
            )
        else:
            refusal = _(
                "Only managers (Manage Server) can do this for {team}. Ask your office manager "
                "or team lead.",
                team=team.name,
            )
        raise NotAllowed(refusal)


def lead_or_manager() -> Callable[[T], T]:
    """A command managers and the team's leads may use: hidden from other members in Discord's
    menus by default (a server shows it to its lead roles under Server Settings → Integrations),
    and checked at run time for the team it acts on (`require_lead` in the command)."""

    def decorator(func: T) -> T:
        return app_commands.default_permissions(manage_guild=True)(func)

    return decorator


def require_team_member(interaction: Interaction, team: Team) -> None:
    """When the team has a role, only members holding it (its leads and managers too) answer,
    vote, write and report."""
    if not team.admits(role_ids(interaction), is_manager(interaction)):
        raise NotAllowed(not_a_member(team.name, team.role_id))


#: What the bot needs in a team's channel: post the prompt, open its thread, answer in it (the
#: names Discord's channel settings show, translated as the manager's client shows them).
POST_PERMISSIONS = {
    "view_channel": N_("View Channel"),
    "send_messages": N_("Send Messages"),
    "embed_links": N_("Embed Links"),
    "create_public_threads": N_("Create Public Threads"),
    "send_messages_in_threads": N_("Send Messages in Threads"),
    "read_message_history": N_("Read Message History"),
}


def _join(words: list[str]) -> str:
    """ "A, B and C" as the current language lists words (English without the serial comma)."""
    return format_list(words, locale=locale("en_GB" if current() == ENGLISH else None))


def postable_channel(guild: discord.Guild, channel_id: int) -> discord.TextChannel:
    """The team channel from the guild's cache, if the bot can post there; else a clear error."""
    channel = guild.get_channel(channel_id)
    if channel is None:
        raise NotFound(
            _(
                "The team's channel no longer exists (or Breakroom can't see it). "
                "Choose another one with `/team edit`."
            )
        )
    if not isinstance(channel, discord.TextChannel):
        raise InvalidInput(
            _("{channel} is not a text channel; pick a text channel.", channel=channel.mention)
        )
    me = guild.me
    if me is None:  # pragma: no cover - the bot's own member always comes with the guild
        raise NotAllowed(_("Breakroom can't check its permissions in this server yet; try again."))
    permissions = channel.permissions_for(me)
    missing = [name for name in POST_PERMISSIONS if not getattr(permissions, name)]
    if "send_messages" in missing and "embed_links" in missing:
        # discord.py reports embed links as missing wherever sending is (as Discord applies
        # it); name only what the manager has to grant.
        missing.remove("embed_links")
    if missing:
        raise NotAllowed(
            _(
                "Breakroom can't post in {channel}: it is missing {permissions} there. Give "
                "Breakroom's role those permissions in the channel settings, or pick another "
                "channel.",
                channel=channel.mention,
                permissions=_join([_(POST_PERMISSIONS[name]) for name in missing]),
            )
        )
    return channel
