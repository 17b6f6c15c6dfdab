"""bot/db_turns.py: one transaction at a time, each waiting a bounded time."""

from __future__ import annotations

import asyncio

import pytest

from bot.db_turns import Turns


class Busy(Exception):
    pass


def turns(wait: float = 5.0) -> Turns:
    return Turns(wait, lambda: Busy("busy"))


async def test_a_free_turn_is_taken_without_suspending() -> None:
    t = turns()
    step = t.take()
    with pytest.raises(StopIteration):  # finished on its first step: it never waited
        step.send(None)
    queued = asyncio.create_task(t.take())
    await asyncio.sleep(0)
    assert not queued.done()  # the lock is held: the next one waits
    t.release()
    await asyncio.wait_for(queued, 1)
    t.release()


async def test_turns_are_taken_in_order_one_at_a_time() -> None:
    t = turns()
    order: list[int] = []
    inside = 0

    async def work(n: int) -> None:
        nonlocal inside
        async with t:
            inside += 1
            assert inside == 1
            await asyncio.sleep(0)
            order.append(n)
            inside -= 1

    await asyncio.gather(*(work(n) for n in range(20)))
    assert order == list(range(20))


async def test_a_turn_not_given_in_time_is_refused_and_the_next_still_comes() -> None:
    t = turns(wait=0.05)
    await t.take()
    with pytest.raises(Busy):
        async with t:
            pass
    t.release()
    async with t:  # refused waiters leave nothing behind: the next is taken at once
        pass
    step = t.take()
    with pytest.raises(StopIteration):
        step.send(None)
    t.release()


async def test_a_newcomer_behind_a_woken_waiter_still_waits_with_a_timer() -> None:
    """Released with a waiter woken but not yet running, the lock is free, yet a newcomer would
    wait behind that waiter: it must wait with its timer (one that checked only `locked()`
    would wait untimed, for as long as the waiter's work takes)."""
    t = turns(wait=0.02)
    await t.take()
    release_waiter = asyncio.Event()

    async def waiter() -> None:
        async with t:
            await release_waiter.wait()  # a long transaction

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0)  # queued on the lock
    t.release()  # the waiter is woken; it runs at the loop's next turn
    with pytest.raises(Busy):  # not TimeoutError: the turn's own timer refused it
        async with asyncio.timeout(1):  # in this task, before the waiter runs
            await t.take()
    release_waiter.set()
    await task


async def test_an_untimed_turn_waits_as_long_as_it_takes() -> None:
    t = turns(wait=0.01)
    await t.take()
    untimed = asyncio.create_task(t.untimed().__aenter__())
    await asyncio.sleep(0.05)  # five times the timed wait
    assert not untimed.done()
    t.release()
    await asyncio.wait_for(untimed, 1)
    t.release()
