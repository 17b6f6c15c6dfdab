"""Discord's sharding rules, as the double applies them to IDENTIFY and to every dispatch.

A bot may split its guilds over several gateway sessions (shards). Discord decides which
session gets what from the ``shard: [shard_id, shard_count]`` of each IDENTIFY: a guild belongs
to shard ``(guild_id >> 22) % shard_count``, and DMs (no guild) go to shard 0 only. The double
routes READY, GUILD_CREATE, every guild event and every interaction by the same rule, so a
sharded bot sees only what its shard would see on Discord.
"""

from __future__ import annotations

from typing import Any

#: Discord refuses (close code 4011, "Sharding required") a shard that would hold more guilds
MAX_GUILDS_PER_SHARD = 2500

INVALID_SHARD = (4010, "Invalid shard.")
SHARDING_REQUIRED = (4011, "Sharding required.")


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard id that gets ``guild_id``'s events (shard 0 for DMs: no guild)."""
    if guild_id is None:
        return 0
    return (guild_id >> 22) % shard_count


def owns(shard: list[int], guild_id: int | None) -> bool:
    """Whether a session identified with ``shard`` = [shard_id, shard_count] gets the events
    of ``guild_id`` (None: a DM, which only shard 0 gets)."""
    shard_id, shard_count = shard
    return shard_of(guild_id, shard_count) == shard_id


def parse(value: Any) -> list[int] | None:
    """The IDENTIFY ``shard`` field as [shard_id, shard_count], or None if Discord would close
    the connection with 4010: not a pair of integers, a count below 1, or an id outside
    [0, count). A missing field is the single shard [0, 1]."""
    if value is None:
        return [0, 1]
    if not isinstance(value, list) or len(value) != 2:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return None
    shard_id, shard_count = value
    if shard_count < 1 or not 0 <= shard_id < shard_count:
        return None
    return [shard_id, shard_count]
