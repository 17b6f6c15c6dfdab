"""The prompt post's live answer count (`PostMessages`): when answers come (or go: /forget-me),
the post is edited soon after to show what the database holds, bursts coalesced, within Discord's
rate limits. A post sent before layouts (an embed) becomes the layout on its first edit.

A private module (not an extension), imported once per process: discord.py loads each extension
as a fresh module, and `PostMessages.interval` must be one object for every bot in the process
(tests shorten the interval on this class).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import ClassVar

import discord

from bot import errors
from bot.client import Breakroom
from bot.courier import classify
from bot.prompts import Prompts
from cogs._prompt_layouts import post_layout, post_mentions

log = logging.getLogger(__name__)


class PostMessages:
    """Keeps prompt posts' answer counts in step with the database, as `PollMessages` does for
    polls: not an outbox item (a lost edit costs nothing, the next one shows the truth). A change
    marks the post dirty; one task per post edits it at once, then at most once per `interval`
    while answers keep coming, and once more after the last. Every edit renders what the
    database holds then, under one lock per post, so a post never goes back to an older count."""

    #: seconds between two edits of one post (Discord allows ~5 edits / 5 s / channel)
    interval: ClassVar[float] = 2.5
    #: a failed edit (Discord failing for now) is tried again this many times, waiting longer
    max_retries: ClassVar[int] = 5

    def __init__(self, bot: Breakroom, prompts: Prompts) -> None:
        self.bot = bot
        self.prompts = prompts
        self._closed = False
        self._dirty: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def counts_changed(self, post_ids: tuple[int, ...]) -> None:
        """`PromptAnswers.watch`'s callback: these posts' counts changed."""
        for post_id in post_ids:
            self.request(post_id)

    def request(self, post_id: int) -> None:
        """The post's answers changed: show it soon."""
        if self._closed:  # stopping: `close` flushes what changed before
            return
        self._dirty.add(post_id)
        task = self._tasks.get(post_id)
        if task is None or task.done():
            self._tasks[post_id] = asyncio.create_task(
                self._run(post_id), name=f"breakroom-prompt-refresh-{post_id}"
            )

    async def _run(self, post_id: int) -> None:
        failures = 0
        try:
            while post_id in self._dirty:
                pause = self.interval
                try:
                    await self.edit_now(post_id)
                    failures = 0
                except Exception as error:
                    failure = classify(error, 0)  # a hiccup is tried again; deleted, forbidden: not
                    if failure.retry:
                        failures += 1
                        if failures <= self.max_retries:
                            self._dirty.add(post_id)
                            pause = min(self.interval * 2 ** (failures - 1), 60.0)
                    log.warning(
                        "could not refresh prompt post %s: %s",
                        post_id,
                        failure.detail,
                        exc_info=not isinstance(error, discord.HTTPException),
                    )
                await asyncio.sleep(pause)
        finally:
            if self._tasks.get(post_id) is asyncio.current_task():
                del self._tasks[post_id]
            lock = self._locks.get(post_id)
            if lock is not None and not lock.locked():
                del self._locks[post_id]

    async def edit_now(self, post_id: int) -> bool:
        """Edit the post to what the database holds; False when it has no message to edit."""
        async with self._locks.setdefault(post_id, asyncio.Lock()):
            self._dirty.discard(post_id)
            post = await self.prompts.posts.shown(post_id)
            if post is None or post.message_id is None:
                return False
            try:
                team = await self.bot.teams.get(post.team_id)
            except errors.NotFound:  # deleted meanwhile, its posts with it
                return False
            channel = self.bot.get_partial_messageable(post.channel_id, guild_id=post.guild_id)
            await channel.get_partial_message(post.message_id).edit(
                content=None,
                embed=None,
                view=post_layout(post, team, self.bot.clock.now()),
                allowed_mentions=post_mentions(post, team),
            )
            return True

    async def close(self, flush_timeout: float = 5.0) -> None:
        """Stop the refresh tasks; the last changes still reach their posts."""
        self._closed = True
        pending = set(self._dirty)
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if pending:
            flush = asyncio.gather(*(self.edit_now(p) for p in pending), return_exceptions=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(flush, flush_timeout)
