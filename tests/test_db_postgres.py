"""The PostgreSQL backend itself: its schema matches SQLite's, migrations, transactions, errors."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from bot.db import Database, DatabaseError, SyncTransaction
from bot.db_postgres import PostgresDatabase, redacted

SQLITE_TYPES = {"INTEGER": "bigint", "TEXT": "text", "BLOB": "bytea"}


async def test_both_schemas_have_the_same_tables_columns_and_version(
    tmp_path: Path, pg_url: str
) -> None:
    lite = await Database.open(tmp_path / "b.db")
    pg = await Database.open(pg_url)
    try:
        assert await lite.schema_version() == await pg.schema_version() == 15
        expected: dict[str, dict[str, str]] = {}
        for (table,) in await lite.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ):
            columns = await lite.fetchall(f"SELECT name, type FROM pragma_table_info('{table}')")
            expected[table] = {name: SQLITE_TYPES[kind] for name, kind in columns}
        found: dict[str, dict[str, str]] = {}
        for table, column, kind in await pg.fetchall(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name != 'breakroom_schema'"
        ):
            found.setdefault(table, {})[column] = kind
        assert found == expected
    finally:
        await lite.close()
        await pg.close()


async def test_processes_starting_together_migrate_once(pg_url: str) -> None:
    opened = await asyncio.gather(*(PostgresDatabase.connect(pg_url) for _ in range(3)))
    try:
        assert [await db.schema_version() for db in opened] == [15, 15, 15]
        assert await opened[0].fetchval("SELECT count(*) FROM breakroom_schema") == 1
    finally:
        for db in opened:
            await db.close()


async def test_a_newer_schema_is_refused(pg_url: str) -> None:
    db = await Database.open(pg_url)
    await db.execute("UPDATE breakroom_schema SET version = 99")
    await db.close()
    with pytest.raises(DatabaseError, match="schema version 99, newer than this Breakroom"):
        await Database.open(pg_url)


async def test_an_unreachable_server_is_one_sentence_without_the_password(
    closed_port: int,
) -> None:
    url = f"postgresql://breakroom:hunter2@127.0.0.1:{closed_port}/breakroom"
    with pytest.raises(DatabaseError) as raised:
        await Database.open(url)
    message = str(raised.value)
    assert "cannot be reached" in message and "hunter2" not in message
    assert redacted(url) in message


async def test_a_failed_transaction_leaves_nothing(pg_url: str) -> None:
    db = await Database.open(pg_url)
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO guilds (guild_id, joined_at) VALUES (?, ?)", (1, 0))
                raise RuntimeError("boom")

        def half(tx: SyncTransaction) -> None:
            tx.execute("INSERT INTO guilds (guild_id, joined_at) VALUES (?, ?)", (2, 0))
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await db.run_in_transaction(half)
        assert await db.fetchval("SELECT count(*) FROM guilds") == 0

        def whole(tx: SyncTransaction) -> int:
            tx.execute("INSERT INTO guilds (guild_id, joined_at) VALUES (?, ?)", (3, 0))
            row = tx.fetchone("SELECT count(*) FROM guilds")
            assert row is not None
            return int(row[0])

        assert await db.run_in_transaction(whole) == 1
    finally:
        await db.close()


async def test_inserts_hand_back_their_ids_and_64_bit_ids_fit(pg_url: str) -> None:
    db = await Database.open(pg_url)
    try:
        async with db.transaction() as tx:
            guild = 1_300_000_000_000_000_000
            await tx.execute("INSERT INTO guilds (guild_id, joined_at) VALUES (?, ?)", (guild, 0))
            first = await tx.insert(
                "INSERT INTO teams (guild_id, name, name_key, channel_id, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (guild, "Desk", "desk", guild + 1, 0),
            )
            again = await tx.insert(
                "INSERT INTO teams (guild_id, name, name_key, channel_id, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (guild, "Desk", "desk", guild + 1, 0),
            )
        assert isinstance(first, int) and again is None
        assert await db.fetchval("SELECT guild_id FROM teams WHERE id = ?", (first,)) == guild
    finally:
        await db.close()


async def test_errors_that_a_later_try_may_cure_are_transient(pg_url: str) -> None:
    db = await Database.open(pg_url)
    try:
        assert db.is_transient(asyncpg.ConnectionDoesNotExistError("gone"))
        assert db.is_transient(asyncpg.DiskFullError("full"))
        assert not db.is_transient(asyncpg.UniqueViolationError("dup"))
        assert not db.is_transient(sqlite3.OperationalError("locked"))  # not this backend's
    finally:
        await db.close()


async def test_backup_says_to_use_pg_dump(pg_url: str, tmp_path: Path) -> None:
    db = await Database.open(pg_url)
    try:
        with pytest.raises(DatabaseError, match="pg_dump --format=custom"):
            await db.backup(tmp_path / "copy.db")
        assert not (tmp_path / "copy.db").exists()
    finally:
        await db.close()


async def test_a_sensitive_write_vacuums_its_tables(pg_url: str) -> None:
    db = await Database.open(pg_url)
    try:
        assert await db.checkpoint()
        vacuumed = await db.fetchval(
            "SELECT count(*) FROM pg_stat_user_tables"
            " WHERE relname = 'poll_ballots' AND last_vacuum IS NOT NULL"
        )
        assert vacuumed == 1
    finally:
        await db.close()
