"""Helpers for the fault suite (test_faults_*, test_permissions, test_fuzz, test_backup).

No tests here. Everything reads what a member sees (the double's records) or what is stored (a
dump of every table), so a test can say "refused, and nothing changed" in one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from discord import AppCommandOptionType as OptionType
from discord import app_commands

from bot.client import Breakroom
from bot.db import Database
from tests.double import Channel, DiscordDouble, InteractionRecord, Member, Role
from tests.double import builders as double_builders
from tests.double.models import walk_components
from tests.support import PG_TABLES, endpoints

T = TypeVar("T")
Dump = dict[str, list[tuple[Any, ...]]]

#: What report_error answers for an unexpected exception (a bug).
UNEXPECTED = "Something went wrong on our side (reference"

_TABLES = (
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_stat%'"
    " ORDER BY name"
)


@pytest.fixture(name="dd")
async def rate_limited_dd() -> AsyncIterator[DiscordDouble]:
    """The `dd` fixture (and so `world`) with Discord's rate limits on: the fault suite meets
    them as the bot would on Discord. A test module imports it to replace conftest's `dd`."""
    async with DiscordDouble(rate_limits=True) as double, endpoints(double):
        yield double


def _sorted(rows: list[Any]) -> list[tuple[Any, ...]]:
    return sorted((tuple(row) for row in rows), key=repr)


async def dump_db(db: Database) -> Dump:
    """Every row of every table (sqlite_sequence included), in one consistent read."""
    async with db.reading() as tx:
        listing = _TABLES if db.backend == "sqlite" else PG_TABLES
        names = [row[0] for row in await tx.fetchall(listing)]
        return {name: _sorted(await tx.fetchall(f'SELECT * FROM "{name}"')) for name in names}


def dump_file(path: Path) -> Dump:
    """The same dump from a database file (a backup, or a stopped bot's database)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [row[0] for row in conn.execute(_TABLES)]
        return {name: _sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall()) for name in names}
    finally:
        conn.close()


async def eventually(
    check: Callable[[], Awaitable[T | None]], timeout: float = 5.0, what: str = "a condition"
) -> T:
    """Poll an async condition (the database, a process) until it holds; for state the double
    can't wake us on. Polls every 20 ms: waiting for the event, not a fixed sleep."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


def changed_tables(before: Dump, after: Dump) -> list[str]:
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


def text_of(data: dict[str, Any] | None) -> str:
    """Everything a member reads in a message payload: content, embeds, text displays."""
    data = data or {}
    parts = [str(data.get("content") or "")]
    for embed in data.get("embeds") or []:
        parts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        parts += [f"{f.get('name')}\n{f.get('value')}" for f in embed.get("fields") or []]
        parts.append(str((embed.get("footer") or {}).get("text") or ""))
    for component in walk_components(list(data.get("components") or [])):
        if component.get("type") == 10:  # a text display (Components V2)
            parts.append(str(component.get("content") or ""))
    return "\n".join(p for p in parts if p)


async def answer_text(ix: InteractionRecord, timeout: float = 5.0) -> str:
    """What the member reads in answer to an interaction (after a deferral: the follow-up)."""
    response = await ix.response(timeout=timeout)
    if response["type"] == 5:
        return (await ix.wait_followup(timeout=timeout)).text
    if response["type"] == 9:
        return f"[modal {response['data'].get('custom_id')}]"
    if response["type"] == 8:
        return f"[{len(response['data'].get('choices') or [])} choices]"
    return text_of(response.get("data"))


# --- the command tree -----------------------------------------------------------------------

AppCommand = app_commands.Command[Any, Any, Any]


def leaf_commands(bot: Breakroom) -> list[AppCommand]:
    """Every slash command that can be invoked (subcommands, not their groups)."""
    return [c for c in bot.tree.walk_commands() if isinstance(c, app_commands.Command)]


def is_manager_command(command: AppCommand) -> bool:
    """Manage Server by default: on the command itself, or on a group it belongs to."""
    node: AppCommand | app_commands.Group | None = command
    while node is not None:
        permissions = node.default_permissions
        if permissions is not None:
            return bool(permissions.manage_guild)
        node = node.parent
    return False


@contextlib.contextmanager
def server_override(dd: DiscordDouble, name: str) -> Iterator[None]:
    """The server changed the command's permissions in Integrations settings (anyone may use it):
    Discord then shows it to every member and sends their interactions. The bot can't tell."""
    guild_ids = list(dd._guild_commands)
    command = None
    for guild_id in [*guild_ids, None]:
        with contextlib.suppress(double_builders.CommandError):
            command, _ = double_builders.find_command(dd, guild_id, name)
            break
    assert command is not None, f"/{name} is not synced"
    saved = command.get("default_member_permissions")
    command["default_member_permissions"] = None
    try:
        yield
    finally:
        command["default_member_permissions"] = saved


class Fixtures:
    """Valid values for every kind of option, so a refusal can't come from the value itself."""

    def __init__(
        self,
        *,
        team: str,
        channel: Channel,
        role: Role,
        member: Member,
        prompt_id: int,
        post_id: int,
        poll_id: int,
        reflection_ref: str,
    ) -> None:
        self.team = team
        self.channel = channel
        self.role = role
        self.member = member
        self.prompt_id = prompt_id
        self.post_id = post_id
        self.poll_id = poll_id
        self.reflection_ref = reflection_ref

    def value(self, parameter: app_commands.Parameter) -> Any:
        kind = parameter.type
        if parameter.choices:
            return parameter.choices[0].value
        if kind is OptionType.string:
            return self.string(parameter)
        if kind in (OptionType.integer, OptionType.number):
            low = parameter.min_value if parameter.min_value is not None else 1
            return int(low) if kind is OptionType.integer else float(low)
        if kind is OptionType.boolean:
            return True
        if kind is OptionType.channel:
            return self.channel
        if kind is OptionType.role:
            return self.role
        if kind in (OptionType.user, OptionType.mentionable):
            return self.member
        if kind is OptionType.attachment:
            return ("notes.txt", b"a file")
        raise AssertionError(f"no value for option {parameter.name!r} of type {kind}")

    def string(self, parameter: app_commands.Parameter) -> str:
        by_name = {
            "team": self.team,
            "name": "Mail room",
            "timezone": "Europe/London",
            "time": "10:30",
            "prompt": str(self.prompt_id),
            "post": str(self.post_id),
            "poll": str(self.poll_id),
            "code": self.reflection_ref,
            "dismiss": self.reflection_ref,
            "text": "What makes a good week at the front desk?",
            "question": "Which shift works best?",
            "options": "Early | Late",
            "duration": "2h",
        }
        value = by_name.get(parameter.name, "something")
        if parameter.max_value is not None:  # a string's max_value is its maximum length
            value = value[: int(parameter.max_value)]
        return value

    def options(self, command: AppCommand) -> dict[str, Any]:
        return {p.name: self.value(p) for p in command.parameters}
