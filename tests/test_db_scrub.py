"""Sensitive writes leave no history in the files: the WAL is truncated after them (bot/db.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.db import Database, SyncTransaction


def wal(db: Database) -> bytes:
    path = db.path.with_name(db.path.name + "-wal")
    return path.read_bytes() if path.exists() else b""


async def write(db: Database, value: str, *, sensitive: bool) -> None:
    async with db.transaction() as tx:
        if sensitive:
            tx.mark_sensitive()
        await tx.execute("INSERT INTO bot_state (key, value) VALUES (?, ?)", (value, value))


@pytest.mark.sqlite_only
async def test_only_a_sensitive_write_empties_the_wal(db: Database) -> None:
    await write(db, "an ordinary write", sensitive=False)
    assert b"an ordinary write" in wal(db)  # WAL mode as usual: the write is in the log
    await write(db, "a sensitive write", sensitive=True)
    assert wal(db) == b""
    assert b"a sensitive write" in db.path.read_bytes()
    await db.execute("DELETE FROM bot_state WHERE key = 'a sensitive write'")
    # An ordinary delete: the WAL has the page without the row, the file still the old page.
    assert b"a sensitive write" in db.path.read_bytes() and wal(db)
    async with db.transaction() as tx:
        tx.mark_sensitive()
        await tx.execute("DELETE FROM bot_state WHERE key = 'an ordinary write'")
    for content in (wal(db), db.path.read_bytes()):
        assert b"a sensitive write" not in content and b"an ordinary write" not in content


@pytest.mark.sqlite_only
async def test_the_one_trip_transaction_empties_the_wal_too(db: Database) -> None:
    def work(tx: SyncTransaction) -> None:
        tx.execute("INSERT INTO bot_state (key, value) VALUES ('vote', 'sealed')")
        tx.mark_sensitive()

    await db.run_in_transaction(work)
    assert wal(db) == b""


@pytest.mark.sqlite_only
async def test_an_open_export_snapshot_delays_the_truncation_to_its_end(db: Database) -> None:
    await write(db, "before the export", sensitive=False)
    async with db.snapshot() as snapshot:
        assert await snapshot.fetchval("SELECT count(*) FROM bot_state") == 1  # snapshot taken
        await write(db, "during the export", sensitive=True)
        # Truncating now would wait for the snapshot (and the member with it): later.
        assert b"during the export" in wal(db)
        assert await snapshot.fetchval("SELECT count(*) FROM bot_state") == 1
    assert wal(db) == b""


@pytest.mark.sqlite_only
async def test_a_reader_in_another_process_never_makes_a_write_fail(tmp_path: Path) -> None:
    import sqlite3

    db = await Database.open(tmp_path / "b.db")
    other = sqlite3.connect(tmp_path / "b.db", isolation_level=None)
    try:
        other.execute("BEGIN")
        other.execute("SELECT count(*) FROM bot_state").fetchone()  # holds a snapshot
        started = asyncio.get_running_loop().time()
        await write(db, "committed whatever the checkpoint does", sensitive=True)
        # The truncation did not wait for the other process (busy_timeout is 1 s).
        assert asyncio.get_running_loop().time() - started < 0.5
        other.execute("COMMIT")
        assert await db.fetchval("SELECT count(*) FROM bot_state") == 1
        await write(db, "the next write retries the truncation", sensitive=False)
        assert wal(db) == b""
    finally:
        other.close()
        await db.close()
