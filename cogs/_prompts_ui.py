"""What prompts say in Discord besides their posts: the member's receipt, the manager's follow-up
to `/prompt post`, the Answer button and the answer form, `/prompt answers`. Rendering and forms
only; the post and an answer in its thread are layouts (cogs/_prompt_layouts.py), the cog
(cogs/prompts.py) runs the commands and the scheduler job, and cogs/_prompt_drafts.py drafts what
the outbox sends.

A private module (not an extension), imported once per process: discord.py loads each extension
as a fresh module, and the button's DynamicItem class must be one object for every bot in the
process.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import discord
from babel import dates
from discord.utils import format_dt

from bot import i18n
from bot.courier import Outcome
from bot.errors import NotFound
from bot.i18n import _, n_
from bot.prompt_answers import (
    MAX_ANSWER_LENGTH,
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

PAGE_BUDGET = 3500  # characters of answers per page of /prompt answers (embed limit 4096)


def local_time(moment: datetime, team: Team) -> str:
    """A moment on the team's clock, in the current language: "Mon, 5 Jan 2026, 09:30 GMT"."""
    local = moment.astimezone(team.zone)
    weekday_date = dates.format_skeleton("yMMMEd", local, locale=i18n.locale(i18n.current()))
    return _(
        "{day}, {time} {zone}",
        day=weekday_date,
        time=i18n.time_of_day(local),
        zone=local.strftime("%Z"),
    )


def answer_receipt(saved: SavedAnswer, outcome: Outcome) -> str:
    """The member's follow-up, one line: the answer is saved, and the truth about the thread (a
    Jump button goes with it once it is there)."""
    failure = outcome.failure
    if outcome.sent is not None:
        if outcome.url is None:  # deleted (/forget-me) while it was being posted
            return _("Your answer was deleted meanwhile, so it isn't in the thread.")
        if outcome.edited:
            return _("✅ Answer saved and updated in the thread")
        return _("✅ Answer saved and posted in the thread")
    if failure is None:  # another attempt holds it (a second submit's, another run's)
        return _("✅ Answer saved; it is on its way to the thread by itself.")
    if outcome.retry_at is not None:
        if saved.answer.message_id is not None:
            return _(
                "✅ Answer saved. Discord is having trouble, so the thread shows your earlier "
                "answer until Breakroom updates it shortly, by itself."
            )
        return _(
            "✅ Answer saved. Discord is having trouble, so Breakroom will post it in the thread "
            "shortly, by itself."
        )
    match failure.kind:
        case "transient":  # still failing at its deadline
            return _(
                "✅ Answer saved, but Discord kept failing, so it isn't in the thread; it shows "
                "in `/prompt answers`."
            )
        case "forbidden":
            return _(
                "✅ Answer saved, but Breakroom lacks a permission to post in the thread of "
                "{channel}: a manager needs to fix it, then save the team with `/team edit`. "
                "Meanwhile it shows in `/prompt answers`.",
                channel=f"<#{saved.post.channel_id}>",
            )
        case "gone":
            return _(
                "✅ Answer saved, but the prompt's post or its thread was deleted, so it can't "
                "go there; it shows in `/prompt answers`."
            )
        case _:
            return _(
                "✅ Answer saved, but Discord refused it ({detail}); it shows in "
                "`/prompt answers`.",
                detail=failure.detail,
            )


def post_outcome(post: Post, outcome: Outcome) -> str:
    """The manager's follow-up to `/prompt post`, one line (a Jump button goes with it once the
    post is out): posted, failed and why, or on its way (the outbox tries again)."""
    if outcome.sent is not None:
        before = post.repeat_of_posted_at
        channel = f"<#{outcome.sent.channel_id}>"
        if before is None:
            return _("✅ Posted prompt **#{id}** in {channel}.", id=post.prompt_id, channel=channel)
        return _(
            "✅ Posted prompt **#{id}** (a repeat: last asked {when}) in {channel}.",
            id=post.prompt_id,
            when=format_dt(before, "D"),
            channel=channel,
        )
    failure = outcome.failure
    if failure is not None and outcome.retry_at is None:
        return _(
            "Prompt #{id} could not be posted: {reason}", id=post.prompt_id, reason=failure.reason
        )
    fields = {"id": post.prompt_id, "channel": f"<#{post.channel_id}>"}
    if outcome.retry_at is None:  # another attempt holds it
        return _("Prompt #{id} isn't in {channel} yet: Breakroom posts it by itself.", **fields)
    when = format_dt(outcome.retry_at, "R")
    if failure is None:
        return _(
            "Prompt #{id} isn't in {channel} yet: Breakroom posts it by itself ({when}).",
            when=when,
            **fields,
        )
    return _(
        "Prompt #{id} isn't in {channel} yet: {reason} Breakroom posts it by itself ({when}).",
        reason=failure.reason,
        when=when,
        **fields,
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
                label=_("Answer"),
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
            raise NotFound(_("Prompts are unavailable for a moment; try again in a minute."))
        await open_answer_modal(interaction, cog.prompts, self.post_id)


ANSWER_FORM = r"breakroom:answer-form:(?P<post>[0-9]+)"


def answer_modal(form: AnswerForm) -> discord.ui.Modal:
    """The answer form, answered by `PromptsCog.submit_answer` from its custom_id, so a form left
    open across a restart still saves."""
    modal = discord.ui.Modal(
        title=_("Your answer"), custom_id=f"breakroom:answer-form:{form.post.id}"
    )
    intro = f"**{form.post.prompt_text}**"
    if form.previous is not None and form.current is None:
        when = discord.utils.format_dt(form.previous.answered_at, "D")
        intro += "\n\n" + _("Last time this was asked ({when}) you wrote:", when=when)
        intro += f"\n>>> {form.previous.text}"
    modal.add_item(discord.ui.TextDisplay(intro))
    answer: discord.ui.TextInput[Any] = discord.ui.TextInput(
        custom_id="answer",
        style=discord.TextStyle.paragraph,
        max_length=MAX_ANSWER_LENGTH,
        default=form.current.text if form.current else None,
    )
    label = _("Change your answer") if form.current else _("Your answer")
    modal.add_item(
        discord.ui.Label(
            text=label,
            description=_(
                "Up to {limit} characters; posted in the thread under your name.",
                limit=MAX_ANSWER_LENGTH,
            ),
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
    people = n_("{count} person answered.", "{count} people answered.", listed.count)
    body = "\n\n".join(pages[page - 1]) or (
        _("Nobody has answered yet: use the Answer button under the post, or `/prompt answer`.")
    )
    embed = discord.Embed(
        title=choice_name(listed.post.prompt_text),
        description=f"**{people}**\n\n{body}",
        colour=EMBED_COLOUR,
    )
    assert listed.post.posted_at is not None
    fields = {"team": listed.post.team_name, "day": i18n.day(listed.post.posted_at)}
    if len(pages) > 1:
        footer = _(
            "{team} · posted {day} · page {page} of {pages} (use the page option for more)",
            page=page,
            pages=len(pages),
            **fields,
        )
    else:
        footer = _("{team} · posted {day}", **fields)
    embed.set_footer(text=footer)
    return embed
