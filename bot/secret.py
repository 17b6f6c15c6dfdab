"""The key for keyed hashes (HMAC-SHA256), kept outside the database and away from its folder.

Where the bot must recognise the same person again without storing who they are (one vote per
member in an anonymous poll, deleting your own reflection, a daily limit), it stores
HMAC-SHA256(key, server id + user id + purpose). The purpose is as narrow as the job, so two
hashes for different purposes can't be linked, and a copy of the database alone reveals nobody.

The key is BREAKROOM_SECRET, or else a key file (BREAKROOM_KEY_FILE, by default
~/.config/breakroom/key) in a folder of its own, so that a copy of the data folder or a backup of
the database never holds the key as well. Earlier versions kept `breakroom.key` beside the
database; it is moved to the key file's place once, at start.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)

#: Where earlier versions kept the key file: beside the database.
OLD_KEY_FILE_NAME = "breakroom.key"


class KeyFileError(Exception):
    """The key file can't be used as it is. The message is one sentence meant for the host."""


def keyed_hash(key: bytes, guild_id: int, user_id: int, purpose: str) -> bytes:
    message = f"{guild_id}:{user_id}:{purpose}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def same_hash(a: bytes, b: bytes) -> bool:
    """Compare two hashes in constant time."""
    return hmac.compare_digest(a, b)


def old_key_file(database_path: Path) -> Path:
    return database_path.parent / OLD_KEY_FILE_NAME


def same_path(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def inside_database_folder(key_file: Path, database_path: Path) -> bool:
    """Whether a copy of the database's folder would take the key file with it."""
    folder = database_path.resolve().parent
    return folder in key_file.resolve().parents


def load_or_create_key(secret: str | None, key_file: Path, database_path: Path) -> bytes:
    """The key from BREAKROOM_SECRET, or else from the key file (created if missing).

    The key file is created once with owner-only permissions (0600), its folder 0700. If it is
    lost a new one is made: the bot keeps working, but receipts and votes hashed with the old key
    can no longer be recognised. Raises KeyFileError when the host has to choose (two different
    key files) or the file can't be read or written.
    """
    if secret:
        return hashlib.sha256(secret.encode()).digest()
    try:
        move_old_key_file(key_file, database_path)
    except OSError as exc:
        raise KeyFileError(
            f"Breakroom could not move its key file from {old_key_file(database_path)} to "
            f"{key_file} ({exc.strerror or exc}): fix that, or set BREAKROOM_KEY_FILE to a file "
            f"it may write, and start again; the key is still in {old_key_file(database_path)}."
        ) from None
    if inside_database_folder(key_file, database_path):
        log.warning(
            "the key file %s is in the database's folder %s: a copy of that folder holds both, "
            "so it is no longer anonymous; set BREAKROOM_KEY_FILE to a place of its own "
            "(empty means ~/.config/breakroom/key)",
            key_file,
            database_path.resolve().parent,
        )
    try:
        return read_or_create(key_file)
    except OSError as exc:
        raise KeyFileError(
            f"Breakroom could not read or write its key file {key_file} "
            f"({exc.strerror or exc}): set BREAKROOM_KEY_FILE to a file it may write, or set "
            f"BREAKROOM_SECRET."
        ) from None


def read_or_create(path: Path, *, again: bool = True) -> bytes:
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
        if key:
            return key
        raise ValueError("an empty key")
    except FileNotFoundError:
        pass
    except ValueError:  # not hex, not ASCII, or empty
        log.warning("the key file %s is damaged; keeping it aside and making a new one", path)
        path.replace(path.with_name(path.name + ".damaged"))
    key = secrets.token_bytes(32)
    try:
        write_new_file(path, (key.hex() + "\n").encode("ascii"))
    except FileExistsError:  # another start made one meanwhile: use that one
        if again:
            return read_or_create(path, again=False)
        raise KeyFileError(in_the_way(path)) from None
    log.warning(
        "created a new key file %s; receipt codes made before with another key no longer work",
        path,
    )
    return key


def in_the_way(path: Path) -> str:
    return (
        f"Breakroom could not create its key file {path}: something that is not a readable file "
        f"is in its place (a broken symbolic link?); remove it, or set BREAKROOM_KEY_FILE to "
        f"another file."
    )


def move_old_key_file(key_file: Path, database_path: Path, *, again: bool = True) -> None:
    """Move `breakroom.key` from beside the database to the key file's place, once.

    Crash-safe: the new file is written in full and synced before the old one is removed, so at
    every moment at least one complete copy exists. A copy left behind by a crash between the two
    is recognised at the next start (same key in both) and removed. Two *different* keys are never
    overwritten: KeyFileError asks the host to choose.
    """
    old = old_key_file(database_path)
    if same_path(old, key_file) or not old.is_file():
        return
    content = old.read_bytes()
    if key_file.exists():
        if key_file.read_bytes().strip() != content.strip():
            raise KeyFileError(two_keys_message(old, key_file))
        old.unlink()
        sync_folder(old.parent)
        log.warning("removed %s: the same key is already in %s", old, key_file)
        return
    try:
        write_new_file(key_file, content)
    except FileExistsError:  # another start moved it meanwhile: compare with that one
        if again:
            move_old_key_file(key_file, database_path, again=False)
            return
        raise KeyFileError(in_the_way(key_file)) from None
    old.unlink()
    sync_folder(old.parent)
    log.warning("moved the key file from %s to %s (BREAKROOM_KEY_FILE)", old, key_file)


def two_keys_message(old: Path, key_file: Path) -> str:
    # Every earlier version read the key from beside the database, so while that file is there
    # it is the key this database was used with; the other one was made for something else
    # (another Breakroom on this machine with the same BREAKROOM_KEY_FILE, or a start with
    # another database). Breakroom deletes neither: a key deleted is votes and receipts lost.
    return (
        f"There are two different key files, {old} beside the database and {key_file} "
        f"(BREAKROOM_KEY_FILE), and Breakroom overwrites neither: keep {old}, the key this "
        f"database was used with, and either set BREAKROOM_KEY_FILE to a new file for this bot "
        f"(such as {key_file.with_name('breakroom-2.key')}; the key is moved there) or, if no "
        f"other Breakroom uses {key_file}, move {key_file} aside; then start again."
    )


def write_new_file(path: Path, content: bytes) -> None:
    """Write `path` owner-only, in full and synced, and never over an existing file.

    The content goes to a temporary file first, then is linked into place: a crash leaves either
    no file or the complete one. The folder is made 0700 if it is missing.
    """
    folder = path.parent
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # whatever the umask
    temporary = path.with_name(path.name + ".new")
    temporary.unlink(missing_ok=True)  # left by a crash: it never was the key file
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # fails if the file exists, unlike a rename
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            if path.exists():
                raise FileExistsError(path) from None
            os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    sync_folder(folder)


def sync_folder(folder: Path) -> None:
    """Make a file's creation or removal in `folder` durable (where the system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def where_the_key_is(secret: str | None, key_file: Path, database_path: Path) -> str:
    """One sentence for the host: where the key is kept (never in a backup of the database)."""
    if secret:
        return (
            "The key is not in this backup: it is BREAKROOM_SECRET, in the environment or .env; "
            "keep it safe, apart from the backups."
        )
    old = old_key_file(database_path)
    if not key_file.exists() and old.is_file() and not same_path(old, key_file):
        return (
            f"The key is not in this backup: it is still in {old}, beside the database, and "
            f"moves to {key_file} when the bot next starts; keep it safe, apart from the backups."
        )
    if not key_file.exists():
        return (
            f"The key is not in this backup, and there is no key file yet: the bot creates "
            f"{key_file} when it starts."
        )
    return (
        f"The key is not in this backup: it is kept in {key_file}; keep a copy of it safe, "
        f"apart from the backups."
    )
