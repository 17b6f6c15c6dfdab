"""The one scheduler, driven by a manual clock: no real waiting."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.clock import ManualClock
from bot.scheduler import Scheduler


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
    scheduler.register("job", job)
    scheduler.start(ready)
    try:
        await scheduler.wait_for_pass(after=0)
        assert ran_at == []
        passes = scheduler.passes
        clock.advance(minutes=9)
        await scheduler.wait_for_pass(after=passes)
        assert ran_at == []
        passes = scheduler.passes
        clock.advance(minutes=1)
        await scheduler.wait_for_pass(after=passes)
        assert ran_at == [due_at]
    finally:
        await scheduler.stop()


async def test_loop_wakes_at_least_once_a_minute() -> None:
    clock = ManualClock()
    seen: list[datetime] = []

    async def job(now: datetime) -> datetime | None:
        seen.append(now)
        return None  # nothing known to be due: the loop still wakes within a minute

    scheduler = Scheduler(clock)
    scheduler.register("job", job)
    scheduler.start(ready)
    try:
        await scheduler.wait_for_pass(after=0)
        passes = scheduler.passes
        clock.advance(seconds=59)
        await asyncio.sleep(0.05)
        assert scheduler.passes == passes  # not yet a minute
        clock.advance(seconds=1)
        await scheduler.wait_for_pass(after=passes)
        assert seen[-1] == clock.now()
    finally:
        await scheduler.stop()


async def test_wake_runs_a_pass_now() -> None:
    clock = ManualClock()
    scheduler = Scheduler(clock)
    calls = 0

    async def job(now: datetime) -> datetime | None:
        nonlocal calls
        calls += 1
        return None

    scheduler.register("job", job)
    scheduler.start(ready)
    try:
        await scheduler.wait_for_pass(after=0)
        before = calls
        scheduler.wake()
        await scheduler.wait_for_pass(after=scheduler.passes)
        assert calls == before + 1
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

    async def job(now: datetime) -> datetime | None:
        nonlocal running, overlap
        running += 1
        overlap = overlap or running > 1
        await asyncio.sleep(0)
        running -= 1
        return None

    scheduler.register("job", job)
    await asyncio.gather(*(scheduler.run_pass() for _ in range(5)))
    assert not overlap
    assert scheduler.passes == 5
