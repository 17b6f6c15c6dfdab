"""Plain data kept by the Discord double: guilds, channels, roles, members, messages, interactions.

These objects are live: the double mutates them in place (an edit changes ``Message.content``,
a deletion sets ``Message.deleted``), so a test may keep a reference and read it later.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .double import DiscordDouble

DISCORD_EPOCH_MS = 1420070400000
#: how long after the response deadline ``InteractionRecord.response`` keeps waiting
_DEADLINE_GRACE = 0.25


class Perm:
    """Discord permission bits used by the double."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38

    ALL = (1 << 53) - 1
    #: What @everyone gets in a new guild (roughly Discord's defaults).
    EVERYONE_DEFAULT = (
        CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | SEND_TTS_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_EXTERNAL_EMOJIS
        | CHANGE_NICKNAME
        | USE_APPLICATION_COMMANDS
        | CREATE_PUBLIC_THREADS
        | CREATE_PRIVATE_THREADS
        | SEND_MESSAGES_IN_THREADS
    )
    #: What the bot's managed role adds on top of @everyone.
    BOT_DEFAULT = MANAGE_MESSAGES | MANAGE_THREADS


class Intent:
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MESSAGES = 1 << 9
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15


class MessageFlag:
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7
    IS_COMPONENTS_V2 = 1 << 15


class ChannelType:
    TEXT = 0
    DM = 1
    CATEGORY = 4
    NEWS = 5
    NEWS_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    FORUM = 15

    THREADS = (10, 11, 12)


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


#: lcm(1, ..., 10): guild ids go round every shard count up to 10 (see SnowflakeGen.for_guild)
GUILD_PERIOD = 2520


class SnowflakeGen:
    """Strictly increasing Discord-style snowflakes (so ``created_at`` looks sane)."""

    def __init__(self) -> None:
        self._last = 0
        self._guilds = 0

    def __call__(self) -> int:
        value = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value

    def for_guild(self) -> int:
        """A guild's id: the k-th guild (from 0) gets a timestamp part ≡ k (mod GUILD_PERIOD).

        Discord shards by ``(guild_id >> 22) % shard_count``; guilds made in one millisecond
        would all land on one shard. Like this, for any shard count up to 10 (any divisor of
        GUILD_PERIOD), guild k is on shard ``k % shard_count``: the guilds go round the shards
        in the order the test made them. Still strictly increasing; it may run ahead of the
        clock by up to GUILD_PERIOD ms, plus one millisecond per guild made within it."""
        floor = max(int(time.time() * 1000) - DISCORD_EPOCH_MS, (self._last >> 22) + 1)
        millisecond = floor + (self._guilds - floor) % GUILD_PERIOD
        self._guilds += 1
        self._last = millisecond << 22
        return self._last


@dataclass(eq=False)
class Role:
    id: int
    name: str
    guild_id: int
    permissions: int = 0
    position: int = 1
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass(eq=False)
class Member:
    """A (human) user who is a member of one guild."""

    id: int
    name: str
    guild_id: int | None
    roles: list[Role] = field(default_factory=list)
    nick: str | None = None
    global_name: str | None = None
    joined_at: str = field(default_factory=iso_now)
    bot: bool = False

    @property
    def display_name(self) -> str:
        return self.nick or self.global_name or self.name

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class Channel:
    """A guild channel, a thread (``parent_id`` set, type 10/11/12) or a DM channel (type 1)."""

    id: int
    name: str
    type: int = ChannelType.TEXT
    guild_id: int | None = None
    parent_id: int | None = None
    position: int = 0
    topic: str | None = None
    #: permission overwrites: {"id": int, "type": 0 role | 1 member, "allow": int, "deny": int}
    overwrites: list[dict[str, int]] = field(default_factory=list)
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    rate_limit_per_user: int = 0
    recipient_id: int | None = None
    created_at: str = field(default_factory=iso_now)
    deleted: bool = False

    @property
    def is_thread(self) -> bool:
        return self.type in ChannelType.THREADS

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    owner_id: int
    channels: list[Channel] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    threads: list[Channel] = field(default_factory=list)
    bot_role_id: int = 0
    joined_at: str = field(default_factory=iso_now)
    removed: bool = False

    @property
    def everyone(self) -> Role:
        return self.roles[0]

    def channel(self, name: str) -> Channel:
        return _by_name(self.channels + self.threads, name, "channel", self.name)

    def role(self, name: str) -> Role:
        return _by_name(self.roles, name, "role", self.name)

    def member(self, name: str) -> Member:
        return _by_name(self.members, name, "member", self.name)


_T = TypeVar("_T", Channel, Role, Member)


def _by_name(items: list[_T], name: str, kind: str, guild: str) -> _T:
    for item in items:
        if item.name == name and not getattr(item, "deleted", False):
            return item
    raise KeyError(f"no {kind} named {name!r} in guild {guild!r}")


def walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every component, depth first (action rows, containers, sections, labels included)."""
    for comp in components:
        yield comp
        children = list(comp.get("components") or [])
        if isinstance(comp.get("component"), dict):
            children.append(comp["component"])
        if isinstance(comp.get("accessory"), dict):
            children.append(comp["accessory"])
        yield from walk_components(children)


@dataclass(eq=False, repr=False)
class Message:
    id: int
    channel_id: int
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    #: (filename, bytes) for every attachment, in order
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    author_id: int = 0
    guild_id: int | None = None
    #: set for messages made through an interaction (response or follow-up): the application id
    webhook_id: int | None = None
    #: the interaction this message answers (initial response, deferred response or follow-up)
    interaction_id: int | None = None
    deleted: bool = False
    type: int = 0
    tts: bool = False
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None
    edit_count: int = 0
    message_reference: dict[str, Any] | None = None
    poll: dict[str, Any] | None = None
    #: id of the thread started from this message, if any
    thread_id: int | None = None
    #: serialized attachment objects (id, filename, size, url, ...), parallel to ``attachments``
    attachment_objects: list[dict[str, Any]] = field(default_factory=list)
    #: emoji -> set of user ids
    reactions: dict[str, set[int]] = field(default_factory=dict)
    pinned: bool = False

    def __repr__(self) -> str:
        state = " deleted" if self.deleted else ""
        return (
            f"<Message id={self.id} channel={self.channel_id} flags={self.flags}{state} "
            f"text={self.text[:60]!r} buttons={[b['custom_id'] for b in self.buttons()]}>"
        )

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MessageFlag.EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True for a deferred ("is thinking...") response not yet edited."""
        return bool(self.flags & MessageFlag.LOADING)

    @property
    def components_v2(self) -> bool:
        return bool(self.flags & MessageFlag.IS_COMPONENTS_V2)

    def buttons(self) -> list[dict[str, Any]]:
        """All buttons (also inside containers and sections), flattened, in display order."""
        return [
            {
                "custom_id": c.get("custom_id"),
                "label": c.get("label"),
                "disabled": bool(c.get("disabled", False)),
                "style": c.get("style"),
                "url": c.get("url"),
                "emoji": c.get("emoji"),
            }
            for c in walk_components(self.components)
            if c.get("type") == 2
        ]

    def button(self, label_or_custom_id: str) -> dict[str, Any]:
        """The button whose label or custom_id is the given text (KeyError if none)."""
        for b in self.buttons():
            if label_or_custom_id in (b["label"], b["custom_id"]):
                return b
        raise KeyError(f"no button {label_or_custom_id!r} on message {self.id}: {self.buttons()}")

    def selects(self) -> list[dict[str, Any]]:
        """All select menus (component types 3, 5, 6, 7, 8), flattened."""
        return [c for c in walk_components(self.components) if c.get("type") in (3, 5, 6, 7, 8)]

    def component(self, custom_id: str) -> dict[str, Any] | None:
        for c in walk_components(self.components):
            if c.get("custom_id") == custom_id:
                return c
        return None

    @property
    def text(self) -> str:
        """Everything a user reads: content, embed texts, text displays (components v2)."""
        parts = [self.content or ""]
        for e in self.embeds:
            parts += [
                str(e.get("title") or ""),
                str(e.get("description") or ""),
                str((e.get("author") or {}).get("name") or ""),
                str((e.get("footer") or {}).get("text") or ""),
            ]
            for f in e.get("fields") or []:
                parts += [str(f.get("name") or ""), str(f.get("value") or "")]
        for c in walk_components(self.components):
            if c.get("type") == 10:
                parts.append(str(c.get("content") or ""))
        return "\n".join(p for p in parts if p)

    @property
    def mentioned_user_ids(self) -> list[int]:
        return [int(x) for x in re.findall(r"<@!?(\d+)>", self.content or "")]


@dataclass
class CallRecord:
    """One REST request the double received."""

    method: str
    path: str  # relative to /api/v10, e.g. "/channels/123/messages"
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes]]
    status: int
    at: float  # loop.time()


@dataclass
class FaultRule:
    method: str
    pattern: re.Pattern[str]
    status: int
    remaining: int
    retry_after: float = 0.05
    is_global: bool = False
    code: int = 0
    message: str | None = None
    #: the request takes effect, then the answer is lost: Discord has the message, the bot sees
    #: only the error (a 5xx after the write, a timeout)
    lose_reply: bool = False
    #: a 429's X-RateLimit-Reset-After when it differs from the body's retry_after (a
    #: sub-ratelimit: the bucket is free again sooner than the request may be retried)
    reset_after: float | None = None
    hits: int = 0


@dataclass(eq=False)
class InteractionRecord:
    """One interaction the double sent to the bot, and everything the bot answered to it."""

    id: int
    token: str
    type: int  # 2 command, 3 component, 4 autocomplete, 5 modal submit
    payload: dict[str, Any]
    user_id: int
    guild_id: int | None
    channel_id: int
    #: command name ("poll create"), component custom_id or modal custom_id
    name: str
    #: the message a component / modal was used on
    message: Message | None = None
    sent_at: float | None = None
    #: [shard_id, shard_count] of the session it was sent on (the shard that owns its guild)
    shard: list[int] | None = None
    responded_at: float | None = None
    response_type: int | None = None
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None
    #: refused answers: {"type", "status", "code", "message", "at"}
    rejected: list[dict[str, Any]] = field(default_factory=list)
    _response: dict[str, Any] | None = field(default=None, repr=False)
    _future: asyncio.Future[dict[str, Any]] | None = field(default=None, repr=False)
    _double: DiscordDouble | None = field(default=None, repr=False)

    @property
    def acknowledged(self) -> bool:
        return self._response is not None

    @property
    def ephemeral(self) -> bool:
        """True if the initial response (message or deferral) had the EPHEMERAL flag."""
        if self._response is None or self.response_type not in (4, 5):
            return False
        data = self._response.get("data") or {}
        return bool(int(data.get("flags") or 0) & MessageFlag.EPHEMERAL)

    @property
    def latency(self) -> float | None:
        if self.sent_at is None or self.responded_at is None:
            return None
        return self.responded_at - self.sent_at

    def _resolve(self, response: dict[str, Any]) -> None:
        self._response = response
        if self._future is not None and not self._future.done():
            self._future.set_result(response)

    async def response(self, timeout: float = 5.0) -> dict[str, Any]:
        """Wait for the accepted initial callback: {"type": int, "data": {...}}.

        Gives up early once the response deadline has passed (no answer can be accepted then)."""
        if self._response is not None:
            return self._response
        loop = asyncio.get_running_loop()
        if self._future is None:
            self._future = loop.create_future()
        wait = timeout
        deadline = self._double.response_deadline if self._double else None
        if deadline is not None and self.sent_at is not None:
            wait = min(timeout, max(0.0, self.sent_at + deadline + _DEADLINE_GRACE - loop.time()))
        try:
            return await asyncio.wait_for(asyncio.shield(self._future), wait)
        except TimeoutError:
            why = f"{timeout}s" if wait == timeout else f"the {deadline}s response deadline"
            raise AssertionError(
                f"no accepted initial response to interaction {self.name!r} (id {self.id}) "
                f"within {why}; refused answers: {self.rejected or 'none'}"
                + (self._double._recent_calls_text() if self._double else "")
            ) from None

    async def wait_followup(self, timeout: float = 5.0, index: int = 0) -> Message:
        """Wait until follow-up number ``index`` (0 = first) exists and return it."""
        assert self._double is not None
        await self._double.wait_until(
            lambda: len(self.followups) > index,
            timeout=timeout,
            what=f"follow-up #{index} to interaction {self.name!r} (id {self.id})",
        )
        return self.followups[index]

    async def wait_original(self, timeout: float = 5.0) -> Message:
        """Wait until the @original message exists and is no longer loading (deferred)."""
        assert self._double is not None
        await self._double.wait_until(
            lambda: self.original is not None and not self.original.loading,
            timeout=timeout,
            what=f"the @original response of interaction {self.name!r} (id {self.id})",
        )
        assert self.original is not None
        return self.original
