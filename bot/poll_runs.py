"""Polls, the re-runs: asking a poll's question again, and reading its runs so that each one is
shown beside the one before it.

A re-run points at the run it follows (`polls.rerun_of`), so the runs of a question form a chain.
Both ways along it are one recursive query: back to the first run (`poll_runs`), and on to the
latest (`rerun` continues from there, so a series stays one line).

Feature logic only: plain async Python over the database, nothing from discord.
"""

from __future__ import annotations

from bot.clock import Clock
from bot.db import Database, Transaction
from bot.outbox import Outbox
from bot.poll_model import OptionChange, Poll, PollRun, RunOption, compare_runs, placeholders
from bot.poll_store import get_poll, insert_poll, load_polls

#: A guard on walking a chain: no team re-runs a question this many times.
MAX_CHAIN = 10_000

# The run itself, then each step back to the run it re-ran, with its distance.
_EARLIER = (
    "WITH RECURSIVE chain (id, depth) AS ("
    " SELECT id, 0 FROM polls WHERE id = ?"
    " UNION ALL SELECT p.rerun_of, c.depth + 1 FROM polls p JOIN chain c ON p.id = c.id"
    f" WHERE p.rerun_of IS NOT NULL AND c.depth < {MAX_CHAIN}"
    ") SELECT id FROM chain ORDER BY depth DESC"
)
# The run itself, then each step on to its newest re-run; the last step is the latest run.
_LATEST = (
    "WITH RECURSIVE chain (id, depth) AS ("
    " SELECT id, 0 FROM polls WHERE id = ?"
    " UNION ALL SELECT (SELECT max(p.id) FROM polls p WHERE p.rerun_of = c.id), c.depth + 1"
    f" FROM chain c WHERE c.id IS NOT NULL AND c.depth < {MAX_CHAIN}"
    ") SELECT id FROM chain WHERE id IS NOT NULL ORDER BY depth DESC LIMIT 1"
)


def _as_run(poll: Poll) -> PollRun:
    voters = poll.voters
    return PollRun(
        poll_id=poll.id,
        created_at=poll.created_at,
        closed_at=poll.closed_at,
        voters=voters,
        hide_results=poll.hide_results,
        creator_id=poll.creator_id,
        options=tuple(
            RunOption(o.label, o.votes, o.votes / voters if voters else 0.0) for o in poll.options
        ),
    )


async def _earlier_runs(tx: Transaction, poll_id: int) -> list[Poll]:
    """The runs of this poll's question up to and including it, oldest first."""
    ids = [int(row[0]) for row in await tx.fetchall(_EARLIER, (poll_id,))]
    polls = {p.id: p for p in await load_polls(tx, f"p.id IN ({placeholders(ids)})", ids)}
    return [polls[run_id] for run_id in ids if run_id in polls]


class PollRuns:
    def __init__(self, db: Database, clock: Clock, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox

    async def rerun(self, poll_id: int, guild_id: int, creator_id: int) -> Poll:
        """The same question, options and flags again, for the same time, as the next run
        (its message due in the outbox, as for `Polls.create`).

        A series stays one line: re-running a poll that was already re-run continues from its
        latest run, so every run is compared with the one just before it.
        """
        async with self.db.transaction() as tx:
            original = await get_poll(tx, poll_id, guild_id)
            latest = int(await tx.fetchval(_LATEST, (poll_id,)))
            return await insert_poll(
                tx,
                self.outbox,
                self.clock.now(),
                original.team_id,
                original.guild_id,
                creator_id,
                original.question,
                [option.label for option in original.options],
                multiple=original.multiple,
                anonymous=original.anonymous,
                hide_results=original.hide_results,
                duration=original.duration,
                rerun_of=latest,
            )

    async def poll_runs(self, poll_id: int) -> list[PollRun]:
        """The runs of this poll's question up to and including it, oldest first."""
        async with self.db.reading() as tx:
            return [_as_run(poll) for poll in await _earlier_runs(tx, poll_id)]

    async def comparison(self, poll_id: int) -> tuple[PollRun, list[OptionChange]] | None:
        """The previous run and the change per option, if this poll is a re-run whose
        previous results may be shown."""
        runs = await self.poll_runs(poll_id)
        if len(runs) < 2 or runs[-1].poll_id != poll_id or not runs[-2].results_public:
            return None
        return runs[-2], compare_runs(runs[-2], runs[-1])
