"""The one scheduler, driven by a manual clock: no real waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.clock import ManualClock
from bot.scheduler import Scheduler
from tests.support import PassProbe


async def ready() -> None:
    return None


async def test_loop_wakes_when_the_clock_reaches_the_next_due_time() -> None:
    clock = ManualClock()
    due_at = clock.now() + timedelta(minutes=10)
    ran_at: list[datetime] = []

    async def job(now: datetime) -> datetime | None:
        if now >= due_at and not ran_at:
            ran_at.append(now)
        return None if ran_at else due_at

    scheduler = Scheduler(clock)
    probe = PassProbe()
    scheduler.register("job", job)
    scheduler.register("probe", probe)
    scheduler.start(ready)
    try:
        await probe.wait_for(1)
        assert ran_at == []
        clock.advance(minutes=9)
        await probe.wait_for(2)
        assert ran_at == []
        clock.advance(minutes=1)
        await probe.wait_for(3)
        assert ran_at == [due_at]
    finally:
        await scheduler.stop()


async def test_loop_wakes_at_least_once_a_minute() -> None:
    clock = ManualClock()
    probe = PassProbe()  # nothing known to be due: the loop still wakes within a minute
    scheduler = Scheduler(clock)
    scheduler.register("job", probe)
    scheduler.start(ready)
    try:
        await probe.wait_for(1)
        clock.advance(seconds=59)
        await asyncio.sleep(0.05)
        assert len(probe.seen) == 1  # not yet a minute
        clock.advance(seconds=1)
        await probe.wait_for(2)
        assert probe.seen[-1] == clock.now()
    finally:
        await scheduler.stop()


async def test_wake_runs_a_pass_now() -> None:
    clock = ManualClock()
    scheduler = Scheduler(clock)
    probe = PassProbe()
    scheduler.register("job", probe)
    scheduler.start(ready)
    try:
        await probe.wait_for(1)
        scheduler.wake()
        await probe.wait_for(2)
        assert probe.seen == [clock.now()] * 2  # the clock did not move: woken, not timed
    finally:
        await scheduler.stop()


async def test_a_failing_job_does_not_stop_the_others() -> None:
    clock = ManualClock()
    scheduler = Scheduler(clock)
    ran: list[str] = []

    async def broken(now: datetime) -> datetime | None:
        raise RuntimeError("boom")

    async def fine(now: datetime) -> datetime | None:
        ran.append("fine")
        return now + timedelta(hours=1)

    scheduler.register("broken", broken)
    scheduler.register("fine", fine)
    next_due = await scheduler.run_pass()
    assert ran == ["fine"]
    # the failing job asks to be retried soon, sooner than the healthy job's hour
    assert next_due == clock.now() + timedelta(seconds=30)


async def test_concurrent_passes_do_not_overlap() -> None:
    clock = ManualClock()
    scheduler = Scheduler(clock)
    running = 0
    overlap = False
    calls = 0

    async def job(now: datetime) -> datetime | None:
        nonlocal running, overlap, calls
        calls += 1
        running += 1
        overlap = overlap or running > 1
        await asyncio.sleep(0)
        running -= 1
        return None

    scheduler.register("job", job)
    await asyncio.gather(*(scheduler.run_pass() for _ in range(5)))
    assert not overlap
    assert calls == 5


async def test_last_jobs_run_after_the_others_in_the_order_they_came() -> None:
    """The outbox's job is registered `last`: what the other jobs make due goes out in the same
    pass, whenever a cog (re)registers its job."""
    scheduler = Scheduler(ManualClock())
    ran: list[str] = []

    def job(name: str) -> Callable[[datetime], Awaitable[None]]:
        async def run(now: datetime) -> None:
            ran.append(name)

        return run

    scheduler.register("outbox", job("outbox"), last=True)
    scheduler.register("prompts", job("prompts"))
    scheduler.register("probe", job("probe"), last=True)
    scheduler.register("polls", job("polls"))
    await scheduler.run_pass()
    assert ran == ["prompts", "polls", "outbox", "probe"]
