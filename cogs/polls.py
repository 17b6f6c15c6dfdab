"""`/poll`: team polls with a button per option, live counts, deadlines and re-runs.

Discord glue only: the rules and the SQL live in `bot/polls.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from datetime import datetime
from typing import Any, ClassVar

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import escape_markdown

from bot import errors
from bot.client import Breakroom, is_manager
from bot.polls import OptionChange, Poll, PollRun, Polls, Results, Vote, parse_poll_ref
from bot.teams import Team
from cogs._shared import Interaction, choice_name, guarded, resolve_team, team_autocomplete

log = logging.getLogger(__name__)

COLOUR_OPEN = discord.Colour.from_rgb(88, 134, 118)
COLOUR_CLOSED = discord.Colour.from_rgb(120, 120, 130)
BAR_WIDTH = 12
FIELD_LIMIT = 1024
EMBED_BUDGET = 5800  # Discord allows 6000 characters per embed; keep a margin
LIST_OPEN_LIMIT = 15

# Errors after which posting again later may work (Discord hiccups, the network, rate limits).
TRANSIENT = (discord.DiscordServerError, discord.RateLimited, aiohttp.ClientError, TimeoutError)

Comparison = tuple[PollRun, list[OptionChange]]


def polls_of(bot: Breakroom) -> Polls:
    """The poll logic on the bot's database, clock and key (the key is read when used: it is
    loaded in `setup_hook`)."""
    return Polls(bot.db, bot.clock, bot.key)


# -- rendering ---------------------------------------------------------------------------------


def ts(moment: datetime, style: str = "f") -> str:
    """A Discord timestamp: every member sees it in their own timezone."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def bar(percent: int) -> str:
    filled = round(BAR_WIDTH * percent / 100)
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def jump_url(poll: Poll) -> str | None:
    if poll.channel_id is None or poll.message_id is None:
        return None
    return f"https://discord.com/channels/{poll.guild_id}/{poll.channel_id}/{poll.message_id}"


def option_lines(poll: Poll, counts: bool, changes: list[OptionChange] | None = None) -> list[str]:
    by_label = {c.label.casefold(): c for c in changes or []}
    winners = {o.id for o in poll.winners} if poll.closed else set()
    lines: list[str] = []
    for option in poll.options:
        label = escape_markdown(option.label)
        if not counts:
            lines.append(f"**{option.position}.** {label}")
            continue
        share = poll.share(option)
        trophy = " 🏆" if option.id in winners else ""
        line = f"**{option.position}. {label}**{trophy} — {plural(option.votes, 'vote')} · {share}%"
        change = by_label.get(option.label.casefold())
        if change is not None:
            line += f" (last time {change.before}%, {change.points:+d})"
        lines.append(f"{line}\n`{bar(share)}`")
    return lines


def winner_text(poll: Poll) -> str:
    winners = poll.winners
    if not winners:
        return "Nobody voted."
    names = " and ".join(f"**{escape_markdown(o.label)}**" for o in winners)
    top = winners[0]
    picked = f"{top.votes} of {plural(poll.voters, 'voter')}"
    if len(winners) == 1:
        return f"{names} wins with {poll.share(top)}% ({picked})."
    return f"Tie between {names}: {poll.share(top)}% each ({picked} each)."


def poll_embed(poll: Poll, comparison: Comparison | None = None) -> discord.Embed:
    """The poll message: live while open, the final results once closed."""
    counts = poll.closed or not poll.hide_results
    changes = comparison[1] if comparison else None
    lines = [f"**{escape_markdown(poll.question)}**", "", *option_lines(poll, counts, changes)]
    embed = discord.Embed(
        title="📊 Poll closed" if poll.closed else "📊 Team poll",
        description="\n".join(lines),
        colour=COLOUR_CLOSED if poll.closed else COLOUR_OPEN,
    )
    if poll.closed:
        assert poll.closed_at is not None
        embed.add_field(name="Result", value=winner_text(poll), inline=False)
        embed.add_field(name="Turnout", value=f"{plural(poll.voters, 'member')} voted")
        embed.add_field(name="Closed", value=ts(poll.closed_at))
        if comparison:
            previous = comparison[0]
            embed.add_field(
                name="Last time",
                value=f"{ts(previous.date, 'D')}: {plural(previous.voters, 'member')} voted",
            )
    else:
        how = (
            "Click every answer you choose; click one again to remove it."
            if poll.multiple
            else "Click an answer to vote. Click another to move your vote, or yours again to "
            "remove it."
        )
        embed.add_field(name="How to vote", value=how, inline=False)
        embed.add_field(name="Closes", value=f"{ts(poll.closes_at, 'R')} ({ts(poll.closes_at)})")
        embed.add_field(name="Votes so far", value=f"{plural(poll.voters, 'member')} voted")
        if poll.hide_results:
            embed.add_field(name="Results", value="Hidden until the poll closes.")
    embed.add_field(
        name="Anonymous",
        value="Yes: nobody, managers included, can see who voted."
        if poll.anonymous
        else "No: the poll's creator and managers can see who voted.",
        inline=False,
    )
    embed.add_field(name="Asked by", value=f"<@{poll.creator_id}>")
    footer = f"Poll #{poll.id} · {poll.team_name}"
    if poll.rerun_of is not None:
        footer += f" · re-run of poll #{poll.rerun_of}"
    embed.set_footer(text=footer)
    return embed


def result_embed(poll: Poll, comparison: Comparison | None) -> discord.Embed:
    """The short message posted in the team channel when a poll closes."""
    lines = [winner_text(poll), f"{plural(poll.voters, 'member')} voted."]
    if comparison:
        previous, changes = comparison
        lines += [
            "",
            f"**Compared with the previous run** ({ts(previous.date, 'D')}, "
            f"{plural(previous.voters, 'member')} voted):",
        ]
        lines += [
            f"{escape_markdown(c.label)} {c.before}% → {c.after}%, {c.points:+d}" for c in changes
        ]
    else:
        lines.append(
            " · ".join(f"{escape_markdown(o.label)} {poll.share(o)}%" for o in poll.options)
        )
    url = jump_url(poll)
    if url:
        lines.append(f"[See the poll]({url})")
    return discord.Embed(
        title=shorten(f"📊 Results: {poll.question}", 256),
        description="\n".join(lines),
        colour=COLOUR_CLOSED,
    ).set_footer(text=f"Poll #{poll.id} · {poll.team_name}")


def results_embed(results: Results, comparison: Comparison | None) -> discord.Embed:
    """`/poll results`, for one member."""
    poll = results.poll
    changes = comparison[1] if comparison else None
    lines = [f"**{escape_markdown(poll.question)}**", ""]
    lines += option_lines(poll, results.counts_visible, changes)
    if results.counts_visible and poll.hide_results and not poll.closed:
        lines += [
            "",
            "🔒 Hidden from the team until the poll closes; you see them as its creator "
            "or a manager.",
        ]
    elif not results.counts_visible:
        lines += ["", f"🔒 The results are hidden until the poll closes {ts(poll.closes_at, 'R')}."]
    embed = discord.Embed(
        title=f"📊 Poll #{poll.id}", description="\n".join(lines), colour=COLOUR_OPEN
    )
    if poll.closed:
        assert poll.closed_at is not None
        if results.counts_visible:
            embed.add_field(name="Result", value=winner_text(poll), inline=False)
        embed.add_field(name="Closed", value=ts(poll.closed_at))
    else:
        embed.add_field(name="Closes", value=f"{ts(poll.closes_at, 'R')} ({ts(poll.closes_at)})")
    embed.add_field(name="Turnout", value=f"{plural(poll.voters, 'member')} voted")
    if url := jump_url(poll):
        embed.add_field(name="Message", value=f"[See the poll]({url})")
    if results.voters is not None:
        add_voter_fields(embed, poll, results.voters)
    return embed


def add_voter_fields(embed: discord.Embed, poll: Poll, voters: dict[int, tuple[int, ...]]) -> None:
    budget = max(0, EMBED_BUDGET - len(embed)) // max(1, len(poll.options))
    for option in poll.options:
        ids = voters.get(option.id, ())
        value = ""
        for shown, user_id in enumerate(ids):
            more = f" and {len(ids) - shown} more"
            mention = f"{', ' if value else ''}<@{user_id}>"
            if len(value) + len(mention) + len(more) > min(FIELD_LIMIT, budget - 60):
                value += more
                break
            value += mention
        embed.add_field(name=shorten(f"{option.position}. {option.label}", 256), value=value or "—")


def vote_message(vote: Vote) -> str:
    """The ephemeral confirmation: what the member now has selected."""
    chosen = f"**{escape_markdown(vote.option.label)}**"
    if not vote.poll.multiple:
        text = {
            "voted": f"✅ Your vote: {chosen}.",
            "added": f"✅ Your vote: {chosen}.",
            "moved": f"✅ You moved your vote to {chosen}.",
            "removed": f"Your vote for {chosen} is removed: you have no vote in this poll now. "
            f"Click an answer to vote again.",
        }[vote.action]
    else:
        selected = ", ".join(f"**{escape_markdown(o.label)}**" for o in vote.selected)
        text = f"Removed {chosen}." if vote.action == "removed" else f"✅ Added {chosen}."
        text += (
            f" You now have selected: {selected}." if selected else " You have nothing selected."
        )
    if vote.poll.anonymous:
        text += "\n🔒 This poll is anonymous: nobody, managers included, can see who voted."
    return text


class PollButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"breakroom:poll:(?P<poll>\d+):(?P<option>\d+)",
):
    """One option of one poll; the ids live in the custom_id, so it works after a restart."""

    def __init__(
        self,
        poll_id: int,
        option_id: int,
        *,
        label: str | None = None,
        row: int | None = None,
        disabled: bool = False,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                custom_id=f"breakroom:poll:{poll_id}:{option_id}",
                row=row,
                disabled=disabled,
                style=style,
            )
        )
        self.poll_id = poll_id
        self.option_id = option_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PollButton:
        return cls(int(match["poll"]), int(match["option"]))

    @guarded
    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        cog = interaction.client.get_cog(PollsCog.__cog_name__)
        if not isinstance(cog, PollsCog):
            raise errors.NotFound("Polls are unavailable for a moment; try again in a minute.")
        await cog.vote(interaction, self.poll_id, self.option_id)


def poll_view(poll: Poll) -> discord.ui.View:
    """A button per option, in rows of five; disabled (winners in green) once closed."""
    view = discord.ui.View(timeout=None)
    winners = {o.id for o in poll.winners} if poll.closed else set()
    for index, option in enumerate(poll.options):
        view.add_item(
            PollButton(
                poll.id,
                option.id,
                label=option.label,
                row=index // 5,
                disabled=poll.closed,
                style=discord.ButtonStyle.success
                if option.id in winners
                else discord.ButtonStyle.secondary,
            )
        )
    return view


# -- the live message --------------------------------------------------------------------------


class PollMessages:
    """Keeps each poll message in step with the database without hitting Discord's rate limits.

    A burst of votes marks the poll dirty; one task per poll edits the message at once, then at
    most once per `interval` while votes keep coming, and always once more after the last vote.
    Every edit renders what the database holds at that moment, and all edits of one poll go
    through one lock, so the message can never go back to an older state.
    """

    #: seconds between two edits of one poll message (Discord allows ~5 edits / 5 s / channel)
    interval: ClassVar[float] = 2.5

    def __init__(self, bot: Breakroom) -> None:
        self.bot = bot
        self.edits = 0
        self._dirty: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def request(self, poll_id: int) -> None:
        """The poll changed: show it soon."""
        self._dirty.add(poll_id)
        task = self._tasks.get(poll_id)
        if task is None or task.done():
            self._tasks[poll_id] = asyncio.create_task(
                self._run(poll_id), name=f"breakroom-poll-refresh-{poll_id}"
            )

    async def _run(self, poll_id: int) -> None:
        try:
            while poll_id in self._dirty:
                try:
                    await self.edit_now(poll_id)
                except (discord.HTTPException, *TRANSIENT) as error:
                    log.warning("could not refresh the message of poll %s: %s", poll_id, error)
                except Exception:
                    log.exception("refreshing the message of poll %s failed", poll_id)
                await asyncio.sleep(self.interval)
        finally:
            if self._tasks.get(poll_id) is asyncio.current_task():
                del self._tasks[poll_id]
            lock = self._locks.get(poll_id)
            if lock is not None and not lock.locked():
                del self._locks[poll_id]

    async def edit_now(self, poll_id: int) -> bool:
        """Edit the message to the poll's current state; False when there is none to edit."""
        async with self._locks.setdefault(poll_id, asyncio.Lock()):
            self._dirty.discard(poll_id)
            try:
                poll = await polls_of(self.bot).get(poll_id)
            except errors.NotFound:
                return False
            if poll.channel_id is None or poll.message_id is None:
                return False
            comparison = await polls_of(self.bot).comparison(poll_id) if poll.closed else None
            channel = self.bot.get_partial_messageable(poll.channel_id, guild_id=poll.guild_id)
            await channel.get_partial_message(poll.message_id).edit(
                embed=poll_embed(poll, comparison), view=poll_view(poll)
            )
            self.edits += 1
            return True

    async def close(self, flush_timeout: float = 5.0) -> None:
        """Stop the refresh tasks; the last changes still reach their messages."""
        pending = set(self._dirty)
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if pending:
            flush = asyncio.gather(*(self.edit_now(p) for p in pending), return_exceptions=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(flush, flush_timeout)


# -- autocomplete ------------------------------------------------------------------------------


async def poll_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The polls of the channel's team (the server's, elsewhere): open ones first."""
    if interaction.guild_id is None:
        return []
    bot = interaction.client
    team_id: int | None = None
    with contextlib.suppress(errors.UserError):
        team_id = (await resolve_team(interaction, None)).id
    open_only = interaction.command is not None and interaction.command.name == "close"
    found = await polls_of(bot).search(
        interaction.guild_id, current, team_id=team_id, open_only=open_only
    )
    return [
        app_commands.Choice(
            name=choice_name(f"{c.question} (closed)" if c.closed else c.question), value=str(c.id)
        )
        for c in found
    ]


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
        self._announcing: set[asyncio.Task[None]] = set()
        # poll id -> how its last announcement ended, for whoever waits on it (tests, shutdown)
        self._announced: dict[int, str] = {}
        self._announced_changed = asyncio.Condition()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(PollButton)
        self.bot.scheduler.register("polls", self.run_due)

    async def cog_unload(self) -> None:
        self.bot.scheduler.unregister("polls")
        self.bot.remove_dynamic_items(PollButton)
        if self._announcing:
            # Let announcements under way finish; one cut short before its post goes back to
            # 'pending' and is posted after the restart.
            _, late = await asyncio.wait(self._announcing, timeout=5)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self.messages.close()

    @property
    def polls(self) -> Polls:
        return polls_of(self.bot)

    # -- the scheduled job and announcing ------------------------------------------------------

    async def run_due(self, now: datetime) -> datetime | None:
        """Close polls whose deadline passed (also while the bot was down) and announce them."""
        for poll in await self.polls.claim_due(now):
            await self.announce(poll)
        return await self.polls.next_due()

    async def announce(self, poll: Poll) -> None:
        """Show the final state on the poll message and post the result message, once.

        The announcement was claimed ('posting') in the transaction that closed the poll, so
        nobody else posts it. A transient failure before the post sets it back to 'pending' for
        a later scheduler pass; once the post may have reached Discord it is never retried.
        """
        posting = False
        state: str = "failed"
        message_id: int | None = None
        try:
            try:
                await self.messages.edit_now(poll.id)
            except (discord.NotFound, discord.Forbidden) as error:
                log.warning("poll %s: its message can't be edited (%s)", poll.id, error)
            poll = await self.polls.get(poll.id)
            team = await self.bot.teams.get(poll.team_id)
            comparison = await self.polls.comparison(poll.id)
            channel = self.bot.get_partial_messageable(team.channel_id, guild_id=team.guild_id)
            posting = True
            message = await channel.send(embed=result_embed(poll, comparison))
            state, message_id = "posted", message.id
        except asyncio.CancelledError:
            if not posting:
                await self.polls.finish_announcement(poll.id, "pending")
            raise
        except TRANSIENT as error:
            log.warning("poll %s: announcing failed for now (%s); retrying later", poll.id, error)
            state = "pending"
        except (discord.HTTPException, errors.UserError) as error:
            log.warning("poll %s: its results can't be posted (%s)", poll.id, error)
        except Exception:
            log.exception("poll %s: announcing its results failed", poll.id)
        await self.polls.finish_announcement(poll.id, state, message_id)  # type: ignore[arg-type]
        if state == "pending":
            self.bot.scheduler.wake()
        async with self._announced_changed:
            self._announced[poll.id] = state
            self._announced_changed.notify_all()

    async def wait_announced(self, poll_id: int, timeout: float = 10.0) -> str:
        """Wait until an announcement of the poll has ended; returns how ('posted', ...)."""

        async def ended() -> str:
            async with self._announced_changed:
                await self._announced_changed.wait_for(lambda: poll_id in self._announced)
                return self._announced[poll_id]

        return await asyncio.wait_for(ended(), timeout)

    # -- voting --------------------------------------------------------------------------------

    async def vote(self, interaction: Interaction, poll_id: int, option_id: int) -> None:
        """A click on an option: answer first, then refresh the message (coalesced)."""
        if interaction.guild_id is None:
            raise errors.NotFound("This poll no longer exists.")
        try:
            vote = await self.polls.vote(
                poll_id, option_id, interaction.guild_id, interaction.user.id
            )
        except errors.Conflict:
            # The deadline may have just passed: close it now, and fix the buttons if needed.
            self.bot.scheduler.wake()
            self.messages.request(poll_id)
            raise
        await interaction.response.send_message(vote_message(vote), ephemeral=True)
        self.messages.request(poll_id)

    async def post(self, poll: Poll, team: Team) -> discord.Message:
        """Post the poll in the team channel; a poll that can't be posted is forgotten."""
        channel = self.bot.get_partial_messageable(team.channel_id, guild_id=team.guild_id)
        try:
            message = await channel.send(embed=poll_embed(poll), view=poll_view(poll))
        except discord.Forbidden as error:
            await self.polls.discard(poll.id)
            raise errors.NotAllowed(
                f"I can't post in <#{team.channel_id}>. Ask a manager to let Breakroom view the "
                f"channel, send messages and embed links there, then try again."
            ) from error
        except discord.NotFound as error:
            await self.polls.discard(poll.id)
            raise errors.NotFound(
                "The team's channel no longer exists. A manager can pick another one with "
                "`/team edit`, then try again."
            ) from error
        except Exception:
            await self.polls.discard(poll.id)
            raise
        await self.polls.set_message(poll.id, message.channel.id, message.id)
        self.bot.scheduler.wake()
        return message

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
    @app_commands.autocomplete(team=team_autocomplete)
    async def create(
        self,
        interaction: Interaction,
        question: str,
        options: str,
        team: str | None = None,
        multiple: bool = False,
        anonymous: bool = False,
        hide_results: bool = False,
        duration: str | None = None,
    ) -> None:
        found = await resolve_team(interaction, team)
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
        message = await self.post(poll, found)
        await interaction.response.send_message(
            f"Your poll #{poll.id} is posted in <#{found.channel_id}>: {message.jump_url}\n"
            f"It closes {ts(poll.closes_at, 'R')}.",
            ephemeral=True,
        )

    @poll.command(name="close", description="Close a poll now and post its results")
    @app_commands.describe(poll="The poll to close (type to search the open polls)")
    @app_commands.autocomplete(poll=poll_autocomplete)
    async def close(self, interaction: Interaction, poll: str) -> None:
        assert interaction.guild_id is not None
        closed = await self.polls.close(
            parse_poll_ref(poll), interaction.guild_id, interaction.user.id, is_manager(interaction)
        )
        team = await self.bot.teams.get(closed.team_id)
        await interaction.response.send_message(
            f"Poll #{closed.id} is closed; its results are being posted in <#{team.channel_id}>.",
            ephemeral=True,
        )
        task = asyncio.create_task(self.announce(closed), name=f"breakroom-poll-close-{closed.id}")
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)

    @poll.command(name="results", description="A poll's counts (hidden polls: once closed)")
    @app_commands.describe(
        poll="The poll (type to search)",
        voters="Also list who voted (named polls; the poll's creator and managers only)",
    )
    @app_commands.autocomplete(poll=poll_autocomplete)
    async def results(self, interaction: Interaction, poll: str, voters: bool = False) -> None:
        assert interaction.guild_id is not None
        found = await self.polls.results(
            parse_poll_ref(poll),
            interaction.guild_id,
            interaction.user.id,
            is_manager(interaction),
            voters,
        )
        comparison = None
        if found.poll.closed:
            comparison = await self.polls.comparison(found.poll.id)
        await interaction.response.send_message(
            embed=results_embed(found, comparison), ephemeral=True
        )

    @poll.command(name="list", description="The team's open polls and the last closed ones")
    @app_commands.describe(team="The team (default: the team of this channel)")
    @app_commands.autocomplete(team=team_autocomplete)
    async def list_polls(self, interaction: Interaction, team: str | None = None) -> None:
        found = await resolve_team(interaction, team)
        polls = await self.polls.for_team(found.id)
        open_polls = [p for p in polls if not p.closed]
        closed = [p for p in polls if p.closed]
        embed = discord.Embed(title=f"📊 Polls of {found.name}", colour=COLOUR_OPEN)
        lines: list[str] = []
        for poll in open_polls[:LIST_OPEN_LIMIT]:
            link = f" · [message]({url})" if (url := jump_url(poll)) else ""
            lines.append(
                f"**#{poll.id}** {escape_markdown(shorten(poll.question, 90))} — "
                f"{plural(poll.voters, 'voter')}, closes {ts(poll.closes_at, 'R')}{link}"
            )
        if len(open_polls) > LIST_OPEN_LIMIT:
            lines.append(f"…and {len(open_polls) - LIST_OPEN_LIMIT} more open polls.")
        embed.add_field(
            name="Open", value="\n".join(lines) or "No open polls. Start one with `/poll create`."
        )
        lines = [
            f"**#{p.id}** {escape_markdown(shorten(p.question, 90))} — {winner_text(p)}"
            for p in closed
        ]
        embed.add_field(name="Recently closed", value="\n".join(lines) or "None yet.", inline=False)
        for field in embed.fields:  # stay within Discord's field limit whatever the questions
            assert field.value is not None
            if len(field.value) > FIELD_LIMIT:
                index = embed.fields.index(field)
                embed.set_field_at(index, name=field.name, value=shorten(field.value, FIELD_LIMIT))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @poll.command(
        name="rerun", description="Ask a poll's question again, to compare with last time"
    )
    @app_commands.describe(poll="The poll to ask again (type to search)")
    @app_commands.autocomplete(poll=poll_autocomplete)
    async def rerun(self, interaction: Interaction, poll: str) -> None:
        assert interaction.guild_id is not None
        again = await self.polls.rerun(
            parse_poll_ref(poll), interaction.guild_id, interaction.user.id
        )
        team = await self.bot.teams.get(again.team_id)
        message = await self.post(again, team)
        await interaction.response.send_message(
            f"Poll #{again.id} asks the question of poll #{again.rerun_of} again, in "
            f"<#{team.channel_id}>: {message.jump_url}\nWhen it closes {ts(again.closes_at, 'R')}, "
            f"its results are shown beside the previous run's.",
            ephemeral=True,
        )

    # -- privacy -------------------------------------------------------------------------------

    async def forget_member(self, guild_id: int, user_id: int) -> list[int]:
        """`/forget-me`: delete the member's votes in this server's named polls and refresh those
        polls' messages. Votes in anonymous polls can't be found, by design."""
        touched = await self.polls.forget_member(guild_id, user_id)
        for poll_id in touched:
            self.messages.request(poll_id)
        return touched


async def setup(bot: Breakroom) -> None:
    await bot.add_cog(PollsCog(bot))
