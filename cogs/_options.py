"""The options many commands share, as discord.py transformers: `team`, `prompt`, `poll`, `post`.

Each turns what the member typed or picked into what the command needs (a `Team`, or the id of a
prompt, poll or post of this server) and offers the choices as the member types. A value that
names nothing raises a `UserError`, which the bot's one error handler shows as it is (discord.py
wraps it in a `TransformerError`; `report_error` unwraps it).

In Discord the options stay plain text options with autocomplete, as COMMANDS.md names them.
An omitted `team` means "the team of this channel" (`team_here`). Each `autocomplete` takes a
str (hence `type: ignore[override]`): discord.py types the value as int | float | str, and these
are all text options.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import discord
from discord import app_commands

from bot.client import Breakroom
from bot.errors import NotFound, UserError
from bot.i18n import ENGLISH, N_, _, current, day
from bot.poll_model import parse_poll_ref
from bot.teams import Team
from bot.text import parse_id

Interaction = discord.Interaction[Breakroom]

MAX_CHOICES = 25
MAX_CHOICE_NAME = 100
#: what a member reads for an id that names nothing, per kind of option
UNKNOWN_ID = {
    "prompt": N_(
        "“{value}” is not a prompt I know. Pick a prompt from the list that appears as you type "
        "(it fills in its id)."
    ),
    "post": N_(
        "“{value}” is not a post I know. Pick a post from the list that appears as you type (it "
        "fills in its id)."
    ),
}


def choice_name(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_CHOICE_NAME else text[: MAX_CHOICE_NAME - 1] + "…"


def channel_ids(interaction: Interaction) -> tuple[int | None, int | None]:
    """The channel the interaction came from, and its parent when it is a thread."""
    channel = interaction.channel
    parent_id = getattr(channel, "parent_id", None) if channel is not None else None
    return interaction.channel_id, parent_id


async def find_team(interaction: Interaction, team: str | None) -> Team:
    """The team a command means: the `team` option, else the channel's team, else the only one."""
    assert interaction.guild_id is not None  # the tree refuses DMs before this runs
    channel_id, parent_id = channel_ids(interaction)
    found: Team = await interaction.client.teams.resolve(
        interaction.guild_id, team=team, channel_id=channel_id, parent_channel_id=parent_id
    )
    return found


async def team_here(interaction: Interaction) -> Team:
    """The team of the channel the command is used in (or the server's only team)."""
    return await find_team(interaction, None)


async def team_of_namespace(interaction: Interaction) -> Team | None:
    """For another option's autocomplete: the team the member picked so far, or this channel's."""
    with contextlib.suppress(UserError):
        return await find_team(interaction, getattr(interaction.namespace, "team", None))
    return None


def read_id(value: str, what: str) -> int:
    """An id from an autocomplete value (`12`, or `#12` typed by hand); `what`: a key of
    `UNKNOWN_ID`."""
    found = parse_id(value)
    if found is None:
        raise NotFound(_(UNKNOWN_ID[what], value=value.strip()[:40]))
    return found


def post_day(moment: datetime) -> str:
    """A post's day in a choice: `05 Jan 2026` in English, else as the language writes it."""
    return moment.strftime("%d %b %Y") if current() == ENGLISH else day(moment)


class TeamTransformer(app_commands.Transformer[Breakroom]):
    async def transform(self, interaction: Interaction, value: Any) -> Team:
        return await find_team(interaction, str(value))

    async def autocomplete(  # type: ignore[override]
        self, interaction: Interaction, value: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        teams = await interaction.client.teams.search(interaction.guild_id, value)
        return [app_commands.Choice(name=choice_name(t.name), value=t.name) for t in teams][
            :MAX_CHOICES
        ]


class PromptTransformer(app_commands.Transformer[Breakroom]):
    """A prompt of the server's bank, by id."""

    async def transform(self, interaction: Interaction, value: Any) -> int:
        return read_id(str(value), "prompt")

    async def autocomplete(  # type: ignore[override]
        self, interaction: Interaction, value: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        found = await interaction.client.services.prompts.bank.search(interaction.guild_id, value)
        return [
            app_commands.Choice(name=choice_name(f"#{p.id} · {p.text}"), value=str(p.id))
            for p in found
        ][:MAX_CHOICES]


class PostTransformer(app_commands.Transformer[Breakroom]):
    """A posted prompt of the team (the `team` option's, or this channel's), by id."""

    async def transform(self, interaction: Interaction, value: Any) -> int:
        return read_id(str(value), "post")

    async def autocomplete(  # type: ignore[override]
        self, interaction: Interaction, value: str
    ) -> list[app_commands.Choice[str]]:
        team = await team_of_namespace(interaction)
        if team is None:
            return []
        posts = await interaction.client.services.prompts.posts.recent_posts(team.id, value)
        choices = []
        for post in posts[:MAX_CHOICES]:
            assert post.posted_at is not None
            posted = post_day(post.posted_at.astimezone(team.zone))
            name = choice_name(_("{day} · {prompt}", day=posted, prompt=post.prompt_text))
            choices.append(app_commands.Choice(name=name, value=str(post.id)))
        return choices


class PollTransformer(app_commands.Transformer[Breakroom]):
    """A poll of the server, by id; offered from the channel's team (open ones first, and only
    open ones for `/poll close`)."""

    async def transform(self, interaction: Interaction, value: Any) -> int:
        return parse_poll_ref(str(value))

    async def autocomplete(  # type: ignore[override]
        self, interaction: Interaction, value: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        team_id: int | None = None
        with contextlib.suppress(UserError):
            team_id = (await team_here(interaction)).id
        open_only = interaction.command is not None and interaction.command.name == "close"
        found = await interaction.client.services.polls.search(
            interaction.guild_id, value, team_id=team_id, open_only=open_only
        )
        return [
            app_commands.Choice(
                name=choice_name(
                    _("{question} (closed)", question=c.question) if c.closed else c.question
                ),
                value=str(c.id),
            )
            for c in found
        ]


TeamOption = app_commands.Transform[Team, TeamTransformer]
PromptOption = app_commands.Transform[int, PromptTransformer]
PostOption = app_commands.Transform[int, PostTransformer]
PollOption = app_commands.Transform[int, PollTransformer]
