"""One scheduler for everything that is due at a time: weekly slots, poll deadlines, reflection
sharing times, server removals, and the outbox's deliveries.

Each feature registers a job: an async function given `now` that does whatever is due and returns
when it next has something due (or None). The loop runs every job, then sleeps until the earliest
of those times — at most `max_sleep` — or until `wake()` is called because something new was
scheduled. Jobs keep their due times in the database, so nothing is lost across restarts. What a
job makes due to send goes into the outbox (bot/outbox.py), whose job runs last in each pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.clock import Clock

log = logging.getLogger(__name__)

Job = Callable[[datetime], Awaitable[datetime | None]]


class Scheduler:
    def __init__(self, clock: Clock, max_sleep: timedelta = timedelta(minutes=1)) -> None:
        self.clock = clock
        self.max_sleep = max_sleep
        self._jobs: dict[str, Job] = {}
        self._last: set[str] = set()
        self._wake = asyncio.Event()
        self._pass_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def register(self, name: str, job: Job, *, last: bool = False) -> None:
        """Add a job. Jobs run in the order they were registered, the `last` ones after all
        the others."""
        self._jobs[name] = job
        if last:
            self._last.add(name)
        self.wake()

    def unregister(self, name: str) -> None:
        self._jobs.pop(name, None)
        self._last.discard(name)

    def wake(self) -> None:
        """Something new was scheduled: run a pass now rather than at the next planned time."""
        self._wake.set()

    async def run_pass(self) -> datetime | None:
        """Run every job once; a failing job is logged and the others still run."""
        async with self._pass_lock:
            now = self.clock.now()
            next_due: datetime | None = None
            jobs = sorted(self._jobs.items(), key=lambda item: item[0] in self._last)
            for name, job in jobs:
                try:
                    due = await job(now)
                except Exception:
                    log.exception("scheduled job %r failed; it will be tried again", name)
                    due = now + timedelta(seconds=30)
                if due is not None and (next_due is None or due < next_due):
                    next_due = due
        return next_due

    async def _loop(self, ready: Callable[[], Awaitable[object]]) -> None:
        await ready()
        while True:
            self._wake.clear()
            next_due = await self.run_pass()
            limit = self.clock.now() + self.max_sleep
            await self.clock.wait(min(next_due, limit) if next_due else limit, self._wake)

    def start(self, ready: Callable[[], Awaitable[object]]) -> None:
        """Start the loop once `ready()` returns (the bot's `wait_until_ready`)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(ready), name="breakroom-scheduler")
            self._task.add_done_callback(self._log_crash)

    @staticmethod
    def _log_crash(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("the scheduler stopped", exc_info=task.exception())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
