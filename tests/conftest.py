from __future__ import annotations

import socket
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.clock import ManualClock
from bot.db import Database
from bot.db_postgres import POSTGRES_MIGRATIONS
from bot.migrations import load_migrations
from tests.double import DiscordDouble, contract
from tests.support import PG_TABLES, World, endpoints

pytest_plugins = ["tests.pg_fixtures"]

#: Every test that uses a database (the `db` and `world` fixtures, or `database` itself) runs on
#: both; a test about SQLite's files is marked `sqlite_only`.
BACKENDS = ("sqlite", "postgresql")
#: the schema template of each cluster: built once, copied for every test
_TEMPLATES: dict[int, str] = {}
#: emptied test databases ready for the next test, per cluster; the tables of the schema
_SPARE: dict[int, list[str]] = {}
_TABLES: dict[int, frozenset[str]] = {}
LATEST_VERSION = max(m.version for m in load_migrations(POSTGRES_MIGRATIONS))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: the test is about SQLite itself (its files, WAL, backups)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("backend", BACKENDS[:1] if only else BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


async def _build_schema(url: str) -> None:
    database = await Database.open(url)
    await database.close()


async def _emptied(url: str, tables: frozenset[str]) -> bool:
    """Empty a used test database for the next test (much quicker than a new copy of the
    template); False when it can't be trusted to be like new (its tables or version changed, or
    something still holds it), and it is dropped instead."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET lock_timeout = '2s'")
        found = {r[0] for r in await conn.fetch(PG_TABLES)}
        if found != tables or await conn.fetchval("SELECT max(version) FROM breakroom_schema") != (
            LATEST_VERSION
        ):
            return False
        await conn.execute(f"TRUNCATE {', '.join(sorted(tables))} RESTART IDENTITY CASCADE")
        return True
    except asyncpg.PostgresError:
        return False
    finally:
        await conn.close()


@pytest.fixture
async def database(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Path | str]:
    """Where this test's fresh database is: a SQLite file, or a PostgreSQL database at the
    latest schema and empty (a copy of a template, emptied after the test for the next one)."""
    if backend == "sqlite":
        yield tmp_path / "breakroom.db"
        return
    cluster = request.getfixturevalue("pg_cluster")
    template = await cluster.template(
        _TEMPLATES.setdefault(id(cluster), cluster.unique_name("schema")), _build_schema
    )
    spare = _SPARE.setdefault(id(cluster), [])
    if spare:
        name = spare.pop()
    else:
        name = cluster.unique_name("breakroom")
        await cluster.create_database(name, template=template)
    url: str = cluster.url(name)
    tables = _TABLES.get(id(cluster))
    if tables is None:
        conn = await asyncpg.connect(url)
        tables = _TABLES[id(cluster)] = frozenset(r[0] for r in await conn.fetch(PG_TABLES))
        await conn.close()
    try:
        yield url
    finally:
        if await _emptied(url, tables):
            spare.append(name)
        else:
            await cluster.drop_database(name)


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
async def db(database: Path | str) -> AsyncIterator[Database]:
    """A fresh database at the latest schema, for feature-logic tests."""
    opened = await Database.open(database)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def dd() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble() as double, endpoints(double):
        yield double


@pytest.fixture
async def world(dd: DiscordDouble, tmp_path: Path, database: Path | str) -> AsyncIterator[World]:
    guild = dd.add_guild("Riverside Legal")
    channel = dd.add_channel(guild, "front-desk")
    manager = dd.add_member(guild, "maria", manager=True)
    members = [dd.add_member(guild, name) for name in ("alice", "bob", "carol")]
    w = World(
        dd=dd,
        clock=ManualClock(),
        db_path=database if isinstance(database, Path) else tmp_path / "breakroom.db",
        database_url=database if isinstance(database, str) else None,
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


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement run on any SQLite connection opened during the test, as executed, with its
    values: the bot's aiosqlite connection, an export's snapshot connection, and the event loop's
    own connection for vote batches (all are made by `sqlite3.connect`)."""
    statements: list[str] = []
    connect = sqlite3.connect

    def connect_traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect_traced)
    return statements
