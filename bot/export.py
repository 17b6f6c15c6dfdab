"""`/export`: a team's data as one file — a zip of CSV files, or one JSON document.

The zip holds, for a spreadsheet, flat sheets whose rows need no other file (`answers.csv`,
`polls.csv`, `words.csv`, built by `bot/export_sheets.py`), and beside them in `tables/` one CSV
per table; the JSON document holds the tables, each repeated post with its `words`.

What goes out is a whitelist of columns, table by table, so nothing private can slip in when a
feature adds a column:
- reflections: the shared text, its public code and batch time; never an author, hash or nonce,
  and nothing still waiting to be shared (a manager exporting after each new reflection could
  otherwise tell who wrote what by timing);
- anonymous polls: counts per option only (their keyed-hash votes are never read);
- named polls: counts, and who picked what (the creator and managers may see that anyway).

The export reads through `Database.snapshot()`, a separate read-only connection, so the bot's
own connection (and every command that needs it) is never held up by a long read; turning the
rows into a file is CPU work done in a thread; the CSV zip is streamed, its big tables read a
page at a time (`bot/export_stream.py`). The tables, sheets and value formats themselves are in
`bot/export_tables.py`. Plain Python: nothing from discord.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from bot.db import Database, Row, Transaction
from bot.errors import InvalidInput, NotFound
from bot.export_sheets import (
    words_json,
)
from bot.export_stream import export_csv
from bot.export_tables import (
    COLUMNS,
    FORMATS,
    SCHEMA_VERSION,
    SHEETS,
    TABLE_NAMES,
    TABLES,
    Column,
    ExportFile,
    Format,
    Sheet,
    Table,
    csv_value,
    file_name,
    iso,
    json_value,
    slug,
    write_readme,
)
from bot.i18n import _, current, speaking
from bot.teams import TEAM_GONE

__all__ = [
    "COLUMNS",
    "FORMATS",
    "SCHEMA_VERSION",
    "SHEETS",
    "TABLES",
    "TABLE_NAMES",
    "Column",
    "ExportFile",
    "Format",
    "Sheet",
    "Table",
    "export_team",
    "file_name",
    "iso",
    "json_value",
    "parse_format",
    "read_tables",
    "render",
    "slug",
]


def parse_format(text: str) -> Format:
    cleaned = text.strip().casefold()
    for known in FORMATS:
        if cleaned == known:
            return known
    raise InvalidInput(_("Pick the export format: csv (a zip of tables) or json (one document)."))


async def read_tables(tx: Transaction, team_id: int) -> dict[str, list[Row]]:
    """Every exported table of the team, as rows (in one read transaction: one consistent
    state)."""
    tables: dict[str, list[Row]] = {}
    for table in TABLES:
        tables[table.name] = await tx.fetchall(table.sql, (team_id,))
    if not tables["teams"]:
        raise NotFound(_(TEAM_GONE))
    return tables


def render_json(tables: dict[str, Sequence[Sequence[Any]]], exported_at: datetime) -> bytes:
    team = tables["teams"][0]
    rows = {
        table.name: [
            {c.name: json_value(v, c.kind) for c, v in zip(table.columns, row, strict=True)}
            for row in tables[table.name]
        ]
        for table in TABLES
    }
    words = words_json(tables, COLUMNS)
    for post in rows["posts"]:
        post["words"] = words.get(post["id"])  # None: not a repeat
    document = {
        "schema_version": SCHEMA_VERSION,
        "generator": "Breakroom",
        "exported_at": iso(int(exported_at.timestamp())),
        "team": {
            c.name: json_value(v, c.kind) for c, v in zip(TABLES[0].columns, team, strict=True)
        },
        "tables": rows,
        "descriptions": {table.name: table.description for table in TABLES},
    }
    # encoded piece by piece: the document is never whole in memory as text and as bytes
    out = io.BytesIO()
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    for chunk in encoder.iterencode(document):
        out.write(chunk.encode("utf-8"))
    return out.getvalue()


def _csv_entry(
    zf: zipfile.ZipFile,
    path: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    stamp: tuple[int, int, int, int, int, int],
) -> None:
    """One CSV file of the zip, written row by row into its compressed entry: the file's text
    is never whole in memory."""
    info = zipfile.ZipInfo(path, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    with io.TextIOWrapper(zf.open(info, "w"), encoding="utf-8", newline="") as text:
        # A byte-order mark: spreadsheet programs then read the text as UTF-8.
        text.write("\ufeff")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([c.name for c in columns])
        for row in rows:
            writer.writerow([csv_value(v, c.kind) for c, v in zip(columns, row, strict=True)])


def render_csv_zip(tables: dict[str, Sequence[Sequence[Any]]], exported_at: datetime) -> bytes:
    stamp = exported_at.astimezone(UTC).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for sheet in SHEETS:
            _csv_entry(zf, f"{sheet.name}.csv", sheet.columns, sheet.rows(tables, COLUMNS), stamp)
        for table in TABLES:
            _csv_entry(zf, f"tables/{table.name}.csv", table.columns, tables[table.name], stamp)
        team_name = str(tables["teams"][0][2])
        write_readme(zf, team_name, exported_at, stamp)
    return buffer.getvalue()


def render(
    tables: dict[str, Sequence[Sequence[Any]]], fmt: Format, exported_at: datetime
) -> ExportFile:
    if fmt == "json":
        data = render_json(tables, exported_at)
    else:
        data = render_csv_zip(tables, exported_at)
    filename = file_name(tables, exported_at, fmt)
    counts = {name: len(rows) for name, rows in tables.items()}
    return ExportFile(filename, data, fmt, counts)


async def export_team(
    db: Database, team_id: int, fmt: Format, exported_at: datetime, language: str | None = None
) -> ExportFile:
    """Read the team on a snapshot connection, then build the file in a thread; the zip's
    README is in `language` (the team's; default: the current language). CSV headers, JSON keys
    and the JSON's table descriptions stay English: they are the file's contract.

    CSV is streamed: its big tables are read a page at a time (`bot/export_stream.py`)."""
    if fmt == "csv":
        return await export_csv(db, team_id, exported_at, language)
    async with db.snapshot() as tx:
        rows = await read_tables(tx, team_id)
    # sqlite3.Row and asyncpg.Record both index and iterate like a tuple
    tables = cast(dict[str, Sequence[Sequence[Any]]], rows)
    with speaking(language or current()):
        # asyncio.to_thread runs in a copy of this context: the README speaks `language`
        return await asyncio.to_thread(render, tables, fmt, exported_at)
