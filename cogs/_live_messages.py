"""Messages kept in step with the database (`LiveMessages`): the live poll message's counts
(cogs/_poll_messages.py) and a prompt post's answer count (cogs/_prompt_messages.py).

Not outbox items: the next edit shows whatever the database holds, so a lost one costs nothing.
A burst of changes marks the message dirty; one task per message edits it at once, then at most
once per `interval` while changes keep coming, and always once more after the last. Every edit
renders what the database holds at that moment, and all edits of one message go through one lock,
so a message can never go back to an older state.

The messages of one channel share its edit bucket (Discord: 5 edits per 5 s per channel, whatever
the message; bot/pacing.py's `ChannelEdits`, one per bot, shared with the courier's edits): an
edit takes the channel's turn first, waiting out the bucket if need be, and only then reads and
renders, so that however many polls share a channel none of them queues a stale edit, and the
last one shows the final counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import ClassVar

import discord

from bot.courier import classify
from bot.pacing import ChannelEdits

log = logging.getLogger(__name__)


class LiveMessages:
    """Coalesced, rate-limited edits of messages, one subject (a poll, a post) each; subclasses
    say how one subject's message is edited (`edit`)."""

    #: seconds between two edits of one message (Discord allows ~5 edits / 5 s / channel)
    interval: ClassVar[float] = 2.5
    #: a failed edit (Discord or the network failing for now) is tried again this many times,
    #: waiting longer each time, so the message catches up although nothing changes again
    max_retries: ClassVar[int] = 8
    #: what the log calls a subject ("poll", "prompt post")
    subject: ClassVar[str] = "message"

    def __init__(self, edits: ChannelEdits) -> None:
        self._closed = False
        self._dirty: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        #: the channels' edit buckets; a subject's channel, once known (a message stays put)
        self.edits = edits
        self._channels: dict[int, int] = {}

    async def edit(self, subject_id: int) -> bool:
        """Edit the subject's message to what the database holds; False when there is none."""
        raise NotImplementedError

    async def channel_of(self, subject_id: int) -> int | None:
        """The channel of the subject's message; None when it has none (yet, or any more)."""
        raise NotImplementedError

    def request(self, subject_id: int) -> None:
        """The subject changed: show it soon."""
        if self._closed:  # stopping: `close` flushes what changed before
            return
        self._dirty.add(subject_id)
        task = self._tasks.get(subject_id)
        if task is None or task.done():
            self._tasks[subject_id] = asyncio.create_task(
                self._run(subject_id), name=f"breakroom-refresh-{self.subject}-{subject_id}"
            )

    async def _run(self, subject_id: int) -> None:
        failures = 0
        try:
            while subject_id in self._dirty:
                pause = self.interval
                try:
                    await self.edit_now(subject_id)
                    failures = 0
                except Exception as error:
                    # The courier's one reading: a hiccup is tried again; deleted, forbidden: not
                    failure = classify(error, 0)
                    if failure.retry:
                        failures += 1
                        if failures <= self.max_retries:
                            self._dirty.add(subject_id)
                            pause = min(self.interval * 2 ** (failures - 1), 60.0)
                    log.warning(
                        "could not refresh the message of %s %s: %s",
                        self.subject,
                        subject_id,
                        failure.detail,
                        exc_info=not isinstance(error, discord.HTTPException),
                    )
                await asyncio.sleep(pause)
        finally:
            if self._tasks.get(subject_id) is asyncio.current_task():
                del self._tasks[subject_id]
                self._channels.pop(subject_id, None)
            lock = self._locks.get(subject_id)
            if lock is not None and not lock.locked():
                del self._locks[subject_id]

    async def edit_now(self, subject_id: int) -> bool:
        """Edit the message as soon as its channel's bucket allows (under its lock); False when
        there is none to edit."""
        async with self._locks.setdefault(subject_id, asyncio.Lock()):
            channel_id = self._channels.get(subject_id) or await self.channel_of(subject_id)
            if channel_id is None:
                self._dirty.discard(subject_id)
                return False
            async with self.edits.turn(channel_id):
                self._dirty.discard(subject_id)  # what changes from here is shown next time
                edited = await self.edit(subject_id)
            if edited:
                self._channels[subject_id] = channel_id
            else:
                self._channels.pop(subject_id, None)
            return edited

    async def close(self, flush_timeout: float = 5.0) -> None:
        """Stop the refresh tasks; the last changes still reach their messages."""
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
