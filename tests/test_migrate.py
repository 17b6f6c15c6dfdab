"""`python -m bot migrate --to postgresql://…` (issue 15, "Moving up"): a database the bot made on
SQLite, with a row in every table, is copied into an empty PostgreSQL database; every table's rows
are equal after the copy (compared here, not only by migrate's own check), and the bot then runs
on PostgreSQL with the buttons of messages posted before the move still working. A target that
holds anything, another schema version, a value PostgreSQL's column can't take, and a bad URL are
refused with one clear message, nothing written. `python -m bot backup` on PostgreSQL says to use
pg_dump."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.db import Database
from bot.migrate import migrate
from bot.migrate_advice import key_advice
from bot.migrations import DatabaseError
from cogs._poll_messages import PollMessages
from tests.double import DiscordDouble
from tests.process import REPO
from tests.support import TEST_SECRET, World, database_before
from tests.test_forget import confirm, forget_me
from tests.test_history_helpers import (
    SLOT,
    WEEK,
    answer,
    answer_of,
    close_poll,
    command,
    create_poll,
    create_team,
    poll_message,
    prompt_posts,
    reflect,
    reflection_posts,
    rerun_poll,
    vote,
)
from tests.test_history_share import history_of, share
from tests.test_reflections import RECEIPT, report

pytestmark = pytest.mark.sqlite_only  # each test builds its SQLite source itself

Rows = dict[str, tuple[list[str], Counter[tuple[Any, ...]]]]


@pytest.fixture(autouse=True)
def quick_refresh() -> Iterator[None]:
    saved = PollMessages.interval
    PollMessages.interval = 0.05
    yield
    PollMessages.interval = saved


def sqlite_rows(path: Path) -> Rows:
    """Every table of the SQLite schema (not SQLite's own): its columns and its rows."""
    conn = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        found: Rows = {}
        for name in names:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({name})")]
            rows = conn.execute(f"SELECT {', '.join(columns)} FROM {name}").fetchall()
            found[name] = (columns, Counter(rows))
        return found
    finally:
        conn.close()


async def postgresql_rows(url: str, like: Rows) -> Rows:
    """The same tables' rows in PostgreSQL, by the same column names."""
    conn = await asyncpg.connect(url)
    try:
        found: Rows = {}
        for name, (columns, _) in like.items():
            rows = await conn.fetch(f"SELECT {', '.join(columns)} FROM {name}")
            found[name] = (columns, Counter(tuple(r) for r in rows))
        return found
    finally:
        await conn.close()


async def table_names(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        )
        return [r[0] for r in rows]
    finally:
        await conn.close()


async def python_m_bot(
    env: dict[str, str], cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` with only these settings (and no .env: `cwd` has none)."""
    own = ("DISCORD_", "DATABASE_", "BREAKROOM_")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    environ |= env | {"PYTHONPATH": str(REPO), "LOG_LEVEL": "WARNING"}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def with_password(url: str) -> str:
    """The same URL with a password in it (the dev server trusts local connections)."""
    return url.replace("postgresql://postgres@", "postgresql://postgres:hunter2@", 1)


def office(dd: DiscordDouble, tmp_path: Path) -> World:
    guild = dd.add_guild("Riverside Legal")
    return World(
        dd=dd,
        clock=ManualClock(),
        db_path=tmp_path / "breakroom.db",
        guild=guild,
        channel=dd.add_channel(guild, "front-desk"),
        manager=dd.add_member(guild, "maria", manager=True),
        members=[dd.add_member(guild, name) for name in ("alice", "bob", "carol")],
    )


async def a_month_on_sqlite(world: World) -> dict[str, Any]:
    """Everything Breakroom stores, made through the double on SQLite: a team with a weekly
    prompt answered, a named poll closed and re-run (open), an anonymous poll (open), three
    reflections shared and one reported, one waiting, a history share, and /forget-me's
    erasure of carol's shared reflection waiting in the outbox."""
    alice, bob, carol = world.members
    await create_team(world)
    text = await command(world, world.manager, "prompt schedule", weekday="monday", time="09:30")
    assert "Mondays at 09:30" in text, text
    world.clock.set(SLOT)
    await world.run_scheduler()
    await world.dd.wait_until(lambda: len(prompt_posts(world)) == 1, what="the weekly post")
    for member in (alice, bob):
        assert "saved" in await answer(world, member, prompt_posts(world)[0], member.name)
    first = await create_poll(world, world.manager, "Job or career?", "Job|Career")
    await vote(world, alice, first, "Job")
    await close_poll(world, first)
    rerun = await rerun_poll(world, world.manager, first)
    await vote(world, alice, rerun, "Career")
    anonymous = await create_poll(world, world.manager, "Swap desks?", "Yes|No", anonymous=True)
    await vote(world, alice, anonymous, "Yes")
    await vote(world, bob, anonymous, "No")
    for member in (alice, bob, carol):
        assert "R-" in await reflect(world, member, f"{member.name} reflects")
    await world.share_reflections()
    await world.dd.wait_until(lambda: len(reflection_posts(world)) == 3, what="the reflections")
    assert "never who" in await report(world, bob, reflection_posts(world)[0], "a reason")
    receipt = RECEIPT.search(await reflect(world, bob, "bob waits"))
    assert receipt is not None
    await answer_of(await share(world, world.manager, await history_of(world, world.manager)))
    result = await confirm(world, carol, await forget_me(world, carol), "Delete my data")
    assert "1 shared reflection of yours" in result, result
    return {"rerun": rerun, "anonymous": anonymous, "receipt": receipt.group(0)}


#: Empty in any database of schema 8 or later: migration 0008 moved anonymous votes to sealed
#: ballots, no flow writes it, and the bot seals any row left there when it starts. Its copy is
#: covered by `test_rows_the_app_never_writes_now_and_ids_ahead_are_copied` below.
LEGACY_EMPTY = {"poll_anonymous_votes"}


def counts(message_text: str, label: str) -> str:
    """The line under an option in a poll's message: '`██░░…` 50% · 1 vote'."""
    return message_text.split(f"**{label}**\n", 1)[1].split("\n", 1)[0]


async def test_a_database_made_on_sqlite_moves_to_postgresql_and_old_buttons_work(
    dd: DiscordDouble, tmp_path: Path, pg_url: str, pg_cluster: Any
) -> None:
    world = office(dd, tmp_path)
    await world.start()
    made = await a_month_on_sqlite(world)
    await world.stop()
    before = sqlite_rows(world.db_path)
    # every table is covered
    assert {t for t, (_, rows) in before.items() if not rows} == LEGACY_EMPTY
    assert len(before) == 18

    copied = await migrate(world.db_path, pg_url)
    assert copied.rows == {t: rows.total() for t, (_, rows) in before.items()}
    assert await postgresql_rows(pg_url, before) == before
    # Written in primary key order: the order in PostgreSQL's pages is the ids' order.
    conn = await asyncpg.connect(pg_url)
    try:
        for table in ("reflections", "deliveries", "prompt_answers"):
            ids = [r[0] for r in await conn.fetch(f"SELECT id FROM {table} ORDER BY ctid")]
            assert ids == sorted(ids), table
    finally:
        await conn.close()

    # The command, into a second database: its report, with the password not shown.
    name = f"migrate_cli_{os.getpid()}"
    second = await pg_cluster.create_database(name)
    try:
        env = {"DATABASE_PATH": str(world.db_path), "BREAKROOM_SECRET": TEST_SECRET}
        done = await python_m_bot(env, tmp_path, "migrate", "--to", with_password(second))
        assert done.returncode == 0, done.stderr
        assert f"Copied {copied.total} rows in 18 tables from {world.db_path}" in done.stdout
        assert "DATABASE_URL=postgresql://postgres:***@/" in done.stdout
        assert "hunter2" not in done.stdout + done.stderr
        assert "BREAKROOM_SECRET: keep it exactly as it is" in done.stdout
        assert await postgresql_rows(second, before) == before
    finally:
        await pg_cluster.drop_database(name)

    # The bot on PostgreSQL, with the same key, and the messages posted before the move.
    _, bob, carol = world.members
    world.database_url = pg_url
    await world.start()
    assert "Voted **Career**" in await vote(world, carol, made["rerun"], "Career")
    await world.dd.wait_until(
        lambda: "2 votes" in counts(poll_message(world, made["rerun"]).text, "Career"),
        what="the re-run poll's message counting carol's vote",
    )
    options = await world.bot.db.fetchall(
        "SELECT votes FROM poll_options WHERE poll_id = ? ORDER BY position", (made["rerun"],)
    )
    assert [r[0] for r in options] == [0, 2]
    # bob moves his anonymous vote: his ballot, sealed under the key, is found and opened.
    assert "Moved to **Yes**" in await vote(world, bob, made["anonymous"], "Yes")
    assert (
        await world.bot.db.fetchval(
            "SELECT count(*) FROM poll_ballots WHERE poll_id = ?", (made["anonymous"],)
        )
        == 2
    )
    await world.dd.wait_until(
        lambda: "0 votes" in counts(poll_message(world, made["anonymous"]).text, "No"),
        what="the anonymous poll's message after bob's change",
    )
    # carol answers the prompt posted before the move; bob's receipt still finds his waiting
    # reflection.
    assert "saved" in await answer(world, carol, prompt_posts(world)[0], "carol, after")
    deleted = await command(world, bob, "reflections delete", code=made["receipt"])
    assert "Deleted" in deleted, deleted
    # The next Monday's weekly post goes out once (a new id after the copied ones).
    world.clock.set(SLOT + WEEK)
    await world.run_scheduler()
    await world.dd.wait_until(lambda: len(prompt_posts(world)) == 2, what="the next weekly post")
    await world.run_scheduler()
    await world.dd.settle()
    assert len(prompt_posts(world)) == 2
    assert await world.bot.db.fetchval("SELECT count(*) FROM prompt_posts") == 2
    # By then /forget-me's erasure, sealed under the key on SQLite, has removed carol's post.
    await world.dd.wait_until(lambda: len(reflection_posts(world)) == 2, what="carol's erasure")
    assert await world.bot.db.fetchval("SELECT count(*) FROM deliveries") == 0
    await world.stop()


# --- rows by hand: what no flow writes now, forward references, ids handed out before ---------


def raw_database(path: Path) -> None:
    """A schema-14 database with rows written by hand: a re-run that names a LATER poll (one
    COPY per table checks its foreign keys at the end), an old anonymous vote, and prompts whose
    highest id (3) was deleted, so AUTOINCREMENT must not hand it out again."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("INSERT INTO guilds (guild_id, joined_at) VALUES (10, 1)")
        conn.execute(
            "INSERT INTO teams (id, guild_id, name, name_key, channel_id, created_at)"
            " VALUES (1, 10, 'Desk', 'desk', 20, 1)"
        )
        poll = (
            "INSERT INTO polls (id, team_id, guild_id, creator_id, question, anonymous,"
            " created_at, closes_at, rerun_of) VALUES (?, 1, 10, 30, 'Q?', 1, 1, 99, ?)"
        )
        conn.execute(poll, (9, None))
        conn.execute(poll, (4, 9))
        conn.execute(
            "INSERT INTO poll_options (id, poll_id, position, label) VALUES (5, 4, 0, 'A')"
        )
        conn.execute("INSERT INTO poll_anonymous_votes VALUES (4, ?, 5)", (b"\x07" * 32,))
        for n in (1, 2, 3):
            conn.execute(
                "INSERT INTO prompts (guild_id, text, text_key, created_at) VALUES (10, ?, ?, 1)",
                (f"Prompt {n}?", f"prompt{n}?"),
            )
        conn.execute("DELETE FROM prompts WHERE id = 3")
    finally:
        conn.close()


async def test_rows_the_app_never_writes_now_and_ids_ahead_are_copied(
    tmp_path: Path, pg_url: str
) -> None:
    path = tmp_path / "raw.db"
    await (await Database.open(path)).close()
    raw_database(path)
    before = sqlite_rows(path)
    await migrate(path, pg_url)
    assert await postgresql_rows(pg_url, before) == before
    assert before["poll_anonymous_votes"][1].total() == 1
    db = await Database.open(pg_url)
    try:
        async with db.transaction() as tx:
            new_id = await tx.insert(
                "INSERT INTO prompts (guild_id, text, text_key, created_at)"
                " VALUES (10, 'New?', 'new?', 2)"
            )
            poll_id = await tx.insert(
                "INSERT INTO polls (team_id, guild_id, creator_id, question, created_at,"
                " closes_at) VALUES (1, 10, 30, 'Next?', 2, 99)"
            )
        assert (new_id, poll_id) == (4, 10)
    finally:
        await db.close()


# --- refusals ---------------------------------------------------------------------------------


async def small_database(tmp_path: Path) -> Path:
    path = tmp_path / "small.db"
    db = await Database.open(path)
    try:
        await db.execute("INSERT INTO guilds (guild_id, joined_at) VALUES (10, 1)")
    finally:
        await db.close()
    return path


async def test_a_target_that_holds_anything_is_refused_and_left_as_it_was(
    tmp_path: Path, pg_url: str
) -> None:
    path = await small_database(tmp_path)
    await migrate(path, pg_url)
    before = await postgresql_rows(pg_url, sqlite_rows(path))
    with pytest.raises(DatabaseError, match="already holds Breakroom data \\(rows in guilds\\)"):
        await migrate(path, pg_url)
    assert await postgresql_rows(pg_url, sqlite_rows(path)) == before

    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute("DROP TABLE guilds CASCADE")
        await conn.execute("CREATE TABLE invoices (id BIGINT)")
    finally:
        await conn.close()
    with pytest.raises(DatabaseError, match="holds tables that are not Breakroom's"):
        await migrate(path, pg_url)
    assert "guilds" not in await table_names(pg_url)  # not even the schema was touched


async def test_another_schema_version_is_refused_before_the_target_is_touched(
    tmp_path: Path, pg_url: str
) -> None:
    old, old_path = await database_before(tmp_path, 14)
    await old.close()
    with pytest.raises(DatabaseError, match=r"schema version 13.*start this Breakroom once"):
        await migrate(old_path, pg_url)
    newer = await small_database(tmp_path)
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 16")
    with pytest.raises(DatabaseError, match="schema version 16, newer than"):
        await migrate(newer, pg_url)
    assert await table_names(pg_url) == []


async def test_a_value_postgresql_cant_hold_names_its_column_and_nothing_is_written(
    tmp_path: Path, pg_url: str
) -> None:
    path = await small_database(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO guilds (guild_id, joined_at, left_at) VALUES (11, 1, 'soon')")
    with pytest.raises(DatabaseError) as refused:
        await migrate(path, pg_url)
    assert "guilds.left_at holds text in row 2" in str(refused.value)
    assert "soon" not in str(refused.value)  # a value may be someone's words: never shown
    rows = await postgresql_rows(pg_url, sqlite_rows(path))
    assert all(not found for _, found in rows.values())


async def test_bad_targets_are_one_line_and_exit_2(tmp_path: Path, pg_url: str) -> None:
    path = await small_database(tmp_path)
    missing = pg_url.replace("/t", "/no_such_database_", 1)
    env = {"DATABASE_PATH": str(path)}
    for url, said in (
        ("mysql://office/breakroom", "--to must be a PostgreSQL URL"),
        (with_password(missing), "cannot be reached"),
    ):
        done = await python_m_bot(env, tmp_path, "migrate", "--to", url)
        assert done.returncode == 2, done
        assert done.stdout == ""
        [line] = done.stderr.strip().splitlines()
        assert said in line and "hunter2" not in line
    done = await python_m_bot(
        {"DATABASE_PATH": str(tmp_path / "none.db")}, tmp_path, "migrate", "--to", pg_url
    )
    assert done.returncode == 2 and "there is no SQLite database at" in done.stderr
    assert await table_names(pg_url) == []


async def test_backup_on_postgresql_explains_pg_dump(tmp_path: Path, pg_url: str) -> None:
    target = tmp_path / "backup" / "breakroom.dump"
    env = {"DATABASE_URL": with_password(pg_url), "BREAKROOM_SECRET": TEST_SECRET}
    done = await python_m_bot(env, tmp_path, "backup", str(target))
    assert done.returncode == 2, done
    assert "Backed up" not in done.stdout + done.stderr
    assert "use pg_dump" in done.stderr and f"--file={target}" in done.stderr
    assert "hunter2" not in done.stderr
    assert not target.exists()


# --- what to change in .env: the key ----------------------------------------------------------


def test_a_key_file_goes_with_the_database_and_keeps_it_one_process(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "key"
    key_file.parent.mkdir()
    key_file.write_text("ab" * 32)
    settings = Settings(token="", database_path=tmp_path / "breakroom.db", key_file=key_file)
    said = "\n".join(key_advice(settings, settings.database_path))
    assert f"key file {key_file}" in said and "set BREAKROOM_KEY_FILE to it" in said
    assert "runs as ONE process" in said and "several processes need BREAKROOM_SECRET" in said
    key_file.unlink()
    said = "\n".join(key_advice(settings, settings.database_path))
    assert "no key file was found" in said
    with_secret = Settings(token="", database_path=settings.database_path, secret=TEST_SECRET)
    said = "\n".join(key_advice(with_secret, settings.database_path))
    assert "BREAKROOM_SECRET: keep it exactly as it is" in said and "ONE process" not in said
