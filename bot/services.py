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
from bot.sharding import EVERY_SERVER, Shards
from bot.teams import Teams


class Services:
    def __init__(
        self, db: Database, clock: Clock, key: bytes, shards: Shards = EVERY_SERVER
    ) -> None:
        #: the servers whose scheduled work is this process's (bot/sharding.py): every job's
        #: "what is due" query is restricted to them
        self.shards = shards
        #: the one outbox: every feature's posts, edits and deletions in Discord
        self.outbox = Outbox(db, clock, shards)
        self.teams = Teams(db, clock, outbox=self.outbox)
        self.prompts = Prompts(db, clock, outbox=self.outbox, shards=shards)
        self.polls = Polls(db, clock, key, outbox=self.outbox, shards=shards)
        self.reflections = Reflections(db, clock, key, outbox=self.outbox)
        self.reflection_batches = ReflectionBatches(
            db, clock, key, rng=self.reflections.rng, outbox=self.outbox, shards=shards
        )
        self.history = History(db, clock, self.prompts, self.polls, self.reflections)
        self.history_shares = HistoryShares(db, clock, self.outbox)
        self.lifetime = Lifetime(db, clock, shards)

    @property
    def member_data(self) -> tuple[HoldsMemberData, ...]:
        """The features `/forget-me` asks to delete a member's data, in this order."""
        return (self.prompts.answers, self.polls, self.reflections)
