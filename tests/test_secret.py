"""The key for keyed hashes: from the environment or an owner-only key file, never the database."""

from __future__ import annotations

import stat
from pathlib import Path

from bot.secret import KEY_FILE_NAME, keyed_hash, load_or_create_key, same_hash


def test_key_file_is_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "b.db"
    key = load_or_create_key(None, db_path)
    key_file = tmp_path / "data" / KEY_FILE_NAME
    assert len(key) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_or_create_key(None, db_path) == key


def test_environment_secret_wins_and_writes_no_file(tmp_path: Path) -> None:
    key = load_or_create_key("s" * 40, tmp_path / "b.db")
    assert len(key) == 32
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_a_damaged_key_file_is_replaced_not_fatal(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).write_text("not hex")
    key = load_or_create_key(None, tmp_path / "b.db")
    assert len(key) == 32
    assert (tmp_path / "breakroom.key.damaged").exists()


def test_keyed_hash_is_narrow_to_its_purpose() -> None:
    key = b"k" * 32
    a = keyed_hash(key, 1, 2, "poll:1")
    assert same_hash(a, keyed_hash(key, 1, 2, "poll:1"))
    assert not same_hash(a, keyed_hash(key, 1, 2, "poll:2"))
    assert not same_hash(a, keyed_hash(key, 1, 3, "poll:1"))
    assert not same_hash(a, keyed_hash(b"x" * 32, 1, 2, "poll:1"))
