"""bot/pacing.py on its own: the global window, which requests it leaves out, and the channels'
edit buckets learned from Discord's headers. Time is a fake clock that sleeping moves."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.pacing import ChannelEdits, Pacing, Window, edited_channel, exempt

API = "/api/v10"


class FakeTime:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def most_in_any(times: list[float], span: float) -> int:
    """The largest number of `times` inside any window of `span` seconds."""
    ordered = sorted(times)
    return max(
        (sum(1 for t in ordered[i:] if t < start + span) for i, start in enumerate(ordered)),
        default=0,
    )


async def test_the_window_gives_turns_in_order_never_more_than_its_limit_per_second() -> None:
    clock = FakeTime()
    window = Window(50, 1.0, slack=0.05, time=clock, sleep=clock.sleep)
    taken: list[tuple[int, float]] = []

    async def one(n: int) -> None:
        turn = await window.turn()
        taken.append((n, clock.now))
        window.done(turn)  # answered at once

    await asyncio.gather(*(one(n) for n in range(120)))

    assert [n for n, _ in taken] == list(range(120))  # first come, first served
    times = [t for _, t in taken]
    assert most_in_any(times, 1.05) == 50
    # the first 50 at once, the next 50 a window later, the last 20 a window after that
    assert times[0] == times[49] == 100.0
    assert times[50] == times[99] == pytest.approx(101.05)
    assert times[119] - times[0] == pytest.approx(2.1)
    assert window.waited == 70


async def test_the_window_lets_a_lone_turn_through_without_waiting() -> None:
    clock = FakeTime()
    window = Window(2, 1.0, slack=0.0, time=clock, sleep=clock.sleep)
    for _ in range(2):
        window.done(await window.turn())
    assert clock.slept == []
    clock.now += 1.0  # the window has passed
    window.done(await window.turn())
    assert clock.slept == [] and window.waited == 0


async def test_a_request_counts_until_a_window_after_its_answer() -> None:
    """The server counted it somewhere between its turn and its answer: a request held up on
    the way must not let the next window's worth arrive together with it."""
    clock = FakeTime()
    window = Window(2, 1.0, slack=0.0, time=clock, sleep=clock.sleep)
    first, _ = await window.turn(), await window.turn()
    third = asyncio.create_task(window.turn())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not third.done()  # both still in flight
    answered_at = clock.now
    assert answered_at > 100.0
    window.done(first)
    await third
    assert clock.now == pytest.approx(answered_at + 1.0)  # a window after the answer


def test_interaction_endpoints_are_exempt_and_nothing_else() -> None:
    assert exempt(f"{API}/interactions/123/aW50ZXJhY3Rpb24/callback")
    assert exempt(f"{API}/webhooks/456/aW50ZXJhY3Rpb24")
    assert exempt(f"{API}/webhooks/456/aW50ZXJhY3Rpb24/messages/@original")
    assert not exempt(f"{API}/channels/1/messages")
    assert not exempt(f"{API}/channels/1/messages/2/threads")
    assert not exempt(f"{API}/applications/9/commands")
    assert not exempt(f"{API}/interactions")  # not an interaction's own endpoint


def test_edits_and_deletions_count_in_their_channels_bucket() -> None:
    assert edited_channel("PATCH", f"{API}/channels/11/messages/22") == 11
    assert edited_channel("DELETE", f"{API}/channels/11/messages/22") == 11
    assert edited_channel("POST", f"{API}/channels/11/messages") is None
    assert edited_channel("GET", f"{API}/channels/11/messages/22") is None
    assert edited_channel("PATCH", f"{API}/channels/11") is None


async def test_exempt_requests_never_wait_behind_a_full_window() -> None:
    clock = FakeTime()
    pacing = Pacing(2, 1.0, slack=0.0, time=clock, sleep=clock.sleep)
    for _ in range(2):
        pacing.failed(await pacing.before("POST", f"{API}/channels/1/messages"))
    assert await pacing.before("POST", f"{API}/interactions/5/token/callback") is None
    assert await pacing.before("POST", f"{API}/webhooks/7/token") is None
    assert clock.slept == []
    await pacing.before("POST", f"{API}/channels/1/messages")
    assert clock.slept == [1.0]


def headers(remaining: int, reset_after: float) -> dict[str, str]:
    return {
        "x-ratelimit-limit": "5",
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset-after": f"{reset_after:.3f}",
        "x-ratelimit-bucket": "abc",
    }


async def test_an_exhausted_channel_waits_for_its_reset_and_other_channels_do_not() -> None:
    clock = FakeTime()
    pacing = Pacing(time=clock, sleep=clock.sleep, slack=0.05)
    edits = pacing.edits
    pacing.after(None, "PATCH", f"{API}/channels/1/messages/9", headers(0, 2.0), 200)
    pacing.after(None, "PATCH", f"{API}/channels/2/messages/8", headers(3, 2.0), 200)

    async with edits.turn(2):
        pass
    assert clock.slept == []  # room left in channel 2
    async with edits.turn(3):
        pass
    assert clock.slept == []  # channel 3's bucket is unknown: nothing to wait for
    async with edits.turn(1):
        waited_until = clock.now
    assert waited_until == pytest.approx(100.0 + 2.0 + 0.05)
    assert edits.waited == 1


async def test_a_channels_turns_come_one_at_a_time_and_count_down_its_bucket() -> None:
    clock = FakeTime()
    edits = ChannelEdits(time=clock, sleep=clock.sleep, slack=0.0)
    edits.learned(1, 5, 2, 5.0)  # two edits left in this window
    inside = 0
    most = 0
    started: list[float] = []

    async def edit() -> None:
        nonlocal inside, most
        async with edits.turn(1):
            inside += 1
            most = max(most, inside)
            started.append(clock.now)
            await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(edit() for _ in range(3)))
    assert most == 1
    # two at once (what was left), the third after the window's reset
    assert started == pytest.approx([100.0, 100.0, 105.0])


def test_a_global_429_says_nothing_about_a_channel_but_a_buckets_does() -> None:
    clock = FakeTime()
    pacing = Pacing(time=clock)
    pacing.after(
        None,
        "PATCH",
        f"{API}/channels/1/messages/9",
        {"x-ratelimit-global": "true", "retry-after": "1"},
        429,
    )
    assert pacing.edits.pause(1) == 0.0
    pacing.after(None, "PATCH", f"{API}/channels/1/messages/9", headers(2, 1.5), 429)
    assert pacing.edits.pause(1) == pytest.approx(1.5 + pacing.edits.slack)
    pacing.after(None, "PATCH", f"{API}/channels/1/messages/9", {"x-ratelimit-remaining": "x"}, 200)
    assert pacing.edits.pause(1) > 0  # not Discord's headers: nothing learned


def test_most_in_any_counts_a_sliding_window() -> None:
    assert most_in_any([0.0, 0.5, 0.99, 1.0, 1.5], 1.0) == 3
    assert most_in_any(list(itertools.repeat(0.0, 4)), 1.0) == 4


async def test_two_windows_back_to_back_never_put_more_than_the_limit_in_one_stretch() -> None:
    clock = FakeTime()
    edits = ChannelEdits(time=clock, sleep=clock.sleep, slack=0.0)
    starts: list[float] = []

    async def edit(remaining: int, reset_after: float) -> None:
        async with edits.turn(1):
            starts.append(clock.now)
            edits.learned(1, 5, remaining, reset_after)  # the answer's headers

    await edit(4, 5.0)  # opens Discord's window at 100, until 105
    clock.now = 104.9
    for remaining in (3, 2, 1, 0):
        await edit(remaining, 0.1)
    await edit(4, 5.0)  # 105: a new window, and the oldest of the last five is 5 s old
    await edit(3, 4.9)  # Discord's window has room, but five went since 104.9: wait for 109.9
    assert starts == pytest.approx([100.0, 104.9, 104.9, 104.9, 104.9, 105.0, 109.9])
    assert most_in_any(starts, 5.0) == 5
