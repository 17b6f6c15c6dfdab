"""Bad input, generated (issue 7): every registered command with random option values.

Hypothesis draws a command from the bot's own tree (so a command added later is covered), who
uses it, where, and a value for each option: text with mentions (@everyone, <@id>, <@&id>),
markdown, zero-width and right-to-left characters, up to Discord's 6000 characters where the
command sets no limit; numbers at the edges of their range; real ids and names mixed with junk.
A modal the bot opens is filled the same way, and options with autocomplete are typed into.

For every interaction: Discord accepted an answer within 3 s; it is not the "Something went
wrong" of an unexpected exception; nothing was logged at ERROR; when the answer is an error, no
table changed. And over the whole run no message the bot sent or edited could ping anyone,
except the team-role mention a manager asked for on a prompt post: every payload with content
carries allowed_mentions with no `parse` and no users or roles (an edit that sends only embeds
may leave it out: embeds never ping).

One bot serves the whole run: Hypothesis runs in a worker thread and hands each interaction to
the test's event loop, where the bot lives. Derandomized, no shrinking (the bot keeps state
between examples, so a replay is not the same experiment), no example database.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import strategies as st

import bot.client
from bot.client import Breakroom
from tests.double import (
    Channel,
    CommandError,
    DiscordDouble,
    InteractionRecord,
    Member,
    Perm,
    Role,
)
from tests.double.models import walk_components
from tests.faults_support import (
    UNEXPECTED,
    AppCommand,
    Dump,
    changed_tables,
    dump_db,
    eventually,
    leaf_commands,
)
from tests.support import World

T = TypeVar("T")
OptionType = Any

#: Examples per command (about 25 commands: ~250 in all).
EXAMPLES = 20
DISCORD_MAX_STRING = 6000
INT_LIMIT = 2**53
ROLE_PING = re.compile(r"^<@&(\d+)>$")


class Office:
    """The world the examples run in: a team with a role and some history, and the references
    a member might type (team name, poll id, reflection code)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.dd: DiscordDouble = world.dd
        self.bot: Breakroom = world.bot
        self.team_name = "Front desk"
        self.role: Role | None = None
        self.other: Channel | None = None
        self.closed_off: Channel | None = None
        self.refs: list[str] = []
        #: interaction ids answered by the bot's error renderer (report_error)
        self.errors: set[int] = set()

    @property
    def people(self) -> list[Member]:
        return [self.world.manager, *self.world.members]

    @property
    def channels(self) -> list[Channel]:
        assert self.other is not None and self.closed_off is not None
        return [self.world.channel, self.world.channel, self.other, self.closed_off]

    @property
    def roles(self) -> list[Role]:
        assert self.role is not None
        return [self.role, self.world.guild.everyone]


def mentions(office: Office) -> list[str]:
    member, role = office.world.members[0], office.role
    assert role is not None
    return [
        "@everyone",
        "@here",
        f"<@{member.id}>",
        f"<@!{member.id}>",
        f"<@&{role.id}>",
        f"<@&{office.world.guild.id}>",
        f"<#{office.world.channel.id}>",
        "</help:1>",
    ]


TRICKY = [
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",  # byte-order mark
    "\u202e",  # right-to-left override
    "\u2067",  # right-to-left isolate
    "\u200f",  # right-to-left mark
    "مرحبا",
    "שלום",
    "👩🏽‍💻",
    "é",
    "e\u0301",  # e + combining acute
    "\x00",
    "\t",
    "\n",
    "  ",
    "**bold**",
    "__under__",
    "~~gone~~",
    "`code`",
    "```\nblock\n```",
    "||spoiler||",
    "> quote",
    "# Heading",
    "-# small",
    "[link](https://example.com)",
    "\\",
    "|",
    " | ",
    "||",
    "%s",
    "{0}",
    "'; DROP TABLE teams; --",
    "#",
    "R-",
    "0",
    "-1",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "30m",
    "0m",
    "5w",
    "24:00",
    "09:30",
    "UTC",
    "Mars/Olympus",
]


def text(office: Office, refs: list[str]) -> st.SearchStrategy[str]:
    piece = st.one_of(
        st.sampled_from(TRICKY + mentions(office) + refs),
        st.text(max_size=12),
    )
    pieces = st.lists(piece, max_size=8).map("".join)
    long = st.builds(
        lambda unit, n: unit * n,
        st.sampled_from(["a", "💬", "\u200b", "@everyone ", "é", "| x "]),
        st.integers(0, DISCORD_MAX_STRING),
    )
    return st.one_of(pieces, pieces, pieces, long)


def fit(value: str, low: int | None, high: int | None) -> str:
    """Within the option's declared lengths (Discord's client enforces them)."""
    value = value[: high if high is not None else DISCORD_MAX_STRING]
    if low is not None and len(value) < low:
        value += "x" * (low - len(value))
    return value


def option_value(office: Office, parameter: Any) -> st.SearchStrategy[Any]:
    kind = parameter.type.name
    if parameter.choices:
        return st.sampled_from([c.value for c in parameter.choices])
    if kind == "string":
        refs = [office.team_name, *office.refs]
        low, high = parameter.min_value, parameter.max_value
        return text(office, refs).map(lambda v: fit(v, low, high))
    if kind in ("integer", "number"):
        low = parameter.min_value if parameter.min_value is not None else -INT_LIMIT
        high = parameter.max_value if parameter.max_value is not None else INT_LIMIT
        edges = [v for v in (low, high, 0, 1, -1, 2**31, -(2**31)) if low <= v <= high]
        if kind == "integer":
            return st.one_of(st.sampled_from(edges), st.integers(int(low), int(high)))
        return st.one_of(
            st.sampled_from([float(v) for v in edges]),
            st.floats(float(low), float(high), allow_nan=False),
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "channel":
        allowed = [t.value for t in parameter.channel_types] or None
        channels = [c for c in office.channels if allowed is None or c.type in allowed]
        return st.sampled_from(channels)
    if kind == "role":
        return st.sampled_from(office.roles)
    if kind in ("user", "mentionable"):
        return st.sampled_from(office.people)
    if kind == "attachment":
        return st.tuples(
            st.sampled_from(["a.txt", "x.csv", "..", "💬.json"]), st.binary(max_size=64)
        )
    raise AssertionError(f"no strategy for option type {kind}")


# --- checking one interaction ----------------------------------------------------------------


async def stable_dump(office: Office) -> Dump:
    """A dump once the bot has stopped writing (a /poll close records its announcement just
    after answering)."""
    previous = await dump_db(office.bot.db)

    async def settled() -> Dump | None:
        nonlocal previous
        current = await dump_db(office.bot.db)
        same, previous = current == previous, current
        return current if same else None

    return await eventually(settled, timeout=5, what="the database to settle")


async def checked(office: Office, ix: InteractionRecord, before: Dump) -> dict[str, Any]:
    """The answer to `ix`, held to the rules; returns the response."""
    try:
        response = await ix.response(timeout=5)
    except AssertionError as exc:
        raise AssertionError(f"{ix.name}: not answered within 3 s: {exc}") from None
    assert not ix.rejected, f"{ix.name}: Discord refused the answer: {ix.rejected}"
    assert ix.latency is not None and ix.latency < 3
    texts = [str(response.get("data"))]
    if response["type"] == 5:  # deferred: the real answer is the follow-up
        texts.append((await ix.wait_followup(timeout=10)).text)
    assert not any(UNEXPECTED in t for t in texts), f"{ix.name}: unexpected error: {texts}"
    if ix.id in office.errors:
        after = await stable_dump(office)
        assert changed_tables(before, after) == [], f"{ix.name}: an error changed the database"
    return response


async def use_command(
    office: Office, member: Member, channel: Channel, command: AppCommand, options: dict[str, Any]
) -> tuple[InteractionRecord | None, dict[str, Any] | None]:
    before = await stable_dump(office)
    try:
        ix = await office.dd.slash(
            member, command.qualified_name, channel=channel, options=options, timeout=5
        )
    except CommandError:
        return None, None  # Discord's client would not send this
    return ix, await checked(office, ix, before)


async def submit_modal(
    office: Office, member: Member, ix: InteractionRecord, values: dict[str, str]
) -> None:
    assert ix.modal is not None
    before = await stable_dump(office)
    try:
        submitted = await office.dd.submit_modal(member, str(ix.modal["custom_id"]), values)
    except CommandError:
        return
    await checked(office, submitted, before)


async def autocomplete(
    office: Office, member: Member, channel: Channel, command: AppCommand, focused: str, typed: str
) -> None:
    try:
        choices = await office.dd.autocomplete(
            member,
            command.qualified_name,
            focused=focused,
            channel=channel,
            options={focused: typed},
        )
    except CommandError:
        return
    ix = office.dd.last_autocomplete
    assert ix is not None and not ix.rejected and (ix.latency or 99) < 3, ix
    assert len(choices) <= 25


def modal_inputs(modal: dict[str, Any]) -> list[dict[str, Any]]:
    """The text inputs of a modal (in action rows or labels)."""
    found: list[dict[str, Any]] = []
    for top in modal.get("components") or []:
        for inner in [*(top.get("components") or []), top.get("component") or {}]:
            if inner.get("type") == 4:
                found.append(inner)
    return found


# --- the pings rule ---------------------------------------------------------------------------


def message_payloads(dd: DiscordDouble) -> list[tuple[str, dict[str, Any]]]:
    """Every message the bot sent or edited: (where, payload)."""
    found = []
    for call in dd.calls:
        body = call.json if isinstance(call.json, dict) else None
        if body is None or call.method not in ("POST", "PATCH"):
            continue
        if re.fullmatch(r"/interactions/\d+/[^/]+/callback", call.path):
            if body.get("type") in (4, 7) and isinstance(body.get("data"), dict):
                found.append((call.path, body["data"]))
        elif re.fullmatch(
            r"/channels/\d+/messages(/\d+)?|/webhooks/\d+/[^/]+(/messages/.+)?", call.path
        ):
            found.append((call.path, body))
    return found


async def check_no_pings(office: Office) -> None:
    team_roles = {
        row[0] for row in await office.bot.db.fetchall("SELECT role_id FROM teams") if row[0]
    }
    for where, payload in message_payloads(office.dd):
        allowed = payload.get("allowed_mentions")
        if allowed is None and not payload.get("content"):
            continue  # embeds and components never ping, and this sends no content
        assert isinstance(allowed, dict), f"{where}: content without allowed_mentions: {payload}"
        assert not allowed.get("parse"), f"{where}: may ping: {allowed}"
        assert not allowed.get("users"), f"{where}: may ping users: {allowed}"
        roles = [int(r) for r in allowed.get("roles") or []]
        if roles:
            # A prompt post: the mention alone in its content (an embed post), or alone in the
            # layout's first text display (Components V2 has no content).
            layout = payload.get("components") or []
            first = layout[0] if layout and layout[0].get("type") == 10 else {}
            content = str(payload.get("content") or first.get("content") or "")
            match = ROLE_PING.match(content)
            title = str(((payload.get("embeds") or [{}])[0] or {}).get("title") or "")
            answer_button = any(
                str(c.get("custom_id") or "").startswith("breakroom:answer:")
                for c in walk_components(layout)
            )
            assert match and roles == [int(match.group(1))], f"{where}: pings {roles}: {content!r}"
            assert roles[0] in team_roles, f"{where}: {payload}"
            assert title == "Discussion prompt" or answer_button, f"{where}: {payload}"


# --- the run ----------------------------------------------------------------------------------


async def populate(office: Office) -> None:
    world, dd = office.world, office.dd
    office.role = dd.add_role(world.guild, "Front desk team")
    office.other = dd.add_channel(world.guild, "mail-room")
    office.closed_off = dd.add_channel(world.guild, "archive", bot_can_send=False)
    dd.add_role(world.guild, "Moderators", Perm.MANAGE_MESSAGES)
    await dd.settle()

    async def say(member: Member, command: str, /, **options: Any) -> str:
        ix = await dd.slash(member, command, channel=world.channel, options=options)
        response = await ix.response(timeout=5)
        if response["type"] == 5:
            return (await ix.wait_followup()).text
        return str(response.get("data"))

    manager = world.manager
    assert "Team created" in await say(
        manager, "team create", name=office.team_name, channel=world.channel, role=office.role
    )
    assert "Posted prompt" in await say(manager, "prompt post")
    assert "poll #" in await say(world.members[0], "poll create", question="Q?", options="a|b")
    assert "Threshold set to 3" in await say(manager, "reflections settings", threshold=3)
    office.refs = ["1", "#1", "2", "R-2345A", "K7Q2M"]


@pytest.fixture
def fuzz_settings() -> settings:
    return settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


async def test_every_command_survives_generated_input(
    world: World,
    fuzz_settings: settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    office = Office(world)
    await populate(office)
    # The scheduler's own loop stays idle (the clock doesn't move): only examples write.
    scheduler = world.bot.scheduler
    async with scheduler._pass_lock:
        await scheduler.stop()

    original = bot.client.send_ephemeral

    async def recording(interaction: Any, content: str) -> None:
        office.errors.add(interaction.id)
        await original(interaction, content)

    monkeypatch.setattr(bot.client, "send_ephemeral", recording)
    caplog.set_level(logging.WARNING)
    commands = leaf_commands(world.bot)
    loop = asyncio.get_running_loop()
    used: dict[str, int] = {}

    def run(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=60)

    def fuzz(command: AppCommand) -> None:
        top = command.root_parent or command
        # A member can't even see a top-level manager command (Discord hides it): managers only.
        people = [world.manager] if top.default_permissions else office.people

        @fuzz_settings
        @given(data=st.data())
        def property_(data: st.DataObject) -> None:
            member = data.draw(st.sampled_from(people), label="member")
            places = {c.name: c for c in office.channels[:3]}
            channel = places[data.draw(st.sampled_from(sorted(places)), label="used in")]
            options: dict[str, Any] = {}
            for parameter in command.parameters:
                if parameter.required or data.draw(st.booleans(), label=f"give {parameter.name}"):
                    options[parameter.name] = data.draw(
                        option_value(office, parameter), label=parameter.name
                    )
            typed = [p for p in command.parameters if p.autocomplete]
            if typed and bool(data.draw(st.booleans(), label="autocomplete")):
                focused = data.draw(st.sampled_from(typed), label="focused")
                value = data.draw(text(office, office.refs), label="typed")[:100]
                run(autocomplete(office, member, channel, command, focused.name, value))
            ix, response = run(use_command(office, member, channel, command, options))
            if ix is None or response is None:
                reject()
            used[command.qualified_name] = used.get(command.qualified_name, 0) + 1
            if response["type"] == 9:
                values = {}
                for field in modal_inputs(response["data"]):
                    if field.get("required", True) or data.draw(st.booleans()):
                        raw = data.draw(text(office, office.refs), label=field["custom_id"])
                        value = fit(raw, field.get("min_length"), field.get("max_length"))
                        values[field["custom_id"]] = value or "x"
                run(submit_modal(office, member, ix, values))
            errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
            assert not errors, [r.getMessage() for r in errors]

        property_()

    def fuzz_all() -> None:
        for command in commands:
            fuzz(command)

    await asyncio.to_thread(fuzz_all)
    await check_no_pings(office)
    missing = {c.qualified_name for c in commands} - set(used)
    assert not missing, f"never exercised: {missing}"
    print(
        f"fuzz: {sum(used.values())} examples over {len(used)} commands, "
        f"{len(office.errors)} refused, {len(world.dd.interactions)} interactions"
    )
