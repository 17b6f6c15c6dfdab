"""`/forget-me`, and the data-lifetime job (a removed server's data goes after 30 days).

`/forget-me` asks first (a button only the member who asked may press), then has each feature
delete what it holds of the member in this server — answers, votes in named polls, their own
reflections — and removes their answer posts and reflection posts from Discord. Running it again
finds nothing left. What can't be found, by design: votes in anonymous polls, and reflections
written under a secret key that has since been replaced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Breakroom
from bot.errors import NotAllowed
from bot.i18n import N_, _, n_
from bot.lifetime import Lifetime
from bot.member_data import MemberDataDeleted
from cogs._shared import FromCustomId, Interaction, guarded

log = logging.getLogger(__name__)

CANT_FIND = N_(
    "Not found, by design: votes in anonymous polls (nothing links them to you), and "
    "reflections written before Breakroom's secret key was replaced."
)


@dataclass(frozen=True, slots=True)
class Forgotten:
    answers: int
    answer_posts: int
    vote_polls: int
    #: deleted now (not shared yet, or hidden)
    reflections: int
    #: shared ones, removed with their posts at random times over the next 24 hours
    reflections_later: int
    #: posts that Discord would not let the bot delete
    left_in_discord: int

    @property
    def nothing(self) -> bool:
        return not (self.answers or self.vote_polls or self.reflections or self.reflections_later)


def confirm_text(guild_name: str) -> str:
    return (
        _(
            "**Forget me in {server}?**\n"
            "This deletes, in this server only:\n"
            "• your answers to prompts, and your answer posts in their threads;\n"
            "• your votes in named polls (their counts change);\n"
            "• reflections you wrote, and their posts (shared ones one by one over the next 24 "
            "hours, so nobody sees them vanish together).\n"
            "It can't be undone.",
            server=discord.utils.escape_markdown(guild_name),
        )
        + " "
        + _(CANT_FIND)
    )


def result_text(done: Forgotten) -> str:
    if done.nothing:
        return (
            _(
                "Nothing of yours was left to delete in this server: no answers, no votes in "
                "named polls, no reflections of yours that Breakroom can find."
            )
            + "\n"
            + _(CANT_FIND)
        )
    lines = [_("Done. Deleted in this server:")]
    if done.answers:
        posts = n_("{count} post", "{count} posts", done.answer_posts)
        lines.append(
            n_(
                "• {count} answer to prompts, and {posts} in the discussion threads",
                "• {count} answers to prompts, and {posts} in the discussion threads",
                done.answers,
                posts=posts,
            )
        )
    if done.vote_polls:
        lines.append(
            n_(
                "• your votes in {count} named poll (their counts are updated)",
                "• your votes in {count} named polls (their counts are updated)",
                done.vote_polls,
            )
        )
    if done.reflections:
        lines.append(
            n_(
                "• {count} reflection of yours not on show (not yet shared, or hidden)",
                "• {count} reflections of yours not on show (not yet shared, or hidden)",
                done.reflections,
            )
        )
    if done.reflections_later:
        lines.append(
            n_(
                "• {count} shared reflection of yours: each is removed, text and post, at its own "
                "random time within the next 24 hours, so that nobody sees them vanish together "
                "and learns they had one author",
                "• {count} shared reflections of yours: each is removed, text and post, at its "
                "own random time within the next 24 hours, so that nobody sees them vanish "
                "together and learns they had one author",
                done.reflections_later,
            )
        )
    if done.left_in_discord:
        lines.append(
            n_(
                "⚠️ {count} post could not be removed from Discord (Breakroom lacks the "
                "permission, or the thread is locked); it is deleted from Breakroom. A "
                "moderator can delete it by hand.",
                "⚠️ {count} posts could not be removed from Discord (Breakroom lacks the "
                "permission, or the thread is locked); they are deleted from Breakroom. A "
                "moderator can delete them by hand.",
                done.left_in_discord,
            )
        )
    lines.append(_(CANT_FIND))
    return "\n".join(lines)


class ForgetButton(
    FromCustomId,
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"breakroom:forget-me:(?P<action>yes|no):(?P<user>[0-9]+)",
):
    """Confirm or cancel `/forget-me`; only the member who asked may press it."""

    def __init__(self, action: str, user_id: int) -> None:
        yes = action == "yes"
        super().__init__(
            discord.ui.Button(
                label=_("Delete my data") if yes else _("Keep it"),
                style=discord.ButtonStyle.danger if yes else discord.ButtonStyle.secondary,
                custom_id=f"breakroom:forget-me:{action}:{user_id}",
            )
        )
        self.action = action
        self.user_id = user_id

    @guarded
    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        if interaction.user.id != self.user_id or interaction.guild_id is None:
            raise NotAllowed(
                _(
                    "Only the member who asked can confirm this. To delete your own data, use "
                    "`/forget-me`."
                )
            )
        if self.action == "no":
            await interaction.response.edit_message(content=_("Nothing was deleted."), view=None)
            return
        # Take the buttons away first: a second press can't start a second run.
        await interaction.response.edit_message(content=_("Deleting your data…"), view=None)
        cog = interaction.client.get_cog(PrivacyCog.__cog_name__)
        if not isinstance(cog, PrivacyCog):
            raise NotAllowed(_("Forgetting is unavailable for a moment; try again in a minute."))
        done = await cog.forget(interaction.guild_id, interaction.user.id)
        await interaction.edit_original_response(content=result_text(done))


class PrivacyCog(commands.Cog, name="Privacy"):
    """Your data: forget me; and how long a server's data is kept."""

    def __init__(self, bot: Breakroom) -> None:
        self.bot = bot

    @property
    def lifetime(self) -> Lifetime:
        return self.bot.services.lifetime

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ForgetButton)
        self.bot.scheduler.register("lifetime", self.lifetime.run_due)

    async def cog_unload(self) -> None:
        self.bot.scheduler.unregister("lifetime")
        self.bot.remove_dynamic_items(ForgetButton)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # Servers that removed the bot while it was offline: their 30 days start now.
        missing = await self.lifetime.mark_missing_as_left(g.id for g in self.bot.guilds)
        if missing:
            log.info(
                "%d servers with data no longer have the bot; deleting in 30 days", len(missing)
            )
            self.bot.scheduler.wake()

    @app_commands.command(name="forget-me")
    async def forget_me(self, interaction: Interaction) -> None:
        """Delete what you wrote in this server: answers, named-poll votes, your reflections"""
        assert interaction.guild is not None
        view = discord.ui.View(timeout=None)
        view.add_item(ForgetButton("yes", interaction.user.id))
        view.add_item(ForgetButton("no", interaction.user.id))
        await interaction.response.send_message(
            confirm_text(interaction.guild.name), view=view, ephemeral=True
        )

    async def forget(self, guild_id: int, user_id: int) -> Forgotten:
        """Each feature deletes what it holds of the member (bot/member_data.py); then the posts
        they name go from Discord, and the polls whose counts changed are refreshed."""
        bot = self.bot
        done: dict[str, MemberDataDeleted] = {}
        posts: dict[str, int] = {}
        failed = 0
        for feature in bot.services.member_data:
            result = await feature.forget_member(guild_id, user_id)
            done[result.kind] = result
            for channel_id, message_id in result.posts:
                if await bot.courier.delete_now(channel_id, message_id):
                    posts[result.kind] = posts.get(result.kind, 0) + 1
                else:
                    failed += 1
            if result.polls:
                bot.dispatch("poll_counts_changed", result.polls)
            if result.later:
                bot.scheduler.wake()  # its job sleeps until the first removal is due
        none = MemberDataDeleted("answers", 0)
        return Forgotten(
            answers=done.get("answers", none).deleted,
            answer_posts=posts.get("answers", 0),
            vote_polls=len(done.get("votes", none).polls),
            reflections=done.get("reflections", none).deleted,
            reflections_later=done.get("reflections", none).later,
            left_in_discord=failed,
        )


async def setup(bot: Breakroom) -> None:
    await bot.add_cog(PrivacyCog(bot))
