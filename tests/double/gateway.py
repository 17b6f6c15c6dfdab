"""The gateway: HELLO, IDENTIFY/READY/GUILD_CREATE, heartbeats, RESUME, and sharding.

Several sessions may be live at once, one per shard (from one process or several): every
event goes to the session(s) whose shard owns its guild, as on Discord (tests/double/shards.py).
A bot that does not shard identifies as [0, 1] and gets everything.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import payloads, shards
from .connection import Connection

if TYPE_CHECKING:
    from .double import DiscordDouble

HEARTBEAT_INTERVAL_MS = 41250


@dataclass(eq=False)
class Session:
    id: str
    intents: int
    #: [shard_id, shard_count] from IDENTIFY ([0, 1] for a bot that does not shard)
    shard: list[int]
    seq: int = 0
    conn: Connection | None = None
    ready: bool = False
    valid: bool = True
    backlog: list[dict[str, Any]] = field(default_factory=list)
    #: the gateway's ready_generation when this session last became ready (0: never)
    ready_at: int = 0

    @property
    def live(self) -> bool:
        """Valid, READY (or RESUMED) and connected: events reach the bot now."""
        return self.valid and self.ready and self.conn is not None and not self.conn.closed

    def owns(self, guild_id: int | None) -> bool:
        """Whether Discord sends this session the events of ``guild_id`` (None: DMs)."""
        return shards.owns(self.shard, guild_id)

    def dispatch(self, event: str, data: Any, **kwargs: Any) -> asyncio.Future[float] | None:
        self.seq += 1
        payload = {"op": 0, "t": event, "s": self.seq, "d": data}
        if self.conn is not None and not self.conn.closed:
            return self.conn.send(payload, **kwargs)
        self.backlog.append(payload)
        return None


class Gateway:
    def __init__(self, dd: DiscordDouble) -> None:
        self.dd = dd
        self.connections: set[Connection] = set()
        #: every session ever identified, oldest first
        self.sessions: dict[str, Session] = {}
        #: the session identified last (each session has its own intents: see ``targets``)
        self.current: Session | None = None
        self.identify_count = 0
        self.resume_count = 0
        #: bumped whenever a session becomes ready (READY+GUILD_CREATEs sent, or RESUMED sent)
        self.ready_generation = 0
        #: the ``compress`` query of every connection, in order ("zlib-stream", "zstd-stream", None)
        self.compressions: list[str | None] = []
        #: every op the bot sent, as (op, d) — heartbeats excluded
        self.received: list[tuple[Any, Any]] = []
        #: settle() waiters: (session, sequence number the bot must have read, future)
        self._barriers: list[tuple[Session, int, asyncio.Future[None]]] = []

    # ----------------------------------------------------------------------------- queries
    def live_sessions(self, shard_id: int | None = None) -> list[Session]:
        """The sessions events reach now (of shard ``shard_id`` only, if given), oldest first."""
        return [
            s
            for s in self.sessions.values()
            if s.live and (shard_id is None or s.shard[0] == shard_id)
        ]

    def live_session(self) -> Session | None:
        """The live session identified last (any shard)."""
        live = self.live_sessions()
        return live[-1] if live else None

    def session_for(self, guild_id: int | None) -> Session | None:
        """The live session whose shard owns ``guild_id`` (None: a DM, shard 0): where Discord
        sends that guild's interactions. The latest one, if two shard layouts overlap."""
        live = [s for s in self.live_sessions() if s.owns(guild_id)]
        return live[-1] if live else None

    def all_shards_live(self, shard_count: int) -> bool:
        """Every shard of a ``shard_count``-shard bot has a live session."""
        have = {s.shard[0] for s in self.live_sessions() if s.shard[1] == shard_count}
        return have >= set(range(shard_count))

    def targets(self, guild_id: int | None, intent: int | None = None) -> list[Session]:
        """The sessions that get an event of ``guild_id`` (None: a DM event): valid ones whose
        shard owns the guild and that asked for ``intent``. A disconnected one queues it for its
        RESUME."""
        return [
            s
            for s in self.sessions.values()
            if s.valid and s.owns(guild_id) and (intent is None or s.intents & intent)
        ]

    def dispatch(
        self, event: str, data: Any, intent: int | None = None, *, guild_id: int | None
    ) -> int:
        """Send an event of ``guild_id`` (None: not in a guild, e.g. a DM) to the sessions
        whose shard owns it. Returns how many sessions got it."""
        sessions = self.targets(guild_id, intent)
        for s in sessions:
            s.dispatch(event, data)
        return len(sessions)

    # ----------------------------------------------------------------------------- socket
    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="expected a websocket upgrade")
        await ws.prepare(request)
        self.compressions.append(request.query.get("compress"))
        try:
            conn = Connection(ws, request.query.get("compress"))
        except ValueError as exc:
            await ws.close(code=4000, message=str(exc).encode())
            return ws
        self.connections.add(conn)
        conn.send(
            {"op": 10, "s": None, "t": None, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}
        )
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_message(conn, json.loads(msg.data))
                elif msg.type == WSMsgType.BINARY:
                    await self._on_message(conn, json.loads(msg.data.decode()))
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            session = conn.session
            if ws.close_code in (1000, 1001) and session is not None and session.conn is conn:
                session.valid = False  # like Discord: a clean close ends the session
            self._detach(conn)
            self.connections.discard(conn)
            await conn.wait_writer()
        return ws

    def _detach(self, conn: Connection) -> None:
        conn.closed = True
        s = conn.session
        if s is not None and s.conn is conn:
            s.conn = None
            s.ready = False
            self.dd._notify()

    async def _on_message(self, conn: Connection, msg: dict[str, Any]) -> None:
        op = msg.get("op")
        d = msg.get("d")
        if op == 1:
            conn.send({"op": 11, "s": None, "t": None, "d": None})
            self._release_barriers(conn.session, d)
            return
        self.received.append((op, d))
        if op == 2:
            await self._identify(conn, d or {})
        elif op == 6:
            await self._resume(conn, d or {})
        elif op == 8:
            self._request_members(conn, d or {})
        # op 3 (presence), 4 (voice state) and others are accepted silently

    async def _identify(self, conn: Connection, d: dict[str, Any]) -> None:
        if d.get("token") != self.dd.token:
            await conn.close(4004, "Authentication failed.")
            return
        if conn.session is not None:
            await conn.close(4005, "Already authenticated.")
            return
        shard = shards.parse(d.get("shard"))
        if shard is None:
            await conn.close(*shards.INVALID_SHARD)
            return
        guilds = [g for g in self.dd._guilds.values() if not g.removed and shards.owns(shard, g.id)]
        if len(guilds) > shards.MAX_GUILDS_PER_SHARD:
            await conn.close(*shards.SHARDING_REQUIRED)
            return
        session = Session(id=secrets.token_hex(16), intents=int(d.get("intents") or 0), shard=shard)
        for old in self.sessions.values():
            if old.shard == shard:
                old.valid = False  # this shard's events go to the new session from now on
        self.sessions[session.id] = session
        self.current = session
        session.conn = conn
        conn.session = session
        self.identify_count += 1
        session.dispatch("READY", payloads.ready_payload(self.dd, session.id, shard, guilds))
        for guild in guilds:
            session.dispatch("GUILD_CREATE", payloads.guild_payload(self.dd, guild))
        self._after_flush(session, conn)

    def _after_flush(self, session: Session, conn: Connection) -> None:
        """Mark ``session`` ready once everything queued so far on ``conn`` has been written."""
        conn.send_marker(lambda: self._mark_ready(session, conn))

    def _mark_ready(self, session: Session, conn: Connection) -> None:
        if session.conn is conn and session.valid:
            session.ready = True
            self.ready_generation += 1
            session.ready_at = self.ready_generation
            self.dd._notify()

    async def _resume(self, conn: Connection, d: dict[str, Any]) -> None:
        if d.get("token") != self.dd.token:
            await conn.close(4004, "Authentication failed.")
            return
        session = self.sessions.get(str(d.get("session_id")))
        if session is None or not session.valid:
            conn.send({"op": 9, "s": None, "t": None, "d": False})
            return
        if session.conn is not None and session.conn is not conn:
            old = session.conn
            self._detach(old)
            await old.close(4000, "session resumed elsewhere")
        session.conn = conn
        conn.session = session
        self.resume_count += 1
        backlog, session.backlog = session.backlog, []
        for payload in backlog:
            conn.send(payload)
        session.seq += 1
        conn.send({"op": 0, "t": "RESUMED", "s": session.seq, "d": {}})
        self._after_flush(session, conn)

    def _request_members(self, conn: Connection, d: dict[str, Any]) -> None:
        session = conn.session
        if session is None:
            return
        guild = self.dd._guilds.get(int(d.get("guild_id") or 0))
        if guild is None or not session.owns(guild.id):
            return  # Discord answers only for guilds on the requesting shard
        members = [payloads.bot_member_payload(self.dd, guild)]
        members += [payloads.member_payload(self.dd, m) for m in guild.members]
        user_ids = d.get("user_ids")
        if user_ids:
            wanted = {str(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
            members = [m for m in members if m["user"]["id"] in wanted]
        query = d.get("query") or ""
        if query:
            members = [
                m for m in members if m["user"]["username"].lower().startswith(query.lower())
            ]
        limit = int(d.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if d.get("nonce") is not None:
            chunk["nonce"] = d["nonce"]
        if d.get("presences"):
            chunk["presences"] = []
        session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    def barrier(self) -> asyncio.Future[Any]:
        """A future done once the bot has read every event sent so far, on every live session
        (every shard).

        The server asks for a heartbeat (op 1); discord.py answers with the last sequence number it
        read, and only after its (synchronous) parsers ran for the events before it."""
        live = self.live_sessions()
        if not live:
            raise AssertionError("no bot is connected to the gateway")
        futures = []
        for s in live:
            assert s.conn is not None
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._barriers.append((s, s.seq, fut))
            s.conn.send({"op": 1, "s": None, "t": None, "d": None})
            futures.append(fut)
        return asyncio.gather(*futures)

    def _release_barriers(self, session: Session | None, seq: Any) -> None:
        if not self._barriers or session is None or not isinstance(seq, int):
            return
        pending = []
        for s, target, fut in self._barriers:
            if s is session and seq >= target:
                if not fut.done():
                    fut.set_result(None)
            elif not fut.done():
                pending.append((s, target, fut))
        self._barriers = pending

    # ----------------------------------------------------------------------------- faults
    def connected(self, shard_id: int | None = None) -> list[Session]:
        """Valid sessions with an open socket (of shard ``shard_id`` only, if given)."""
        return [
            s
            for s in self.sessions.values()
            if s.valid
            and s.conn is not None
            and not s.conn.closed
            and (shard_id is None or s.shard[0] == shard_id)
        ]

    def back_since(self, shards_away: Iterable[list[int]], generation: int) -> bool:
        """Every shard in ``shards_away`` has a live session that became ready after
        ``generation`` (the same session RESUMED, or a new one IDENTIFIED)."""
        live = self.live_sessions()
        return all(
            any(s.shard == shard and s.ready_at > generation for s in live) for shard in shards_away
        )

    async def drop(self, code: int = 4000, shard_id: int | None = None) -> list[Session]:
        """Close the sockets of the connected sessions (not a clean close: discord.py will
        RESUME). Returns the sessions dropped."""
        dropped = self.connected(shard_id)
        for s in dropped:
            conn = s.conn
            assert conn is not None
            self._detach(conn)
            await conn.close(code, "dropped by the test double")
        return dropped

    def invalidate(self, shard_id: int | None = None) -> list[Session]:
        """Op 9 (not resumable) to the connected sessions; returns them."""
        sessions = self.connected(shard_id)
        for s in sessions:
            assert s.conn is not None
            s.valid = False
            s.ready = False
            s.conn.send({"op": 9, "s": None, "t": None, "d": False})
        self.dd._notify()
        return sessions

    def request_reconnect(self, shard_id: int | None = None) -> list[Session]:
        """Op 7 RECONNECT to the connected sessions; returns them."""
        sessions = self.connected(shard_id)
        for s in sessions:
            assert s.conn is not None
            s.conn.send({"op": 7, "s": None, "t": None, "d": None})
        return sessions

    async def close(self) -> None:
        for conn in list(self.connections):
            self._detach(conn)
            await conn.close(1001, "double shutting down")
