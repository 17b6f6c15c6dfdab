"""Polls, refused clicks: a click's refusal is made where it is answered, in the language of
the member who reads it. The clicks of a batch are written together on the database thread
(bot/poll_votes.py), for members of any language; the error is made again in the member's own
task (`retold`).

Feature logic only: plain Python, nothing from discord.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.errors import NotAllowed, UserError
from bot.teams import not_a_member

#: A refused click, told when the answer is made: its words in the language of whoever reads it
#: (the clicks of a batch are written on the database thread, for members of any language).
Refusal = Callable[[], UserError]


def refused(refusal: Refusal) -> UserError:
    """The refusal's error in the current language; `retold` makes it again in another."""
    error = refusal()
    error.refusal = refusal  # type: ignore[attr-defined]
    return error


def not_in_team(team_name: str, role_id: int | None) -> UserError:
    return NotAllowed(not_a_member(team_name, role_id))


def retold(error: UserError) -> UserError:
    """A refused click's error in the current language (the member's, in their own task)."""
    refusal: Refusal | None = getattr(error, "refusal", None)
    return error if refusal is None else refused(refusal)
