"""Time, injected: the bot asks a clock for `now()` and waits through it, never `datetime.now()`.

`SystemClock` is the real one. `ManualClock` is moved by tests (`advance`), and every waiter
wakes up when it moves, so tests never sleep for real.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    async def wait(self, until: datetime, wake: asyncio.Event) -> None:
        """Return when `until` is reached or `wake` is set, whichever comes first."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def wait(self, until: datetime, wake: asyncio.Event) -> None:
        delay = (until - self.now()).total_seconds()
        if delay <= 0 or wake.is_set():
            return
        try:
            await asyncio.wait_for(wake.wait(), timeout=delay)
        except TimeoutError:
            pass


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("ManualClock.set needs a timezone-aware datetime")
        self._now = when.astimezone(UTC)
        self._moved.set()
        self._moved = asyncio.Event()

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.set(self._now + (delta or timedelta(**kwargs)))
        return self._now

    async def wait(self, until: datetime, wake: asyncio.Event) -> None:
        while self._now < until and not wake.is_set():
            moved = asyncio.ensure_future(self._moved.wait())
            woken = asyncio.ensure_future(wake.wait())
            try:
                await asyncio.wait({moved, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                moved.cancel()
                woken.cancel()


def to_ts(moment: datetime) -> int:
    """A moment as the database keeps it: whole seconds since the epoch."""
    return int(moment.timestamp())


def from_ts(seconds: int | None) -> datetime | None:
    """A moment the database kept (`to_ts`), in UTC; None stays None."""
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)
