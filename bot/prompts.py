"""Discussion prompts, the whole feature on one database and clock. Its parts, one job each:

- `bot/prompt_bank.py`: the server's bank of prompts and the rotation;
- `bot/prompt_posts.py`: queueing a post in the outbox, recording it, reading posts;
- `bot/prompt_weekly.py`: what the weekly schedule has due (each team's slot, once);
- `bot/prompt_answers.py`: members' answers, each queued for its message in the post's thread.

Posts and answers reach Discord through the one outbox (bot/outbox.py), kinds 'prompt_post' and
'answer': it retries, takes over what a stopped run left, and gives up with a reason.

Feature logic only: plain async Python over the database, nothing from discord.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import Clock
from bot.db import Database
from bot.outbox import Outbox
from bot.prompt_answers import PromptAnswers
from bot.prompt_bank import PromptBank
from bot.prompt_posts import PromptPosts
from bot.prompt_weekly import WeeklyPosts
from bot.sharding import EVERY_SERVER, Shards


class Prompts:
    """The prompts feature's parts, sharing one bank (so one starter list) and one outbox."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        starter: tuple[str, ...] | None = None,
        *,
        outbox: Outbox | None = None,
        shards: Shards = EVERY_SERVER,
    ) -> None:
        #: where posts and answers wait to be sent (bot/outbox.py)
        self.outbox = outbox or Outbox(db, clock)
        self.bank = PromptBank(db, clock, starter)
        self.posts = PromptPosts(db, clock, self.bank, self.outbox)
        self.weekly = WeeklyPosts(db, clock, self.bank, self.outbox, shards)
        self.answers = PromptAnswers(db, clock, self.outbox)

    async def next_due(self, now: datetime) -> datetime | None:
        """When the prompts job should next look: the earliest coming slot."""
        due = await self.weekly.next_due(now)
        # Never "due in the past": a pass that leaves something due would otherwise spin.
        return None if due is None else max(due, now + timedelta(seconds=1))
