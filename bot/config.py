"""Settings: one frozen, typed object read from `.env` and the environment.

Nothing here runs at import time; `Settings.from_env()` is called by the entry point.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

DEFAULT_DATABASE_PATH = "data/breakroom.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_KEY_FILE_TEXT = "~/.config/breakroom/key"


def default_key_file(environ: Mapping[str, str]) -> Path:
    """$XDG_CONFIG_HOME/breakroom/key: away from the database, so a copy of its folder (or a
    backup) never holds the key too. A relative XDG_CONFIG_HOME is ignored, as the XDG Base
    Directory specification says."""
    config = environ.get("XDG_CONFIG_HOME", "").strip()
    base = Path(config) if config and Path(config).is_absolute() else Path.home() / ".config"
    return base / "breakroom" / "key"


class SettingsError(Exception):
    """A setting is missing or malformed. The message is one sentence meant for the host."""


TOKEN_HELP = """\
DISCORD_TOKEN is not set: Breakroom needs a bot token to log in.

How to get one:
  1. Open https://discord.com/developers/applications and create an application (New Application).
  2. Under "Bot", press "Reset Token" and copy the token.
  3. Put it in a file named .env next to pyproject.toml:   DISCORD_TOKEN=your-token-here
     (copy .env.example to .env to see every setting).
  4. Invite the bot to your server with this URL (replace APP_ID with the application's id):
     https://discord.com/oauth2/authorize?client_id=APP_ID&scope=bot+applications.commands&permissions={permissions}
     The permissions are: View Channels, Send Messages, Send Messages in Threads,
     Create Public Threads, Embed Links, Attach Files, Read Message History.
No privileged gateway intents are needed.
"""

# View Channel, Send Messages, Send Messages in Threads, Create Public Threads, Embed Links,
# Attach Files, Read Message History.
INVITE_PERMISSIONS = sum(1 << bit for bit in (10, 11, 14, 15, 16, 35, 38))


def parse_shard_ids(raw: str, count: int) -> tuple[int, ...]:
    """SHARD_IDS: ranges and single ids, `0-3` or `4,5` or `0-1,6`, each below SHARD_COUNT."""
    ids: set[int] = set()
    for part in raw.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()) or (not last and _):
            raise SettingsError(
                f"SHARD_IDS must be shard numbers and ranges such as 0-3 or 4,5, not {raw!r}."
            )
        low, high = int(first), int(last or first)
        if low > high or high >= count:
            raise SettingsError(
                f"SHARD_IDS {raw!r} names shards outside 0-{count - 1} (SHARD_COUNT is {count})."
            )
        ids.update(range(low, high + 1))
    return tuple(sorted(ids))


#: what an on/off setting may say
SWITCH = {"on": True, "off": False, "true": True, "false": False, "1": True, "0": False}


@dataclass(frozen=True, slots=True)
class Settings:
    token: str
    database_path: Path
    #: postgresql://… when set: the database is PostgreSQL, and database_path is not used
    database_url: str | None = None
    #: how many shards the bot has in all (None: one process, as many as Discord recommends)
    shard_count: int | None = None
    #: the shards this process runs (None: all of them)
    shard_ids: tuple[int, ...] | None = None
    dev_guild_id: int | None = None
    api_base: str | None = None
    gateway_url: str | None = None
    log_level: str = "INFO"
    secret: str | None = None
    key_file: Path = field(default_factory=lambda: default_key_file(os.environ))
    #: run on uvloop's event loop where it is installed (UVLOOP=off: asyncio's own)
    uvloop: bool = True

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: str | Path | None = ".env",
        *,
        require_token: bool = True,
    ) -> Settings:
        """Read settings; the process environment wins over `.env`."""
        values: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = values.get(name, "").strip()
            return value or None

        token = get("DISCORD_TOKEN")
        if token is None and require_token:
            raise SettingsError(TOKEN_HELP.format(permissions=INVITE_PERMISSIONS))

        dev_guild_raw = get("DEV_GUILD_ID")
        dev_guild_id: int | None = None
        if dev_guild_raw is not None:
            if not dev_guild_raw.isdigit() or not 0 < int(dev_guild_raw) < 2**64:
                raise SettingsError(
                    f"DEV_GUILD_ID must be a server id (a number such as 123456789012345678), "
                    f"not {dev_guild_raw!r}: copy it with Developer Mode on, or leave it empty."
                )
            dev_guild_id = int(dev_guild_raw)

        log_level = (get("LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise SettingsError(
                f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}."
            )

        api_base = get("DISCORD_API_BASE")
        gateway_url = get("DISCORD_GATEWAY_URL")
        for name, url, schemes in (
            ("DISCORD_API_BASE", api_base, ("http://", "https://")),
            ("DISCORD_GATEWAY_URL", gateway_url, ("ws://", "wss://")),
        ):
            if url is not None and not url.startswith(schemes):
                raise SettingsError(
                    f"{name} must be a URL starting with {' or '.join(schemes)}, not {url!r}; "
                    f"leave it empty to use Discord's own."
                )

        secret = get("BREAKROOM_SECRET")
        if secret is not None and len(secret) < 32:
            raise SettingsError(
                "BREAKROOM_SECRET must be at least 32 characters (for example the output of "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`), or left empty "
                "to let Breakroom keep a key file (BREAKROOM_KEY_FILE)."
            )

        uvloop_raw = (get("UVLOOP") or "on").lower()
        if uvloop_raw not in SWITCH:
            raise SettingsError(f"UVLOOP must be on or off, not {get('UVLOOP')!r}.")

        database_path = Path(get("DATABASE_PATH") or DEFAULT_DATABASE_PATH)
        database_url = get("DATABASE_URL")
        if database_url is not None and not database_url.startswith(
            ("postgresql://", "postgres://")
        ):
            raise SettingsError(
                f"DATABASE_URL must be a PostgreSQL URL such as "
                f"postgresql://breakroom@db.example/breakroom, not {database_url!r}; leave it "
                f"empty to use the SQLite file DATABASE_PATH."
            )
        shard_count, shard_ids = shard_settings(get("SHARD_COUNT"), get("SHARD_IDS"))
        if shard_ids is not None and shard_count is not None and len(shard_ids) < shard_count:
            # Other processes run the other shards: they must share the database and the key.
            if database_url is None:
                raise SettingsError(
                    "SHARD_IDS names only some of the shards, so other processes run the rest, "
                    "and processes can share only a PostgreSQL database: set DATABASE_URL."
                )
            if secret is None:
                raise SettingsError(
                    "SHARD_IDS names only some of the shards, so other processes run the rest, "
                    "and every process needs the same key: set BREAKROOM_SECRET, the same in all."
                )
        key_file_raw = get("BREAKROOM_KEY_FILE")
        try:
            key_file = Path(key_file_raw).expanduser() if key_file_raw else default_key_file(values)
        except RuntimeError:  # no home folder to expand ~ in
            raise SettingsError(
                "BREAKROOM_KEY_FILE needs a home folder to put the key in, and there is none "
                "(HOME is not set): give BREAKROOM_KEY_FILE as a full path, or set "
                "BREAKROOM_SECRET."
            ) from None
        # The key file matters only without BREAKROOM_SECRET; a value given is checked anyway.
        if secret is None or key_file_raw is not None:
            check_key_file(key_file, key_file_raw, database_path)

        return cls(
            token=token or "",
            database_path=database_path,
            database_url=database_url,
            shard_count=shard_count,
            shard_ids=shard_ids,
            dev_guild_id=dev_guild_id,
            api_base=api_base,
            gateway_url=gateway_url,
            log_level=log_level,
            secret=secret,
            key_file=key_file,
            uvloop=SWITCH[uvloop_raw],
        )

    @property
    def database(self) -> Path | str:
        """What `Database.open` is given: the PostgreSQL URL, else the SQLite file."""
        return self.database_url or self.database_path

    @property
    def logging_level(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]


def shard_settings(
    count_raw: str | None, ids_raw: str | None
) -> tuple[int | None, tuple[int, ...] | None]:
    if count_raw is None:
        if ids_raw is not None:
            raise SettingsError("SHARD_IDS needs SHARD_COUNT, the number of shards in all.")
        return None, None
    if not count_raw.isdigit() or not 1 <= int(count_raw) <= 10_000:
        raise SettingsError(
            f"SHARD_COUNT must be the number of shards in all (1 or more), not {count_raw!r}."
        )
    count = int(count_raw)
    return count, None if ids_raw is None else parse_shard_ids(ids_raw, count)


def check_key_file(key_file: Path, raw: str | None, database_path: Path) -> None:
    """A key file path that can't be a file is one sentence now, not a traceback at start."""
    try:
        slash = raw is not None and raw.endswith(("/", os.sep))
        folder = key_file.is_dir()
        blocker = next((p for p in key_file.parents if p.exists() and not p.is_dir()), None)
    except PermissionError:
        return  # not ours to look into; reading or writing the key will say what is wrong
    if slash:
        problem = f"{raw} ends with a slash, so it names a folder"
    elif folder:
        problem = f"{key_file} is a folder"
    elif blocker is not None:
        problem = f"{blocker} is a file, not a folder"
    elif key_file.resolve() == database_path.resolve():
        problem = f"{key_file} is the database itself"
    else:
        return
    if raw:
        raise SettingsError(
            f"BREAKROOM_KEY_FILE must be the path of the key file, a file of its own away from "
            f"the database, but {problem}: set it to one such as {DEFAULT_KEY_FILE_TEXT}, or "
            f"leave it empty for that."
        )
    raise SettingsError(
        f"BREAKROOM_KEY_FILE is empty, so the key file would be {key_file}, but {problem}: "
        f"set BREAKROOM_KEY_FILE to the path of a file of your choice."
    )
