from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.db import Database
from tests.double import DiscordDouble, contract
from tests.support import World, endpoints

pytest_plugins = ["tests.pg_fixtures"]


@pytest.fixture(autouse=True)
def private_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test (and every `python -m bot` it starts, which inherits the environment) gets a
    config folder of its own, so no key file is ever written to the real ~/.config/breakroom."""
    config = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.delenv("BREAKROOM_KEY_FILE", raising=False)
    monkeypatch.delenv("BREAKROOM_SECRET", raising=False)
    return config


@pytest.fixture(autouse=True)
def discord_contract() -> Iterator[None]:
    """Fails the test (at teardown) if the bot sent any request body that Discord's OpenAPI
    spec refuses (tests/double/contract.py), naming each request and where in its body."""
    start = len(contract.UNEXPECTED)
    yield
    found = contract.UNEXPECTED[start:]
    del contract.UNEXPECTED[start:]
    if found:
        lines = "\n".join(f"  {v}" for v in found)
        pytest.fail(
            f"{len(found)} request bod{'y' if len(found) == 1 else 'ies'} broke Discord's "
            f"OpenAPI contract (answered 400 / 50035):\n{lines}",
            pytrace=False,
        )


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port that refuses connections: bound (so nothing else takes it) but not listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh database file at the latest schema, for feature-logic tests."""
    database = await Database.open(tmp_path / "b.db")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def dd() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble() as double, endpoints(double):
        yield double


@pytest.fixture
async def world(dd: DiscordDouble, tmp_path: Path) -> AsyncIterator[World]:
    guild = dd.add_guild("Riverside Legal")
    channel = dd.add_channel(guild, "front-desk")
    manager = dd.add_member(guild, "maria", manager=True)
    members = [dd.add_member(guild, name) for name in ("alice", "bob", "carol")]
    w = World(
        dd=dd,
        clock=ManualClock(),
        db_path=tmp_path / "breakroom.db",
        guild=guild,
        channel=channel,
        manager=manager,
        members=members,
    )
    await w.start()
    try:
        yield w
    finally:
        await w.stop()
        assert not dd.unknown_routes, (
            f"the bot called routes the double doesn't know: {dd.unknown_routes}"
        )
