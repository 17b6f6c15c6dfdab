"""What the outbox's one sender (bot/courier.py) sends for the prompts' two kinds: a prompt post
in the team channel, with its Answer button and a thread opened from it ('prompt_post'), and a
member's answer in the post's thread, posted or edited ('answer'). Both are layouts
(cogs/_prompt_layouts.py). Drafting only: the courier sends once, looks for an earlier attempt's
message, retries and records the outcome.
"""

from __future__ import annotations

import discord

from bot.client import Breakroom
from bot.courier import Send, Thread, has_custom_id
from bot.errors import NotFound
from bot.i18n import _, speaking
from bot.outbox import Delivery
from bot.prompt_answers import KIND as ANSWER
from bot.prompt_posts import KIND as PROMPT_POST
from bot.prompts import Prompts
from bot.teams import Team
from cogs._prompt_layouts import (
    answer_layout,
    is_answer_of,
    post_layout,
    post_mentions,
    thread_name,
)
from cogs._prompts_ui import answer_button
from cogs._shared import postable_channel


class PromptDrafts:
    """The prompts' drafters, registered with the courier by the prompts cog."""

    def __init__(self, bot: Breakroom, prompts: Prompts) -> None:
        self.bot = bot
        self.prompts = prompts

    def register(self) -> None:
        self.bot.courier.handle(PROMPT_POST, self.post)
        self.bot.courier.handle(ANSWER, self.answer)

    def forget(self) -> None:
        self.bot.courier.forget(PROMPT_POST)
        self.bot.courier.forget(ANSWER)

    def team_channel(self, team: Team) -> discord.TextChannel:
        """The team's channel, if Breakroom can post there (else a UserError saying why)."""
        guild = self.bot.get_guild(team.guild_id)
        if guild is None:
            raise NotFound(_("Breakroom is no longer in this team's server."))
        return postable_channel(guild, team.channel_id)

    async def post(self, delivery: Delivery) -> Send | None:
        """The prompt post, in the team's channel as it is now (the team may have moved since it
        was queued), mentioning the team's role when asked; its thread opened once it is out."""
        post = await self.prompts.posts.to_send(delivery.subject)
        if post is None:
            return None
        team = await self.bot.teams.get(post.team_id)
        channel = self.team_channel(team)
        now = self.bot.clock.now()
        custom_id = answer_button(post.id)
        with speaking(team.language):  # the post and its thread are the team's
            view, name = post_layout(post, team, now), thread_name(post, team, now)
        return Send(
            channel.id,
            team.guild_id,
            view=view,
            mentions=post_mentions(post, team),
            marker=lambda message: has_custom_id(message, custom_id),
            open_thread=name,
        )

    async def answer(self, delivery: Delivery) -> Send | None:
        """The member's answer in the post's thread (opened first if the post's couldn't be):
        their message edited, or posted."""
        found = await self.prompts.answers.to_send(delivery.subject)
        if found is None:
            return None
        post = found.post
        if post.message_id is None:  # answers are only taken for posted prompts
            raise NotFound(_("This prompt was never posted, so it has no thread."))
        team = await self.bot.teams.get(post.team_id)
        with speaking(team.language):  # the thread is the team's
            name = thread_name(post, team, self.bot.clock.now())
            view = answer_layout(found.answer)
        return Send(
            post.channel_id,
            post.guild_id,
            view=view,
            edit=found.answer.message_id,
            marker=lambda message: is_answer_of(message, found),
            in_thread=Thread(post.channel_id, post.message_id, name, post.thread_id),
        )
