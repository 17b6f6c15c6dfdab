"""What a team said differently when a prompt came round again: the words and phrases its answers
used more, or less, than the time before (`word_shift`).

Feature logic only: plain Python, nothing from discord, no database.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WordChange:
    """A word or phrase, and how many answers used it each time."""

    phrase: str
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class WordShift:
    """The phrases used more this time (most gained first) and less (most lost first)."""

    more: tuple[WordChange, ...] = ()
    less: tuple[WordChange, ...] = ()
    #: the language whose stop words were left out (e.g. "en")
    language: str = "en"

    @property
    def empty(self) -> bool:
        return not (self.more or self.less)
