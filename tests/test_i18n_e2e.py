"""Breakroom in people's languages with the real catalogues (data/locales): what a member reads
follows their Discord client's language, what a team reads follows the team's, through the double.

Expected texts are the catalogue's own translations (`in_language`), and each is checked to differ
from the English, so a test can't pass on an untranslated text."""

from __future__ import annotations

import pytest

from bot.i18n import _, day, in_language, speaking
from bot.poll_model import CLOSED_POLL
from bot.prompt_bank import starter_file, starter_prompts
from cogs._poll_messages import PollMessages
from cogs._prompt_layouts import answers_so_far, week_of
from tests.prompts_support import headline
from tests.reflection_posts import ref_of
from tests.support import World
from tests.test_polls_helpers import (
    as_message,
    ephemeral_reply,
    footer_line,
    is_poll_of,
    option_button,
    wait_announced,
)
from tests.test_reflections import pause_scheduler_loop, posts, write


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PollMessages, "interval", 0.05)


def translated(language: str, message: str, **fields: object) -> str:
    text = in_language(language, message, **fields)
    if language != "en":
        assert text != in_language("en", message, **fields), f"{message!r} untranslated"
    return text


@pytest.mark.parametrize(
    ("locale", "language"), [("de", "de"), ("pt-BR", "pt_BR"), ("ja", "en"), ("en-US", "en")]
)
async def test_a_member_reads_replies_forms_and_errors_in_their_language(
    world: World, locale: str, language: str
) -> None:
    await world.bot.teams.create(world.guild.id, "Front desk", world.channel.id)
    alice = world.members[0]
    created = await world.dd.slash(
        world.manager,
        "poll create",
        channel=world.channel,
        question="Job or career?",
        options={"options": "Job|Career"},
        locale=locale,
    )
    # a one-line confirmation's link button
    confirmation = as_message(await ephemeral_reply(created))
    assert [b["label"] for b in confirmation.buttons()] == [translated(language, "Jump to post")]
    message = await world.dd.wait_for_message(world.channel, lambda m: is_poll_of(m, 1))

    # a reply: the vote receipt
    vote = await world.dd.click(
        alice, message, option_button(message, "Job")["custom_id"], locale=locale
    )
    receipt = (await vote.response(timeout=5))["data"]["content"]
    assert receipt == translated(language, "✅ Voted {option}", option="**Job**")

    # a form: /reflect's title
    reflect = await world.dd.slash(alice, "reflect", channel=world.channel, locale=locale)
    form = (await reflect.response(timeout=5))["data"]
    assert form["title"] == translated(language, "Write an anonymous reflection")

    # an error from the feature logic: a vote on a closed poll
    await world.bot.services.polls.closing.close(1, world.guild.id, world.manager.id, True)
    late = await world.dd.click(
        alice, message, option_button(message, "Career")["custom_id"], locale=locale
    )
    refused = (await late.response(timeout=5))["data"]["content"]
    assert translated(language, CLOSED_POLL) in refused


async def test_a_french_team_gets_its_posts_in_french_whoever_writes(world: World) -> None:
    made = await world.dd.slash(
        world.manager,
        "team create",
        channel=world.channel,
        name="Accueil",
        options={"channel": world.channel, "language": "fr"},
        locale="de",
    )
    await ephemeral_reply(made)
    [team] = await world.bot.teams.for_guild(world.guild.id)
    assert team.language == "fr"

    # the prompt: from the French starter bank, French words and dates around it
    posted = await world.dd.slash(world.manager, "prompt post", channel=world.channel, locale="de")
    await ephemeral_reply(posted)
    post = await world.dd.wait_for_message(world.channel, lambda m: bool(m.buttons()))
    assert headline(post) in starter_prompts(starter_file("fr"))
    assert headline(post) not in starter_prompts(starter_file("en"))
    meta = {}
    for language in ("fr", "en"):
        with speaking(language):
            now = world.clock.now()
            meta[language] = "-# " + _(
                "{team} · Week of {week} · {answers}",
                team="Accueil",
                week=week_of(now, team),
                answers=answers_so_far(0),
            )
    assert meta["fr"] != meta["en"] and meta["fr"] in post.text.splitlines()
    assert [b["label"] for b in post.buttons()] == [translated("fr", "Answer")]

    # a poll created by a German member: its message and results in French
    created = await world.dd.slash(
        world.members[0],
        "poll create",
        channel=world.channel,
        question="Café ou thé ?",
        options={"options": "Café|Thé"},
        locale="de",
    )
    await ephemeral_reply(created)
    message = await world.dd.wait_for_message(world.channel, lambda m: is_poll_of(m, 1))
    vote = translated("fr", "Vote")
    assert [b["label"] for b in message.buttons()][:2] == [vote, vote]
    closed = await world.dd.slash(world.manager, "poll close", channel=world.channel, poll="1")
    await ephemeral_reply(closed)
    await wait_announced(world, 1)
    results = translated("fr", "📊 Results of poll #{id}", id=1)
    assert any(footer_line(m).startswith(f"-# {results}") for m in world.dd.messages(world.channel))


async def test_a_french_teams_reflections_are_posted_in_french(world: World) -> None:
    await pause_scheduler_loop(world)  # posting happens at `world.run_scheduler()`
    await world.bot.teams.create(world.guild.id, "Accueil", world.channel.id, language="fr")
    for member, text in zip(
        world.members, ("Calme.", "Les dossiers.", "Le téléphone."), strict=True
    ):
        await write(world, member, text)  # members whose Discord is in English
    await world.share_reflections()
    shown = posts(world)
    assert len(shown) == 3
    with speaking("fr"):
        today = day(world.clock.now())
    report = translated("fr", "Report")
    for message in shown:
        muted = message.text.splitlines()[-1]
        line = "{team} · anonymous reflection · {day} · code {code}"
        fields = {"team": "Accueil", "day": today, "code": ref_of(message)}
        assert muted == "-# " + translated("fr", line, **fields)
        assert [b["label"] for b in message.buttons()] == [report]


async def test_a_refusal_breakroom_records_by_itself_is_in_the_teams_language(
    world: World,
) -> None:
    team = await world.bot.teams.create(world.guild.id, "Accueil", world.channel.id, language="fr")
    created = await world.dd.slash(
        world.members[0],
        "poll create",
        channel=world.channel,
        question="Café ou thé ?",
        options={"options": "Café|Thé", "duration": "1h"},
    )
    await ephemeral_reply(created)
    await world.dd.wait_for_message(world.channel, lambda m: is_poll_of(m, 1))
    # the result post, due at the deadline, is refused while nobody is waiting for it
    world.dd.fail_next(
        "POST",
        rf"/channels/{world.channel.id}/messages",
        status=403,
        code=50013,
        message="Missing Permissions",
    )
    world.clock.advance(hours=1)
    await world.run_scheduler()
    [trouble] = await world.bot.services.outbox.troubles(team.id)
    refused = translated(
        "fr",
        "Discord refused it in <#{channel}>: Breakroom lacks a permission there ({why}). Fix "
        "the channel's permissions, or choose another channel with `/team edit`.",
        channel=world.channel.id,
        why="Missing Permissions",
    )
    assert trouble.kind == "poll_result" and trouble.error == refused
