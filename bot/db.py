"""The database, as the features see it: one `Database` with transactions, on SQLite or PostgreSQL.

The features write their SQL once, in the dialect the two agree on: `?` placeholders, `ON CONFLICT`
upserts, `RETURNING`, integer Unix seconds for times, 0/1 for flags. SQLite (bot/db_sqlite.py, the
embedded default: a file and nothing to install) runs it as written; PostgreSQL (bot/db_postgres.py,
for shard processes on several machines) runs it through the small dialect layer in
bot/dialect.py. Schemas and migrations are per backend: data/migrations/ and
data/migrations/postgresql/.

In both, one process runs one write transaction at a time (the features' read-then-write steps rely
on it), and each read sees only committed rows. Across processes, what two of them could both do
(claim a delivery, post a team's weekly prompt) is claimed by a conditional UPDATE or a unique row,
which both databases make safe.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from bot.migrations import DatabaseError

Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")

__all__ = [
    "Database",
    "DatabaseBusy",
    "DatabaseError",
    "Params",
    "Row",
    "SyncTransaction",
    "Transaction",
]


class DatabaseBusy(Exception):
    """This process's other writes kept a transaction waiting too long; nothing was changed."""


class Row(Protocol):
    """A result row: by position or by column name (sqlite3.Row and asyncpg.Record both are)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...

    def keys(self) -> Any: ...


class Sensitivity:
    """A backend transaction's `mark_sensitive()`: the backend reads `sensitive` once it has
    committed, and keeps no history of what was written (see `Transaction`)."""

    __slots__ = ("sensitive",)

    def __init__(self) -> None:
        self.sensitive = False

    def mark_sensitive(self) -> None:
        self.sensitive = True


class Transaction(Protocol):
    """The statements of one transaction; only valid inside `Database.transaction` (or `reading`).

    A transaction that writes what must leave no history behind (a reflection, an anonymous vote,
    a deletion of either) calls `mark_sensitive()`; each backend then does what it can to keep no
    earlier version readable (SQLite: the WAL is truncated; PostgreSQL: see the README's privacy
    section)."""

    sensitive: bool

    def mark_sensitive(self) -> None: ...

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        ...

    async def insert(self, sql: str, params: Params = ()) -> int | None:
        """Run one INSERT into a table with an `id`; the new row's id, or None if none was."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetchval(self, sql: str, params: Params = ()) -> Any: ...


class SyncTransaction(Protocol):
    """The same statements without awaiting, for `Database.run_in_transaction`."""

    sensitive: bool

    def mark_sensitive(self) -> None: ...

    def execute(self, sql: str, params: Params = ()) -> int: ...

    def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...


def is_postgresql(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class Database(ABC):
    """One process's database. `Database.open(target)` picks the backend: a file path for SQLite,
    a `postgresql://` URL for PostgreSQL."""

    #: "sqlite" or "postgresql"
    backend: str

    @classmethod
    async def open(cls, target: Path | str, migrations_dir: Path | None = None) -> Database:
        """Open (creating what is missing) and bring the schema up to date."""
        # A backend is loaded when it is used (asyncpg only for PostgreSQL), and the backends,
        # which build on this module, are not imported by it.
        if is_postgresql(target):
            backend = importlib.import_module("bot.db_postgres").PostgresDatabase
            opened: Database = await backend.connect(str(target), migrations_dir)
        else:
            backend = importlib.import_module("bot.db_sqlite").SqliteDatabase
            opened = await backend.connect(Path(target), migrations_dir)
        return opened

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """One write transaction, one at a time in this process; any exception rolls back."""

    @abstractmethod
    def reading(self) -> AbstractAsyncContextManager[Transaction]:
        """Several reads that see one consistent state."""

    @abstractmethod
    def snapshot(self) -> AbstractAsyncContextManager[Transaction]:
        """A long read (an export) on a connection of its own, one consistent state throughout,
        that doesn't keep the bot's writes waiting."""

    @abstractmethod
    async def run_in_transaction(self, work: Callable[[SyncTransaction], T]) -> T:
        """Run `work` (quick, synchronous) as one write transaction, for the hottest path."""

    @abstractmethod
    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...

    @abstractmethod
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def checkpoint(self) -> bool:
        """Leave no earlier version of sensitive rows where the backend can reach; True if done."""

    @abstractmethod
    async def backup(self, target: Path | str) -> None:
        """A consistent online copy to `target`, or DatabaseError saying what to use instead."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def is_transient(self, error: BaseException) -> bool:
        """An error of the database (busy, out of space, connection lost) after which the
        transaction was rolled back and a later try may work."""
