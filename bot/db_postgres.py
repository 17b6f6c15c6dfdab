"""PostgreSQL, for Breakroom in several shard processes: an asyncpg pool shared by the features.

What the features rely on is kept as on SQLite (bot/db.py): one write transaction at a time in a
process (an asyncio lock, so their read-then-write steps see no other write of this process in
between), reads of committed rows only, `run_in_transaction` for the vote path. Between processes,
PostgreSQL's row locks make the claims safe: a conditional `UPDATE … WHERE state = 'due'` waits
for the other process's transaction and then re-checks its condition, and a unique row (a team's
post for a slot) is inserted once.

Migrations: data/migrations/postgresql/, applied in one transaction under an advisory lock, so
processes starting together migrate once; the version is kept in `breakroom_schema`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.db import Database, DatabaseBusy, Params, Row, Sensitivity, SyncTransaction
from bot.db_turns import Turns
from bot.dialect import placeholders, returning_id, rowcount
from bot.migrations import MIGRATIONS_DIR, DatabaseError, Migration, load_migrations

log = logging.getLogger(__name__)

T = TypeVar("T")

POSTGRES_MIGRATIONS = MIGRATIONS_DIR / "postgresql"
LOCK_WAIT = 1.5  # seconds a task waits for this process's other write transactions
POOL_SIZE = 10
MIGRATION_LOCK = 0x42524B52  # pg_advisory_xact_lock key: "BRKR"
#: The tables a sensitive write touches; VACUUMed after one (see `checkpoint`).
SENSITIVE_TABLES = ("reflections", "reflection_reports", "poll_ballots", "deliveries")
VACUUM_EVERY = 60.0  # seconds: at most one VACUUM of them a minute


def _busy() -> DatabaseBusy:
    return DatabaseBusy("database is busy (other writes took too long)")


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _args(params: Params) -> Sequence[Any]:
    if isinstance(params, dict):
        raise TypeError("named parameters are not supported on PostgreSQL; use ?")
    return params


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a connection needs when it goes back to the pool: nothing. Breakroom leaves no
    session state behind (no LISTEN, no session locks or settings; every transaction has ended),
    so asyncpg's default reset — a round trip of RESET ALL, UNLISTEN and more on every release —
    would only add to every transaction's time."""


class PostgresTransaction(Sensitivity):
    """The statements of one transaction on one pooled connection (see `bot.db.Transaction`)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: asyncpg.Connection) -> None:
        super().__init__()
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        return rowcount(await self._conn.execute(placeholders(sql), *_args(params)))

    async def insert(self, sql: str, params: Params = ()) -> int | None:
        new_id = await self._conn.fetchval(returning_id(sql), *_args(params))
        return None if new_id is None else int(new_id)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        args = [_args(row) for row in rows]
        if args:
            await self._conn.executemany(placeholders(sql), args)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = await self._conn.fetchrow(placeholders(sql), *_args(params))
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._conn.fetch(placeholders(sql), *_args(params)))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        return await self._conn.fetchval(placeholders(sql), *_args(params))


class BridgedTransaction(Sensitivity):
    """`SyncTransaction` for work running in a worker thread: each statement is handed to the
    event loop's connection and the thread waits for its result."""

    __slots__ = ("_loop", "_tx")

    def __init__(self, tx: PostgresTransaction, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._tx = tx
        self._loop = loop

    def _wait(self, work: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    def execute(self, sql: str, params: Params = ()) -> int:
        changed: int = self._wait(self._tx.execute(sql, params))
        return changed

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self._wait(self._tx.executemany(sql, list(rows)))

    def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        rows: list[Row] = self._wait(self._tx.fetchall(sql, params))
        return rows

    def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = self._wait(self._tx.fetchone(sql, params))
        return row


class PostgresDatabase(Database):
    backend = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = url
        #: this process's one write at a time (`async with self._turn:`), waited for at most
        #: LOCK_WAIT
        self._turn = Turns(LOCK_WAIT, _busy)
        self._vacuum: asyncio.Task[None] | None = None
        self._vacuumed_at = float("-inf")
        self._vacuum_pending = False

    @classmethod
    async def connect(cls, url: str, migrations_dir: Path | None = None) -> PostgresDatabase:
        try:
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=POOL_SIZE, reset=_keep_session
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DatabaseError(
                f"DATABASE_URL {redacted(url)!r} cannot be reached ({exc}); check that the "
                f"server runs, the database exists and the user may connect."
            ) from exc
        db = cls(pool, url)
        try:
            await db.migrate(load_migrations(migrations_dir or POSTGRES_MIGRATIONS))
        except BaseException:
            await pool.close()
            raise
        return db

    async def migrate(self, migrations: list[Migration]) -> int:
        """Apply the migrations newer than the stored version, all in one transaction."""
        latest = max((m.version for m in migrations), default=0)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute("CREATE TABLE IF NOT EXISTS breakroom_schema (version BIGINT)")
            current = int(await conn.fetchval("SELECT max(version) FROM breakroom_schema") or 0)
            if current > latest:
                raise DatabaseError(
                    f"the database {redacted(self.url)} is at schema version {current}, newer "
                    f"than this Breakroom knows ({latest}); run a newer Breakroom."
                )
            for migration in migrations:
                if migration.version <= current:
                    continue
                try:
                    await conn.execute(migration.path.read_text(encoding="utf-8"))
                except asyncpg.PostgresError as exc:
                    raise DatabaseError(
                        f"migration postgresql/{migration.path.name} failed ({exc}); the "
                        f"database stays at schema version {current}."
                    ) from exc
                log.info("applied migration postgresql/%s", migration.path.name)
                current = migration.version
            await conn.execute("DELETE FROM breakroom_schema")
            await conn.execute("INSERT INTO breakroom_schema (version) VALUES ($1)", current)
        return current

    async def schema_version(self) -> int:
        return int(await self._pool.fetchval("SELECT max(version) FROM breakroom_schema") or 0)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        async with self._turn, self._pool.acquire() as conn, conn.transaction():
            tx = PostgresTransaction(conn)
            yield tx
        if tx.sensitive:
            self._after_sensitive()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[PostgresTransaction]:
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield PostgresTransaction(conn)

    def snapshot(self) -> Any:
        # A pooled connection in one REPEATABLE READ transaction: one consistent state, and
        # PostgreSQL's writers never wait for it.
        return self.reading()

    async def run_in_transaction(self, work: Callable[[SyncTransaction], T]) -> T:
        loop = asyncio.get_running_loop()

        async def whole() -> T:
            async with self._pool.acquire() as conn, conn.transaction():
                bridged = BridgedTransaction(PostgresTransaction(conn), loop)
                result = await asyncio.to_thread(work, bridged)
            if bridged.sensitive:
                self._after_sensitive()
            return result

        async with self._turn:
            # Once started it commits or rolls back whole, whatever happens to the caller.
            return await asyncio.shield(loop.create_task(whole()))

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = await self._pool.fetchrow(placeholders(sql), *_args(params))
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._pool.fetch(placeholders(sql), *_args(params)))

    def _after_sensitive(self) -> None:
        """A sensitive write committed: VACUUM its tables soon (at most once a minute), so the
        dead versions of its rows leave the tables' pages for reuse. PostgreSQL's WAL and any
        archive or replica of it still hold them: see the README's privacy section."""
        self._vacuum_pending = True
        if self._vacuum is None or self._vacuum.done():
            self._vacuum = asyncio.get_running_loop().create_task(self._vacuum_soon())

    async def _vacuum_soon(self) -> None:
        while self._vacuum_pending:
            wait = self._vacuumed_at + VACUUM_EVERY - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._vacuum_pending = False
            await self.checkpoint()

    async def checkpoint(self) -> bool:
        """VACUUM the tables sensitive writes touch; True when it ran."""
        self._vacuumed_at = time.monotonic()
        try:
            await self._pool.execute(f"VACUUM {', '.join(SENSITIVE_TABLES)}")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("could not VACUUM after a sensitive write (%s)", exc)
            return False
        return True

    async def backup(self, target: Path | str) -> None:
        raise DatabaseError(
            "Breakroom's own backup copies SQLite files; on PostgreSQL use pg_dump, which "
            "takes a consistent copy while the bot runs, for example:\n"
            f"  pg_dump --format=custom --file={target} '{redacted(self.url)}'\n"
            "and pg_restore to bring it back."
        )

    def is_transient(self, error: BaseException) -> bool:
        return isinstance(
            error,
            DatabaseBusy
            | asyncpg.PostgresConnectionError
            | asyncpg.InsufficientResourcesError
            | asyncpg.OperatorInterventionError
            | asyncpg.SerializationError
            | asyncpg.DeadlockDetectedError
            | asyncpg.ConnectionDoesNotExistError
            | OSError,
        )

    async def close(self) -> None:
        if self._vacuum is not None:
            self._vacuum.cancel()
            try:
                await self._vacuum
            except asyncio.CancelledError:
                pass
        await self._pool.close()
