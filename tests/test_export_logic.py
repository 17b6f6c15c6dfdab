"""bot/export.py on a real SQLite file: what goes out, what never does, and reading on a
snapshot while the bot keeps writing."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.db import Database
from bot.errors import InvalidInput, NotFound
from bot.export import export_team, parse_format, read_tables, slug
from bot.polls import Polls
from bot.prompts import Prompts
from bot.reflections import Reflections
from bot.teams import Team, Teams
from tests.support import click, poll_posted, prompt_posted, share_and_post

GUILD = 7001
KEY = b"k" * 32
USERS = [10**17 + n for n in range(6)]
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class Env:
    db: Database
    clock: ManualClock
    team: Team
    prompts: Prompts
    post: int


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    db = await Database.open(tmp_path / "b.db")
    clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    team = await Teams(db, clock).create(GUILD, "Réception & Courrier", 555)
    prompts = Prompts(db, clock, starter=("First prompt?", "Second prompt?"))
    claimed = (await prompts.posts.queue_manual(team.id, None)).post
    await prompt_posted(prompts, claimed, 9001)
    yield Env(db, clock, team, prompts, claimed.id)
    await db.close()


async def test_formats_are_csv_or_json_only() -> None:
    assert parse_format(" CSV ") == "csv" and parse_format("json") == "json"
    with pytest.raises(InvalidInput, match=r"csv .* or json"):
        parse_format("xml")


def test_file_names_are_plain_ascii() -> None:
    assert slug("Réception & Courrier") == "reception-courrier"
    assert slug("📎📎") == ""


async def test_an_unknown_team_is_not_found(env: Env) -> None:
    with pytest.raises(NotFound, match="no longer exists"):
        await export_team(env.db, 999, "json", NOW)


async def test_no_hash_nonce_marker_or_anonymous_voter_ever_leaves(env: Env) -> None:
    polls = Polls(env.db, env.clock, KEY)
    secret = await polls.create(env.team, USERS[0], "Secret?", "Yes|No", anonymous=True)
    await poll_posted(polls, secret.id, 555, 9002)
    reflections = Reflections(env.db, env.clock, KEY)
    for user in USERS[:3]:
        await click(polls, secret.id, secret.options[0].id, GUILD, user)
        await reflections.write(env.team, user, f"shared thought {user % 100}")
    await share_and_post(env.db, env.clock, KEY, env.team.id, 555)
    await reflections.write(env.team, USERS[4], "still pending")  # not shared yet
    # Every stored value that could point at a person:
    blobs = [
        bytes(row[0])
        for sql in (
            "SELECT author_hash FROM reflections",
            "SELECT nonce FROM reflections",
            "SELECT code_hash FROM reflections",
            "SELECT key_id FROM reflections",
            "SELECT author_box FROM reflections WHERE author_box IS NOT NULL",
            "SELECT voter_hash FROM poll_ballots",
            "SELECT ballot FROM poll_ballots",
        )
        for row in await env.db.fetchall(sql)
    ]
    assert len(blobs) >= 14
    for fmt in ("csv", "json"):
        export = await export_team(env.db, env.team.id, fmt, NOW)
        contents = [export.data]
        if fmt == "csv":
            with zipfile.ZipFile(io.BytesIO(export.data)) as archive:
                contents += [archive.read(name) for name in archive.namelist()]
        for content in contents:
            for blob in blobs:
                for form in (blob, blob.hex().encode(), blob.hex().upper().encode()):
                    assert form not in content
            for user in USERS[1:5]:  # voters and authors (USERS[0] created the poll: public)
                assert str(user).encode() not in content
            assert b"still pending" not in content
        assert export.counts["reflections"] == 3 and export.counts["votes"] == 0


async def test_hidden_reflections_go_out_as_empty_tombstones(env: Env) -> None:
    reflections = Reflections(env.db, env.clock, KEY)
    for user in USERS[:3]:
        await reflections.write(env.team, user, f"text {user % 100}")
    posted = await share_and_post(env.db, env.clock, KEY, env.team.id, 555)
    await reflections.hide(GUILD, posted[0].ref)
    document = json.loads((await export_team(env.db, env.team.id, "json", NOW)).data)
    rows = {r["code"]: r for r in document["tables"]["reflections"]}
    assert rows[posted[0].ref] == {
        "code": posted[0].ref,
        "state": "hidden",
        "about": None,
        "text": None,
        "shared_at": "2026-01-05T17:00:00Z",  # the sharing time
    }
    assert {rows[p.ref]["state"] for p in posted[1:]} == {"posted"}


async def test_the_export_reads_a_snapshot_while_the_bot_keeps_writing(env: Env) -> None:
    await env.prompts.answers.save_answer(GUILD, env.post, USERS[0], "a", "before")
    async with env.db.snapshot() as tx:
        first = await read_tables(tx, env.team.id)
        # The bot's own connection still writes while the export's read is open...
        await env.prompts.answers.save_answer(GUILD, env.post, USERS[1], "b", "during")
        again = await read_tables(tx, env.team.id)
    # ... and the export keeps seeing one consistent state: the one it began with.
    assert [row[4] for row in first["answers"]] == ["before"]
    assert [tuple(r) for r in again["answers"]] == [tuple(r) for r in first["answers"]]
    export = await export_team(env.db, env.team.id, "json", NOW)
    assert [a["text"] for a in json.loads(export.data)["tables"]["answers"]] == [
        "before",
        "during",
    ]


async def test_csv_guards_formulas_and_json_keeps_the_exact_text(env: Env) -> None:
    texts = ["=1+1", "+SUM(A1)", "-just a dash", "@cmd", 'plain, with "quotes"\nand lines']
    for user, text in zip(USERS, texts, strict=False):
        await env.prompts.answers.save_answer(GUILD, env.post, user, "m", text)
    zipped = await export_team(env.db, env.team.id, "csv", NOW)
    assert zipped.filename == f"breakroom-reception-courrier-{env.team.id}-2026-03-02.zip"
    with zipfile.ZipFile(io.BytesIO(zipped.data)) as archive:
        raw = archive.read("answers.csv")
        readme = archive.read("README.txt").decode()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["text"] for r in rows] == ["'=1+1", "'+SUM(A1)", "'-just a dash", "'@cmd", texts[4]]
    assert "schema version 1" in readme and "apostrophe" in readme
    document = json.loads((await export_team(env.db, env.team.id, "json", NOW)).data)
    assert [a["text"] for a in document["tables"]["answers"]] == [t.strip() for t in texts]


async def test_the_same_data_gives_the_same_file(env: Env) -> None:
    await env.prompts.answers.save_answer(GUILD, env.post, USERS[0], "a", "hello")
    for fmt in ("csv", "json"):
        first = await export_team(env.db, env.team.id, fmt, NOW)
        second = await export_team(env.db, env.team.id, fmt, NOW)
        assert first.data == second.data
