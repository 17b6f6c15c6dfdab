"""tests/pg.py and tests/pg_fixtures.py: the real PostgreSQL that the PostgreSQL tests run on,
how a session picks it, and what a developer sees when there is none."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest

from tests.pg import (
    BIN_ENV,
    SERVER_USER,
    URL_ENV,
    External,
    Local,
    PostgresCluster,
    choose,
    find_bindir,
)
from tests.pg_fixtures import cluster_or_skip

REPO = Path(__file__).resolve().parent.parent


async def fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def databases(cluster: PostgresCluster) -> set[str]:
    return {r["datname"] for r in await fetch(cluster.admin_url, "SELECT datname FROM pg_database")}


def dbname(url: str) -> str:
    return urlsplit(url).path.removeprefix("/")


@pytest.fixture
def throwaway(pg_cluster: PostgresCluster) -> PostgresCluster:
    if not pg_cluster.owned:
        pytest.skip(f"this session runs on {URL_ENV}, not on a throwaway cluster")
    return pg_cluster


def fake_bindir(parent: Path, *tools: str) -> Path:
    bindir = parent / "bin"
    bindir.mkdir(parents=True)
    for tool in tools:
        (bindir / tool).write_text("#!/bin/sh\n")
        (bindir / tool).chmod(0o755)
    return bindir


# -- the throwaway cluster -------------------------------------------------------------------


async def test_throwaway_cluster_runs_the_binaries_found_tuned_for_speed(
    throwaway: PostgresCluster, pg_url: str
) -> None:
    assert throwaway.bindir is not None
    postgres = await asyncio.create_subprocess_exec(
        str(throwaway.bindir / "postgres"), "--version", stdout=asyncio.subprocess.PIPE
    )
    said, _ = await postgres.communicate()  # b"postgres (PostgreSQL) 15.18 (Debian 15.18-...)"
    release = said.decode().split(") ", 1)[1].split()[0]
    [row] = await fetch(pg_url, "SELECT version()")
    assert row[0].startswith(f"PostgreSQL {release} ")
    rows = await fetch(
        pg_url,
        "SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[])",
        ["fsync", "synchronous_commit", "full_page_writes", "max_connections", "listen_addresses"],
    )
    assert dict(rows) == {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
        "listen_addresses": "",  # no TCP: only the socket in the cluster's 0700 folder
    }


async def test_python_m_tests_pg_prints_a_url_and_cleans_up_on_sigterm(
    throwaway: PostgresCluster,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREAKROOM_")}
    env["PYTHONPATH"] = str(REPO)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.pg", "--database", "bench", cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    try:
        url = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().strip()
        assert url.startswith("postgresql://"), await proc.stderr.read()
        [row] = await fetch(url, "SELECT current_database()")
        assert row[0] == "bench"
        folder = parse_qs(urlsplit(url).query)["host"][0]
        assert await asyncio.to_thread(os.path.isdir, folder)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert "Ctrl-C stops it" in (await proc.stderr.read()).decode()
    assert not await asyncio.to_thread(os.path.exists, folder)
    with pytest.raises(OSError):
        await asyncpg.connect(url)


# -- per-test databases and templates (on whichever server the session uses) ----------------


async def test_two_test_databases_are_independent(pg_cluster: PostgresCluster, pg_url: str) -> None:
    assert await fetch(pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == []
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute("CREATE TABLE notes (body text); INSERT INTO notes VALUES ('mine')")
        async with pg_cluster.fresh("other") as other:
            assert dbname(other) != dbname(pg_url)
            [row] = await fetch(other, "SELECT to_regclass('notes')")
            assert row[0] is None
            await execute(other, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('its')")
        assert [r["body"] for r in await conn.fetch("SELECT body FROM notes")] == ["mine"]
    finally:
        await conn.close()


async def test_template_copies_have_its_tables_and_are_built_once(
    pg_cluster: PostgresCluster,
) -> None:
    builds: list[asyncpg.Connection] = []

    async def build(url: str) -> None:
        conn = await asyncpg.connect(url)
        await conn.execute("CREATE TABLE teams (name text); INSERT INTO teams VALUES ('desk')")
        builds.append(conn)  # left open on purpose: a template with a connection can't be copied

    name = pg_cluster.unique_name("schema")
    try:
        assert await pg_cluster.template(name, build) == name
        assert await pg_cluster.template(name, build) == name
        assert len(builds) == 1
        async with (
            pg_cluster.fresh(template=name) as first,
            pg_cluster.fresh(template=name) as second,
        ):
            await execute(first, "INSERT INTO teams VALUES ('first only')")
            assert [r[0] for r in await fetch(second, "SELECT name FROM teams")] == ["desk"]
            assert len(await fetch(first, "SELECT name FROM teams")) == 2
    finally:
        for conn in builds:
            conn.terminate()
        await pg_cluster.drop_database(name)
    assert name not in await databases(pg_cluster)


async def test_a_failed_build_leaves_no_template_and_the_next_call_builds_again(
    pg_cluster: PostgresCluster,
) -> None:
    async def broken(url: str) -> None:
        await execute(url, "CREATE TABLE half (done bool)")
        raise RuntimeError("migration 3 failed")

    async def good(url: str) -> None:
        await execute(url, "CREATE TABLE whole (done bool)")

    name = pg_cluster.unique_name("schema")
    with pytest.raises(RuntimeError, match="migration 3"):
        await pg_cluster.template(name, broken)
    assert name not in await databases(pg_cluster)
    try:
        await pg_cluster.template(name, good)
        async with pg_cluster.fresh(template=name) as copy:
            tables = await fetch(copy, "SELECT tablename FROM pg_tables WHERE schemaname='public'")
            assert [r[0] for r in tables] == ["whole"]
    finally:
        await pg_cluster.drop_database(name)


async def test_a_test_database_is_dropped_even_with_a_connection_left_open(
    pg_cluster: PostgresCluster,
) -> None:
    async with pg_cluster.fresh() as url:
        leaked = await asyncpg.connect(url)
    try:
        assert dbname(url) not in await databases(pg_cluster)
    finally:
        leaked.terminate()


async def test_an_external_server_from_the_env_url_with_only_createdb(
    throwaway: PostgresCluster, tmp_path: Path
) -> None:
    """What CI with a PostgreSQL service does: the URL names a database of a role that may
    create databases but is no superuser. Played here by a role on the throwaway cluster."""
    role, admin_db = throwaway.unique_name("ci"), throwaway.unique_name("ci_admin")
    await execute(throwaway.admin_url, f'CREATE ROLE "{role}" LOGIN CREATEDB')
    await execute(throwaway.admin_url, f'CREATE DATABASE "{admin_db}" OWNER "{role}"')
    url = urlsplit(throwaway.url(admin_db))._replace(netloc=f"{role}@").geturl()
    try:
        nowhere = str(tmp_path / "no-binaries")
        external = cluster_or_skip({URL_ENV: url, "CI": "true"}, search=nowhere)
        assert (external.admin_url, external.owned) == (url, False)

        async def build(db_url: str) -> None:
            await execute(db_url, "CREATE TABLE polls (question text)")

        template = await external.template(external.unique_name("schema"), build)
        async with external.fresh(template=template) as copy:
            [row] = await fetch(copy, "SELECT current_user, to_regclass('polls') IS NOT NULL")
            assert tuple(row) == (role, True)
        left = external.unique_name("left")
        await external.create_database(left)
        assert {template, left} <= await databases(throwaway)
        external.stop()  # drops what it created and left behind, not the database it was given
        remaining = await databases(throwaway)
        assert admin_db in remaining
        assert not {template, left} & remaining
    finally:
        owned = "SELECT datname FROM pg_database JOIN pg_roles ON datdba = pg_roles.oid"
        for row in await fetch(throwaway.admin_url, f"{owned} WHERE rolname = $1", role):
            await throwaway.drop_database(row[0])
        await execute(throwaway.admin_url, f'DROP ROLE "{role}"')


async def test_an_env_url_that_does_not_answer_fails_even_outside_ci(tmp_path: Path) -> None:
    url = f"postgresql://ci:hunter2@/ci?host={tmp_path}&port=5432"
    with pytest.raises(pytest.fail.Exception) as failed:
        cluster_or_skip({URL_ENV: url})
    message = str(failed.value)
    assert message.startswith(f"PostgreSQL for the tests: {URL_ENV}=postgresql://ci:***@/ci")
    assert "does not answer" in message
    assert "hunter2" not in message


# -- choosing a server, and what a session without one does -----------------------------------


def test_the_env_url_wins_over_binaries(tmp_path: Path) -> None:
    fake_bindir(tmp_path / "15", "initdb", "pg_ctl")
    url = "postgresql://ci@db.example:5432/ci"
    assert choose({URL_ENV: url}, search=str(tmp_path / "*" / "bin")) == External(url)


def test_the_highest_version_with_both_tools_is_chosen(tmp_path: Path) -> None:
    for version in ("9.6", "10", "13"):
        fake_bindir(tmp_path / version, "initdb", "pg_ctl")
    fake_bindir(tmp_path / "16", "pg_ctl")  # a client-only install: no initdb
    user = SERVER_USER if os.geteuid() == 0 else None
    assert choose({}, search=str(tmp_path / "*" / "bin")) == Local(tmp_path / "13" / "bin", user)


def test_initdb_on_path_is_the_fallback(tmp_path: Path) -> None:
    bindir = fake_bindir(tmp_path / "pg", "initdb", "pg_ctl")
    path = f"{tmp_path / 'empty'}{os.pathsep}{bindir}"
    assert find_bindir(str(tmp_path / "none" / "*" / "bin"), path=path) == bindir
    assert find_bindir(str(tmp_path / "none" / "*" / "bin"), path=str(tmp_path)) is None


@pytest.mark.parametrize("ci", [None, "false"])
def test_no_postgresql_skips_with_the_reason_outside_ci(tmp_path: Path, ci: str | None) -> None:
    search = str(tmp_path / "*" / "bin")
    env = {} if ci is None else {"CI": ci}
    with pytest.raises(pytest.skip.Exception) as skipped:
        cluster_or_skip(env, search=search)
    assert str(skipped.value) == (
        f"PostgreSQL tests skipped: no initdb under {search} and {URL_ENV} is unset"
    )


@pytest.mark.parametrize("ci", ["true", "1"])
def test_no_postgresql_fails_in_ci(tmp_path: Path, ci: str) -> None:
    search = str(tmp_path / "*" / "bin")
    with pytest.raises(pytest.fail.Exception) as failed:
        cluster_or_skip({"CI": ci}, search=search)
    assert str(failed.value).startswith(
        f"PostgreSQL tests may not be skipped in CI (CI={ci}): no initdb under {search} and "
    )


INNER_TESTS = """
def test_one(pg_cluster):
    pass

async def test_two(pg_url):
    pass
"""


def test_a_session_without_postgresql_says_why_in_one_line(tmp_path: Path) -> None:
    """As a developer without PostgreSQL sees it: a real pytest run, two tests skipped, one line.
    (Under CI=true the same run fails: cluster_or_skip, tested above, is all that differs.)"""
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    (tmp_path / "test_inner.py").write_text(INNER_TESTS)
    nowhere = str(tmp_path / "no-postgresql")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREAKROOM_") and k != "CI"}
    env.update({"PYTHONPATH": str(REPO), BIN_ENV: nowhere})
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.pg_fixtures", "-p", "no:cacheprovider"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 skipped" in run.stdout
    said = [line for line in run.stdout.splitlines() if "PostgreSQL" in line]
    assert said == [
        f"PostgreSQL tests skipped: no initdb under {nowhere} and {URL_ENV} is unset (2 tests)"
    ]


def test_urls_keep_the_servers_user_host_and_options() -> None:
    cluster = PostgresCluster("postgresql://ci:pw@db.example:5433/admin?sslmode=require")
    assert cluster.url("t 1") == "postgresql://ci:pw@db.example:5433/t%201?sslmode=require"
    with pytest.raises(ValueError, match="1-63 bytes"):
        cluster.url("x" * 64)  # PostgreSQL would silently truncate it to another name
