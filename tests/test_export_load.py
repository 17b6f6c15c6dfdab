"""`/export` of a team with 10,000 answers does not block the bot, and a file too large for
Discord is refused with advice (the figures themselves are printed by tests/bench_export.py)."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from tests.bench_export import export_with_probes, seed_answers
from tests.support import World
from tests.test_history import database_state


async def test_export_of_10000_answers_while_other_commands_keep_answering(world: World) -> None:
    team = await world.bot.teams.create(world.guild.id, "Front desk", world.channel.id)
    await seed_answers(world, team, 10_000)
    for fmt in ("csv", "json"):
        measured = await export_with_probes(world, fmt)
        print(f"/export {fmt}: {measured.figures()}")
        assert measured.answers == 10_000
        assert measured.during_export >= 1, "no other command was sent during the export"
        assert measured.slowest_other_reply < 3.0, measured.latencies
        assert measured.reply is not None
        [(_, data)] = measured.reply.attachments
        if fmt == "csv":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                text = archive.read("answers.csv").decode("utf-8-sig")
            assert len(list(csv.DictReader(io.StringIO(text)))) == 10_000
        else:
            assert len(json.loads(data)["tables"]["answers"]) == 10_000


async def test_an_export_too_large_to_attach_says_so_and_changes_nothing(world: World) -> None:
    team = await world.bot.teams.create(world.guild.id, "Front desk", world.channel.id)
    await seed_answers(world, team, 10_000, length=1000)  # about 11 MB of JSON
    before = await database_state(world)
    measured = await export_with_probes(world, "json")
    assert measured.reply is not None and measured.reply.attachments == []
    text = measured.reply.text
    assert "more than the 10.5 MB Discord lets me attach here" in text
    assert "Try `format: csv`, which is compressed." in text
    assert await database_state(world) == before
    measured = await export_with_probes(world, "csv")  # the advice works
    assert measured.reply is not None and len(measured.reply.attachments) == 1
