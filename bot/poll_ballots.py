"""Polls, part 4: anonymous votes as sealed ballots, and the steps their shown counts move in."""

from __future__ import annotations

from bot.poll_model import ANONYMOUS_STEP, Poll
from bot.sealed import Sealer


class Ballots:
    """Anonymous votes as sealed ballots: for each voter (their keyed hash for that poll), the
    options they picked as a bitmask of option positions, sealed under the key (bot/sealed.py)
    with a fresh nonce on every vote. The file's order of ballots then carries no option, and a
    copy of the database can't tell two voters who picked the same option.

    It also keeps, in memory only, which voters changed their vote in each open anonymous poll
    since its shown counts last moved (see `ANONYMOUS_STEP`)."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._sealer: Sealer | None = None
        self.unshown: dict[int, set[bytes]] = {}

    @property
    def sealer(self) -> Sealer:
        # Built on first use: the cogs are made before a test bot without a key refuses votes.
        if self._sealer is None:
            self._sealer = Sealer(self._key, "poll-ballots")
        return self._sealer

    def seal(self, poll: Poll, voter_hash: bytes, options: set[int]) -> bytes:
        mask = sum(1 << i for i, o in enumerate(poll.options) if o.id in options)
        return self.sealer.seal(mask.to_bytes(4, "little"), _context(poll.id, voter_hash))

    def open(self, poll: Poll, voter_hash: bytes, ballot: bytes) -> set[int]:
        """The option ids in a ballot; none when it was sealed under a replaced key."""
        opened = self.sealer.open(ballot, _context(poll.id, voter_hash))
        mask = 0 if opened is None else int.from_bytes(opened, "little")
        return {o.id for i, o in enumerate(poll.options) if mask >> i & 1}

    def step(self, poll_id: int, voters: set[bytes]) -> bool:
        """Note voters who changed; True when the shown counts should move now."""
        changed = self.unshown.setdefault(poll_id, set())
        changed |= voters
        if len(changed) < ANONYMOUS_STEP:
            return False
        del self.unshown[poll_id]
        return True


def _context(poll_id: int, voter_hash: bytes) -> bytes:
    return poll_id.to_bytes(8, "little") + voter_hash
