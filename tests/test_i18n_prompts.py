"""Prompts in people's languages: a member's replies follow their Discord client, the team's post
(its question card, Answer button, thread and live count) follows the team's language whoever
posts it, and a server's starter bank is written in the language of its first team."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import bot.i18n
from bot.clock import ManualClock
from bot.db import Database
from bot.prompt_bank import STARTER_DIR, starter_file, starter_prompts
from bot.prompts import Prompts
from bot.teams import Teams
from tests.double import Member, builders
from tests.i18n_support import installed
from tests.prompts_support import texts
from tests.support import World
from tests.test_prompts_e2e import create_team, reply, wait_post

GUILD = 1001

GERMAN = {
    "Added prompt **#{id}**: {text}": "Frage **#{id}** hinzugefügt: {text}",
    "It joins the rotation: teams get it before any prompt repeats.": (
        "Sie kommt in die Runde: Teams bekommen sie, bevor sich eine Frage wiederholt."
    ),
    "A prompt needs some text: write the question you want the team to discuss.": (
        "Eine Frage braucht Text: Schreib die Frage, über die das Team sprechen soll."
    ),
    "✅ Posted prompt **#{id}** in {channel}.": "✅ Frage **#{id}** in {channel} gepostet.",
    "Your answer": "Deine Antwort",
    "✅ Answer saved and posted in the thread": "✅ Antwort gespeichert und im Thread gepostet",
}
FRENCH = {
    "No answers yet": "Pas encore de réponse",
    "{team} · Week of {week} · {answers}": "{team} · Semaine du {week} · {answers}",
    "Answer": "Répondre",
}
FRENCH_PLURALS = {
    ("{count} answer so far", "{count} answers so far"): (
        "{count} réponse pour l'instant",
        "{count} réponses pour l'instant",
    )
}


@pytest.fixture
def catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A German and a French catalogue with a few of the prompts' messages translated."""
    yield from installed(tmp_path, monkeypatch, {"de": GERMAN, "fr": {**FRENCH, **FRENCH_PLURALS}})


@pytest.fixture
def locales(monkeypatch: pytest.MonkeyPatch) -> dict[int, str]:
    """Member id → the locale of their Discord client (the double's is en-US for everyone)."""
    chosen: dict[int, str] = {}
    original = builders.new_interaction

    def with_locale(*args: Any, **kwargs: Any) -> Any:
        ix = original(*args, **kwargs)
        if ix.user_id in chosen:
            ix.payload["locale"] = chosen[ix.user_id]
        return ix

    monkeypatch.setattr(builders, "new_interaction", with_locale)
    return chosen


async def use(world: World, member: Member, command: str, **options: Any) -> str:
    ix = await world.dd.slash(member, command, channel=world.channel, options=options)
    return await reply(ix)


async def test_a_german_member_is_answered_in_german(
    world: World, catalogues: Path, locales: dict[int, str]
) -> None:
    await create_team(world)
    locales[world.manager.id] = "de"
    text = await use(world, world.manager, "prompt add", text="Was hat dich diese Woche gefreut?")
    print(f"--- /prompt add, in German\n{text}")
    assert text.startswith("Frage **#21** hinzugefügt: Was hat dich diese Woche gefreut?\n")
    assert text.endswith("bevor sich eine Frage wiederholt.")
    # an error raised in bot/ during the member's interaction is in their language too
    refused = await use(world, world.manager, "prompt add", text="\u200b \u3164")
    assert "Eine Frage braucht Text" in refused
    # the same commands for an English client are as they always were
    locales[world.manager.id] = "en-GB"
    text = await use(world, world.manager, "prompt add", text="What made you smile this week?")
    assert text.startswith("Added prompt **#22**: What made you smile this week?\n")


async def test_a_french_teams_post_is_french_whoever_posts_and_answers(
    world: World, catalogues: Path, locales: dict[int, str]
) -> None:
    await create_team(world)
    team_id = int(await world.bot.db.fetchval("SELECT id FROM teams"))
    await world.bot.teams.edit(team_id, language="fr")
    locales[world.manager.id] = "de"
    locales[world.members[0].id] = "de"

    receipt = await use(world, world.manager, "prompt post")
    print(f"--- the German manager's receipt\n{receipt}")
    assert receipt == f"✅ Frage **#1** in <#{world.channel.id}> gepostet."
    post = await wait_post(world)
    print(f"--- the French team's post\n{post.text}")
    assert texts(post)[1].startswith("-# Front desk · Semaine du ")
    assert texts(post)[1].endswith(" · Pas encore de réponse")
    [button] = post.buttons()
    assert button["label"] == "Répondre"

    # a German member answers: the form and the receipt are German, the live count French
    click = await world.dd.click(world.members[0], post, button["custom_id"])
    await click.response(timeout=5)
    assert click.modal is not None and click.modal["title"] == "Deine Antwort"
    submitted = await world.dd.submit_modal(
        world.members[0], click.modal["custom_id"], {"answer": "Ein Job ist das Auto."}
    )
    assert (await reply(submitted)) == "✅ Antwort gespeichert und im Thread gepostet"
    await world.dd.wait_until(lambda: "1 réponse pour l'instant" in post.text, what="the count")
    print(f"--- the post after the answer\n{post.text}")
    assert "answer" not in texts(post)[1]


async def test_the_first_teams_language_picks_the_starter_bank(db: Database) -> None:
    clock = ManualClock(datetime(2026, 1, 8, 8, 0, tzinfo=UTC))
    teams, prompts = Teams(db, clock), Prompts(db, clock)
    await teams.create(GUILD, "Accueil", 11, timezone="Europe/Paris", language="fr")
    await teams.create(GUILD, "Empfang", 12, timezone="Europe/Berlin", language="de")
    await prompts.bank.ensure_bank(GUILD)  # as /team create does, after each team
    french = starter_prompts(STARTER_DIR / "starter.fr.txt")
    page = await prompts.bank.list_page(GUILD, per_page=100)
    assert [p.text for p in page.prompts] == list(french)
    assert page.prompts[0].text == "Quelle est la différence entre un emploi et une carrière ?"

    # a German team created first elsewhere gets the German bank; an English server the English
    await teams.create(GUILD + 1, "Empfang", 21, timezone="Europe/Berlin", language="de")
    await prompts.bank.ensure_bank(GUILD + 1)
    german = (await prompts.bank.list_page(GUILD + 1, per_page=100)).prompts
    assert german[0].text.startswith("Was ist eigentlich der Unterschied")
    await prompts.bank.ensure_bank(GUILD + 2)  # no team yet: English
    english = (await prompts.bank.list_page(GUILD + 2, per_page=100)).prompts
    assert [p.text for p in english] == list(starter_prompts())

    # prompts the server adds stay as written, beside the French ones
    added = await prompts.bank.add(GUILD, "What is the difference between a job and a career?")
    assert added.prompt.text == "What is the difference between a job and a career?"


@pytest.mark.parametrize("language", [lang for lang in bot.i18n.LANGUAGES if lang != "en"])
def test_every_language_has_its_own_starter_bank_within_limits(language: str) -> None:
    path = starter_file(language)
    assert path.name == f"starter.{language}.txt"
    bank = starter_prompts(path)
    english = starter_prompts()
    assert len(bank) == len(english) and not set(bank) & set(english)
    assert all(0 < len(p) <= 300 for p in bank)
    assert len({p.casefold() for p in bank}) == len(bank)


def test_a_language_without_a_bank_falls_back_to_english() -> None:
    english = STARTER_DIR / "starter.txt"
    assert starter_file("en") == starter_file("ja") == starter_file(None) == english
