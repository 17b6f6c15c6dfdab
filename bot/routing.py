"""Breakroom's own buttons and forms, answered from their custom_id as the gateway hands them over.

discord.py answers a button click by rebuilding the clicked message as objects (every component of
its layout), then a whole view from it, then the clicked item from its custom_id. Breakroom's
buttons and forms carry everything they need in their custom_id, so a route here answers them
straight from the INTERACTION_CREATE payload: one `discord.Interaction` (without the message,
for a route that doesn't read it), one task, the handler. A poll with hundreds of members clicking
at once pays for its votes, not for rebuilding its message on every click. Interactions no route
claims (slash commands, autocomplete, other buttons) go to discord.py as before.

A route works after a restart (nothing is kept in memory but the route) and is shared by every
member who clicks, so two clicks never share an object.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from bot.errors import NotFound
from bot.i18n import _, speak
from bot.text import is_number, parse_id

log = logging.getLogger(__name__)

#: INTERACTION_CREATE's `type` for a component (button, select) and for a modal submission
COMPONENT, MODAL = 3, 5

Handler = Callable[[discord.Interaction[Any], re.Match[str]], Awaitable[None]]
#: what a member is told of an error (`bot.client.report_error`)
OnError = Callable[[discord.Interaction[Any], BaseException], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Route:
    kind: int
    regex: re.Pattern[str]
    #: the template's literal start: most custom ids are told apart by it without the regex
    prefix: str
    handler: Handler
    #: what a member reads when the custom_id names an id no row can have (marked, not yet
    #: translated)
    unknown: str
    #: whether the handler reads `interaction.message` (parsing it is most of a click's cost)
    message: bool


def literal_prefix(template: str) -> str:
    """The part of a regex template before its first special character."""
    match = re.match(r"[\w:\-]*", template)
    return match.group(0) if match else ""


def modal_values(data: Any) -> dict[str, str]:
    """{field custom_id: value} from a modal submission (action rows or label components)."""
    values: dict[str, str] = {}

    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            yield node
            for child in (node.get("components"), node.get("component")):
                yield from walk(child)
        elif isinstance(node, list):
            for child in node:
                yield from walk(child)

    for node in walk((data or {}).get("components")):
        if "custom_id" in node and isinstance(node.get("value"), str):
            values[node["custom_id"]] = node["value"]
    return values


class Router:
    """Routes by custom_id, installed on discord.py's parser of INTERACTION_CREATE (`install`).

    Like the commands, routed buttons and forms work inside a server only (a click from a DM is
    told `dm_message`), and a custom_id naming a number beyond any id (≥ 2**63) is answered with
    the route's `unknown` message; every error goes to `on_error`."""

    def __init__(self, on_error: OnError, dm_message: str) -> None:
        self.on_error = on_error
        self.dm_message = dm_message
        self._routes: dict[str, Route] = {}
        self._by_kind: dict[int, tuple[Route, ...]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def add(
        self, kind: int, template: str, handler: Handler, *, unknown: str, message: bool = True
    ) -> None:
        """Answer interactions of `kind` whose custom_id matches `template` with `handler`."""
        regex = re.compile(template)
        self._routes[template] = Route(
            kind, regex, literal_prefix(template), handler, unknown, message
        )
        self._index()

    def remove(self, template: str) -> None:
        self._routes.pop(template, None)
        self._index()

    def _index(self) -> None:
        kinds: dict[int, list[Route]] = {}
        for route in self._routes.values():
            kinds.setdefault(route.kind, []).append(route)
        self._by_kind = {kind: tuple(routes) for kind, routes in kinds.items()}

    def install(self, state: Any) -> None:
        """Take INTERACTION_CREATE from discord.py's `ConnectionState` (before the gateway
        connects: each connection reads the parsers then); what no route claims goes on to it."""
        parsers: dict[str, Callable[[Any], None]] = state.parsers
        fallback = parsers["INTERACTION_CREATE"]

        def parse_interaction_create(data: Any) -> None:
            if not self.claim(state, data):
                fallback(data)

        parsers["INTERACTION_CREATE"] = parse_interaction_create

    def claim(self, state: Any, data: Any) -> bool:
        routes = self._by_kind.get(data.get("type", 0))
        if not routes:
            return False
        custom_id = (data.get("data") or {}).get("custom_id")
        if not isinstance(custom_id, str):
            return False
        for route in routes:
            if not custom_id.startswith(route.prefix):
                continue
            match = route.regex.fullmatch(custom_id)
            if match is None:
                continue
            if self._closed:  # stopping: left alone rather than answered into a closed session
                return True
            if not route.message and "message" in data:
                data = {key: value for key, value in data.items() if key != "message"}
            interaction: discord.Interaction[Any] = discord.Interaction(data=data, state=state)
            task = asyncio.create_task(self.answer(route, interaction, match))
            self._tasks.add(task)
            task.add_done_callback(self._done)
            state.dispatch("interaction", interaction)
            return True
        return False

    async def answer(
        self, route: Route, interaction: discord.Interaction[Any], match: re.Match[str]
    ) -> None:
        speak(interaction.locale.value)  # replies in the member's language
        try:
            if interaction.guild_id is None:
                raise app_commands.NoPrivateMessage(self.dm_message)
            if any(is_number(g) and parse_id(g) is None for g in match.groups() if g):
                raise NotFound(_(route.unknown))
            await route.handler(interaction, match)
        except Exception as error:
            await self.on_error(interaction, error)

    async def close(self, timeout: float = 5.0) -> None:
        """Stop taking interactions, and let those under way be answered (the bot is stopping:
        its HTTP session closes next, so an answer after that would fail)."""
        self._closed = True
        if self._tasks:
            _done, late = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("a routed interaction failed", exc_info=error)
