"""`python -m bot migrate --to postgresql://…`: copy a SQLite database into a new, empty PostgreSQL.

Why a copy of its own, not a dump and restore: the two schemas are the same tables and columns
(data/migrations/postgresql/ says so), but not the same SQL, and the copy must keep what the
anonymity design relies on. So it

- reads SQLite on a read-only connection in one read transaction (one consistent moment, even if
  the bot still runs; what it writes after that moment is not copied, so stop it first);
- refuses a target that holds any row (or any table that isn't Breakroom's), and a SQLite file at
  another schema version than PostgreSQL's migrations reach: it never merges into a live database;
- copies every table in one PostgreSQL transaction, parents before children, each in one COPY
  (foreign keys are checked at the end of each statement, so a row may name a later row of its
  own table), with the tables' own triggers disabled meanwhile: the vote counters are copied as
  they are, not counted again by the triggers on poll_votes;
- writes the rows in primary key order, not in SQLite's physical order: reflections and
  deliveries keep their random ids, and the order of the rows in PostgreSQL's pages tells nothing
  the ids don't;
- moves the identity sequences past the copied ids (and past ids SQLite's AUTOINCREMENT has
  handed out before, so a deleted post's old buttons never reach a new post);
- then compares every table, row for row in primary key order, and rolls back on any difference.

Values are checked against PostgreSQL's column types (BIGINT, TEXT, BYTEA) first: SQLite would
keep text in an integer column, PostgreSQL won't, and the message names the table and column —
never the value, which may be someone's reflection.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import asyncpg

from bot.db import Database, is_postgresql
from bot.db_postgres import POSTGRES_MIGRATIONS, redacted
from bot.dialect import rowcount
from bot.migrations import DatabaseError, load_migrations

#: PostgreSQL's own table for the schema version (SQLite keeps it in PRAGMA user_version)
VERSION_TABLE = "breakroom_schema"
#: PostgreSQL's column types in Breakroom's schema, and the Python value each takes
VALUE_TYPES: dict[str, type] = {"bigint": int, "text": str, "bytea": bytes}
VALUE_NAMES = {int: "an integer", str: "text", bytes: "bytes", float: "a decimal number"}
FETCH_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    #: PostgreSQL's data type of each column, in the same order
    types: tuple[str, ...]
    #: the primary key's columns (all columns if there is none), for the order of the rows
    key: tuple[str, ...]

    def select(self, *, postgresql: bool) -> str:
        """Every row in primary key order. Text keys are compared byte for byte on both sides
        (SQLite's BINARY, PostgreSQL's "C"), so the two orders are the same."""
        order = []
        for column in self.key:
            text = self.types[self.columns.index(column)] == "text"
            order.append(f'"{column}" COLLATE "C"' if postgresql and text else f'"{column}"')
        columns = ", ".join(f'"{c}"' for c in self.columns)
        return f'SELECT {columns} FROM "{self.name}" ORDER BY {", ".join(order)}'


@dataclass(slots=True)
class Copied:
    """What `migrate` copied: rows per table, in the order they were copied."""

    source: Path
    url: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def latest_postgresql_version() -> int:
    return max(m.version for m in load_migrations(POSTGRES_MIGRATIONS))


def open_source(path: Path) -> sqlite3.Connection:
    """A read-only connection to the SQLite file, inside one read transaction (a snapshot)."""
    if not path.is_file():
        raise DatabaseError(
            f"there is no SQLite database at {path}: give its path with --from, or set "
            f"DATABASE_PATH to it."
        )
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts
    except sqlite3.Error as exc:
        raise DatabaseError(f"{path} can't be read as a SQLite database ({exc}).") from exc
    return conn


def check_version(source: sqlite3.Connection, path: Path) -> int:
    version = int(source.execute("PRAGMA user_version").fetchone()[0])
    latest = latest_postgresql_version()
    if version == latest:
        return version
    if version == 0:
        raise DatabaseError(f"{path} is not a Breakroom database (it has no schema version).")
    if version < latest:
        raise DatabaseError(
            f"{path} is at schema version {version}, and this Breakroom's PostgreSQL schema is "
            f"version {latest}: start this Breakroom once on the SQLite file (it brings it up to "
            f"{latest}), stop it, then migrate."
        )
    raise DatabaseError(
        f"{path} is at schema version {version}, newer than this Breakroom's PostgreSQL schema "
        f"({latest}): migrate with the Breakroom that wrote it."
    )


def source_tables(source: sqlite3.Connection) -> dict[str, list[tuple[str, int]]]:
    """Each table of the SQLite schema (not SQLite's own): its columns and their place in the
    primary key (0: not part of it)."""
    names = [
        row[0]
        for row in source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
            "ESCAPE '\\' ORDER BY name"
        )
    ]
    return {
        name: [(row[1], int(row[5])) for row in source.execute(f'PRAGMA table_info("{name}")')]
        for name in names
    }


def autoincrement_seen(source: sqlite3.Connection) -> dict[str, int]:
    """The highest id AUTOINCREMENT has handed out per table (rows deleted since included)."""
    exists = source.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ).fetchone()
    if exists is None:
        return {}
    return {str(n): int(s) for n, s in source.execute("SELECT name, seq FROM sqlite_sequence")}


async def connect_target(url: str) -> asyncpg.Connection:
    if not is_postgresql(url):
        raise DatabaseError(
            f"--to must be a PostgreSQL URL such as postgresql://breakroom@db.example/breakroom, "
            f"not {redacted(url)!r}."
        )
    try:
        conn: asyncpg.Connection = await asyncpg.connect(url)
    except (OSError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DatabaseError(
            f"the PostgreSQL database {redacted(url)} cannot be reached ({reason}); check that "
            f"the server runs, the database exists (createdb) and the user may connect."
        ) from exc
    return conn


async def refuse_foreign_or_filled(conn: asyncpg.Connection, url: str, ours: set[str]) -> None:
    """A target with any row, or with tables that aren't Breakroom's, is refused: the copy goes
    into a new, empty database, never into a live one."""
    schema = await conn.fetchval("SELECT current_schema()")
    found = await conn.fetch(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema'"
        " AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1, 2"
    )
    foreign = [f"{s}.{t}" for s, t in found if s != schema or t not in ours | {VERSION_TABLE}]
    if foreign:
        raise DatabaseError(
            f"the PostgreSQL database {redacted(url)} holds tables that are not Breakroom's "
            f"({', '.join(foreign[:5])}{', …' if len(foreign) > 5 else ''}): migrate into a new, "
            f"empty database of its own (createdb breakroom); nothing was written."
        )
    filled = [
        t
        for _, t in found
        if t != VERSION_TABLE and await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{t}")')
    ]
    if filled:
        raise DatabaseError(
            f"the PostgreSQL database {redacted(url)} already holds Breakroom data (rows in "
            f"{', '.join(filled)}), and migrate never merges into or overwrites a database: "
            f"give it a new, empty database; nothing was written."
        )


async def target_tables(
    conn: asyncpg.Connection, source: dict[str, list[tuple[str, int]]]
) -> dict[str, Table]:
    """The SQLite tables with PostgreSQL's column types; every table and column must exist in
    both schemas (the same migration version makes them so)."""
    found: dict[str, dict[str, str]] = {}
    for row in await conn.fetch(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ):
        found.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
    tables: dict[str, Table] = {}
    for name, columns in source.items():
        pg_columns = found.get(name)
        if pg_columns is None:
            raise DatabaseError(f"PostgreSQL's schema has no table {name}; nothing was written.")
        missing = [c for c, _ in columns if c not in pg_columns]
        if missing:
            raise DatabaseError(
                f"PostgreSQL's table {name} has no column {', '.join(missing)}; nothing was "
                f"written."
            )
        types = tuple(pg_columns[c] for c, _ in columns)
        pairs = zip(columns, types, strict=True)
        unknown = [f"{name}.{c} ({t})" for (c, _), t in pairs if t not in VALUE_TYPES]
        if unknown:
            raise DatabaseError(f"migrate can't copy the columns {', '.join(unknown)}.")
        key = tuple(c for c, place in sorted(columns, key=lambda c: c[1]) if place)
        names = tuple(c for c, _ in columns)
        tables[name] = Table(name, names, types, key or names)
    left_out = sorted(set(found) - set(source) - {VERSION_TABLE})
    if left_out:
        raise DatabaseError(
            f"the SQLite database has no table {', '.join(left_out)}, which PostgreSQL's schema "
            f"has: they are not at the same schema; nothing was written."
        )
    return tables


async def parents_first(conn: asyncpg.Connection, tables: dict[str, Table]) -> list[Table]:
    """The tables in an order where each comes after the tables its foreign keys name."""
    parents: dict[str, set[str]] = {name: set() for name in tables}
    for child, parent in await conn.fetch(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
    ):
        # A self reference (polls.rerun_of, prompt_posts.repeat_of) needs no order: one COPY is
        # one statement, and its foreign keys are checked at the statement's end.
        if child in parents and parent in parents and parent != child:
            parents[child].add(parent)
    ordered: list[Table] = []
    done: set[str] = set()
    while parents:
        ready = sorted(name for name, waiting in parents.items() if waiting <= done)
        if not ready:
            raise DatabaseError(f"the foreign keys of {', '.join(sorted(parents))} form a loop.")
        for name in ready:
            ordered.append(tables[name])
            done.add(name)
            del parents[name]
    return ordered


def checked_rows(source: sqlite3.Connection, table: Table) -> Iterator[tuple[object, ...]]:
    """The table's rows in primary key order, each value checked against its column's type."""
    kinds = [VALUE_TYPES[t] for t in table.types]
    columns = list(zip(kinds, table.columns, table.types, strict=True))
    for number, row in enumerate(source.execute(table.select(postgresql=False)), start=1):
        for value, (kind, column, pg_type) in zip(row, columns, strict=True):
            if value is not None and type(value) is not kind:
                what = VALUE_NAMES.get(type(value), type(value).__name__)
                raise DatabaseError(
                    f"{table.name}.{column} holds {what} in row {number} (in primary key order), "
                    f"where PostgreSQL's column is {pg_type.upper()}: nothing was copied. "
                    f"Breakroom never writes that; correct the row in the SQLite file, then "
                    f"migrate again."
                )
        yield row


async def copy_table(conn: asyncpg.Connection, source: sqlite3.Connection, table: Table) -> int:
    try:
        status = await conn.copy_records_to_table(
            table.name, records=checked_rows(source, table), columns=list(table.columns)
        )
    except asyncpg.PostgresError as exc:
        raise DatabaseError(
            f"PostgreSQL refused the rows of {table.name} ({exc}); nothing was copied."
        ) from exc
    return rowcount(status)


async def move_sequences(
    conn: asyncpg.Connection, tables: list[Table], seen: dict[str, int]
) -> None:
    """Each identity id continues after the highest id copied (or handed out by SQLite)."""
    for table in tables:
        if "id" not in table.columns:
            continue
        sequence = await conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table.name)
        if sequence is None:  # random ids (reflections, deliveries): no sequence
            continue
        highest = await conn.fetchval(f'SELECT max(id) FROM "{table.name}"')
        last = max(highest or 0, seen.get(table.name, 0))
        if last > 0:
            await conn.execute("SELECT setval($1, $2)", sequence, last)


async def compare(conn: asyncpg.Connection, source: sqlite3.Connection, table: Table) -> None:
    """Every row equal, in primary key order, and as many; DatabaseError at the first that isn't."""
    expected = int(source.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0])
    got = int(await conn.fetchval(f'SELECT count(*) FROM "{table.name}"'))
    if got != expected:
        raise DatabaseError(
            f"{table.name} has {got} rows in PostgreSQL after the copy, and {expected} in SQLite: "
            f"the copy was rolled back, nothing was written."
        )
    rows = source.execute(table.select(postgresql=False))
    number = 0
    async for record in conn.cursor(table.select(postgresql=True), prefetch=FETCH_CHUNK):
        number += 1
        if tuple(record) != rows.fetchone():
            raise DatabaseError(
                f"row {number} of {table.name} (in primary key order) differs between SQLite and "
                f"PostgreSQL after the copy: the copy was rolled back, nothing was written."
            )


async def migrate(source_path: Path, url: str) -> Copied:
    """Copy the SQLite database at `source_path` into the empty PostgreSQL database at `url`,
    check it, and commit; DatabaseError (nothing written) when it can't."""
    started = time.monotonic()
    source = open_source(source_path)
    try:
        check_version(source, source_path)
        schema = source_tables(source)
        conn = await connect_target(url)
        try:
            await refuse_foreign_or_filled(conn, url, set(schema))
            database = await Database.open(url)  # PostgreSQL's schema, at the same version
            await database.close()
            tables = await target_tables(conn, schema)
            order = await parents_first(conn, tables)
            copied = Copied(source_path, url)
            await copy_all(conn, source, url, order, copied)
            await conn.execute("ANALYZE")  # the planner's statistics for the new rows
        finally:
            await conn.close()
    finally:
        source.close()
    copied.seconds = time.monotonic() - started
    return copied


async def copy_all(
    conn: asyncpg.Connection,
    source: sqlite3.Connection,
    url: str,
    order: list[Table],
    copied: Copied,
) -> None:
    """The copy, its sequences and its check, in one transaction: all of it or nothing."""
    names = ", ".join(f'"{t.name}"' for t in order)
    async with conn.transaction():
        # Nothing else writes while the copy runs; then the target is checked empty once more.
        await conn.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
        await refuse_foreign_or_filled(conn, url, {t.name for t in order})
        for table in order:
            await conn.execute(f'ALTER TABLE "{table.name}" DISABLE TRIGGER USER')
        for table in order:
            copied.rows[table.name] = await copy_table(conn, source, table)
        for table in order:
            await conn.execute(f'ALTER TABLE "{table.name}" ENABLE TRIGGER USER')
        await move_sequences(conn, order, autoincrement_seen(source))
        for table in order:
            await compare(conn, source, table)
