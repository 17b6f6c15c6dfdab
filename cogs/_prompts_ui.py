"""What prompts look like in Discord: the posted prompt, an answer in its thread, the member's
receipt, the manager's follow-up to `/prompt post`, the Answer button and the answer form. Rendering
and forms only; the cog (cogs/prompts.py) runs the commands and the scheduler job, and
cogs/_prompt_drafts.py drafts what the outbox sends.

A private module (not an extension), imported once per process: discord.py loads each extension
as a fresh module, and the button's DynamicItem class must be one object for every bot in the
process.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import discord
from discord.utils import format_dt

from bot.courier import Outcome
from bot.errors import NotFound
from bot.prompt_answers import (
    MAX_ANSWER_LENGTH,
    Answer,
    AnswerForm,
    AnswerList,
    SavedAnswer,
)
from bot.prompt_posts import Post
from bot.prompts import Prompts
from bot.teams import Team
from cogs._options import choice_name
from cogs._shared import (
    EMBED_COLOUR,
    FromCustomId,
    Interaction,
    guarded,
    require_team_member,
    routed_by_custom_id,
)

THREAD_NAME_LIMIT = 100
PAGE_BUDGET = 3500  # characters of answers per page of /prompt answers (embed limit 4096)


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


def answer_receipt(saved: SavedAnswer, outcome: Outcome) -> str:
    """The member's follow-up: the answer is saved, and the truth about the thread."""
    done = (
        "Updated your answer: the new text is saved"
        if saved.replaced
        else "Thanks — your answer is saved"
    )
    listed = "Until then it shows in `/prompt answers`."
    failure = outcome.failure
    if outcome.sent is not None:
        if outcome.url is None:  # deleted (/forget-me) while it was being posted
            return f"{done}, but it was deleted meanwhile, so it isn't in the thread."
        if outcome.edited:
            return f"{done}. Your post in the thread is updated: {outcome.url}"
        return f"{done}. It is posted in the thread: {outcome.url}"
    if failure is None:  # another attempt holds it (a second submit's, another run's)
        return f"{done}. It is on its way to the thread, by itself: nothing more to do."
    if outcome.retry_at is not None:
        later = (
            "the thread still shows your earlier answer; Breakroom will update it"
            if saved.answer.message_id is not None
            else "it isn't in the thread yet; Breakroom will post it there"
        )
        return (
            f"{done}. Discord is having trouble right now, so {later} shortly, by itself: "
            f"nothing more to do on your side."
        )
    match failure.kind:
        case "transient":  # still failing at its deadline
            return f"{done}, but Discord kept failing, so it isn't in the thread. {listed}"
        case "forbidden":
            return (
                f"{done}, but Discord doesn't let Breakroom post in the prompt's thread: a "
                f"permission is missing in <#{saved.post.channel_id}>. A manager needs to fix "
                f"Breakroom's permissions there (Send Messages in Threads, Create Public Threads); "
                f"Breakroom tries again when the team is saved with `/team edit`. {listed}"
            )
        case "gone":
            return (
                f"{done}, but the prompt's post or its thread was deleted, so it can't be posted "
                f"there. It shows in `/prompt answers`."
            )
        case _:
            return (
                f"{done}, but Discord refused to post it in the thread ({failure.detail}). "
                f"It shows in `/prompt answers`."
            )


def post_outcome(post: Post, outcome: Outcome) -> str:
    """The manager's follow-up to `/prompt post`: posted (with a link), failed and why, or on its
    way (Discord failed for now: the outbox tries again)."""
    if outcome.sent is not None:
        repeat = ""
        if post.repeat_of_posted_at is not None:
            when = format_dt(post.repeat_of_posted_at, "D")
            repeat = f" It is a repeat: the team was last asked it on {when}."
        return (
            f"Posted prompt **#{post.prompt_id}** in <#{outcome.sent.channel_id}>: "
            f"{outcome.url}.{repeat}"
        )
    failure = outcome.failure
    if failure is not None and outcome.retry_at is None:
        return f"Prompt **#{post.prompt_id}** could not be posted: {failure.reason}"
    why = f" {failure.reason}" if failure is not None else ""
    when = "" if outcome.retry_at is None else f" (next try {format_dt(outcome.retry_at, 'R')})"
    return (
        f"Prompt **#{post.prompt_id}** is not in <#{post.channel_id}> yet:{why} Breakroom posts "
        f"it by itself{when}; nothing more to do."
    )


@runtime_checkable
class HasPrompts(Protocol):
    """What the Answer button needs from the prompts cog (found by name: the cog is reloadable)."""

    prompts: Prompts


def answer_button(post_id: int) -> str:
    """The custom id of a post's Answer button (how an earlier attempt's post is recognised)."""
    return f"breakroom:answer:{post_id}"


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
                custom_id=answer_button(post_id),
            )
        )
        self.post_id = post_id

    @guarded
    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        # Found by name, not class: the cog's extension may have been reloaded since.
        cog: Any = interaction.client.get_cog("Prompts")
        if not isinstance(cog, HasPrompts):
            raise NotFound("Prompts are unavailable for a moment; try again in a minute.")
        await open_answer_modal(interaction, cog.prompts, self.post_id)


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


async def open_answer_modal(interaction: Interaction, prompts: Prompts, post_id: int) -> None:
    assert interaction.guild_id is not None
    form = await prompts.answers.answer_form(interaction.guild_id, post_id, interaction.user.id)
    require_team_member(interaction, await interaction.client.teams.get(form.post.team_id))
    await interaction.response.send_modal(answer_modal(form))


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


def answers_embed(listed: AnswerList, page: int) -> discord.Embed:
    """`/prompt answers`: one page of the post's answers, and how many people answered."""
    entries = [
        f"**{discord.utils.escape_markdown(a.display_name)}** — {a.text}" for a in listed.answers
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
    return embed
