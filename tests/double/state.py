"""The simulated Discord state: guilds, channels, roles, members, messages, permissions.

DiscordDouble (double.py) adds the server, the driver API (slash, click, ...) and the waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from . import builders, payloads
from .builders import CommandError
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
    SnowflakeGen,
    iso_now,
)

if TYPE_CHECKING:
    from .gateway import Gateway

#: message flags a bot may set when creating a message
_CREATE_FLAGS = MessageFlag.EPHEMERAL | (1 << 2) | (1 << 12) | MessageFlag.IS_COMPONENTS_V2
#: message flags a bot may change when editing
_EDIT_FLAGS = (1 << 2) | MessageFlag.IS_COMPONENTS_V2


class DiscordState:
    """Everything the double knows; mutations dispatch gateway events and wake waiters."""

    gateway: Gateway

    def __init__(
        self,
        *,
        token: str = "test-token",
        application_id: int | None = None,
        bot_name: str = "Breakroom",
        response_deadline: float = 3.0,
        host: str = "127.0.0.1",
    ) -> None:
        self._snowflake = SnowflakeGen()
        self.token = token
        self.application_id: int = application_id or self._snowflake()
        self.bot_user_id: int = self.application_id
        self.owner_user_id: int = self._snowflake()
        self.bot_name = bot_name
        self.host = host
        self.port = 0
        #: seconds; an initial interaction response arriving later is refused (404, code 10062)
        self.response_deadline = response_deadline
        self.calls: list[CallRecord] = []
        self.unknown_routes: list[tuple[str, str]] = []
        self.sync_count = 0
        #: the commands of the latest PUT (global or guild), as echoed (with ids)
        self.synced_commands: list[dict[str, Any]] = []
        self._guilds: dict[int, Guild] = {}
        self._channels: dict[int, Channel] = {}
        self._roles: dict[int, Role] = {}
        self._members: dict[tuple[int, int], Member] = {}
        self._users: dict[int, Member] = {}
        self._dm_channels: dict[int, Channel] = {}
        self._messages: dict[int, Message] = {}
        self._channel_messages: dict[int, dict[int, Message]] = {}
        self._interactions: dict[int, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self._modals: dict[str, tuple[dict[str, Any], InteractionRecord]] = {}
        self._attachments: dict[int, bytes] = {}
        self._nonces: dict[tuple[int, str], Message] = {}
        self._global_commands: dict[tuple[int, str], dict[str, Any]] = {}
        self._guild_commands: dict[int, dict[tuple[int, str], dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self._faults: list[FaultRule] = []
        self._waiters: list[Waiter] = []
        self._check_scheduled = False
        self._special_roles: dict[tuple[int, str], Role] = {}

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    # ============================================================================ world building
    def add_guild(
        self,
        name: str,
        *,
        everyone_permissions: int = Perm.EVERYONE_DEFAULT,
        bot_permissions: int = Perm.BOT_DEFAULT,
    ) -> Guild:
        gid = self._snowflake.for_guild()  # spread over the shards, as Discord's ids are
        guild = Guild(id=gid, name=name, owner_id=self.owner_user_id)
        everyone = Role(
            id=gid, name="@everyone", guild_id=gid, permissions=everyone_permissions, position=0
        )
        bot_role = Role(
            id=self._snowflake(),
            name=self.bot_name,
            guild_id=gid,
            permissions=bot_permissions,
            position=1,
            managed=True,
            bot_id=self.bot_user_id,
        )
        guild.roles = [everyone, bot_role]
        guild.bot_role_id = bot_role.id
        self._guilds[gid] = guild
        self._roles[everyone.id] = everyone
        self._roles[bot_role.id] = bot_role
        self.gateway.dispatch("GUILD_CREATE", payloads.guild_payload(self, guild), guild_id=gid)
        self._notify()
        return guild

    def add_channel(
        self,
        guild: Guild,
        name: str,
        *,
        bot_can_send: bool = True,
        type: int = ChannelType.TEXT,
        topic: str | None = None,
        category: Channel | None = None,
        overwrites: Iterable[tuple[Role | Member, int, int]] = (),
    ) -> Channel:
        """A guild channel. ``overwrites``: (role or member, allow bits, deny bits)."""
        ch = Channel(
            id=self._snowflake(),
            name=name,
            type=type,
            guild_id=guild.id,
            topic=topic,
            parent_id=category.id if category else None,
            position=len(guild.channels),
        )
        for target, allow, deny in overwrites:
            ch.overwrites.append(
                {
                    "id": target.id,
                    "type": 0 if isinstance(target, Role) else 1,
                    "allow": allow,
                    "deny": deny,
                }
            )
        if not bot_can_send:
            ch.overwrites.append(
                {
                    "id": self.bot_user_id,
                    "type": 1,
                    "allow": 0,
                    "deny": Perm.SEND_MESSAGES | Perm.CREATE_PUBLIC_THREADS,
                }
            )
        guild.channels.append(ch)
        self._channels[ch.id] = ch
        self.gateway.dispatch(
            "CHANNEL_CREATE", payloads.channel_payload(self, ch), Intent.GUILDS, guild_id=guild.id
        )
        self._notify()
        return ch

    def add_role(
        self,
        guild: Guild,
        name: str,
        permissions: int = 0,
        *,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
    ) -> Role:
        role = Role(
            id=self._snowflake(),
            name=name,
            guild_id=guild.id,
            permissions=permissions,
            position=len(guild.roles),
            color=color,
            hoist=hoist,
            mentionable=mentionable,
        )
        guild.roles.append(role)
        self._roles[role.id] = role
        self.gateway.dispatch(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild.id), "role": payloads.role_payload(role)},
            Intent.GUILDS,
            guild_id=guild.id,
        )
        self._notify()
        return role

    def add_member(
        self,
        guild: Guild,
        name: str,
        *,
        manager: bool = False,
        admin: bool = False,
        roles: Iterable[Role] = (),
        nick: str | None = None,
        display_name: str | None = None,
        user_id: int | None = None,
        bot: bool = False,
    ) -> Member:
        """A member of ``guild``.

        manager=True adds a "Managers" role with MANAGE_GUILD; admin=True an "Admins" role with
        ADMINISTRATOR.

        ``user_id`` re-uses a user already added to another guild (same id and name)."""
        uid = user_id or self._snowflake()
        member = Member(
            id=uid,
            name=name,
            guild_id=guild.id,
            roles=list(roles),
            nick=nick,
            global_name=display_name,
            bot=bot,
        )
        if manager:
            member.roles.append(self._special_role(guild, "Managers", Perm.MANAGE_GUILD))
        if admin:
            member.roles.append(self._special_role(guild, "Admins", Perm.ADMINISTRATOR))
        guild.members.append(member)
        self._members[(guild.id, uid)] = member
        self._users.setdefault(uid, member)
        data = {**payloads.member_payload(self, member), "guild_id": str(guild.id)}
        self.gateway.dispatch("GUILD_MEMBER_ADD", data, Intent.GUILD_MEMBERS, guild_id=guild.id)
        self._notify()
        return member

    def set_roles(self, member: Member, roles: Iterable[Role]) -> None:
        """Replace a member's roles (sends GUILD_MEMBER_UPDATE)."""
        member.roles = list(roles)
        if member.guild_id is not None:
            data = {**payloads.member_payload(self, member), "guild_id": str(member.guild_id)}
            self.gateway.dispatch(
                "GUILD_MEMBER_UPDATE", data, Intent.GUILD_MEMBERS, guild_id=member.guild_id
            )
        self._notify()

    def _special_role(self, guild: Guild, name: str, permissions: int) -> Role:
        key = (guild.id, name)
        if key not in self._special_roles:
            self._special_roles[key] = self.add_role(guild, name, permissions)
        return self._special_roles[key]

    def remove_guild(self, guild: Guild) -> None:
        """The bot was removed from the guild: GUILD_DELETE; its channels answer 404 afterwards."""
        guild.removed = True
        self.gateway.dispatch("GUILD_DELETE", {"id": str(guild.id)}, guild_id=guild.id)
        self._notify()

    def delete_channel(self, channel: Channel) -> None:
        """CHANNEL_DELETE (THREAD_DELETE for a thread); later REST calls to it get 404 / 10003."""
        self._delete_channel(channel)
        self._notify()

    def _delete_channel(self, ch: Channel) -> None:
        if ch.deleted:
            return
        ch.deleted = True
        guild = self._guilds.get(ch.guild_id or 0)
        if ch.is_thread:
            data = {
                "id": str(ch.id),
                "guild_id": str(ch.guild_id),
                "parent_id": str(ch.parent_id),
                "type": ch.type,
            }
            self.gateway.dispatch("THREAD_DELETE", data, Intent.GUILDS, guild_id=ch.guild_id)
            return
        data = payloads.channel_payload(self, ch)
        self.gateway.dispatch("CHANNEL_DELETE", data, Intent.GUILDS, guild_id=ch.guild_id)
        for thread in guild.threads if guild else []:
            if thread.parent_id == ch.id:
                thread.deleted = True

    def dm_channel(self, user: Member) -> Channel:
        """The DM channel between the bot and ``user`` (created on first use)."""
        return builders.dm_channel_for(self, user)

    async def say(self, member: Member, channel: Channel, content: str, **extra: Any) -> Message:
        """A user posts a message (MESSAGE_CREATE is dispatched if the bot has the intent)."""
        return self._create_message(channel, {"content": content, **extra}, {}, author_id=member.id)

    def bot_message(
        self,
        channel: Channel,
        *,
        content: str = "",
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
    ) -> Message:
        """A message by the bot that this run of it did not send: what an earlier version left
        in a channel, or a copy of one of its posts in its DM with a user (``dm_channel(user)``).
        For clicking buttons whose custom_id the bot would not make now, or clicking from a DM.
        MESSAGE_CREATE is dispatched as for any message (the bot gets it with message intents)."""
        data = {"content": content, "embeds": embeds or [], "components": components or []}
        return self._create_message(channel, data, {}, author_id=self.bot_user_id)

    def delete_message(self, message: Message | int) -> None:
        """Someone (a moderator) deletes a message: MESSAGE_DELETE; later REST calls get 404."""
        self._delete_message(self._message_obj(message))

    # ============================================================================ reading
    def messages(self, channel: Channel | int, *, include_ephemeral: bool = False) -> list[Message]:
        """Messages currently in a channel or thread, oldest first (deleted ones removed).

        Ephemeral messages are left out unless ``include_ephemeral`` (like Discord's channel view);
        read them through the InteractionRecord (``ix.original``, ``ix.followups``)."""
        msgs = self._channel_messages.get(_id(channel), {}).values()
        return [m for m in msgs if include_ephemeral or not m.ephemeral]

    def message(self, message_id: int) -> Message:
        return self._messages[message_id]

    def threads(self, channel: Channel | int) -> list[Channel]:
        cid = _id(channel)
        return [
            c
            for c in self._channels.values()
            if c.parent_id == cid and c.is_thread and not c.deleted
        ]

    def edits(self, message: Message | int) -> int:
        """How many times a message was edited."""
        return self._message_obj(message).edit_count

    # ============================================================================ internals
    def _notify(self) -> None:
        """Something changed: re-check waiting predicates (once per loop iteration)."""
        if self._check_scheduled or not self._waiters:
            return
        self._check_scheduled = True
        asyncio.get_running_loop().call_soon(self._run_checks)

    def _run_checks(self) -> None:
        self._check_scheduled = False
        for waiter in list(self._waiters):
            if not waiter.future.done():
                waiter.check()

    def _recent_calls_text(self, n: int = 12) -> str:
        lines = [f"  {c.method} {c.path} -> {c.status}" for c in self.calls[-n:]]
        text = "\nrecent REST calls:\n" + ("\n".join(lines) if lines else "  (none)")
        if self.unknown_routes:
            text += f"\nunknown routes: {self.unknown_routes[-5:]}"
        sessions = [s for s in self.gateway.sessions.values() if s.valid]
        state = (
            ", ".join(
                f"shard {s.shard} ready={s.ready} connected={s.conn is not None}" for s in sessions
            )
            or "no session"
        )
        counts = f"identifies={self.gateway.identify_count}, resumes={self.gateway.resume_count}"
        return f"{text}\ngateway: {state}, {counts}"

    def _guild_of(self, member: Member) -> Guild:
        guild = self._guilds.get(member.guild_id or 0)
        if guild is None:
            raise CommandError(f"{member.name} is not a guild member (use slash_dm for DMs)")
        if guild.removed:
            raise CommandError(f"the bot was removed from guild {guild.name!r}")
        return guild

    def _default_channel(self, guild: Guild) -> Channel:
        for ch in guild.channels:
            if ch.type in (ChannelType.TEXT, ChannelType.NEWS) and not ch.deleted:
                return ch
        raise CommandError(f"guild {guild.name!r} has no text channel; add one or pass channel=")

    def _message_obj(self, message: Message | int) -> Message:
        msg = self._messages.get(_id(message))
        if msg is None or msg.deleted:
            raise CommandError(f"message {_id(message)} does not exist (or was deleted)")
        return msg

    def _new_attachment(self, value: Any) -> dict[str, Any]:
        """A file for an attachment option: (filename, bytes) or {"filename", "content"}."""
        if isinstance(value, dict):
            filename, content = value["filename"], value["content"]
        else:
            filename, content = value
        aid = self._snowflake()
        self._attachments[aid] = bytes(content)
        return payloads.attachment_payload(self, aid, filename, bytes(content))

    def permissions_for(self, user_id: int, channel: Channel) -> int:
        """A user's (or the bot's) permissions in a channel, overwrites applied.

        Threads use their parent's overwrites."""
        if channel.type == ChannelType.DM:
            return (
                Perm.VIEW_CHANNEL
                | Perm.SEND_MESSAGES
                | Perm.READ_MESSAGE_HISTORY
                | Perm.EMBED_LINKS
                | Perm.ATTACH_FILES
                | Perm.ADD_REACTIONS
                | Perm.USE_APPLICATION_COMMANDS
            )
        guild = self._guilds.get(channel.guild_id or 0)
        if guild is None:
            return 0
        if user_id == guild.owner_id:
            return Perm.ALL
        if user_id == self.bot_user_id:
            role_ids = [guild.bot_role_id]
        else:
            member = self._members.get((guild.id, user_id))
            role_ids = [r.id for r in member.roles] if member else []
        perms = guild.everyone.permissions
        for rid in role_ids:
            role = self._roles.get(rid)
            perms |= role.permissions if role else 0
        if perms & Perm.ADMINISTRATOR:
            return Perm.ALL
        base_channel = self._channels.get(channel.parent_id or 0) if channel.is_thread else channel
        overwrites = {o["id"]: o for o in (base_channel or channel).overwrites}
        if guild.id in overwrites:
            perms = (perms & ~overwrites[guild.id]["deny"]) | overwrites[guild.id]["allow"]
        allow = deny = 0
        for rid in role_ids:
            if rid in overwrites:
                allow |= overwrites[rid]["allow"]
                deny |= overwrites[rid]["deny"]
        perms = (perms & ~deny) | allow
        if user_id in overwrites:
            perms = (perms & ~overwrites[user_id]["deny"]) | overwrites[user_id]["allow"]
        return perms if perms & Perm.VIEW_CHANNEL else 0

    # ----------------------------------------------------------------------------- messages
    def _create_message(
        self,
        channel: Channel,
        data: dict[str, Any],
        files: dict[int, tuple[str, bytes]],
        *,
        author_id: int,
        interaction: InteractionRecord | None = None,
        extra_flags: int = 0,
        msg_type: int | None = None,
        message_id: int | None = None,
    ) -> Message:
        msg = Message(
            id=message_id or self._snowflake(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=author_id,
        )
        msg.flags = (int(data.get("flags") or 0) & _CREATE_FLAGS) | extra_flags
        self._apply(msg, data, files, creating=True)
        msg.tts = bool(data.get("tts", False))
        if isinstance(data.get("poll"), dict):
            msg.poll = data["poll"]
        if isinstance(data.get("message_reference"), dict):
            msg.message_reference = data["message_reference"]
            msg.type = 19
        if interaction is not None:
            msg.webhook_id = self.application_id
            msg.interaction_id = interaction.id
        if msg_type is not None:
            msg.type = msg_type
        self._messages[msg.id] = msg
        self._channel_messages.setdefault(channel.id, {})[msg.id] = msg
        if channel.is_thread and channel.archived and not channel.locked:
            channel.archived = False
        self._dispatch_message("MESSAGE_CREATE", msg)
        self._notify()
        return msg

    def _edit_message(
        self, msg: Message, data: dict[str, Any], files: dict[int, tuple[str, bytes]]
    ) -> None:
        if "flags" in data and data["flags"] is not None:
            msg.flags = (msg.flags & ~_EDIT_FLAGS) | (int(data["flags"]) & _EDIT_FLAGS)
        msg.flags &= ~MessageFlag.LOADING
        self._apply(msg, data, files, creating=False)
        msg.edit_count += 1
        msg.edited_timestamp = iso_now()
        self._dispatch_message("MESSAGE_UPDATE", msg)
        self._notify()

    def _delete_message(self, msg: Message) -> None:
        msg.deleted = True
        self._channel_messages.get(msg.channel_id, {}).pop(msg.id, None)
        if not msg.ephemeral:
            data = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
            self.gateway.dispatch(
                "MESSAGE_DELETE",
                data,
                Intent.GUILD_MESSAGES if msg.guild_id else Intent.DIRECT_MESSAGES,
                guild_id=msg.guild_id,
            )
        self._notify()

    def _apply(
        self,
        msg: Message,
        data: dict[str, Any],
        files: dict[int, tuple[str, bytes]],
        *,
        creating: bool,
    ) -> None:
        if "content" in data:
            msg.content = str(data["content"] or "")
        if "embeds" in data:
            msg.embeds = list(data["embeds"] or [])
        if "components" in data:
            msg.components = list(data["components"] or [])
        if "allowed_mentions" in data:
            msg.allowed_mentions = data["allowed_mentions"]
        specs = data.get("attachments")
        if specs is None and not files:
            return
        if specs is None:
            specs = (
                [{"id": i} for i in sorted(files)]
                if creating
                else [{"id": a["id"]} for a in msg.attachment_objects]
                + [{"id": i} for i in sorted(files)]
            )
        old = {
            a["id"]: (a, raw)
            for a, (_, raw) in zip(msg.attachment_objects, msg.attachments, strict=False)
        }
        objects: list[dict[str, Any]] = []
        raws: list[tuple[str, bytes]] = []
        for spec in specs:
            sid = str(spec.get("id"))
            if sid in old:
                obj, raw = old[sid]
            elif sid.isdigit() and int(sid) in files:
                filename, raw = files[int(sid)]
                aid = self._snowflake()
                self._attachments[aid] = raw
                obj = payloads.attachment_payload(
                    self, aid, spec.get("filename") or filename, raw, spec.get("description")
                )
            else:
                continue
            objects.append(obj)
            raws.append((obj["filename"], raw))
        msg.attachment_objects, msg.attachments = objects, raws

    def _dispatch_message(self, event: str, msg: Message) -> None:
        """MESSAGE_CREATE/UPDATE to the sessions of the message's shard (shard 0 for a DM);
        each gets the content only if it asked for MESSAGE_CONTENT (or is concerned)."""
        if msg.ephemeral or (msg.loading and event == "MESSAGE_CREATE"):
            return
        intent = Intent.GUILD_MESSAGES if msg.guild_id else Intent.DIRECT_MESSAGES
        sessions = self.gateway.targets(msg.guild_id, intent)
        if not sessions:
            return
        data = payloads.message_payload(self, msg, for_gateway=True)
        mentioned = self.bot_user_id in msg.mentioned_user_ids
        concerned = msg.author_id == self.bot_user_id or not msg.guild_id or mentioned
        hidden = {**data, "content": "", "embeds": [], "attachments": [], "components": []}
        for session in sessions:
            sees = concerned or session.intents & Intent.MESSAGE_CONTENT
            session.dispatch(event, data if sees else hidden)


class Waiter:
    """A predicate waited on. Lookup/attribute errors count as "not yet" (``dd.messages(ch)[-1]``
    before the message exists); other exceptions are raised to the waiting test."""

    def __init__(self, predicate: Callable[[], Any]) -> None:
        self.predicate = predicate
        self.future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.last_error: BaseException | None = None

    def check(self) -> Any:
        try:
            value = self.predicate()
        except (LookupError, AttributeError) as exc:
            self.last_error = exc
            return None
        except Exception as exc:
            if not self.future.done():
                self.future.set_exception(exc)
            return None
        if value and not self.future.done():
            self.future.set_result(value)
        return value


def _id(obj: Any) -> int:
    return int(obj if isinstance(obj, int) else obj.id)
