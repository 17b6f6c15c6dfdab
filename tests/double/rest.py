"""The REST API under /api/v10: routes, auth, fault injection, Discord's error bodies."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import contract, payloads
from .errors import (
    EMPTY_MESSAGE,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    UNKNOWN_CHANNEL,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    ApiError,
    fault_response,
    form_error,
    json_response,
)
from .limits import (
    FormErrors,
    check_choices,
    check_commands,
    check_message,
    check_message_reference,
    check_modal,
    check_thread_name,
    is_empty_message,
)
from .models import (
    CallRecord,
    Channel,
    ChannelType,
    FaultRule,
    Intent,
    InteractionRecord,
    Message,
    MessageFlag,
    Perm,
)

if TYPE_CHECKING:
    from .double import DiscordDouble

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_API_RE = re.compile(r"^/api/v\d+")
_FILE_RE = re.compile(r"^files\[(\d+)\]$")
_CALLBACK_RE = re.compile(r"/interactions/(\d+)/([^/]+)/callback")
# parsed request body, stored on the request by the middleware
if hasattr(web, "RequestKey"):
    BODY: Any = web.RequestKey("discord_double_body", object)
    FILES: Any = web.RequestKey("discord_double_files", object)
else:  # pragma: no cover - aiohttp < 3.12
    BODY, FILES = "discord_double_body", "discord_double_files"


def _filenames(
    msg: Message | None, data: dict[str, Any], files: dict[int, tuple[str, bytes]]
) -> list[str]:
    """The files a new or edited message will have, as state._edit_message picks them: those
    `attachments` keeps (by id) or uploads (by index), or without the key every old one and
    every upload; for ``attachment://`` media urls."""
    old = {str(a["id"]): str(a["filename"]) for a in (msg.attachment_objects if msg else [])}
    specs = data.get("attachments")
    if not isinstance(specs, list):
        return list(old.values()) + [name for name, _ in files.values()]
    names: list[str] = []
    for spec in specs:
        sid = str(spec.get("id")) if isinstance(spec, dict) else ""
        if sid in old:
            names.append(old[sid])
        elif sid.isdigit() and int(sid) in files:
            names.append(str(spec.get("filename") or files[int(sid)][0]))
    return names


class RestApi:
    def __init__(self, dd: DiscordDouble) -> None:
        self.dd = dd

    # ----------------------------------------------------------------------------- plumbing
    def setup(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/", self.dd.gateway.handle)
        r.add_get("/gateway", self.dd.gateway.handle)
        r.add_get(r"/attachments/{aid:\d+}/{filename}", self.get_attachment)
        api = r"/api/v{version:\d+}"
        app_ = r"/applications/{app:\d+}"
        ch = r"/channels/{cid:\d+}"
        msg = ch + r"/messages/{mid:\d+}"
        hook = r"/webhooks/{app:\d+}/{token}"
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/users/@me", self.get_me),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/@me", self.get_application),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_bot_gateway),
            ("GET", app_ + "/commands", self.get_commands),
            ("PUT", app_ + "/commands", self.put_commands),
            ("GET", app_ + r"/guilds/{gid:\d+}/commands", self.get_commands),
            ("PUT", app_ + r"/guilds/{gid:\d+}/commands", self.put_commands),
            ("POST", r"/interactions/{iid:\d+}/{token}/callback", self.interaction_callback),
            ("POST", hook, self.webhook_execute),
            ("GET", hook + "/messages/{mid}", self.webhook_get),
            ("PATCH", hook + "/messages/{mid}", self.webhook_edit),
            ("DELETE", hook + "/messages/{mid}", self.webhook_delete),
            ("GET", ch, self.get_channel),
            ("PATCH", ch, self.edit_channel),
            ("DELETE", ch, self.delete_channel),
            ("GET", ch + "/messages", self.list_messages),
            ("POST", ch + "/messages", self.create_message),
            ("GET", msg, self.get_message),
            ("PATCH", msg, self.edit_message),
            ("DELETE", msg, self.delete_message),
            ("POST", msg + "/threads", self.thread_from_message),
            ("POST", ch + "/threads", self.thread_without_message),
            ("PUT", ch + "/thread-members/{uid}", self.no_content),
            ("DELETE", ch + "/thread-members/{uid}", self.no_content),
            ("POST", ch + "/typing", self.no_content),
            ("PUT", msg + "/reactions/{emoji}/@me", self.add_reaction),
            ("DELETE", msg + "/reactions/{emoji}/@me", self.remove_reaction),
            ("PUT", ch + r"/pins/{mid:\d+}", self.pin),
            ("DELETE", ch + r"/pins/{mid:\d+}", self.pin),
            ("PUT", ch + r"/messages/pins/{mid:\d+}", self.pin),
            ("DELETE", ch + r"/messages/pins/{mid:\d+}", self.pin),
            ("POST", "/users/@me/channels", self.create_dm),
            ("GET", r"/users/{uid:\d+}", self.get_user),
            ("GET", r"/guilds/{gid:\d+}", self.get_guild),
            ("GET", r"/guilds/{gid:\d+}/channels", self.get_guild_channels),
            ("GET", r"/guilds/{gid:\d+}/roles", self.get_guild_roles),
            ("GET", r"/guilds/{gid:\d+}/members", self.list_members),
            ("GET", r"/guilds/{gid:\d+}/members/{uid:\d+}", self.get_member),
            ("GET", r"/guilds/{gid:\d+}/threads/active", self.active_threads),
        ]
        for method, path, handler in routes:
            r.add_route(method, api + path, handler)
        r.add_route("*", "/{tail:.*}", self.unknown)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        match = _API_RE.match(request.path)
        if match is None:
            return await handler(request)
        dd = self.dd
        rel = request.path[match.end() :] or "/"
        record = CallRecord(
            request.method, rel, dict(request.query), None, [], 0, asyncio.get_running_loop().time()
        )
        dd.calls.append(record)
        verdict = None
        try:
            body, files = await self._read_body(request)
            record.json, record.files = body, [files[i] for i in sorted(files)]
            request[BODY], request[FILES] = body, files
            verdict = dd.rate_limits.check(request.method, rel)  # None when they are off
            if verdict is not None and verdict.refused:
                record.status = 429
                dd._notify()
                return json_response(verdict.body, 429, verdict.headers)
            if dd.check_contract:
                self._check_contract(request.method, rel, body)
            rule = self._fault(request.method, rel)
            response: web.StreamResponse | None = None
            if rule is None or rule.lose_reply:
                self._check_auth(request, rel)
                response = await handler(request)
            if rule is not None and rule.status == 0:  # the network fails: no answer at all
                if request.transport is not None:
                    request.transport.abort()
                response = web.Response(status=502)  # never reaches the client
            elif rule is not None:  # the fault's answer (after the request took effect, if lost)
                response = fault_response(rule)
                verdict = None  # a fault's answer has its own headers
        except ApiError as exc:
            response = exc.response()
        assert response is not None
        if verdict is not None:
            response.headers.update(verdict.headers)
        record.status = response.status
        dd._notify()
        return response

    async def _read_body(self, request: web.Request) -> tuple[Any, dict[int, tuple[str, bytes]]]:
        files: dict[int, tuple[str, bytes]] = {}
        if request.content_type.startswith("multipart/"):
            payload: Any = None
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    m = _FILE_RE.match(key)
                    files[int(m.group(1)) if m else len(files)] = (
                        value.filename,
                        value.file.read(),
                    )
                elif key == "payload_json":
                    payload = self._loads(
                        value if isinstance(value, str) else bytes(value).decode()
                    )
            return payload, files
        raw = await request.read()
        return (self._loads(raw.decode()) if raw else None), files

    @staticmethod
    def _loads(text: str) -> Any:
        try:
            return json.loads(text)
        except ValueError:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from None

    def _check_contract(self, method: str, rel: str, body: Any) -> None:
        """A body Discord's OpenAPI spec refuses is recorded and answered 400 / 50035 (a refused
        interaction callback also goes in the interaction's ``rejected``)."""
        violations = contract.check_body(method, rel, body)
        if not violations:
            return
        self.dd._record_violations(violations)
        exc = form_error(contract.form_errors(violations))
        callback = _CALLBACK_RE.fullmatch(rel)
        ix = self.dd._interactions.get(int(callback[1])) if callback else None
        if ix is not None and callback is not None and ix.token == callback[2]:
            ix.rejected.append(
                {
                    "type": (body or {}).get("type") if isinstance(body, dict) else None,
                    "status": exc.status,
                    "code": exc.code,
                    "message": str(exc),
                    "at": asyncio.get_running_loop().time(),
                }
            )
        raise exc

    def _check_auth(self, request: web.Request, rel: str) -> None:
        if rel.startswith(("/webhooks/", "/interactions/")):
            return
        if request.headers.get("Authorization") != f"Bot {self.dd.token}":
            raise ApiError(401, 0, "401: Unauthorized")

    def _fault(self, method: str, rel: str) -> FaultRule | None:
        for rule in self.dd._faults:
            if rule.remaining > 0 and rule.method in (method, "*") and rule.pattern.fullmatch(rel):
                rule.remaining -= 1
                rule.hits += 1
                return rule
        return None

    async def unknown(self, request: web.Request) -> web.Response:
        match = _API_RE.match(request.path)
        rel = request.path[match.end() :] if match else request.path
        self.dd.unknown_routes.append((request.method, rel))
        return json_response({"message": "404: Not Found", "code": 0}, 404)

    async def no_content(self, request: web.Request) -> web.Response:
        self._channel(request)
        return web.Response(status=204)

    # ----------------------------------------------------------------------------- lookups
    def _channel(self, request: web.Request, key: str = "cid") -> Channel:
        ch = self.dd._channels.get(int(request.match_info[key]))
        if ch is None or ch.deleted:
            raise ApiError(*UNKNOWN_CHANNEL)
        guild = self.dd._guilds.get(ch.guild_id or 0)
        if ch.guild_id is not None and (guild is None or guild.removed):
            raise ApiError(*UNKNOWN_CHANNEL)
        return ch

    def _message(self, request: web.Request, ch: Channel) -> Message:
        msg = self.dd._messages.get(int(request.match_info["mid"]))
        if msg is None or msg.deleted or msg.channel_id != ch.id or msg.ephemeral:
            raise ApiError(*UNKNOWN_MESSAGE)
        return msg

    def _require(
        self, ch: Channel, bits: int, error: tuple[int, int, str] = MISSING_PERMISSIONS
    ) -> None:
        perms = self.dd.permissions_for(self.dd.bot_user_id, ch)
        if not perms & Perm.VIEW_CHANNEL:
            raise ApiError(*MISSING_ACCESS)
        if perms & bits != bits:
            raise ApiError(*error)

    def _validate_new(
        self, data: dict[str, Any], files: dict[int, Any], path: tuple[str, ...] = ()
    ) -> None:
        errs = FormErrors()
        check_message(data, errs, path, _filenames(None, data, files))
        if errs:
            raise form_error(errs)
        if is_empty_message(data, len(files)):
            raise ApiError(*EMPTY_MESSAGE)

    def _validate_edit(
        self, msg: Message, data: dict[str, Any], files: dict[int, Any], path: tuple[str, ...] = ()
    ) -> None:
        probe = dict(data)
        if probe.get("flags") is None:
            probe["flags"] = msg.flags
        errs = FormErrors()
        check_message(probe, errs, path, _filenames(msg, data, files))
        if errs:
            raise form_error(errs)
        merged = {
            key: data[key] if key in data else getattr(msg, key)
            for key in ("content", "embeds", "components")
        }
        merged["poll"] = msg.poll
        if isinstance(data.get("attachments"), list):
            n_attachments = len(data["attachments"])
        else:
            n_attachments = len(msg.attachments) + len(files)
        if is_empty_message(merged, n_attachments):
            raise ApiError(*EMPTY_MESSAGE)

    def _message_json(self, msg: Message, status: int = 200) -> web.Response:
        return json_response(payloads.message_payload(self.dd, msg), status)

    # ----------------------------------------------------------------------------- identity
    async def get_me(self, request: web.Request) -> web.Response:
        return json_response(payloads.bot_user_full(self.dd))

    async def get_application(self, request: web.Request) -> web.Response:
        return json_response(payloads.application_payload(self.dd))

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.dd.gateway_url.rstrip("/")})

    async def get_bot_gateway(self, request: web.Request) -> web.Response:
        """The URL, the shard count Discord recommends (``dd.recommended_shards``) and the
        IDENTIFY budget (one IDENTIFY at a time: max_concurrency 1)."""
        return json_response(
            {
                "url": self.dd.gateway_url.rstrip("/"),
                "shards": self.dd.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": max(0, 1000 - self.dd.gateway.identify_count),
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def get_attachment(self, request: web.Request) -> web.Response:
        raw = self.dd._attachments.get(int(request.match_info["aid"]))
        if raw is None:
            return web.Response(status=404)
        return web.Response(body=raw, content_type="application/octet-stream")

    # ----------------------------------------------------------------------------- commands
    def _scope(self, request: web.Request) -> dict[tuple[int, str], dict[str, Any]]:
        dd = self.dd
        if int(request.match_info["app"]) != dd.application_id:
            raise ApiError(403, 50001, "Missing Access")
        gid = request.match_info.get("gid")
        if gid is None:
            return dd._global_commands
        guild = dd._guilds.get(int(gid))
        if guild is None or guild.removed:
            raise ApiError(*MISSING_ACCESS)
        return dd._guild_commands.setdefault(guild.id, {})

    async def get_commands(self, request: web.Request) -> web.Response:
        return json_response(list(self._scope(request).values()))

    async def put_commands(self, request: web.Request) -> web.Response:
        dd = self.dd
        scope = self._scope(request)
        body = request[BODY]
        errs = FormErrors()
        check_commands(body, errs)
        if errs:
            raise form_error(errs)
        gid = request.match_info.get("gid")
        echoed = []
        for cmd in body:
            ctype = int(cmd.get("type") or 1)
            key = (int(gid) if gid else None, ctype, cmd["name"])
            cid = dd._command_ids.setdefault(key, dd._snowflake())
            out = {
                "default_member_permissions": None,
                "nsfw": False,
                "contexts": None,
                "description_localizations": None,
                "name_localizations": None,
                **cmd,
                "id": str(cid),
                "application_id": str(dd.application_id),
                "version": str(dd._snowflake()),
                "type": ctype,
                "description": cmd.get("description") or "",
            }
            if out.get("integration_types") is None:
                out["integration_types"] = [0]
            if gid:
                out["guild_id"] = gid
            else:
                out.setdefault("dm_permission", True)
            echoed.append(out)
        scope.clear()
        scope.update({(c["type"], c["name"]): c for c in echoed})
        dd.synced_commands = echoed
        dd.sync_count += 1
        return json_response(echoed)

    # ----------------------------------------------------------------------------- interactions
    async def interaction_callback(self, request: web.Request) -> web.Response:
        dd = self.dd
        now = asyncio.get_running_loop().time()
        ix = dd._interactions.get(int(request.match_info["iid"]))
        if ix is None or ix.token != request.match_info["token"]:
            raise ApiError(*UNKNOWN_INTERACTION)
        body = request[BODY] or {}
        files: dict[int, tuple[str, bytes]] = request[FILES]
        rtype = body.get("type")
        data = body.get("data") or {}
        try:
            self._check_callback(ix, rtype, data, files, now)
        except ApiError as exc:
            ix.rejected.append(
                {
                    "type": rtype,
                    "status": exc.status,
                    "code": exc.code,
                    "message": str(exc),
                    "at": now,
                }
            )
            raise
        ix.responded_at = now
        ix.response_type = rtype
        channel = dd._channels[ix.channel_id]
        resource: Message | None = None
        if rtype == 4:
            resource = ix.original = dd._create_message(
                channel,
                data,
                files,
                author_id=dd.bot_user_id,
                interaction=ix,
                msg_type=20 if ix.type == 2 else 0,
            )
        elif rtype == 5:
            flags = MessageFlag.LOADING | (int(data.get("flags") or 0) & MessageFlag.EPHEMERAL)
            resource = ix.original = dd._create_message(
                channel,
                {},
                {},
                author_id=dd.bot_user_id,
                interaction=ix,
                extra_flags=flags,
                msg_type=20 if ix.type == 2 else 0,
            )
        elif rtype in (6, 7) and ix.message is not None:
            ix.original = ix.message
            if rtype == 7:
                dd._edit_message(ix.message, data, files)
                resource = ix.message
        elif rtype == 8:
            ix.choices = list(data.get("choices") or [])
        elif rtype == 9:
            ix.modal = data
            dd._modals[str(data.get("custom_id"))] = (data, ix)
        ix._resolve({"type": rtype, "data": data})
        dd._notify()
        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return web.Response(status=204)
        inter: dict[str, Any] = {"id": str(ix.id), "type": ix.type}
        result: dict[str, Any] = {"interaction": inter}
        if resource is not None:
            inter.update(
                response_message_id=str(resource.id),
                response_message_loading=rtype == 5,
                response_message_ephemeral=resource.ephemeral,
            )
            result["resource"] = {"type": rtype, "message": payloads.message_payload(dd, resource)}
        return json_response(result)

    def _check_callback(
        self,
        ix: InteractionRecord,
        rtype: Any,
        data: dict[str, Any],
        files: dict[int, Any],
        now: float,
    ) -> None:
        if ix.acknowledged:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if ix.sent_at is not None and now - ix.sent_at > self.dd.response_deadline:
            raise ApiError(*UNKNOWN_INTERACTION)
        allowed = {1: (1,), 4: (2, 3, 5), 5: (2, 3, 5), 6: (3, 5), 7: (3, 5), 8: (4,), 9: (2, 3)}
        if (
            rtype not in allowed
            or ix.type not in allowed[rtype]
            or (rtype == 7 and ix.message is None)
        ):
            errs = FormErrors()
            errs.add(
                ("type",),
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Response type {rtype} is not valid for interaction type {ix.type}",
            )
            raise form_error(errs)
        errs = FormErrors()
        if rtype == 4:
            self._validate_new(data, files, ("data",))
        elif rtype == 7:
            assert ix.message is not None
            self._validate_edit(ix.message, data, files, ("data",))
        elif rtype == 8:
            check_choices(data, errs)
        elif rtype == 9:
            check_modal(data, errs)
        if errs:
            raise form_error(errs)

    def _hook(self, request: web.Request) -> InteractionRecord:
        ix = self.dd._by_token.get(request.match_info["token"])
        if (
            ix is None
            or int(request.match_info["app"]) != self.dd.application_id
            or not ix.acknowledged
            or ix.response_type in (8,)
        ):
            raise ApiError(*UNKNOWN_WEBHOOK)
        return ix

    def _hook_message(self, request: web.Request, ix: InteractionRecord) -> Message:
        mid = request.match_info["mid"]
        if mid == "@original":
            msg = ix.original
        else:
            msg = self.dd._messages.get(int(mid)) if mid.isdigit() else None
            if msg is not None and msg is not ix.original and msg not in ix.followups:
                msg = None
        if msg is None or msg.deleted:
            raise ApiError(*UNKNOWN_MESSAGE)
        return msg

    async def webhook_execute(self, request: web.Request) -> web.Response:
        dd = self.dd
        ix = self._hook(request)
        data = request[BODY] or {}
        files = request[FILES]
        self._validate_new(data, files)
        channel = dd._channels[ix.channel_id]
        thread_id = request.query.get("thread_id")
        if thread_id:
            thread = dd._channels.get(int(thread_id))
            if thread is None or thread.deleted or channel.id not in (thread.id, thread.parent_id):
                raise ApiError(*UNKNOWN_CHANNEL)
            channel = thread
        original = ix.original
        if original is not None and original.loading and ix.response_type == 5 and not thread_id:
            dd._edit_message(
                original, data, files
            )  # the first follow-up fills the "thinking" message
            msg = original
        else:
            msg = dd._create_message(channel, data, files, author_id=dd.bot_user_id, interaction=ix)
        ix.followups.append(msg)
        dd._notify()
        if request.query.get("wait", "").lower() in ("1", "true"):
            return self._message_json(msg)
        return web.Response(status=204)

    async def webhook_get(self, request: web.Request) -> web.Response:
        ix = self._hook(request)
        return self._message_json(self._hook_message(request, ix))

    async def webhook_edit(self, request: web.Request) -> web.Response:
        ix = self._hook(request)
        msg = self._hook_message(request, ix)
        data = request[BODY] or {}
        self._validate_edit(msg, data, request[FILES])
        self.dd._edit_message(msg, data, request[FILES])
        return self._message_json(msg)

    async def webhook_delete(self, request: web.Request) -> web.Response:
        ix = self._hook(request)
        self.dd._delete_message(self._hook_message(request, ix))
        return web.Response(status=204)

    # ----------------------------------------------------------------------------- channels
    async def get_channel(self, request: web.Request) -> web.Response:
        ch = self._channel(request)
        if ch.type != ChannelType.DM:
            self._require(ch, Perm.VIEW_CHANNEL, MISSING_ACCESS)
        return json_response(payloads.channel_payload(self.dd, ch))

    async def edit_channel(self, request: web.Request) -> web.Response:
        dd = self.dd
        ch = self._channel(request)
        data = request[BODY] or {}
        errs = FormErrors()
        if "name" in data:
            check_thread_name(data["name"], errs)
        if errs:
            raise form_error(errs)
        self._require(ch, Perm.MANAGE_THREADS if ch.is_thread else Perm.MANAGE_CHANNELS)
        for key in (
            "name",
            "topic",
            "archived",
            "locked",
            "invitable",
            "auto_archive_duration",
            "rate_limit_per_user",
        ):
            if key in data and data[key] is not None:
                setattr(ch, key, data[key])
        event = "THREAD_UPDATE" if ch.is_thread else "CHANNEL_UPDATE"
        dd.gateway.dispatch(
            event, payloads.channel_payload(dd, ch), Intent.GUILDS, guild_id=ch.guild_id
        )
        dd._notify()
        return json_response(payloads.channel_payload(dd, ch))

    async def delete_channel(self, request: web.Request) -> web.Response:
        ch = self._channel(request)
        self._require(ch, Perm.MANAGE_THREADS if ch.is_thread else Perm.MANAGE_CHANNELS)
        self.dd.delete_channel(ch)
        return json_response(payloads.channel_payload(self.dd, ch))

    async def list_messages(self, request: web.Request) -> web.Response:
        ch = self._channel(request)
        self._require(ch, Perm.READ_MESSAGE_HISTORY, MISSING_ACCESS)
        q = request.query
        limit = max(1, min(int(q.get("limit", 50)), 100))
        msgs = self.dd.messages(ch)
        if q.get("before"):
            msgs = [m for m in msgs if m.id < int(q["before"])][-limit:]
        elif q.get("after"):
            msgs = [m for m in msgs if m.id > int(q["after"])][:limit]
        else:
            msgs = msgs[-limit:]
        return json_response([payloads.message_payload(self.dd, m) for m in reversed(msgs)])

    async def create_message(self, request: web.Request) -> web.Response:
        dd = self.dd
        ch = self._channel(request)
        data = request[BODY] or {}
        files = request[FILES]
        if ch.type != ChannelType.DM:
            self._require(ch, Perm.SEND_MESSAGES_IN_THREADS if ch.is_thread else Perm.SEND_MESSAGES)
            if files:
                self._require(ch, Perm.ATTACH_FILES)
        if ch.is_thread and ch.locked:
            raise ApiError(*MISSING_PERMISSIONS)
        self._validate_new(data, files)
        data = {**data, "message_reference": self._reference(ch, data.get("message_reference"))}
        nonce = (
            (ch.id, str(data["nonce"])) if data.get("enforce_nonce") and data.get("nonce") else None
        )
        if nonce in dd._nonces and not dd._nonces[nonce].deleted:
            return self._message_json(dd._nonces[nonce])  # Discord de-duplicates enforced nonces
        data = {**data, "flags": int(data.get("flags") or 0) & ~MessageFlag.EPHEMERAL}
        msg = dd._create_message(ch, data, files, author_id=dd.bot_user_id)
        if nonce is not None:
            dd._nonces[nonce] = msg
        return self._message_json(msg)

    def _reference(self, ch: Channel, ref: Any) -> dict[str, Any] | None:
        """A new message's reply, as Discord stores and returns it (MessageReferenceResponse:
        `type`, `channel_id`, `message_id`, `guild_id`; never `fail_if_not_exists`). The message
        replied to must exist in this channel; if it doesn't, the create fails, unless
        `fail_if_not_exists` is false: then the message goes out as a plain one, no reply."""
        errs = FormErrors()
        check_message_reference(ref, errs)
        if errs:
            raise form_error(errs)
        if ref is None:
            return None
        target = self.dd._messages.get(int(ref["message_id"]))
        if (
            target is None
            or target.deleted
            or target.channel_id != ch.id
            or int(ref.get("channel_id") or ch.id) != ch.id
        ):
            if ref.get("fail_if_not_exists") is False:
                return None
            errs.add(("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
            raise form_error(errs)
        stored: dict[str, Any] = {
            "type": int(ref.get("type") or 0),
            "channel_id": str(ch.id),
            "message_id": str(target.id),
        }
        if ch.guild_id is not None:
            stored["guild_id"] = str(ch.guild_id)
        return stored

    async def get_message(self, request: web.Request) -> web.Response:
        ch = self._channel(request)
        self._require(ch, Perm.READ_MESSAGE_HISTORY, MISSING_ACCESS)
        return self._message_json(self._message(request, ch))

    async def edit_message(self, request: web.Request) -> web.Response:
        dd = self.dd
        ch = self._channel(request)
        msg = self._message(request, ch)
        data = request[BODY] or {}
        if msg.author_id != dd.bot_user_id and set(data) - {"flags"}:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._validate_edit(msg, data, request[FILES])
        dd._edit_message(msg, data, request[FILES])
        return self._message_json(msg)

    async def delete_message(self, request: web.Request) -> web.Response:
        dd = self.dd
        ch = self._channel(request)
        msg = self._message(request, ch)
        if msg.author_id != dd.bot_user_id:
            self._require(ch, Perm.MANAGE_MESSAGES)
        dd._delete_message(msg)
        return web.Response(status=204)

    async def add_reaction(self, request: web.Request) -> web.Response:
        ch = self._channel(request)
        self._require(ch, Perm.ADD_REACTIONS | Perm.READ_MESSAGE_HISTORY)
        msg = self._message(request, ch)
        msg.reactions.setdefault(request.match_info["emoji"], set()).add(self.dd.bot_user_id)
        self.dd._notify()
        return web.Response(status=204)

    async def remove_reaction(self, request: web.Request) -> web.Response:
        ch = self._channel(request)
        msg = self._message(request, ch)
        msg.reactions.get(request.match_info["emoji"], set()).discard(self.dd.bot_user_id)
        self.dd._notify()
        return web.Response(status=204)

    async def pin(self, request: web.Request) -> web.Response:
        ch = self._channel(request)
        self._require(ch, Perm.MANAGE_MESSAGES)
        msg = self._message(request, ch)
        msg.pinned = request.method == "PUT"
        self.dd._notify()
        return web.Response(status=204)

    # ----------------------------------------------------------------------------- threads
    def _new_thread(
        self, parent: Channel, data: dict[str, Any], thread_type: int, thread_id: int | None
    ) -> Channel:
        dd = self.dd
        errs = FormErrors()
        check_thread_name(data.get("name"), errs)
        if errs:
            raise form_error(errs)
        thread = Channel(
            id=thread_id or dd._snowflake(),
            name=data["name"],
            type=thread_type,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=dd.bot_user_id,
            auto_archive_duration=int(data.get("auto_archive_duration") or 1440),
            invitable=bool(data.get("invitable", True)),
            rate_limit_per_user=int(data.get("rate_limit_per_user") or 0),
        )
        dd._channels[thread.id] = thread
        dd._guilds[parent.guild_id or 0].threads.append(thread)
        return thread

    def _announce_thread(self, thread: Channel) -> web.Response:
        dd = self.dd
        event = {
            **payloads.channel_payload(dd, thread),
            "newly_created": True,
            "member": payloads.thread_member_payload(dd, thread),
        }
        dd.gateway.dispatch("THREAD_CREATE", event, Intent.GUILDS, guild_id=thread.guild_id)
        dd._notify()
        return json_response(payloads.channel_payload(dd, thread), 201)

    async def thread_from_message(self, request: web.Request) -> web.Response:
        ch = self._channel(request)
        if ch.type not in (ChannelType.TEXT, ChannelType.NEWS):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        msg = self._message(request, ch)
        self._require(ch, Perm.CREATE_PUBLIC_THREADS)
        if msg.thread_id is not None:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        kind = ChannelType.NEWS_THREAD if ch.type == ChannelType.NEWS else ChannelType.PUBLIC_THREAD
        thread = self._new_thread(ch, request[BODY] or {}, kind, msg.id)
        msg.thread_id = thread.id
        return self._announce_thread(thread)

    async def thread_without_message(self, request: web.Request) -> web.Response:
        dd = self.dd
        ch = self._channel(request)
        data = request[BODY] or {}
        if ch.type == ChannelType.FORUM:
            starter = data.get("message") or {}
            self._require(ch, Perm.SEND_MESSAGES)
            self._validate_new(starter, request[FILES], ("message",))
            thread = self._new_thread(ch, data, ChannelType.PUBLIC_THREAD, None)
            response = self._announce_thread(thread)
            msg = dd._create_message(
                thread, starter, request[FILES], author_id=dd.bot_user_id, message_id=thread.id
            )
            body = {
                **payloads.channel_payload(dd, thread),
                "message": payloads.message_payload(dd, msg),
            }
            return json_response(body, response.status)
        if ch.type not in (ChannelType.TEXT, ChannelType.NEWS):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        kind = int(data.get("type") or ChannelType.PRIVATE_THREAD)
        self._require(
            ch,
            Perm.CREATE_PRIVATE_THREADS
            if kind == ChannelType.PRIVATE_THREAD
            else Perm.CREATE_PUBLIC_THREADS,
        )
        return self._announce_thread(self._new_thread(ch, data, kind, None))

    async def active_threads(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        threads = [
            payloads.channel_payload(self.dd, t)
            for t in guild.threads
            if not t.deleted and not t.archived
        ]
        return json_response({"threads": threads, "members": []})

    # ----------------------------------------------------------------------------- users, guilds
    async def create_dm(self, request: web.Request) -> web.Response:
        uid = int((request[BODY] or {}).get("recipient_id") or 0)
        user = self.dd._users.get(uid)
        if user is None:
            raise ApiError(400, 50007, "Cannot send messages to this user")
        return json_response(payloads.channel_payload(self.dd, self.dd.dm_channel(user)))

    async def get_user(self, request: web.Request) -> web.Response:
        uid = int(request.match_info["uid"])
        if uid != self.dd.bot_user_id and uid not in self.dd._users:
            raise ApiError(404, 10013, "Unknown User")
        return json_response(payloads.user_payload(self.dd, uid))

    def _guild(self, request: web.Request) -> Any:
        guild = self.dd._guilds.get(int(request.match_info["gid"]))
        if guild is None or guild.removed:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

    async def get_guild(self, request: web.Request) -> web.Response:
        return json_response(payloads.partial_guild_payload(self.dd, self._guild(request)))

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response(
            [payloads.channel_payload(self.dd, c) for c in guild.channels if not c.deleted]
        )

    async def get_guild_roles(self, request: web.Request) -> web.Response:
        return json_response([payloads.role_payload(r) for r in self._guild(request).roles])

    async def list_members(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        limit = max(1, min(int(request.query.get("limit", 1)), 1000))
        after = int(request.query.get("after", 0))
        data = [payloads.bot_member_payload(self.dd, guild)] + [
            payloads.member_payload(self.dd, m) for m in guild.members
        ]
        data = sorted(
            (d for d in data if int(d["user"]["id"]) > after), key=lambda d: int(d["user"]["id"])
        )
        return json_response(data[:limit])

    async def get_member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        uid = int(request.match_info["uid"])
        if uid == self.dd.bot_user_id:
            return json_response(payloads.bot_member_payload(self.dd, guild))
        member = self.dd._members.get((guild.id, uid))
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return json_response(payloads.member_payload(self.dd, member))
