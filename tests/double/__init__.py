"""A Discord double: the real, unmodified discord.py client talks to it over real sockets.

Quick start::

    async with DiscordDouble() as dd:
        discord.http.Route.BASE = dd.api_base            # restore both afterwards
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(dd.gateway_url)
        g = dd.add_guild("Office")
        ch = dd.add_channel(g, "support")
        alice = dd.add_member(g, "alice")
        # ... start the bot (login with dd.token, connect), sync its commands ...
        ix = await dd.slash(alice, "poll create", channel=ch, question="Q?")
        assert (await ix.response())["type"] == 4
        msg = await dd.wait_for_message(ch, lambda m: "Q?" in m.text)

Things worth knowing (see tests/test_double.py for a worked example):

* ``wait_ready()`` means READY and every GUILD_CREATE were written. discord.py fires on_ready
  ``guild_ready_timeout`` seconds later (2 s by default): build test bots with a small
  ``guild_ready_timeout`` and wait on ``bot.wait_until_ready()``.
* discord.py sleeps 5 s before every re-IDENTIFY (``Client.before_identify_hook``), so
  ``invalidate_session()`` takes 5 s unless the test bot overrides that hook.
* ``wait_until`` / ``wait_for_message`` are re-checked whenever the double changes. To assert on
  the bot's own cache after a gateway event (``add_channel``, ``remove_guild``, ...), ``await
  dd.settle()``: it returns once the bot has read every event sent so far.
* ``dd.messages(ch)`` is the channel as other users see it: ephemeral messages are left out
  (``include_ephemeral=True`` to see them; or read ``ix.original`` / ``ix.followups``).
* ``slash(member, name, /, *, channel=None, options=None, timeout=10, **values)``: ``channel`` is
  where the command is used; an option whose name clashes (``channel``, ``options``,
  ``timeout``) goes in ``options={...}``. Unknown commands/options, missing required options,
  values outside choices or ranges, and commands hidden by ``default_member_permissions`` raise
  ``CommandError`` (Discord's client would not send them).
* ``slash(..., strict=False)`` sends values Discord's client would not offer (a thread for an
  option limited to text channels, values outside declared lengths, ranges or choices), as a
  modified client could.
* ``bot_message(channel, embeds=..., components=...)`` puts a message by the bot that this run
  did not send: buttons whose custom_id the bot would not make now, or, in ``dm_channel(user)``,
  a copy of a post clicked from a DM (``click`` then sends no guild_id and ``user``).
* Discord's rules are enforced and answered as Discord does (400/50035 with an ``errors`` body,
  404/10003, 10008, 10015, 10062, 403/50013, 400/40060, ...); every REST call is in ``dd.calls``
  and routes the double does not know are answered 404 and listed in ``dd.unknown_routes``.
* Sharding is Discord's: an IDENTIFY's ``shard: [id, count]`` decides what its session gets. A
  guild belongs to shard ``(guild_id >> 22) % count`` (``shard_of(guild_id, count)``; the k-th
  guild added is on shard ``k % count`` for counts up to 10), DMs to shard 0; READY,
  GUILD_CREATE, guild events, messages and interactions (``slash``, ``click``, ...) go only to
  the owning shard's session, and ``ix.shard`` says which. Several shards may be connected at
  once (one process or several): ``wait_ready(shard_count=n)`` waits for all n, ``settle()``
  waits for every live session, ``drop_gateway``/``invalidate_session``/``request_reconnect``
  take ``shard_id=``. ``DiscordDouble(recommended_shards=n)`` is GET /gateway/bot's ``shards``
  (what AutoShardedClient uses without a shard_count). Invalid shards are closed with 4010,
  more than 2,500 guilds on one shard with 4011.
* Every request body is also checked against Discord's OpenAPI spec (tests/double/contract.py,
  the vendored discord-openapi.json.gz): a violation is answered 400/50035, kept in
  ``dd.contract_violations`` and fails the test at teardown (tests/conftest.py), unless the test
  sends it on purpose inside ``with dd.expect_contract_violations():``. ``dd.check_contract =
  False`` turns the check off, for a test of the double's own limits that the spec would
  refuse first.
* Discord's rate limits (tests/double/ratelimits.py) are off by default: no X-RateLimit-*
  headers, never a 429. ``DiscordDouble(rate_limits=True)`` (or ``dd.rate_limits.enabled =
  True``) turns them on: per-route buckets with Discord's headers, 429s with ``retry_after``,
  the 50/s global limit (interaction endpoints exempt), 5 per 5 s per channel for sending and
  for editing/deleting messages. Every such 429 is in ``dd.rate_limits.hits``;
  ``dd.rate_limits.configure(...)`` sets other numbers (``LIMITS`` is the table).
"""

from .builders import CommandError
from .contract import Violation
from .double import DiscordDouble
from .limits import FormErrors
from .models import (
    CallRecord,
    Channel,
    ChannelType,
    FaultRule,
    Guild,
    Intent,
    InteractionRecord,
    Member,
    Message,
    MessageFlag,
    Perm,
    Role,
)
from .ratelimits import LIMITS, Limit, RateLimitHit, RateLimits
from .shards import shard_of

__all__ = [
    "LIMITS",
    "CallRecord",
    "Channel",
    "ChannelType",
    "CommandError",
    "DiscordDouble",
    "FaultRule",
    "FormErrors",
    "Guild",
    "Intent",
    "InteractionRecord",
    "Limit",
    "Member",
    "Message",
    "MessageFlag",
    "Perm",
    "RateLimitHit",
    "RateLimits",
    "Role",
    "Violation",
    "shard_of",
]
