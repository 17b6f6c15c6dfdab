"""Database faults (issue 7): the disk full, or the database locked by another process, during a
write. The member is told plainly that nothing was saved (within Discord's 3 s, or in the
follow-up of a deferred answer), nothing half-written remains, and the bot works again as soon
as the fault goes away.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.double import InteractionRecord, Member, Message
from tests.faults_support import UNEXPECTED, answer_text, changed_tables, dump_db, rate_limited_dd  # noqa: F401 (`dd`: rate limits on)
from tests.support import World
from tests.test_polls_helpers import option_button

SAVE_FAILED = "couldn't save that just now"
#: 4 bytes each in UTF-8: a 2000-character reflection needs overflow pages, i.e. new pages.
WIDE = "💬"


class OtherProcessLock:
    """`BEGIN EXCLUSIVE` held by another connection to the same file, as a sqlite3 shell or a
    maintenance script would. Its own thread: taking the lock may wait for the bot's writer."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._release = threading.Event()
        self._taken = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)
        self.error: BaseException | None = None

    def _hold(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=10)
            try:
                conn.execute("BEGIN EXCLUSIVE")
                self._taken.set()
                self._release.wait(30)
                conn.execute("ROLLBACK")
            finally:
                conn.close()
        except BaseException as exc:  # reported by release()
            self.error = exc
            self._taken.set()

    async def take(self) -> None:
        self._thread.start()
        await asyncio.to_thread(self._taken.wait, 15)
        assert self.error is None, self.error

    async def release(self) -> None:
        self._release.set()
        await asyncio.to_thread(self._thread.join, 15)
        assert self.error is None, self.error


@asynccontextmanager
async def locked(path: Path) -> AsyncIterator[OtherProcessLock]:
    lock = OtherProcessLock(path)
    await lock.take()
    try:
        yield lock
    finally:
        await lock.release()


@pytest.fixture
async def poll(world: World) -> Message:
    """A team in the front-desk channel with an open poll; its message."""
    text = await say(world, world.manager, "team create", name="Front desk", channel=world.channel)
    assert "Team created" in text, text
    text = await say(
        world, world.manager, "poll create", question="Job or career?", options="Job | Career"
    )
    match = re.search(r"poll #(\d+)", text)
    assert match, text
    return await world.dd.wait_for_message(
        world.channel, lambda m: f"poll #{match.group(1)}" in m.text and bool(m.buttons())
    )


async def say(world: World, member: Member, command: str, /, **options: object) -> str:
    ix = await world.dd.slash(member, command, channel=world.channel, options=options)
    text = await answer_text(ix)
    assert ix.ephemeral, text
    return text


async def told(ix: InteractionRecord, timeout: float = 5.0) -> str:
    """The member's answer: accepted by Discord (in time, once) and ephemeral."""
    text = await answer_text(ix, timeout)
    assert ix.ephemeral, text
    assert not ix.rejected, ix.rejected
    return text


async def write_reflection(world: World, member: Member, body: str) -> InteractionRecord:
    form = await world.dd.slash(member, "reflect", channel=world.channel)
    modal = await form.response(timeout=5)
    assert modal["type"] == 9, modal
    return await world.dd.submit_modal(member, modal["data"]["custom_id"], {"body": body})


def vacuum(path: Path) -> None:
    """What another process may do while the bot runs: rebuild the file without free pages."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("VACUUM")
    finally:
        conn.close()


@pytest.mark.sqlite_only
async def test_a_full_disk_refuses_a_reflection_plainly_and_recovers(
    world: World, poll: Message
) -> None:
    db = world.bot.db
    alice = world.members[0]
    # No free pages inside the file either (upgrades leave some behind: DROP TABLE, DROP COLUMN).
    await asyncio.to_thread(vacuum, world.db_path)
    assert await db.fetchval("PRAGMA freelist_count") == 0
    before = await dump_db(db)
    pages = await db.fetchval("PRAGMA page_count")
    # The disk is full: the file may not grow by a single page.
    assert await db.fetchval(f"PRAGMA max_page_count = {int(pages)}") == pages
    try:
        ix = await write_reflection(world, alice, WIDE * 2000)
        text = await told(ix)
        assert SAVE_FAILED in text and "nothing was changed" in text, text
        assert UNEXPECTED not in text
        assert changed_tables(before, await dump_db(db)) == []
        # Reads still work while the disk is full.
        ix = await world.dd.slash(alice, "poll list", channel=world.channel)
        assert "Job or career?" in await told(ix)
    finally:
        await db.fetchval("PRAGMA max_page_count = 1073741823")
    assert await db.fetchval("PRAGMA integrity_check") == "ok"
    ix = await write_reflection(world, alice, WIDE * 2000)
    assert "Your reflection is saved" in await told(ix)
    assert await db.fetchval("SELECT count(*) FROM reflections WHERE body = ?", (WIDE * 2000,)) == 1


@pytest.mark.sqlite_only
async def test_a_vote_while_another_process_locks_the_database(world: World, poll: Message) -> None:
    """Three members vote at once while the file is locked: each is told, within Discord's 3 s,
    that nothing was saved; after the lock goes, voting works."""
    db = world.bot.db
    before = await dump_db(db)
    job = option_button(poll, "Job")["custom_id"]
    async with locked(world.db_path):
        clicks = await asyncio.gather(*(world.dd.click(m, poll, job) for m in world.members))
        texts = await asyncio.gather(*(told(ix) for ix in clicks))
    for text in texts:
        assert SAVE_FAILED in text, text
    assert all((ix.latency or 99) < 3 for ix in clicks)
    assert changed_tables(before, await dump_db(db)) == []

    ix = await world.dd.click(world.members[0], poll, job)
    assert "✅ Voted **Job**" in await told(ix)
    assert await db.fetchval("SELECT count(*) FROM poll_votes") == 1


@pytest.mark.sqlite_only
async def test_an_answer_while_another_process_locks_the_database(world: World) -> None:
    """The answer form defers first, so the member is told in the follow-up; the answer is kept
    nowhere (not half in the database, not in the thread) until they send it again."""
    dd = world.dd
    text = await say(world, world.manager, "team create", name="Front desk", channel=world.channel)
    assert "Team created" in text, text
    assert "Posted prompt" in await say(world, world.manager, "prompt post")
    post = await dd.wait_for_message(world.channel, lambda m: bool(m.buttons()))
    alice = world.members[0]
    before = await dump_db(world.bot.db)
    thread_messages = sum(len(dd.messages(t)) for t in dd.threads(world.channel))

    async def answer(text: str) -> InteractionRecord:
        click = await dd.click(alice, post, post.button("Answer")["custom_id"])
        form = await click.response(timeout=5)
        assert form["type"] == 9, form
        return await dd.submit_modal(alice, form["data"]["custom_id"], {"answer": text})

    async with locked(world.db_path):
        ix = await answer("A job pays the rent; a career is where I'm going.")
        # A deferred answer may follow up for 15 minutes; the database gives up on a lock in ~1 s.
        text = await told(ix, timeout=10)
    assert SAVE_FAILED in text, text
    assert changed_tables(before, await dump_db(world.bot.db)) == []
    assert sum(len(dd.messages(t)) for t in dd.threads(world.channel)) == thread_messages

    ix = await answer("A job pays the rent; a career is where I'm going.")
    assert "Answer saved" in await told(ix)
    assert await world.bot.db.fetchval("SELECT count(*) FROM prompt_answers") == 1
