"""The real process: `python -m bot` as a subprocess against the Discord double."""

from __future__ import annotations

import re
import signal
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.double import DiscordDouble
from tests.process import BotProcess
from tests.support import TEST_SECRET


async def run_to_exit(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await BotProcess(env, cwd).start()
    try:
        code = await process.wait(timeout=30)
    finally:
        process.kill()
    return code, process.output


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble() as dd:
        yield dd


#: What Breakroom's log lines start with (`setup_logging`); anything else it printed itself.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ")


def printed(output: str) -> list[str]:
    """The lines that are not log lines: what the process said to the host."""
    return [line for line in output.splitlines() if line and not LOG_LINE.match(line)]


def bot_env(dd: DiscordDouble, db_path: Path) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": dd.token,
        "DISCORD_API_BASE": dd.api_base,
        "DISCORD_GATEWAY_URL": dd.gateway_url,
        "DATABASE_PATH": str(db_path),
        "BREAKROOM_SECRET": TEST_SECRET,
        "LOG_LEVEL": "INFO",
    }


async def test_missing_token_is_one_clear_message_and_exit_2(tmp_path: Path) -> None:
    code, output = await run_to_exit({}, tmp_path)
    assert code == 2
    assert "DISCORD_TOKEN is not set" in output
    assert "discord.com/developers/applications" in output
    assert "Traceback" not in output


async def test_malformed_dev_guild_id_exits_2(tmp_path: Path) -> None:
    code, output = await run_to_exit({"DISCORD_TOKEN": "t", "DEV_GUILD_ID": "office"}, tmp_path)
    assert code == 2
    assert "DEV_GUILD_ID must be a server id" in output
    assert "Traceback" not in output


async def test_unwritable_database_path_exits_2_before_connecting(
    tmp_path: Path, double: DiscordDouble
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    env = bot_env(double, blocker / "breakroom.db")
    code, output = await run_to_exit(env, tmp_path)
    assert code == 2
    assert "DATABASE_PATH" in output
    assert "Traceback" not in output
    assert double.calls == []  # nothing was asked of Discord


async def test_process_logs_in_syncs_once_answers_help_and_stops_on_sigint(
    tmp_path: Path, double: DiscordDouble
) -> None:
    guild = double.add_guild("Riverside Legal")
    channel = double.add_channel(guild, "front-desk")
    member = double.add_member(guild, "alice")
    env = bot_env(double, tmp_path / "data" / "breakroom.db")

    first = await BotProcess(env, tmp_path).start()
    try:
        await first.wait_for_line("Breakroom is ready")
        assert double.sync_count == 1
        ix = await double.slash(member, "help", channel=channel)
        response = await ix.response(timeout=5)
        assert ix.latency < 3
        assert ix.ephemeral
        assert "Breakroom" in response["data"]["embeds"][0]["title"]
        # The production install's speed-ups, on by default: uvloop, and discord.py's `speed`
        # extra (orjson; zstandard, which makes it ask the gateway for zstd compression).
        await first.wait_for_line(r"running on uvloop [\d.]+, orjson [\d.]+, zstd-stream")
        assert double.gateway.compressions[-1] == "zstd-stream"
        first.signal(signal.SIGINT)
        assert await first.wait(timeout=20) == 0
    finally:
        first.kill()
    assert "Traceback" not in first.output
    assert "Breakroom stopped" in first.output

    second = await BotProcess({**env, "UVLOOP": "off"}, tmp_path).start()
    try:
        await second.wait_for_line("running on asyncio's event loop, orjson")
        await second.wait_for_line("Breakroom is ready")
        await second.wait_for_line("command tree unchanged")
        assert double.sync_count == 1  # the same tree is not synced again
        second.signal(signal.SIGTERM)
        assert await second.wait(timeout=20) == 0
    finally:
        second.kill()


def key_file_env(dd: DiscordDouble, db_path: Path) -> dict[str, str]:
    """The bot's settings without BREAKROOM_SECRET: the key comes from a key file."""
    env = bot_env(dd, db_path)
    del env["BREAKROOM_SECRET"]
    return env


async def test_old_key_file_is_moved_away_from_the_database_at_start(
    tmp_path: Path, double: DiscordDouble, private_config_home: Path
) -> None:
    db_path = tmp_path / "data" / "breakroom.db"
    old = db_path.parent / "breakroom.key"
    old.parent.mkdir()
    old.write_text("ab" * 32 + "\n")
    new = private_config_home / "breakroom" / "key"

    process = await BotProcess(key_file_env(double, db_path), tmp_path).start()
    try:
        line = await process.wait_for_line("moved the key file")
        assert f"from {old} to {new}" in line
        await process.wait_for_line("Breakroom is ready")
        process.signal(signal.SIGTERM)
        assert await process.wait(timeout=20) == 0
    finally:
        process.kill()
    assert "Traceback" not in process.output
    assert not old.exists()
    assert new.read_text() == "ab" * 32 + "\n"
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    assert not list(db_path.parent.glob("*key*"))


async def test_two_different_key_files_exit_2_before_connecting(
    tmp_path: Path, double: DiscordDouble, private_config_home: Path
) -> None:
    db_path = tmp_path / "data" / "breakroom.db"
    old = db_path.parent / "breakroom.key"
    old.parent.mkdir()
    old.write_text("ab" * 32 + "\n")
    new = private_config_home / "breakroom" / "key"
    new.parent.mkdir(parents=True)
    new.write_text("cd" * 32 + "\n")
    code, output = await run_to_exit(key_file_env(double, db_path), tmp_path)
    assert code == 2
    assert f"keep {old}" in output
    assert "Traceback" not in output
    assert double.calls == []
    assert old.read_text() == "ab" * 32 + "\n" and new.read_text() == "cd" * 32 + "\n"


async def test_key_file_that_is_a_folder_exits_2(tmp_path: Path) -> None:
    env = {"DISCORD_TOKEN": "t", "BREAKROOM_KEY_FILE": str(tmp_path)}
    code, output = await run_to_exit(env, tmp_path)
    assert code == 2
    assert "BREAKROOM_KEY_FILE must be the path of the key file" in output
    assert "Traceback" not in output


async def test_a_refused_token_is_one_sentence_and_exit_2(
    tmp_path: Path, double: DiscordDouble
) -> None:
    env = bot_env(double, tmp_path / "breakroom.db") | {"DISCORD_TOKEN": "not-the-token"}
    code, output = await run_to_exit(env, tmp_path)
    assert code == 2, output
    assert printed(output) == [
        "DISCORD_TOKEN was refused by Discord: copy the token again from the developer portal "
        "(Bot → Reset Token) into .env."
    ]
    assert [c.status for c in double.calls] == [401]


async def test_no_route_to_the_rest_api_is_one_sentence_naming_discord_api_base(
    tmp_path: Path, double: DiscordDouble, closed_port: int
) -> None:
    api_base = f"http://127.0.0.1:{closed_port}/api/v10"
    env = bot_env(double, tmp_path / "breakroom.db") | {"DISCORD_API_BASE": api_base}
    code, output = await run_to_exit(env, tmp_path)
    assert code == 2, output
    assert printed(output) == [
        f"Breakroom cannot reach Discord at {api_base} (the REST API address in "
        f"DISCORD_API_BASE): connection refused; check that address, or leave DISCORD_API_BASE "
        f"empty to use Discord's own."
    ]
    assert double.calls == []


async def test_no_route_to_the_gateway_is_one_sentence_naming_discord_gateway_url(
    tmp_path: Path, double: DiscordDouble, closed_port: int
) -> None:
    gateway = f"ws://127.0.0.1:{closed_port}/"
    env = bot_env(double, tmp_path / "breakroom.db") | {"DISCORD_GATEWAY_URL": gateway}
    code, output = await run_to_exit(env, tmp_path)
    assert code == 2, output
    assert printed(output) == [
        f"Breakroom cannot reach Discord at {gateway} (the gateway address in "
        f"DISCORD_GATEWAY_URL): connection refused; check that address, or leave "
        f"DISCORD_GATEWAY_URL empty to use Discord's own."
    ]
    assert "Traceback" not in output and "reconnect" not in output
    assert not double.gateway.live_session()
