"""Reflections, /privacy, /forget-me and /help in people's languages (issue 14): each text goes
through the catalogue, a reply in the member's Discord language, a post in the team's.

The catalogues here are tiny ones written for the test (a few messages in German and French),
so the test says which texts are looked up, whatever the real catalogues hold.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel import dates

from bot.teams import Team
from tests.i18n_support import installed
from tests.reflection_posts import is_reflection_post, ref_of
from tests.support import World
from tests.test_reflections import cog, open_form, pause_scheduler_loop, posts, write

GERMAN = {
    "Write an anonymous reflection": "Anonyme Reflexion schreiben",
    "Your reflection (no name is kept)": "Deine Reflexion (kein Name wird gespeichert)",
    "**Your reflection is saved, without your name.**\n"
    "Receipt code: **{code}**\n"
    "Keep it if you might want to delete this reflection later "
    "(`/reflections delete code:{code}`). It is shown only to you, only now: "
    "Breakroom keeps no copy of it.\n"
    "It will be shared at {time} ({timezone}) on the first day enough "
    "teammates have written, together with theirs and in random order, so nobody can tell "
    "whose is whose.": "**Gespeichert, ohne deinen Namen.** Quittung: **{code}**; geteilt um "
    "{time} ({timezone}).",
    "Your reflection is empty: write a few words, then send it again.": "Deine Reflexion ist "
    "leer: schreib ein paar Worte und sende sie noch einmal.",
    "Thank you: your report is recorded. Managers and the team's leads see the reason, never "
    "who sent it.": "Danke: deine Meldung ist gespeichert.",
    "Breakroom and your privacy": "Breakroom und deine Privatsphäre",
    "Polls and votes": "Umfragen und Stimmen",
    "• Votes in ordinary (named) polls: your id and your choice. Anonymous polls: no id (see "
    "*{polls}*).": "• Stimmen in Umfragen mit Namen: deine ID und deine Wahl. Anonyme Umfragen: "
    "keine ID (siehe *{polls}*).",
    "Full text": "Volltext",
    "Summary": "Übersicht",
    "Delete my data": "Meine Daten löschen",
    "Keep it": "Behalten",
    "What you can do": "Was du tun kannst",
}
FRENCH = {
    "{team} · anonymous reflection · {day} · code {code}": "{team} · réflexion anonyme · {day} "
    "· code {code}",
    "Report": "Signaler",
    "🚩 A reflection in {team} was reported": "🚩 Une réflexion de {team} a été signalée",
    "Reason {number}": "Motif {number}",
    "Jump to post": "Aller au message",
}
FRENCH_PLURALS = {
    (
        "{count} open report. /reflections hide code:{code} removes it; "
        "/reflections settings dismiss:{code} closes the report.",
        "{count} open reports. /reflections hide code:{code} removes it; "
        "/reflections settings dismiss:{code} closes the reports.",
    ): (
        "{count} signalement ouvert ({code}).",
        "{count} signalements ouverts ({code}).",
    ),
}


@pytest.fixture(autouse=True)
def catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from installed(tmp_path, monkeypatch, {"de": GERMAN, "fr": {**FRENCH, **FRENCH_PLURALS}})


async def french_team(world: World) -> Team:
    await pause_scheduler_loop(world)  # posting happens at `world.run_scheduler()`
    cog(world).rng = random.Random(7)
    return await world.bot.teams.create(world.guild.id, "Accueil", world.channel.id, language="fr")


async def test_a_german_member_writes_in_german_and_the_bot_layer_refuses_in_german(
    world: World,
) -> None:
    await french_team(world)  # the team's language is for its posts, not for replies
    alice = world.members[0]
    ix = await world.dd.slash(alice, "reflect", channel=world.channel, locale="de")
    form = (await ix.response(timeout=5))["data"]
    assert form["title"] == "Anonyme Reflexion schreiben"
    [body] = [c for row in form["components"] for c in row["components"]][:1]
    assert body["label"] == "Deine Reflexion (kein Name wird gespeichert)"

    sent = await world.dd.submit_modal(
        alice, form["custom_id"], {"body": "Quiet mornings.", "about": ""}, locale="de"
    )
    receipt = (await sent.response(timeout=5))["data"]["content"]
    assert receipt.startswith("**Gespeichert, ohne deinen Namen.** Quittung: **R-")
    assert receipt.endswith("; geteilt um 17:00 (UTC).")

    # An error raised in bot/ (validate_body), while this member's interaction runs.
    custom_id = await open_form(world, alice)
    empty = await world.dd.submit_modal(alice, custom_id, {"body": "   "}, locale="de")
    refused = (await empty.response(timeout=5))["data"]["content"]
    assert "Deine Reflexion ist leer: schreib ein paar Worte" in refused
    # The same member with an English client reads English.
    again = await world.dd.submit_modal(alice, custom_id, {"body": "   "})
    english = (await again.response(timeout=5))["data"]["content"]
    assert "Your reflection is empty: write a few words" in english


async def test_a_french_team_reads_its_posts_and_notices_in_french_whoever_wrote_or_reported(
    world: World,
) -> None:
    team = await french_team(world)
    leads_room = world.dd.add_channel(world.guild, "accueil-leads")
    await world.dd.settle()
    await world.bot.teams.edit(team.id, lead_channel_id=leads_room.id)
    alice, bob, carol = world.members
    custom_id = await open_form(world, alice)
    sent = await world.dd.submit_modal(alice, custom_id, {"body": "Calme."}, locale="de")
    assert "Gespeichert" in (await sent.response(timeout=5))["data"]["content"]
    await write(world, bob, "Les dossiers.")
    await write(world, carol, "Le téléphone.")
    await world.share_reflections()

    shown = posts(world)
    assert len(shown) == 3
    day = dates.format_date(world.clock.now().date(), "medium", locale="fr")
    for message in shown:
        muted = message.text.splitlines()[-1]
        assert muted == f"-# Accueil · réflexion anonyme · {day} · code {ref_of(message)}"
        assert [b["label"] for b in message.buttons()] == ["Signaler"]

    # A German member reports: the thanks in German, the leads' notice in French.
    target = shown[0]
    click = await world.dd.click(alice, target, target.buttons()[0]["custom_id"], locale="de")
    form = (await click.response(timeout=5))["data"]
    ix = await world.dd.submit_modal(
        alice, form["custom_id"], {"reason": "Zu privat."}, locale="de"
    )
    assert (await ix.response(timeout=5))["data"]["content"] == (
        "Danke: deine Meldung ist gespeichert."
    )
    await world.run_scheduler()
    [notice] = world.dd.messages(leads_room)
    embed = notice.embeds[0]
    assert embed["title"] == "🚩 Une réflexion de Accueil a été signalée"
    assert [(f["name"], f["value"]) for f in embed["fields"]] == [("Motif 1", "Zu privat.")]
    assert embed["footer"]["text"] == f"1 signalement ouvert ({ref_of(target)})."
    assert [b["label"] for b in notice.buttons()] == ["Aller au message"]
    assert all(is_reflection_post(m) for m in posts(world))


async def test_privacy_pages_follow_the_members_language_and_name_topics_as_translated(
    world: World,
) -> None:
    alice = world.members[0]
    ix = await world.dd.slash(alice, "privacy", channel=world.channel, locale="de")
    await ix.response(timeout=5)
    summary = await ix.wait_original()
    assert summary.text.startswith("**Breakroom und deine Privatsphäre**\n• **Stored:**")
    assert [b["label"] for b in summary.buttons()] == ["Volltext"]

    # The buttons answer in the language of whoever clicks, and a paragraph naming another
    # topic names it by its translated heading.
    full = await world.dd.click(alice, summary, "breakroom:privacy:page:full-1", locale="de")
    await full.response(timeout=5)
    assert "(siehe *Umfragen und Stimmen*)." in summary.text
    assert "**Umfragen und Stimmen**\n" in summary.text
    assert [b["label"] for b in summary.buttons()] == ["Übersicht"]
    back = await world.dd.click(alice, summary, "breakroom:privacy:page:summary")
    await back.response(timeout=5)
    assert summary.text.startswith("**Breakroom and your privacy**\n")
    english = await world.dd.click(alice, summary, "breakroom:privacy:page:full-1")
    await english.response(timeout=5)
    assert "(see *Polls and votes*)." in summary.text


async def test_forget_me_and_help_answer_in_the_members_language(world: World) -> None:
    alice = world.members[0]
    ix = await world.dd.slash(alice, "forget-me", channel=world.channel, locale="de")
    response = await ix.response(timeout=5)
    labels = [c["label"] for row in response["data"]["components"] for c in row["components"]]
    assert labels == ["Meine Daten löschen", "Behalten"]

    ix = await world.dd.slash(alice, "help", channel=world.channel, locale="de")
    embed = (await ix.response(timeout=5))["data"]["embeds"][0]
    assert [f["name"] for f in embed["fields"]] == ["Was du tun kannst"]
    assert "`/reflect`" in embed["fields"][0]["value"]  # not in the catalogue: English
