"""Telling Breakroom's poll posts apart in the double, in either format (the embed of earlier
versions, or the layout): which poll a message or result post belongs to, and whether it is the
poll's own message."""

from __future__ import annotations

import re

from tests.double import Message


def footer(message: Message) -> str:
    """ "Poll #3 " for a poll's message or its result post (their footer line names the poll)."""
    if message.embeds:  # an embed's footer (the prompt posts')
        return str((message.embeds[0].get("footer") or {}).get("text") or "")
    lines = [line for line in message.text.splitlines() if line.startswith("-# ")]
    found = re.search(r"poll #(\d+)", lines[-1]) if lines else None
    return f"Poll #{found.group(1)} " if found else ""


def has_poll_buttons(message: Message) -> bool:
    """A poll's own message (its option buttons), not its result post (a link button only)."""
    return any(b["custom_id"] for b in message.buttons())
