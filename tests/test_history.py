"""`/history` end to end: weeks of a team's life through the Discord double, then its timeline."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from bot.prompts import Prompts
from bot.teams import Team
from tests.double import CommandError, Message
from tests.double.models import walk_components
from tests.prompts_support import headline
from tests.support import World, prompt_posted, table_names
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


def gallery(message: Message) -> list[str]:
    """The media urls of the message's galleries, in order."""
    return [
        item["media"]["url"]
        for c in walk_components(message.components)
        if c.get("type") == 12
        for item in c["items"]
    ]


def within_discord_limits(message: Message) -> None:
    """A Components V2 message: 40 components at most, 4000 characters of text in all."""
    assert message.components_v2 and not message.embeds and not message.content
    assert sum(1 for _ in walk_components(message.components)) <= 40
    texts = [c for c in walk_components(message.components) if c.get("type") == 10]
    assert sum(len(c["content"]) for c in texts) <= 4000
    # every chart it shows is one of its files
    names = [name for name, _ in message.attachments]
    assert all(url.removeprefix("attachment://") in names for url in gallery(message))


def page_label(message: Message) -> tuple[int, int]:
    found = re.search(r"Page ([0-9]+) of ([0-9]+)", message.text)
    assert found, message.text[-300:]
    return int(found.group(1)), int(found.group(2))


async def database_state(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: to show that something changed nothing."""
    return {
        name: [tuple(r) for r in await world.bot.db.fetchall(f"SELECT * FROM {name}")]
        for name in await table_names(world.bot.db)
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
        assert f"### Week of Mon {monday} 2026" in text
    first_prompt = headline(made.posts[0])
    assert f"📝 **Mon 5 Jan** · {first_prompt}\n3 answers · [Open the discussion](" in text
    assert text.count("[Open the discussion](https://discord.com/channels/") == 11
    assert "https://" not in text.replace("[Open the discussion](https://", "")  # no raw url
    # the repeat beside the last time
    assert (
        "↻ Asked before on Mon 5 Jan 2026: **2** answered this time, **3** last time (-1)." in text
    )
    # the first run of the poll, then the re-run beside it, each run labelled
    assert (
        f"📊 **Job or career?** · poll #{made.poll} · closed Mon 12 Jan · 3 voters\n"
        "• Job: 33%\n• Career: 67% 🏆\n• Both: 0%"
    ) in text
    assert (
        f"📊 **Job or career?** · poll #{made.rerun}, run 2 · closed Mon 16 Feb\n"
        "**Run 1 · 12 Jan** (3 voters) → **Run 2 · 16 Feb** (3 voters)\n"
        "• Job: 33% → 0% (-33 pts)\n"
        "• Career: 67% → 67% (±0) 🏆\n"
        "• Both: 0% → 33% (+33 pts)"
    ) in text
    assert "```" not in text  # no fixed-width table
    # reflections: a count, and nobody's name anywhere
    assert "💬 3 anonymous reflections shared" in text
    for member in world.members:
        assert member.name not in text and str(member.id) not in text

    # the charts: answers per week, and the poll's share across its two runs, in the gallery
    names = [name for name, _ in shown.attachments]
    assert names == ["answers-per-week.png", f"poll-{made.rerun}-runs.png"]
    assert gallery(shown) == [f"attachment://{name}" for name in names]
    within_discord_limits(shown)
    assert [b["label"] for b in shown.buttons()] == ["Share with the team"]  # one page
    for _, data in shown.attachments:
        assert png_size(data) == (1600, 900)  # 2×, sharp on phones
        assert len(data) > 5_000


async def test_default_eight_weeks_still_compare_with_earlier_times(world: World) -> None:
    made = await ten_weeks(world)
    text = (await history(world)).text
    assert "**Last 8 weeks:** 9 prompts" in text
    assert "Week of Mon 12 Jan" not in text and "Week of Mon 5 Jan" not in text
    assert f"poll #{made.poll} ·" not in text  # the first run: before the window
    # ... but the re-run and the repeat still stand beside their earlier times
    assert "**Run 1 · 12 Jan** (3 voters) → **Run 2 · 16 Feb** (3 voters)" in text
    assert "↻ Asked before on Mon 5 Jan 2026: **2** answered this time, **3** last time" in text


async def thirty_long_prompts(world: World) -> Team:
    """A prompt of ~300 characters a week for 30 weeks: a timeline of several pages."""
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
    return team


async def test_long_timelines_page_with_buttons_that_survive_a_restart(world: World) -> None:
    await thirty_long_prompts(world)
    shown = await history(world, weeks=52)

    number, pages = page_label(shown)
    assert number == 1 and pages >= 3
    previous, following, share = shown.buttons()
    assert previous["label"] == "◀ Previous" and previous["disabled"]
    assert following["label"] == "Next ▶" and not following["disabled"]
    assert share["label"] == "Share with the team"
    assert "Prompt number 29" in shown.text  # newest first

    seen = [shown.text]
    for number in range(2, pages + 1):
        click = await world.dd.click(world.members[1], shown, shown.button("Next ▶")["custom_id"])
        response = await click.response(timeout=5)
        assert response["type"] == 7, response  # the same message, updated
        assert page_label(shown) == (number, pages)
        within_discord_limits(shown)
        assert "History — Front desk" in shown.text  # each page is a whole card
        seen.append(shown.text)
    assert shown.button("Next ▶")["disabled"]
    everything = "\n".join(seen)
    for n in range(30):
        assert everything.count(f"Prompt number {n:02d}:") == 1, n
    assert [name for name, _ in shown.attachments] == ["answers-per-week.png"]  # kept
    assert gallery(shown) == ["attachment://answers-per-week.png"]  # and still shown

    await world.restart()
    click = await world.dd.click(world.members[1], shown, shown.button("◀ Previous")["custom_id"])
    await click.response(timeout=5)
    assert page_label(shown) == (pages - 1, pages)


async def test_a_page_an_earlier_version_sent_as_an_embed_becomes_a_card(world: World) -> None:
    """Pages sent before the layouts (an embed, Previous / Next) still page: the click turns the
    message into the card, with the same custom ids and the Share button."""
    team = await thirty_long_prompts(world)
    until = int(world.clock.now().timestamp())
    ids = f"breakroom:history:{team.id}:52:{until}"
    old = world.dd.bot_message(
        world.channel,
        embeds=[
            {
                "title": "History — Front desk",
                "description": "**Last 52 weeks:** 30 prompts (0 answers) · 0 polls",
                "footer": {"text": "Page 1 of 3 · Since Mon 6 Jan 2025 (Europe/London)"},
            }
        ],
        components=[
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 2, "label": "◀ Previous", "custom_id": f"{ids}:0"},
                    {"type": 2, "style": 2, "label": "Next ▶", "custom_id": f"{ids}:2"},
                ],
            }
        ],
    )
    click = await world.dd.click(world.members[1], old, f"{ids}:2")
    response = await click.response(timeout=5)
    assert response["type"] == 7, response  # the same message, updated
    page = world.dd.message(old.id)
    assert page.components_v2 and page.embeds == [] and not page.content
    number, pages = page_label(page)
    assert number == 2 and pages >= 3
    assert "## History — Front desk\n**Since the team began on Mon 5 Jan:** 30 prompts" in page.text
    assert [b["label"] for b in page.buttons()] == ["◀ Previous", "Next ▶", "Share with the team"]
    assert page.button("◀ Previous")["custom_id"] == f"{ids}:1"
    within_discord_limits(page)


async def test_open_poll_with_hidden_results_shows_no_counts(world: World) -> None:
    await create_team(world)
    poll_id = await create_poll(world, world.manager, "Secret ballot?", "Yes|No", hide_results=True)
    await vote(world, world.members[0], poll_id, "Yes")
    text = (await history(world)).text
    assert f"**Secret ballot?** · poll #{poll_id} · open until" in text
    assert "Results hidden until the poll closes." in text
    assert "Yes 100%" not in text and "%" not in text.split("Secret ballot?")[1]
    await close_poll(world, poll_id)
    text = (await history(world)).text
    assert "• Yes: 100% 🏆\n• No: 0%" in text


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
