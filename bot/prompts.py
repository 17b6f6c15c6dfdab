"""Discussion prompts, the whole feature on one database and clock. Its parts, one job each:

- `bot/prompt_bank.py`: the server's bank of prompts and the rotation;
- `bot/prompt_posts.py`: claiming a post before it is sent, recording it, reading posts;
- `bot/prompt_weekly.py`: what the weekly schedule has due (slots, retries, recoveries);
- `bot/prompt_answers.py`: members' answers, and their messages in the post's thread.

Feature logic only: plain async Python over the database, nothing from discord.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import Clock
from bot.db import Database
from bot.outbox import Outbox
from bot.prompt_answers import AnswerDeliveries, PromptAnswers
from bot.prompt_bank import PromptBank
from bot.prompt_posts import PromptPosts
from bot.prompt_weekly import WeeklyPosts


class Prompts:
    """The prompts feature's parts, sharing one bank (so one starter list)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        starter: tuple[str, ...] | None = None,
        *,
        outbox: Outbox | None = None,
    ) -> None:
        #: where posts and answers wait to be sent (bot/outbox.py)
        self.outbox = outbox or Outbox(db, clock)
        self.bank = PromptBank(db, clock, starter)
        self.posts = PromptPosts(db, clock, self.bank)
        self.weekly = WeeklyPosts(db, clock, self.bank)
        self.answers = PromptAnswers(db, clock)
        self.deliveries = AnswerDeliveries(db, clock)

    async def next_due(self, now: datetime, run_id: str) -> datetime | None:
        """When the prompts job should next look: the earliest coming slot, retry or recovery,
        or an answer's thread message due again."""
        times = [
            t
            for t in (await self.weekly.next_due(now, run_id), await self.deliveries.next_due())
            if t is not None
        ]
        if not times:
            return None
        # Never "due in the past": a pass that leaves something due would otherwise spin.
        return max(min(times), now + timedelta(seconds=1))
