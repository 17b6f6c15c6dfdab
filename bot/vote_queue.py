"""Polls, part 3b: clicks that arrive together are written together (group commit).

`VoteQueue` sits between the poll buttons and `Polls.vote_many` (bot/poll_votes.py): a lone
click is written at once, and clicks that arrive while a batch commits share the next one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from bot.errors import UserError
from bot.i18n import _
from bot.poll_model import Vote, VoteRequest
from bot.poll_refusals import retold

#: Writes a batch of clicks, in order, as one transaction: each click's Vote or UserError
#: (`Polls.vote_many`, which calls `cast_votes`).
WriteVotes = Callable[[Sequence[VoteRequest]], Awaitable[list[Vote | UserError]]]


class Unavailable(UserError):
    """The bot is stopping: the member should try again shortly."""


class VoteQueue:
    """Clicks that arrive while a batch is being written go together in the next one (group
    commit).

    When hundreds of members click at once, each click waiting for its own transaction would
    queue them one by one behind the database lock; here a single writer task takes everything
    waiting, writes it with `write` (one transaction, a few statements: `Polls.vote_many`), and
    answers each click. A lone click is written at once, as a batch of one: batches form only
    when clicks arrive faster than transactions commit, so waiting for company would only make
    the member wait. Every vote is committed before its click is answered.
    """

    max_batch = 250

    def __init__(self, write: WriteVotes) -> None:
        self.write = write
        self.batches = 0
        self._waiting: list[tuple[VoteRequest, asyncio.Future[Vote]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._closed = False

    async def vote(
        self,
        poll_id: int,
        option_id: int,
        guild_id: int,
        user_id: int,
        role_ids: frozenset[int] = frozenset(),
        is_manager: bool = False,
    ) -> Vote:
        """One click; `role_ids`, `is_manager`: whether the member takes part in the team."""
        if self._closed:
            raise Unavailable(
                _("Breakroom is restarting, so your vote was not counted. Click again in a minute.")
            )
        future: asyncio.Future[Vote] = asyncio.get_running_loop().create_future()
        request = VoteRequest(poll_id, option_id, guild_id, user_id, role_ids, is_manager)
        self._waiting.append((request, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="breakroom-poll-votes")
        try:
            return await future
        except UserError as error:  # made in the writer's task: told in this member's words
            raise retold(error) from None

    async def _write(self) -> None:
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            try:
                results = await self.write([request for request, _future in batch])
            except asyncio.CancelledError:
                for _request, future in batch:
                    future.cancel()
                raise
            except Exception as error:  # the whole batch failed (rolled back): tell each click
                for _request, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            self.batches += 1
            for (_request, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, UserError):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def close(self, timeout: float = 5.0) -> None:
        """Stop taking clicks, and let those already taken be written."""
        self._closed = True
        writer = self._writer
        if writer is not None and not writer.done():
            try:
                await asyncio.wait_for(asyncio.shield(writer), timeout)
            except TimeoutError:
                writer.cancel()
                await asyncio.gather(writer, return_exceptions=True)
        for _request, future in self._waiting:
            future.cancel()
        self._waiting.clear()
