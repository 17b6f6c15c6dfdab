"""A real PostgreSQL for the tests: an external server, or a throwaway cluster started from the
machine's binaries. Never a mock: the PostgreSQL backend must be tested against the real server.

Which one (`choose`): `BREAKROOM_TEST_DATABASE_URL` when set (a server someone runs; the URL names
a database whose role may CREATE and DROP other databases), else a throwaway cluster from the
highest `/usr/lib/postgresql/*/bin` holding `initdb` and `pg_ctl` (then `initdb` on PATH;
`BREAKROOM_TEST_PG_BIN` replaces that search with a directory or glob of its own), else none,
with the reason. tests/pg_fixtures.py turns "none" into a skip, or a failure when CI=true.

The throwaway cluster lives in one temporary folder, removed by `stop()`. It is tuned to be
fast, not durable (fsync, synchronous_commit and full_page_writes off), listens only on a unix
socket in that folder (no TCP at all) and trusts whoever can reach that socket: the folder is
mode 0700, so that is the server's OS user and root. Run as root, the server runs as the
`postgres` OS user, because `initdb` refuses root. Each test gets a database of its own;
`template()` builds a schema once so later databases are cheap copies of it.

For developers and the bench: `python -m tests.pg [--database NAME]` starts a throwaway cluster,
creates NAME (default `breakroom`), prints that database's URL as the first line on stdout (so
`DATABASE_URL=$(...)`-style readers get it alone), notes on stderr, then waits; Ctrl-C, SIGTERM
or SIGHUP stops the server and deletes its folder.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import glob
import itertools
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import asyncpg

URL_ENV = "BREAKROOM_TEST_DATABASE_URL"
BIN_ENV = "BREAKROOM_TEST_PG_BIN"
DEFAULT_SEARCH = "/usr/lib/postgresql/*/bin"
#: The OS user a throwaway cluster runs as when the tests run as root.
SERVER_USER = "postgres"
#: Settings for speed over durability: a crash loses the cluster, which is thrown away anyway.
SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "listen_addresses": "''",
    "port": "5432",
    "cluster_name": "'breakroom-tests'",
}
T = TypeVar("T")


class PostgresError(Exception):
    """The server could not be started or reached; the message says why, with its log."""


@dataclass(frozen=True)
class External:
    url: str


@dataclass(frozen=True)
class Local:
    bindir: Path
    user: str | None  # the OS user to run the server as; None: this process's own


@dataclass(frozen=True)
class Unavailable:
    reason: str


Plan = External | Local | Unavailable


def in_ci(env: Mapping[str, str]) -> bool:
    return env.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _version_key(bindir: str) -> tuple[int, ...]:
    """`.../9.6/bin` -> (9, 6), so that 10 sorts above 9.6 (a string sort gets that wrong)."""
    name = Path(bindir).parent.name
    return tuple(map(int, name.split("."))) if re.fullmatch(r"\d+(\.\d+)*", name) else ()


def _has_tools(bindir: str) -> bool:
    return all(os.access(os.path.join(bindir, tool), os.X_OK) for tool in ("initdb", "pg_ctl"))


def find_bindir(search: str, path: str | None = None) -> Path | None:
    """The highest-versioned directory matching `search` with both `initdb` and `pg_ctl`, else
    the directory of `initdb` on `path` (Fedora, Homebrew) if `pg_ctl` sits beside it."""
    found = sorted((d for d in glob.glob(search) if _has_tools(d)), key=_version_key)
    if found:
        return Path(found[-1])
    initdb = shutil.which("initdb", path=path) if path else None
    if initdb and _has_tools(os.path.dirname(initdb)):
        return Path(initdb).parent
    return None


def choose(env: Mapping[str, str], search: str | None = None) -> Plan:
    """Which PostgreSQL this session uses. `env` and `search` are arguments so the rules can be
    tested without touching the machine; `search` defaults to $BREAKROOM_TEST_PG_BIN, else the
    Debian layout with PATH as a fallback."""
    if env.get(URL_ENV):
        return External(env[URL_ENV])
    path = None
    if search is None:
        search = env.get(BIN_ENV) or DEFAULT_SEARCH
        path = None if env.get(BIN_ENV) else env.get("PATH", "")
    bindir = find_bindir(search, path)
    if bindir is None:
        where = f"under {search}" + (" or on PATH" if path is not None else "")
        return Unavailable(f"no initdb {where} and {URL_ENV} is unset")
    if os.geteuid() != 0:
        return Local(bindir, None)
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        return Unavailable(
            f"running as root and there is no {SERVER_USER!r} OS user to run initdb as "
            f"(it refuses root), and {URL_ENV} is unset"
        )
    return Local(bindir, SERVER_USER)


def _ident(name: str) -> str:
    """A database name as a quoted identifier. PostgreSQL would silently truncate a name over 63
    bytes, and the URL would then name a database that does not exist: refuse it instead."""
    if not name or "\0" in name or len(name.encode()) > 63:
        raise ValueError(f"not a usable database name (1-63 bytes, no NUL): {name!r}")
    return '"' + name.replace('"', '""') + '"'


def _redact(url: str) -> str:
    """A URL fit for an error message: no password, in the user part or the query."""
    url = re.sub(r"^([a-z]+://[^:/@?]*):[^@/?]*@", r"\1:***@", url)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)


def _run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Runs a coroutine from sync code, even where the thread already runs an event loop (a sync
    fixture under pytest-asyncio): a thread of its own gets a loop of its own."""
    with ThreadPoolExecutor(1, thread_name_prefix="tests.pg") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


class PostgresCluster:
    """A server the tests may create and drop databases on: `start()` a throwaway one, or
    `connect(url)` to an external one. asyncpg connections belong to one event loop and each
    test has its own, so every operation opens a connection of its own (a few ms on a socket)."""

    def __init__(self, admin_url: str, *, root: Path | None = None) -> None:
        if urlsplit(admin_url).scheme not in {"postgres", "postgresql"}:
            raise ValueError(f"not a postgresql:// URL: {_redact(admin_url)}")
        self.admin_url = admin_url
        self.root = root  # the throwaway cluster's folder; None for an external server
        self.version = ""
        self._major = 0
        self._token = secrets.token_hex(4)
        self._counter = itertools.count(1)
        self._created: set[str] = set()
        self._templates: set[str] = set()
        self._run_as: dict[str, Any] = {}
        self._env: dict[str, str] = {}
        self.bindir: Path | None = None

    @property
    def owned(self) -> bool:
        """True for a throwaway cluster this process started (and `stop()` deletes)."""
        return self.root is not None

    @classmethod
    def from_plan(cls, plan: External | Local) -> PostgresCluster:
        if isinstance(plan, External):
            return cls.connect(plan.url)
        return cls.start(plan.bindir, user=plan.user)

    @classmethod
    def connect(cls, url: str) -> PostgresCluster:
        """An external server: checks now that it answers and is recent enough."""
        cluster = cls(url)
        try:
            _run_sync(cluster._read_version)
        except (OSError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise PostgresError(f"{URL_ENV}={_redact(url)} does not answer: {exc}") from exc
        return cluster

    @classmethod
    def start(cls, bindir: Path | None = None, *, user: str | None = None) -> PostgresCluster:
        """initdb and start a throwaway cluster (about a second). Without `bindir`, the binaries
        `choose` would pick from this process's environment; without `user`, the server runs as
        this process's user, or as `postgres` when that is root."""
        if bindir is None:
            plan = choose({k: v for k, v in os.environ.items() if k != URL_ENV})
            if isinstance(plan, Unavailable):
                raise PostgresError(plan.reason)
            assert isinstance(plan, Local)
            bindir, user = plan.bindir, user or plan.user
        elif user is None and os.geteuid() == 0:
            user = SERVER_USER
        entry = pwd.getpwnam(user) if user is not None else None
        root = Path(tempfile.mkdtemp(prefix="breakroom-pg-"))
        query = urlencode({"host": str(root), "port": SETTINGS["port"]}, safe="/", quote_via=quote)
        cluster = cls(f"postgresql://postgres@/postgres?{query}", root=root)
        cluster.bindir = bindir
        cluster._env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
        if "TZ" in os.environ:
            cluster._env["TZ"] = os.environ["TZ"]
        if entry is not None:
            cluster._run_as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        atexit.register(cluster.stop)
        try:
            if entry is not None:
                os.chown(root, entry.pw_uid, entry.pw_gid)
            cluster._initdb_and_start()
            _run_sync(cluster._read_version)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _tool(self, *args: str) -> None:
        assert self.bindir is not None and self.root is not None
        done = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]], cwd=self.root, env=self._env,
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, **self._run_as,
        )  # fmt: skip
        if done.returncode != 0:
            said = f"{done.stdout}{done.stderr}{self.log_tail()}"
            raise PostgresError(f"{args[0]} failed ({done.returncode}): {said}")

    def _initdb_and_start(self) -> None:
        assert self.root is not None
        data = self.root / "data"
        self._tool(
            "initdb", "-D", str(data), "-U", "postgres", "-E", "UTF8", "--no-locale",
            "--auth-local=trust", "--auth-host=reject", "--no-sync",
        )  # fmt: skip
        socket_dir = str(self.root).replace("'", "''")
        settings = {**SETTINGS, "unix_socket_directories": f"'{socket_dir}'"}
        with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# tests/pg.py: fast, not durable, local only\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        log = str(self.root / "server.log")
        self._tool("pg_ctl", "start", "-w", "-t", "60", "-s", "-D", str(data), "-l", log)

    async def _read_version(self) -> None:
        conn = await asyncpg.connect(self.admin_url, timeout=15)
        try:
            self.version = await conn.fetchval("SHOW server_version")
            self._major = int(await conn.fetchval("SHOW server_version_num")) // 10000
        finally:
            await conn.close()
        if self._major < 13:  # for DROP DATABASE ... WITH (FORCE)
            raise PostgresError(f"PostgreSQL {self.version} is too old: the tests need 13+")

    def log_tail(self, lines: int = 20) -> str:
        log = self.root / "server.log" if self.root else None
        if log is None or not log.exists():
            return ""
        return "\nserver log:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def postmaster_pid(self) -> int | None:
        """The server's pid while it runs (from postmaster.pid), else None."""
        if self.root is None:
            return None
        try:
            pid = int((self.root / "data" / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return None
        return pid

    def url(self, dbname: str) -> str:
        """The URL of database `dbname` on this server (same user, host, port and options)."""
        _ident(dbname)
        return urlsplit(self.admin_url)._replace(path="/" + quote(dbname, safe="")).geturl()

    def unique_name(self, stem: str = "t") -> str:
        """A database name no other session (pytest-xdist worker, CI job on a shared server)
        will pick: `stem`, this cluster object's random token, a counter."""
        return f"{stem}_{self._token}_{next(self._counter)}"

    async def _admin(self, *statements: str) -> None:
        conn = await asyncpg.connect(self.admin_url, timeout=15)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def create_database(self, name: str, template: str | None = None) -> str:
        """Creates `name` as a copy of `template` (default template0: empty on every server,
        whatever was added to template1) and returns its URL. FILE_COPY (the only way before
        15) beats 15's default WAL_LOG by ~3x for small test databases."""
        strategy = " STRATEGY = FILE_COPY" if self._major >= 15 else ""
        source = _ident(template or "template0")
        await self._admin(f"CREATE DATABASE {_ident(name)} TEMPLATE {source}{strategy}")
        self._created.add(name)
        return self.url(name)

    async def drop_database(self, name: str) -> None:
        """Drops `name` if it exists, ending any connection a test left open (WITH (FORCE))."""
        await self._admin(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")
        self._created.discard(name)
        self._templates.discard(name)

    async def template(self, name: str, build: Callable[[str], Awaitable[object]]) -> str:
        """Database `name` holding what `build(url)` creates, built once per cluster object and
        returned at once after that; copy it with `create_database(x, template=name)`.
        A `name` left by an earlier run on a shared server is rebuilt, never trusted (so on a
        shared server pick a name only this run uses, e.g. `unique_name("schema")`).
        Connections `build` left open are ended and new ones refused: a template with a
        connection open cannot be copied."""
        if name in self._templates:
            return name
        await self.drop_database(name)
        await self.create_database(name)
        literal = "'" + name.replace("'", "''") + "'"
        try:
            await build(self.url(name))
            await self._admin(
                f"ALTER DATABASE {_ident(name)} ALLOW_CONNECTIONS false",
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                f"{literal} AND usename = current_user AND pid <> pg_backend_pid()",
            )
        except BaseException:
            await self.drop_database(name)
            raise
        self._templates.add(name)
        return name

    @asynccontextmanager
    async def fresh(self, stem: str = "t", template: str | None = None) -> AsyncIterator[str]:
        """A new database's URL for the block's duration, dropped after it (even if a
        connection to it is still open)."""
        name = self.unique_name(stem)
        url = await self.create_database(name, template=template)
        try:
            yield url
        finally:
            await self.drop_database(name)

    def stop(self) -> None:
        """A throwaway cluster: stopped at once (`-m immediate`: nothing in it is worth a
        checkpoint) and its folder deleted. An external server: the databases this object
        created and did not drop are dropped. Safe to call twice; also run at exit."""
        atexit.unregister(self.stop)
        if self.root is None:
            leftovers, self._created = sorted(self._created), set()
            if leftovers:
                drops = [f"DROP DATABASE IF EXISTS {_ident(n)} WITH (FORCE)" for n in leftovers]
                _run_sync(lambda: self._admin(*drops))
            return
        if self.postmaster_pid() is not None:
            data = str(self.root / "data")
            try:
                self._tool("pg_ctl", "stop", "-m", "immediate", "-w", "-s", "-D", data)
            except PostgresError:
                pass  # it stopped by itself meanwhile; the folder goes all the same
        shutil.rmtree(self.root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.pg", description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="breakroom", help="database to create (breakroom)")
    args = parser.parse_args(argv)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    try:
        cluster = PostgresCluster.start()
    except PostgresError as exc:
        print(f"PostgreSQL did not start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130  # start() has already cleaned up after itself
    try:
        print(_run_sync(lambda: cluster.create_database(args.database)), flush=True)
        notes = f"PostgreSQL {cluster.version} in {cluster.root}, superuser {cluster.admin_url}"
        print(f"{notes}\nCtrl-C stops it and deletes that folder.", file=sys.stderr, flush=True)
        while cluster.postmaster_pid() is not None:
            time.sleep(0.5)
        print(f"PostgreSQL stopped by itself.{cluster.log_tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
