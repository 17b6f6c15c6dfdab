"""Which servers' scheduled work is this process's: the shards it runs.

Discord gives a server's events to shard `(guild_id >> 22) % shard_count`. With `SHARD_COUNT` and
`SHARD_IDS` a process runs some of the shards, and other processes, on the same PostgreSQL, run
the rest. Each then does the scheduled work (weekly posts, poll deadlines, reflection sharing
times, the outbox, removals after 30 days) of its own shards' servers only: every "what is due"
query adds `Shards.where(column)`, so a process never even wakes for another shard's work.

Owning a shard is not a lock: after a restart two processes may both think they run it for a
while. That is safe because every claim is a conditional UPDATE or a unique row (bot/db.py); the
filter only keeps processes from doing each other's work as a rule.

Plain Python, nothing from discord: the feature objects get one `Shards` through Services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: A server's shard: its id's timestamp bits, above the 22 bits of worker, process and increment.
SHARD_SHIFT = 22


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord gives this server's events to."""
    return (guild_id >> SHARD_SHIFT) % shard_count


@dataclass(frozen=True, slots=True)
class Shards:
    """The shards this process runs: `ids` of `count` in all. `Shards()` (no sharding settings,
    or SHARD_COUNT without SHARD_IDS) is every server."""

    count: int | None = None
    ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.ids is not None and self.count is None:
            raise ValueError("shard ids need a shard count")
        if self.count is not None and self.count < 1:
            raise ValueError("a shard count is 1 or more")
        if self.ids is not None and not all(0 <= i < (self.count or 0) for i in self.ids):
            raise ValueError(f"shard ids {self.ids} outside 0-{(self.count or 1) - 1}")

    @classmethod
    def of(cls, count: int | None, ids: tuple[int, ...] | None) -> Shards:
        """From `Settings.shard_count` and `Settings.shard_ids`."""
        return cls(count, None if ids is None else tuple(sorted(set(ids))))

    @property
    def everything(self) -> bool:
        """Every server is this process's: no filter is needed."""
        return self.count is None or self.ids is None or len(self.ids) == self.count

    @property
    def sharded(self) -> bool:
        """The bot connects as shards (AutoShardedBot), not as one unsharded session."""
        return self.count is not None

    @property
    def runs(self) -> tuple[int, ...] | None:
        """The shard ids this process connects (None: all of `count`, or unsharded)."""
        return self.ids

    @property
    def syncs_commands(self) -> bool:
        """Only one process syncs the application commands: the one running shard 0."""
        return self.ids is None or 0 in self.ids

    def owns(self, guild_id: int) -> bool:
        if self.everything:
            return True
        assert self.count is not None and self.ids is not None
        return shard_of(guild_id, self.count) in self.ids

    def where(self, column: str) -> tuple[str, tuple[Any, ...]]:
        """A SQL condition that `column` (a server id) is one of ours, and its parameters: to add
        with AND to a "what is due" query. Both SQLite and PostgreSQL run it as written."""
        if self.everything:
            return "1 = 1", ()
        assert self.count is not None and self.ids is not None
        if not self.ids:
            return "1 = 0", ()
        marks = ", ".join("?" * len(self.ids))
        return f"({column} >> {SHARD_SHIFT}) % ? IN ({marks})", (self.count, *self.ids)

    def where_team(self, column: str) -> tuple[str, tuple[Any, ...]]:
        """The same for a row that points at a team (`column` holds a team id): ours when its
        team's server is. A row without a team (none are written so, but the column allows it)
        is shard 0's process's."""
        if self.everything:
            return "1 = 1", ()
        inner, params = self.where("sh.guild_id")
        zero = "1 = 1" if self.syncs_commands else "1 = 0"
        return (
            f"(({column} IS NULL AND {zero}) OR {column} IN"
            f" (SELECT sh.id FROM teams sh WHERE {inner}))",
            params,
        )

    def describe(self) -> str:
        """For the log: which shards, of how many."""
        if self.count is None:
            return "unsharded"
        if self.ids is None:
            return f"all {self.count} shards"
        return f"shards {','.join(map(str, self.ids))} of {self.count}"


#: No sharding: every server, as one process has always run Breakroom.
EVERY_SERVER = Shards()
