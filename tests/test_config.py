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
