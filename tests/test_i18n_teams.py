"""Teams, `/history` and the error texts in people's languages, through the Discord double: a
reply follows the member's Discord language, a post for the team follows the team's `language`
(`/team create` / `/team edit` `language`, defaulting to the server's), and `/team list` shows
it. The catalogues are tiny ones written here (de, fr), read by bot/i18n.py as it reads the real
ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.teams import Team
from tests.double import Member, Message
from tests.i18n_support import installed
from tests.support import World
from tests.test_history_helpers import answer, answer_of, command, prompt_posts, reply_text

GERMAN = {
    "This server has no team yet. A manager can create one with `/team create`.": (
        "Dieser Server hat noch kein Team. Ein Manager kann eines mit `/team create` anlegen."
    ),
    "Delete the team and its data": "Das Team und seine Daten löschen",
    "Keep it": "Behalten",
    "Share with the team": "Mit dem Team teilen",
    "Shared with {team} in <#{channel}>.": "Mit {team} in <#{channel}> geteilt.",
    "## History — {team}": "## Verlauf — {team}",
    "A team needs a name: type a few words, such as “Front desk”.": (
        "Ein Team braucht einen Namen: schreib ein paar Wörter, etwa „Empfang“."
    ),
    "Only managers (members with the Manage Server permission) can do this. "
    "Ask your office manager or team lead.": "Das dürfen nur Manager (Server verwalten).",
}
FRENCH = {
    "## History — {team}": "## Historique — {team}",
    "Shared from `/history`": "Partagé depuis `/history`",
    "Team created": "Équipe créée",
}


@pytest.fixture(autouse=True)
def catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from installed(tmp_path, monkeypatch, {"de": GERMAN, "fr": FRENCH})


async def slash_text(
    world: World, member: Member, used: str, locale: str, **options: object
) -> str:
    ix = await world.dd.slash(member, used, channel=world.channel, options=options, locale=locale)
    return await reply_text(ix)


async def test_a_german_member_reads_replies_buttons_and_errors_in_german(world: World) -> None:
    alice = world.members[0]
    assert (
        await slash_text(world, alice, "team list", "de")
        == GERMAN["This server has no team yet. A manager can create one with `/team create`."]
    )
    # the same command for an English member stays English
    assert "This server has no team yet." in await slash_text(world, alice, "team list", "en-US")
    # an error raised in bot/ during the member's interaction: in their language
    refused = await slash_text(
        world, world.manager, "team create", "de", name="   ", channel=world.channel
    )
    assert refused == GERMAN["A team needs a name: type a few words, such as “Front desk”."]
    # bot/client.py's refusal for a non-manager
    text = await slash_text(world, alice, "team create", "de", name="X", channel=world.channel)
    assert text == "Das dürfen nur Manager (Server verwalten)."

    await world.bot.teams.create(world.guild.id, "Front desk", world.channel.id)
    ix = await world.dd.slash(
        world.manager,
        "team delete",
        channel=world.channel,
        options={"team": "Front desk"},
        locale="de",
    )
    asked = await answer_of(ix)
    assert ix.original is not None
    labels = [b["label"] for b in ix.original.buttons()]
    assert labels == ["Das Team und seine Daten löschen", "Behalten"], asked


async def test_the_team_language_defaults_to_the_servers_and_can_be_picked_and_changed(
    world: World,
) -> None:
    dd, manager = world.dd, world.manager
    channel = world.channel
    # the server speaks Brazilian Portuguese: a new team's posts do too
    ix = await dd.slash(
        manager,
        "team create",
        channel=channel,
        guild_locale="pt-BR",
        options={"name": "Recepção", "channel": channel},
    )
    assert "Team created" in await reply_text(ix)
    # a server language Breakroom doesn't speak: English
    ix = await dd.slash(
        manager,
        "team create",
        channel=channel,
        guild_locale="ja",
        options={"name": "Front desk", "channel": channel},
    )
    await reply_text(ix)
    # picked by the manager (by its name in its own words), whatever the server speaks
    ix = await dd.slash(
        manager,
        "team create",
        channel=channel,
        guild_locale="de",
        options={"name": "Accueil", "channel": channel, "language": "Français"},
    )
    await reply_text(ix)
    teams = {t.name: t.language for t in await world.bot.teams.for_guild(world.guild.id)}
    assert teams == {"Recepção": "pt_BR", "Front desk": "en", "Accueil": "fr"}

    choices = await dd.autocomplete(manager, "team edit", focused="language", language="ned")
    assert choices == [{"name": "Nederlands", "value": "nl"}]
    everything = await dd.autocomplete(manager, "team create", focused="language", language="")
    assert [c["value"] for c in everything] == ["en", "de", "fr", "es", "pt_BR", "nl", "pl"]

    edited = await command(world, manager, "team edit", team="Front desk", language="nl")
    assert "Team updated" in edited and "posts in Nederlands" in edited
    wrong = await command(world, manager, "team edit", team="Front desk", language="Klingon")
    assert wrong.startswith("Breakroom speaks English (en), Deutsch (de), Français (fr)")
    listing = await command(world, world.members[0], "team list")
    for line in ("posts in Português (Brasil)", "posts in Nederlands", "posts in Français"):
        assert line in listing, listing
    # the team's language changes nothing of what a member reads: their own language decides
    assert "Équipe créée" not in edited


async def test_a_french_teams_shared_history_is_french_whoever_shares_it(world: World) -> None:
    dd = world.dd
    leads = dd.add_role(world.guild, "Accueil leads")
    alice, bob, _ = world.members
    dd.set_roles(alice, [leads])
    await dd.settle()
    team: Team = await world.bot.teams.create(
        world.guild.id,
        "Accueil",
        world.channel.id,
        None,
        "Europe/Paris",
        lead_role_id=leads.id,
        language="fr",
    )
    assert "Posted" in await command(world, world.manager, "prompt post")
    [post] = prompt_posts(world)
    assert "saved" in await answer(world, bob, post, "Plus de télétravail")
    world.clock.advance(hours=1)

    # alice reads /history in German (her Discord's language), and shares it from there
    ix = await dd.slash(alice, "history", channel=world.channel, locale="de")
    shown = await answer_of(ix)
    assert isinstance(shown, Message)
    assert shown.text.startswith("## Verlauf — Accueil\n")
    assert "5. Jan." in shown.text  # the days as German writes them
    button = shown.button("Mit dem Team teilen")
    click = await dd.click(alice, shown, button["custom_id"], locale="de")
    told = await answer_of(click)
    assert isinstance(told, Message)
    assert told.text == f"Mit Accueil in <#{team.channel_id}> geteilt."

    [shared] = [m for m in dd.messages(world.channel) if "/history" in m.text]
    assert shared.text.startswith("## Historique — Accueil\n"), shared.text
    assert "Partagé depuis `/history`" in shared.text
    assert "lun. 5 janv." in shared.text  # the team's language writes its days
    assert "Verlauf" not in shared.text and "Shared from" not in shared.text
