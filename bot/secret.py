"""The key for keyed hashes (HMAC-SHA256), kept outside the database.

Where the bot must recognise the same person again without storing who they are (one vote per
member in an anonymous poll, deleting your own reflection, a daily limit), it stores
HMAC-SHA256(key, server id + user id + purpose). The purpose is as narrow as the job, so two
hashes for different purposes can't be linked, and a copy of the database alone reveals nobody.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)

KEY_FILE_NAME = "breakroom.key"


def keyed_hash(key: bytes, guild_id: int, user_id: int, purpose: str) -> bytes:
    message = f"{guild_id}:{user_id}:{purpose}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def same_hash(a: bytes, b: bytes) -> bool:
    """Compare two hashes in constant time."""
    return hmac.compare_digest(a, b)


def load_or_create_key(secret: str | None, database_path: Path) -> bytes:
    """The key from BREAKROOM_SECRET, or else from a key file beside the database.

    The key file is created once with owner-only permissions (0600). If it is lost a new one is
    made: the bot keeps working, but receipts and votes hashed with the old key can no longer be
    recognised.
    """
    if secret:
        return hashlib.sha256(secret.encode()).digest()
    path = database_path.parent / KEY_FILE_NAME
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except ValueError:
        log.warning("the key file %s is damaged; keeping it aside and making a new one", path)
        path.replace(path.with_suffix(".key.damaged"))
    key = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    log.warning(
        "created a new key file %s; receipt codes made before with another key no longer work",
        path,
    )
    return key
