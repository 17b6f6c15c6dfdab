"""`/history` end to end: weeks of a team's life through the Discord double, then its timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.prompts import Prompts
from tests.double import CommandError, Message
from tests.support import World, prompt_posted
from tests.test_history_helpers import (
    answer_of,
    close_poll,
    create_poll,
    create_team,
    png_size,
    reply_text,
    ten_weeks,
    vote,
)


async def history(world: World, **options: Any) -> Message:
    ix = await world.dd.slash(world.members[0], "history", channel=world.channel, options=options)
    shown = await answer_of(ix)
    assert isinstance(shown, Message), f"/history answered without its deferral: {shown}"
    assert shown.ephemeral
    return shown


async def database_state(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: to show that something changed nothing."""
    tables = await world.bot.db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return {
        row[0]: [tuple(r) for r in await world.bot.db.fetchall(f"SELECT * FROM {row[0]}")]
        for row in tables
    }


async def test_ten_weeks_show_entries_repeats_reruns_and_charts(world: World) -> None:
    made = await ten_weeks(world)
    shown = await history(world, weeks=10)
    text = shown.text
    assert "History — Front desk" in text
    assert "**Last 10 weeks:** 11 prompts (23 answers) · 2 polls · 3 reflections shared" in text

    # every weekly post, with its answer count and a link to its thread
    assert text.count("📝 **Mon") == 11
    for monday in ("5 Jan", "12 Jan", "19 Jan", "26 Jan", "2 Feb", "9 Feb", "16 Feb", "9 Mar"):
        assert f"**Week of Mon {monday} 2026**" in text
    first_prompt = made.posts[0].embeds[0]["description"]
    assert f"📝 **Mon 5 Jan** · {first_prompt}\n   3 answers" in text
    assert text.count("[discussion](https://discord.com/channels/") == 11
    # the repeat beside the last time
    assert (
        "↻ Asked before on Mon 5 Jan 2026: **2** answered this time, **3** last time (-1)." in text
    )
    # the first run of the poll, then the re-run beside it
    assert f"**Job or career?** (poll #{made.poll}, closed Mon 12 Jan) — 3 voters" in text
    assert "Job 33% · Career 67% · Both 0% — 🏆 Career" in text
    assert f"(poll #{made.rerun}, run 2, closed Mon 16 Feb) — 3 voters" in text
    assert f"Beside the previous run (poll #{made.poll}, 3 voters)" in text
    table = text.split("```")[1].strip().splitlines()
    assert table[0].split() == ["Option", "12", "Jan", "16", "Feb", "Change"]
    assert [row.split() for row in table[1:]] == [
        ["Job", "33%", "0%", "-33", "pts"],
        ["Career", "67%", "67%", "±0"],
        ["Both", "0%", "33%", "+33", "pts"],
    ]
    # reflections: a count, and nobody's name anywhere
    assert "💬 3 anonymous reflections shared" in text
    for member in world.members:
        assert member.name not in text and str(member.id) not in text

    # the charts: answers per week, and the poll's share across its two runs
    names = [name for name, _ in shown.attachments]
    assert names == ["answers-per-week.png", f"poll-{made.rerun}-runs.png"]
    for _, data in shown.attachments:
        assert png_size(data) == (1600, 900)  # 2×, sharp on phones
        assert len(data) > 5_000


async def test_default_eight_weeks_still_compare_with_earlier_times(world: World) -> None:
    made = await ten_weeks(world)
    text = (await history(world)).text
    assert "**Last 8 weeks:** 9 prompts" in text
    assert "Week of Mon 12 Jan" not in text and "Week of Mon 5 Jan" not in text
    assert f"(poll #{made.poll}, closed" not in text  # the first run: before the window
    # ... but the re-run and the repeat still stand beside their earlier times
    assert f"Beside the previous run (poll #{made.poll}, 3 voters)" in text
    assert "↻ Asked before on Mon 5 Jan 2026: **2** answered this time, **3** last time" in text


async def test_long_timelines_page_with_buttons_that_survive_a_restart(world: World) -> None:
    await create_team(world)
    prompts = Prompts(world.bot.db, world.clock)
    [team] = await world.bot.teams.for_guild(world.guild.id)
    start = world.clock.now()
    for n in range(30):
        world.clock.set(start + timedelta(weeks=n))
        text = f"Prompt number {n:02d}: " + "what makes a day at work a career day? " * 7
        added = await prompts.bank.add(world.guild.id, text)
        claimed = (await prompts.posts.queue_manual(team.id, added.prompt.id)).post
        await prompt_posted(prompts, claimed, 10_000 + n)
    shown = await history(world, weeks=52)

    def page() -> tuple[str, str]:
        embed = shown.embeds[0]
        return str(embed["footer"]["text"]).split(" · ")[0], str(embed["description"])

    label, first = page()
    assert label.startswith("Page 1 of ")
    pages = int(label.split()[-1])
    assert pages >= 3
    previous, following = shown.buttons()
    assert previous["label"] == "◀ Previous" and previous["disabled"]
    assert following["label"] == "Next ▶" and not following["disabled"]
    assert "Prompt number 29" in first  # newest first

    seen = [first]
    for number in range(2, pages + 1):
        click = await world.dd.click(world.members[1], shown, shown.button("Next ▶")["custom_id"])
        response = await click.response(timeout=5)
        assert response["type"] == 7, response  # the same message, updated
        label, description = page()
        assert label == f"Page {number} of {pages}"
        seen.append(description)
    assert shown.button("Next ▶")["disabled"]
    everything = "\n".join(seen)
    for n in range(30):
        assert everything.count(f"Prompt number {n:02d}:") == 1, n
    for embed_page in seen:
        assert len(embed_page) <= 4096
    assert [name for name, _ in shown.attachments] == ["answers-per-week.png"]  # kept

    await world.restart()
    click = await world.dd.click(world.members[1], shown, shown.button("◀ Previous")["custom_id"])
    await click.response(timeout=5)
    assert page()[0] == f"Page {pages - 1} of {pages}"


async def test_open_poll_with_hidden_results_shows_no_counts(world: World) -> None:
    await create_team(world)
    poll_id = await create_poll(world, world.manager, "Secret ballot?", "Yes|No", hide_results=True)
    await vote(world, world.members[0], poll_id, "Yes")
    text = (await history(world)).text
    assert f"**Secret ballot?** (poll #{poll_id}, open until" in text
    assert "Results hidden until the poll closes." in text
    assert "Yes 100%" not in text and "%" not in text.split("Secret ballot?")[1]
    await close_poll(world, poll_id)
    text = (await history(world)).text
    assert "Yes 100% · No 0% — 🏆 Yes" in text


async def test_a_team_with_nothing_yet_says_so_without_charts(world: World) -> None:
    await create_team(world)
    shown = await history(world)
    assert "Nothing yet in this time" in shown.text
    assert shown.attachments == []
    assert shown.buttons() == []


async def test_an_unknown_team_is_a_clear_error_and_changes_nothing(world: World) -> None:
    await create_team(world)
    before = await database_state(world)
    ix = await world.dd.slash(world.members[0], "history", channel=world.channel, team="Nope")
    text = await reply_text(ix)
    assert "There is no team called “Nope” in this server" in text
    assert await database_state(world) == before


async def test_weeks_outside_1_to_52_are_refused_by_discord(world: World) -> None:
    await create_team(world)
    [command] = [c for c in world.dd.global_commands() if c["name"] == "history"]
    [weeks] = [o for o in command["options"] if o["name"] == "weeks"]
    assert (weeks["min_value"], weeks["max_value"]) == (1, 52)
    for bad in (0, 53):
        with pytest.raises(CommandError, match="outside"):
            await world.dd.slash(world.members[0], "history", channel=world.channel, weeks=bad)


async def test_history_in_a_dm_says_breakroom_works_in_a_server(world: World) -> None:
    ix = await world.dd.slash_dm(world.members[0], "history")
    assert "works inside a server" in await reply_text(ix)


async def test_help_lists_history_export_and_forget_me_with_descriptions(world: World) -> None:
    ix = await world.dd.slash(world.manager, "help", channel=world.channel)
    text = await reply_text(ix)
    assert "**Look back** with `/history`" in text
    assert "`/export` downloads the team's data" in text
    assert "`/forget-me` deletes what you wrote" in text
    described = {c["name"]: c for c in world.dd.global_commands()}
    for name in ("history", "export"):
        assert all(option["description"] for option in described[name]["options"])
