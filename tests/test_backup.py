"""`python -m bot backup PATH` while the bot runs and members vote (issue 7, "Backups").

The copy is made through SQLite's online backup API by a second process while the bot process
keeps committing votes. It must open on its own, pass `PRAGMA integrity_check`, hold every vote
acknowledged before the backup started, be one consistent moment (the vote counters kept by
triggers agree with the vote rows) — and the README's restore steps must bring the bot back on it.
The copy never holds the key (issue 10): the command says where the key is kept instead, and
refuses to write over the key file or beside it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.migrations import load_migrations
from bot.secret import load_or_create_key
from tests.double import DiscordDouble, Member, Message
from tests.faults_process import (
    Job,
    Stream,
    bot_env,
    bot_process,
    create_team_and_poll,
    run_command,
    said,
)
from tests.process import REPO
from tests.support import TEST_SECRET

MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed")

#: More voters than the stream gets through while the backup runs: votes are in flight throughout.
VOTERS = 600


def check_copy(path: Path) -> tuple[set[int], int]:
    """Open the copy alone; (the voters it holds, its schema version). Fails on any damage or on
    counters that disagree with the rows (a copy torn between two transactions)."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        mismatched = conn.execute(
            "SELECT o.id, o.votes, (SELECT count(*) FROM poll_votes v WHERE v.option_id = o.id)"
            " FROM poll_options o"
            " WHERE o.votes != (SELECT count(*) FROM poll_votes v WHERE v.option_id = o.id)"
        ).fetchall()
        assert mismatched == [], f"torn copy: option counters {mismatched}"
        voters = conn.execute(
            "SELECT p.voters, (SELECT count(DISTINCT user_id) FROM poll_votes v"
            " WHERE v.poll_id = p.id) FROM polls p"
        ).fetchall()
        assert all(a == b for a, b in voters), f"torn copy: voters {voters}"
        users = {row[0] for row in conn.execute("SELECT user_id FROM poll_votes")}
    finally:
        conn.close()
    return users, version


def restore(copy: Path, db_path: Path) -> None:
    """The README's steps, with the bot stopped: replace the file, drop its -wal and -shm."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(copy, db_path)


async def test_online_backup_while_voting_is_consistent_and_restores(tmp_path: Path) -> None:
    async with DiscordDouble() as dd:
        guild = dd.add_guild("Riverside Legal")
        channel = dd.add_channel(guild, "front-desk")
        manager = dd.add_member(guild, "maria", manager=True)
        members = [dd.add_member(guild, f"clerk{n}") for n in range(VOTERS)]
        late = dd.add_member(guild, "latecomer")
        db_path = tmp_path / "data" / "breakroom.db"
        env = bot_env(dd, db_path)
        backup = tmp_path / "backups" / "copy.db"
        backup.parent.mkdir()

        async with bot_process(dd, env, tmp_path) as process:
            poll_id, message = await create_team_and_poll(dd, manager, channel)
            buttons = [b["custom_id"] for b in message.buttons()]

            def vote(member: Member, n: int, poll_message: Message = message) -> Job:
                async def send() -> bool:
                    ix = await dd.click(member, poll_message, buttons[n % 2], timeout=5)
                    return "✅ Voted" in await said(ix)

                return (member.id, send)

            stream = Stream(dd, concurrency=3)
            stream.run([vote(m, n) for n, m in enumerate(members)])
            await stream.wait_acked(10)
            started = asyncio.get_running_loop().time()
            code, output = await run_command(env, tmp_path, "backup", str(backup))
            finished = asyncio.get_running_loop().time()
            assert code == 0, output
            assert f"to {backup}" in output
            assert "The key is not in this backup: it is BREAKROOM_SECRET" in output
            assert [p.name for p in backup.parent.iterdir()] == ["copy.db"]
            in_flight = len(stream.acked_before(finished)) - len(stream.acked_before(started))
            assert in_flight > 0, "no vote was acknowledged while the backup ran"
            after = await dd.click(late, message, buttons[1])  # still serving after the backup
            assert "✅ Voted" in await said(after)
            await stream.cancel()
            assert stream.unanswered == []
            # Let the clicks already sent be answered: stopping under load is another test's job.
            await dd.wait_until(
                lambda: all(ix.acknowledged for ix in dd.interactions), what="every click answered"
            )
            process.signal(signal.SIGTERM)
            assert await process.wait(timeout=20) == 0
        assert "Traceback" not in process.output, process.output[-6000:]

        # The copy alone, away from the live database's -wal and -shm files.
        alone = tmp_path / "restore" / "breakroom.db"
        alone.parent.mkdir()
        shutil.copy(backup, alone)
        voters, version = check_copy(alone)
        assert version == max(m.version for m in load_migrations())
        acknowledged_first = set(stream.acked_before(started))
        assert len(acknowledged_first) >= 10
        assert acknowledged_first <= voters, "a vote acknowledged before the backup is missing"
        # The copy is one moment of a live database: some later votes may be in it, none made up.
        assert voters <= {m.id for m in members} | {late.id}
        print(f"backup: {len(voters)} votes in the copy, {in_flight} acknowledged during it")

        # README: stop the bot, replace the file (dropping -wal/-shm), start the bot.
        restore(alone, db_path)
        newcomer = dd.add_member(guild, "newcomer")
        async with bot_process(dd, env, tmp_path) as restored:
            ix = await dd.slash(manager, "poll results", channel=channel, poll=str(poll_id))
            text = await said(ix)
            assert f"{len(voters)} member" in text, text
            click = await dd.click(newcomer, message, buttons[0])
            assert "✅ Voted" in await said(click)
            restored.signal(signal.SIGTERM)
            assert await restored.wait(timeout=20) == 0


async def test_backup_never_holds_moves_or_overwrites_the_key_file(
    tmp_path: Path, private_config_home: Path
) -> None:
    db_path = tmp_path / "data" / "breakroom.db"
    old = db_path.parent / "breakroom.key"
    old.parent.mkdir()
    old.write_text("ab" * 32 + "\n")  # as an earlier Breakroom left it, beside the database
    key_file = private_config_home / "breakroom" / "key"
    env = {"DATABASE_PATH": str(db_path)}  # no token needed; no BREAKROOM_SECRET: a key file
    backups = tmp_path / "backups"
    backups.mkdir()

    # Before the bot has moved it: the backup says where the key still is, and leaves it there.
    code, output = await run_command(env, tmp_path, "backup", str(backups / "before.db"))
    assert code == 0, output
    assert f"The key is not in this backup: it is still in {old}" in output
    assert str(key_file) in output
    assert old.exists() and not key_file.exists()

    # What the bot does at start: the key moves to its own folder.
    key = load_or_create_key(None, key_file, db_path)
    code, output = await run_command(env, tmp_path, "backup", str(backups / "copy.db"))
    assert code == 0, output
    assert f"The key is not in this backup: it is kept in {key_file}" in output
    assert sorted(p.name for p in backups.iterdir()) == ["before.db", "copy.db"]
    for copy in backups.iterdir():
        data = copy.read_bytes()
        assert key.hex().encode() not in data and key not in data
    check_copy(backups / "copy.db")

    # The key file itself, and its folder, are refused as targets; the key is unchanged.
    for target in (key_file, key_file.parent / "copy.db"):
        code, output = await run_command(env, tmp_path, "backup", str(target))
        assert code == 2, output
        assert "Traceback" not in output
        assert f"{key_file.parent}" in output
        assert key_file.read_text() == key.hex() + "\n"
        assert sorted(p.name for p in key_file.parent.iterdir()) == ["key"]


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`make ARGS` in the repository as a newcomer runs it (not as a sub-make of `make test`),
    with the test's own settings only."""
    assert MAKE is not None
    own = ("DISCORD_", "DATABASE_", "BREAKROOM_")
    outer_make = {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"}
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(own) and k not in outer_make
    } | (env or {})
    return subprocess.run(
        [MAKE, *args], cwd=REPO, env=environ, capture_output=True, text=True, timeout=120
    )


@needs_make
def test_make_backup_writes_the_copy(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "breakroom.db"
    copy = tmp_path / "backups" / "copy.db"
    copy.parent.mkdir()
    env = {"DATABASE_PATH": str(db_path), "BREAKROOM_SECRET": TEST_SECRET}
    # The rule under test, not pip: this interpreter, and no reinstall of the venv (-o).
    done = make(
        "-s", "-o", ".venv/.installed-run", "backup", f"TO={copy}", f"PY={sys.executable}", env=env
    )
    assert done.returncode == 0, done.stderr
    assert f"Backed up {db_path} to {copy}." in done.stdout
    check_copy(copy)


@needs_make
def test_make_backup_without_to_is_one_sentence_and_builds_nothing() -> None:
    done = make("-n", "backup")  # -n: a check in the recipe would list the commands instead
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert "make backup needs TO, the file to write the copy to" in line
    assert "make backup TO=../breakroom-backup.db" in line
