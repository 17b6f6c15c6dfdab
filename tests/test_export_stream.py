"""`/export` csv streams its big tables a page at a time (bot/export_stream.py) and makes the same
file, byte for byte, as rendering the whole tables read at once (`bot.export.render`): on a team
with repeated prompts, re-run, anonymous and open polls, shared and pending reflections."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest

from bot import export_stream
from bot.db import Database
from bot.export import export_team, read_tables, render
from tests.bench.bigdata_config import BigSize
from tests.bench.bigdata_seed import seed_big
from tests.support import TEST_SECRET

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SIZE = BigSize(
    guilds=2,
    teams_per_guild=2,
    votes=900,
    answers=400,
    reflections=60,
    big_posts=14,
    big_answers_per_post=20,
    big_polls=12,
    big_votes_per_poll=50,
    big_reflections=20,
    prompts_per_guild=5,
    voters=2,
    answer_length=120,
)


@pytest.mark.parametrize("page", [7, 2_000])
async def test_the_streamed_csv_is_the_whole_tables_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: int
) -> None:
    monkeypatch.setattr(export_stream, "PAGE", page)
    path = tmp_path / "breakroom.db"
    guilds = [
        (10**17 + g, [10**17 + 100 + 10 * g + t for t in range(2)], 10**17 + 99) for g in (0, 1)
    ]
    seeded = await seed_big(path, TEST_SECRET, guilds, SIZE, now=NOW)
    db = await Database.open(path)
    try:
        streamed = await export_team(db, seeded.big_team_id, "csv", NOW)
        async with db.snapshot() as tx:
            whole = render(await read_tables(tx, seeded.big_team_id), "csv", NOW)
    finally:
        await db.close()
    assert streamed.counts == whole.counts
    assert streamed.counts["answers"] == SIZE.big_posts * SIZE.big_answers_per_post
    assert streamed.counts["votes"] > 7  # several pages a poll, with pages of 7
    words = zipfile.ZipFile(BytesIO(streamed.data)).read("words.csv").decode("utf-8-sig")
    assert len(words.splitlines()) > 1  # repeats with their words
    assert streamed.filename == whole.filename
    names = zipfile.ZipFile(BytesIO(streamed.data)).namelist()
    for name in names:
        assert zipfile.ZipFile(BytesIO(streamed.data)).read(name) == zipfile.ZipFile(
            BytesIO(whole.data)
        ).read(name), name
    assert streamed.data == whole.data
