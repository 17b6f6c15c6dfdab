"""Hostile input through the Discord double (issue 10): a clear answer, never a traceback.

Ids no row can have (beyond SQLite's signed 64-bit integers) typed in options or carried by a
button or a form; buttons and forms used from a DM; a thread given as a team's channel; text that
shows nothing; duplicates that only look different; digits of other scripts. Each time the member
reads a sentence meant for them, for them alone, and nothing is stored.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.client import DM_MESSAGE
from tests.double import InteractionRecord, Member, Message
from tests.faults_support import UNEXPECTED, dump_db
from tests.support import World
from tests.test_prompts_e2e import answer, create_team, reply, slash, wait_post
from tests.test_reflections import post_a_batch, post_with, setup_team

HUGE = "99999999999999999999"  # > 2**63: SQLite can't hold it
UNKNOWN_BUTTON = "This button points to something Breakroom doesn't have"
UNKNOWN_FORM = "This form points to something Breakroom doesn't have"
THREAD_REFUSED = "Pick a text channel itself for that option, not a thread"
INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200c\u200d",  # zero-width non-joiner, joiner
    "\u2060",  # word joiner
    "\ufeff",  # byte-order mark
    "\u0301\u0301",  # combining marks with nothing to sit on
    "\u2800",  # Braille blank
    "\u3164",  # Hangul filler
    "\u115f\u1160",  # Hangul choseong and jungseong fillers
    "\uffa0",  # halfwidth Hangul filler
    " \u200b\t\u00a0\u3000\u202e\x00 ",  # whitespace, control and format characters
]


async def reads(ix: InteractionRecord) -> str:
    """What the member reads: ephemeral, and never the unexpected-error answer."""
    text = await reply(ix)
    assert ix.ephemeral, f"{ix.name} answered publicly: {text}"
    assert UNEXPECTED not in text, f"{ix.name}: {text}"
    return text


async def refused(world: World, ix_factory: Any, expected: str) -> str:
    """Run the interaction; the member reads `expected`, and no table changed."""
    before = await dump_db(world.bot.db)
    text = await reads(await ix_factory())
    assert expected in text, text
    assert await dump_db(world.bot.db) == before
    return text


async def command(world: World, member: Member, name: str, expected: str, /, **options: Any) -> str:
    """Use the command in the team channel; the member reads `expected`, nothing is stored."""
    return await refused(
        world,
        lambda: world.dd.slash(member, name, channel=world.channel, options=options),
        expected,
    )


def button_row(*custom_ids: str) -> list[dict[str, Any]]:
    buttons = [
        {"type": 2, "style": 2, "label": f"b{n}", "custom_id": cid}
        for n, cid in enumerate(custom_ids)
    ]
    return [{"type": 1, "components": buttons}]


async def click_forged(world: World, member: Member, custom_id: str, expected: str) -> str:
    """Click a button the bot would not make now, on a message of the bot in the team channel."""
    message = world.dd.bot_message(world.channel, content="old", components=button_row(custom_id))
    return await refused(world, lambda: world.dd.click(member, message, custom_id), expected)


@pytest.fixture
async def team_world(world: World) -> World:
    await create_team(world)
    return world


# --- 1. ids beyond 2**63 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("poll results", {"poll": HUGE}, "is not a poll I know"),
        ("poll close", {"poll": HUGE}, "is not a poll I know"),
        ("poll rerun", {"poll": f"#{HUGE}"}, "is not a poll I know"),
        ("prompt remove", {"prompt": HUGE}, "is not a prompt I know"),
        ("prompt remove", {"prompt": "9" * 5000}, "is not a prompt I know"),
        ("prompt remove", {"prompt": "²²"}, "There is no prompt #22"),
        ("prompt post", {"prompt": HUGE}, "is not a prompt I know"),
        ("prompt answers", {"post": HUGE}, "is not a post I know"),
        ("team edit", {"team": HUGE, "name": "Mail room"}, f"no team called “{HUGE}”"),
        ("team edit", {"team": "²", "name": "Mail room"}, "no team called “²”"),
        ("team delete", {"team": HUGE}, f"no team called “{HUGE}”"),
    ],
)
async def test_an_id_beyond_what_sqlite_holds_is_unknown(
    team_world: World, name: str, options: dict[str, Any], expected: str
) -> None:
    await command(team_world, team_world.manager, name, expected, **options)


@pytest.mark.parametrize(
    "custom_id",
    [
        f"breakroom:poll:{HUGE}:1",
        f"breakroom:poll:1:{HUGE}",
        f"breakroom:answer:{HUGE}",
        f"breakroom:reflection:report:{HUGE}",
        f"breakroom:team-delete:{HUGE}:1767600000",
        f"breakroom:history:{HUGE}:8:1767600000:2",
        f"breakroom:forget-me:yes:{HUGE}",
    ],
)
async def test_a_button_carrying_an_id_beyond_what_sqlite_holds(
    team_world: World, custom_id: str
) -> None:
    await click_forged(team_world, team_world.manager, custom_id, UNKNOWN_BUTTON)


async def test_a_history_button_from_the_far_future(team_world: World) -> None:
    team = (await team_world.bot.teams.for_guild(team_world.guild.id))[0]
    custom_id = f"breakroom:history:{team.id}:8:{2**62}:2"
    await click_forged(team_world, team_world.members[0], custom_id, UNKNOWN_BUTTON)


@pytest.mark.parametrize(
    ("custom_id", "values"),
    [
        (f"breakroom:answer-form:{HUGE}", {"answer": "A career."}),
        (f"breakroom:reflection:write:{HUGE}", {"body": "Honest words."}),
        (f"breakroom:reflection:reason:{HUGE}", {"reason": "Not kind."}),
    ],
)
async def test_a_form_carrying_an_id_beyond_what_sqlite_holds(
    team_world: World, custom_id: str, values: dict[str, str]
) -> None:
    member = team_world.members[0]
    await refused(
        team_world,
        lambda: team_world.dd.submit_modal(member, custom_id, values, channel=team_world.channel),
        UNKNOWN_FORM,
    )


# --- 2. buttons and forms from a DM -------------------------------------------------------------


async def dm_copy(world: World, member: Member, message: Message) -> Message:
    """The bot's post as it would be in its DM with the member."""
    copy = world.dd.bot_message(
        world.dd.dm_channel(member), embeds=message.embeds, components=message.components
    )
    copy.flags = message.flags  # a layout's copy is a layout too (Components V2)
    return copy


async def test_the_answer_button_from_a_dm(team_world: World) -> None:
    world = team_world
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    alice = world.members[0]
    copy = await dm_copy(world, alice, post)
    custom_id = copy.button("Answer")["custom_id"]
    text = await refused(world, lambda: world.dd.click(alice, copy, custom_id), DM_MESSAGE)
    assert text == DM_MESSAGE


async def test_the_answer_form_sent_from_a_dm(team_world: World) -> None:
    world = team_world
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    post_id = post.button("Answer")["custom_id"].rsplit(":", 1)[1]
    alice = world.members[0]
    await refused(
        world,
        lambda: world.dd.submit_modal(
            alice,
            f"breakroom:answer-form:{post_id}",
            {"answer": "From my DMs."},
            channel=world.dd.dm_channel(alice),
        ),
        DM_MESSAGE,
    )


@pytest.mark.parametrize(
    "custom_id", ["breakroom:reflection:report:12345", "breakroom:poll:1:1", "breakroom:answer:1"]
)
async def test_the_report_and_other_buttons_from_a_dm(team_world: World, custom_id: str) -> None:
    world = team_world
    alice = world.members[0]
    copy = world.dd.bot_message(
        world.dd.dm_channel(alice), content="Reflection", components=button_row(custom_id)
    )
    text = await refused(world, lambda: world.dd.click(alice, copy, custom_id), DM_MESSAGE)
    assert text == DM_MESSAGE


async def test_a_real_report_button_from_a_dm(world: World) -> None:
    """A posted reflection's own Report button, copied into a DM."""
    await setup_team(world)
    await post_a_batch(world, ("One.", "Two.", "Three."))
    posted = post_with(world, "Two.")
    alice = world.members[0]
    copy = await dm_copy(world, alice, posted)
    custom_id = copy.button("Report")["custom_id"]
    text = await refused(world, lambda: world.dd.click(alice, copy, custom_id), DM_MESSAGE)
    assert text == DM_MESSAGE


# --- 3. a thread as a team's channel ------------------------------------------------------------


async def a_thread(world: World) -> Any:
    await slash(world, world.manager, "prompt post")
    await wait_post(world)
    [thread] = world.dd.threads(world.channel)
    await world.dd.settle()
    return thread


@pytest.mark.parametrize("name", ["team create", "team edit"])
async def test_a_thread_as_the_team_channel_is_refused(team_world: World, name: str) -> None:
    world = team_world
    thread = await a_thread(world)
    options = {"name": "Mail room", "channel": thread}
    if name == "team edit":
        options["team"] = "Front desk"
    text = await refused(
        world,
        lambda: world.dd.slash(
            world.manager, name, channel=world.channel, options=options, strict=False
        ),
        THREAD_REFUSED,
    )
    assert "Nothing was changed" in text
    teams = await world.bot.teams.for_guild(world.guild.id)
    assert [(t.name, t.channel_id) for t in teams] == [("Front desk", world.channel.id)]


# --- 4. text that shows nothing -----------------------------------------------------------------


@pytest.mark.parametrize("blank", INVISIBLE)
async def test_a_team_name_that_shows_nothing(world: World, blank: str) -> None:
    await command(
        world,
        world.manager,
        "team create",
        "A team needs a name",
        name=blank,
        channel=world.channel,
    )


@pytest.mark.parametrize("blank", INVISIBLE)
async def test_a_poll_question_or_option_that_shows_nothing(team_world: World, blank: str) -> None:
    world, alice = team_world, team_world.members[0]
    await command(
        world, alice, "poll create", "A poll needs a question", question=blank, options="a|b"
    )
    await command(
        world,
        alice,
        "poll create",
        "Option 2 is empty",
        question="Q?",
        options=f"Job|{blank}|Career",
    )


@pytest.mark.parametrize("blank", INVISIBLE)
async def test_a_prompt_that_shows_nothing(team_world: World, blank: str) -> None:
    await command(
        team_world, team_world.manager, "prompt add", "A prompt needs some text", text=blank
    )


async def test_an_answer_that_shows_nothing(team_world: World) -> None:
    world = team_world
    await slash(world, world.manager, "prompt post")
    post = await wait_post(world)
    for blank in INVISIBLE:
        before = await dump_db(world.bot.db)
        _, receipt = await answer(world, world.members[0], post, blank)
        assert "Your answer is empty" in receipt
        assert await dump_db(world.bot.db) == before


async def test_a_reflection_or_report_that_shows_nothing(team_world: World) -> None:
    world, alice = team_world, team_world.members[0]
    for blank in INVISIBLE:
        ix = await world.dd.slash(alice, "reflect", channel=world.channel)
        form = (await ix.response())["data"]["custom_id"]
        await refused(
            world,
            lambda form=form, blank=blank: world.dd.submit_modal(alice, form, {"body": blank}),
            "Your reflection is empty",
        )
        await refused(
            world,
            lambda blank=blank: world.dd.submit_modal(
                alice, "breakroom:reflection:reason:1", {"reason": blank}, channel=world.channel
            ),
            "Say in a few words what is wrong",
        )


# --- 5. duplicates that only look different -----------------------------------------------------


@pytest.mark.parametrize("twin", ["Ｃａｒｅｅｒ", "career\u200b", "C\u2060areer", " CAREER "])
async def test_team_names_that_read_the_same_are_duplicates(world: World, twin: str) -> None:
    await create_team(world, "Career")
    await command(
        world,
        world.manager,
        "team create",
        "already has a team called",
        name=twin,
        channel=world.channel,
    )
    await create_team(world, "Records", channel=world.dd.add_channel(world.guild, "records"))
    await command(
        world, world.manager, "team edit", "already has a team called", team="Records", name=twin
    )


async def test_a_name_is_stored_as_written(world: World) -> None:
    await create_team(world, "Ｆｒｏｎｔ ｄｅｓｋ")
    [team] = await world.bot.teams.for_guild(world.guild.id)
    assert team.name == "Ｆｒｏｎｔ ｄｅｓｋ"


@pytest.mark.parametrize("twin", ["Ｃａｒｅｅｒ", "career\u200b", "Care\ufeffer"])
async def test_poll_options_that_read_the_same_are_duplicates(team_world: World, twin: str) -> None:
    await command(
        team_world,
        team_world.members[0],
        "poll create",
        "appears twice",
        question="Q?",
        options=f"Job|Career|{twin}",
    )


@pytest.mark.parametrize(
    "twin", ["Ｉｓ ｉｔ ａ ｃａｒｅｅｒ？", "Is it a career?\u200b", "is it a CAREER ?"]
)
async def test_prompts_that_read_the_same_are_duplicates(team_world: World, twin: str) -> None:
    world = team_world
    _, text = await slash(world, world.manager, "prompt add", text="Is it a career?")
    assert "Added prompt" in text
    await command(world, world.manager, "prompt add", "already has this prompt", text=twin)


# --- 6. digits of other scripts -----------------------------------------------------------------


@pytest.mark.parametrize("typed", ["٣٠m", "３０ｍ", "३० minutes", "𝟑𝟎m"])
async def test_a_duration_in_other_digits_means_what_it_says(team_world: World, typed: str) -> None:
    world = team_world
    ix = await world.dd.slash(
        world.members[0],
        "poll create",
        channel=world.channel,
        question="Q?",
        options={"options": "a|b"},
        duration=typed,
    )
    assert "is posted" in await reads(ix)
    row = await world.bot.db.fetchone("SELECT closes_at - created_at FROM polls")
    assert row is not None and row[0] == 30 * 60


@pytest.mark.parametrize("typed", ["٠٩:٣٠", "０９：３０", "०९:३०", "9:٣٠"])
async def test_a_time_in_other_digits_is_stored_in_ascii(team_world: World, typed: str) -> None:
    world = team_world
    _, text = await slash(world, world.manager, "prompt schedule", weekday="monday", time=typed)
    assert "Mondays at 09:30" in text
    stored = await world.bot.db.fetchval("SELECT schedule_time FROM teams")
    assert stored == "09:30"


@pytest.mark.parametrize("typed", ["٩:٣٠ xm", "9：3", "9:3O", "²⁵:00"])
async def test_a_time_that_is_still_not_a_time_is_refused(team_world: World, typed: str) -> None:
    await command(
        team_world,
        team_world.manager,
        "prompt schedule",
        "Write it like 09:30, 9:30 pm, 9am",
        weekday="monday",
        time=typed,
    )


async def test_references_in_other_digits_find_the_same_thing(team_world: World) -> None:
    world = team_world
    ix = await world.dd.slash(
        world.members[0],
        "poll create",
        channel=world.channel,
        question="Q?",
        options={"options": "a|b"},
    )
    await reads(ix)
    poll_id = await world.bot.db.fetchval("SELECT id FROM polls")
    assert poll_id == 1
    for ref in ("١", "#１", "१"):
        ix = await world.dd.slash(world.members[0], "poll results", channel=world.channel, poll=ref)
        assert "Q?" in await reads(ix)
    _, text = await slash(world, world.manager, "prompt remove", prompt="#٣")
    assert "Retired prompt **#3**" in text
