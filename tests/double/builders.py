"""Build interaction payloads the way Discord does, from the command tree the bot synced."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from . import payloads
from .models import Channel, ChannelType, Guild, InteractionRecord, Member, Message, Role

if TYPE_CHECKING:
    from .double import DiscordDouble
    from .state import DiscordState

OPTION_TYPE_NAMES = {
    1: "subcommand",
    2: "subcommand group",
    3: "string",
    4: "integer",
    5: "boolean",
    6: "user",
    7: "channel",
    8: "role",
    9: "mentionable",
    10: "number",
    11: "attachment",
}


class CommandError(ValueError):
    """The test asked for a command, option or value Discord's client would not offer."""


# --------------------------------------------------------------------------------- commands
def find_command(
    dd: DiscordState, guild_id: int | None, name: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return (top-level command, [subcommand group/subcommand option specs along the path])."""
    parts = name.strip().lstrip("/").split()
    if not parts:
        raise CommandError("empty command name")
    scopes: list[tuple[str, dict[tuple[int, str], dict[str, Any]]]] = []
    if guild_id is not None:
        scopes.append((f"guild {guild_id}", dd._guild_commands.get(guild_id, {})))
    scopes.append(("global", dd._global_commands))
    command = None
    for _, commands in scopes:
        command = commands.get((1, parts[0]))
        if command is not None:
            break
    if command is None:
        synced = {where: sorted(n for (t, n) in cmds if t == 1) for where, cmds in scopes}
        raise CommandError(f"/{parts[0]} is not a synced slash command here; synced: {synced}")
    path: list[dict[str, Any]] = []
    options = command.get("options") or []
    for part in parts[1:]:
        sub = next((o for o in options if o.get("type") in (1, 2) and o.get("name") == part), None)
        if sub is None:
            subs = [o["name"] for o in options if o.get("type") in (1, 2)]
            raise CommandError(f"/{name}: no subcommand {part!r}; available: {subs}")
        path.append(sub)
        options = sub.get("options") or []
    if any(o.get("type") in (1, 2) for o in options):
        subs = [o["name"] for o in options if o.get("type") in (1, 2)]
        raise CommandError(f"/{name} is a group; name one of its subcommands: {subs}")
    return command, path


def leaf_options(command: dict[str, Any], path: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = path[-1] if path else command
    return list(node.get("options") or [])


def build_command_data(
    dd: DiscordState,
    command: dict[str, Any],
    path: list[dict[str, Any]],
    values: dict[str, Any],
    guild: Guild | None,
    channel: Channel,
    invoker_id: int,
    focused: str | None = None,
    *,
    strict: bool = True,
) -> dict[str, Any]:
    """The ``data`` of a command interaction. ``strict=False`` lets through option values that
    Discord's client would not offer (outside the lengths, ranges, choices or channel types the
    command declares), as a modified client could send them."""
    specs = {o["name"]: o for o in leaf_options(command, path)}
    label = " ".join([command["name"], *(p["name"] for p in path)])
    unknown = [k for k in values if k not in specs]
    if unknown:
        raise CommandError(f"/{label} has no option(s) {unknown}; options: {list(specs)}")
    if focused is not None:
        if focused not in specs:
            raise CommandError(f"/{label} has no option {focused!r}; options: {list(specs)}")
        if not specs[focused].get("autocomplete"):
            raise CommandError(f"/{label} option {focused!r} has no autocomplete")
    resolved: dict[str, dict[str, Any]] = {}
    options: list[dict[str, Any]] = []
    for spec_name, spec in specs.items():
        if spec_name not in values:
            if spec.get("required") and focused is None:  # autocomplete: others may be empty
                raise CommandError(f"/{label}: option {spec_name!r} is required")
            if spec_name == focused:
                options.append(
                    {"type": spec["type"], "name": spec_name, "value": "", "focused": True}
                )
            continue
        value = values[spec_name]
        if spec_name == focused:
            options.append(
                {"type": spec["type"], "name": spec_name, "value": str(value), "focused": True}
            )
        else:
            options.append(
                convert_option(
                    dd, label, spec, value, guild, channel, invoker_id, resolved, strict=strict
                )
            )
    for part in reversed(path):
        options = [{"type": part["type"], "name": part["name"], "options": options}]
    data: dict[str, Any] = {
        "id": command["id"],
        "name": command["name"],
        "type": 1,
        "options": options,
    }
    if resolved:
        data["resolved"] = resolved
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    return data


def convert_option(
    dd: DiscordState,
    label: str,
    spec: dict[str, Any],
    value: Any,
    guild: Guild | None,
    channel: Channel,
    invoker_id: int,
    resolved: dict[str, dict[str, Any]],
    *,
    strict: bool = True,
) -> dict[str, Any]:
    otype = spec["type"]
    name = spec["name"]
    where = f"/{label} option {name!r} ({OPTION_TYPE_NAMES.get(otype, otype)})"
    out_value: Any
    if otype == 3:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise CommandError(f"{where}: expected a str, got {value!r}")
        lo, hi = spec.get("min_length"), spec.get("max_length")
        size = len(value)
        if strict and ((lo is not None and size < lo) or (hi is not None and size > hi)):
            raise CommandError(f"{where}: length {len(value)} outside [{lo}, {hi}]")
        out_value = value
    elif otype in (4, 10):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CommandError(f"{where}: expected a number, got {value!r}")
        if otype == 4 and int(value) != value:
            raise CommandError(f"{where}: expected an integer, got {value!r}")
        out_value = int(value) if otype == 4 else value
        lo, hi = spec.get("min_value"), spec.get("max_value")
        if strict and ((lo is not None and value < lo) or (hi is not None and value > hi)):
            raise CommandError(f"{where}: {value} outside [{lo}, {hi}]")
    elif otype == 5:
        if not isinstance(value, bool):
            raise CommandError(f"{where}: expected a bool, got {value!r}")
        out_value = value
    elif otype == 6 or (
        otype == 9 and isinstance(value, (Member, int)) and not isinstance(value, bool)
    ):
        member = value if isinstance(value, Member) else dd._users.get(int(value))
        if member is None:
            raise CommandError(f"{where}: unknown user {value!r}")
        _resolve_user(dd, member, guild, channel, resolved)
        out_value = str(member.id)
    elif otype in (8, 9):
        if not isinstance(value, Role):
            raise CommandError(
                f"{where}: expected a Role{' or Member' if otype == 9 else ''}, got {value!r}"
            )
        resolved.setdefault("roles", {})[str(value.id)] = payloads.role_payload(value)
        out_value = str(value.id)
    elif otype == 7:
        if not isinstance(value, Channel):
            raise CommandError(f"{where}: expected a Channel, got {value!r}")
        allowed = spec.get("channel_types")
        if strict and allowed and value.type not in allowed:
            raise CommandError(f"{where}: channel type {value.type} not in {allowed}")
        data = payloads.channel_payload(dd, value)
        data["permissions"] = str(dd.permissions_for(invoker_id, value))
        resolved.setdefault("channels", {})[str(value.id)] = data
        out_value = str(value.id)
    elif otype == 11:
        att = dd._new_attachment(value)
        resolved.setdefault("attachments", {})[att["id"]] = att
        out_value = att["id"]
    else:
        raise CommandError(f"{where}: unsupported option type")
    choices = spec.get("choices")
    if strict and choices and out_value not in [c.get("value") for c in choices]:
        raise CommandError(
            f"{where}: {out_value!r} is not one of the choices {[c.get('value') for c in choices]}"
        )
    return {"type": otype, "name": name, "value": out_value}


def _resolve_user(
    dd: DiscordState,
    member: Member,
    guild: Guild | None,
    channel: Channel,
    resolved: dict[str, dict[str, Any]],
) -> None:
    resolved.setdefault("users", {})[str(member.id)] = payloads.user_payload(dd, member.id)
    if guild is not None:
        in_guild = dd._members.get((guild.id, member.id))
        if in_guild is not None:
            data = payloads.member_payload(dd, in_guild, with_user=False)
            data["permissions"] = str(dd.permissions_for(member.id, channel))
            resolved.setdefault("members", {})[str(member.id)] = data


# --------------------------------------------------------------------------------- payloads
def new_interaction(
    dd: DiscordDouble,
    itype: int,
    user: Member,
    guild: Guild | None,
    channel: Channel,
    data: dict[str, Any],
    name: str,
    message: Message | None = None,
    locale: str = "en-US",
) -> InteractionRecord:
    iid = dd._snowflake()
    token = f"dd{iid}_{secrets.token_urlsafe(24)}"
    payload: dict[str, Any] = {
        "id": str(iid),
        "application_id": str(dd.application_id),
        "type": itype,
        "token": token,
        "version": 1,
        "data": data,
        "channel_id": str(channel.id),
        "channel": {
            **payloads.channel_payload(dd, channel),
            "permissions": str(dd.permissions_for(user.id, channel)),
        },
        "app_permissions": str(dd.permissions_for(dd.bot_user_id, channel)),
        "locale": locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": 10485760,
    }
    if guild is not None:
        member = dd._members.get((guild.id, user.id), user)
        mdata = payloads.member_payload(dd, member)
        mdata["permissions"] = str(dd.permissions_for(user.id, channel))
        payload.update(
            guild_id=str(guild.id),
            guild_locale="en-US",
            guild={"id": str(guild.id), "locale": "en-US", "features": []},
            member=mdata,
            authorizing_integration_owners={"0": str(guild.id)},
            context=0,
        )
    else:
        payload.update(
            user=payloads.user_payload(dd, user.id),
            authorizing_integration_owners={"1": str(user.id)},
            context=1,
        )
    if message is not None:
        payload["message"] = payloads.message_payload(dd, message)
    ix = InteractionRecord(
        id=iid,
        token=token,
        type=itype,
        payload=payload,
        user_id=user.id,
        guild_id=guild.id if guild else None,
        channel_id=channel.id,
        name=name,
        message=message,
    )
    ix._double = dd
    return ix


def component_data(
    dd: DiscordState,
    message: Message,
    custom_id: str,
    *,
    select_values: list[Any] | None,
    guild: Guild | None,
    channel: Channel,
    user_id: int,
) -> dict[str, Any]:
    comp = message.component(custom_id)
    if comp is None:
        raise CommandError(
            f"message {message.id} has no component {custom_id!r}; buttons: "
            f"{[b['custom_id'] for b in message.buttons()]}, selects: "
            f"{[s.get('custom_id') for s in message.selects()]}"
        )
    if comp.get("disabled"):
        raise CommandError(f"component {custom_id!r} on message {message.id} is disabled")
    ctype = comp.get("type")
    if select_values is None:
        if ctype != 2 or comp.get("style") in (5, 6):
            raise CommandError(f"component {custom_id!r} is not a clickable button: {comp}")
        return {"custom_id": custom_id, "component_type": 2}
    if ctype not in (3, 5, 6, 7, 8):
        raise CommandError(f"component {custom_id!r} is not a select menu: {comp}")
    lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
    if not (lo if lo is not None else 1) <= len(select_values) <= (hi if hi is not None else 1):
        raise CommandError(
            f"select {custom_id!r} takes between {lo} and {hi} values, got {select_values!r}"
        )
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
    if ctype == 3:
        allowed = [o.get("value") for o in comp.get("options") or []]
        bad = [v for v in select_values if v not in allowed]
        if bad:
            raise CommandError(f"select {custom_id!r}: {bad} not among the options {allowed}")
        data["values"] = list(select_values)
        return data
    resolved: dict[str, dict[str, Any]] = {}
    ids = []
    for value in select_values:
        if isinstance(value, Member):
            _resolve_user(dd, value, guild, channel, resolved)
        elif isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = payloads.role_payload(value)
        elif isinstance(value, Channel):
            cdata = payloads.channel_payload(dd, value)
            cdata["permissions"] = str(dd.permissions_for(user_id, value))
            resolved.setdefault("channels", {})[str(value.id)] = cdata
        else:
            raise CommandError(
                f"select {custom_id!r}: pass Member/Role/Channel objects, got {value!r}"
            )
        ids.append(str(value.id))
    data["values"] = ids
    data["resolved"] = resolved
    return data


def modal_components(modal: dict[str, Any] | None, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The submitted components, shaped like the modal the bot sent (rows or labels)."""
    if modal is None:
        return [
            {"type": 1, "components": [{"type": 4, "custom_id": cid, "value": str(v)}]}
            for cid, v in values.items()
        ]
    used: set[str] = set()
    out: list[dict[str, Any]] = []
    for top in modal.get("components") or []:
        ttype = top.get("type")
        if ttype == 1:
            row = [_fill(c, values, used) for c in top.get("components") or []]
            out.append(_with_id({"type": 1, "components": row}, top))
        elif ttype == 18:
            out.append(
                _with_id(
                    {"type": 18, "component": _fill(top.get("component") or {}, values, used)}, top
                )
            )
        elif ttype == 10:
            out.append(_with_id({"type": 10}, top))
    unknown = [k for k in values if k not in used]
    if unknown:
        raise CommandError(f"modal {modal.get('custom_id')!r} has no field(s) {unknown}")
    return out


def _with_id(out: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
    if src.get("id") is not None:
        out["id"] = src["id"]
    return out


def _fill(comp: dict[str, Any], values: dict[str, Any], used: set[str]) -> dict[str, Any]:
    cid = str(comp.get("custom_id"))
    ctype = comp.get("type")
    if cid in values:
        used.add(cid)
    if ctype == 4:
        value = values.get(cid, comp.get("value") or "")
        if not isinstance(value, str):
            raise CommandError(f"modal field {cid!r}: expected a str, got {value!r}")
        if comp.get("required", True) and not value:
            raise CommandError(
                f"modal field {cid!r} is required; Discord would not let the user submit"
            )
        lo, hi = comp.get("min_length"), comp.get("max_length")
        if value and ((lo is not None and len(value) < lo) or (hi is not None and len(value) > hi)):
            raise CommandError(f"modal field {cid!r}: length {len(value)} outside [{lo}, {hi}]")
        return _with_id({"type": 4, "custom_id": cid, "value": value}, comp)
    if ctype in (3, 5, 6, 7, 8):
        chosen = values.get(cid, [])
        chosen = [chosen] if isinstance(chosen, str) else list(chosen)
        return _with_id(
            {"type": ctype, "custom_id": cid, "values": [str(getattr(v, "id", v)) for v in chosen]},
            comp,
        )
    return _with_id({"type": ctype, "custom_id": cid}, comp)


def dm_channel_for(dd: DiscordState, user: Member) -> Channel:
    ch = dd._dm_channels.get(user.id)
    if ch is None:
        ch = Channel(
            id=dd._snowflake(), name=f"dm-{user.name}", type=ChannelType.DM, recipient_id=user.id
        )
        dd._dm_channels[user.id] = ch
        dd._channels[ch.id] = ch
    return ch
