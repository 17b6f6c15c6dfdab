"""Settings: read from the environment and .env, with one clear sentence for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, SettingsError


def settings(**env: str) -> Settings:
    return Settings.from_env(env, env_file=None)


def test_defaults() -> None:
    s = settings(DISCORD_TOKEN="abc")
    assert s.token == "abc"
    assert s.database_path == Path("data/breakroom.db")
    assert s.dev_guild_id is None and s.api_base is None and s.gateway_url is None
    assert s.log_level == "INFO"


@pytest.mark.parametrize(
    ("value", "on"), [("", True), ("on", True), ("OFF", False), ("false", False), ("1", True)]
)
def test_uvloop_is_on_unless_turned_off(value: str, on: bool) -> None:
    assert settings(DISCORD_TOKEN="t", UVLOOP=value).uvloop is on


def test_a_uvloop_setting_that_is_neither_on_nor_off() -> None:
    with pytest.raises(SettingsError, match="UVLOOP must be on or off, not 'sometimes'"):
        settings(DISCORD_TOKEN="t", UVLOOP="sometimes")


def test_missing_token_explains_how_to_get_one() -> None:
    with pytest.raises(SettingsError) as info:
        settings()
    message = str(info.value)
    assert "DISCORD_TOKEN" in message
    assert "discord.com/developers/applications" in message
    assert "scope=bot+applications.commands" in message


@pytest.mark.parametrize("value", ["abc", "-5", "12.5", "0"])
def test_malformed_dev_guild_id(value: str) -> None:
    with pytest.raises(SettingsError, match="DEV_GUILD_ID"):
        settings(DISCORD_TOKEN="t", DEV_GUILD_ID=value)


def test_bad_log_level_and_urls() -> None:
    with pytest.raises(SettingsError, match="LOG_LEVEL"):
        settings(DISCORD_TOKEN="t", LOG_LEVEL="loud")
    with pytest.raises(SettingsError, match="DISCORD_API_BASE"):
        settings(DISCORD_TOKEN="t", DISCORD_API_BASE="ftp://x")
    with pytest.raises(SettingsError, match="DISCORD_GATEWAY_URL"):
        settings(DISCORD_TOKEN="t", DISCORD_GATEWAY_URL="http://x")
    with pytest.raises(SettingsError, match="BREAKROOM_SECRET"):
        settings(DISCORD_TOKEN="t", BREAKROOM_SECRET="short")


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_TOKEN=from-file\nDEV_GUILD_ID=42\nLOG_LEVEL=debug\n")
    s = Settings.from_env({"DISCORD_TOKEN": "from-env"}, env_file=env_file)
    assert s.token == "from-env"
    assert s.dev_guild_id == 42
    assert s.log_level == "DEBUG"


def test_key_file_defaults_to_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "xdg"
    s = settings(DISCORD_TOKEN="t", XDG_CONFIG_HOME=str(config))
    assert s.key_file == config / "breakroom" / "key"
    # Unset (or relative, which the XDG specification says to ignore): ~/.config.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for xdg in ({}, {"XDG_CONFIG_HOME": "relative/config"}):
        s = settings(DISCORD_TOKEN="t", **xdg)
        assert s.key_file == tmp_path / "home" / ".config" / "breakroom" / "key"


def test_key_file_setting_wins_and_expands_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    s = settings(DISCORD_TOKEN="t", BREAKROOM_KEY_FILE="~/keys/breakroom.key")
    assert s.key_file == tmp_path / "keys" / "breakroom.key"
    s = settings(DISCORD_TOKEN="t", BREAKROOM_KEY_FILE=str(tmp_path / "k"), XDG_CONFIG_HOME="/x")
    assert s.key_file == tmp_path / "k"


def test_bad_key_file(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for bad, why in (
        (str(tmp_path), "is a folder"),
        (f"{tmp_path}/keys/", "names a folder"),
        (str(blocker / "key"), "is a file, not a folder"),
        (str(tmp_path / "b.db"), "is the database itself"),
    ):
        with pytest.raises(SettingsError, match="BREAKROOM_KEY_FILE") as info:
            settings(
                DISCORD_TOKEN="t", BREAKROOM_KEY_FILE=bad, DATABASE_PATH=str(tmp_path / "b.db")
            )
        assert why in str(info.value)
        assert str(info.value).count(". ") == 0  # one sentence


def test_default_key_file_that_is_a_folder_is_refused_only_when_it_is_used(tmp_path: Path) -> None:
    (tmp_path / "breakroom" / "key").mkdir(parents=True)
    with pytest.raises(SettingsError, match="BREAKROOM_KEY_FILE"):
        settings(DISCORD_TOKEN="t", XDG_CONFIG_HOME=str(tmp_path))
    # With BREAKROOM_SECRET the key file is not used, so its default place does not matter.
    settings(DISCORD_TOKEN="t", XDG_CONFIG_HOME=str(tmp_path), BREAKROOM_SECRET="s" * 40)


PG = "postgresql://breakroom@db.example/breakroom"
SECRET = "s" * 40


def test_a_postgresql_url_replaces_the_file() -> None:
    s = settings(DISCORD_TOKEN="t", DATABASE_URL=PG)
    assert s.database_url == PG and s.database == PG
    assert settings(DISCORD_TOKEN="t").database == Path("data/breakroom.db")
    with pytest.raises(SettingsError, match="DATABASE_URL must be a PostgreSQL URL"):
        settings(DISCORD_TOKEN="t", DATABASE_URL="mysql://x/y")


@pytest.mark.parametrize(
    ("raw", "ids"),
    [
        ("0-3", (0, 1, 2, 3)),
        ("4,5", (4, 5)),
        ("0-1, 6", (0, 1, 6)),
        ("7", (7,)),
        ("3,1-2", (1, 2, 3)),
    ],
)
def test_shard_ids_are_ranges_and_lists(raw: str, ids: tuple[int, ...]) -> None:
    s = settings(
        DISCORD_TOKEN="t", SHARD_COUNT="8", SHARD_IDS=raw, DATABASE_URL=PG, BREAKROOM_SECRET=SECRET
    )
    assert (s.shard_count, s.shard_ids) == (8, ids)


@pytest.mark.parametrize("raw", ["a", "3-1", "0-8", "8", "1-", "-1", "1,,2"])
def test_shard_ids_outside_the_count_or_malformed_are_one_sentence(raw: str) -> None:
    with pytest.raises(SettingsError, match="SHARD_IDS"):
        settings(
            DISCORD_TOKEN="t",
            SHARD_COUNT="8",
            SHARD_IDS=raw,
            DATABASE_URL=PG,
            BREAKROOM_SECRET=SECRET,
        )


def test_shard_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(SettingsError, match="SHARD_COUNT must be"):
        settings(DISCORD_TOKEN="t", SHARD_COUNT="0")
    with pytest.raises(SettingsError, match="SHARD_IDS needs SHARD_COUNT"):
        settings(DISCORD_TOKEN="t", SHARD_IDS="0")
    # Some of the shards: the other processes need the same database and the same key.
    with pytest.raises(SettingsError, match="set DATABASE_URL"):
        settings(DISCORD_TOKEN="t", SHARD_COUNT="2", SHARD_IDS="0", BREAKROOM_SECRET=SECRET)
    with pytest.raises(SettingsError, match="set BREAKROOM_SECRET"):
        settings(DISCORD_TOKEN="t", SHARD_COUNT="2", SHARD_IDS="0", DATABASE_URL=PG)
    # All of them in one process: the SQLite file and a key file do.
    s = settings(DISCORD_TOKEN="t", SHARD_COUNT="2", SHARD_IDS="0-1")
    assert (s.shard_count, s.shard_ids, s.database_url) == (2, (0, 1), None)
