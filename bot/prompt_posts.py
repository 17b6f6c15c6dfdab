"""Discussion prompts, the posts: claiming a post before it is sent, recording what Discord did
with it (`mark_posted`, `mark_failed`, `set_thread`), and reading the team's posts.

Feature logic only: plain async Python over the database, nothing from discord. The cog sends
what this module claims and reports back what Discord did.

A post is a row claimed in a transaction *before* anything is sent, so the button can carry its id
and so two passes (or two processes) can never post the same weekly slot: the claim is an
INSERT under UNIQUE (team_id, slot_at) (`bot/prompt_weekly.py` claims the weekly ones). See
data/migrations/0002_prompts.sql for the states.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot.clock import Clock, from_ts, to_ts
from bot.db import Database, Row, Transaction
from bot.errors import InvalidInput, NotFound
from bot.prompt_bank import NO_PROMPTS, PromptBank, load_prompt, next_in_rotation
from bot.teams import Team, clean_text

#: Tries for a scheduled post that fails with a transient error (5xx, network): once more.
MAX_ATTEMPTS = 2

PostState = Literal["sending", "posted", "retry", "failed"]


def no_post(post_id: int | None) -> str:
    return (
        f"There is no prompt post #{post_id} in this server (its team may have been deleted); "
        f"pick a post from the list."
    )


@dataclass(frozen=True, slots=True)
class Post:
    id: int
    team_id: int
    team_name: str
    guild_id: int
    prompt_id: int
    prompt_text: str
    slot_at: datetime | None
    state: PostState
    attempts: int
    claimed_at: datetime
    posted_at: datetime | None
    channel_id: int
    message_id: int | None
    thread_id: int | None
    repeat_of: int | None
    #: when the prompt was last posted for the team before this one (for a repeat)
    repeat_of_posted_at: datetime | None
    ping_role: bool
    error: str | None

    @property
    def is_repeat(self) -> bool:
        return self.repeat_of is not None

    @classmethod
    def from_row(cls, row: Row) -> Post:
        return cls(
            id=row["id"],
            team_id=row["team_id"],
            team_name=row["team_name"],
            guild_id=row["guild_id"],
            prompt_id=row["prompt_id"],
            prompt_text=row["prompt_text"],
            slot_at=from_ts(row["slot_at"]),
            state=row["state"],
            attempts=row["attempts"],
            claimed_at=datetime.fromtimestamp(row["claimed_at"], UTC),
            posted_at=from_ts(row["posted_at"]),
            channel_id=row["channel_id"],
            message_id=row["message_id"],
            thread_id=row["thread_id"],
            repeat_of=row["repeat_of"],
            repeat_of_posted_at=from_ts(row["repeat_of_posted_at"]),
            ping_role=bool(row["ping_role"]),
            error=row["error"],
        )


_POST_SELECT = (
    "SELECT pp.*, p.text AS prompt_text, t.guild_id AS guild_id, t.name AS team_name,"
    " prev.posted_at AS repeat_of_posted_at"
    " FROM prompt_posts pp JOIN prompts p ON p.id = pp.prompt_id JOIN teams t ON t.id = pp.team_id"
    " LEFT JOIN prompt_posts prev ON prev.id = pp.repeat_of"
)


async def load_post(tx: Transaction, post_id: int | None) -> Post:
    """The post in whatever state it is (NotFound when there is none)."""
    row = await tx.fetchone(f"{_POST_SELECT} WHERE pp.id = ?", (post_id,))
    if row is None:
        raise NotFound(no_post(post_id))
    return Post.from_row(row)


async def insert_post(
    tx: Transaction,
    team: Row,
    prompt_id: int,
    slot_at: int | None,
    ping_role: bool,
    run_id: str,
    now: int,
) -> int | None:
    """Claim a post for `run_id` ('sending'); None when the team's slot is already claimed."""
    repeat_of = await tx.fetchval(
        "SELECT MAX(id) FROM prompt_posts WHERE team_id = ? AND prompt_id = ? AND state = 'posted'",
        (team["id"], prompt_id),
    )
    return await tx.insert(
        "INSERT INTO prompt_posts (team_id, prompt_id, slot_at, state, claimed_by, claimed_at,"
        " channel_id, repeat_of, ping_role) VALUES (?, ?, ?, 'sending', ?, ?, ?, ?, ?)"
        " ON CONFLICT (team_id, slot_at) DO NOTHING",
        (
            team["id"],
            prompt_id,
            slot_at,
            run_id,
            now,
            team["channel_id"],
            repeat_of,
            int(ping_role),
        ),
    )


class PromptPosts:
    def __init__(self, db: Database, clock: Clock, bank: PromptBank) -> None:
        self.db = db
        self.clock = clock
        self.bank = bank

    def _now(self) -> int:
        return to_ts(self.clock.now())

    async def claim_manual(
        self, team_id: int, prompt_id: int | None, *, ping_role: bool = False, run_id: str
    ) -> Post:
        """Claim a post for `/prompt post`: the given prompt, or the next one in rotation."""
        guild_id = await self.db.fetchval("SELECT guild_id FROM teams WHERE id = ?", (team_id,))
        if guild_id is not None:
            await self.bank.ensure_bank(guild_id)
        async with self.db.transaction() as tx:
            team = await tx.fetchone("SELECT * FROM teams WHERE id = ?", (team_id,))
            if team is None:
                raise NotFound("That team no longer exists; `/team list` shows the teams.")
            guild_id = team["guild_id"]
            if prompt_id is not None:
                prompt = await load_prompt(tx, guild_id, prompt_id)
                if not prompt.active:
                    raise InvalidInput(
                        f"Prompt #{prompt_id} is retired; add it again with `/prompt add` "
                        f"to use it."
                    )
            else:
                prompt_id = await next_in_rotation(tx, team_id, guild_id)
                if prompt_id is None:
                    raise NotFound(NO_PROMPTS)
            post_id = await insert_post(tx, team, prompt_id, None, ping_role, run_id, self._now())
            return await load_post(tx, post_id)

    async def mark_posted(
        self, post_id: int, message_id: int, channel_id: int | None = None
    ) -> Post:
        """Discord has the message (in `channel_id`, when the team moved since the claim): the
        post counts, and the team's last post error is cleared."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE prompt_posts SET state = 'posted', message_id = ?, posted_at = ?,"
                " error = NULL, channel_id = COALESCE(?, channel_id) WHERE id = ?",
                (message_id, self._now(), channel_id, post_id),
            )
            post = await load_post(tx, post_id)
            await tx.execute(
                "UPDATE teams SET last_post_error = NULL WHERE id = ?", (post.team_id,)
            )
            return post

    async def set_thread(self, post_id: int, thread_id: int) -> None:
        await self.db.execute(
            "UPDATE prompt_posts SET thread_id = ? WHERE id = ?", (thread_id, post_id)
        )

    async def mark_failed(self, post_id: int, error: str, *, transient: bool) -> PostState:
        """Sending failed. A scheduled post with a transient error is retried once by a later
        pass; otherwise it is given up and, when scheduled, the team keeps the error (for
        managers)."""
        async with self.db.transaction() as tx:
            post = await load_post(tx, post_id)
            retry = transient and post.slot_at is not None and post.attempts < MAX_ATTEMPTS
            state: PostState = "retry" if retry else "failed"
            await tx.execute(
                "UPDATE prompt_posts SET state = ?, error = ?, claimed_at = ? WHERE id = ?",
                (state, error, self._now(), post_id),
            )
            if state == "failed" and post.slot_at is not None:
                await tx.execute(
                    "UPDATE teams SET last_post_error = ? WHERE id = ?", (error, post.team_id)
                )
            return state

    async def get_post(self, guild_id: int, post_id: int) -> Post:
        """A posted prompt of this server (an unknown id or another server's is NotFound)."""
        async with self.db.reading() as tx:
            row = await tx.fetchone(
                f"{_POST_SELECT} WHERE pp.id = ? AND t.guild_id = ? AND pp.state = 'posted'",
                (post_id, guild_id),
            )
        if row is None:
            raise NotFound(no_post(post_id))
        return Post.from_row(row)

    async def latest_post(self, team: Team) -> Post:
        row = await self.db.fetchone(
            f"{_POST_SELECT} WHERE pp.team_id = ? AND pp.state = 'posted'"
            " ORDER BY pp.id DESC LIMIT 1",
            (team.id,),
        )
        if row is None:
            raise NotFound(
                f"Nothing has been posted for {team.name} yet. A manager can post a prompt now "
                f"with `/prompt post`, or set a weekly time with `/prompt schedule`."
            )
        return Post.from_row(row)

    async def recent_posts(self, team_id: int, text: str = "", limit: int = 25) -> list[Post]:
        """The team's posts, newest first, whose prompt contains `text` (autocomplete)."""
        needle = clean_text(text).casefold()
        rows = await self.db.fetchall(
            f"{_POST_SELECT} WHERE pp.team_id = ? AND pp.state = 'posted' ORDER BY pp.id DESC",
            (team_id,),
        )
        posts = [Post.from_row(r) for r in rows]
        return [p for p in posts if needle in p.prompt_text.casefold() or needle == str(p.id)][
            :limit
        ]
