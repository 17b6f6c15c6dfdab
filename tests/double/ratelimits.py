"""Discord's rate limits, as the double enforces them (off by default; ``DiscordDouble(
rate_limits=True)`` or ``dd.rate_limits.enabled = True``).

What Discord does (docs/topics/rate-limits) and the double copies:

* **Per-route buckets.** A request is counted in the bucket of its route *and* its top-level
  resource (the "major parameters": ``channel_id``, ``guild_id``, or ``webhook_id`` +
  ``webhook_token``): the same route on two channels is two buckets, with the same
  ``X-RateLimit-Bucket`` hash (the hash names the limit, not the resource). Some routes share one
  limit (editing and deleting a channel's messages; the two ways of starting a thread): they
  answer the same hash and count together. Each bucket is a window of ``limit`` requests per
  ``per`` seconds, opened by the first request and reset ``per`` seconds later.
* **Headers on every answer of a limited route** (2xx and 4xx alike): ``X-RateLimit-Limit``,
  ``-Remaining``, ``-Reset`` (epoch seconds, float), ``-Reset-After`` (seconds, float, rounded
  up to the millisecond so a client waiting that long never arrives early) and ``-Bucket``.
* **429** when a bucket is exhausted: the body ``{"message": "You are being rate limited.",
  "retry_after": s, "global": false, "code": 0}`` with ``Retry-After`` (whole seconds, rounded
  up, as Discord sends it), ``X-RateLimit-Scope: user`` (or ``shared`` for a limit whose scope is
  shared), the bucket's headers with ``Remaining: 0``, and ``Via`` (discord.py takes a 429
  without ``Via`` for a Cloudflare ban and raises instead of retrying). A refused request is not
  counted in its bucket.
* **Global**: at most ``LIMITS["global"]`` (50 per second) requests per bot token, whatever the
  route, except the interaction endpoints (``POST /interactions/{id}/{token}/callback`` and
  ``/webhooks/{application_id}/{token}...``), which Discord exempts. A global 429 has
  ``"global": true``, ``X-RateLimit-Global: true``, ``X-RateLimit-Scope: global`` and
  ``Retry-After``, and none of the bucket headers (as in Discord's example); the request is then
  not counted in its route's bucket either.

**Off** (the default, for quick tests) means no headers, no counting and never a 429: the double
answers as it did before rate limits existed. discord.py then sends one request per route at a
time (its bucket without headers has one token), which is what the quick tests were written
against. Turning the limits on makes discord.py pace itself from the headers: it waits out a
bucket whose ``Remaining`` reached 0 (real seconds), and on a 429 sleeps ``retry_after``.

Fault-injected 429s (``dd.fail_next``) are separate: they are answered as before, are not in
``hits``, and a request answered by a fault still counts in its bucket.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limit:
    """``limit`` requests per ``per`` seconds; ``scope`` is the 429's X-RateLimit-Scope."""

    limit: int
    per: float
    scope: str = "user"


#: The limits the double enforces, by name. The per-channel ones are Discord's (the figures its
#: headers show); the rest are generous, so that only a bot that really floods meets them.
LIMITS: dict[str, Limit] = {
    # every authenticated request of a bot token, interaction endpoints excepted
    "global": Limit(50, 1.0, "global"),
    # POST /channels/{channel_id}/messages: 5 per 5 s per channel
    "message_create": Limit(5, 5.0),
    # PATCH and DELETE /channels/{channel_id}/messages/{message_id}: one bucket per channel,
    # whatever the message, 5 per 5 s
    "message_edit": Limit(5, 5.0),
    # POST /channels/{channel_id}/messages/{message_id}/threads and /channels/{channel_id}/threads
    # (Discord doesn't publish it; modelled like the message buckets, one per channel)
    "thread_create": Limit(5, 5.0),
    # PUT and DELETE .../reactions/{emoji}/@me: Discord's 1 per 0.25 s per channel
    "reaction": Limit(1, 0.25),
    # POST /interactions/{id}/{token}/callback, per interaction (a second answer is refused
    # anyway)
    "interaction_callback": Limit(5, 5.0),
    # /webhooks/{application_id}/{token}...: an interaction's follow-ups and edits of its
    # messages, per interaction token, 5 per 2 s (Discord's per-webhook limit)
    "webhook": Limit(5, 2.0),
    # every other route, a bucket per route and major parameter
    "default": Limit(50, 1.0),
}

#: Route templates (as ``route_of`` writes them) that share a named limit. Any other route under
#: /webhooks/ is "webhook"; anything else is "default", a bucket of its own.
ROUTES: dict[str, str] = {
    "POST /channels/{channel_id}/messages": "message_create",
    "PATCH /channels/{channel_id}/messages/{id}": "message_edit",
    "DELETE /channels/{channel_id}/messages/{id}": "message_edit",
    "POST /channels/{channel_id}/messages/{id}/threads": "thread_create",
    "POST /channels/{channel_id}/threads": "thread_create",
    "PUT /channels/{channel_id}/messages/{id}/reactions/{emoji}/@me": "reaction",
    "DELETE /channels/{channel_id}/messages/{id}/reactions/{emoji}/@me": "reaction",
    "POST /interactions/{webhook_id}/{webhook_token}/callback": "interaction_callback",
}

#: Routes Discord leaves out of the global limit: the interaction endpoints.
GLOBAL_EXEMPT = ("/interactions/", "/webhooks/")


@dataclass(frozen=True)
class RateLimitHit:
    """One 429 the double answered because of a limit (fault-injected ones are not here).

    ``at`` is on the double's clock (that of ``dd.calls[i].at``); ``bucket`` is the bucket that
    was exhausted: the X-RateLimit-Bucket hash and the major parameters (``"<hash>:channel_id=
    123"``), or ``"global"``; ``limit`` names its entry in ``LIMITS``."""

    at: float
    method: str
    path: str
    bucket: str
    scope: str
    is_global: bool
    retry_after: float
    limit: str = ""


@dataclass(frozen=True)
class Route:
    """A request's route template (``"POST /channels/{channel_id}/messages"``), its major
    parameters (``"channel_id=123"``, ``""`` for none) and the name of its limit."""

    template: str
    major: str
    name: str

    @property
    def exempt_from_global(self) -> bool:
        return self.template.split(" ", 1)[1].startswith(GLOBAL_EXEMPT)


_TOP = {"channels": "channel_id", "guilds": "guild_id"}


def route_of(method: str, path: str) -> Route:
    """The bucket a request is counted in, as Discord keys it: ``path`` is below /api/v10."""
    parts = [p for p in path.split("/") if p]
    out: list[str] = []
    major = ""
    rest = parts
    if len(parts) >= 2 and parts[0] in _TOP and parts[1].isdigit():
        major = f"{_TOP[parts[0]]}={parts[1]}"
        out, rest = [parts[0], "{" + _TOP[parts[0]] + "}"], parts[2:]
    elif len(parts) >= 3 and parts[0] in ("webhooks", "interactions"):
        major = f"webhook_id={parts[1]}&webhook_token={parts[2]}"
        out, rest = [parts[0], "{webhook_id}", "{webhook_token}"], parts[3:]
    previous = out[-1] if out else ""
    for part in rest:
        if previous == "reactions":
            out.append("{emoji}")
        elif part.isdigit() or part == "@original":
            out.append("{id}")
        else:
            out.append(part)
        previous = part
    template = f"{method.upper()} /" + "/".join(out)
    name = ROUTES.get(template)
    if name is None:
        name = "webhook" if parts[:1] == ["webhooks"] else "default"
    return Route(template, major, name)


def bucket_hash(route: Route) -> str:
    """The X-RateLimit-Bucket of a route: opaque, the same for every route sharing a named limit
    and for every resource (channel, guild, webhook) of one route."""
    seed = route.name if route.name != "default" else route.template
    return hashlib.md5(f"discord-double:{seed}".encode()).hexdigest()


@dataclass
class Verdict:
    """What the limits say about one request: the headers its answer carries; for a refused
    request (``refused``), also the 429's body."""

    headers: dict[str, str]
    body: dict[str, Any] | None = None

    @property
    def refused(self) -> bool:
        return self.body is not None


@dataclass
class _Window:
    count: int
    ends: float


def loop_clock() -> float:
    """The double's clock: the running loop's time (that of ``dd.calls``), else monotonic."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


def _up(seconds: float) -> float:
    """Rounded up to the millisecond (Discord's headers have three decimals)."""
    return math.ceil(max(0.0, seconds) * 1000 - 1e-6) / 1000


class RateLimits:
    """The double's rate limits: ``enabled`` (settable at any time), ``hits`` (every 429 they
    answered), ``reset()``; ``configure(...)`` changes the numbers (for short windows in tests).

    ``clock`` is the double's monotonic clock (the running loop's time by default, the clock of
    ``dd.calls``); ``wall`` gives X-RateLimit-Reset's epoch. Both injectable for unit tests."""

    def __init__(
        self,
        enabled: bool = False,
        limits: Mapping[str, Limit] | None = None,
        *,
        clock: Callable[[], float] | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.enabled = enabled
        self.limits: dict[str, Limit] = dict(LIMITS)
        self.limits.update(limits or {})
        self.clock = clock or loop_clock
        self.wall = wall
        self.hits: list[RateLimitHit] = []
        self._windows: dict[str, _Window] = {}

    def configure(
        self, limits: Mapping[str, Limit | tuple[Any, ...]] | None = None, /, **named: Any
    ) -> RateLimits:
        """Other numbers, e.g. ``configure(message_create=(5, 0.2), global_=(3, 0.5))`` or
        ``configure({"global": Limit(3, 0.5)})``; counters restart."""
        for name, value in {**(limits or {}), **named}.items():
            key = name.rstrip("_")
            if key not in LIMITS:
                raise KeyError(f"no rate limit named {key!r} (LIMITS has {sorted(LIMITS)})")
            if not isinstance(value, Limit):
                scope = value[2] if len(value) > 2 else LIMITS[key].scope
                value = Limit(int(value[0]), float(value[1]), scope)
            self.limits[key] = value
        self._windows.clear()
        return self

    def reset(self) -> None:
        """Forget every counter and every hit."""
        self._windows.clear()
        self.hits.clear()

    def _window(self, key: str, limit: Limit, now: float) -> _Window:
        window = self._windows.get(key)
        if window is None or now >= window.ends:
            window = self._windows[key] = _Window(0, now + limit.per)
        return window

    def check(self, method: str, path: str) -> Verdict | None:
        """Count one request (``path`` below /api/v10); None when the limits are off."""
        if not self.enabled:
            return None
        now = self.clock()
        route = route_of(method, path)
        limit = self.limits[route.name]
        digest = bucket_hash(route)
        key = f"{digest}:{route.major}"
        if not route.exempt_from_global:
            overall = self.limits["global"]
            gwindow = self._window("global", overall, now)
            if gwindow.count >= overall.limit:
                return self._refuse(now, method, path, "global", overall, gwindow, None, "global")
            gwindow.count += 1
        window = self._window(key, limit, now)
        if window.count >= limit.limit:
            headers = self._headers(digest, limit, window, now)
            return self._refuse(now, method, path, key, limit, window, headers, route.name)
        window.count += 1
        return Verdict(self._headers(digest, limit, window, now))

    def _headers(self, digest: str, limit: Limit, window: _Window, now: float) -> dict[str, str]:
        after = _up(window.ends - now)
        return {
            "X-RateLimit-Limit": str(limit.limit),
            "X-RateLimit-Remaining": str(max(0, limit.limit - window.count)),
            "X-RateLimit-Reset": f"{_up(self.wall() + after):.3f}",
            "X-RateLimit-Reset-After": f"{after:.3f}",
            "X-RateLimit-Bucket": digest,
        }

    def _refuse(
        self,
        now: float,
        method: str,
        path: str,
        bucket: str,
        limit: Limit,
        window: _Window,
        headers: dict[str, str] | None,
        name: str,
    ) -> Verdict:
        retry_after = _up(window.ends - now)
        is_global = bucket == "global"
        self.hits.append(
            RateLimitHit(now, method, path, bucket, limit.scope, is_global, retry_after, name)
        )
        out = {
            **(headers or {}),
            "Via": "1.1 google",
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Scope": limit.scope,
        }
        if is_global:
            out["X-RateLimit-Global"] = "true"
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
            "code": 0,
        }
        return Verdict(out, body)
