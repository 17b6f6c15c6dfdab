"""Helpers for fault tests that run `python -m bot` as a real subprocess against the double.

No tests here. Product time in the subprocess is the real clock, so tests that need something
due soon write its due time into the database (a separate sqlite3 connection, as another process
would) and then nudge the bot with a command that wakes its scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.double import DiscordDouble, InteractionRecord, Member, Message
from tests.faults_support import answer_text
from tests.poll_posts import footer, has_poll_buttons
from tests.process import BotProcess
from tests.support import TEST_SECRET

READY = "Breakroom is ready"

#: (label, send): `send` returns True once the member was told it worked.
Job = tuple[Any, Callable[[], Awaitable[bool]]]


def bot_env(dd: DiscordDouble, db_path: Path) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": dd.token,
        "DISCORD_API_BASE": dd.api_base,
        "DISCORD_GATEWAY_URL": dd.gateway_url,
        "DATABASE_PATH": str(db_path),
        "BREAKROOM_SECRET": TEST_SECRET,
        "LOG_LEVEL": "INFO",
    }


@contextlib.asynccontextmanager
async def bot_process(
    dd: DiscordDouble, env: dict[str, str], cwd: Path, timeout: float = 30
) -> AsyncIterator[BotProcess]:
    """A running bot (ready, and connected to the double); killed on the way out if still up."""
    process = await BotProcess(env, cwd).start()
    try:
        await process.wait_for_line(READY, timeout=timeout)
        await dd.wait_ready(timeout=timeout)
        yield process
    finally:
        process.kill()
        with contextlib.suppress(TimeoutError):
            await process.wait(timeout=10)


async def run_command(
    env: dict[str, str], cwd: Path, *args: str, timeout: float = 30
) -> tuple[int, str]:
    """`python -m bot ARGS` to the end: (exit code, output)."""
    process = await BotProcess(env, cwd, args).start()
    try:
        code = await process.wait(timeout=timeout)
    finally:
        process.kill()
    return code, process.output


def connect(db_path: Path) -> sqlite3.Connection:
    """Another process's connection to the bot's database (autocommit, waits on a busy lock)."""
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def query(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    conn = connect(db_path)
    try:
        return list(conn.execute(sql, params).fetchall())
    finally:
        conn.close()


def execute(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> int:
    conn = connect(db_path)
    try:
        return conn.execute(sql, params).rowcount
    finally:
        conn.close()


async def said(ix: InteractionRecord, timeout: float = 5.0) -> str:
    """What the member was told, ephemerally (after a deferral: the follow-up)."""
    text = await answer_text(ix, timeout)
    assert ix.ephemeral or (ix.response_type == 9), text
    return text


async def create_team_and_poll(
    dd: DiscordDouble, manager: Member, channel: Any, options: str = "Job | Career"
) -> tuple[int, Message]:
    ix = await dd.slash(
        manager, "team create", channel=channel, name="Front desk", options={"channel": channel}
    )
    assert "Team created" in await said(ix), ix.rejected
    ix = await dd.slash(
        manager,
        "poll create",
        channel=channel,
        question="Job or career?",
        options={"options": options},
    )
    content = await said(ix)
    match = re.search(r"poll #(\d+)", content)
    assert match, content
    poll_id = int(match.group(1))
    message = await dd.wait_for_message(
        channel, lambda m: footer(m).startswith(f"Poll #{poll_id} ") and has_poll_buttons(m)
    )
    return poll_id, message


@dataclass
class Stream:
    """Interactions sent concurrently; remembers which ones the member saw acknowledged."""

    dd: DiscordDouble
    concurrency: int = 6
    acked: list[tuple[float, Any]] = field(default_factory=list)
    unanswered: list[Any] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def run(self, jobs: list[Job]) -> None:
        """Start sending. Each job is (label, send) where `send` returns True once the member was
        told it worked (an exception or False means it was not acknowledged)."""
        queue: asyncio.Queue[Job] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        for _ in range(self.concurrency):
            self._tasks.append(asyncio.create_task(self._worker(queue)))

    async def _worker(self, queue: asyncio.Queue[Job]) -> None:
        loop = asyncio.get_running_loop()
        while not queue.empty():
            label, send = queue.get_nowait()
            try:
                ok = await send()
            except (AssertionError, ConnectionError, TimeoutError):
                ok = False
            if ok:
                self.acked.append((loop.time(), label))
            else:
                self.unanswered.append(label)
            self._changed.set()
            self._changed = asyncio.Event()

    async def wait_acked(self, count: int, timeout: float = 20) -> None:
        async def enough() -> None:
            while len(self.acked) < count:
                if all(t.done() for t in self._tasks):
                    raise AssertionError(f"the stream ended with {len(self.acked)} acknowledged")
                await self._changed.wait()

        await asyncio.wait_for(enough(), timeout)

    def acked_before(self, moment: float) -> list[Any]:
        return [label for at, label in self.acked if at < moment]

    async def finish(self, timeout: float = 30) -> None:
        await asyncio.wait_for(asyncio.gather(*self._tasks), timeout)

    async def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
