"""SQLite, the embedded default: one aiosqlite connection owned by the bot.

Many tasks share the connection, so transactions are kept apart by an asyncio lock: each write
runs as `BEGIN IMMEDIATE … COMMIT` with nothing else on the connection in between. (With the common
"execute, then commit" on a shared connection, concurrent tasks end up in one transaction and one
task's rollback silently drops the others' acknowledged writes.) Reads take the same lock, so they
never see another task's uncommitted rows. (The votes' one-trip transactions run on a second
connection, the event loop's own: `run_in_transaction`.)
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.db import Database, Params, Row, SyncTransaction
from bot.db_sqlite_tx import SqliteSyncTransaction, SqliteTransaction
from bot.db_turns import Turns
from bot.migrations import MIGRATIONS_DIR, DatabaseError, Migration, load_migrations

log = logging.getLogger(__name__)

T = TypeVar("T")

LOCK_WAIT = 1.5  # seconds a task waits for the other tasks' transactions
BUSY_TIMEOUT = 1.0  # seconds SQLite waits for another process's lock


#: the event loop's connection (`run_in_transaction`): the main connection's settings, but it
#: never waits for a lock on the loop (busy_timeout 0: the work goes to the thread instead)
INLINE_PRAGMAS = (
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    "PRAGMA journal_size_limit=1048576",
    "PRAGMA busy_timeout=0",
)


def _locked() -> sqlite3.OperationalError:
    return sqlite3.OperationalError("database is locked (other writes took too long)")


def inline_connection(path: Path) -> sqlite3.Connection:
    """The event loop's connection to `path`, opened on (and only for) the loop's thread."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    for pragma in INLINE_PRAGMAS:
        conn.execute(pragma)
    return conn


def committed(conn: sqlite3.Connection, work: Callable[[SyncTransaction], T]) -> tuple[T, bool]:
    """`work` in the transaction `conn` has begun, then COMMIT (ROLLBACK on any exception):
    its result, and whether it marked itself sensitive."""
    tx = SqliteSyncTransaction(conn)
    try:
        result = work(tx)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result, tx.sensitive


async def _pragma(conn: aiosqlite.Connection, sql: str) -> Any:
    async with conn.execute(sql) as cursor:
        row = await cursor.fetchone()
        return None if row is None else row[0]


async def _configure(conn: aiosqlite.Connection, path: Path) -> None:
    """The PRAGMAs Breakroom relies on, and a write test, on a fresh connection to `path`."""
    try:
        # WAL: readers don't block the writer. synchronous=NORMAL in WAL mode keeps every
        # committed transaction through a process crash (kill -9); only a power cut or OS crash
        # can lose the last commits. foreign_keys makes ON DELETE CASCADE do its job.
        journal = await _pragma(conn, "PRAGMA journal_mode=WAL")
        if str(journal).lower() != "wal":
            raise DatabaseError(f"could not switch {path} to WAL mode (got {journal!r})")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        # Time budget: a member must be answered within Discord's 3 s, so a write waits at
        # most LOCK_WAIT for the other tasks' writes and BUSY_TIMEOUT for another process's
        # lock, then fails with "database is locked" and the member is told plainly.
        await conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
        # Deleted rows (a deleted reflection, a forgotten answer) are overwritten with zeros,
        # not left in free pages; the WAL is trimmed after checkpoints.
        await conn.execute("PRAGMA secure_delete=ON")
        await conn.execute("PRAGMA journal_size_limit=1048576")
        # A write test: fails early on a read-only file or folder.
        await conn.execute("BEGIN IMMEDIATE")
        await conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise DatabaseError(
            f"DATABASE_PATH {str(path)!r} cannot be written ({exc}); "
            f"point it at a file in a folder this user can write."
        ) from exc


class SqliteDatabase(Database):
    backend = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        #: this task's turn on the connection (`async with self._turn:`), waited for at most
        #: LOCK_WAIT
        self._turn = Turns(LOCK_WAIT, _locked)
        # A checkpoint after a sensitive write that could not truncate the WAL (a long reader
        # held an old snapshot): retried after every following transaction until it succeeds.
        self._scrub_pending = False
        self._snapshots = 0  # open `snapshot()` connections
        #: the event loop thread's own connection, for `run_in_transaction` (opened at first use)
        self._inline: sqlite3.Connection | None = None

    @classmethod
    async def connect(cls, path: Path, migrations_dir: Path | None = None) -> SqliteDatabase:
        """Open (creating the folder and file if needed), set the PRAGMAs, apply migrations."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = await aiosqlite.connect(path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise DatabaseError(
                f"DATABASE_PATH {str(path)!r} cannot be opened for writing ({exc}); "
                f"point it at a file in a folder this user can write."
            ) from exc
        conn.row_factory = sqlite3.Row
        db = cls(conn, path)
        try:
            await _configure(conn, path)
            await db.migrate(load_migrations(migrations_dir or MIGRATIONS_DIR))
        except BaseException:
            await conn.close()
            raise
        return db

    async def user_version(self) -> int:
        return int(await _pragma(self._conn, "PRAGMA user_version"))

    async def schema_version(self) -> int:
        return await self.user_version()

    def is_transient(self, error: BaseException) -> bool:
        # Locked by another process, disk full, I/O error: the transaction was rolled back.
        return isinstance(error, sqlite3.OperationalError)

    async def migrate(self, migrations: list[Migration]) -> int:
        """Apply the migrations newer than `PRAGMA user_version`, each in its own transaction."""
        current = await self.user_version()
        latest = max((m.version for m in migrations), default=0)
        if current > latest:
            raise DatabaseError(
                f"the database {self.path} is at schema version {current}, newer than this "
                f"Breakroom knows ({latest}); run a newer Breakroom or restore a backup."
            )
        for migration in migrations:
            if migration.version <= current:
                continue
            try:
                async with self.transaction() as tx:
                    for statement in migration.statements():
                        await tx.execute(statement)
                    # user_version is transactional: it moves only if the whole migration commits.
                    await tx.execute(f"PRAGMA user_version = {migration.version:d}")
            except sqlite3.Error as exc:
                raise DatabaseError(
                    f"migration {migration.path.name} failed ({exc}); the database stays at "
                    f"schema version {current}."
                ) from exc
            log.info("applied migration %s", migration.path.name)
            current = migration.version
        return current

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        """`BEGIN IMMEDIATE … COMMIT`, one at a time; any exception (or cancel) rolls back."""
        async with self._turn:
            try:
                # Inside the try: a cancel while awaiting BEGIN arrives after aiosqlite's thread
                # has already run it, and the connection must not be left inside a transaction.
                await self._conn.execute("BEGIN IMMEDIATE")
                tx = SqliteTransaction(self._conn)
                yield tx
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback_if_open()
                raise
            if tx.sensitive or self._scrub_pending:
                # Shielded: the write is committed; a cancel now must not look like a failure.
                scrub = self._conn._execute(self._scrub, self._conn._conn)  # type: ignore[no-untyped-call]
                await asyncio.shield(scrub)

    async def _rollback_if_open(self) -> None:
        # Always queue the ROLLBACK: a cancelled BEGIN may still be waiting in aiosqlite's thread
        # queue, so `in_transaction` can't be trusted yet; the queue runs them in order.
        try:
            await asyncio.shield(self._conn.execute("ROLLBACK"))
        except sqlite3.OperationalError as exc:
            if "no transaction is active" not in str(exc):
                raise

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[SqliteTransaction]:
        """Several reads that see one consistent state (a deferred read transaction)."""
        async with self._turn:
            try:
                await self._conn.execute("BEGIN")
                yield SqliteTransaction(self._conn)
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback_if_open()
                raise

    async def run_in_transaction(self, work: Callable[[SyncTransaction], T]) -> T:
        """Run `work` inside `BEGIN IMMEDIATE … COMMIT` without a trip to aiosqlite's thread.

        For the hottest path (votes): a trip to aiosqlite's thread and back (two wake-ups, the
        GIL handed over twice) costs more CPU than a vote's few statements, so `work` runs on the
        event loop's own connection (`inline_connection`), in this task's turn: no other
        transaction of this process is open then. `work` must be quick and must not touch the
        loop. When another process holds the lock (a busy `BEGIN`: this connection never waits
        on the loop), the work goes to aiosqlite's thread, which waits up to BUSY_TIMEOUT as
        every write does. A sensitive write is scrubbed on the thread (a checkpoint is file work).
        """
        async with self._turn:
            if self._inline is None:
                self._inline = inline_connection(self.path)
            try:
                self._inline.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # locked by another process: wait on the thread
                # In one trip through aiosqlite's queue (`_execute`, pinned in pyproject.toml);
                # once queued, it commits or rolls back whole whatever happens to the caller.
                call = self._conn._execute(self._on_thread, work)  # type: ignore[no-untyped-call]
                result: T = await asyncio.shield(call)
                return result
            result, sensitive = committed(self._inline, work)
            if sensitive or self._scrub_pending:
                self._scrub_pending = True  # until the scrub below has emptied the WAL
                scrub = self._conn._execute(self._scrub, self._conn._conn)  # type: ignore[no-untyped-call]
                await asyncio.shield(scrub)
            return result

    def _on_thread(self, work: Callable[[SyncTransaction], T]) -> T:
        """`run_in_transaction`'s work on aiosqlite's thread and connection."""
        conn: sqlite3.Connection = self._conn._conn
        conn.execute("BEGIN IMMEDIATE")
        result, sensitive = committed(conn, work)
        if sensitive or self._scrub_pending:
            self._scrub(conn)
        return result

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        async with self._turn:
            return await SqliteTransaction(self._conn).fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._turn:
            return await SqliteTransaction(self._conn).fetchall(sql, params)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[SqliteTransaction]:
        """A separate read-only connection for long reads (exports) that must not hold the lock.

        In WAL mode it sees one consistent snapshot while the bot keeps writing.
        """
        conn = await aiosqlite.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        conn.row_factory = sqlite3.Row
        self._snapshots += 1
        try:
            await conn.execute("BEGIN")
            yield SqliteTransaction(conn)
            await conn.execute("COMMIT")
        finally:
            await conn.close()
            self._snapshots -= 1
            if self._scrub_pending and not self._snapshots:
                # A sensitive write came while this snapshot held the WAL: truncate it now,
                # not at some later write.
                await self.checkpoint()

    def _scrub(self, conn: sqlite3.Connection) -> bool:
        """On the database thread, right after a commit: copy the WAL into the database and
        truncate it to nothing, so the files hold only the current version of every page (with
        `secure_delete`, deleted rows are zeros there). True when the WAL is empty now.

        While one of our snapshots is open (an export) the truncation would wait for it, so it
        is left to the snapshot's end. A failure is logged, never raised: the write committed."""
        if self._snapshots:
            self._scrub_pending = True
            return False
        try:
            # Never wait for another process's reader: busy now means "again after the next
            # transaction", not a member kept waiting.
            conn.execute("PRAGMA busy_timeout=0")
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error as exc:
            log.warning("could not truncate the WAL after a sensitive write (%s); retrying", exc)
            busy = 1
        finally:
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
        self._scrub_pending = bool(busy)
        return not busy

    async def checkpoint(self) -> bool:
        """Copy the WAL into the database and truncate it (old page versions leave the WAL).
        False when a reader's snapshot kept it from finishing (it is retried after the next
        transaction)."""
        async with self._turn.untimed():
            scrubbed: bool = await self._conn._execute(self._scrub, self._conn._conn)  # type: ignore[no-untyped-call]
            return scrubbed

    async def backup(self, target: Path | str) -> None:
        """A consistent online copy through SQLite's backup API."""
        target_conn = await aiosqlite.connect(target)
        try:
            async with self._turn.untimed():
                await self._conn.backup(target_conn)
        finally:
            await target_conn.close()

    async def close(self) -> None:
        async with self._turn.untimed():
            if self._inline is not None:
                self._inline.close()
                self._inline = None
            await self._conn.close()
