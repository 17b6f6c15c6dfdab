"""DiscordDouble: the server, the simulated Discord state, and the driver API tests use."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

from aiohttp import web

from . import builders, contract
from .builders import CommandError
from .contract import Violation
from .gateway import Gateway, Session
from .models import CallRecord, Channel, FaultRule, Guild, InteractionRecord, Member, Message, Perm
from .ratelimits import RateLimits
from .rest import RestApi
from .state import DiscordState, Waiter, _id

T = TypeVar("T")


class DiscordDouble(DiscordState):
    """A fake Discord (REST + gateway) on 127.0.0.1 that the real discord.py client talks to.

    Use ``async with DiscordDouble() as dd:`` then point discord.py at ``dd.api_base`` /
    ``dd.gateway_url`` (``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``).

    Note: ``wait_ready`` means READY and every GUILD_CREATE were written to the socket. discord.py
    fires ``on_ready`` later (``guild_ready_timeout`` after the last GUILD_CREATE, 2 s by default):
    tests should wait on the bot's own readiness (``await bot.wait_until_ready()``) for that, or
    build the bot with a small ``guild_ready_timeout``.
    """

    def __init__(
        self,
        *,
        token: str = "test-token",
        application_id: int | None = None,
        bot_name: str = "Breakroom",
        response_deadline: float = 3.0,
        host: str = "127.0.0.1",
        recommended_shards: int = 1,
        rate_limits: bool = False,
    ) -> None:
        super().__init__(
            token=token,
            application_id=application_id,
            bot_name=bot_name,
            response_deadline=response_deadline,
            host=host,
        )
        self.gateway = Gateway(self)
        self._rest = RestApi(self)
        self._runner: web.AppRunner | None = None
        #: the InteractionRecord of the latest ``autocomplete()``
        self.last_autocomplete: InteractionRecord | None = None
        #: check every request body against Discord's OpenAPI spec (tests/double/contract.py);
        #: a test of the double's own limits may turn it off to reach them
        self.check_contract = True
        #: every body the spec refused, in order (each was answered 400 / 50035)
        self.contract_violations: list[Violation] = []
        self._expecting_violations = 0
        #: the ``shards`` GET /gateway/bot recommends (what AutoShardedClient uses when it is
        #: given no shard_count)
        self.recommended_shards = recommended_shards
        #: Discord's rate limits (tests/double/ratelimits.py): off by default; ``.enabled``,
        #: ``.hits``, ``.reset()``, ``.configure(...)``
        self.rate_limits = RateLimits(enabled=rate_limits)

    # ============================================================================ lifecycle
    async def start(self) -> DiscordDouble:
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self._rest.middleware])
        self._rest.setup(app)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0, backlog=1024)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        await self.gateway.close()
        for waiter in self._waiters:
            waiter.future.cancel()
        self._waiters.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordDouble:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def identify_count(self) -> int:
        return self.gateway.identify_count

    @property
    def resume_count(self) -> int:
        return self.gateway.resume_count

    @property
    def interactions(self) -> list[InteractionRecord]:
        return list(self._interactions.values())

    @property
    def rejected_calls(self) -> list[CallRecord]:
        """REST calls the double refused (status >= 400), faults injected by fail_next included."""
        return [c for c in self.calls if c.status >= 400]

    def global_commands(self) -> list[dict[str, Any]]:
        return list(self._global_commands.values())

    def guild_commands(self, guild: Guild | int) -> list[dict[str, Any]]:
        return list(self._guild_commands.get(_id(guild), {}).values())

    # ============================================================================ interactions
    async def slash(
        self,
        member: Member,
        name: str,
        /,
        *,
        channel: Channel | None = None,
        options: dict[str, Any] | None = None,
        timeout: float = 10.0,
        strict: bool = True,
        locale: str | None = None,
        guild_locale: str | None = None,
        **values: Any,
    ) -> InteractionRecord:
        """Send a slash command, e.g. ``slash(m, "poll create", question="Q?")``.

        ``channel`` is where the command is used (default: the guild's first text channel); option
        values go in ``**values``, or in ``options={...}`` for option names that clash with the
        parameters (``channel``, ``options``, ``timeout``, ``strict``, ``locale``,
        ``guild_locale``: the member's Discord language and the server's, default en-US).
        ``strict=False`` sends
        values Discord's client would not offer (a thread for an option limited to text
        channels, a value outside the declared lengths, ranges or choices), as a modified client
        could.

        Returns once INTERACTION_CREATE is written (it does not wait for the answer)."""
        guild = self._guild_of(member)
        channel = channel or self._default_channel(guild)
        command, path = builders.find_command(self, guild.id, name)
        self._check_can_use(member, channel, command)
        data = builders.build_command_data(
            self,
            command,
            path,
            {**values, **(options or {})},
            guild,
            channel,
            member.id,
            strict=strict,
        )
        label = " ".join([command["name"], *(p["name"] for p in path)])
        ix = builders.new_interaction(
            self, 2, member, guild, channel, data, label, locale=locale, guild_locale=guild_locale
        )
        return await self._send_interaction(ix, timeout)

    async def slash_dm(
        self,
        user: Member,
        name: str,
        /,
        *,
        options: dict[str, Any] | None = None,
        timeout: float = 10.0,
        **values: Any,
    ) -> InteractionRecord:
        """A slash command used in the bot's DM.

        Needs a global sync; the payload has no guild_id and ``user`` instead of ``member``."""
        command, path = builders.find_command(self, None, name)
        contexts = command.get("contexts")
        if command.get("dm_permission") is False or (contexts is not None and 1 not in contexts):
            raise CommandError(f"/{command['name']} is not available in DMs (contexts={contexts})")
        channel = builders.dm_channel_for(self, user)
        data = builders.build_command_data(
            self, command, path, {**values, **(options or {})}, None, channel, user.id
        )
        label = " ".join([command["name"], *(p["name"] for p in path)])
        ix = builders.new_interaction(self, 2, user, None, channel, data, label)
        return await self._send_interaction(ix, timeout)

    async def autocomplete(
        self,
        member: Member,
        name: str,
        /,
        *,
        focused: str,
        channel: Channel | None = None,
        options: dict[str, Any] | None = None,
        timeout: float = 5.0,
        locale: str | None = None,
        **values: Any,
    ) -> list[dict[str, Any]]:
        """Send an autocomplete (type 4) for option ``focused`` and return the bot's choices."""
        guild = self._guild_of(member)
        channel = channel or self._default_channel(guild)
        command, path = builders.find_command(self, guild.id, name)
        self._check_can_use(member, channel, command)
        data = builders.build_command_data(
            self,
            command,
            path,
            {**values, **(options or {})},
            guild,
            channel,
            member.id,
            focused=focused,
        )
        label = " ".join([command["name"], *(p["name"] for p in path)])
        ix = builders.new_interaction(self, 4, member, guild, channel, data, label, locale=locale)
        self.last_autocomplete = await self._send_interaction(ix, timeout)
        response = await ix.response(timeout)
        if response["type"] != 8:
            raise AssertionError(
                f"autocomplete for /{label} answered with type {response['type']}, not 8"
            )
        return list(response["data"].get("choices") or [])

    async def click(
        self,
        member: Member,
        message: Message | int,
        custom_id: str,
        /,
        *,
        timeout: float = 10.0,
        locale: str | None = None,
    ) -> InteractionRecord:
        """Click the button ``custom_id`` on ``message`` (component interaction, type 3).

        On a message in a DM channel (``bot_message(dm_channel(user), ...)``) the click comes
        from a DM: no guild_id, and ``user`` instead of ``member``, as Discord sends it."""
        return await self._component(member, message, custom_id, None, timeout, locale)

    async def select(
        self,
        member: Member,
        message: Message | int,
        custom_id: str,
        /,
        values: list[Any],
        *,
        timeout: float = 10.0,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Choose ``values`` in a select menu.

        String values, or Member/Role/Channel objects for user/role/channel selects."""
        return await self._component(member, message, custom_id, list(values), timeout, locale)

    async def _component(
        self,
        member: Member,
        message: Message | int,
        custom_id: str,
        values: list[Any] | None,
        timeout: float,
        locale: str | None = None,
    ) -> InteractionRecord:
        msg = self._message_obj(message)
        channel = self._channels[msg.channel_id]
        guild = self._guilds.get(channel.guild_id or 0)
        data = builders.component_data(
            self,
            msg,
            custom_id,
            select_values=values,
            guild=guild,
            channel=channel,
            user_id=member.id,
        )
        ix = builders.new_interaction(
            self, 3, member, guild, channel, data, custom_id, message=msg, locale=locale
        )
        return await self._send_interaction(ix, timeout)

    async def submit_modal(
        self,
        member: Member,
        custom_id: str,
        values: dict[str, Any] | None = None,
        /,
        *,
        channel: Channel | None = None,
        message: Message | None = None,
        timeout: float = 10.0,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Submit the modal ``custom_id`` with {field custom_id: value}.

        If the bot showed that modal, the payload mirrors its layout (action rows or labels), the
        channel/message default to those of the interaction that opened it, and required fields,
        lengths and unknown field ids are checked like Discord's client would."""
        values = dict(values or {})
        known = self._modals.get(custom_id)
        modal, source = known if known else (None, None)
        if channel is None:
            channel = (
                self._channels[source.channel_id]
                if source
                else self._default_channel(self._guild_of(member))
            )
        if message is None and source is not None:
            message = source.message
        guild = self._guilds.get(channel.guild_id or 0)
        data = {"custom_id": custom_id, "components": builders.modal_components(modal, values)}
        ix = builders.new_interaction(
            self, 5, member, guild, channel, data, custom_id, message=message, locale=locale
        )
        return await self._send_interaction(ix, timeout)

    async def _send_interaction(self, ix: InteractionRecord, timeout: float) -> InteractionRecord:
        where = f"guild {ix.guild_id}" if ix.guild_id is not None else "DMs"
        session = await self.wait_until(
            lambda: self.gateway.session_for(ix.guild_id),
            timeout=timeout,
            what=f"a connected bot (the shard that owns {where}) to send {ix.name!r} to",
        )
        self._interactions[ix.id] = ix
        self._by_token[ix.token] = ix

        def stamp(now: float) -> None:
            ix.sent_at = now

        assert session is not None
        ix.shard = list(session.shard)
        fut = session.dispatch("INTERACTION_CREATE", ix.payload, before=stamp, want_future=True)
        try:
            if fut is None:
                raise ConnectionError("no connection")
            await fut
        except ConnectionError as exc:
            raise AssertionError(
                f"gateway connection lost while sending interaction {ix.name!r}: {exc}"
            ) from None
        self._notify()
        return ix

    def _check_can_use(self, member: Member, channel: Channel, command: dict[str, Any]) -> None:
        perms = self.permissions_for(member.id, channel)
        if not perms & Perm.VIEW_CHANNEL:
            raise CommandError(f"{member.name} cannot see #{channel.name}")
        needed = command.get("default_member_permissions")
        if (
            needed is not None
            and int(needed) & perms != int(needed)
            and not perms & Perm.ADMINISTRATOR
        ):
            raise CommandError(
                f"Discord hides /{command['name']} from {member.name}: it needs permissions "
                f"{needed} (default_member_permissions), the member has {perms}"
            )

    # ============================================================================ reading
    async def wait_for_message(
        self,
        channel: Channel | int,
        predicate: Callable[[Message], Any] | None = None,
        timeout: float = 5.0,
        *,
        include_ephemeral: bool = False,
    ) -> Message:
        """Wait for a message created or edited in ``channel`` that matches.

        Existing messages count; deferred ("thinking") messages do not until edited."""
        pred = predicate or (lambda _m: True)

        def find() -> Message | None:
            for m in reversed(self.messages(channel, include_ephemeral=include_ephemeral)):
                if not m.loading and pred(m):
                    return m
            return None

        try:
            return await self.wait_until(
                find,
                timeout=timeout,
                what=f"a message in channel {_id(channel)} matching {_describe(pred)}",
            )
        except AssertionError as exc:
            seen = [
                (m.id, m.text[:80], "ephemeral" if m.ephemeral else "")
                for m in self.messages(channel, include_ephemeral=True)[-8:]
            ]
            raise AssertionError(f"{exc}\nmessages in that channel (last 8): {seen}") from None

    async def wait_until(
        self, predicate: Callable[[], T | None], timeout: float = 5.0, what: str | None = None
    ) -> T:
        """Wait until ``predicate()`` is truthy and return its value.

        It is re-checked whenever the double changes (a REST call, a gateway event, ...). For the
        bot's own state (its cache), use ``settle()`` or the bot's events instead."""
        waiter = Waiter(predicate)
        value = waiter.check()
        if value or waiter.future.done():
            return cast(T, waiter.future.result())
        self._waiters.append(waiter)
        try:
            return cast(T, await asyncio.wait_for(waiter.future, timeout))
        except TimeoutError:
            error = f" (last error: {waiter.last_error!r})" if waiter.last_error else ""
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what or _describe(predicate)}{error}"
                + self._recent_calls_text()
            ) from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    async def settle(self, timeout: float = 5.0) -> None:
        """Wait until the bot has read every gateway event sent so far (its cache is up to date and
        its ``on_*`` listeners are scheduled). Use before asserting on the bot's own state."""
        try:
            await asyncio.wait_for(self.gateway.barrier(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"timed out after {timeout}s waiting for the bot to read the gateway"
                + self._recent_calls_text()
            ) from None

    async def wait_ready(self, timeout: float = 10.0, *, shard_count: int | None = None) -> None:
        """Wait until a bot IDENTIFIED and READY plus every GUILD_CREATE were sent; with
        ``shard_count``, until every one of that many shards did (one process or several).

        This is not on_ready: discord.py fires that ``guild_ready_timeout`` later."""
        if shard_count is None:
            await self.wait_until(
                self.gateway.live_session, timeout=timeout, what="a bot to IDENTIFY and get READY"
            )
            return
        await self.wait_until(
            lambda: self.gateway.all_shards_live(shard_count),
            timeout=timeout,
            what=f"all {shard_count} shards to IDENTIFY and get READY",
        )

    # ============================================================================ contract
    def _record_violations(self, found: list[Violation]) -> None:
        self.contract_violations.extend(found)
        if not self._expecting_violations:
            contract.UNEXPECTED.extend(found)  # tests/conftest.py fails the test at teardown

    @contextlib.contextmanager
    def expect_contract_violations(self) -> Iterator[list[Violation]]:
        """Bodies sent inside the block are meant to break Discord's contract: the violations
        are still answered 400 / 50035 but don't fail the test. Yields a list, filled with the
        violations on leaving the block; leaving it without any is an AssertionError."""
        start = len(self.contract_violations)
        seen: list[Violation] = []
        self._expecting_violations += 1
        try:
            yield seen
        finally:
            self._expecting_violations -= 1
        seen.extend(self.contract_violations[start:])
        assert seen, "expected the spec to refuse a body sent in this block; none was refused"

    # ============================================================================ faults
    def fail_next(
        self,
        method: str,
        path: str,
        status: int = 429,
        times: int = 1,
        retry_after: float = 0.05,
        *,
        is_global: bool = False,
        code: int = 0,
        message: str | None = None,
        lose_reply: bool = False,
        reset_after: float | None = None,
    ) -> FaultRule:
        """Answer the next ``times`` requests matching (method, regex fullmatch on the path below
        /api/v10) with ``status``. 429s carry Discord's body and headers; 5xx make discord.py retry
        after 1 s, 3 s, ... With ``lose_reply`` the request takes effect first (Discord wrote the
        message, then its answer was lost). ``status=0`` drops the connection instead of
        answering (the network failing)."""
        rule = FaultRule(
            method=method.upper(),
            pattern=re.compile(path),
            status=status,
            remaining=times,
            retry_after=retry_after,
            is_global=is_global,
            code=code,
            message=message,
            lose_reply=lose_reply,
            reset_after=reset_after,
        )
        self._faults.append(rule)
        return rule

    async def drop_gateway(
        self,
        code: int = 4000,
        *,
        wait: bool = True,
        timeout: float = 10.0,
        shard_id: int | None = None,
    ) -> None:
        """Close the bot's socket abnormally (every shard's, or shard ``shard_id``'s only);
        discord.py RESUMEs.

        RESUMED is answered after replaying the events dispatched while the bot was away (none
        usually). ``wait``: return once it resumed (or re-identified)."""
        generation = self.gateway.ready_generation
        dropped = await self.gateway.drop(code, shard_id)
        if not dropped:
            raise AssertionError("drop_gateway: no bot is connected" + _shard_text(shard_id))
        if wait:
            await self._wait_back(dropped, generation, timeout, "reconnect after drop_gateway")

    async def invalidate_session(
        self, *, wait: bool = True, timeout: float = 10.0, shard_id: int | None = None
    ) -> None:
        """Send op 9 (d=false) to every shard (or shard ``shard_id``); discord.py re-IDENTIFIES
        and gets READY + GUILD_CREATEs again."""
        generation = self.gateway.ready_generation
        invalidated = self.gateway.invalidate(shard_id)
        if not invalidated:
            raise AssertionError("invalidate_session: no bot is connected" + _shard_text(shard_id))
        if wait:
            await self._wait_back(
                invalidated, generation, timeout, "re-IDENTIFY after invalidate_session"
            )

    async def request_reconnect(
        self, *, wait: bool = True, timeout: float = 10.0, shard_id: int | None = None
    ) -> None:
        """Send op 7 RECONNECT to every shard (or shard ``shard_id``); discord.py closes and
        RESUMEs."""
        generation = self.gateway.ready_generation
        asked = self.gateway.request_reconnect(shard_id)
        if not asked:
            raise AssertionError("request_reconnect: no bot is connected" + _shard_text(shard_id))
        if wait:
            await self._wait_back(asked, generation, timeout, "reconnect after op 7")

    async def _wait_back(
        self, sessions: list[Session], generation: int, timeout: float, what: str
    ) -> None:
        away = [list(s.shard) for s in sessions]
        await self.wait_until(
            lambda: self.gateway.back_since(away, generation),
            timeout=timeout,
            what=f"the bot to {what} (shards {away})",
        )


def _shard_text(shard_id: int | None) -> str:
    return "" if shard_id is None else f" on shard {shard_id}"


def _describe(fn: Callable[..., Any]) -> str:
    try:
        return inspect.getsource(fn).strip()
    except (OSError, TypeError):
        return repr(fn)
