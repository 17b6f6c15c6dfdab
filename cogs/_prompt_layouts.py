"""What a prompt post and an answer in its thread look like (Components V2 layouts), and the
thread's name.

The post: a card headed by the question itself, one muted line with the team, the week and the
live answer count, for a repeat when the team was last asked, and the Answer button (its custom id
unchanged, so posts sent before layouts keep working). The team's role, when the post pings it, is
a text display above the card: a layout has no `content`, and Discord pings from text displays as
`allowed_mentions` lets it (`post_mentions`).

An answer: a card with a section of the member's name and text, their avatar beside it.

A private module (not an extension): builders only, no state.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import discord
from discord.utils import escape_markdown

from bot import i18n
from bot.courier import walk
from bot.i18n import _, n_
from bot.prompt_answers import Answer, AnswerToSend
from bot.prompt_posts import Post
from bot.teams import Team
from cogs._layout import Layout, card, layout, shorten, text
from cogs._prompts_ui import AnswerButton

THREAD_NAME_LIMIT = 100


def day(moment: datetime, team: Team, *, year: bool = True) -> str:
    """A date as the team reads it, in its timezone and the current language: "Dec 1, 2026"
    (or "Dec 1"; "1 déc. 2026" in French)."""
    local = moment.astimezone(team.zone)
    return i18n.day(local) if year else i18n.day_month(local)


def week_of(moment: datetime, team: Team) -> str:
    """The Monday of the moment's week in the team's timezone: "Nov 30"."""
    local = moment.astimezone(team.zone).date()
    return i18n.day_month(local - timedelta(days=local.weekday()))


def posted_on(post: Post, now: datetime) -> datetime:
    """When the post is (or is being) posted: its record, its weekly slot, or now."""
    return post.posted_at or post.slot_at or now


def answers_so_far(count: int) -> str:
    if count == 0:
        return _("No answers yet")
    return n_("{count} answer so far", "{count} answers so far", count)


def thread_name(post: Post, team: Team, now: datetime) -> str:
    """The question and the post's date ("What makes a job a career? · Dec 1, 2026"), within
    Discord's 100 characters (the question is cut, the date kept). Every asking carries its date,
    so a repeat never shares its thread's name with an earlier one; two askings on the same day
    are told apart by the later one's post number."""
    when = posted_on(post, now)
    suffix = f" · {day(when, team)}"
    before = post.repeat_of_posted_at
    if before is not None and day(before, team) == day(when, team):
        suffix += f" · #{post.id}"
    question = " ".join(post.prompt_text.split())
    return shorten(question, THREAD_NAME_LIMIT - len(suffix)) + suffix


def pings_role(post: Post, team: Team) -> bool:
    return post.ping_role and team.role_id is not None


def post_mentions(post: Post, team: Team) -> discord.AllowedMentions:
    """Exactly the team's role, when the post mentions it; nobody otherwise (a question that
    reads like a mention pings nobody). Edits keep the same, so the mention stays highlighted;
    Discord notifies nobody for an edit."""
    if not pings_role(post, team):
        return discord.AllowedMentions.none()
    assert team.role_id is not None
    return discord.AllowedMentions(
        everyone=False, users=False, roles=[discord.Object(team.role_id)], replied_user=False
    )


def post_layout(post: Post, team: Team, now: datetime) -> Layout:
    """The prompt post as the team reads it, with its answer count as the database has it."""
    when = posted_on(post, now)
    question = " ".join(post.prompt_text.split())
    body: list[discord.ui.Item[Any]] = [
        text(f"## {question}"),
        text(
            "-# "
            + _(
                "{team} · Week of {week} · {answers}",
                team=escape_markdown(team.name),
                week=week_of(when, team),
                answers=answers_so_far(post.answer_count),
            )
        ),
    ]
    before = post.repeat_of_posted_at
    if before is not None:
        same_year = before.astimezone(team.zone).year == when.astimezone(team.zone).year
        asked = day(before, team, year=not same_year)
        body.append(text(_("Asked before on {day} — has your answer changed?", day=asked)))
    body.append(discord.ui.ActionRow(AnswerButton(post.id)))
    items: list[discord.ui.Item[Any]] = []
    if pings_role(post, team):
        items.append(text(f"<@&{team.role_id}>"))
    items.append(card(*body))
    return layout(*items)


def name_line(answer: Answer) -> str:
    """The first line of an answer's message: the member's name, as typed (markdown escaped)."""
    return f"**{escape_markdown(answer.display_name)}**"


def answer_layout(answer: Answer) -> Layout:
    """An answer in the thread: the member's name and text, their avatar beside them when it is
    known (answers saved before avatars were kept have none), "edited" once they changed it."""
    lines: list[discord.ui.Item[Any]] = [text(name_line(answer)), text(answer.text)]
    if answer.edited_at is not None:
        lines.append(text("-# " + _("edited")))
    if answer.avatar_url is None:
        return layout(card(*lines))
    avatar: discord.ui.Thumbnail[Any] = discord.ui.Thumbnail(
        answer.avatar_url,
        description=_("{name}'s avatar", name=shorten(answer.display_name, 80)),
    )
    return layout(card(discord.ui.Section(*lines, accessory=avatar)))


def is_answer_of(message: discord.Message, found: AnswerToSend) -> bool:
    """Is this Breakroom message in the thread the member's answer that an earlier attempt posted
    without recording it: under their name (an embed's author before layouts, the layout's first
    line now), and not recorded for another answer?"""
    if message.id in found.others:
        return False
    if message.embeds:
        return message.embeds[0].author.name == found.answer.display_name
    first = next(
        (c.content for c in walk(message.components) if isinstance(c, discord.TextDisplay)), None
    )
    return first == name_line(found.answer)
