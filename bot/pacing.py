"""Discord's rate limits, kept on the bot's side, so that a Monday morning's burst of posts stays
within them instead of meeting them (429s).

discord.py paces each route's bucket once its X-RateLimit headers have been seen, but not the
global limit (50 requests per second per bot token) before Discord answers a 429, and many first
requests to buckets it has not seen yet (a post in each of 500 channels) all go at once. Two
things here fill those gaps:

- `Window`: at most `limit` events in any `per` seconds, taken in turn (first come, first
  served). `Pacing.global_` is the global one, for every request except the interaction
  endpoints (`exempt`: an interaction's callback and follow-ups, which Discord leaves out of the
  global limit, so a member's click is never answered later because posts are going out).
- `ChannelEdits`: the edits and deletions of one channel's messages share a bucket (5 per 5 s,
  whatever the message). Breakroom's own edits of a channel take their turns here, one at a time,
  and wait out the bucket as its headers last told it (and never go more than its limit in any
  5 s), *before* they render what they send, so
  several live messages in one channel (polls, a prompt's answer count) share the channel's
  budget without queueing stale edits. Without headers (a Discord double with its limits off)
  nothing waits.

Plain asyncio, nothing from discord: `bot/paced_http.py` is the thin hook that puts this between
discord.py's HTTP session and Discord (an aiohttp trace: it runs when a request really leaves,
after discord.py's own bucket waits, and sees every answer's headers).
"""

from __future__ import annotations

import asyncio
import re
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

#: Discord's global limit: requests per second per bot token (interaction endpoints excepted)
GLOBAL_LIMIT = 50
GLOBAL_PER = 1.0
#: A window is kept this much longer than Discord's. Little is needed: a request counts from
#: its turn until a window after its answer (`Window`), which already covers the way there.
SLACK = 0.02

#: The interaction endpoints: exempt from the global limit (Discord's docs, "Global Rate Limit")
_EXEMPT = re.compile(r"/(?:interactions/\d+/[^/]+/callback|webhooks/\d+/[^/]+)(?:/|$)")
#: A request still unanswered this long after its turn no longer counts (its task was
#: cancelled on the way, say); while every counted request is in flight, the next one looks
#: again this often.
STUCK = 30.0
POLL = 0.005
#: the most edits of one channel remembered (Discord's edit bucket is 5)
MOST_EDITS = 16
#: Editing or deleting a channel's message: the channel's edit bucket
_EDIT = re.compile(r"/channels/(\d+)/messages/(\d+)$")

Time = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


def exempt(path: str) -> bool:
    """Is a request to this URL path outside the global limit (an interaction endpoint)?"""
    return _EXEMPT.search(path) is not None


def edited_channel(method: str, path: str) -> int | None:
    """The channel whose edit bucket a request counts in (editing or deleting a message)."""
    if method.upper() not in ("PATCH", "DELETE"):
        return None
    match = _EDIT.search(path)
    return None if match is None else int(match.group(1))


class Window:
    """At most `limit` requests in any `per` seconds as the server counts them, in the order
    asked for (`turn`).

    The server counts a request when it arrives, somewhere between its turn and its answer
    (`done`): so a request counts here from its turn until `per` after its answer (in flight,
    then answered within the last `per`), and another goes only while fewer than `limit` do.
    Counting from the turns alone would let a window's worth held up on the way (a busy loop at
    either end) arrive together with the next. A request never answered (its task cancelled)
    stops counting `STUCK` seconds after its turn."""

    def __init__(
        self,
        limit: int,
        per: float,
        *,
        slack: float = SLACK,
        time: Time = _loop_time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limit = limit
        self.per = per + slack
        self._time = time
        self._sleep = sleep
        #: turns not answered yet: number -> when it was taken
        self._flying: dict[int, float] = {}
        #: when the answers of the last `per` came, oldest first
        self._answered: deque[float] = deque()
        self._turns = 0
        self._queue = asyncio.Lock()
        #: turns that had to wait, and how long in all (seconds): for the log and the bench
        self.waited = 0
        self.waited_seconds = 0.0

    def _wait(self, now: float) -> float:
        """0 when a turn is free now; else how long until one may be."""
        answered = self._answered
        while answered and now >= answered[0] + self.per:  # as the pause is reckoned
            answered.popleft()
        if len(answered) + len(self._flying) < self.limit:
            return 0.0
        for turn, at in list(self._flying.items()):
            if now >= at + STUCK:
                del self._flying[turn]
        if len(answered) + len(self._flying) < self.limit:
            return 0.0
        # the next to stop counting: the oldest answer, or (all in flight) soon an answer
        return answered[0] + self.per - now if answered else POLL

    def _take(self, now: float) -> int:
        self._turns += 1
        self._flying[self._turns] = now
        return self._turns

    async def turn(self) -> int:
        """Return when a turn is free, and take it: its number, for `done`."""
        now = self._time()
        if not self._queue.locked() and self._wait(now) <= 0:
            return self._take(now)
        started = now
        async with self._queue:  # first come, first served
            now = self._time()
            while (pause := self._wait(now)) > 0:
                await self._sleep(pause)
                now = self._time()
            self.waited += 1
            self.waited_seconds += now - started
            return self._take(now)

    def done(self, turn: int) -> None:
        """The turn's request was answered (or failed): it counts for `per` more seconds."""
        if self._flying.pop(turn, None) is not None:
            self._answered.append(self._time())


@dataclass(slots=True)
class _Bucket:
    limit: int
    #: the window's length: the longest Reset-After seen (a window's first answer tells it all)
    per: float
    remaining: int
    #: when the current window ends (on `time`'s clock)
    resets_at: float


class ChannelEdits:
    """Each channel's edit bucket as Discord's headers last told it (`learned`), and turns at
    editing (`turn`): one at a time per channel, each once the bucket has room — in Discord's
    window, and never more than its limit in any stretch of its length (so that two windows
    back to back don't put twice the limit close together)."""

    def __init__(
        self, *, slack: float = SLACK, time: Time = _loop_time, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.slack = slack
        self._time = time
        self._sleep = sleep
        self._buckets: dict[int, _Bucket] = {}
        #: when each channel's last edits went
        self._sent: dict[int, deque[float]] = {}
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        #: turns that had to wait for the bucket, and how long in all (seconds)
        self.waited = 0
        self.waited_seconds = 0.0

    def learned(self, channel_id: int, limit: int, remaining: int, reset_after: float) -> None:
        """An answer's headers about the channel's edit bucket (a 429's too: remaining 0)."""
        known = self._buckets.get(channel_id)
        per = max(reset_after, known.per if known is not None else 0.0)
        self._buckets[channel_id] = _Bucket(limit, per, remaining, self._time() + reset_after)
        if len(self._buckets) > 1024:  # forget channels not edited for a while
            now = self._time()
            for key in [k for k, b in self._buckets.items() if b.resets_at + b.per < now]:
                del self._buckets[key]
                self._sent.pop(key, None)

    def pause(self, channel_id: int) -> float:
        """How long an edit in the channel would have to wait now (0: it may go)."""
        bucket = self._buckets.get(channel_id)
        if bucket is None:
            return 0.0
        now = self._time()
        pause = 0.0
        if bucket.remaining <= 0:
            pause = bucket.resets_at + self.slack - now
        sent = self._sent.get(channel_id)
        if sent is not None and len(sent) >= bucket.limit > 0:
            pause = max(pause, sent[-bucket.limit] + bucket.per + self.slack - now)
        return max(0.0, pause)

    @asynccontextmanager
    async def turn(self, channel_id: int) -> AsyncIterator[None]:
        """The channel's next turn: render and send the edit inside it."""
        lock = self._locks.get(channel_id)
        if lock is None:
            lock = self._locks[channel_id] = asyncio.Lock()
        async with lock:
            started = self._time()
            waited = False
            while (pause := self.pause(channel_id)) > 0:
                waited = True
                await self._sleep(pause)
            now = self._time()
            if waited:
                self.waited += 1
                self.waited_seconds += now - started
            bucket = self._buckets.get(channel_id)
            if bucket is not None:
                if bucket.resets_at <= now:  # a new window, opened by this edit
                    bucket.remaining, bucket.resets_at = bucket.limit, now + bucket.per
                bucket.remaining -= 1  # until this edit's answer says more
            try:
                yield
            finally:  # Discord counted it before its answer came: count it from now on
                sent = self._sent.setdefault(channel_id, deque(maxlen=MOST_EDITS))
                sent.append(self._time())


class Pacing:
    """One bot's pacing: the global window and its channels' edit buckets."""

    def __init__(
        self,
        global_limit: int = GLOBAL_LIMIT,
        per: float = GLOBAL_PER,
        *,
        slack: float = SLACK,
        time: Time = _loop_time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.global_ = Window(global_limit, per, slack=slack, time=time, sleep=sleep)
        self.edits = ChannelEdits(slack=slack, time=time, sleep=sleep)

    async def before(self, method: str, path: str) -> int | None:
        """A request is about to leave: wait for the global limit unless it is exempt. Its turn,
        for `after` (None: exempt)."""
        return None if exempt(path) else await self.global_.turn()

    def failed(self, turn: int | None) -> None:
        """The request got no answer (the network): it counts in the global limit a while yet."""
        if turn is not None:
            self.global_.done(turn)

    def after(
        self,
        turn: int | None,
        method: str,
        path: str,
        headers: Mapping[str, str],
        status: int,
    ) -> None:
        """Its answer came: it counts in the global window for a second more, and its headers
        (lower-case names, or a case-insensitive mapping) tell about the channel's edit bucket.
        A global 429 says nothing about the channel."""
        self.failed(turn)
        channel_id = edited_channel(method, path)
        if channel_id is None or headers.get("x-ratelimit-global"):
            return
        limit = headers.get("x-ratelimit-limit")
        remaining = "0" if status == 429 else headers.get("x-ratelimit-remaining")
        reset_after = headers.get("x-ratelimit-reset-after") or headers.get("retry-after")
        if limit is None or remaining is None or reset_after is None:
            return
        try:
            self.edits.learned(channel_id, int(limit), int(remaining), float(reset_after))
        except ValueError:
            return  # not Discord's headers: nothing learned
