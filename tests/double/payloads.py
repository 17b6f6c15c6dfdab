"""Turn the double's models into the JSON Discord sends (REST bodies, gateway events)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import Channel, ChannelType, Guild, Member, Message, Role

if TYPE_CHECKING:
    from .state import DiscordState


def user_payload(dd: DiscordState, user_id: int) -> dict[str, Any]:
    if user_id == dd.bot_user_id:
        return {
            "id": str(dd.bot_user_id),
            "username": dd.bot_name,
            "global_name": None,
            "discriminator": "0",
            "avatar": None,
            "bot": True,
            "public_flags": 0,
            "flags": 0,
        }
    member = dd._users.get(user_id)
    name = member.name if member else f"user{user_id}"
    return {
        "id": str(user_id),
        "username": name,
        "global_name": member.global_name if member else None,
        "discriminator": "0",
        "avatar": None,
        "public_flags": 0,
        **({"bot": True} if member and member.bot else {}),
    }


def bot_user_full(dd: DiscordState) -> dict[str, Any]:
    return {
        **user_payload(dd, dd.bot_user_id),
        "verified": True,
        "mfa_enabled": False,
        "locale": "en-US",
    }


def role_payload(role: Role) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(role.id),
        "name": role.name,
        "color": role.color,
        "colors": {"primary_color": role.color, "secondary_color": None, "tertiary_color": None},
        "hoist": role.hoist,
        "icon": None,
        "unicode_emoji": None,
        "position": role.position,
        "permissions": str(role.permissions),
        "managed": role.managed,
        "mentionable": role.mentionable,
        "flags": 0,
    }
    if role.bot_id is not None:
        data["tags"] = {"bot_id": str(role.bot_id)}
    return data


def member_payload(dd: DiscordState, member: Member, *, with_user: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "roles": [str(r.id) for r in member.roles],
        "nick": member.nick,
        "avatar": None,
        "banner": None,
        "joined_at": member.joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = user_payload(dd, member.id)
    return data


def bot_member_payload(dd: DiscordState, guild: Guild, *, with_user: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "roles": [str(guild.bot_role_id)],
        "nick": None,
        "avatar": None,
        "joined_at": guild.joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
    }
    if with_user:
        data["user"] = user_payload(dd, dd.bot_user_id)
    return data


def overwrite_payload(ow: dict[str, int]) -> dict[str, Any]:
    return {
        "id": str(ow["id"]),
        "type": ow["type"],
        "allow": str(ow["allow"]),
        "deny": str(ow["deny"]),
    }


def channel_payload(dd: DiscordState, ch: Channel) -> dict[str, Any]:
    if ch.type == ChannelType.DM:
        return {
            "id": str(ch.id),
            "type": 1,
            "last_message_id": None,
            "flags": 0,
            "recipients": [user_payload(dd, ch.recipient_id or 0)],
        }
    data: dict[str, Any] = {
        "id": str(ch.id),
        "type": ch.type,
        "guild_id": str(ch.guild_id),
        "name": ch.name,
        "parent_id": str(ch.parent_id) if ch.parent_id else None,
        "position": ch.position,
        "flags": 0,
        "rate_limit_per_user": ch.rate_limit_per_user,
        "last_message_id": None,
    }
    if ch.is_thread:
        count = len(dd._channel_messages.get(ch.id, {}))
        data.update(
            owner_id=str(ch.owner_id or dd.bot_user_id),
            message_count=count,
            total_message_sent=count,
            member_count=1,
            thread_metadata={
                "archived": ch.archived,
                "auto_archive_duration": ch.auto_archive_duration,
                "archive_timestamp": ch.created_at,
                "locked": ch.locked,
                "invitable": ch.invitable,
                "create_timestamp": ch.created_at,
            },
        )
    else:
        data.update(
            topic=ch.topic,
            nsfw=False,
            permission_overwrites=[overwrite_payload(o) for o in ch.overwrites],
            default_auto_archive_duration=1440,
        )
    return data


def thread_member_payload(dd: DiscordState, thread: Channel) -> dict[str, Any]:
    return {
        "id": str(thread.id),
        "user_id": str(dd.bot_user_id),
        "join_timestamp": thread.created_at,
        "flags": 0,
    }


def guild_payload(dd: DiscordState, guild: Guild) -> dict[str, Any]:
    """The full GUILD_CREATE body (members: only the bot, like Discord without presences)."""
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "nsfw": False,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "en-US",
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "vanity_url_code": None,
        "application_id": None,
        "max_members": 500000,
        "features": [],
        "emojis": [],
        "stickers": [],
        "roles": [role_payload(r) for r in guild.roles],
        "channels": [channel_payload(dd, c) for c in guild.channels if not c.deleted],
        "threads": [
            channel_payload(dd, t) for t in guild.threads if not t.deleted and not t.archived
        ],
        "members": [bot_member_payload(dd, guild)],
        "member_count": len(guild.members) + 1,
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "embedded_activities": [],
        "joined_at": guild.joined_at,
        "large": False,
        "lazy": True,
        "unavailable": False,
    }


def partial_guild_payload(dd: DiscordState, guild: Guild) -> dict[str, Any]:
    full = guild_payload(dd, guild)
    for key in (
        "channels",
        "threads",
        "members",
        "presences",
        "voice_states",
        "joined_at",
        "large",
        "lazy",
        "unavailable",
        "member_count",
        "stage_instances",
        "guild_scheduled_events",
        "soundboard_sounds",
        "embedded_activities",
    ):
        full.pop(key, None)
    return full


def message_payload(
    dd: DiscordState, msg: Message, *, for_gateway: bool = False, nested: bool = False
) -> dict[str, Any]:
    """A message object. ``poll`` is only present when the message has one (never null). A reply
    carries the message it replies to (`referenced_message`, null once that is deleted), itself
    without its own."""
    data: dict[str, Any] = {
        "id": str(msg.id),
        "channel_id": str(msg.channel_id),
        "type": msg.type,
        "author": user_payload(dd, msg.author_id),
        "content": msg.content,
        "timestamp": msg.timestamp,
        "edited_timestamp": msg.edited_timestamp,
        "tts": msg.tts,
        "mention_everyone": False,
        "mentions": [user_payload(dd, uid) for uid in dict.fromkeys(msg.mentioned_user_ids)],
        "mention_roles": [],
        "attachments": [dict(a) for a in msg.attachment_objects],
        "embeds": msg.embeds,
        "components": msg.components,
        "pinned": msg.pinned,
        "flags": msg.flags,
    }
    if msg.reactions:
        data["reactions"] = [
            {
                "emoji": {"id": None, "name": emoji},
                "count": len(users),
                "count_details": {"burst": 0, "normal": len(users)},
                "me": dd.bot_user_id in users,
                "me_burst": False,
                "burst_colors": [],
            }
            for emoji, users in msg.reactions.items()
            if users
        ]
    if msg.webhook_id is not None:
        data["webhook_id"] = str(msg.webhook_id)
        data["application_id"] = str(dd.application_id)
    if msg.interaction_id is not None:
        ix = dd._interactions.get(msg.interaction_id)
        if ix is not None:
            user = user_payload(dd, ix.user_id)
            meta: dict[str, Any] = {
                "id": str(ix.id),
                "type": ix.type,
                "user": user,
                "authorizing_integration_owners": ix.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            if ix.type == 2:
                meta["name"] = ix.name
                meta["command_type"] = 1
            if ix.message is not None:
                meta["interacted_message_id"] = str(ix.message.id)
            data["interaction_metadata"] = meta
            if ix.type == 2:
                data["interaction"] = {
                    "id": str(ix.id),
                    "type": ix.type,
                    "name": ix.name,
                    "user": user,
                }
    if msg.message_reference is not None:
        data["message_reference"] = dict(msg.message_reference)
        if msg.type == 19 and not nested:
            target = dd._messages.get(int(msg.message_reference["message_id"]))
            data["referenced_message"] = (
                None
                if target is None or target.deleted
                else message_payload(dd, target, nested=True)
            )
    if msg.poll is not None:
        data["poll"] = msg.poll
    if msg.thread_id is not None:
        thread = dd._channels.get(msg.thread_id)
        if thread is not None and not thread.deleted:
            data["thread"] = channel_payload(dd, thread)
    if for_gateway and msg.guild_id is not None:
        data["guild_id"] = str(msg.guild_id)
        if msg.webhook_id is None:
            guild = dd._guilds.get(msg.guild_id)
            member = dd._members.get((msg.guild_id, msg.author_id))
            if msg.author_id == dd.bot_user_id and guild is not None:
                data["member"] = bot_member_payload(dd, guild, with_user=False)
            elif member is not None:
                data["member"] = member_payload(dd, member, with_user=False)
    return data


def attachment_payload(
    dd: DiscordState, att_id: int, filename: str, content: bytes, description: str | None = None
) -> dict[str, Any]:
    url = f"{dd.base_url}/attachments/{att_id}/{filename}"
    data: dict[str, Any] = {
        "id": str(att_id),
        "filename": filename,
        "size": len(content),
        "url": url,
        "proxy_url": url,
        "content_type": _guess_type(filename),
    }
    if description:
        data["description"] = description
    return data


def _guess_type(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return {
        "txt": "text/plain; charset=utf-8",
        "csv": "text/csv; charset=utf-8",
        "json": "application/json",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "pdf": "application/pdf",
    }.get(ext, "application/octet-stream")


def application_payload(dd: DiscordState) -> dict[str, Any]:
    return {
        "id": str(dd.application_id),
        "name": dd.bot_name,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": 0,
        "owner": user_payload(dd, dd.owner_user_id),
        "team": None,
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "tags": [],
        "approximate_guild_count": len(dd._guilds),
        "bot": user_payload(dd, dd.bot_user_id),
        "integration_types_config": {"0": {}, "1": {}},
    }


def ready_payload(
    dd: DiscordState, session_id: str, shard: list[int], guilds: list[Guild]
) -> dict[str, Any]:
    """READY for a session of ``shard``: ``guilds`` are the ones that shard owns (unavailable
    until their GUILD_CREATE)."""
    return {
        "v": 10,
        "user": bot_user_full(dd),
        "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": dd.gateway_url,
        "shard": shard,
        "application": {"id": str(dd.application_id), "flags": 0},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": [],
        "user_settings": {},
        "auth": {},
        "_trace": ['["discord-double"]'],
    }
