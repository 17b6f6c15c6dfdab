"""`/export` end to end: both formats round-trip, match the database, and never name a
reflection's author or an anonymous poll's voter."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import pytest

from bot.export import SCHEMA_VERSION, TABLE_NAMES
from tests.double import CommandError, Member, Message
from tests.support import World, id_patterns
from tests.test_history import database_state
from tests.test_history_helpers import (
    SLOT,
    WEEK,
    TenWeeks,
    answer,
    command,
    create_team,
    prompt_posts,
    reply_text,
    ten_weeks,
)

MANAGE_GUILD = 1 << 5


async def export(world: World, fmt: str, **options: Any) -> tuple[Message, str, bytes]:
    """`/export` by the manager; the reply, and its one attachment (name, bytes)."""
    ix = await world.dd.slash(
        world.manager, "export", channel=world.channel, options={"format": fmt, **options}
    )
    response = await ix.response(timeout=10)
    assert ix.ephemeral and response["type"] == 5, response  # deferred: "thinking…"
    shown = await ix.wait_followup(timeout=20)
    assert shown.ephemeral
    [(name, data)] = shown.attachments
    return shown, name, data


def csv_tables(data: bytes) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        assert names == {"answers.csv", "polls.csv", "words.csv", "README.txt"} | {
            f"tables/{t}.csv" for t in TABLE_NAMES
        }
        return {
            name: list(
                csv.DictReader(io.StringIO(archive.read(f"tables/{name}.csv").decode("utf-8-sig")))
            )
            for name in TABLE_NAMES
        }


def sheet(data: bytes, name: str) -> list[dict[str, str]]:
    """One of the zip's flat sheets, as the standard `csv` module reads it."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(name) as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")))


def unpacked(data: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [archive.read(name) for name in archive.namelist()]


async def count(world: World, sql: str) -> int:
    return int(await world.bot.db.fetchval(sql))


async def expected_counts(world: World) -> dict[str, int]:
    return {
        "teams": await count(world, "SELECT COUNT(*) FROM teams"),
        "prompts": await count(
            world, "SELECT COUNT(DISTINCT prompt_id) FROM prompt_posts WHERE state = 'posted'"
        ),
        "posts": await count(world, "SELECT COUNT(*) FROM prompt_posts WHERE state = 'posted'"),
        "answers": await count(world, "SELECT COUNT(*) FROM prompt_answers"),
        "polls": await count(world, "SELECT COUNT(*) FROM polls"),
        "options": await count(world, "SELECT COUNT(*) FROM poll_options"),
        "vote_counts": await count(world, "SELECT COUNT(*) FROM poll_options"),
        "votes": await count(world, "SELECT COUNT(*) FROM poll_votes"),
        "reflections": await count(
            world, "SELECT COUNT(*) FROM reflections WHERE state IN ('posted', 'hidden')"
        ),
    }


async def stored_votes(world: World) -> dict[str, int]:
    rows = await world.bot.db.fetchall("SELECT id, votes FROM poll_options")
    return {str(row[0]): row[1] for row in rows}


async def stored_answers(world: World) -> set[tuple[str, str]]:
    rows = await world.bot.db.fetchall("SELECT user_id, text FROM prompt_answers")
    return {(str(row[0]), row[1]) for row in rows}


@pytest.fixture
async def hidden_people(world: World) -> tuple[list[Member], list[Member]]:
    """Members who only wrote reflections, and members who only voted in an anonymous poll:
    their ids and names must appear nowhere in an export."""
    authors = [world.dd.add_member(world.guild, name) for name in ("dana", "erin", "frank")]
    voters = [world.dd.add_member(world.guild, name) for name in ("gina", "hank")]
    await world.dd.settle()
    return authors, voters


async def scenario(world: World, people: tuple[list[Member], list[Member]]) -> TenWeeks:
    authors, voters = people
    return await ten_weeks(world, reflection_authors=authors, anonymous_voters=voters)


def assert_nobody_hidden_in(blobs: list[bytes], people: tuple[list[Member], list[Member]]) -> None:
    for member in people[0] + people[1]:
        for blob in blobs:
            for pattern in id_patterns(member.id):
                assert pattern not in blob, f"{member.name}'s id is in the export"
            assert member.name.encode() not in blob, f"{member.name}'s name is in the export"


async def test_csv_export_round_trips_and_hides_authors_and_anonymous_voters(
    world: World, hidden_people: tuple[list[Member], list[Member]]
) -> None:
    made = await scenario(world, hidden_people)
    shown, name, data = await export(world, "csv")
    assert name.startswith("breakroom-front-desk-") and name.endswith(".zip")
    assert (
        "Here is the data of **Front desk** as a zip of CSV tables (schema version 1): "
        "11 prompt posts, 23 answers, 3 polls, 3 shared reflections." in shown.text
    )
    tables = csv_tables(data)
    assert {t: len(rows) for t, rows in tables.items()} == await expected_counts(world)
    assert {(a["user_id"], a["text"]) for a in tables["answers"]} == await stored_answers(world)
    assert {r["option_id"]: int(r["votes"]) for r in tables["vote_counts"]} == await stored_votes(
        world
    )
    polls = {int(p["id"]): p for p in tables["polls"]}
    assert polls[made.rerun]["rerun_of"] == str(made.poll)
    assert polls[made.anonymous_poll]["anonymous"] == "true"
    assert {int(v["poll_id"]) for v in tables["votes"]} == {made.poll, made.rerun}
    repeat = [p for p in tables["posts"] if p["repeat_of"]]
    assert len(repeat) == 1 and tables["prompts"][0]["times_asked"] == "2"
    assert list(tables["reflections"][0]) == ["code", "state", "about", "text", "shared_at"]
    assert sorted(r["text"] for r in tables["reflections"]) == [
        "Reflection number 1",
        "Reflection number 2",
        "Reflection number 3",
    ]
    assert tables["teams"][0]["name"] == "Front desk"
    assert tables["teams"][0]["created_at"].endswith("Z")
    assert_nobody_hidden_in([data, *unpacked(data)], hidden_people)


async def test_csv_export_has_the_flat_sheets_a_spreadsheet_opens_without_joins(
    world: World, hidden_people: tuple[list[Member], list[Member]]
) -> None:
    made = await scenario(world, hidden_people)
    _, _, data = await export(world, "csv")
    answers = sheet(data, "answers.csv")
    assert len(answers) == made.answers == 23
    # Monday 09:30 in London is the same date in UTC in winter: week 1, then the repeat (week 10)
    assert answers[:3] == [
        {"date": "2026-01-05", "prompt": answers[0]["prompt"], "member": name, "answer": text}
        for name, text in (
            ("alice", "alice, week 1"),
            ("bob", "bob, week 1"),
            ("carol", "carol, week 1"),
        )
    ]
    assert answers[-2:] == [
        {
            "date": "2026-03-09",
            "prompt": answers[0]["prompt"],
            "member": n,
            "answer": f"{n}, asked again",
        }
        for n in ("alice", "bob")
    ]
    assert [a["date"] for a in answers[:-2]] == sorted(a["date"] for a in answers[:-2])
    assert {a["date"] for a in answers} == {(SLOT + n * WEEK).date().isoformat() for n in range(10)}
    question = "Job or career?"
    assert sheet(data, "polls.csv") == [
        {"poll": question, "run": "1", "option": "Job", "votes": "1", "share": "33"},
        {"poll": question, "run": "1", "option": "Career", "votes": "2", "share": "67"},
        {"poll": question, "run": "1", "option": "Both", "votes": "0", "share": "0"},
        {"poll": question, "run": "2", "option": "Job", "votes": "0", "share": "0"},
        {"poll": question, "run": "2", "option": "Career", "votes": "2", "share": "67"},
        {"poll": question, "run": "2", "option": "Both", "votes": "1", "share": "33"},
        {"poll": "Should we swap desks?", "run": "1", "option": "Yes", "votes": "1", "share": "50"},
        {"poll": "Should we swap desks?", "run": "1", "option": "No", "votes": "1", "share": "50"},
    ]
    # the repeat against week 1: "alice, week 1" ... then "alice, asked again": the members'
    # names are left out, "again" is a stop word
    [repeat] = [p for p in csv_tables(data)["posts"] if p["repeat_of"]]
    assert sheet(data, "words.csv") == [
        {
            "post_id": repeat["id"],
            "prompt": answers[0]["prompt"],
            "phrase": phrase,
            "direction": direction,
            "answers_before": before,
            "answers_after": after,
        }
        for phrase, direction, before, after in (
            ("asked", "more", "0", "2"),
            ("week", "less", "3", "0"),
        )
    ]
    assert_nobody_hidden_in([data, *unpacked(data)], hidden_people)


async def test_json_export_round_trips_and_hides_authors_and_anonymous_voters(
    world: World, hidden_people: tuple[list[Member], list[Member]]
) -> None:
    made = await scenario(world, hidden_people)
    shown, name, data = await export(world, "json")
    assert name.endswith(".json") and "one JSON document" in shown.text
    document = json.loads(data)
    assert document["schema_version"] == SCHEMA_VERSION == 1
    assert document["team"]["name"] == "Front desk"
    assert document["team"]["channel_id"] == str(world.channel.id)  # ids as strings
    tables = document["tables"]
    assert {t: len(rows) for t, rows in tables.items()} == await expected_counts(world)
    answers = {(a["user_id"], a["text"]) for a in tables["answers"]}
    assert answers == await stored_answers(world)
    counts = {str(r["option_id"]): r["votes"] for r in tables["vote_counts"]}
    assert counts == await stored_votes(world)
    anonymous = next(p for p in tables["polls"] if p["id"] == made.anonymous_poll)
    assert anonymous["anonymous"] is True and anonymous["voters"] == 2
    assert all(v["poll_id"] != made.anonymous_poll for v in tables["votes"])
    assert {r["state"] for r in tables["reflections"]} == {"posted"}
    [repeat] = [p for p in tables["posts"] if p["repeat_of"]]
    assert repeat["words"]["more"] == [{"phrase": "asked", "before": 0, "after": 2}]
    assert all(p["words"] is None for p in tables["posts"] if p is not repeat)
    assert_nobody_hidden_in([data], hidden_people)


async def test_export_text_starting_like_a_formula_is_kept_safe_in_csv_and_exact_in_json(
    world: World,
) -> None:
    await create_team(world)
    assert "Posted prompt" in await command(world, world.manager, "prompt post")
    await answer(world, world.members[0], prompt_posts(world)[-1], '=HYPERLINK("x")')
    _, _, data = await export(world, "csv")
    assert csv_tables(data)["answers"][0]["text"] == '\'=HYPERLINK("x")'
    _, _, data = await export(world, "json")
    assert json.loads(data)["tables"]["answers"][0]["text"] == '=HYPERLINK("x")'


async def test_export_is_for_managers_only(world: World) -> None:
    await create_team(world)
    [command] = [c for c in world.dd.global_commands() if c["name"] == "export"]
    assert int(command["default_member_permissions"]) == MANAGE_GUILD
    with pytest.raises(CommandError, match="needs permissions"):
        await world.dd.slash(world.members[0], "export", channel=world.channel, format="csv")


async def test_export_of_an_unknown_team_is_a_clear_error_and_changes_nothing(
    world: World,
) -> None:
    await create_team(world)
    before = await database_state(world)
    ix = await world.dd.slash(
        world.manager, "export", channel=world.channel, options={"format": "json", "team": "Nope"}
    )
    assert "There is no team called “Nope” in this server" in await reply_text(ix)
    assert await database_state(world) == before


async def test_an_unknown_format_is_refused_by_discord(world: World) -> None:
    await create_team(world)
    with pytest.raises(CommandError, match="not one of the choices"):
        await world.dd.slash(world.manager, "export", channel=world.channel, format="xml")
