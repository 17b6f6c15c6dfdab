"""`python -m bot` runs Breakroom; `python -m bot backup PATH` copies the database while it runs;
`python -m bot migrate --to postgresql://…` copies the SQLite database into an empty PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

import discord

from bot.config import Settings, SettingsError
from bot.db import Database
from bot.launch import apply_endpoint_settings, create_bot
from bot.migrations import DatabaseError
from bot.secret import KeyFileError, load_or_create_key, old_key_file, same_path, where_the_key_is
from bot.speedups import describe, loop_factory
from bot.unreachable import DiscordUnreachable

log = logging.getLogger("bot")

EXIT_SETTINGS = 2


def setup_logging(level: int) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # At DEBUG these would log interaction payloads (member ids next to what they typed) and SQL
    # parameters; reflections and anonymous votes must never reach the log with a member.
    for noisy in ("discord", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(level, logging.INFO))


async def run_bot(settings: Settings) -> None:
    # Open the database before connecting, so a bad DATABASE_PATH stops us before Discord is asked.
    database = await Database.open(settings.database)
    try:
        # Likewise the key: moving an old key file, or two different ones, is settled first.
        key = load_or_create_key(settings.secret, settings.key_file, settings.database_path)
    except BaseException:
        await database.close()
        raise
    apply_endpoint_settings(settings)
    log.info("running on %s", describe(asyncio.get_running_loop()))
    async with create_bot(settings, database=database, key=key) as bot:
        loop = asyncio.get_running_loop()
        closing: list[asyncio.Task[None]] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: closing.append(asyncio.create_task(bot.close())))
        await bot.start(settings.token)
        for task in closing:
            await task
    log.info("Breakroom stopped")


def backup_target_error(settings: Settings, target: Path) -> str | None:
    """Why `target` can't take a backup, or None: a backup never overwrites the key or sits
    beside it (a copy of the database together with the key is no longer anonymous)."""
    for key_file in (settings.key_file, old_key_file(settings.database_path)):
        if same_path(target, key_file):
            return (
                f"{target} is Breakroom's key file, and a backup never overwrites the key: "
                f"write the backup to a folder of its own, away from {key_file.parent}."
            )
    key_folder = settings.key_file.resolve().parent
    if settings.secret is None and key_folder in target.resolve().parents:
        return (
            f"{target} is in the key's folder {key_folder}, and a backup kept beside the key is "
            f"no longer anonymous: write the backup to a folder of its own."
        )
    return None


async def migrate(settings: Settings, source: Path | None, url: str) -> None:
    """Copy the SQLite database into PostgreSQL (bot/migrate.py), then say what to change."""
    # Imported here: asyncpg is loaded only by those who use PostgreSQL (as in Database.open).
    from bot.migrate import migrate as copy_to_postgresql
    from bot.migrate_advice import advice

    copied = await copy_to_postgresql(source or settings.database_path, url)
    print(advice(settings, copied))


async def backup(settings: Settings, target: Path) -> None:
    """An online copy of the database; the key is never part of it."""
    db = await Database.open(settings.database)
    try:
        await db.backup(target)
    finally:
        await db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    backup_parser = sub.add_parser("backup", help="copy the database consistently, while it runs")
    backup_parser.add_argument("path", type=Path, help="where to write the copy")
    migrate_parser = sub.add_parser(
        "migrate", help="copy the SQLite database into a new, empty PostgreSQL database"
    )
    migrate_parser.add_argument(
        "--to", required=True, metavar="URL", help="the PostgreSQL database: postgresql://…"
    )
    migrate_parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="PATH",
        help="the SQLite file (default: DATABASE_PATH)",
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(require_token=args.command is None)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_SETTINGS
    setup_logging(settings.logging_level)
    try:
        if args.command == "backup":
            if problem := backup_target_error(settings, args.path):
                print(problem, file=sys.stderr)
                return EXIT_SETTINGS
            asyncio.run(backup(settings, args.path))
            print(f"Backed up {settings.database_path} to {args.path}.")
            print(where_the_key_is(settings.secret, settings.key_file, settings.database_path))
        elif args.command == "migrate":
            asyncio.run(migrate(settings, args.source, args.to))
        else:
            with asyncio.Runner(loop_factory=loop_factory(settings.uvloop)) as runner:
                runner.run(run_bot(settings))
    except (DatabaseError, KeyFileError, DiscordUnreachable) as exc:
        print(exc, file=sys.stderr)
        return EXIT_SETTINGS
    except discord.LoginFailure:
        print(
            "DISCORD_TOKEN was refused by Discord: copy the token again from the developer "
            "portal (Bot → Reset Token) into .env.",
            file=sys.stderr,
        )
        return EXIT_SETTINGS
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
