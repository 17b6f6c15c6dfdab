"""The Discord double itself, driven by a minimal real discord.py bot defined here."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest
import pytest_asyncio
import yarl
from discord import app_commands
from discord.ext import commands

from tests.double import Channel, CommandError, DiscordDouble, Guild, Member, Message, Role

# ----------------------------------------------------------------------------- the minimal bot


class CounterView(discord.ui.View):
    """A persistent view: one button that counts clicks by editing its own message."""

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__(timeout=None)
        self.state = state

    @discord.ui.button(label="Count", custom_id="dd:count", style=discord.ButtonStyle.primary)
    async def count(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.state["clicks"] = self.state.get("clicks", 0) + 1
        await interaction.response.edit_message(content=f"count {self.state['clicks']}", view=self)

    @discord.ui.select(
        custom_id="dd:pick",
        options=[
            discord.SelectOption(label="Red", value="red"),
            discord.SelectOption(label="Blue", value="blue"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        await interaction.response.send_message(f"picked {select.values[0]}", ephemeral=True)

    @discord.ui.button(label="Feedback", custom_id="dd:feedback")
    async def feedback(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.send_modal(FeedbackModal())


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Your feedback", custom_id="fb:text", max_length=200
    )
    mood: discord.ui.Label[Any] = discord.ui.Label(
        text="Mood", component=discord.ui.TextInput(custom_id="fb:mood", required=False)
    )

    def __init__(self) -> None:
        super().__init__(custom_id="fb:modal")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        mood = self.mood.component
        assert isinstance(mood, discord.ui.TextInput)
        await interaction.response.send_message(
            f"thanks: {self.text.value} / {mood.value or '-'}", ephemeral=True
        )


class V2View(discord.ui.LayoutView):
    container: discord.ui.Container[Any] = discord.ui.Container(
        discord.ui.TextDisplay("Components v2"),
        discord.ui.ActionRow(discord.ui.Button(label="Go", custom_id="dd:v2")),
    )

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        await interaction.response.send_message("v2 clicked", ephemeral=True)
        return False


def make_bot(state: dict[str, Any]) -> commands.Bot:
    bot = commands.Bot(
        command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05
    )

    @bot.event
    async def on_ready() -> None:
        state["ready"] = state.get("ready", 0) + 1

    @bot.event
    async def on_message(message: discord.Message) -> None:
        state.setdefault("seen", []).append((message.author.id, message.content))

    @bot.tree.command(name="ping", description="Answers pong, only to you")
    async def ping(interaction: discord.Interaction) -> None:
        if interaction.guild is None:
            await interaction.response.send_message("works inside a server")
            return
        await interaction.response.send_message("pong", ephemeral=True)

    group = app_commands.Group(name="g", description="A group")

    @group.command(name="sub", description="Echo the options")
    async def sub(
        interaction: discord.Interaction,
        text: str,
        count: int,
        flag: bool,
        where: discord.TextChannel,
        who: discord.Member | None = None,
        role: discord.Role | None = None,
        ratio: float | None = None,
    ) -> None:
        parts = [
            f"text={text}",
            f"count={count!r}",
            f"flag={flag!r}",
            f"where={where.id}:{where.name}",
            f"who={who.id}:{who.display_name}" if who else "who=-",
            f"role={role.id}:{role.name}" if role else "role=-",
            f"ratio={ratio!r}",
        ]
        await interaction.response.send_message(" ".join(parts))
        await interaction.followup.send("follow-up", ephemeral=True)

    bot.tree.add_command(group)

    @bot.tree.command(name="panel", description="Post the counter panel")
    async def panel(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("count 0", view=CounterView(state))

    @bot.tree.command(name="later", description="Defer, then edit")
    async def later(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.edit_original_response(content="done later")
        extra = await interaction.followup.send("extra", wait=True)
        await extra.edit(content="extra, edited")

    @bot.tree.command(name="upload", description="Echo a file, reversed")
    async def upload(interaction: discord.Interaction, file: discord.Attachment) -> None:
        data = await file.read()
        reversed_file = discord.File(io.BytesIO(data[::-1]), "reversed.txt")
        await interaction.response.send_message(
            f"{file.filename}: {data.decode()}", file=reversed_file
        )

    @bot.tree.command(name="v2", description="A components v2 message")
    async def v2(interaction: discord.Interaction) -> None:
        view = V2View()
        await interaction.response.send_message(view=view)

    @bot.tree.command(name="badmodal", description="A modal with a title too long")
    async def badmodal(interaction: discord.Interaction) -> None:
        modal = FeedbackModal()
        modal.title = "t" * 46
        try:
            await interaction.response.send_modal(modal)
        except discord.HTTPException as exc:
            assert isinstance(interaction.channel, discord.abc.Messageable)
            await interaction.channel.send(f"modal refused {exc.status} {exc.code}")

    @bot.tree.command(name="pick", description="Autocomplete a fruit")
    async def pick(interaction: discord.Interaction, fruit: str) -> None:
        await interaction.response.send_message(f"fruit {fruit}")

    @pick.autocomplete("fruit")
    async def pick_fruit(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        fruits = ["apple", "apricot", "banana", "cherry"]
        return [
            app_commands.Choice(name=f.title(), value=f) for f in fruits if f.startswith(current)
        ]

    @bot.tree.command(name="slow", description="Answers too late")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.4)
        try:
            await interaction.response.send_message("too late")
        except discord.NotFound as exc:
            assert isinstance(interaction.channel, discord.abc.Messageable)
            await interaction.channel.send(f"late {exc.status} {exc.code}")

    @bot.tree.command(name="twice", description="Answers twice")
    async def twice(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("first")
        interaction.response._response_type = None  # get past discord.py's own guard
        try:
            await interaction.response.send_message("second")
        except discord.HTTPException as exc:
            assert isinstance(interaction.channel, discord.abc.Messageable)
            await interaction.channel.send(f"second {exc.status} {exc.code}")

    async def setup_hook() -> None:
        bot.add_view(CounterView(state))

    async def before_identify_hook(shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s before every re-IDENTIFY; tests don't need that."""

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    bot.before_identify_hook = before_identify_hook  # type: ignore[method-assign]
    return bot


# ----------------------------------------------------------------------------- harness


@dataclass
class Harness:
    dd: DiscordDouble
    bot: commands.Bot
    guild: Guild
    channel: Channel
    alice: Member
    boss: Member
    role: Role
    state: dict[str, Any] = field(default_factory=dict)

    def text_channel(self, channel: Channel | None = None) -> discord.TextChannel:
        got = self.bot.get_channel((channel or self.channel).id)
        assert isinstance(got, discord.TextChannel)
        return got


async def start_bot(
    dd: DiscordDouble, state: dict[str, Any]
) -> tuple[commands.Bot, asyncio.Task[None]]:
    bot = make_bot(state)
    await bot.login(dd.token)
    task = asyncio.create_task(bot.connect(reconnect=True))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 10)
    except BaseException:
        await bot.close()
        task.cancel()
        raise
    return bot, task


async def stop_bot(bot: commands.Bot, task: asyncio.Task[None]) -> None:
    await bot.close()
    try:
        await asyncio.wait_for(task, 5)
    except (asyncio.CancelledError, TimeoutError):
        task.cancel()


@pytest_asyncio.fixture
async def harness() -> AsyncIterator[Harness]:
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    async with DiscordDouble() as dd:
        discord.http.Route.BASE = dd.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(dd.gateway_url)
        try:
            guild = dd.add_guild("Office")
            channel = dd.add_channel(guild, "support")
            role = dd.add_role(guild, "Records")
            alice = dd.add_member(guild, "alice", roles=[role], display_name="Alice A.")
            boss = dd.add_member(guild, "boss", manager=True)
            state: dict[str, Any] = {}
            bot, task = await start_bot(dd, state)
            try:
                await bot.tree.sync()
                yield Harness(dd, bot, guild, channel, alice, boss, role, state)
            finally:
                await stop_bot(bot, task)
            assert not dd.unknown_routes, dd.unknown_routes
        finally:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


# ----------------------------------------------------------------------------- tests


@pytest.mark.asyncio
async def test_login_ready_and_on_ready(harness: Harness) -> None:
    dd, bot = harness.dd, harness.bot
    assert harness.state["ready"] == 1
    assert dd.identify_count == 1
    assert bot.user is not None and bot.user.id == dd.bot_user_id
    assert bot.application_id == dd.application_id
    guild = bot.get_guild(harness.guild.id)
    assert guild is not None and guild.name == "Office"
    assert guild.me is not None and guild.me.id == dd.bot_user_id
    assert harness.text_channel().name == "support"
    assert [c.path for c in dd.calls[:2]] == ["/users/@me", "/oauth2/applications/@me"]


@pytest.mark.asyncio
async def test_gateway_compression_and_message_events(harness: Harness) -> None:
    dd, h = harness.dd, harness
    expected = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
    assert dd.gateway.compressions == [expected]
    await dd.say(h.alice, h.channel, "hello bot")
    await h.text_channel().send("from the bot")
    await dd.settle()
    # no MESSAGE_CONTENT intent: other people's text is blanked, like Discord does
    assert h.state["seen"] == [(h.alice.id, ""), (dd.bot_user_id, "from the bot")]


@pytest.mark.asyncio
async def test_waits_fail_with_a_clear_message(harness: Harness) -> None:
    dd = harness.dd
    with pytest.raises(AssertionError, match=r"(?s)timed out after 0.05s waiting for nothing.*GET"):
        await dd.wait_until(lambda: False, timeout=0.05, what="nothing")
    with pytest.raises(AssertionError, match="messages in that channel"):
        await dd.wait_for_message(harness.channel, lambda m: False, timeout=0.05)
    # a lookup error means "not yet"; the timeout message shows it
    with pytest.raises(AssertionError, match="last error: IndexError"):
        await dd.wait_until(lambda: dd.messages(harness.channel)[-1], timeout=0.05)


@pytest.mark.asyncio
async def test_server_error_is_retried(harness: Harness) -> None:
    dd, h = harness.dd, harness
    rule = dd.fail_next("POST", r"/channels/\d+/messages", status=500)
    pending = asyncio.ensure_future(h.text_channel().send("after a 500"))
    first = await dd.wait_until(lambda: dd.messages(h.channel)[-1])  # waits through the retry
    assert first.content == "after a 500" and (await pending).id == first.id
    assert rule.hits == 1 and len(dd.messages(h.channel)) == 1


@pytest.mark.asyncio
async def test_wrong_token_is_refused() -> None:
    saved = discord.http.Route.BASE
    async with DiscordDouble() as dd:
        discord.http.Route.BASE = dd.api_base
        try:
            client = discord.Client(intents=discord.Intents.none())
            with pytest.raises(discord.LoginFailure):
                await client.login("not-the-token")
            await client.close()
        finally:
            discord.http.Route.BASE = saved
        assert dd.calls[0].status == 401


@pytest.mark.asyncio
async def test_sync_echoes_commands_with_ids(harness: Harness) -> None:
    dd = harness.dd
    assert dd.sync_count == 1
    names = sorted(c["name"] for c in dd.synced_commands)
    assert names == [
        "badmodal",
        "g",
        "later",
        "panel",
        "pick",
        "ping",
        "slow",
        "twice",
        "upload",
        "v2",
    ]
    fetched = await harness.bot.tree.fetch_commands()
    by_name = {c.name: c for c in fetched}
    assert {str(c.id) for c in fetched} == {c["id"] for c in dd.synced_commands}
    sub = by_name["g"].options[0]
    assert isinstance(sub, app_commands.AppCommandGroup) and sub.name == "sub"
    again = await harness.bot.tree.sync()
    assert dd.sync_count == 2
    assert {c.name: c.id for c in again} == {c.name: c.id for c in fetched}  # ids are stable


@pytest.mark.asyncio
async def test_guild_sync_is_used_first(harness: Harness) -> None:
    dd, h = harness.dd, harness
    guild = discord.Object(h.guild.id)
    h.bot.tree.copy_global_to(guild=guild)
    await h.bot.tree.sync(guild=guild)
    assert dd.sync_count == 2 and all(c["guild_id"] == str(h.guild.id) for c in dd.synced_commands)
    ix = await dd.slash(h.alice, "ping")
    assert ix.payload["data"]["guild_id"] == str(h.guild.id)
    assert (await ix.response())["data"]["content"] == "pong"


@pytest.mark.asyncio
async def test_invalid_command_sync_is_refused(harness: Harness) -> None:
    bad = [{"name": "Bad Name", "description": "x", "type": 1}]
    with pytest.raises(discord.HTTPException) as info:
        await harness.bot.http.bulk_upsert_global_commands(harness.dd.application_id, bad)
    assert info.value.status == 400 and info.value.code == 50035


@pytest.mark.asyncio
async def test_slash_options_of_every_type_are_resolved(harness: Harness) -> None:
    dd, h = harness.dd, harness
    ix = await dd.slash(
        h.alice,
        "g sub",
        channel=h.channel,
        text="hi there",
        count=3,
        flag=True,
        where=h.channel,
        who=h.boss,
        role=h.role,
        ratio=0.5,
    )
    response = await ix.response()
    assert response["type"] == 4
    content = response["data"]["content"]
    assert content == (
        f"text=hi there count=3 flag=True where={h.channel.id}:support who={h.boss.id}:boss "
        f"role={h.role.id}:Records ratio=0.5"
    )
    assert not ix.ephemeral
    assert ix.original is not None and ix.original.content == content
    assert "guild_id" not in ix.payload["data"]  # a global command
    follow = await ix.wait_followup()
    assert follow.content == "follow-up" and follow.ephemeral
    assert dd.messages(h.channel) == [ix.original]
    assert dd.messages(h.channel, include_ephemeral=True) == [ix.original, follow]
    assert ix.latency is not None and ix.latency >= 0


@pytest.mark.asyncio
async def test_slash_refuses_what_discord_would_not_send(harness: Harness) -> None:
    dd, h = harness.dd, harness
    with pytest.raises(CommandError, match="no option"):
        await dd.slash(h.alice, "g sub", text="x", count=1, flag=False, where=h.channel, nope=1)
    with pytest.raises(CommandError, match="required"):
        await dd.slash(h.alice, "g sub", text="x")
    with pytest.raises(CommandError, match="not a synced"):
        await dd.slash(h.alice, "unknown")
    with pytest.raises(CommandError, match="group"):
        await dd.slash(h.alice, "g")


@pytest.mark.asyncio
async def test_ephemeral_response_and_deferred_edit(harness: Harness) -> None:
    dd, h = harness.dd, harness
    ix = await dd.slash(h.alice, "ping")
    assert (await ix.response())["data"]["content"] == "pong"
    assert ix.ephemeral
    assert ix.original is not None and ix.original.ephemeral
    assert dd.messages(h.channel) == []

    later = await dd.slash(h.alice, "later")
    assert (await later.response())["type"] == 5
    assert later.ephemeral
    original = await later.wait_original()
    assert original.content == "done later" and dd.edits(original) == 1
    extra = await later.wait_followup()
    await dd.wait_until(lambda: dd.edits(extra) == 1)
    assert extra.content == "extra, edited" and not extra.ephemeral
    assert dd.messages(h.channel) == [extra]


@pytest.mark.asyncio
async def test_attachment_option_and_file_response(harness: Harness) -> None:
    dd, h = harness.dd, harness
    ix = await dd.slash(h.alice, "upload", file=("in.txt", b"abc"))
    assert (await ix.response())["data"]["content"] == "in.txt: abc"
    assert ix.original is not None and ix.original.attachments == [("reversed.txt", b"cba")]
    assert dd.calls[-1].files == [("reversed.txt", b"cba")]


@pytest.mark.asyncio
async def test_components_v2_message(harness: Harness) -> None:
    dd, h = harness.dd, harness
    ix = await dd.slash(h.alice, "v2")
    await ix.response()
    msg = ix.original
    assert msg is not None and msg.components_v2 and "Components v2" in msg.text
    assert [b["custom_id"] for b in msg.buttons()] == ["dd:v2"]
    click = await dd.click(h.alice, msg, "dd:v2")
    assert (await click.response())["data"]["content"] == "v2 clicked"


@pytest.mark.asyncio
async def test_modal_limits(harness: Harness) -> None:
    dd, h = harness.dd, harness
    with dd.expect_contract_violations() as violations:  # a title over 45 characters
        ix = await dd.slash(h.alice, "badmodal")
        refused = await dd.wait_for_message(h.channel, lambda m: m.content.startswith("modal"))
    assert refused.content == "modal refused 400 50035"
    assert [v.dotted for v in violations] == ["data.title"]
    assert ix.modal is None and ix.rejected[0]["status"] == 400


@pytest.mark.asyncio
async def test_button_click_updates_the_message(harness: Harness) -> None:
    dd, h = harness.dd, harness
    ix = await dd.slash(h.alice, "panel")
    await ix.response()
    panel = ix.original
    assert panel is not None and panel.button("Count")["custom_id"] == "dd:count"
    click = await dd.click(h.alice, panel, "dd:count")
    assert (await click.response())["type"] == 7
    assert panel.content == "count 1" and dd.edits(panel) == 1
    assert click.original is panel
    again = await dd.click(h.boss, panel, "dd:count")
    await again.response()
    assert (await dd.wait_for_message(h.channel, lambda m: m.content == "count 2")) is panel
    with pytest.raises(CommandError):
        await dd.click(h.alice, panel, "dd:missing")


@pytest.mark.asyncio
async def test_select_menu(harness: Harness) -> None:
    dd, h = harness.dd, harness
    ix = await dd.slash(h.alice, "panel")
    await ix.response()
    assert ix.original is not None
    chosen = await dd.select(h.alice, ix.original, "dd:pick", values=["blue"])
    assert (await chosen.response())["data"]["content"] == "picked blue"
    with pytest.raises(CommandError):
        await dd.select(h.alice, ix.original, "dd:pick", values=["green"])


@pytest.mark.asyncio
async def test_modal_roundtrip(harness: Harness) -> None:
    dd, h = harness.dd, harness
    ix = await dd.slash(h.alice, "panel")
    await ix.response()
    assert ix.original is not None
    opened = await dd.click(h.alice, ix.original, "dd:feedback")
    assert (await opened.response())["type"] == 9
    assert opened.modal is not None and opened.modal["custom_id"] == "fb:modal"
    submitted = await dd.submit_modal(
        h.alice, "fb:modal", {"fb:text": "more coffee", "fb:mood": "good"}
    )
    assert (await submitted.response())["data"]["content"] == "thanks: more coffee / good"
    assert submitted.ephemeral
    assert submitted.payload["data"]["components"][1]["type"] == 18  # mirrors the label layout
    with pytest.raises(CommandError, match="required"):
        await dd.submit_modal(h.alice, "fb:modal", {"fb:mood": "meh"})
    with pytest.raises(CommandError, match="no field"):
        await dd.submit_modal(h.alice, "fb:modal", {"fb:text": "x", "fb:other": "y"})


@pytest.mark.asyncio
async def test_autocomplete_choices(harness: Harness) -> None:
    dd, h = harness.dd, harness
    choices = await dd.autocomplete(h.alice, "pick", focused="fruit", fruit="ap")
    assert choices == [{"name": "Apple", "value": "apple"}, {"name": "Apricot", "value": "apricot"}]
    ix = await dd.slash(h.alice, "pick", fruit="cherry")
    assert (await ix.response())["data"]["content"] == "fruit cherry"


@pytest.mark.asyncio
async def test_late_response_is_refused(harness: Harness) -> None:
    dd, h = harness.dd, harness
    dd.response_deadline = 0.2
    ix = await dd.slash(h.alice, "slow")
    msg = await dd.wait_for_message(h.channel, lambda m: m.content.startswith("late"))
    assert msg.content == "late 404 10062"
    assert not ix.acknowledged and ix.rejected[0]["code"] == 10062


@pytest.mark.asyncio
async def test_second_response_is_refused(harness: Harness) -> None:
    dd, h = harness.dd, harness
    ix = await dd.slash(h.alice, "twice")
    msg = await dd.wait_for_message(h.channel, lambda m: m.content.startswith("second"))
    assert msg.content == "second 400 40060"
    assert (await ix.response())["data"]["content"] == "first"


@pytest.mark.asyncio
async def test_limits_are_enforced(harness: Harness) -> None:
    dd, h = harness.dd, harness
    channel = h.text_channel()
    with pytest.raises(discord.HTTPException) as info:
        await channel.send("x" * 2001)
    assert info.value.status == 400 and info.value.code == 50035
    with dd.expect_contract_violations(), pytest.raises(discord.HTTPException) as info:
        await channel.send(embed=discord.Embed(title="t" * 257))
    assert info.value.code == 50035 and "embeds.0.title" in str(info.value)
    ok = await channel.send("x" * 2000)
    assert dd.messages(h.channel)[-1].id == ok.id
    assert [c.status for c in dd.calls if c.method == "POST"][-3:] == [400, 400, 200]


@pytest.mark.asyncio
async def test_rate_limit_is_retried_once(harness: Harness) -> None:
    dd, h = harness.dd, harness
    dd.fail_next("POST", r"/channels/\d+/messages", status=429, times=1, retry_after=0.05)
    sent = await h.text_channel().send("after a 429")
    assert [m.content for m in dd.messages(h.channel)] == ["after a 429"]
    posts = [c.status for c in dd.calls if c.method == "POST" and c.path.endswith("/messages")]
    assert posts == [429, 200]
    assert dd.messages(h.channel)[0].id == sent.id


@pytest.mark.asyncio
async def test_permissions_and_unknown_channels(harness: Harness) -> None:
    dd, h = harness.dd, harness
    closed = dd.add_channel(h.guild, "announcements", bot_can_send=False)
    await dd.settle()  # the bot has read CHANNEL_CREATE
    with pytest.raises(discord.Forbidden) as info:
        await h.text_channel(closed).send("hi")
    assert info.value.code == 50013
    gone = h.text_channel()
    dd.delete_channel(h.channel)
    with pytest.raises(discord.NotFound) as missing:
        await gone.send("hi")
    assert missing.value.code == 10003


@pytest.mark.asyncio
async def test_threads_and_uploads(harness: Harness) -> None:
    dd, h = harness.dd, harness
    message = await h.text_channel().send(
        "start", file=discord.File(io.BytesIO(b"hello"), "notes.txt")
    )
    stored = dd.message(message.id)
    assert stored.attachments == [("notes.txt", b"hello")]
    assert await message.attachments[0].read() == b"hello"
    edited = await message.edit(
        content="start, edited",
        attachments=[message.attachments[0], discord.File(io.BytesIO(b"more"), "more.txt")],
    )
    assert stored.attachments == [("notes.txt", b"hello"), ("more.txt", b"more")]
    assert [a.filename for a in edited.attachments] == ["notes.txt", "more.txt"]
    assert dd.edits(stored) == 1
    thread = await message.create_thread(name="discussion")
    [made] = dd.threads(h.channel)
    assert made.id == thread.id == message.id and made.parent_id == h.channel.id
    await thread.send("inside")
    assert [m.content for m in dd.messages(made)] == ["inside"]
    again = await h.text_channel().send("again")
    with dd.expect_contract_violations(), pytest.raises(discord.HTTPException) as info:
        await again.create_thread(name="n" * 101)
    assert info.value.code == 50035


@pytest.mark.asyncio
async def test_message_component_limits(harness: Harness) -> None:
    h = harness
    route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=h.channel.id)

    def button(custom_id: str, label: str = "b") -> dict[str, Any]:
        return {"type": 2, "style": 1, "label": label, "custom_id": custom_id}

    bad_bodies = [
        {"components": [{"type": 1, "components": [button("a"), button("a")]}]},
        {"components": [{"type": 1, "components": [button(f"r{i}")]} for i in range(6)]},
        {"components": [{"type": 1, "components": [button(f"c{i}") for i in range(6)]}]},
        {"components": [{"type": 1, "components": [button("x", "l" * 81)]}]},
        {"components": [{"type": 1, "components": [button("y" * 101)]}]},
        {"embeds": [{"description": "d" * 4097}]},
        {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
        {"embeds": [{"title": "t"}] * 11},
        {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]},
        {},
    ]
    with harness.dd.expect_contract_violations():  # the spec refuses most of them first
        for body in bad_bodies:
            with pytest.raises(discord.HTTPException) as info:
                await h.bot.http.request(route, json=body)
            assert info.value.status == 400 and info.value.code in (50035, 50006), body
    assert harness.dd.messages(h.channel) == []


@pytest.mark.asyncio
async def test_replies_keep_their_message_reference(harness: Harness) -> None:
    """A reply keeps `message_reference` as Discord returns it (MessageReferenceResponse: type,
    channel_id, message_id, guild_id; no fail_if_not_exists) and carries the message it replies
    to; one to a missing message fails, or with fail_if_not_exists false goes out plain; a body
    the spec (MessageReferenceRequest) refuses is a 400."""
    dd, h = harness.dd, harness
    channel = h.text_channel()
    first = await channel.send("the question")
    reply = await channel.send(
        "the answer",
        reference=discord.MessageReference(
            message_id=first.id, channel_id=channel.id, fail_if_not_exists=False
        ),
    )
    stored = dd.message(reply.id)
    assert stored.type == 19
    assert stored.message_reference == {
        "type": 0,
        "channel_id": str(channel.id),
        "message_id": str(first.id),
        "guild_id": str(h.guild.id),
    }
    assert reply.reference is not None and reply.reference.message_id == first.id
    assert isinstance(reply.reference.resolved, discord.Message)
    assert reply.reference.resolved.content == "the question"

    other = dd.add_channel(h.guild, "elsewhere")
    await dd.settle()
    elsewhere = await h.text_channel(other).send("in another channel")
    for missing in (first.id + 10_000, elsewhere.id):
        with pytest.raises(discord.HTTPException) as info:
            await channel.send(
                "fails",
                reference=discord.MessageReference(message_id=missing, channel_id=channel.id),
            )
        assert info.value.code == 50035 and "Unknown message" in str(info.value), missing
    await first.delete()
    plain = await channel.send(
        "after the question went",
        reference=discord.MessageReference(
            message_id=first.id, channel_id=channel.id, fail_if_not_exists=False
        ),
    )
    assert dd.message(plain.id).message_reference is None and dd.message(plain.id).type == 0
    assert plain.reference is None

    route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=h.channel.id)
    bad_references: list[Any] = [
        "123",
        {},
        {"message_id": "12a"},
        {"message_id": reply.id, "channel_id": "-1"},
        {"message_id": reply.id, "fail_if_not_exists": "no"},
        {"message_id": reply.id, "type": 7},
    ]
    for ref in bad_references:
        with dd.expect_contract_violations(), pytest.raises(discord.HTTPException) as info:
            await h.bot.http.request(route, json={"content": "x", "message_reference": ref})
        assert info.value.status == 400 and info.value.code == 50035, ref
        assert "message_reference" in str(info.value), ref


@pytest.mark.asyncio
async def test_remove_guild(harness: Harness) -> None:
    dd, h = harness.dd, harness
    channel = h.text_channel()
    dd.remove_guild(h.guild)
    await dd.settle()
    assert h.bot.get_guild(h.guild.id) is None
    with pytest.raises(discord.NotFound) as info:
        await channel.send("anyone?")
    assert info.value.code == 10003


@pytest.mark.asyncio
async def test_drop_gateway_resumes(harness: Harness) -> None:
    dd, h = harness.dd, harness
    await dd.drop_gateway()
    assert dd.resume_count == 1 and dd.identify_count == 1
    ix = await dd.slash(h.alice, "ping")
    assert (await ix.response())["data"]["content"] == "pong"
    # events produced while the bot is away are replayed on RESUME
    await dd.drop_gateway(wait=False)
    extra = dd.add_channel(h.guild, "while-away")
    await dd.wait_until(lambda: dd.resume_count == 2 and dd.gateway.live_session())
    await dd.settle()
    assert h.bot.get_channel(extra.id) is not None


@pytest.mark.asyncio
async def test_invalidate_session_reidentifies(harness: Harness) -> None:
    dd, h = harness.dd, harness
    await dd.invalidate_session()
    assert dd.identify_count == 2
    ix = await dd.slash(h.alice, "ping")
    assert (await ix.response())["data"]["content"] == "pong"


@pytest.mark.asyncio
async def test_dm_command_and_unknown_route(harness: Harness) -> None:
    dd, h = harness.dd, harness
    ix = await dd.slash_dm(h.alice, "ping")
    assert (await ix.response())["data"]["content"] == "works inside a server"
    assert "guild_id" not in ix.payload and ix.payload["context"] == 1
    with pytest.raises(discord.NotFound):
        await h.bot.http.request(discord.http.Route("GET", "/nowhere"))
    assert dd.unknown_routes == [("GET", "/nowhere")]
    dd.unknown_routes.clear()


@pytest.mark.asyncio
async def test_many_concurrent_clicks(harness: Harness) -> None:
    dd, h = harness.dd, harness
    ix = await dd.slash(h.alice, "panel")
    await ix.response()
    panel: Message | None = ix.original
    assert panel is not None
    clicks = await asyncio.gather(*(dd.click(h.alice, panel, "dd:count") for _ in range(60)))
    responses = await asyncio.gather(*(c.response() for c in clicks))
    assert all(r["type"] == 7 for r in responses)
    assert dd.edits(panel) == 60 and panel.content == "count 60"
    assert all(c.latency is not None for c in clicks)
