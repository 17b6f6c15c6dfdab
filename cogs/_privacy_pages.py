"""`/privacy` as Discord shows it: the summary, a topic, or the full text, each a card (Components
V2) with a topic menu and buttons that edit the reply in place.

Stateless: the menu's custom id is fixed and the buttons' custom ids name the page they show, so
they work in any copy of the reply, after any restart. They work in a DM too (`/privacy` does).
"""

from __future__ import annotations

from typing import Any

import discord

from bot.client import report_error
from bot.i18n import _, speak
from cogs._layout import Layout, card, layout, separator, text
from cogs._privacy_text import BY_KEY, TOPICS, full_pages, summary_text, title_text
from cogs._shared import FromCustomId, Interaction

TOPIC_MENU = "breakroom:privacy:topic"
PAGE_PREFIX = "breakroom:privacy:page:"
SUMMARY_PAGE = "summary"
FULL_PAGE = "full-"


def privacy_page(page: str) -> Layout:
    """`summary`, a topic's key, or `full-N` (page N of the full text); anything else, the
    summary (a button of an older version, say)."""
    if page.startswith(FULL_PAGE) and page[len(FULL_PAGE) :].isdigit():
        return full_text_page(int(page[len(FULL_PAGE) :]))
    topic = BY_KEY.get(page)
    if topic is None:
        return summary_page()
    return layout(
        card(
            text(topic.text),
            separator(),
            discord.ui.ActionRow(TopicMenu(current=topic.key)),
            discord.ui.ActionRow(PageButton(SUMMARY_PAGE), PageButton(f"{FULL_PAGE}1")),
        )
    )


def summary_page() -> Layout:
    return layout(
        card(
            text(
                f"{title_text()}\n{summary_text()}\n-# "
                + _("Choose a topic below, or read the full text.")
            ),
            separator(),
            discord.ui.ActionRow(TopicMenu()),
            discord.ui.ActionRow(PageButton(f"{FULL_PAGE}1")),
        )
    )


def full_text_page(number: int) -> Layout:
    pages = full_pages()
    number = min(max(number, 1), len(pages))
    where = ""
    if len(pages) > 1:
        where = " · " + _("page {number} of {total}", number=number, total=len(pages))
    buttons: list[discord.ui.Item[Any]] = []
    if number > 1:
        buttons.append(PageButton(f"{FULL_PAGE}{number - 1}", _("◀ Previous")))
    if number < len(pages):
        buttons.append(PageButton(f"{FULL_PAGE}{number + 1}", _("Next ▶")))
    buttons.append(PageButton(SUMMARY_PAGE))
    return layout(
        card(
            text(f"{title_text()}{where}\n\n{pages[number - 1]}"),
            separator(),
            discord.ui.ActionRow(*buttons),
        )
    )


def page_label(page: str) -> str:
    if page == SUMMARY_PAGE:
        return _("Summary")
    return _("Full text")


class PageButton(
    FromCustomId,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"breakroom:privacy:page:(?P<page>[a-z0-9-]{1,30})",
):
    """Shows its page in place of the reply it is on."""

    def __init__(self, page: str, label: str = "") -> None:
        super().__init__(
            discord.ui.Button(
                label=label or page_label(page),
                style=discord.ButtonStyle.secondary,
                custom_id=f"{PAGE_PREFIX}{page}",
            )
        )
        self.page = str(page)

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        await show(interaction, self.page)


class TopicMenu(
    FromCustomId,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=TOPIC_MENU,
):
    """The topics; choosing one shows it in place of the reply."""

    def __init__(self, current: str | None = None) -> None:
        options = [
            discord.SelectOption(
                label=_(topic.label),
                value=topic.key,
                description=_(topic.hint),
                default=topic.key == current,
            )
            for topic in TOPICS
        ]
        super().__init__(
            discord.ui.Select(
                custom_id=TOPIC_MENU, placeholder=_("Read more about…"), options=options
            )
        )

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        values = self.item.values
        await show(interaction, values[0] if values else SUMMARY_PAGE)


async def show(interaction: Interaction, page: str) -> None:
    # Not `guarded`: /privacy answers in DMs as well, and so do its buttons.
    speak(interaction.locale.value)  # the page in the member's language
    try:
        await interaction.response.edit_message(view=privacy_page(page))
    except Exception as error:
        await report_error(interaction, error)


DYNAMIC_ITEMS = (PageButton, TopicMenu)
