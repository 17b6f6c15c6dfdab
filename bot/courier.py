"""The one sender of the outbox (bot/outbox.py): claims a delivery, asks the kind's cog what to
send (a `Draft`), sends or edits it — once — and records the outcome.

Exactly once, for every kind alike:
- a message goes out with the delivery's nonce, so Discord answers a resend with the first one;
- a repeat attempt (the earlier one failed, or its run stopped) first looks through the
  channel's recent messages for the earlier attempt's (`LOOKBACK`): the nonce, or the kind's
  `marker`;
- one classification of what went wrong (`classify`): 5xx, 429, the network → tried again with
  the outbox's back-off; 403, 404, any other refusal → given up, with a reason for managers.

It runs as one scheduler job ("outbox", registered after the cogs' own jobs, so what they make
due in a pass goes out in the same pass), and inline for what a member waits for (`attempt`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import aiohttp
import discord

from bot.clock import Clock
from bot.errors import UserError
from bot.i18n import _, speaking
from bot.lanes import in_lanes
from bot.outbox import Delivery, Outbox, Sent, due_lanes
from bot.paced_http import pacing_of

log = logging.getLogger(__name__)

LOOKBACK = 50
#: teams whose deliveries the job sends side by side (each team's one after another)
LANES = 16
#: how long one pass of the job sends before the scheduler's other jobs get their turn
PASS_SECONDS = 10.0
THREAD_ALREADY_CREATED = 160004  # Discord's code: a thread was already made from this message
THREAD_ARCHIVE_MINUTES: Literal[10080] = 10080  # a week: open until the next prompt


@dataclass(frozen=True, slots=True)
class Thread:
    """The public thread made from a message; opened first if `thread_id` is not known yet."""

    channel_id: int
    message_id: int
    name: str
    thread_id: int | None = None


@dataclass(frozen=True, slots=True)
class Send:
    """A message to send, or `edit` (posted anew if someone deleted it)."""

    channel_id: int
    guild_id: int
    content: str | None = None
    embed: discord.Embed | None = None
    #: a plain view goes with `content` or `embed`; a layout (Components V2) stands alone
    view: discord.ui.View | discord.ui.LayoutView | None = None
    mentions: discord.AllowedMentions = field(default_factory=discord.AllowedMentions.none)
    edit: int | None = None
    #: recognises an earlier attempt's message (besides the nonce) when a repeat looks
    marker: Callable[[discord.Message], bool] | None = None
    #: the message goes into this thread (`channel_id` is then the thread's parent)
    in_thread: Thread | None = None
    #: once sent, open a public thread from the message with this name
    open_thread: str | None = None
    #: a new message replies to this message of the same channel (sent as a plain message if
    #: that one is gone); an edit leaves a message's reply as it is
    reply_to: int | None = None
    #: files (name, bytes) the message carries, e.g. charts a layout shows as
    #: `attachment://name`; an edit replaces the message's files with these
    files: tuple[tuple[str, bytes], ...] = ()

    def attached(self) -> list[discord.File]:
        """Fresh file objects for one request (discord.py reads each once)."""
        return [discord.File(io.BytesIO(data), filename=name) for name, data in self.files]


@dataclass(frozen=True, slots=True)
class Delete:
    channel_id: int
    message_id: int


Draft = Send | Delete
#: What a kind's cog sends for a delivery, or None when there is nothing to send any more.
Drafter = Callable[[Delivery], Awaitable[Draft | None]]

FailureKind = Literal["transient", "forbidden", "gone", "refused"]


@dataclass(frozen=True, slots=True)
class Failure:
    kind: FailureKind
    reason: str
    #: Discord's status and text ("0: …" for the network)
    detail: str
    #: not Discord's doing nor the network's: a bug, logged with its traceback
    unexpected: bool = False

    @property
    def retry(self) -> bool:
        return self.kind == "transient"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an attempt went: delivered (`sent`), failed (`failure`; retried at `retry_at` unless
    given up), or not made (`busy`: not due, or another attempt holds it)."""

    sent: Sent | None = None
    edited: bool = False
    url: str | None = None
    failure: Failure | None = None
    retry_at: datetime | None = None

    @property
    def busy(self) -> bool:
        return self.sent is None and self.failure is None


def classify(exc: BaseException, channel_id: int) -> Failure:
    """The one reading of a failed request: whether trying again may help, and what to tell."""
    status = exc.status if isinstance(exc, discord.HTTPException) else 0
    text = exc.text if isinstance(exc, discord.HTTPException) else type(exc).__name__
    detail = f"{status}: {text or 'no reason given'}"
    if isinstance(exc, UserError):
        return Failure("refused", str(exc), detail)
    if isinstance(exc, discord.Forbidden):
        reason = _(
            "Discord refused it in <#{channel}>: Breakroom lacks a permission there ({why}). Fix "
            "the channel's permissions, or choose another channel with `/team edit`.",
            channel=channel_id,
            why=exc.text or "Missing Permissions",
        )
        return Failure("forbidden", reason, detail)
    if isinstance(exc, discord.NotFound):
        reason = _(
            "<#{channel}> (or the message) no longer exists. Choose another channel with "
            "`/team edit`.",
            channel=channel_id,
        )
        return Failure("gone", reason, detail)
    if isinstance(exc, discord.DiscordServerError) or status == 429:
        return Failure("transient", _("Discord had a problem ({status}).", status=status), detail)
    if isinstance(exc, discord.HTTPException):
        why = exc.text or _("no reason given")
        reason = _("Discord refused it ({status}: {why}).", status=status, why=why)
        return Failure("refused", reason, detail)
    if isinstance(exc, discord.RateLimited | aiohttp.ClientError | OSError | TimeoutError):
        reason = _("Discord could not be reached ({why}).", why=text)
        return Failure("transient", reason, detail)
    reason = _("An unexpected error ({why}).", why=text)
    return Failure("transient", reason, detail, unexpected=True)


def has_custom_id(message: discord.Message, custom_id: str) -> bool:
    """Does the message carry a component with this custom id (a button of ours)?"""
    return any(getattr(c, "custom_id", None) == custom_id for c in walk(message.components))


def walk(components: Sequence[Any]) -> Iterator[Any]:
    """Every component of a message, nested ones too (rows, containers, sections' accessories)."""
    for component in components:
        yield component
        yield from walk(getattr(component, "children", ()))
        accessory = getattr(component, "accessory", None)
        if accessory is not None:
            yield accessory


def _attachments(draft: Send) -> dict[str, Any]:
    """An edit's files: the draft's replace the message's; without any, its own are kept."""
    return {"attachments": draft.attached()} if draft.files else {}


class Courier:
    def __init__(
        self, client: discord.Client, outbox: Outbox, clock: Clock, wake: Callable[[], None]
    ) -> None:
        self.client = client
        self.outbox = outbox
        self.clock = clock
        self.wake = wake
        self._drafters: dict[str, Drafter] = {}
        #: a team's language (bot/i18n.py): what Breakroom records by itself, when nobody is
        #: waiting for it (a trouble managers read later), is written in it
        self.team_language: Callable[[int], Awaitable[str]] | None = None
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        #: the bot's rate limits (bot/pacing.py): its edits of a channel's messages take turns
        self.pacing = pacing_of(client.http.http_trace)

    def handle(self, kind: str, drafter: Drafter) -> None:
        self._drafters[kind] = drafter

    def forget(self, kind: str) -> None:
        self._drafters.pop(kind, None)

    async def run_due(self, now: datetime) -> datetime | None:
        """The scheduler job: one attempt at each due delivery, each team's in order, teams side
        by side (`LANES`); one failing stops no other. What falls due meanwhile goes too, for up
        to `PASS_SECONDS`; then the other jobs have their pass and this one goes on at once."""
        loop = asyncio.get_running_loop()
        ends = loop.time() + PASS_SECONDS
        tried: set[int] = set()
        while not (late := loop.time() >= ends):
            lanes = [
                fresh
                for lane in await due_lanes(self.outbox, self.clock.now())
                if (fresh := [d for d in lane if d not in tried])
            ]
            if not lanes:
                break
            tried.update(d for lane in lanes for d in lane)
            await in_lanes(lanes, self._attempt_due, LANES, "delivery")
        due = await self.outbox.next_due()
        # Never "due in the past": what is left due is for the next pass, not a busy loop —
        # unless this pass ran out of time, when the next one comes right after the other jobs.
        floor = self.clock.now() + (timedelta(0) if late else timedelta(seconds=1))
        return None if due is None else max(due, floor)

    async def _attempt_due(self, delivery_id: int) -> Outcome:
        return await self.attempt(delivery_id, wait=False)

    async def attempt(self, delivery_id: int, *, early: bool = False, wait: bool = True) -> Outcome:
        """Claim and make one attempt now, if it is due (`early`: even before; see
        `Outbox.claim`). One attempt at a time per delivery in this process: a member's second
        submit waits for the first attempt, then edits; the job (`wait=False`) passes over a
        delivery an attempt is busy with (Discord may hold it minutes) to the ones behind it."""
        lock = self._locks.get(delivery_id)
        if lock is None:
            lock = self._locks[delivery_id] = asyncio.Lock()
        if not wait and lock.locked():
            return Outcome()
        async with lock:
            delivery = await self.outbox.claim(delivery_id, early=early)
            if delivery is None:
                return Outcome()
            drafter = self._drafters.get(delivery.kind)
            if drafter is None:  # its cog isn't loaded: leave it due
                await self.outbox.released(delivery)
                return Outcome()
            if early or delivery.team_id is None or self.team_language is None:
                return await self._deliver(delivery, drafter)  # in the waiting member's words
            with speaking(await self.team_language(delivery.team_id)):
                return await self._deliver(delivery, drafter)

    async def _deliver(self, delivery: Delivery, drafter: Drafter) -> Outcome:
        channel_id = 0
        sending = False
        try:
            draft = await drafter(delivery)
            if draft is None:
                await self.outbox.drop(delivery)
                return Outcome()
            channel_id = draft.channel_id
            sending = True
            if isinstance(draft, Delete):
                sent, edited, url = await self._delete(draft), False, None
            else:
                sent, edited, url = await self._send(delivery, draft)
        except asyncio.CancelledError:
            if not sending:  # nothing went out: due again at once for the next run
                await asyncio.shield(self.outbox.released(delivery))
            raise
        except Exception as exc:
            failure = classify(exc, channel_id)
            if failure.unexpected:
                log.exception("delivery %s (%s) failed", delivery.id, delivery.kind)
            retry_at = await self.outbox.failed(delivery, failure.reason, retry=failure.retry)
            log.warning(
                "%s %s: %s; %s",
                delivery.kind,
                delivery.subject or delivery.id,
                failure.detail,
                "given up" if retry_at is None else f"trying again at {retry_at:%H:%M:%S}",
            )
            if retry_at is not None:
                self.wake()
            return Outcome(failure=failure, retry_at=retry_at)
        if not await self.outbox.delivered(delivery, sent) and sent.message_id is not None:
            # Its subject was deleted while this attempt ran (/forget-me): so goes the message.
            with contextlib.suppress(discord.HTTPException):
                await self._delete(Delete(sent.channel_id, sent.message_id))
            return Outcome(sent=sent)
        return Outcome(sent=sent, edited=edited, url=url)

    async def delete_now(self, channel_id: int, message_id: int) -> bool:
        """A deletion nobody retries (the member is told what is left): True once it is gone,
        also when it already was."""
        try:
            await self._delete(Delete(channel_id, message_id))
        except discord.HTTPException as error:
            log.warning("could not delete message %s (%s)", message_id, error.status)
            return False
        return True

    async def _delete(self, draft: Delete) -> Sent:
        with contextlib.suppress(discord.NotFound):  # already gone: just as good
            async with self.pacing.edits.turn(draft.channel_id):
                await self.client.http.delete_message(draft.channel_id, draft.message_id)
        return Sent(None, draft.channel_id)

    async def _send(self, delivery: Delivery, draft: Send) -> tuple[Sent, bool, str]:
        thread_id = None
        channel_id = draft.channel_id
        kind = discord.ChannelType.text
        if draft.in_thread is not None:
            thread_id = channel_id = await self.open_thread(draft.in_thread, draft.guild_id)
            kind = discord.ChannelType.public_thread
        target = self.client.get_partial_messageable(channel_id, guild_id=draft.guild_id, type=kind)
        fields: dict[str, Any] = {
            "content": draft.content,
            "embed": draft.embed,
            "allowed_mentions": draft.mentions,
        }
        if draft.view is not None:
            fields["view"] = draft.view
        if draft.edit is not None:
            try:
                edit = target.get_partial_message(draft.edit)
                async with self.pacing.edits.turn(channel_id):
                    message = await edit.edit(**fields, **_attachments(draft))
                return Sent(message.id, channel_id, thread_id), True, message.jump_url
            except discord.NotFound:
                pass  # someone deleted it: post it again
        earlier = await self._earlier(target, delivery, draft) if delivery.is_repeat else None
        if earlier is None:
            if draft.reply_to is not None:
                fields["reference"] = discord.MessageReference(
                    message_id=draft.reply_to, channel_id=channel_id, fail_if_not_exists=False
                )
            new = {**fields, "files": draft.attached()} if draft.files else fields
            message = await target.send(**new, nonce=delivery.nonce)
        else:  # an earlier attempt's message, maybe of an older version
            async with self.pacing.edits.turn(channel_id):
                message = await earlier.edit(**fields, **_attachments(draft))
        if draft.open_thread is not None:
            thread = Thread(channel_id, message.id, draft.open_thread)
            try:
                thread_id = await self.open_thread(thread, draft.guild_id)
            except discord.HTTPException as exc:  # the message counts; the next use tries again
                log.warning("could not open a thread from message %s: %s", message.id, exc)
        return Sent(message.id, channel_id, thread_id), False, message.jump_url

    async def open_thread(self, thread: Thread, guild_id: int) -> int:
        """The thread's id, opening it from its message if need be."""
        if thread.thread_id is not None:
            return thread.thread_id
        channel = self.client.get_partial_messageable(
            thread.channel_id, guild_id=guild_id, type=discord.ChannelType.text
        )
        try:
            opened = await channel.get_partial_message(thread.message_id).create_thread(
                name=thread.name[:100], auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
            return opened.id
        except discord.HTTPException as exc:
            if exc.code != THREAD_ALREADY_CREATED:
                raise
            return thread.message_id  # a thread made from a message shares its id

    async def _earlier(
        self, target: discord.PartialMessageable, delivery: Delivery, draft: Send
    ) -> discord.Message | None:
        """The message an earlier attempt sent without recording it, if it did: ours, carrying
        the delivery's nonce or recognised by the kind's marker."""
        me = self.client.user
        if me is None:
            return None
        try:
            async for message in target.history(limit=LOOKBACK):
                if message.author.id != me.id:
                    continue
                if message.nonce is not None and str(message.nonce) == delivery.nonce:
                    return message
                if draft.marker is not None and draft.marker(message):
                    return message
        except discord.Forbidden as exc:  # can't read the channel: the nonce still guards it
            log.warning("could not look for an earlier attempt at %s: %s", delivery.id, exc)
        return None
