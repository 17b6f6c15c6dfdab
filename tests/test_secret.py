"""The key for keyed hashes: from the environment or an owner-only key file, never the database.

The key file lives apart from the database (BREAKROOM_KEY_FILE, by default
~/.config/breakroom/key), so a copy of the data folder or a backup never holds the key as well.
An older key file beside the database is moved there once, without ever losing the key.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from bot.config import Settings
from bot.secret import (
    OLD_KEY_FILE_NAME,
    KeyFileError,
    keyed_hash,
    load_or_create_key,
    old_key_file,
    same_hash,
    where_the_key_is,
)

KEY = "ab" * 32 + "\n"
OTHER_KEY = "cd" * 32 + "\n"


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    """(the key file, the database), in folders of their own."""
    return tmp_path / "config" / "breakroom" / "key", tmp_path / "data" / "b.db"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_file_is_created_once_with_owner_only_permissions(paths: tuple[Path, Path]) -> None:
    key_file, db_path = paths
    key = load_or_create_key(None, key_file, db_path)
    assert len(key) == 32
    assert mode(key_file) == 0o600
    assert mode(key_file.parent) == 0o700
    assert load_or_create_key(None, key_file, db_path) == key
    # Nothing beside the database, and no temporary file left behind.
    assert not db_path.parent.exists()
    assert os.listdir(key_file.parent) == ["key"]


def test_environment_secret_wins_and_writes_no_file(paths: tuple[Path, Path]) -> None:
    key_file, db_path = paths
    key = load_or_create_key("s" * 40, key_file, db_path)
    assert len(key) == 32
    assert not key_file.parent.exists()
    assert not old_key_file(db_path).exists()


@pytest.mark.parametrize("content", ["not hex", "", "\n"])
def test_a_damaged_key_file_is_replaced_not_fatal(paths: tuple[Path, Path], content: str) -> None:
    key_file, db_path = paths
    key_file.parent.mkdir(parents=True)
    key_file.write_text(content)
    key = load_or_create_key(None, key_file, db_path)
    assert len(key) == 32
    assert (key_file.parent / "key.damaged").read_text() == content
    assert mode(key_file) == 0o600


def test_a_key_file_that_cannot_be_written_is_one_clear_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(KeyFileError, match=r"key file .*BREAKROOM_KEY_FILE"):
        load_or_create_key(None, blocker / "key", tmp_path / "data" / "b.db")


def test_the_old_key_beside_the_database_is_moved_once_with_one_log_line(
    paths: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    key_file, db_path = paths
    old = db_path.parent / OLD_KEY_FILE_NAME
    old.parent.mkdir(parents=True)
    old.write_text(KEY)
    old.chmod(0o644)  # an old file with loose permissions: the moved one is owner-only anyway
    with caplog.at_level(logging.INFO, logger="bot.secret"):
        key = load_or_create_key(None, key_file, db_path)
    assert key == bytes.fromhex(KEY)
    assert not old.exists()
    assert key_file.read_text() == KEY
    assert mode(key_file) == 0o600 and mode(key_file.parent) == 0o700
    moved = [r.getMessage() for r in caplog.records if "moved" in r.getMessage()]
    assert moved == [f"moved the key file from {old} to {key_file} (BREAKROOM_KEY_FILE)"]
    assert not [r for r in caplog.records if "created" in r.getMessage()]

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.secret"):
        assert load_or_create_key(None, key_file, db_path) == key
    assert caplog.records == []  # once: nothing more to move, nothing to warn about


def test_a_move_cut_short_by_a_crash_loses_nothing_and_finishes_next_start(
    paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key_file, db_path = paths
    old = db_path.parent / OLD_KEY_FILE_NAME
    old.parent.mkdir(parents=True)
    old.write_text(KEY)
    synced: list[int] = []
    real_fsync, real_unlink = os.fsync, os.unlink

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    def crash_on_the_old_key(path: str | Path, *, dir_fd: int | None = None) -> None:
        if Path(path) == old:
            # The new file must be complete and on disk before the old one goes.
            assert key_file.read_text() == KEY and synced
            raise SystemExit("power cut")
        real_unlink(path, dir_fd=dir_fd)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "unlink", crash_on_the_old_key)
    with pytest.raises(SystemExit):
        load_or_create_key(None, key_file, db_path)
    monkeypatch.undo()
    assert old.read_text() == KEY and key_file.read_text() == KEY

    with caplog.at_level(logging.INFO, logger="bot.secret"):
        assert load_or_create_key(None, key_file, db_path) == bytes.fromhex(KEY)
    assert not old.exists()
    assert os.listdir(key_file.parent) == ["key"]
    assert [r.getMessage() for r in caplog.records] == [
        f"removed {old}: the same key is already in {key_file}"
    ]


def test_two_different_key_files_stop_the_bot_and_neither_is_touched(
    paths: tuple[Path, Path],
) -> None:
    key_file, db_path = paths
    old = db_path.parent / OLD_KEY_FILE_NAME
    old.parent.mkdir(parents=True)
    old.write_text(KEY)
    key_file.parent.mkdir(parents=True)
    key_file.write_text(OTHER_KEY)
    with pytest.raises(KeyFileError) as info:
        load_or_create_key(None, key_file, db_path)
    message = str(info.value)
    assert f"keep {old}" in message
    assert str(key_file) in message and "BREAKROOM_KEY_FILE" in message
    assert old.read_text() == KEY and key_file.read_text() == OTHER_KEY


def test_a_key_file_pointed_at_the_old_place_is_kept_with_a_warning(
    paths: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    _, db_path = paths
    old = db_path.parent / OLD_KEY_FILE_NAME
    old.parent.mkdir(parents=True)
    old.write_text(KEY)
    with caplog.at_level(logging.INFO, logger="bot.secret"):
        assert load_or_create_key(None, old, db_path) == bytes.fromhex(KEY)
    assert old.read_text() == KEY
    (warning,) = caplog.records
    assert warning.levelno == logging.WARNING
    assert f"the key file {old} is in the database's folder {db_path.parent}" in (
        warning.getMessage()
    )


@pytest.mark.parametrize("where", ["data/key", "data/keys/breakroom.key"])
def test_a_warning_when_the_key_file_is_in_the_database_folder(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    key_file, db_path = tmp_path / where, tmp_path / "data" / "b.db"
    with caplog.at_level(logging.WARNING, logger="bot.secret"):
        load_or_create_key(None, key_file, db_path)
    warnings = [r.getMessage() for r in caplog.records if "database's folder" in r.getMessage()]
    assert len(warnings) == 1
    assert "BREAKROOM_KEY_FILE" in warnings[0]


def test_no_warning_when_the_key_lives_apart(
    paths: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    key_file, db_path = paths
    load_or_create_key(None, key_file, db_path)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.secret"):
        load_or_create_key(None, key_file, db_path)
    assert caplog.records == []


def test_where_the_key_is_tells_the_truth(paths: tuple[Path, Path]) -> None:
    key_file, db_path = paths
    assert "BREAKROOM_SECRET" in where_the_key_is("s" * 40, key_file, db_path)
    old = old_key_file(db_path)
    old.parent.mkdir(parents=True)
    old.write_text(KEY)
    still = where_the_key_is(None, key_file, db_path)
    assert str(old) in still and str(key_file) in still
    load_or_create_key(None, key_file, db_path)
    assert str(key_file) in where_the_key_is(None, key_file, db_path)
    assert str(old) not in where_the_key_is(None, key_file, db_path)


def test_the_suite_keeps_key_files_out_of_the_real_config_folder(tmp_path: Path) -> None:
    """conftest.py points XDG_CONFIG_HOME at a temporary folder for every test (and so for every
    subprocess a test starts), so no test writes ~/.config/breakroom/key."""
    config = Path(os.environ["XDG_CONFIG_HOME"])
    assert config.is_relative_to(tmp_path)
    assert "BREAKROOM_KEY_FILE" not in os.environ
    assert Settings(token="t", database_path=tmp_path / "b.db").key_file == (
        config / "breakroom" / "key"
    )


def test_keyed_hash_is_narrow_to_its_purpose() -> None:
    key = b"k" * 32
    a = keyed_hash(key, 1, 2, "poll:1")
    assert same_hash(a, keyed_hash(key, 1, 2, "poll:1"))
    assert not same_hash(a, keyed_hash(key, 1, 2, "poll:2"))
    assert not same_hash(a, keyed_hash(key, 1, 3, "poll:1"))
    assert not same_hash(a, keyed_hash(b"x" * 32, 1, 2, "poll:1"))
