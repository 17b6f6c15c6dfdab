"""What `python -m bot migrate` tells the host once the copy is in: what to change in `.env`.

The key matters as much as the rows: anonymous votes, receipt codes and sealed values in the copy
can be recognised and opened only with the key they were made with, so it goes with the database.
With BREAKROOM_SECRET that is one setting to keep. With a key file, the file must be copied to
each machine (BREAKROOM_KEY_FILE); and since bot/config.py requires BREAKROOM_SECRET for a
process that runs only some of the shards, while a key file can't be turned into a secret (the
secret is hashed into the key, not the other way round), such an install stays one process.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.db_postgres import redacted
from bot.migrate import Copied
from bot.secret import old_key_file


def key_file_in_use(settings: Settings, source: Path) -> Path | None:
    """The key file this SQLite install used: BREAKROOM_KEY_FILE, or where earlier versions kept
    it (beside the database) if it wasn't moved yet; None if neither exists."""
    for candidate in (settings.key_file, old_key_file(source)):
        if candidate.is_file():
            return candidate
    return None


def key_advice(settings: Settings, source: Path) -> list[str]:
    if settings.secret:
        return [
            "  BREAKROOM_SECRET: keep it exactly as it is, the same value in every process: the",
            "    copied anonymous votes, receipt codes and sealed values need it.",
        ]
    key_file = key_file_in_use(settings, source)
    if key_file is None:
        return [
            f"  The key: no key file was found ({settings.key_file}, or {old_key_file(source)}).",
            "    Find the key file this database was used with and set BREAKROOM_KEY_FILE to it;",
            "    with a new key, votes in open anonymous polls and old receipt codes are not",
            "    recognised, and sealed values (pending erasures, anonymous ballots) can't be",
            "    opened.",
        ]
    return [
        f"  The key is in the key file {key_file} (no BREAKROOM_SECRET): it goes with the",
        "    database. On every machine that runs Breakroom, put a copy of it (owner-only, 0600,",
        "    in a folder of its own, never beside a backup) and set BREAKROOM_KEY_FILE to it.",
        "  With a key file, Breakroom on PostgreSQL runs as ONE process (all shards; leave",
        "    SHARD_IDS empty): several processes need BREAKROOM_SECRET, and a key file can't be",
        "    turned into one. Moving to BREAKROOM_SECRET means a new key: votes in open anonymous",
        "    polls and old receipt codes are then no longer recognised, and sealed values (pending",
        "    erasures, anonymous ballots) can't be opened; close open anonymous polls first.",
    ]


def advice(settings: Settings, copied: Copied) -> str:
    """The report printed after a successful copy."""
    url = redacted(copied.url)
    lines = [
        f"Copied {copied.total} rows in {len(copied.rows)} tables from {copied.source} to {url} "
        f"in {copied.seconds:.1f} s; every table compared row for row.",
        "",
        "What to change in .env (on every machine that runs Breakroom):",
        f"  DATABASE_URL={url}" + ("   (with its real password)" if url != copied.url else ""),
        "  DATABASE_PATH is then not used: leave it, or remove it.",
        *key_advice(settings, copied.source),
        "",
        "Then:",
        "  - Stop the bot on SQLite (if it ran during the copy, what it wrote afterwards is not",
        "    in PostgreSQL), and start it with the new .env.",
        f"  - Keep {copied.source} as a backup until the bot works on PostgreSQL; then delete it",
        "    (with its -wal and -shm files): it holds the same data.",
        "  - Backups on PostgreSQL are made with pg_dump (python -m bot backup says how).",
        "  - Anonymity: the copy holds what the file held, no more. Rows were written in primary",
        "    key order (reflections and deliveries keep their random ids), so their order in",
        "    PostgreSQL tells nothing the ids don't. PostgreSQL's WAL (and any archive or replica",
        "    of it) holds the copy too: see the README's privacy section.",
    ]
    return "\n".join(lines)
