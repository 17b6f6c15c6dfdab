"""The double's rate limits behave like Discord's (tests/double/ratelimits.py): buckets and their
headers, the 429 and its reset, the global limit and what it exempts, the per-channel limits on
sending and editing, off by default; and discord.py, reading the headers, paces itself.

Requests go over HTTP to the double, as a client's would. Time is the limits' injectable clock
(moved by hand), or short configured windows where the real discord.py client has to wait."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from tests.double import LIMITS, Channel, DiscordDouble, Guild, Member, builders
from tests.double.ratelimits import Limit, RateLimits, loop_clock, route_of
from tests.support import endpoints

WALL = 1_700_000_000.0  # the injected epoch, for X-RateLimit-Reset


class Clock:
    """The limits' monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Office:
    """A double with the limits on and a movable clock, and a bare HTTP client for it."""

    def __init__(self, dd: DiscordDouble, http: aiohttp.ClientSession) -> None:
        self.dd, self.http = dd, http
        self.clock = Clock()
        dd.rate_limits.clock = self.clock
        dd.rate_limits.wall = lambda: WALL + self.clock.now
        self.guild: Guild = dd.add_guild("Riverside Legal")
        self.channel: Channel = dd.add_channel(self.guild, "front-desk")
        self.member: Member = dd.add_member(self.guild, "alice")

    async def call(
        self, method: str, path: str, body: Any = None, *, bot: bool = True
    ) -> tuple[int, Any, dict[str, str]]:
        headers = {"Authorization": f"Bot {self.dd.token}"} if bot else {}
        async with self.http.request(
            method, self.dd.api_base.rstrip("/") + path, json=body, headers=headers
        ) as response:
            data = await response.json() if response.content_type == "application/json" else None
            return response.status, data, dict(response.headers)

    async def send(self, channel: Channel, text: str = "hello") -> tuple[int, Any, dict[str, str]]:
        return await self.call("POST", f"/channels/{channel.id}/messages", {"content": text})

    async def message(self, channel: Channel, text: str) -> int:
        """A message by the bot, put there without a request (not counted)."""
        return self.dd.bot_message(channel, content=text).id


@pytest.fixture
async def office() -> AsyncIterator[Office]:
    async with DiscordDouble(rate_limits=True) as dd, aiohttp.ClientSession() as http:
        yield Office(dd, http)


def limited(headers: dict[str, str]) -> tuple[str, str, str, str]:
    return (
        headers["X-RateLimit-Limit"],
        headers["X-RateLimit-Remaining"],
        headers["X-RateLimit-Reset-After"],
        headers["X-RateLimit-Bucket"],
    )


# ----------------------------------------------------------------------------- buckets


async def test_a_bucket_counts_down_in_its_headers(office: Office) -> None:
    seen = []
    for n in range(5):
        status, _, headers = await office.send(office.channel, f"note {n}")
        assert status == 200
        seen.append(limited(headers))
        assert float(headers["X-RateLimit-Reset"]) == pytest.approx(WALL + 100.0 + 5.0)
        assert "X-RateLimit-Scope" not in headers and "Retry-After" not in headers
        office.clock.now += 0.5
    bucket = seen[0][3]
    assert len(bucket) == 32 and int(bucket, 16) >= 0  # an opaque hash, as Discord's
    assert seen == [
        ("5", "4", "5.000", bucket),
        ("5", "3", "4.500", bucket),
        ("5", "2", "4.000", bucket),
        ("5", "1", "3.500", bucket),
        ("5", "0", "3.000", bucket),
    ]
    assert office.dd.rate_limits.hits == []


async def test_routes_of_one_bucket_share_its_hash_and_its_count(office: Office) -> None:
    ch = office.channel
    first, second = await office.message(ch, "one"), await office.message(ch, "two")
    _, _, sent = await office.send(ch)
    _, _, edited = await office.call(
        "PATCH", f"/channels/{ch.id}/messages/{first}", {"content": "1"}
    )
    status, _, deleted = await office.call("DELETE", f"/channels/{ch.id}/messages/{second}")
    assert status == 204
    # editing and deleting any message of the channel: one bucket, counted together
    assert limited(edited)[:2] == ("5", "4") and limited(deleted)[:2] == ("5", "3")
    assert edited["X-RateLimit-Bucket"] == deleted["X-RateLimit-Bucket"]
    assert sent["X-RateLimit-Bucket"] != edited["X-RateLimit-Bucket"]
    assert sent["X-RateLimit-Remaining"] == "4"  # sending has a bucket of its own
    # the two ways of starting a thread share one
    from_message = await office.call(
        "POST", f"/channels/{ch.id}/messages/{first}/threads", {"name": "Talk"}
    )
    without = await office.call("POST", f"/channels/{ch.id}/threads", {"name": "Aside", "type": 11})
    assert [r[0] for r in (from_message, without)] == [201, 201]
    assert from_message[2]["X-RateLimit-Bucket"] == without[2]["X-RateLimit-Bucket"]
    assert [from_message[2]["X-RateLimit-Remaining"], without[2]["X-RateLimit-Remaining"]] == [
        "4",
        "3",
    ]


async def test_two_channels_are_two_buckets_with_one_hash(office: Office) -> None:
    other = office.dd.add_channel(office.guild, "mail-room")
    for _ in range(5):
        assert (await office.send(office.channel))[0] == 200
    status, _, headers = await office.send(other)
    assert status == 200 and headers["X-RateLimit-Remaining"] == "4"
    assert (await office.send(office.channel))[0] == 429
    _, _, again = await office.send(other)
    assert again["X-RateLimit-Remaining"] == "3"
    assert again["X-RateLimit-Bucket"] == office.dd.rate_limits.hits[0].bucket.split(":")[0]


async def test_an_error_answer_carries_the_headers_too(office: Office) -> None:
    status, body, headers = await office.call("GET", "/channels/1/messages/2")
    assert (status, body["code"]) == (404, 10003)
    assert "X-RateLimit-Bucket" in headers and headers["X-RateLimit-Remaining"] == "49"


# ----------------------------------------------------------------------------- 429


async def test_an_exhausted_bucket_answers_429_until_its_window_passes(office: Office) -> None:
    dd, ch = office.dd, office.channel
    for n in range(5):
        assert (await office.send(ch, f"note {n}"))[0] == 200
    office.clock.now += 1.25
    status, body, headers = await office.send(ch, "one too many")
    assert status == 429
    assert body == {
        "message": "You are being rate limited.",
        "retry_after": 3.75,
        "global": False,
        "code": 0,
    }
    assert headers["Retry-After"] == "4"  # whole seconds, rounded up, as Discord sends it
    assert headers["X-RateLimit-Scope"] == "user"
    assert "X-RateLimit-Global" not in headers
    assert headers["Via"]  # discord.py takes a 429 without it for a Cloudflare ban
    assert limited(headers)[:3] == ("5", "0", "3.750")
    assert [m.content for m in dd.messages(ch)] == [f"note {n}" for n in range(5)]
    assert dd.calls[-1].status == 429
    [hit] = dd.rate_limits.hits
    bucket = headers["X-RateLimit-Bucket"]
    assert (hit.at, hit.method, hit.path) == (101.25, "POST", f"/channels/{ch.id}/messages")
    assert (hit.bucket, hit.scope, hit.is_global, hit.retry_after, hit.limit) == (
        f"{bucket}:channel_id={ch.id}",
        "user",
        False,
        3.75,
        "message_create",
    )
    # a refused request isn't counted: still refused just before the window ends, free at its end
    office.clock.now += 3.7
    assert (await office.send(ch))[0] == 429
    office.clock.now += 0.05
    status, _, headers = await office.send(ch, "after the window")
    assert status == 200 and limited(headers)[:3] == ("5", "4", "5.000")
    assert dd.messages(ch)[-1].content == "after the window"
    assert len(dd.rate_limits.hits) == 2


async def test_editing_is_limited_per_channel_whatever_the_message(office: Office) -> None:
    ch, other = office.channel, office.dd.add_channel(office.guild, "mail-room")
    ids = [await office.message(ch, f"m{n}") for n in range(6)]
    elsewhere = await office.message(other, "there")
    for mid in ids[:5]:
        status, _, _ = await office.call(
            "PATCH", f"/channels/{ch.id}/messages/{mid}", {"content": "e"}
        )
        assert status == 200
    status, body, _ = await office.call(
        "PATCH", f"/channels/{ch.id}/messages/{ids[5]}", {"content": "e"}
    )
    assert status == 429 and body["retry_after"] == 5.0
    assert (await office.call("DELETE", f"/channels/{ch.id}/messages/{ids[5]}"))[0] == 429
    assert office.dd._messages[ids[5]].content == "m5" and not office.dd._messages[ids[5]].deleted
    route = f"/channels/{other.id}/messages/{elsewhere}"
    assert (await office.call("PATCH", route, {"content": "e"}))[0] == 200
    assert [h.limit for h in office.dd.rate_limits.hits] == ["message_edit", "message_edit"]


# ----------------------------------------------------------------------------- global


def _interaction(office: Office) -> tuple[int, str]:
    dd = office.dd
    data = {"id": "1", "name": "ping", "type": 1}
    ix = builders.new_interaction(dd, 2, office.member, office.guild, office.channel, data, "ping")
    dd._interactions[ix.id], dd._by_token[ix.token] = ix, ix
    return ix.id, ix.token


async def test_the_global_limit_is_50_a_second_across_channels(office: Office) -> None:
    dd = office.dd
    assert LIMITS["global"] == Limit(50, 1.0, "global")
    channels = [dd.add_channel(office.guild, f"desk-{n}") for n in range(11)]
    for ch in channels[:10]:  # 5 each: no channel's bucket is exhausted
        for _ in range(5):
            assert (await office.send(ch))[0] == 200
    office.clock.now += 0.4
    status, body, headers = await office.send(channels[10], "the 51st")
    assert status == 429
    assert body == {
        "message": "You are being rate limited.",
        "retry_after": 0.6,
        "global": True,
        "code": 0,
    }
    assert headers["X-RateLimit-Global"] == "true" and headers["X-RateLimit-Scope"] == "global"
    assert headers["Retry-After"] == "1" and headers["Via"]
    assert "X-RateLimit-Bucket" not in headers  # as in Discord's example of a global 429
    assert dd.messages(channels[10]) == []
    [hit] = dd.rate_limits.hits
    assert (hit.bucket, hit.scope, hit.is_global, hit.retry_after) == (
        "global",
        "global",
        True,
        0.6,
    )
    # other routes too; and the refused request wasn't counted in its channel's bucket
    assert (await office.call("GET", "/users/@me"))[1]["global"] is True
    office.clock.now += 0.6
    status, _, headers = await office.send(channels[10], "next second")
    assert status == 200 and headers["X-RateLimit-Remaining"] == "4"


async def test_interaction_endpoints_are_not_counted_in_the_global_limit(office: Office) -> None:
    dd = office.dd
    dd.rate_limits.configure(global_=(3, 1.0))
    for _ in range(3):
        assert (await office.call("GET", f"/channels/{office.channel.id}"))[0] == 200
    assert (await office.call("GET", f"/channels/{office.channel.id}"))[1]["global"] is True
    # the global limit is spent, yet an interaction is answered and followed up
    iid, token = _interaction(office)
    status, _, headers = await office.call(
        "POST", f"/interactions/{iid}/{token}/callback", {"type": 5}, bot=False
    )
    assert status == 204 and headers["X-RateLimit-Remaining"] == "4"
    app = dd.application_id
    for n in range(4):
        status, _, headers = await office.call(
            "POST", f"/webhooks/{app}/{token}?wait=true", {"content": f"follow-up {n}"}, bot=False
        )
        assert status == 200
    assert headers["X-RateLimit-Remaining"] == "1"  # the interaction's webhook bucket: 5 per 2 s
    status, _, _ = await office.call(
        "PATCH", f"/webhooks/{app}/{token}/messages/@original", {"content": "done"}, bot=False
    )
    assert status == 200
    [ix] = dd.interactions
    assert ix.response_type == 5 and [m.text for m in ix.followups][1:] == [
        "follow-up 1",
        "follow-up 2",
        "follow-up 3",
    ]
    assert [h.is_global for h in dd.rate_limits.hits] == [True]
    # nor do they use it up: a new second's three requests all go through after ten of them
    office.clock.now += 1.0
    assert [(await office.call("GET", "/users/@me"))[0] for _ in range(3)] == [200, 200, 200]


# ----------------------------------------------------------------------------- switches


async def test_off_by_default_no_headers_and_never_429() -> None:
    async with DiscordDouble() as dd, aiohttp.ClientSession() as http:
        office = Office(dd, http)
        assert dd.rate_limits.enabled is False
        answers = [await office.send(office.channel, f"n{n}") for n in range(12)]
        assert {status for status, _, _ in answers} == {200}
        assert not any(k.startswith("X-RateLimit") for _, _, h in answers for k in h)
        assert len(dd.messages(office.channel)) == 12 and dd.rate_limits.hits == []
        # turned on at any time, with counters from then on
        dd.rate_limits.enabled = True
        status, _, headers = await office.send(office.channel)
        assert status == 200 and headers["X-RateLimit-Remaining"] == "4"


async def test_reset_forgets_counters_and_hits(office: Office) -> None:
    for _ in range(6):
        await office.send(office.channel)
    assert len(office.dd.rate_limits.hits) == 1
    office.dd.rate_limits.reset()
    assert office.dd.rate_limits.hits == []
    status, _, headers = await office.send(office.channel)
    assert status == 200 and headers["X-RateLimit-Remaining"] == "4"


async def test_injected_429s_still_work_and_are_not_hits(office: Office) -> None:
    dd = office.dd
    rule = dd.fail_next("POST", r"/channels/\d+/messages", retry_after=0.25)
    status, body, headers = await office.send(office.channel)
    assert (status, body["retry_after"], rule.hits) == (429, 0.25, 1)
    assert headers["X-RateLimit-Scope"] == "user"
    assert dd.rate_limits.hits == []
    # the faulted request was counted in its bucket, as Discord counts what reached it
    assert (await office.send(office.channel))[2]["X-RateLimit-Remaining"] == "3"


def test_configured_numbers_and_route_keys() -> None:
    clock = Clock()
    limits = RateLimits(True, {"message_create": Limit(2, 0.2)}, clock=clock, wall=lambda: 0.0)
    assert [limits.check("POST", "/channels/7/messages").refused for _ in range(3)] == [  # type: ignore[union-attr]
        False,
        False,
        True,
    ]
    clock.now += 0.2
    assert limits.check("POST", "/channels/7/messages").refused is False  # type: ignore[union-attr]
    with pytest.raises(KeyError):
        limits.configure(nothing=(1, 1))
    assert limits.configure(message_create=(1, 9.0)).limits["message_create"] == Limit(1, 9.0)
    assert route_of("PATCH", "/webhooks/1/tok/messages/@original").major == (
        "webhook_id=1&webhook_token=tok"
    )
    assert route_of("GET", "/guilds/5/members/6").template == "GET /guilds/{guild_id}/members/{id}"
    assert route_of("POST", "/interactions/1/t/callback").exempt_from_global
    assert not route_of("POST", "/channels/1/messages").exempt_from_global


# ----------------------------------------------------------------------------- discord.py


async def test_discord_py_paces_an_interactions_follow_ups(office: Office) -> None:
    """An interaction's webhook bucket (5 per 0.3 s here): discord.py's webhook adapter sends one
    at a time and waits out Remaining 0, so twelve follow-ups meet at most one 429 (two for a
    client ignoring the headers) and all arrive."""
    dd = office.dd
    dd.rate_limits.clock, dd.rate_limits.wall = loop_clock, time.time  # discord.py sleeps for real
    dd.rate_limits.configure(webhook=(5, 0.3))
    iid, token = _interaction(office)
    status, _, _ = await office.call(
        "POST", f"/interactions/{iid}/{token}/callback", {"type": 5}, bot=False
    )
    assert status == 204
    hook = discord.Webhook.partial(dd.application_id, token, session=office.http)
    async with endpoints(dd):
        for n in range(12):
            await hook.send(f"follow-up {n}", wait=True)
    [ix] = dd.interactions
    assert [m.text for m in ix.followups] == [f"follow-up {n}" for n in range(12)]
    assert len(dd.rate_limits.hits) <= 1, dd.rate_limits.hits
