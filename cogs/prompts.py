"""`/prompt`: the prompt bank, posting (now and weekly), and answering in the prompt's thread.

Posting a prompt: a message in the team channel with an **Answer** button (a DynamicItem carrying
the post id, so it works after a restart) and a public thread made from it. An answer is kept in
the database first, then posted (or edited) in the thread under the member's display name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Breakroom
from bot.errors import NotAllowed, NotFound, UserError
from bot.prompt_answers import (
    MAX_ANSWER_LENGTH,
    Answer,
    AnswerDelivery,
    AnswerFailure,
    AnswerForm,
    SavedAnswer,
)
from bot.prompt_posts import Post
from bot.prompt_weekly import Work
from bot.prompts import Prompts
from bot.schedule import DEFAULT_TIME, GRACE, WEEKDAYS, describe, next_slots, parse_weekday
from bot.teams import Team
from bot.text import parse_id as read_id
from cogs._shared import (
    MAX_CHOICES,
    FromCustomId,
    Interaction,
    choice_name,
    guarded,
    manager_only,
    resolve_team,
    routed_by_custom_id,
    team_autocomplete,
)
from cogs.teams import EMBED_COLOUR, postable_channel

log = logging.getLogger(__name__)

THREAD_ARCHIVE_MINUTES: Literal[10080] = (
    10080  # a week: the thread stays open until the next prompt
)
THREAD_NAME_LIMIT = 100
PAGE_BUDGET = 3500  # characters of answers per page of /prompt answers (embed limit 4096)
THREAD_ALREADY_CREATED = 160004  # Discord's code: a thread was already made from this message
#: Messages of the thread searched for an answer an earlier attempt posted without recording it
#: (one request; such an attempt was minutes ago).
ANSWER_LOOKBACK = 100


def parse_id(value: str, what: str) -> int:
    """An id from an autocomplete value (`12`, or `#12` typed by hand: `bot.text.parse_id`)."""
    found = read_id(value)
    if found is None:
        raise NotFound(
            f"“{value.strip()[:40]}” is not a {what} I know. "
            f"Pick a {what} from the list that appears as you type (it fills in its id)."
        )
    return found


def local_time(moment: datetime, team: Team) -> str:
    return moment.astimezone(team.zone).strftime("%a %d %b %Y, %H:%M %Z")


def thread_name(post: Post) -> str:
    return choice_name(post.prompt_text)[: THREAD_NAME_LIMIT - 1]


def post_embed(post: Post, team: Team) -> discord.Embed:
    embed = discord.Embed(
        title="Discussion prompt", description=post.prompt_text, colour=EMBED_COLOUR
    )
    if post.repeat_of_posted_at is not None:
        embed.add_field(
            name="Asked before",
            value=f"The team discussed this on "
            f"{discord.utils.format_dt(post.repeat_of_posted_at, 'D')}. Has your answer changed?",
            inline=False,
        )
    embed.set_footer(
        text=f"{team.name} · prompt #{post.prompt_id} · press Answer, or talk it over in the thread"
    )
    return embed


def answer_embed(answer: Answer) -> discord.Embed:
    embed = discord.Embed(description=answer.text, colour=EMBED_COLOUR)
    embed.set_author(name=answer.display_name)
    if answer.edited_at is not None:
        embed.set_footer(text="edited")
    return embed


def shows(message: discord.Message, embed: discord.Embed) -> bool:
    """Does the message show this answer (name, text, "edited")?"""
    if not message.embeds:
        return False
    have = message.embeds[0]
    return (have.author.name, have.description, have.footer.text) == (
        embed.author.name,
        embed.description,
        embed.footer.text,
    )


@dataclass(frozen=True, slots=True)
class Published:
    """How an attempt at an answer's thread message went: 'posted' or 'edited' (`url`: the
    message), or why not (an `AnswerFailure`; `detail`: Discord's reason)."""

    outcome: Literal["posted", "edited"] | AnswerFailure
    url: str = ""
    detail: str = ""


def answer_failure(exc: BaseException) -> AnswerFailure:
    """What a failed thread post means for the answer: retried soon, retried for managers to fix
    a permission, or not worth retrying."""
    if isinstance(exc, discord.Forbidden):
        return "forbidden"
    if isinstance(exc, discord.NotFound):
        return "gone"
    if isinstance(exc, discord.HTTPException) and exc.status < 500 and exc.status != 429:
        return "refused"
    return "transient"  # 5xx, 429 beyond discord.py's retries, RateLimited, network, timeout


def answer_receipt(saved: SavedAnswer, published: Published) -> str:
    """The member's follow-up: the answer is saved, and the truth about the thread."""
    done = (
        "Updated your answer: the new text is saved"
        if saved.replaced
        else "Thanks — your answer is saved"
    )
    listed = "Until then it shows in `/prompt answers`."
    match published.outcome:
        case "posted":
            return f"{done}. It is posted in the thread: {published.url}"
        case "edited":
            return f"{done}. Your post in the thread is updated: {published.url}"
        case "transient":
            later = (
                "the thread still shows your earlier answer; Breakroom will update it"
                if saved.answer.message_id is not None
                else "it isn't in the thread yet; Breakroom will post it there"
            )
            return (
                f"{done}. Discord is having trouble right now, so {later} shortly, by itself: "
                f"nothing more to do on your side."
            )
        case "forbidden":
            return (
                f"{done}, but Discord doesn't let Breakroom post in the prompt's thread: a "
                f"permission is missing in <#{saved.post.channel_id}>. A manager needs to fix "
                f"Breakroom's permissions there (Send Messages in Threads, Create Public Threads); "
                f"Breakroom tries again every hour for a day. {listed}"
            )
        case "gone":
            return (
                f"{done}, but the prompt's post or its thread was deleted, so it can't be posted "
                f"there. It shows in `/prompt answers`."
            )
        case _:
            return (
                f"{done}, but Discord refused to post it in the thread ({published.detail}). "
                f"It shows in `/prompt answers`."
            )


class AnswerButton(
    FromCustomId,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"breakroom:answer:(?P<post>[0-9]+)",
):
    """Opens the answer modal for one post; the post id is in the custom_id."""

    def __init__(self, post_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Answer",
                emoji="✍️",
                style=discord.ButtonStyle.primary,
                custom_id=f"breakroom:answer:{post_id}",
            )
        )
        self.post_id = post_id

    @guarded
    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        await open_answer_modal(interaction, self.post_id)


def answer_view(post_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AnswerButton(post_id))
    return view


ANSWER_FORM = r"breakroom:answer-form:(?P<post>[0-9]+)"


def answer_modal(form: AnswerForm) -> discord.ui.Modal:
    """The answer form, answered by `PromptsCog.submit_answer` from its custom_id, so a form left
    open across a restart still saves."""
    modal = discord.ui.Modal(title="Your answer", custom_id=f"breakroom:answer-form:{form.post.id}")
    intro = f"**{form.post.prompt_text}**"
    if form.previous is not None and form.current is None:
        when = discord.utils.format_dt(form.previous.answered_at, "D")
        intro += f"\n\nLast time this was asked ({when}) you wrote:\n>>> {form.previous.text}"
    modal.add_item(discord.ui.TextDisplay(intro))
    answer: discord.ui.TextInput[Any] = discord.ui.TextInput(
        custom_id="answer",
        style=discord.TextStyle.paragraph,
        max_length=MAX_ANSWER_LENGTH,
        default=form.current.text if form.current else None,
    )
    label = "Change your answer" if form.current else "Your answer"
    modal.add_item(
        discord.ui.Label(
            text=label,
            description="Up to 1000 characters; posted in the thread under your name.",
            component=answer,
        )
    )
    return routed_by_custom_id(modal)


async def open_answer_modal(interaction: Interaction, post_id: int) -> None:
    assert interaction.guild_id is not None
    cog = prompts_cog(interaction.client)
    form = await cog.prompts.answers.answer_form(interaction.guild_id, post_id, interaction.user.id)
    await interaction.response.send_modal(answer_modal(form))


def prompts_cog(bot: Breakroom) -> PromptsCog:
    cog = bot.get_cog(PromptsCog.__cog_name__)
    if not isinstance(cog, PromptsCog):
        raise NotFound("Prompts are unavailable for a moment; try again in a minute.")
    return cog


def send_failure(exc: BaseException, channel_id: int) -> tuple[str, bool]:
    """What to tell managers about a failed post, and whether trying again later may help."""
    if isinstance(exc, UserError):
        return str(exc), False
    if isinstance(exc, discord.Forbidden):
        return (
            f"Discord refused the post in <#{channel_id}>: Breakroom lacks a permission there "
            f"({exc.text or 'Missing Permissions'}). Fix the channel's permissions, or choose "
            f"another channel with `/team edit`.",
            False,
        )
    if isinstance(exc, discord.NotFound):
        return (
            f"The team's channel <#{channel_id}> no longer exists. Choose another one with "
            f"`/team edit`.",
            False,
        )
    if isinstance(exc, discord.DiscordServerError):
        return f"Discord had a problem ({exc.status}) and the post could not be sent.", True
    if isinstance(exc, discord.HTTPException):
        return f"Discord refused the post ({exc.status}: {exc.text or 'no reason given'}).", False
    return f"The post could not reach Discord ({type(exc).__name__}).", True


TRANSIENT = (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError)


class PromptsCog(commands.Cog, name="Prompts"):
    """Weekly discussion prompts: the bank, posts, answers and the schedule."""

    prompt = app_commands.Group(
        name="prompt",
        description="Discussion prompts: the bank, posts and answers",
    )

    def __init__(self, bot: Breakroom) -> None:
        self.bot = bot
        self.prompts = Prompts(bot.db, bot.clock)
        #: this run of the bot: tells its own half-sent posts from those of a stopped run
        self.run_id = secrets.token_hex(8)
        self._answer_locks: weakref.WeakValueDictionary[tuple[int, int], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(AnswerButton)
        self.bot.add_modal_handler(ANSWER_FORM, self.submit_answer)
        self.bot.scheduler.register("prompts", self.run_due)

    async def cog_unload(self) -> None:
        self.bot.scheduler.unregister("prompts")
        self.bot.remove_modal_handler(ANSWER_FORM)
        self.bot.remove_dynamic_items(AnswerButton)

    async def submit_answer(
        self, interaction: Interaction, match: re.Match[str], values: dict[str, str]
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert interaction.guild_id is not None
        post_id = int(match["post"])
        async with self.answer_lock(post_id, interaction.user.id):
            saved = await self.prompts.answers.save_answer(
                interaction.guild_id,
                post_id,
                interaction.user.id,
                interaction.user.display_name,
                values.get("answer", ""),
            )
            published = await self.deliver_answer(saved.delivery)
        await interaction.followup.send(answer_receipt(saved, published), ephemeral=True)

    def answer_lock(self, post_id: int, user_id: int) -> asyncio.Lock:
        """One attempt at a time per member and post (their submits, the job's retries), so a
        double submit or a retry racing a submit can't post twice."""
        lock = self._answer_locks.get((post_id, user_id))
        if lock is None:
            lock = self._answer_locks[(post_id, user_id)] = asyncio.Lock()
        return lock

    # -- posting ------------------------------------------------------------------------------

    def team_channel(self, team: Team) -> discord.TextChannel:
        guild = self.bot.get_guild(team.guild_id)
        if guild is None:
            raise NotFound("Breakroom is no longer in this team's server.")
        return postable_channel(guild, team.channel_id)

    async def send_post(self, post: Post) -> discord.Message:
        """Send the claimed post, record it, and open its thread."""
        team = await self.bot.teams.get(post.team_id)
        channel = self.team_channel(team)
        content: str | None = None
        mentions = discord.AllowedMentions.none()
        if post.ping_role and team.role_id:
            content = f"<@&{team.role_id}>"
            mentions = discord.AllowedMentions(
                everyone=False, users=False, roles=[discord.Object(team.role_id)]
            )
        message = await channel.send(
            content,
            embed=post_embed(post, team),
            view=answer_view(post.id),
            allowed_mentions=mentions,
        )
        post = await self.prompts.posts.mark_posted(post.id, message.id, channel.id)
        await self.ensure_thread(post)
        return message

    async def ensure_thread(self, post: Post) -> int | None:
        """The post's discussion thread, made from its message if it isn't there yet (None when
        it can't be: the first answer tries again)."""
        try:
            return await self.open_thread(post)
        except (UserError, discord.HTTPException) as exc:
            log.warning("could not open the thread of prompt post %s: %s", post.id, exc)
            return None

    async def open_thread(self, post: Post) -> int:
        """The post's discussion thread, made from its message if need be; raises if it can't."""
        if post.thread_id is not None:
            return post.thread_id
        if post.message_id is None:
            raise NotFound("This prompt was never posted, so it has no thread.")
        channel = self.bot.get_partial_messageable(
            post.channel_id, guild_id=post.guild_id, type=discord.ChannelType.text
        )
        try:
            thread = await channel.get_partial_message(post.message_id).create_thread(
                name=thread_name(post), auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
            thread_id = thread.id
        except discord.HTTPException as exc:
            if exc.code != THREAD_ALREADY_CREATED:
                raise
            thread_id = post.message_id  # a thread made from a message shares its id
        await self.prompts.posts.set_thread(post.id, thread_id)
        return thread_id

    async def deliver_answer(self, delivery: AnswerDelivery) -> Published:
        """One attempt at the answer's message in the thread, and its outcome recorded. A failure
        leaves the answer due again (later after each failure) for the prompts job, unless
        retrying can't help; call with the member's `answer_lock` held."""
        try:
            message, edited = await self.put_answer(delivery)
        except (UserError, discord.RateLimited, *TRANSIENT) as exc:
            failure = "gone" if isinstance(exc, UserError) else answer_failure(exc)
            error, _ = send_failure(exc, delivery.post.channel_id)
            retry_at = await self.prompts.deliveries.answer_failed(delivery, error, failure)
            log.warning(
                "answer %s: its thread message failed (%s); %s",
                delivery.answer.id,
                exc,
                "given up" if retry_at is None else f"trying again at {retry_at:%H:%M:%S}",
            )
            if retry_at is not None:
                self.bot.scheduler.wake()  # the job's next pass is due sooner
            status = exc.status if isinstance(exc, discord.HTTPException) else 0
            text = exc.text if isinstance(exc, discord.HTTPException) else ""
            return Published(failure, detail=f"{status}: {text or 'no reason given'}")
        if not await self.prompts.deliveries.answer_posted(delivery, message.id):
            # The answer was deleted (/forget-me) while this attempt ran: so goes its message.
            with contextlib.suppress(discord.HTTPException):
                await message.delete()
            return Published("gone")
        return Published("edited" if edited else "posted", url=message.jump_url)

    async def put_answer(self, delivery: AnswerDelivery) -> tuple[discord.Message, bool]:
        """Edit the member's message in the thread, or post it (once: an earlier attempt that
        reached Discord unrecorded is looked for first, and the nonce makes Discord answer a
        resend with the first message). Returns the message and whether it was an edit."""
        post, answer = delivery.post, delivery.answer
        thread_id = await self.open_thread(post)
        thread = self.bot.get_partial_messageable(
            thread_id, guild_id=post.guild_id, type=discord.ChannelType.public_thread
        )
        embed = answer_embed(answer)
        if answer.message_id is not None:
            try:
                edited = await thread.get_partial_message(answer.message_id).edit(embed=embed)
                return edited, True
            except discord.NotFound:
                pass  # someone deleted it: post it again
        message = await self.find_answer(thread, delivery) if delivery.look else None
        if message is None:
            message = await thread.send(embed=embed, nonce=delivery.nonce)
        if not shows(message, embed):  # an earlier attempt's message, with older text
            message = await message.edit(embed=embed)
        return message, False

    async def find_answer(
        self, thread: discord.PartialMessageable, delivery: AnswerDelivery
    ) -> discord.Message | None:
        """The answer's message, if an earlier attempt posted it without recording it (the run
        stopped, or Discord's reply was lost): Breakroom's message in the thread carrying the
        nonce or the member's name, and not recorded for another answer."""
        me = self.bot.user
        if me is None:
            return None
        taken = await self.prompts.deliveries.answer_message_ids(
            delivery.post.id, delivery.answer.id
        )
        try:
            async for message in thread.history(limit=ANSWER_LOOKBACK):
                if message.author.id != me.id or message.id in taken or not message.embeds:
                    continue
                if message.nonce is not None and str(message.nonce) == delivery.nonce:
                    return message
                if message.embeds[0].author.name == delivery.answer.display_name:
                    return message
        except discord.Forbidden as exc:  # can't read the thread: the nonce still guards a resend
            log.warning("could not look for answer %s in its thread: %s", delivery.answer.id, exc)
        return None

    async def retry_answers(self, now: datetime) -> None:
        """The answers whose thread message is due again (an earlier attempt failed, or its run
        stopped): one attempt each; one failing doesn't stop the others."""
        for answer in await self.prompts.deliveries.due_answers(now):
            lock = self.answer_lock(answer.post_id, answer.user_id)
            if lock.locked():
                continue  # the member's own attempt is still running: it records its outcome
            try:
                async with lock:
                    delivery = await self.prompts.deliveries.claim_answer(answer.id, now)
                    if delivery is not None:
                        await self.deliver_answer(delivery)
            except Exception:
                log.exception("answer %s: retrying its thread message failed", answer.id)

    # -- the weekly schedule ------------------------------------------------------------------

    async def run_due(self, now: datetime) -> datetime | None:
        """The scheduler job: post every due slot, then retry the answers whose thread message
        failed; one team's (or answer's) failure doesn't stop the others."""
        for work in await self.prompts.weekly.due_work(now, self.run_id):
            try:
                await self.carry_out(work, now)
            except Exception:
                log.exception("prompt post %s (team %s) failed", work.post.id, work.post.team_id)
        await self.retry_answers(now)
        return await self.prompts.next_due(self.bot.clock.now(), self.run_id)

    async def carry_out(self, work: Work, now: datetime) -> None:
        post = work.post
        if work.kind in ("recover", "retry"):
            # The earlier attempt may have reached Discord after all (a run stopped mid-post, or
            # the answer to the send was lost): look before sending again.
            found = await self.find_sent(post)
            if found is not None:
                posted = await self.prompts.posts.mark_posted(post.id, found.id, found.channel.id)
                await self.ensure_thread(posted)
                return
        too_late = post.slot_at is None or now - post.slot_at >= GRACE
        if work.kind == "recover" and too_late:
            error = "A post was interrupted by a restart and was not sent again (too late for it)."
            await self.prompts.posts.mark_failed(post.id, error, transient=False)
            return
        try:
            await self.send_post(post)
        except (UserError, *TRANSIENT) as exc:
            error, transient = send_failure(exc, post.channel_id)
            state = await self.prompts.posts.mark_failed(post.id, error, transient=transient)
            log.warning("prompt post %s for team %s: %s (%s)", post.id, post.team_id, error, state)

    async def find_sent(self, post: Post) -> discord.Message | None:
        """Did a stopped run send this post before recording it? Look for its button."""
        custom_id = f"breakroom:answer:{post.id}"
        try:
            channel = self.team_channel(await self.bot.teams.get(post.team_id))
            async for message in channel.history(limit=50):
                if self.bot.user is None or message.author.id != self.bot.user.id:
                    continue
                for row in message.components:
                    for child in getattr(row, "children", []):
                        if getattr(child, "custom_id", None) == custom_id:
                            return message
        except (UserError, discord.HTTPException) as exc:
            log.warning("could not check whether post %s went out: %s", post.id, exc)
        return None

    # -- commands -----------------------------------------------------------------------------

    async def prompt_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        found = await self.prompts.bank.search(interaction.guild_id, current)
        return [
            app_commands.Choice(name=choice_name(f"#{p.id} · {p.text}"), value=str(p.id))
            for p in found
        ][:MAX_CHOICES]

    async def post_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            team = await resolve_team(interaction, getattr(interaction.namespace, "team", None))
        except UserError:
            return []
        posts = await self.prompts.posts.recent_posts(team.id, current)
        choices = []
        for post in posts[:MAX_CHOICES]:
            assert post.posted_at is not None
            day = post.posted_at.astimezone(team.zone).strftime("%d %b %Y")
            choices.append(
                app_commands.Choice(
                    name=choice_name(f"{day} · {post.prompt_text}"), value=str(post.id)
                )
            )
        return choices

    @prompt.command(name="add")
    @manager_only()
    @app_commands.describe(text="The question to add to the bank (up to 300 characters)")
    async def add(self, interaction: Interaction, text: str) -> None:
        """Add a prompt to the server's bank"""
        assert interaction.guild_id is not None
        added = await self.prompts.bank.add(interaction.guild_id, text)
        verb = "Brought back" if added.restored else "Added"
        await interaction.response.send_message(
            f"{verb} prompt **#{added.prompt.id}**: {added.prompt.text}\n"
            f"It joins the rotation: teams get it before any prompt repeats.",
            ephemeral=True,
        )

    @prompt.command(name="list")
    @app_commands.describe(page="Which page of the bank to show")
    async def list_prompts(
        self, interaction: Interaction, page: app_commands.Range[int, 1, 1000] = 1
    ) -> None:
        """The prompt bank, with ids and how often each was asked"""
        assert interaction.guild_id is not None
        bank = await self.prompts.bank.list_page(interaction.guild_id, page)
        lines = [f"`#{p.id}` · asked {p.times_asked}× · {p.text}" for p in bank.prompts]
        embed = discord.Embed(
            title=f"Prompt bank — page {bank.page} of {bank.pages}",
            description="\n".join(lines) or "The bank is empty: add a prompt with `/prompt add`.",
            colour=EMBED_COLOUR,
        )
        embed.set_footer(text=f"{bank.active} active · {bank.retired} retired")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @prompt.command(name="remove")
    @manager_only()
    @app_commands.describe(prompt="The prompt to retire (type to search)")
    @app_commands.autocomplete(prompt=prompt_autocomplete)
    async def remove(self, interaction: Interaction, prompt: str) -> None:
        """Retire a prompt from the rotation (its history stays)"""
        assert interaction.guild_id is not None
        retired = await self.prompts.bank.retire(interaction.guild_id, parse_id(prompt, "prompt"))
        await interaction.response.send_message(
            f"Retired prompt **#{retired.id}**: {retired.text}\nIt won't be posted again; its "
            f"past posts and answers stay. Adding the same text again brings it back.",
            ephemeral=True,
        )

    @prompt.command(name="post")
    @manager_only()
    @app_commands.describe(
        team="The team to post for (default: this channel's team)",
        prompt="A prompt to post (default: the next one in rotation)",
        ping_role="Mention the team's role with the post",
    )
    @app_commands.autocomplete(team=team_autocomplete, prompt=prompt_autocomplete)
    async def post(
        self,
        interaction: Interaction,
        team: str | None = None,
        prompt: str | None = None,
        ping_role: bool = False,
    ) -> None:
        """Post a prompt now, with an Answer button and a thread"""
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await resolve_team(interaction, team)
        prompt_id = None if prompt is None else parse_id(prompt, "prompt")
        channel = self.team_channel(found)
        claimed = await self.prompts.posts.claim_manual(
            found.id, prompt_id, ping_role=ping_role, run_id=self.run_id
        )
        try:
            message = await self.send_post(claimed)
        except (UserError, discord.HTTPException) as exc:
            error, _ = send_failure(exc, found.channel_id)
            await self.prompts.posts.mark_failed(claimed.id, error, transient=False)
            raise NotAllowed(error) from exc
        repeat = ""
        if claimed.repeat_of_posted_at is not None:
            when = discord.utils.format_dt(claimed.repeat_of_posted_at, "D")
            repeat = f" It is a repeat: the team was last asked it on {when}."
        await interaction.followup.send(
            f"Posted prompt **#{claimed.prompt_id}** in {channel.mention}: "
            f"{message.jump_url}.{repeat}",
            ephemeral=True,
        )

    @prompt.command(name="schedule")
    @manager_only()
    @app_commands.describe(
        weekday="The day to post each week, or off",
        time="The time to post, HH:MM in the team's timezone (default 09:00 or the current one)",
        team="The team (default: this channel's team)",
        ping_role="Mention the team's role with each weekly post (default: as before)",
    )
    @app_commands.choices(
        weekday=[app_commands.Choice(name=d.capitalize(), value=d) for d in WEEKDAYS]
        + [app_commands.Choice(name="Off (no weekly post)", value="off")]
    )
    @app_commands.autocomplete(team=team_autocomplete)
    async def schedule(
        self,
        interaction: Interaction,
        weekday: str,
        time: str | None = None,
        team: str | None = None,
        ping_role: bool | None = None,
    ) -> None:
        """Set the team's weekly prompt day and time"""
        assert interaction.guild is not None
        found = await resolve_team(interaction, team)
        day = parse_weekday(weekday)
        if day is not None and time is None:
            time = found.schedule_time or DEFAULT_TIME
        if ping_role is None:
            ping_role = found.schedule_ping_role
        previous_error = found.last_post_error
        updated = await self.bot.teams.set_schedule(found.id, day, time, ping_role)
        self.bot.scheduler.wake()
        lines: list[str] = []
        if previous_error:
            lines.append(f"⚠️ The last scheduled post failed: {previous_error}")
        if updated.schedule_weekday is None or updated.schedule_time is None:
            lines.insert(0, f"The weekly prompt for **{updated.name}** is off.")
            lines.append("`/prompt post` still posts one whenever you like.")
        else:
            lines.insert(
                0,
                f"**{updated.name}** gets a prompt "
                f"{describe(updated.schedule_weekday, updated.schedule_time)} "
                f"({updated.timezone}). The next three:",
            )
            slots = next_slots(
                self.bot.clock.now(), updated.schedule_weekday, updated.schedule_time, updated.zone
            )
            lines[1:1] = [
                f"• {local_time(s, updated)} — {discord.utils.format_dt(s, 'F')}" for s in slots
            ]
            try:
                postable_channel(interaction.guild, updated.channel_id)
            except UserError as problem:
                lines.append(f"⚠️ {problem}")
            if ping_role and not updated.role_id:
                lines.append("The team has no role to mention; set one with `/team edit`.")
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    @prompt.command(name="answer")
    @app_commands.describe(team="The team (default: this channel's team)")
    @app_commands.autocomplete(team=team_autocomplete)
    async def answer(self, interaction: Interaction, team: str | None = None) -> None:
        """Answer the team's latest prompt (same as its Answer button)"""
        found = await resolve_team(interaction, team)
        latest = await self.prompts.posts.latest_post(found)
        await open_answer_modal(interaction, latest.id)

    @prompt.command(name="answers")
    @app_commands.describe(
        team="The team (default: this channel's team)",
        post="A post of the team (default: its latest)",
        page="Which page of answers to show",
    )
    @app_commands.autocomplete(team=team_autocomplete, post=post_autocomplete)
    async def answers(
        self,
        interaction: Interaction,
        team: str | None = None,
        post: str | None = None,
        page: app_commands.Range[int, 1, 1000] = 1,
    ) -> None:
        """The answers to the team's latest (or a given) prompt"""
        assert interaction.guild_id is not None
        if post is not None:
            post_id = parse_id(post, "post")
        else:
            post_id = (
                await self.prompts.posts.latest_post(await resolve_team(interaction, team))
            ).id
        listed = await self.prompts.answers.for_post(interaction.guild_id, post_id)
        entries = [
            f"**{discord.utils.escape_markdown(a.display_name)}** — {a.text}"
            for a in listed.answers
        ]
        pages = paginate(entries, PAGE_BUDGET)
        page = min(page, len(pages))
        people = "1 person" if listed.count == 1 else f"{listed.count} people"
        body = "\n\n".join(pages[page - 1]) or (
            "Nobody has answered yet: use the Answer button under the post, or `/prompt answer`."
        )
        embed = discord.Embed(
            title=choice_name(listed.post.prompt_text),
            description=f"**{people} answered.**\n\n{body}",
            colour=EMBED_COLOUR,
        )
        assert listed.post.posted_at is not None
        footer = f"{listed.post.team_name} · posted {listed.post.posted_at:%d %b %Y}"
        if len(pages) > 1:
            footer += f" · page {page} of {len(pages)} (use the page option for more)"
        embed.set_footer(text=footer)
        await interaction.response.send_message(embed=embed, ephemeral=True)


def paginate(entries: list[str], budget: int) -> list[list[str]]:
    """Entries grouped into pages of at most `budget` characters (always at least one page)."""
    pages: list[list[str]] = [[]]
    size = 0
    for entry in entries:
        if pages[-1] and size + len(entry) + 2 > budget:
            pages.append([])
            size = 0
        pages[-1].append(entry)
        size += len(entry) + 2
    return pages


async def setup(bot: Breakroom) -> None:
    await bot.add_cog(PromptsCog(bot))
