"""The few places where PostgreSQL's SQL differs from the SQL the features write.

The features write `?` placeholders (SQLite's and DB-API's), and `Transaction.insert` expects the
new row's id back. For asyncpg, each statement becomes `$1, $2, …` (outside string literals and
quoted names), and an insert gains `RETURNING id`. Everything else the features write is SQL that
both databases run as it stands (`ON CONFLICT … DO UPDATE SET x = excluded.x`, `RETURNING`,
`coalesce`, `>>` and `%` on integers); tests/test_dialect.py pins this translation, and the
feature suite runs on both backends.
"""

from __future__ import annotations

import functools
import re

_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def placeholders(sql: str) -> str:
    """`?` → `$1`, `$2`, … in order, leaving `?` inside '…', "…" and -- comments alone."""
    out: list[str] = []
    number = 0
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            end = sql.find(ch, i + 1)
            # A doubled quote inside a literal ('it''s') is two literals back to back here,
            # which copies the same characters.
            end = n - 1 if end < 0 else end
            out.append(sql[i : end + 1])
            i = end + 1
            continue
        if ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end])
            i = end
            continue
        if ch == "?":
            number += 1
            out.append(f"${number}")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=256)
def returning_id(sql: str) -> str:
    """An INSERT that hands back the new row's id (SQLite gives it as `lastrowid`)."""
    if _RETURNING.search(sql):
        return placeholders(sql)
    return placeholders(sql.rstrip().rstrip(";")) + " RETURNING id"


def rowcount(status: str) -> int:
    """The rows a statement changed, from asyncpg's status ('UPDATE 3', 'INSERT 0 1')."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0
