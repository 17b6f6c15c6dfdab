"""The poll's messages in the team channel, kept by Breakroom (`PollMessages`): the poll message
and the result post when a poll closes, as the outbox sends them (`draft_post`, `draft_result`:
bot/courier.py sends each once), and the live poll message in step with the votes and its last
hour (`request`).

A private module (not an extension), imported once per process: discord.py loads each extension
as a fresh module, and `PollMessages.interval` must be one object for every bot in the process
(tests shorten the interval on this class).
"""

from __future__ import annotations

import logging
from typing import ClassVar

import discord

from bot import errors
from bot.client import Breakroom
from bot.courier import Send
from bot.i18n import speaking
from bot.outbox import Delivery
from bot.poll_model import Poll
from cogs._live_messages import LiveMessages
from cogs._poll_buttons import is_poll_message
from cogs._poll_layout import poll_layout
from cogs._poll_results import is_result_message, result_layout

log = logging.getLogger(__name__)


class PollMessages(LiveMessages):
    """The poll's messages: drafted for the outbox, and the live poll message kept in step with
    the votes without hitting Discord's rate limits (`LiveMessages`)."""

    #: seconds between two edits of one poll message (Discord allows ~5 edits / 5 s / channel)
    interval: ClassVar[float] = 2.5
    #: a failed edit is tried again this many times, so the message catches up although nobody
    #: votes again
    max_retries: ClassVar[int] = 8
    subject: ClassVar[str] = "poll"

    def __init__(self, bot: Breakroom) -> None:
        super().__init__(bot.courier.pacing.edits)
        self.bot = bot

    # -- for the outbox ------------------------------------------------------------------------

    async def _poll(self, delivery: Delivery) -> Poll | None:
        assert delivery.subject is not None
        try:
            return await self.bot.services.polls.get(delivery.subject)
        except errors.NotFound:  # deleted with its team meanwhile: nothing to send
            return None

    async def draft_post(self, delivery: Delivery) -> Send | None:
        """'poll_post': the poll message in the team channel (a new poll, or a re-run). A poll
        closed before it could be posted isn't posted any more: its result post says it all."""
        poll = await self._poll(delivery)
        if poll is None or poll.message_id is not None or poll.closed:
            return None
        team = await self.bot.teams.get(poll.team_id)
        with speaking(team.language):  # a post for the team: in the team's language
            view = poll_layout(poll, now=self.bot.clock.now())
        return Send(
            team.channel_id,
            team.guild_id,
            view=view,
            marker=lambda message: is_poll_message(message, poll),
        )

    async def draft_result(self, delivery: Delivery) -> Send | None:
        """'poll_result': the poll message shows its final state, then the result post, as a
        reply to the poll message (a plain post if that is gone)."""
        poll = await self._poll(delivery)
        if poll is None:
            return None
        try:
            await self.edit_now(poll.id)
        except (discord.NotFound, discord.Forbidden) as error:  # the result post still goes out
            log.warning("poll %s: its message can't be edited (%s)", poll.id, error)
        team = await self.bot.teams.get(poll.team_id)
        comparison = await self.bot.services.polls.runs.comparison(poll.id)
        with speaking(team.language):
            view = result_layout(poll, comparison)
        return Send(
            team.channel_id,
            team.guild_id,
            view=view,
            marker=lambda message: is_result_message(message, poll.id),
            reply_to=poll.message_id if poll.channel_id == team.channel_id else None,
        )

    # -- the live message ----------------------------------------------------------------------

    async def channel_of(self, poll_id: int) -> int | None:
        try:
            poll = await self.bot.services.polls.get(poll_id)
        except errors.NotFound:
            return None
        return poll.channel_id if poll.message_id is not None else None

    async def edit(self, poll_id: int) -> bool:
        """Edit the message to the poll's current state; False when there is none to edit."""
        polls = self.bot.services.polls
        try:
            poll = await polls.get(poll_id)
            team = await self.bot.teams.get(poll.team_id)
        except errors.NotFound:
            return False
        if poll.channel_id is None or poll.message_id is None:
            return False
        comparison = await polls.runs.comparison(poll_id) if poll.closed else None
        with speaking(team.language):  # the team's message, whoever's click moved it
            view = poll_layout(poll, comparison, now=self.bot.clock.now())
        channel = self.bot.get_partial_messageable(poll.channel_id, guild_id=poll.guild_id)
        # content and embed None: a message posted as an embed by an earlier version
        # becomes the layout at its first edit (its buttons' custom ids are the same)
        await channel.get_partial_message(poll.message_id).edit(
            content=None,
            embed=None,
            view=view,
        )
        return True
