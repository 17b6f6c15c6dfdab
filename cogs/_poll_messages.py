"""The poll's messages in the team channel, kept by Breakroom: the live poll message, in step
with the votes (`PollMessages`), and the result post when a poll closes (`announce`).

A private module (not an extension), imported once per process: discord.py loads each extension
as a fresh module, and `PollMessages.interval` must be one object for every bot in the process
(tests shorten the interval on this class).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import ClassVar, Literal

import aiohttp
import discord

from bot import errors
from bot.client import Breakroom
from bot.poll_model import Poll
from bot.polls import Polls
from cogs._polls_ui import is_result_message, poll_embed, poll_view, result_embed

log = logging.getLogger(__name__)

RESULT_LOOKBACK = 50  # recent channel messages searched for a result post of an earlier attempt

# Errors after which posting again later may work (Discord hiccups, the network, rate limits).
TRANSIENT = (discord.DiscordServerError, discord.RateLimited, aiohttp.ClientError, TimeoutError)


def polls_of(bot: Breakroom) -> Polls:
    """The bot's one poll logic (bot/services.py): its vote writer keeps, in memory, who voted
    in each open anonymous poll since its shown counts last moved."""
    return bot.services.polls


# -- the live message --------------------------------------------------------------------------


class PollMessages:
    """Keeps each poll message in step with the database without hitting Discord's rate limits.

    A burst of votes marks the poll dirty; one task per poll edits the message at once, then at
    most once per `interval` while votes keep coming, and always once more after the last vote.
    Every edit renders what the database holds at that moment, and all edits of one poll go
    through one lock, so the message can never go back to an older state.
    """

    #: seconds between two edits of one poll message (Discord allows ~5 edits / 5 s / channel)
    interval: ClassVar[float] = 2.5
    #: a failed edit (Discord or the network failing for now) is tried again this many times,
    #: waiting longer each time, so the message catches up although nobody votes again
    max_retries: ClassVar[int] = 8

    def __init__(self, bot: Breakroom) -> None:
        self.bot = bot
        self._closed = False
        self._dirty: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def request(self, poll_id: int) -> None:
        """The poll changed: show it soon."""
        if self._closed:  # stopping: `close` flushes what changed before
            return
        self._dirty.add(poll_id)
        task = self._tasks.get(poll_id)
        if task is None or task.done():
            self._tasks[poll_id] = asyncio.create_task(
                self._run(poll_id), name=f"breakroom-poll-refresh-{poll_id}"
            )

    async def _run(self, poll_id: int) -> None:
        failures = 0
        try:
            while poll_id in self._dirty:
                pause = self.interval
                try:
                    await self.edit_now(poll_id)
                    failures = 0
                except TRANSIENT as error:
                    failures += 1
                    if failures <= self.max_retries:
                        self._dirty.add(poll_id)
                        pause = min(self.interval * 2 ** (failures - 1), 60.0)
                    log.warning("could not refresh the message of poll %s: %s", poll_id, error)
                except discord.HTTPException as error:  # deleted, forbidden: no point retrying
                    log.warning("could not refresh the message of poll %s: %s", poll_id, error)
                except Exception:
                    log.exception("refreshing the message of poll %s failed", poll_id)
                await asyncio.sleep(pause)
        finally:
            if self._tasks.get(poll_id) is asyncio.current_task():
                del self._tasks[poll_id]
            lock = self._locks.get(poll_id)
            if lock is not None and not lock.locked():
                del self._locks[poll_id]

    async def edit_now(self, poll_id: int) -> bool:
        """Edit the message to the poll's current state; False when there is none to edit."""
        async with self._locks.setdefault(poll_id, asyncio.Lock()):
            self._dirty.discard(poll_id)
            polls = polls_of(self.bot)
            try:
                poll = await polls.get(poll_id)
            except errors.NotFound:
                return False
            if poll.channel_id is None or poll.message_id is None:
                return False
            comparison = await polls.runs.comparison(poll_id) if poll.closed else None
            channel = self.bot.get_partial_messageable(poll.channel_id, guild_id=poll.guild_id)
            await channel.get_partial_message(poll.message_id).edit(
                embed=poll_embed(poll, comparison), view=poll_view(poll)
            )
            return True

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


# -- the result post ---------------------------------------------------------------------------


async def announce(bot: Breakroom, messages: PollMessages, poll: Poll, run_id: str) -> None:
    """Show the final state on the poll message and post the result message, once.

    This run (`run_id`) claimed the announcement ('posting') in the transaction that closed the
    poll (or took it over), so nobody else posts it. A transient failure sets it back to
    'pending', retried by a later pass after a pause; when an earlier attempt may have posted it
    (a 5xx answer, a killed run), the channel is searched for that post first.
    """
    polls = polls_of(bot)
    posting = False
    state: Literal["posted", "failed", "pending"] = "failed"
    message_id: int | None = None
    try:
        try:
            await messages.edit_now(poll.id)
        except (discord.NotFound, discord.Forbidden) as error:
            log.warning("poll %s: its message can't be edited (%s)", poll.id, error)
        poll = await polls.get(poll.id)
        team = await bot.teams.get(poll.team_id)
        channel = bot.get_partial_messageable(team.channel_id, guild_id=team.guild_id)
        earlier = await find_result_message(bot, poll, channel)
        if earlier is not None:
            state, message_id = "posted", earlier.id
        else:
            comparison = await polls.runs.comparison(poll.id)
            posting = True
            message = await channel.send(embed=result_embed(poll, comparison))
            state, message_id = "posted", message.id
    except asyncio.CancelledError:
        if not posting:
            await polls.closing.finish_announcement(poll.id, run_id, "pending", retry_now=True)
        raise
    except TRANSIENT as error:
        log.warning("poll %s: announcing failed for now (%s); retrying later", poll.id, error)
        state = "pending"
    except (discord.HTTPException, errors.UserError) as error:
        log.warning("poll %s: its results can't be posted (%s)", poll.id, error)
    except Exception:
        log.exception("poll %s: announcing its results failed", poll.id)
    await polls.closing.finish_announcement(poll.id, run_id, state, message_id)


async def find_result_message(
    bot: Breakroom, poll: Poll, channel: discord.PartialMessageable
) -> discord.Message | None:
    """The result message of an earlier attempt, if it went out after all (only looked for when
    there was an earlier attempt)."""
    if poll.result_attempts <= 1 or bot.user is None:
        return None
    async for message in channel.history(limit=RESULT_LOOKBACK):
        if message.author.id == bot.user.id and is_result_message(message, poll.id):
            return message
    return None
