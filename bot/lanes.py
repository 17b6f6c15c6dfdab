"""Work in lanes: each lane's items one after another, in order; up to `width` lanes side by side.

The outbox's job sends each team's deliveries in a lane (a team's reflections keep the order the
feature chose, a channel's messages don't overtake each other), and many teams' at once: a
Monday morning's 500 posts go out as fast as Discord's global limit lets them instead of one
round trip at a time, and one channel waiting out its rate limit holds up no other team.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


async def in_lanes(
    lanes: Sequence[Sequence[T]],
    work: Callable[[T], Awaitable[object]],
    width: int,
    what: str = "item",
) -> None:
    """Run `work` on every item; an item that fails is logged (as `what`) and its lane goes
    on."""
    free = asyncio.Semaphore(max(1, width))

    async def lane(items: Sequence[T]) -> None:
        async with free:
            for item in items:
                try:
                    await work(item)
                except Exception:
                    log.exception("%s %s failed unexpectedly", what, item)

    if len(lanes) == 1:
        await lane(lanes[0])  # no task for the common case of one lane
    elif lanes:
        await asyncio.gather(*(lane(items) for items in lanes))
