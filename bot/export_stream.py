"""`/export` as CSV, streamed: the team's big tables — its answers and its named polls' votes,
hundreds of thousands of rows for a large team — are read page by page and written into the
zip's compressed entries as they come, so memory holds a page and the file being built, never
the whole team. The small tables (the team, its prompts, posts, polls, options, counts and
shared reflections) are read whole, as before.

Everything is read in one snapshot transaction (`Database.snapshot()`): one consistent state,
and the bot's own connection is never held up. Writing (CSV, deflate) runs in a thread. The file
is the same, byte for byte, as `bot.export.render` makes from the whole tables
(tests/test_export_stream.py checks it).
"""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from bot import history_words
from bot.db import Database, Transaction
from bot.errors import NotFound
from bot.export_sheets import local_date
from bot.export_tables import (
    COLUMNS,
    SHEETS,
    TABLES,
    Column,
    ExportFile,
    csv_value,
    file_name,
    write_readme,
)
from bot.i18n import _, current, speaking
from bot.teams import TEAM_GONE

#: rows read at a time from a big table
PAGE = 2_000
#: the tables read page by page; the others are read whole
STREAMED = ("answers", "votes")

_ANSWER_COLUMNS = "a.id, a.post_id, a.user_id, a.display_name, a.text, a.answered_at, a.edited_at"
_ANSWERS_PAGE = (
    f"SELECT {_ANSWER_COLUMNS} FROM prompt_answers a JOIN prompt_posts pp ON pp.id = a.post_id"
    " WHERE pp.team_id = ? AND pp.state = 'posted' AND a.id > ? ORDER BY a.id LIMIT ?"
)
_POST_ANSWERS = (
    "SELECT id, display_name, text, answered_at FROM prompt_answers WHERE post_id = ?"
    " AND (answered_at > ? OR (answered_at = ? AND id > ?)) ORDER BY answered_at, id LIMIT ?"
)
_VOTES_PAGE = (
    "SELECT poll_id, option_id, user_id FROM poll_votes WHERE poll_id = ?"
    " AND (option_id > ? OR (option_id = ? AND user_id > ?)) ORDER BY option_id, user_id LIMIT ?"
)


def _rows(rows: Sequence[Any]) -> Sequence[Sequence[Any]]:
    # sqlite3.Row and asyncpg.Record both index and iterate like a tuple
    return cast(Sequence[Sequence[Any]], rows)


class _Entry:
    """One CSV file of the zip, open for writing rows (one entry at a time, in order)."""

    def __init__(self, zf: zipfile.ZipFile, path: str, columns: Sequence[Column], stamp: Any):
        info = zipfile.ZipInfo(path, date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        self.text = io.TextIOWrapper(zf.open(info, "w"), encoding="utf-8", newline="")
        # A byte-order mark: spreadsheet programs then read the text as UTF-8.
        self.text.write("\ufeff")
        self.writer = csv.writer(self.text, lineterminator="\r\n")
        self.writer.writerow([c.name for c in columns])
        self.columns = columns

    def rows(self, rows: Iterable[Sequence[Any]]) -> None:
        columns = self.columns
        for row in rows:
            self.writer.writerow([csv_value(v, c.kind) for c, v in zip(columns, row, strict=True)])

    def close(self) -> None:
        self.text.close()


async def _write(
    zf: zipfile.ZipFile,
    path: str,
    columns: Sequence[Column],
    stamp: Any,
    pages: AsyncIterator[Sequence[Sequence[Any]]],
) -> int:
    """An entry from pages of rows (read on the loop, written in a thread); the rows written."""
    entry = await asyncio.to_thread(_Entry, zf, path, columns, stamp)
    count = 0
    try:
        async for page in pages:
            await asyncio.to_thread(entry.rows, page)
            count += len(page)
    finally:
        await asyncio.to_thread(entry.close)
    return count


async def _whole(rows: Sequence[Sequence[Any]]) -> AsyncIterator[Sequence[Sequence[Any]]]:
    yield rows


async def _answers(tx: Transaction, team_id: int) -> AsyncIterator[Sequence[Sequence[Any]]]:
    """tables/answers.csv: the team's answers by id, a page at a time."""
    last = 0
    while page := _rows(await tx.fetchall(_ANSWERS_PAGE, (team_id, last, PAGE))):
        yield page
        last = page[-1][0]


async def _post_answers(tx: Transaction, post_id: int) -> AsyncIterator[Sequence[Any]]:
    """A post's answers (id, display_name, text, answered_at) by the time they were given."""
    at, last = -(2**62), 0
    while page := _rows(await tx.fetchall(_POST_ANSWERS, (post_id, at, at, last, PAGE))):
        for row in page:
            yield row
        at, last = page[-1][3], page[-1][0]


async def _votes(
    tx: Transaction, polls: Sequence[Sequence[Any]]
) -> AsyncIterator[Sequence[Sequence[Any]]]:
    """tables/votes.csv: the named polls' votes, poll by poll, by option and member."""
    at = {name: n for n, name in enumerate(COLUMNS["polls"])}
    for poll in sorted(polls, key=lambda p: int(p[at["id"]])):
        if poll[at["anonymous"]]:
            continue
        option, user = -1, -1
        while True:
            params = (poll[at["id"]], option, option, user, PAGE)
            page = _rows(await tx.fetchall(_VOTES_PAGE, params))
            if not page:
                break
            yield page
            option, user = page[-1][1], page[-1][2]


async def _answer_sheet(
    tx: Transaction, tables: dict[str, Sequence[Sequence[Any]]]
) -> AsyncIterator[Sequence[Sequence[Any]]]:
    """answers.csv: date, prompt, member, answer, by post (as posted), then by answer time."""
    post_at = {name: n for n, name in enumerate(COLUMNS["posts"])}
    zone = ZoneInfo(str(tables["teams"][0][COLUMNS["teams"].index("timezone")]))
    texts = {row[0]: str(row[1]) for row in tables["prompts"]}
    posts = sorted(tables["posts"], key=lambda p: (p[post_at["posted_at"]] or 0, p[post_at["id"]]))
    for post in posts:
        day = local_date(post[post_at["posted_at"]], zone)
        prompt = texts.get(post[post_at["prompt_id"]], "")
        page: list[tuple[str, str, str, str]] = []
        async for row in _post_answers(tx, post[post_at["id"]]):
            page.append((day, prompt, str(row[1]), str(row[2])))
            if len(page) >= PAGE:
                yield page
                page = []
        if page:
            yield page


async def _word_sheet(
    tx: Transaction, tables: dict[str, Sequence[Sequence[Any]]]
) -> AsyncIterator[Sequence[Sequence[Any]]]:
    """words.csv (as `bot.export_sheets.word_rows`): each repeat's words, read post by post."""
    post_at = {name: n for n, name in enumerate(COLUMNS["posts"])}
    texts = {row[0]: str(row[1]) for row in tables["prompts"]}
    ids = {post[post_at["id"]] for post in tables["posts"]}
    for post in sorted(tables["posts"], key=lambda p: int(p[post_at["id"]])):
        this, earlier = post[post_at["id"]], post[post_at["repeat_of"]]
        if earlier not in ids:
            continue
        then, now = await _texts(tx, earlier), await _texts(tx, this)
        exclude = then[1] + now[1]
        words = await asyncio.to_thread(history_words.shift, then[0], now[0], exclude=exclude)
        prompt = texts.get(post[post_at["prompt_id"]], "")
        yield [
            (this, prompt, c.phrase, direction, c.before, c.after)
            for direction, changes in (("more", words.more), ("less", words.less))
            for c in changes
        ]


async def _texts(tx: Transaction, post_id: int) -> tuple[list[str], list[str]]:
    """A post's answers' texts and names, by answer id (as the export's words read them)."""
    rows = await tx.fetchall(
        "SELECT text, display_name FROM prompt_answers WHERE post_id = ? ORDER BY id", (post_id,)
    )
    return [str(r[0]) for r in rows], [str(r[1]) for r in rows]


async def export_csv(
    db: Database, team_id: int, exported_at: datetime, language: str | None = None
) -> ExportFile:
    """The team's CSV zip (see `bot.export`), its big tables streamed."""
    stamp = exported_at.astimezone(UTC).timetuple()[:6]
    buffer = io.BytesIO()
    with speaking(language or current()):
        async with db.snapshot() as tx:
            tables: dict[str, Sequence[Sequence[Any]]] = {}
            for table in TABLES:
                if table.name not in STREAMED:
                    tables[table.name] = _rows(await tx.fetchall(table.sql, (team_id,)))
            if not tables["teams"]:
                raise NotFound(_(TEAM_GONE))
            counts = {name: len(rows) for name, rows in tables.items()}
            zf = zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
            try:
                for sheet in SHEETS:
                    if sheet.name == "answers":
                        pages = _answer_sheet(tx, tables)
                    elif sheet.name == "words":
                        pages = _word_sheet(tx, tables)
                    else:
                        pages = _whole(list(sheet.rows(tables, COLUMNS)))
                    await _write(zf, f"{sheet.name}.csv", sheet.columns, stamp, pages)
                for table in TABLES:
                    if table.name == "answers":
                        pages = _answers(tx, team_id)
                    elif table.name == "votes":
                        pages = _votes(tx, tables["polls"])
                    else:
                        pages = _whole(tables[table.name])
                    path = f"tables/{table.name}.csv"
                    counts[table.name] = await _write(zf, path, table.columns, stamp, pages)
                team_name = str(tables["teams"][0][2])
                write_readme(zf, team_name, exported_at, stamp)
            finally:
                await asyncio.to_thread(zf.close)
    counts = {table.name: counts[table.name] for table in TABLES}
    return ExportFile(file_name(tables, exported_at, "csv"), buffer.getvalue(), "csv", counts)
