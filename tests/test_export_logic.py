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
from bot.export import TABLE_NAMES, TABLES, export_team, parse_format, read_tables, slug
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
async def env(database: Path | str) -> AsyncIterator[Env]:
    db = await Database.open(database)
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
        raw = archive.read("tables/answers.csv")
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


QUOTED = 'Commas, "quotes", and\nlines'
LUNCH = 'Lunch, "where"?'
ANONYMOUS_VOTERS = USERS[3:6]


async def post_again(env: Env, prompt_id: int | None, message_id: int) -> int:
    """A post by hand (`/prompt post`), posted through the outbox; its id."""
    queued = (await env.prompts.posts.queue_manual(env.team.id, prompt_id)).post
    return (await prompt_posted(env.prompts, queued, message_id)).id


async def small_team(env: Env) -> tuple[Polls, int]:
    """Three posts in Los Angeles time (the first prompt asked again in the third) answered with
    commas, quotes, new lines, Unicode and formula-like text; a multiple-choice poll, closed,
    and its re-run; an anonymous poll, still open (ANONYMOUS_VOTERS vote in it only). Returns
    the polls and the anonymous poll's id."""
    await Teams(env.db, env.clock).edit(env.team.id, timezone="America/Los_Angeles")
    answers, first = env.prompts.answers, env.post  # "First prompt?", 5 Jan 09:00 UTC
    prompt_id = (await env.prompts.posts.get_post(GUILD, first)).prompt_id
    await answers.save_answer(GUILD, first, USERS[0], "Zoë", QUOTED)
    env.clock.set(datetime(2026, 1, 8, 3, 0, tzinfo=UTC))  # still the 7th in Los Angeles
    second = await post_again(env, None, 9003)  # "Second prompt?"
    await answers.save_answer(GUILD, second, USERS[1], "Bob", "☕ 日本語, ok")
    env.clock.advance(minutes=5)
    await answers.save_answer(GUILD, first, USERS[1], "Bob", "late, to the first")
    env.clock.set(datetime(2026, 1, 12, 17, 0, tzinfo=UTC))
    again = await post_again(env, prompt_id, 9004)  # the first prompt, repeated
    await answers.save_answer(GUILD, again, USERS[2], "=cmd|' /C calc'!A0", "=1+1")
    env.clock.advance(minutes=1)
    await answers.save_answer(GUILD, again, USERS[0], "Zoë", "-2 points, @all +1")

    polls = Polls(env.db, env.clock, KEY)
    lunch = await polls.create(
        env.team, USERS[0], LUNCH, "Pizza, hot | Salad | =Soup", multiple=True
    )
    await poll_posted(polls, lunch.id, 555, 9101)
    pizza, salad, soup = (o.id for o in lunch.options)
    for user, option in ((USERS[0], pizza), (USERS[1], pizza), (USERS[1], salad), (USERS[2], soup)):
        await click(polls, lunch.id, option, GUILD, user)
    await polls.closing.close(lunch.id, GUILD, USERS[0], True)
    secret = await polls.create(env.team, USERS[0], "Swap desks?", "Yes|No", anonymous=True)
    await poll_posted(polls, secret.id, 555, 9102)
    for user, option in zip(ANONYMOUS_VOTERS, (0, 0, 1), strict=True):
        await click(polls, secret.id, secret.options[option].id, GUILD, user)
    rerun = await polls.runs.rerun(lunch.id, GUILD, USERS[1])  # after the anonymous poll
    await poll_posted(polls, rerun.id, 555, 9103)
    await click(polls, rerun.id, rerun.options[1].id, GUILD, USERS[2])
    return polls, secret.id


def sheet(data: bytes, name: str) -> list[dict[str, str]]:
    """A file of the zip as the standard `csv` module reads it."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(name) as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")))


def unzipped(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


row = dict[str, str]


async def test_answers_csv_opens_with_the_csv_module_into_one_whole_row_per_answer(
    env: Env,
) -> None:
    await small_team(env)
    data = (await export_team(env.db, env.team.id, "csv", NOW)).data
    assert list(unzipped(data)) == [
        "answers.csv",
        "polls.csv",
        "words.csv",
        *(f"tables/{name}.csv" for name in TABLE_NAMES),
        "README.txt",
    ]
    # by post, then by the time of the answer; the date is the post's in Los Angeles; a text
    # that a spreadsheet would run starts with an apostrophe, as in the tables
    assert sheet(data, "answers.csv") == [
        row(date="2026-01-05", prompt="First prompt?", member="Zoë", answer=QUOTED),
        row(date="2026-01-05", prompt="First prompt?", member="Bob", answer="late, to the first"),
        row(date="2026-01-07", prompt="Second prompt?", member="Bob", answer="☕ 日本語, ok"),
        row(
            date="2026-01-12", prompt="First prompt?", member="'=cmd|' /C calc'!A0", answer="'=1+1"
        ),
        row(date="2026-01-12", prompt="First prompt?", member="Zoë", answer="'-2 points, @all +1"),
    ]
    readme = unzipped(data)["README.txt"].decode()
    assert "- answers.csv: one row per answer" in readme and "- tables/votes.csv" in readme


async def test_polls_csv_has_one_row_per_option_of_each_run_and_no_anonymous_voter(
    env: Env,
) -> None:
    polls, secret = await small_team(env)
    data = (await export_team(env.db, env.team.id, "csv", NOW)).data
    assert sheet(data, "polls.csv") == [
        # 3 voters, multiple choice: the shares add up to more than 100
        row(poll=LUNCH, run="1", option="Pizza, hot", votes="2", share="67"),
        row(poll=LUNCH, run="1", option="Salad", votes="1", share="33"),
        row(poll=LUNCH, run="1", option="'=Soup", votes="1", share="33"),
        # its re-run, beside it
        row(poll=LUNCH, run="2", option="Pizza, hot", votes="0", share="0"),
        row(poll=LUNCH, run="2", option="Salad", votes="1", share="100"),
        row(poll=LUNCH, run="2", option="'=Soup", votes="0", share="0"),
        # open and anonymous: the counts as shown (as in tables/vote_counts.csv), which move
        # only once 5 members have voted
        row(poll="Swap desks?", run="1", option="Yes", votes="0", share="0"),
        row(poll="Swap desks?", run="1", option="No", votes="0", share="0"),
    ]
    await polls.closing.close(secret, GUILD, USERS[0], True)
    data = (await export_team(env.db, env.team.id, "csv", NOW)).data
    assert [(r["option"], r["votes"], r["share"]) for r in sheet(data, "polls.csv")[6:]] == [
        ("Yes", "2", "67"),
        ("No", "1", "33"),
    ]
    for name, content in unzipped(data).items():
        for user in ANONYMOUS_VOTERS:
            assert str(user).encode() not in content, name


async def test_the_json_document_is_the_tables_as_before(env: Env) -> None:
    await small_team(env)
    document = json.loads((await export_team(env.db, env.team.id, "json", NOW)).data)
    assert list(document) == [
        "schema_version",
        "generator",
        "exported_at",
        "team",
        "tables",
        "descriptions",
    ]
    assert document["schema_version"] == 1
    assert list(document["tables"]) == list(TABLE_NAMES) == list(document["descriptions"])
    for table in TABLES:
        for exported in document["tables"][table.name]:
            # a post has its words beside its columns (null: not a repeat)
            extra = ["words"] if table.name == "posts" else []
            assert list(exported) == [c.name for c in table.columns] + extra
    assert document["tables"]["answers"][-1]["text"] == "-2 points, @all +1"  # exact in JSON
    assert [p["rerun_of"] for p in document["tables"]["polls"]] == [
        None,
        None,
        document["tables"]["polls"][0]["id"],
    ]


async def test_a_repeats_words_are_in_words_csv_and_on_its_post_in_the_json(env: Env) -> None:
    answers, first = env.prompts.answers, env.post
    prompt_id = (await env.prompts.posts.get_post(GUILD, first)).prompt_id
    said_then = [
        ("Zoë Martin", "A job pays the bills. Zoë says so too."),
        ("Bob", "The job pays the bills, that's it."),
        ("Ana", "=SUM(job) pays the bills"),
    ]
    said_now = [
        ("Zoë Martin", "My career path is clearer since the training, thanks Bob."),
        ("Bob", "Training on records: a career path! Martin agrees."),
        ("Ana", "Still a job, the training helps."),
    ]
    for user, (name, text) in zip(USERS, said_then, strict=False):
        await answers.save_answer(GUILD, first, user, name, text)
    env.clock.advance(weeks=1)
    other = await post_again(env, None, 9003)
    await answers.save_answer(GUILD, other, USERS[0], "Zoë Martin", "Training training training")
    env.clock.advance(weeks=1)
    again = await post_again(env, prompt_id, 9004)
    for user, (name, text) in zip(USERS, said_now, strict=False):
        await answers.save_answer(GUILD, again, user, name, text)
    # reflections are never read for it: words only they use appear nowhere
    reflections = Reflections(env.db, env.clock, KEY)
    for user in USERS[3:6]:
        await reflections.write(env.team, user, "Overtime, overtime: too much overtime.")
    await share_and_post(env.db, env.clock, KEY, env.team.id, 555)

    data = (await export_team(env.db, env.team.id, "csv", NOW)).data
    words = [
        row(post_id=str(again), prompt="First prompt?", phrase=phrase, direction=way, **counts)
        for phrase, way, counts in (
            ("training", "more", {"answers_before": "0", "answers_after": "3"}),
            ("career path", "more", {"answers_before": "0", "answers_after": "2"}),
            ("bills", "less", {"answers_before": "3", "answers_after": "0"}),
            ("job pays", "less", {"answers_before": "2", "answers_after": "0"}),
        )
    ]
    assert sheet(data, "words.csv") == words
    readme = unzipped(data)["README.txt"].decode()
    assert "- words.csv: for each repeated prompt, the words and phrases" in readme

    document = json.loads((await export_team(env.db, env.team.id, "json", NOW)).data)
    posts = {p["id"]: p for p in document["tables"]["posts"]}
    assert posts[first]["words"] is None and posts[other]["words"] is None
    assert posts[again]["repeat_of"] == first
    assert posts[again]["words"] == {
        "more": [
            {"phrase": "training", "before": 0, "after": 3},
            {"phrase": "career path", "before": 0, "after": 2},
        ],
        "less": [
            {"phrase": "bills", "before": 3, "after": 0},
            {"phrase": "job pays", "before": 2, "after": 0},
        ],
        "language": "en",
        "answers_before": 3,
        "answers_after": 3,
    }
    # (the reflections themselves go out in their table, as ever: their words are not counted)
    assert b"Overtime" in unzipped(data)["tables/reflections.csv"]
    assert b"overtime" not in unzipped(data)["words.csv"].lower()
    assert "overtime" not in json.dumps([p["words"] for p in posts.values()]).lower()
    for name in ("zoë", "martin", "bob"):
        assert all(name not in w["phrase"] for w in sheet(data, "words.csv"))
