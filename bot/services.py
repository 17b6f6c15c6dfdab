"""Every feature object of one bot, built once in `setup_hook` and handed to the cogs.

One instance of each: some hold state in memory on purpose (the reflections' daily limit, an
anonymous poll's voters since its shown counts last moved), and none is rebuilt per access.
"""

from __future__ import annotations

from bot.clock import Clock
from bot.db import Database
from bot.history import History
from bot.history_share import HistoryShares
from bot.lifetime import Lifetime
from bot.member_data import HoldsMemberData
from bot.outbox import Outbox
from bot.polls import Polls
from bot.prompts import Prompts
from bot.reflection_batches import ReflectionBatches
from bot.reflections import Reflections
from bot.teams import Teams


class Services:
    def __init__(self, db: Database, clock: Clock, key: bytes) -> None:
        #: the one outbox: every feature's posts, edits and deletions in Discord
        self.outbox = Outbox(db, clock)
        self.teams = Teams(db, clock, outbox=self.outbox)
        self.prompts = Prompts(db, clock, outbox=self.outbox)
        self.polls = Polls(db, clock, key, outbox=self.outbox)
        self.reflections = Reflections(db, clock, key, outbox=self.outbox)
        self.reflection_batches = ReflectionBatches(
            db, clock, key, rng=self.reflections.rng, outbox=self.outbox
        )
        self.history = History(db, clock, self.prompts, self.polls, self.reflections)
        self.history_shares = HistoryShares(db, clock, self.outbox)
        self.lifetime = Lifetime(db, clock)

    @property
    def member_data(self) -> tuple[HoldsMemberData, ...]:
        """The features `/forget-me` asks to delete a member's data, in this order."""
        return (self.prompts.answers, self.polls, self.reflections)
