"""Prompts in the team channel: sending a post and opening its thread, and putting members'
answers into the thread (`PromptDelivery`, used by the prompts cog's commands and its scheduler
job). Each is recorded in the database once it reached Discord; an attempt that may have reached
Discord unrecorded is looked for before sending again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from datetime import datetime
from typing import Literal

import aiohttp
import discord

from bot.client import Breakroom
from bot.errors import NotFound, UserError
from bot.prompt_answers import AnswerDelivery, AnswerFailure
from bot.prompt_posts import Post
from bot.prompt_weekly import Work
from bot.prompts import Prompts
from bot.schedule import GRACE
from bot.teams import Team
from cogs._prompts_ui import Published, answer_embed, answer_view, post_embed, thread_name
from cogs.teams import postable_channel

log = logging.getLogger(__name__)

THREAD_ARCHIVE_MINUTES: Literal[10080] = (
    10080  # a week: the thread stays open until the next prompt
)
THREAD_ALREADY_CREATED = 160004  # Discord's code: a thread was already made from this message
#: Messages of the thread searched for an answer an earlier attempt posted without recording it
#: (one request; such an attempt was minutes ago).
ANSWER_LOOKBACK = 100


def shows(message: discord.Message, embed: discord.Embed) -> bool:
    """Does the message show this answer (name, text, "edited")?"""
    if not message.embeds:
        return False
    have = message.embeds[0]
    return (have.author.name, have.description, have.footer.text) == (
        embed.author.name,
        embed.description,
        embed.footer.text,
    )


def answer_failure(exc: BaseException) -> AnswerFailure:
    """What a failed thread post means for the answer: retried soon, retried for managers to fix
    a permission, or not worth retrying."""
    if isinstance(exc, discord.Forbidden):
        return "forbidden"
    if isinstance(exc, discord.NotFound):
        return "gone"
    if isinstance(exc, discord.HTTPException) and exc.status < 500 and exc.status != 429:
        return "refused"
    return "transient"  # 5xx, 429 beyond discord.py's retries, RateLimited, network, timeout


def send_failure(exc: BaseException, channel_id: int) -> tuple[str, bool]:
    """What to tell managers about a failed post, and whether trying again later may help."""
    if isinstance(exc, UserError):
        return str(exc), False
    if isinstance(exc, discord.Forbidden):
        return (
            f"Discord refused the post in <#{channel_id}>: Breakroom lacks a permission there "
            f"({exc.text or 'Missing Permissions'}). Fix the channel's permissions, or choose "
            f"another channel with `/team edit`.",
            False,
        )
    if isinstance(exc, discord.NotFound):
        return (
            f"The team's channel <#{channel_id}> no longer exists. Choose another one with "
            f"`/team edit`.",
            False,
        )
    if isinstance(exc, discord.DiscordServerError):
        return f"Discord had a problem ({exc.status}) and the post could not be sent.", True
    if isinstance(exc, discord.HTTPException):
        return f"Discord refused the post ({exc.status}: {exc.text or 'no reason given'}).", False
    return f"The post could not reach Discord ({type(exc).__name__}).", True


TRANSIENT = (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError)


class PromptDelivery:
    """Sends the prompts' posts and answers to Discord, and records how each attempt went."""

    def __init__(self, bot: Breakroom, prompts: Prompts) -> None:
        self.bot = bot
        self.prompts = prompts
        self._answer_locks: weakref.WeakValueDictionary[tuple[int, int], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def answer_lock(self, post_id: int, user_id: int) -> asyncio.Lock:
        """One attempt at a time per member and post (their submits, the job's retries), so a
        double submit or a retry racing a submit can't post twice."""
        lock = self._answer_locks.get((post_id, user_id))
        if lock is None:
            lock = self._answer_locks[(post_id, user_id)] = asyncio.Lock()
        return lock

    def team_channel(self, team: Team) -> discord.TextChannel:
        guild = self.bot.get_guild(team.guild_id)
        if guild is None:
            raise NotFound("Breakroom is no longer in this team's server.")
        return postable_channel(guild, team.channel_id)

    async def send_post(self, post: Post) -> discord.Message:
        """Send the claimed post, record it, and open its thread."""
        team = await self.bot.teams.get(post.team_id)
        channel = self.team_channel(team)
        content: str | None = None
        mentions = discord.AllowedMentions.none()
        if post.ping_role and team.role_id:
            content = f"<@&{team.role_id}>"
            mentions = discord.AllowedMentions(
                everyone=False, users=False, roles=[discord.Object(team.role_id)]
            )
        message = await channel.send(
            content,
            embed=post_embed(post, team),
            view=answer_view(post.id),
            allowed_mentions=mentions,
        )
        post = await self.prompts.posts.mark_posted(post.id, message.id, channel.id)
        await self.ensure_thread(post)
        return message

    async def ensure_thread(self, post: Post) -> int | None:
        """The post's discussion thread, made from its message if it isn't there yet (None when
        it can't be: the first answer tries again)."""
        try:
            return await self.open_thread(post)
        except (UserError, discord.HTTPException) as exc:
            log.warning("could not open the thread of prompt post %s: %s", post.id, exc)
            return None

    async def open_thread(self, post: Post) -> int:
        """The post's discussion thread, made from its message if need be; raises if it can't."""
        if post.thread_id is not None:
            return post.thread_id
        if post.message_id is None:
            raise NotFound("This prompt was never posted, so it has no thread.")
        channel = self.bot.get_partial_messageable(
            post.channel_id, guild_id=post.guild_id, type=discord.ChannelType.text
        )
        try:
            thread = await channel.get_partial_message(post.message_id).create_thread(
                name=thread_name(post), auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
            thread_id = thread.id
        except discord.HTTPException as exc:
            if exc.code != THREAD_ALREADY_CREATED:
                raise
            thread_id = post.message_id  # a thread made from a message shares its id
        await self.prompts.posts.set_thread(post.id, thread_id)
        return thread_id

    async def deliver_answer(self, delivery: AnswerDelivery) -> Published:
        """One attempt at the answer's message in the thread, and its outcome recorded. A failure
        leaves the answer due again (later after each failure) for the prompts job, unless
        retrying can't help; call with the member's `answer_lock` held."""
        try:
            message, edited = await self.put_answer(delivery)
        except (UserError, discord.RateLimited, *TRANSIENT) as exc:
            failure = "gone" if isinstance(exc, UserError) else answer_failure(exc)
            error, _ = send_failure(exc, delivery.post.channel_id)
            retry_at = await self.prompts.deliveries.answer_failed(delivery, error, failure)
            log.warning(
                "answer %s: its thread message failed (%s); %s",
                delivery.answer.id,
                exc,
                "given up" if retry_at is None else f"trying again at {retry_at:%H:%M:%S}",
            )
            if retry_at is not None:
                self.bot.scheduler.wake()  # the job's next pass is due sooner
            status = exc.status if isinstance(exc, discord.HTTPException) else 0
            text = exc.text if isinstance(exc, discord.HTTPException) else ""
            return Published(failure, detail=f"{status}: {text or 'no reason given'}")
        if not await self.prompts.deliveries.answer_posted(delivery, message.id):
            # The answer was deleted (/forget-me) while this attempt ran: so goes its message.
            with contextlib.suppress(discord.HTTPException):
                await message.delete()
            return Published("gone")
        return Published("edited" if edited else "posted", url=message.jump_url)

    async def put_answer(self, delivery: AnswerDelivery) -> tuple[discord.Message, bool]:
        """Edit the member's message in the thread, or post it (once: an earlier attempt that
        reached Discord unrecorded is looked for first, and the nonce makes Discord answer a
        resend with the first message). Returns the message and whether it was an edit."""
        post, answer = delivery.post, delivery.answer
        thread_id = await self.open_thread(post)
        thread = self.bot.get_partial_messageable(
            thread_id, guild_id=post.guild_id, type=discord.ChannelType.public_thread
        )
        embed = answer_embed(answer)
        if answer.message_id is not None:
            try:
                edited = await thread.get_partial_message(answer.message_id).edit(embed=embed)
                return edited, True
            except discord.NotFound:
                pass  # someone deleted it: post it again
        message = await self.find_answer(thread, delivery) if delivery.look else None
        if message is None:
            message = await thread.send(embed=embed, nonce=delivery.nonce)
        if not shows(message, embed):  # an earlier attempt's message, with older text
            message = await message.edit(embed=embed)
        return message, False

    async def find_answer(
        self, thread: discord.PartialMessageable, delivery: AnswerDelivery
    ) -> discord.Message | None:
        """The answer's message, if an earlier attempt posted it without recording it (the run
        stopped, or Discord's reply was lost): Breakroom's message in the thread carrying the
        nonce or the member's name, and not recorded for another answer."""
        me = self.bot.user
        if me is None:
            return None
        taken = await self.prompts.deliveries.answer_message_ids(
            delivery.post.id, delivery.answer.id
        )
        try:
            async for message in thread.history(limit=ANSWER_LOOKBACK):
                if message.author.id != me.id or message.id in taken or not message.embeds:
                    continue
                if message.nonce is not None and str(message.nonce) == delivery.nonce:
                    return message
                if message.embeds[0].author.name == delivery.answer.display_name:
                    return message
        except discord.Forbidden as exc:  # can't read the thread: the nonce still guards a resend
            log.warning("could not look for answer %s in its thread: %s", delivery.answer.id, exc)
        return None

    async def retry_answers(self, now: datetime) -> None:
        """The answers whose thread message is due again (an earlier attempt failed, or its run
        stopped): one attempt each; one failing doesn't stop the others."""
        for answer in await self.prompts.deliveries.due_answers(now):
            lock = self.answer_lock(answer.post_id, answer.user_id)
            if lock.locked():
                continue  # the member's own attempt is still running: it records its outcome
            try:
                async with lock:
                    delivery = await self.prompts.deliveries.claim_answer(answer.id, now)
                    if delivery is not None:
                        await self.deliver_answer(delivery)
            except Exception:
                log.exception("answer %s: retrying its thread message failed", answer.id)

    async def carry_out(self, work: Work, now: datetime) -> None:
        post = work.post
        if work.kind in ("recover", "retry"):
            # The earlier attempt may have reached Discord after all (a run stopped mid-post, or
            # the answer to the send was lost): look before sending again.
            found = await self.find_sent(post)
            if found is not None:
                posted = await self.prompts.posts.mark_posted(post.id, found.id, found.channel.id)
                await self.ensure_thread(posted)
                return
        too_late = post.slot_at is None or now - post.slot_at >= GRACE
        if work.kind == "recover" and too_late:
            error = "A post was interrupted by a restart and was not sent again (too late for it)."
            await self.prompts.posts.mark_failed(post.id, error, transient=False)
            return
        try:
            await self.send_post(post)
        except (UserError, *TRANSIENT) as exc:
            error, transient = send_failure(exc, post.channel_id)
            state = await self.prompts.posts.mark_failed(post.id, error, transient=transient)
            log.warning("prompt post %s for team %s: %s (%s)", post.id, post.team_id, error, state)

    async def find_sent(self, post: Post) -> discord.Message | None:
        """Did a stopped run send this post before recording it? Look for its button."""
        custom_id = f"breakroom:answer:{post.id}"
        try:
            channel = self.team_channel(await self.bot.teams.get(post.team_id))
            async for message in channel.history(limit=50):
                if self.bot.user is None or message.author.id != self.bot.user.id:
                    continue
                for row in message.components:
                    for child in getattr(row, "children", []):
                        if getattr(child, "custom_id", None) == custom_id:
                            return message
        except (UserError, discord.HTTPException) as exc:
            log.warning("could not check whether post %s went out: %s", post.id, exc)
        return None
