"""`/poll`: team polls with a button per option, live counts, deadlines and re-runs.

Discord glue only: the rules and the SQL live in `bot/polls.py` and its `bot/poll_*.py` parts;
rendering and the buttons in `cogs/_polls_ui.py`; the poll message and the result post (sent by
the outbox, bot/courier.py) and the live refresh in `cogs/_poll_messages.py`.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Awaitable
from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import format_dt

from bot import errors
from bot.client import Breakroom, is_manager
from bot.courier import Failure
from bot.i18n import _
from bot.poll_closing import RESULT
from bot.poll_model import Poll, Results
from bot.poll_store import POST
from bot.polls import Polls
from bot.vote_queue import VoteQueue
from cogs._layout import jump_view
from cogs._options import PollOption, TeamOption, team_here
from cogs._poll_buttons import VOTE_TEMPLATE, PollButton, PollCloseButton
from cogs._poll_messages import PollMessages
from cogs._poll_results import results_layout
from cogs._polls_ui import jump_url, list_embed, vote_message
from cogs._shared import Interaction, manages_team, role_ids

__all__ = ["PollButton", "PollCloseButton", "PollsCog", "setup"]

log = logging.getLogger(__name__)


def in_background(tasks: set[asyncio.Task[object]], work: Awaitable[object], name: str) -> None:
    """Run `work` as a task kept in `tasks` until it is done (the cog awaits them at unload)."""
    task: asyncio.Task[object] = asyncio.ensure_future(work)
    task.set_name(name)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


# -- the cog -----------------------------------------------------------------------------------


class PollsCog(commands.Cog, name="Polls"):
    """Team polls."""

    # A Group attribute (rather than a GroupCog) keeps `/help`, which lists each cog's top-level
    # commands, complete.
    poll = app_commands.Group(
        name="poll", description="Team polls: ask a question, vote with buttons, compare re-runs"
    )

    def __init__(self, bot: Breakroom) -> None:
        self.bot = bot
        self.messages = PollMessages(bot)
        # announcements started by `/poll close`, awaited (or cancelled) when the cog unloads
        self._announcing: set[asyncio.Task[object]] = set()

    async def cog_load(self) -> None:
        # Built here, not in __init__: the key is loaded in setup_hook, before extensions load.
        self.votes = VoteQueue(self.polls.vote_many)
        moved = await self.polls.seal_legacy_votes()
        if moved:
            log.info("sealed the anonymous votes of %d voters from an earlier version", moved)
        self.bot.add_dynamic_items(PollCloseButton)
        self.bot.add_button_handler(VOTE_TEMPLATE, self.clicked)
        self.bot.courier.handle(POST, self.messages.draft_post)
        self.bot.courier.handle(RESULT, self.messages.draft_result)
        self.bot.scheduler.register("polls", self.run_due)

    async def cog_unload(self) -> None:
        self.bot.scheduler.unregister("polls")
        self.bot.courier.forget(POST)
        self.bot.courier.forget(RESULT)
        self.bot.remove_dynamic_items(PollCloseButton)
        self.bot.remove_handler(VOTE_TEMPLATE)
        if self._announcing:
            # Let announcements under way finish; one cut short before its post stays due in
            # the outbox and is posted after the restart.
            _done, late = await asyncio.wait(self._announcing, timeout=5)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self.votes.close()
        await self.messages.close()

    @property
    def polls(self) -> Polls:
        """The bot's one poll logic (bot/services.py): its vote writer keeps, in memory, who
        voted in each open anonymous poll since its shown counts last moved."""
        return self.bot.services.polls

    # -- the scheduled job ---------------------------------------------------------------------

    async def run_due(self, now: datetime) -> datetime | None:
        """Close polls whose deadline passed (also while the bot was down); the outbox job,
        right after this one in the pass, announces them. A poll whose last hour began gets its
        message edited once, to say it closes soon."""
        await self.polls.closing.close_due(now)
        for poll_id in await self.polls.closing.last_hour_due(now):
            self.messages.request(poll_id)
        return await self.polls.closing.next_due()

    # -- voting --------------------------------------------------------------------------------

    async def clicked(self, interaction: Interaction, match: re.Match[str]) -> None:
        """A click on an option's button (`VOTE_TEMPLATE`)."""
        await self.vote(interaction, int(match["poll"]), int(match["option"]))

    async def vote(self, interaction: Interaction, poll_id: int, option_id: int) -> None:
        """A click on an option: answer first, then refresh the message (coalesced)."""
        if interaction.guild_id is None:
            raise errors.NotFound(_("This poll no longer exists."))
        member = (frozenset(role_ids(interaction)), is_manager(interaction))  # team member?
        try:
            vote = await self.votes.vote(
                poll_id, option_id, interaction.guild_id, interaction.user.id, *member
            )
        except errors.Conflict:
            # The deadline may have just passed: close it now, and fix the buttons if needed.
            self.bot.scheduler.wake()
            self.messages.request(poll_id)
            raise
        await self.bot.replies.text(interaction, vote_message(vote))
        self.messages.request(poll_id)

    async def post(self, poll: Poll, interaction: Interaction) -> tuple[Poll, int, str | None]:
        """Post the new poll (waiting in the outbox) now; a poll that can't be posted is
        forgotten and the member told why. Returns the poll, the channel it is (or will be)
        posted in, and its link once posted.

        The interaction is deferred first: a slow post (Discord retrying) must not leave the
        member with "This interaction failed" (they would try again and post the poll twice).
        """
        await interaction.response.defer(ephemeral=True, thinking=True)
        team = await self.bot.teams.get(poll.team_id)
        delivery = await self.bot.services.outbox.pending(POST, poll.id)
        if delivery is not None:
            outcome = await self.bot.courier.attempt(delivery, early=True)
            if outcome.failure is not None and outcome.retry_at is None:
                raise not_posted(outcome.failure, team.channel_id)  # given up: the poll is gone
        self.bot.scheduler.wake()  # a new deadline
        poll = await self.polls.get(poll.id)
        return poll, team.channel_id, jump_url(poll)

    # -- commands ------------------------------------------------------------------------------

    @poll.command(name="create", description="Ask your team a question, with a button per answer")
    @app_commands.describe(
        question="What you want to ask (up to 300 characters)",
        options="2 to 20 answers separated by | (for example: Job | Career | Both)",
        team="The team to ask (default: the team of this channel)",
        multiple="Let members pick several answers (default: one each)",
        anonymous="Nobody, managers included, can see who voted",
        hide_results="Keep the counts hidden until the poll closes",
        duration="How long it stays open: 30m, 2h, 3d, 1w or 1d12h (default 1 day; at most 4w)",
    )
    async def create(
        self,
        interaction: Interaction,
        question: str,
        options: str,
        team: TeamOption | None = None,
        multiple: bool = False,
        anonymous: bool = False,
        hide_results: bool = False,
        duration: str | None = None,
    ) -> None:
        found = team or await team_here(interaction)
        poll = await self.polls.create(
            found,
            interaction.user.id,
            question,
            options,
            multiple=multiple,
            anonymous=anonymous,
            hide_results=hide_results,
            duration=duration,
        )
        poll, channel_id, url = await self.post(poll, interaction)
        said = created_text(poll, channel_id, posted=url is not None)
        await interaction.followup.send(said, view=jump_view(url), ephemeral=True)

    @poll.command(name="close", description="Close a poll now and post its results")
    @app_commands.describe(poll="The poll to close (type to search the open polls)")
    async def close(self, interaction: Interaction, poll: PollOption) -> None:
        await self.close_poll(interaction, poll)

    async def close_poll(self, interaction: Interaction, poll_id: int) -> None:
        """`/poll close` and the poll message's Close button: its creator, or a member who may
        manage its team (`manages_team`), closes it; the results follow as a reply to it."""
        assert interaction.guild_id is not None
        found = await self.polls.get(poll_id, interaction.guild_id)
        team = await self.bot.teams.get(found.team_id)
        try:
            closed = await self.polls.closing.close(
                poll_id,
                interaction.guild_id,
                interaction.user.id,
                manages_team(interaction, team),
            )
        except errors.Conflict:
            self.messages.request(poll_id)  # a message still showing Close: fix it
            raise
        said = _(
            "🏁 Poll #{id} is closed; its results are being posted in {channel}",
            id=closed.id,
            channel=f"<#{team.channel_id}>",
        )
        view = jump_view(jump_url(closed))
        await interaction.response.send_message(said, view=view, ephemeral=True)
        delivery = await self.bot.services.outbox.pending(RESULT, closed.id)
        if delivery is None:  # already announced by the job's pass
            return
        announce = self.bot.courier.attempt(delivery)
        in_background(self._announcing, announce, f"breakroom-poll-close-{closed.id}")

    @poll.command(name="results", description="A poll's counts (hidden polls: once closed)")
    @app_commands.describe(
        poll="The poll (type to search)",
        voters="Also list who voted (named polls; the poll's creator and managers only)",
    )
    async def results(
        self, interaction: Interaction, poll: PollOption, voters: bool = False
    ) -> None:
        assert interaction.guild_id is not None
        found = await self.polls.results(
            poll,
            interaction.guild_id,
            interaction.user.id,
            is_manager(interaction),
            voters,
        )
        comparison = None
        if found.poll.closed:
            comparison = await self.polls.runs.comparison(found.poll.id)
        chart = await self.runs_chart(found, is_manager(interaction), interaction)
        view = results_layout(found, comparison, chart=chart.filename if chart else None)
        if chart is None:
            await interaction.response.send_message(view=view, ephemeral=True)
        else:
            await interaction.followup.send(view=view, file=chart, ephemeral=True)

    async def runs_chart(
        self, found: Results, manager: bool, interaction: Interaction
    ) -> discord.File | None:
        """A PNG of each option's share across the runs of a re-run poll, when there are two or
        more runs this member may see. Rendering takes a moment, so the reply is deferred."""
        if not found.counts_visible:
            return None
        runs = [
            run
            for run in await self.polls.runs.poll_runs(found.poll.id)
            if run.visible_to(interaction.user.id, manager)
        ]
        if len(runs) < 2:
            return None
        await interaction.response.defer(ephemeral=True, thinking=True)
        # Imported on first use: matplotlib costs ~40 MiB and half a second at start-up.
        from bot.charts import poll_runs_chart

        # Every run left is one this member may see (hidden ones were filtered just above). The
        # chart speaks the member's language: to_thread carries the context into the thread.
        png = await asyncio.to_thread(
            poll_runs_chart, runs, found.poll.question, include_hidden=True
        )
        return discord.File(io.BytesIO(png), filename=f"poll-{found.poll.id}-runs.png")

    @poll.command(name="list", description="The team's open polls and the last closed ones")
    @app_commands.describe(team="The team (default: the team of this channel)")
    async def list_polls(self, interaction: Interaction, team: TeamOption | None = None) -> None:
        found = team or await team_here(interaction)
        polls = await self.polls.for_team(found.id)
        await interaction.response.send_message(embed=list_embed(found.name, polls), ephemeral=True)

    @poll.command(
        name="rerun", description="Ask a poll's question again, to compare with last time"
    )
    @app_commands.describe(poll="The poll to ask again (type to search)")
    async def rerun(self, interaction: Interaction, poll: PollOption) -> None:
        assert interaction.guild_id is not None
        again = await self.polls.runs.rerun(poll, interaction.guild_id, interaction.user.id)
        again, channel_id, url = await self.post(again, interaction)
        said = rerun_text(again, channel_id, posted=url is not None)
        await interaction.followup.send(said, view=jump_view(url), ephemeral=True)

    # -- privacy -------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_poll_counts_changed(self, poll_ids: tuple[int, ...]) -> None:
        """Another feature changed these polls' counts (`/forget-me`): show them."""
        for poll_id in poll_ids:
            self.messages.request(poll_id)


def created_text(poll: Poll, channel_id: int, *, posted: bool) -> str:
    """What the member reads once their new poll is posted (or while Discord is slow)."""
    fields: dict[str, object] = {
        "id": poll.id,
        "channel": f"<#{channel_id}>",
        "when": format_dt(poll.closes_at, "R"),
    }
    if posted:
        return _("📊 Your poll #{id} is posted in {channel} · closes {when}", **fields)
    return _(
        "📊 Your poll #{id} will be posted in {channel} shortly (Discord is slow right "
        "now) · closes {when}",
        **fields,
    )


def rerun_text(again: Poll, channel_id: int, *, posted: bool) -> str:
    """What the member reads once the re-run is posted (or while Discord is slow)."""
    fields: dict[str, object] = {
        "id": again.id,
        "rerun_of": again.rerun_of,
        "channel": f"<#{channel_id}>",
        "when": format_dt(again.closes_at, "R"),
    }
    if posted:
        return _(
            "🔁 Poll #{id} asks the question of poll #{rerun_of} again: it is posted in "
            "{channel} · closes {when}, then compared with last time",
            **fields,
        )
    return _(
        "🔁 Poll #{id} asks the question of poll #{rerun_of} again: it will be posted in "
        "{channel} shortly (Discord is slow right now) · closes {when}, then compared "
        "with last time",
        **fields,
    )


def not_posted(failure: Failure, channel_id: int) -> errors.UserError:
    """What the member is told when their poll can't be posted (and was forgotten)."""
    if failure.kind == "forbidden":
        return errors.NotAllowed(
            _(
                "I can't post in {channel}. Ask a manager to let Breakroom view the channel, "
                "send messages and embed links there, then try again.",
                channel=f"<#{channel_id}>",
            )
        )
    if failure.kind == "gone":
        return errors.NotFound(
            _(
                "The team's channel no longer exists. A manager can pick another one with "
                "`/team edit`, then try again."
            )
        )
    return errors.UserError(_("Your poll could not be posted: {reason}", reason=failure.reason))


async def setup(bot: Breakroom) -> None:
    await bot.add_cog(PollsCog(bot))
