"""The statements of one SQLite transaction, awaited (`SqliteTransaction`, on aiosqlite's
connection) or not (`SqliteSyncTransaction`, for `SqliteDatabase.run_in_transaction`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

import aiosqlite

from bot.db import Params, Row, Sensitivity


class SqliteTransaction(Sensitivity):
    """The statements of one SQLite transaction (see `bot.db.Transaction`).

    A transaction that writes what must leave no history in the files (a reflection, an
    anonymous vote, a deletion of either) calls `mark_sensitive()`: once it commits, the WAL is
    checkpointed and truncated, so no earlier version of a page stays readable beside the database.
    """

    __slots__ = ("_conn",)

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__()
        self._conn = conn

    # Each call is one round trip to aiosqlite's thread: the cursor is not closed explicitly
    # (a finished statement holds nothing; closing would cost a second trip per statement).

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        cursor = await self._conn.execute(sql, params)
        return int(cursor.rowcount)

    async def insert(self, sql: str, params: Params = ()) -> int | None:
        """Run one INSERT; returns the new row's id, or None when nothing was inserted."""
        cursor = await self._conn.execute(sql, params)
        return int(cursor.lastrowid) if cursor.rowcount == 1 and cursor.lastrowid else None

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class SqliteSyncTransaction(Sensitivity):
    """The statements of one `run_in_transaction`, on the event loop's connection (or, when
    another process holds the lock, on aiosqlite's thread): the same calls as
    `SqliteTransaction`, without awaiting, because they all run at once."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__()
        self._conn = conn

    def execute(self, sql: str, params: Params = ()) -> int:
        return int(self._conn.execute(sql, params).rowcount)

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self._conn.executemany(sql, rows)

    def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(self._conn.execute(sql, params).fetchall())

    def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = self._conn.execute(sql, params).fetchone()
        return row
