"""One transaction at a time on a process's database connection, each waiting a bounded time.

Both backends serialise this process's transactions behind one asyncio lock, and a task that
can't get its turn within `wait` seconds is refused (the member is told to try again) rather
than left hanging. The timer costs a timeout handle scheduled and cancelled on the loop; a
turn taken when the lock is free and nobody is queued can't wait at all, so it is taken without
one. That is the common case of a lone click on a poll button.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType


class _Releasing:
    """Leaving `async with` gives the turn back."""

    __slots__ = ()

    def release(self) -> None:
        raise NotImplementedError

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


class Turns(_Releasing):
    """`async with turns:` one turn, waited for at most `wait` seconds (`busy()` is raised then);
    `async with turns.untimed():` one turn however long the wait (closing, backups)."""

    __slots__ = ("_busy", "_lock", "_queued", "_wait")

    def __init__(self, wait: float, busy: Callable[[], Exception]) -> None:
        self._lock = asyncio.Lock()
        self._wait = wait
        self._busy = busy
        #: tasks inside `take` that may wait: while any is, a turn is never taken without a timer
        self._queued = 0

    async def take(self, timed: bool = True) -> None:
        if not self._queued and not self._lock.locked():
            # asyncio.Lock.acquire returns at once when the lock is free and has no waiter.
            await self._lock.acquire()
            return
        self._queued += 1
        try:
            if not timed:
                await self._lock.acquire()
                return
            try:
                async with asyncio.timeout(self._wait):
                    await self._lock.acquire()
            except TimeoutError:
                raise self._busy() from None
        finally:
            self._queued -= 1

    def release(self) -> None:
        self._lock.release()

    def untimed(self) -> _Untimed:
        return _Untimed(self)

    async def __aenter__(self) -> None:
        await self.take()


class _Untimed(_Releasing):
    __slots__ = ("turns",)

    def __init__(self, turns: Turns) -> None:
        self.turns = turns

    async def __aenter__(self) -> None:
        await self.turns.take(timed=False)

    def release(self) -> None:
        self.turns.release()
