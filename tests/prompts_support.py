"""Reading prompt posts and answers as members see them in the double: layouts (Components V2)
now, embeds for messages an older Breakroom left."""

from __future__ import annotations

from typing import Any

from tests.double import Message
from tests.double.models import walk_components

TEXT_DISPLAY, THUMBNAIL, SECTION = 10, 11, 9


def texts(message: Message) -> list[str]:
    """The message's text displays, in reading order."""
    return [str(c.get("content")) for c in walk_components(message.components) if c["type"] == 10]


def headline(message: Message) -> str:
    """The post's question: its heading (the embed's description for an old post)."""
    if message.embeds:
        return str(message.embeds[0]["description"])
    [question] = [t[3:] for t in texts(message) if t.startswith("## ")]
    return question


def answer_name(message: Message) -> str:
    """Whose answer a thread message is: the layout's first line (an old embed's author)."""
    if message.embeds:
        return str(message.embeds[0]["author"]["name"])
    first = texts(message)[0]
    assert first.startswith("**") and first.endswith("**"), first
    return first[2:-2]


def answer_body(message: Message) -> str:
    if message.embeds:
        return str(message.embeds[0]["description"])
    return texts(message)[1]


def thumbnails(message: Message) -> list[str]:
    return [str(c["media"]["url"]) for c in walk_components(message.components) if c["type"] == 11]


def within_discord_limits(message: Message) -> None:
    """What Discord checks of a Components V2 message: 40 components, 4000 characters of text,
    sections of 1–3 text displays with one accessory, no content or embeds beside."""
    assert message.components_v2
    assert not message.content and not message.embeds
    every: list[dict[str, Any]] = list(walk_components(message.components))
    assert len(every) <= 40, f"{len(every)} components"
    assert sum(len(t) for t in texts(message)) <= 4000
    for section in (c for c in every if c["type"] == SECTION):
        inner = section.get("components") or []
        assert 1 <= len(inner) <= 3 and all(c["type"] == TEXT_DISPLAY for c in inner)
        assert isinstance(section.get("accessory"), dict)
