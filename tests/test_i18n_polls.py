"""Polls in people's languages: a member's replies in their Discord client's language, the team's
posts (the poll message, its live edits, the result post) in the team's, whoever clicked; refused
clicks written in one batch each in their own member's language; charts rendered in a thread in
the language of the caller. Tiny German and French catalogues are written for each test."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import i18n
from bot.charts import poll_runs_figure
from bot.errors import Conflict
from bot.i18n import speaking
from bot.poll_model import CLOSED_POLL, PollRun, RunOption
from bot.vote_queue import VoteQueue
from cogs._poll_messages import PollMessages
from tests.i18n_support import installed
from tests.support import World
from tests.test_polls_helpers import (
    as_message,
    ephemeral_reply,
    footer_line,
    is_poll_of,
    option_button,
    wait_announced,
)

GERMAN = {
    "📊 Your poll #{id} is posted in {channel} · closes {when}": (
        "📊 Deine Umfrage #{id} steht in {channel} · endet {when}"
    ),
    "✅ Voted {option}": "✅ Abgestimmt für {option}",
    "Vote": "Abstimmen",
    CLOSED_POLL: "Diese Umfrage ist geschlossen: Stimmen zählen nicht mehr.",
    "“{typed}” needs a unit: m for minutes, h for hours, d for days, w for weeks "
    "(for example {examples}).": "„{typed}“ braucht eine Einheit, zum Beispiel {examples}.",
}
FRENCH = {
    "Vote": "Voter",
    "Close": "Clore",
    "Winner": "Gagnant",
    # French has three plural forms (one, many: millions, other)
    ("{count} voted", "{count} voted"): ("{count} a voté", "{count} ont voté", "{count} ont voté"),
    "📊 Results of poll #{id}": "📊 Résultats du sondage n°{id}",
    "Share of each run's voters per option · {runs}": (
        "Part des votants de chaque tour par option · {runs}"
    ),
    ("{count} run", "{count} runs"): ("{count} tour", "{count} tours", "{count} tours"),
    ("Run {number} · {day} · {count} voted", "Run {number} · {day} · {count} voted"): (
        "Tour {number} · {day} · {count} a voté",
        "Tour {number} · {day} · {count} ont voté",
        "Tour {number} · {day} · {count} ont voté",
    ),
}


@pytest.fixture(autouse=True)
def catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(PollMessages, "interval", 0.05)
    yield from installed(tmp_path, monkeypatch, {"de": GERMAN, "fr": FRENCH})


async def test_catalogues_plural_forms_are_the_languages() -> None:
    with speaking("fr"):
        assert i18n.n_("{count} voted", "{count} voted", 1) == "1 a voté"
        assert i18n.n_("{count} voted", "{count} voted", 2) == "2 ont voté"


async def test_a_german_member_reads_german_and_a_french_team_reads_french(world: World) -> None:
    team = await world.bot.teams.create(world.guild.id, "Accueil", world.channel.id, language="fr")
    assert team.language == "fr"
    alice = world.members[0]
    ix = await world.dd.slash(
        world.manager,
        "poll create",
        channel=world.channel,
        question="Job ou carrière ?",
        options={"options": "Job|Career|Both"},
        locale="de",
    )
    said = str((await ephemeral_reply(ix))["content"])
    assert said.startswith("📊 Deine Umfrage #1 steht in <#"), said
    assert " · endet <t:" in said

    # The poll message is the team's: French, although a German member posted it.
    message = await world.dd.wait_for_message(world.channel, lambda m: is_poll_of(m, 1))
    assert [b["label"] for b in message.buttons()] == ["Voter", "Voter", "Voter", "Clore"]
    assert " · 0 a voté · " in footer_line(message)

    # A German click: the receipt in German, the live edit it causes still in French.
    click = await world.dd.click(
        alice, message, option_button(message, "Job")["custom_id"], locale="de"
    )
    response = await click.response(timeout=5)
    assert response["data"]["content"] == "✅ Abgestimmt für **Job**"
    await world.dd.wait_until(
        lambda: " · 1 a voté · " in footer_line(message), what="the French live count"
    )
    # An English member's click on the same French message: English receipt.
    bob_click = await world.dd.click(
        world.members[1], message, option_button(message, "Job")["custom_id"]
    )
    assert (await bob_click.response(timeout=5))["data"]["content"] == "✅ Voted **Job**"
    await world.dd.wait_until(
        lambda: " · 2 ont voté · " in footer_line(message), what="the French plural"
    )

    close = await world.dd.slash(
        world.manager, "poll close", channel=world.channel, poll="1", locale="de"
    )
    await ephemeral_reply(close)
    await wait_announced(world, 1)
    results = [
        m
        for m in world.dd.messages(world.channel)
        if footer_line(m).startswith("-# 📊 Résultats du sondage n°1 · ")
    ]
    assert len(results) == 1, [footer_line(m) for m in world.dd.messages(world.channel)]
    assert "Gagnant" in [b["label"] for b in message.buttons()]  # the final state, in French
    assert "2 ont voté" in footer_line(message)


async def test_a_bad_duration_is_explained_in_the_members_language(world: World) -> None:
    await world.bot.teams.create(world.guild.id, "Accueil", world.channel.id, language="fr")
    ix = await world.dd.slash(
        world.manager,
        "poll create",
        channel=world.channel,
        question="Job ou carrière ?",
        options={"options": "Job|Career"},
        duration="5",
        locale="de",
    )
    reply = as_message(await ephemeral_reply(ix))
    assert "„5“ braucht eine Einheit, zum Beispiel 30m, 2h, 3d, 1w or 1d12h." in reply.text
    assert await world.bot.db.fetchval("SELECT count(*) FROM polls") == 0


async def test_refused_clicks_written_together_are_told_in_each_members_language(
    world: World,
) -> None:
    team = await world.bot.teams.create(world.guild.id, "Accueil", world.channel.id)
    polls = world.bot.services.polls
    poll = await polls.create(team, world.manager.id, "Job or career?", "Job|Career")
    await polls.closing.close(poll.id, world.guild.id, world.manager.id, True)
    queue = VoteQueue(polls.vote_many)

    async def vote_as(language: str, user_id: int) -> str:
        with speaking(language):
            try:
                await queue.vote(poll.id, poll.options[0].id, world.guild.id, user_id)
            except Conflict as refused:
                return str(refused)
        raise AssertionError("a click on a closed poll was counted")

    # One batch: the German click starts the writer task (and its language), the English one
    # joins it; each member reads the refusal in their own language.
    german, english = await asyncio.gather(vote_as("de", 1), vote_as("en", 2))
    await queue.close()
    assert queue.batches == 1
    assert german == "Diese Umfrage ist geschlossen: Stimmen zählen nicht mehr."
    assert english == CLOSED_POLL


def runs() -> list[PollRun]:
    start = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    return [
        PollRun(
            poll_id=n + 1,
            created_at=start + timedelta(weeks=3 * n),
            closed_at=start + timedelta(weeks=3 * n, days=1),
            voters=4,
            hide_results=False,
            options=(RunOption("Job", n + 1, (n + 1) / 4), RunOption("Career", 3 - n, (3 - n) / 4)),
        )
        for n in range(2)
    ]


def chart_texts(figure: object) -> list[str]:
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    assert isinstance(figure, Figure)
    figure.canvas.draw()  # type: ignore[no-untyped-call]
    texts = [t.get_text() for t in figure.findobj(Text)]
    return [t for t in texts if t]


async def test_a_chart_rendered_in_a_thread_speaks_the_callers_language() -> None:
    """asyncio.to_thread copies the context: the language set on the loop reaches the chart."""
    with speaking("fr"):
        figure = await asyncio.to_thread(poll_runs_figure, runs(), "Job ou carrière ?")
    texts = chart_texts(figure)
    assert "Part des votants de chaque tour par option · 2 tours" in texts
    assert "Tour 1 · 6 janv. · 4 ont voté" in texts
    # bar labels and the axis as French writes percentages (a no-break space before the sign)
    assert "25\xa0%" in texts and "75\xa0%" in texts and "100\xa0%" in texts

    english = chart_texts(await asyncio.to_thread(poll_runs_figure, runs(), "Job or career?"))
    assert "Share of each run's voters per option · 2 runs" in english
    assert "25%" in english
