"""`/prompt`: the prompt bank, posting (now and weekly), and answering in the prompt's thread.

Posting a prompt: a message in the team channel with an **Answer** button (a DynamicItem carrying
the post id, so it works after a restart) and a public thread made from it; the post shows how
many have answered, kept live (`cogs/_prompt_messages.py`). An answer is kept in the database
first, then posted (or edited) in the thread under the member's name and avatar. Both go
through the one outbox: queued with the row that makes them due, sent by the courier (at once
when someone waits for it, else by the outbox job), retried and given up by its rules.

The cog holds the commands and the scheduler job; rendering, the button and the form live in
`cogs/_prompts_ui.py`, what the courier sends for posts and answers in `cogs/_prompt_drafts.py`.
"""

from __future__ import annotations

import re
from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Breakroom
from bot.errors import UserError
from bot.i18n import _, n_
from bot.prompts import Prompts
from bot.schedule import DEFAULT_TIME, WEEKDAYS, describe, next_slots, parse_weekday, show_time
from cogs._layout import jump_view
from cogs._options import PostOption, PromptOption, TeamOption, team_here
from cogs._prompt_drafts import PromptDrafts
from cogs._prompt_messages import PostMessages
from cogs._prompts_ui import (
    ANSWER_FORM,
    AnswerButton,
    answer_receipt,
    answers_embed,
    local_time,
    open_answer_modal,
    post_outcome,
)
from cogs._shared import (
    EMBED_COLOUR,
    Interaction,
    lead_or_manager,
    manager_only,
    postable_channel,
    require_lead,
    require_team_member,
)


class PromptsCog(commands.Cog, name="Prompts"):
    """Weekly discussion prompts: the bank, posts, answers and the schedule."""

    prompt = app_commands.Group(
        name="prompt",
        description="Discussion prompts: the bank, posts and answers",
    )

    def __init__(self, bot: Breakroom) -> None:
        self.bot = bot
        self.prompts: Prompts = bot.services.prompts
        self.drafts = PromptDrafts(bot, self.prompts)
        self.messages = PostMessages(bot, self.prompts)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(AnswerButton)
        self.bot.add_modal_handler(ANSWER_FORM, self.submit_answer)
        self.drafts.register()
        # Answers given or forgotten (/forget-me): the posts show their new counts.
        self.prompts.answers.watch(self.messages.counts_changed)
        self.bot.scheduler.register("prompts", self.run_due)

    async def cog_unload(self) -> None:
        self.bot.scheduler.unregister("prompts")
        self.prompts.answers.unwatch(self.messages.counts_changed)
        await self.messages.close()
        self.drafts.forget()
        self.bot.remove_handler(ANSWER_FORM)
        self.bot.remove_dynamic_items(AnswerButton)

    async def submit_answer(
        self, interaction: Interaction, match: re.Match[str], values: dict[str, str]
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert interaction.guild_id is not None
        post = await self.prompts.posts.get_post(interaction.guild_id, int(match["post"]))
        # Checked again on submit: a role can go while the form is open.
        require_team_member(interaction, await self.bot.teams.get(post.team_id))
        saved = await self.prompts.answers.save_answer(
            interaction.guild_id,
            post.id,
            interaction.user.id,
            interaction.user.display_name,
            values.get("answer", ""),
            # Kept with the answer: the outbox may post it after a restart, without this member.
            avatar=interaction.user.display_avatar.url,
        )
        outcome = await self.bot.courier.attempt(saved.delivery_id, early=True)
        await interaction.followup.send(
            answer_receipt(saved, outcome), view=jump_view(outcome.url), ephemeral=True
        )

    # -- the weekly schedule ------------------------------------------------------------------

    async def run_due(self, now: datetime) -> datetime | None:
        """The scheduler job: queue every team's due slot; the outbox job, run after it in the
        same pass, posts them."""
        await self.prompts.weekly.queue_due(now)
        return await self.prompts.next_due(self.bot.clock.now())

    # -- commands -----------------------------------------------------------------------------

    @prompt.command(name="add")
    @manager_only()
    @app_commands.describe(text="The question to add to the bank (up to 300 characters)")
    async def add(self, interaction: Interaction, text: str) -> None:
        """Add a prompt to the server's bank"""
        assert interaction.guild_id is not None
        added = await self.prompts.bank.add(interaction.guild_id, text)
        fields = {"id": added.prompt.id, "text": added.prompt.text}
        if added.restored:
            said = _("Brought back prompt **#{id}**: {text}", **fields)
        else:
            said = _("Added prompt **#{id}**: {text}", **fields)
        rotation = _("It joins the rotation: teams get it before any prompt repeats.")
        await interaction.response.send_message(f"{said}\n{rotation}", ephemeral=True)

    @prompt.command(name="list")
    @app_commands.describe(page="Which page of the bank to show")
    async def list_prompts(
        self, interaction: Interaction, page: app_commands.Range[int, 1, 1000] = 1
    ) -> None:
        """The prompt bank, with ids and how often each was asked"""
        assert interaction.guild_id is not None
        bank = await self.prompts.bank.list_page(interaction.guild_id, page)
        lines = [
            n_(
                "`#{id}` · asked {count}× · {text}",
                "`#{id}` · asked {count}× · {text}",
                p.times_asked,
                id=p.id,
                text=p.text,
            )
            for p in bank.prompts
        ]
        embed = discord.Embed(
            title=_("Prompt bank — page {page} of {pages}", page=bank.page, pages=bank.pages),
            description="\n".join(lines)
            or _("The bank is empty: add a prompt with `/prompt add`."),
            colour=EMBED_COLOUR,
        )
        embed.set_footer(
            text=_("{active} active · {retired} retired", active=bank.active, retired=bank.retired)
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @prompt.command(name="remove")
    @manager_only()
    @app_commands.describe(prompt="The prompt to retire (type to search)")
    async def remove(self, interaction: Interaction, prompt: PromptOption) -> None:
        """Retire a prompt from the rotation (its history stays)"""
        assert interaction.guild_id is not None
        retired = await self.prompts.bank.retire(interaction.guild_id, prompt)
        await interaction.response.send_message(
            _(
                "Retired prompt **#{id}**: {text}\nIt won't be posted again; its past posts and "
                "answers stay. Adding the same text again brings it back.",
                id=retired.id,
                text=retired.text,
            ),
            ephemeral=True,
        )

    @prompt.command(name="post")
    @lead_or_manager()
    @app_commands.describe(
        team="The team to post for (default: this channel's team)",
        prompt="A prompt to post (default: the next one in rotation)",
        ping_role="Mention the team's role with the post",
    )
    async def post(
        self,
        interaction: Interaction,
        team: TeamOption | None = None,
        prompt: PromptOption | None = None,
        ping_role: bool = False,
    ) -> None:
        """Post a prompt now, with an Answer button and a thread"""
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = team or await team_here(interaction)
        require_lead(interaction, found)
        self.drafts.team_channel(found)  # can't post there: say so before queueing anything
        queued = await self.prompts.posts.queue_manual(found.id, prompt, ping_role=ping_role)
        outcome = await self.bot.courier.attempt(queued.delivery_id, early=True)
        await interaction.followup.send(
            post_outcome(queued.post, outcome), view=jump_view(outcome.url), ephemeral=True
        )

    @prompt.command(name="schedule")
    @lead_or_manager()
    @app_commands.describe(
        weekday="The day to post each week, or off",
        time="When to post, team time: 09:30, 9:30 pm, 9am, 17h (default 09:00 or the current one)",
        team="The team (default: this channel's team)",
        ping_role="Mention the team's role with each weekly post (default: as before)",
    )
    @app_commands.choices(
        weekday=[app_commands.Choice(name=d.capitalize(), value=d) for d in WEEKDAYS]
        + [app_commands.Choice(name="Off (no weekly post)", value="off")]
    )
    async def schedule(
        self,
        interaction: Interaction,
        weekday: str,
        time: str | None = None,
        team: TeamOption | None = None,
        ping_role: bool | None = None,
    ) -> None:
        """Set the team's weekly prompt day and time"""
        assert interaction.guild is not None
        found = team or await team_here(interaction)
        require_lead(interaction, found)
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
            # Stored as written (English, or Discord's words): translated when it is a message.
            lines.append(_("⚠️ The last scheduled post failed: {error}", error=_(previous_error)))
        if updated.schedule_weekday is None or updated.schedule_time is None:
            lines.insert(0, _("The weekly prompt for **{team}** is off.", team=updated.name))
            lines.append(_("`/prompt post` still posts one whenever you like."))
        else:
            lines.insert(
                0,
                _(
                    "**{team}** gets a prompt {when}, {timezone} time. The next three:",
                    team=updated.name,
                    when=describe(updated.schedule_weekday, show_time(updated.schedule_time)),
                    timezone=updated.timezone,
                ),
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
                lines.append(_("The team has no role to mention; set one with `/team edit`."))
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    @prompt.command(name="answer")
    @app_commands.describe(team="The team (default: this channel's team)")
    async def answer(self, interaction: Interaction, team: TeamOption | None = None) -> None:
        """Answer the team's latest prompt (same as its Answer button)"""
        found = team or await team_here(interaction)
        latest = await self.prompts.posts.latest_post(found)
        await open_answer_modal(interaction, self.prompts, latest.id)

    @prompt.command(name="answers")
    @app_commands.describe(
        team="The team (default: this channel's team)",
        post="A post of the team (default: its latest)",
        page="Which page of answers to show",
    )
    async def answers(
        self,
        interaction: Interaction,
        team: TeamOption | None = None,
        post: PostOption | None = None,
        page: app_commands.Range[int, 1, 1000] = 1,
    ) -> None:
        """The answers to the team's latest (or a given) prompt"""
        assert interaction.guild_id is not None
        if post is not None:
            post_id = post
        else:
            post_id = (
                await self.prompts.posts.latest_post(team or await team_here(interaction))
            ).id
        listed = await self.prompts.answers.for_post(interaction.guild_id, post_id)
        embed = answers_embed(listed, page)
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: Breakroom) -> None:
    await bot.add_cog(PromptsCog(bot))
