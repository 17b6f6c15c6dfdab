"""Discussion prompts, the posts: queueing a post in the outbox (`queue_post`, `/prompt post`'s
`queue_manual`), recording what Discord did with it (the outbox tells: `posted`, `given_up`), and
reading the team's posts.

Feature logic only: plain async Python over the database, nothing from discord. The outbox's one
sender (bot/courier.py) posts it and opens its thread; the prompts cog drafts what it looks like.

A post is a row written in a transaction *before* anything is sent, so the button can carry its id
and so two passes (or two processes) can never post the same weekly slot: it is an INSERT under
UNIQUE (team_id, slot_at) (`bot/prompt_weekly.py` queues the weekly ones), and its delivery is
added to the outbox in that same transaction. See data/migrations/0002_prompts.sql and 0009 for
the states.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.clock import Clock, from_ts, to_ts
from bot.db import Database, Row, Transaction
from bot.errors import InvalidInput, NotFound
from bot.i18n import _
from bot.outbox import Delivery, Outbox, Sent
from bot.prompt_bank import NO_PROMPTS, PromptBank, load_prompt, next_in_rotation
from bot.schedule import GRACE
from bot.teams import Team, clean_text

#: The outbox's kind for a prompt post (and its thread).
KIND = "prompt_post"

#: 'sending': in the outbox, not yet in Discord; 'posted': Discord has it; 'failed': given up.
PostState = Literal["sending", "posted", "failed"]


def no_post(post_id: int | None) -> str:
    return _(
        "There is no prompt post #{id} in this server (its team may have been deleted); "
        "pick a post from the list.",
        id=post_id,
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
    posted_at: datetime | None
    channel_id: int
    message_id: int | None
    thread_id: int | None
    repeat_of: int | None
    #: when the prompt was last posted for the team before this one (for a repeat)
    repeat_of_posted_at: datetime | None
    ping_role: bool
    error: str | None
    #: how many members have answered it so far
    answer_count: int = 0

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
            posted_at=from_ts(row["posted_at"]),
            channel_id=row["channel_id"],
            message_id=row["message_id"],
            thread_id=row["thread_id"],
            repeat_of=row["repeat_of"],
            repeat_of_posted_at=from_ts(row["repeat_of_posted_at"]),
            ping_role=bool(row["ping_role"]),
            error=row["error"],
            answer_count=row["answer_count"],
        )


_POST_SELECT = (
    "SELECT pp.*, p.text AS prompt_text, t.guild_id AS guild_id, t.name AS team_name,"
    " prev.posted_at AS repeat_of_posted_at,"
    " (SELECT COUNT(*) FROM prompt_answers a WHERE a.post_id = pp.id) AS answer_count"
    " FROM prompt_posts pp JOIN prompts p ON p.id = pp.prompt_id JOIN teams t ON t.id = pp.team_id"
    " LEFT JOIN prompt_posts prev ON prev.id = pp.repeat_of"
)


async def load_post(tx: Transaction, post_id: int | None) -> Post:
    """The post in whatever state it is (NotFound when there is none)."""
    row = await tx.fetchone(f"{_POST_SELECT} WHERE pp.id = ?", (post_id,))
    if row is None:
        raise NotFound(no_post(post_id))
    return Post.from_row(row)


@dataclass(frozen=True, slots=True)
class QueuedPost:
    post: Post
    #: the outbox's delivery of the post, for an attempt right away
    delivery_id: int


async def queue_post(
    tx: Transaction,
    outbox: Outbox,
    team: Row,
    prompt_id: int,
    slot_at: datetime | None,
    ping_role: bool,
    now: datetime,
    *,
    waited_for: bool = False,
) -> QueuedPost | None:
    """Write the post ('sending') and add its delivery to the outbox, due now and given up if not
    in Discord by `GRACE` after its slot (after now for a post by hand). None when the team's slot
    is already taken: nothing is added then."""
    repeat_of = await tx.fetchval(
        "SELECT MAX(id) FROM prompt_posts WHERE team_id = ? AND prompt_id = ? AND state = 'posted'",
        (team["id"], prompt_id),
    )
    post_id = await tx.insert(
        "INSERT INTO prompt_posts (team_id, prompt_id, slot_at, state, claimed_at, channel_id,"
        " repeat_of, ping_role) VALUES (?, ?, ?, 'sending', ?, ?, ?, ?)"
        " ON CONFLICT (team_id, slot_at) DO NOTHING",
        (
            team["id"],
            prompt_id,
            None if slot_at is None else to_ts(slot_at),
            to_ts(now),
            team["channel_id"],
            repeat_of,
            int(ping_role),
        ),
    )
    if post_id is None:
        return None
    deadline = (slot_at or now) + GRACE
    delivery_id = await outbox.enqueue(
        tx, KIND, post_id, team_id=team["id"], deadline=deadline, waited_for=waited_for
    )
    return QueuedPost(await load_post(tx, post_id), delivery_id)


async def _record_posted(tx: Transaction, post_id: int, sent: Sent, now: datetime) -> bool:
    """Discord has the post (in `sent.channel_id`: the team may have moved since it was queued),
    and its thread if one was opened: the post counts, and the team's last post error is
    cleared. False when the post is gone (its team was deleted meanwhile)."""
    changed = await tx.execute(
        "UPDATE prompt_posts SET state = 'posted', message_id = ?, channel_id = ?,"
        " thread_id = COALESCE(?, thread_id), posted_at = ?, error = NULL WHERE id = ?",
        (sent.message_id, sent.channel_id, sent.thread_id, to_ts(now), post_id),
    )
    if not changed:
        return False
    await tx.execute(
        "UPDATE teams SET last_post_error = NULL"
        " WHERE id = (SELECT team_id FROM prompt_posts WHERE id = ?)",
        (post_id,),
    )
    return True


class PromptPosts:
    def __init__(self, db: Database, clock: Clock, bank: PromptBank, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.bank = bank
        self.outbox = outbox
        outbox.register(KIND, self.posted, self.given_up)

    async def queue_manual(
        self, team_id: int, prompt_id: int | None, *, ping_role: bool = False
    ) -> QueuedPost:
        """Queue a post for `/prompt post`: the given prompt, or the next one in rotation."""
        guild_id = await self.db.fetchval("SELECT guild_id FROM teams WHERE id = ?", (team_id,))
        if guild_id is not None:
            await self.bank.ensure_bank(guild_id)
        async with self.db.transaction() as tx:
            team = await tx.fetchone("SELECT * FROM teams WHERE id = ?", (team_id,))
            if team is None:
                raise NotFound(_("That team no longer exists; `/team list` shows the teams."))
            guild_id = team["guild_id"]
            if prompt_id is not None:
                prompt = await load_prompt(tx, guild_id, prompt_id)
                if not prompt.active:
                    raise InvalidInput(
                        _(
                            "Prompt #{id} is retired; add it again with `/prompt add` to use it.",
                            id=prompt_id,
                        )
                    )
            else:
                prompt_id = await next_in_rotation(tx, team_id, guild_id)
                if prompt_id is None:
                    raise NotFound(_(NO_PROMPTS))
            queued = await queue_post(
                tx, self.outbox, team, prompt_id, None, ping_role, self.clock.now(), waited_for=True
            )
            assert queued is not None  # posts by hand have no slot to share
            return queued

    async def to_send(self, post_id: int | None) -> Post | None:
        """The post as it is to be sent, or None when there is nothing to send any more (it was
        posted already, or deleted with its team)."""
        async with self.db.reading() as tx:
            row = await tx.fetchone(f"{_POST_SELECT} WHERE pp.id = ?", (post_id,))
        post = None if row is None else Post.from_row(row)
        return None if post is None or post.state == "posted" else post

    async def posted(self, tx: Transaction, delivery: Delivery, sent: Sent) -> bool:
        """The outbox's hook: the post is in Discord."""
        assert delivery.subject is not None
        return await _record_posted(tx, delivery.subject, sent, self.clock.now())

    async def given_up(self, tx: Transaction, delivery: Delivery, reason: str) -> None:
        """The outbox's hook: the post could not be delivered. A scheduled one's reason stays
        with the team, for managers (`/team list`, `/prompt schedule`)."""
        if not await tx.execute(
            "UPDATE prompt_posts SET state = 'failed', error = ?"
            " WHERE id = ? AND state = 'sending'",
            (reason, delivery.subject),
        ):
            return  # posted after all (or gone): nothing to report
        await tx.execute(
            "UPDATE teams SET last_post_error = ? WHERE id ="
            " (SELECT team_id FROM prompt_posts WHERE id = ? AND slot_at IS NOT NULL)",
            (reason, delivery.subject),
        )

    async def shown(self, post_id: int) -> Post | None:
        """The post as its message shows it now (with its answer count), or None when it has no
        message to show it in (not posted, or deleted with its team)."""
        async with self.db.reading() as tx:
            row = await tx.fetchone(
                f"{_POST_SELECT} WHERE pp.id = ? AND pp.state = 'posted'"
                " AND pp.message_id IS NOT NULL",
                (post_id,),
            )
        return None if row is None else Post.from_row(row)

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
                _(
                    "Nothing has been posted for {team} yet. A manager can post a prompt now "
                    "with `/prompt post`, or set a weekly time with `/prompt schedule`.",
                    team=team.name,
                )
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
