"""The prompt post's live answer count (`PostMessages`): when answers come (or go: /forget-me),
the post is edited soon after to show what the database holds, bursts coalesced, within Discord's
rate limits. A post sent before layouts (an embed) becomes the layout on its first edit.

A private module (not an extension), imported once per process: discord.py loads each extension
as a fresh module, and `PostMessages.interval` must be one object for every bot in the process
(tests shorten the interval on this class).
"""

from __future__ import annotations

from typing import ClassVar

from bot import errors
from bot.client import Breakroom
from bot.i18n import speaking
from bot.prompts import Prompts
from cogs._live_messages import LiveMessages
from cogs._prompt_layouts import post_layout, post_mentions


class PostMessages(LiveMessages):
    """Keeps prompt posts' answer counts in step with the database (`LiveMessages`), as
    `PollMessages` does for polls."""

    #: seconds between two edits of one post (Discord allows ~5 edits / 5 s / channel)
    interval: ClassVar[float] = 2.5
    #: a failed edit (Discord failing for now) is tried again this many times, waiting longer
    max_retries: ClassVar[int] = 5
    subject: ClassVar[str] = "prompt post"

    def __init__(self, bot: Breakroom, prompts: Prompts) -> None:
        super().__init__(bot.courier.pacing.edits)
        self.bot = bot
        self.prompts = prompts

    def counts_changed(self, post_ids: tuple[int, ...]) -> None:
        """`PromptAnswers.watch`'s callback: these posts' counts changed."""
        for post_id in post_ids:
            self.request(post_id)

    async def channel_of(self, post_id: int) -> int | None:
        post = await self.prompts.posts.shown(post_id)
        return None if post is None or post.message_id is None else post.channel_id

    async def edit(self, post_id: int) -> bool:
        """Edit the post to what the database holds; False when it has no message to edit."""
        post = await self.prompts.posts.shown(post_id)
        if post is None or post.message_id is None:
            return False
        try:
            team = await self.bot.teams.get(post.team_id)
        except errors.NotFound:  # deleted meanwhile, its posts with it
            return False
        channel = self.bot.get_partial_messageable(post.channel_id, guild_id=post.guild_id)
        with speaking(team.language):  # the post is the team's, whoever answered
            view = post_layout(post, team, self.bot.clock.now())
        await channel.get_partial_message(post.message_id).edit(
            content=None,
            embed=None,
            view=view,
            allowed_mentions=post_mentions(post, team),
        )
        return True
