"""A released reflection's post as members see it in the double: the current card (Components
V2) or the embed older versions posted. Both carry the Report button, and only they do."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tests.double import Message
from tests.double.models import walk_components

REPORT_ID = re.compile(r"breakroom:reflection:report:[0-9]+")
CODE = re.compile(r"\b[Cc]ode ([2-9A-Z]{5})\b")


def is_reflection_post(message: Message) -> bool:
    return any(REPORT_ID.fullmatch(str(b["custom_id"] or "")) for b in message.buttons())


def text_displays(message: Message) -> list[str]:
    """The card's text displays, in order (empty for a legacy embed post)."""
    return [
        str(c.get("content") or "") for c in walk_components(message.components) if c["type"] == 10
    ]


def body_of(message: Message) -> str:
    """What the author wrote, as the post shows it (after the "About" line, if any)."""
    if message.embeds:  # an older version's post
        return str(message.embeds[0]["description"]).split("\n\n")[-1]
    return text_displays(message)[0].split("\n\n")[-1]


def ref_of(message: Message) -> str:
    """The public code leads hide it by: in the muted line (or an old post's footer)."""
    match = CODE.search(message.text)
    assert match, message.text
    return match.group(1)


def reflection_posts(messages: Iterable[Message]) -> list[Message]:
    """The reflections' posts among these messages (a channel's, say)."""
    return [m for m in messages if is_reflection_post(m)]
