"""Discussion prompts, the answers: saving a member's answer to a post, listing a post's answers,
forgetting a member's (`PromptAnswers`), and the bookkeeping of each answer's message in the post's
thread — due, claimed, posted, failed, retried, given up (`AnswerDeliveries`).

Feature logic only: plain async Python over the database, nothing from discord. The cog posts the
thread messages and reports back what Discord did (`answer_posted`, `answer_failed`).
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.clock import Clock, from_ts, to_ts
from bot.db import Database, Row, Transaction
from bot.errors import InvalidInput, NotFound
from bot.member_data import MemberDataDeleted
from bot.prompt_posts import Post, load_post, no_post
from bot.teams import clean_text
from bot.text import shows_nothing

MAX_ANSWER_LENGTH = 1000
MAX_NAME_LENGTH = 80
#: An answer's thread message that failed for now (5xx, rate limit, network) is tried again after
#: 1 minute, then 2, 4, … at most 30 minutes apart, so a failing Discord isn't hammered.
ANSWER_RETRY_FIRST = timedelta(minutes=1)
ANSWER_RETRY_LIMIT = timedelta(minutes=30)
#: A thread message Discord refused for a missing permission: hourly, for a manager to fix it.
ANSWER_RETRY_FORBIDDEN = timedelta(hours=1)
#: An answer still not in its thread this long after it was saved is given up (it stays listed
#: by /prompt answers).
ANSWER_GIVE_UP = timedelta(days=1)
#: How long one attempt at an answer's message may run before another run may take it over (the
#: run that held it may have stopped mid-post).
ANSWER_LEASE = timedelta(minutes=2)

#: Why an answer's thread message failed: 'transient' (5xx, rate limit, network: retried soon),
#: 'forbidden' (a missing permission: retried hourly for managers to fix it), 'gone' (the thread or
#: the post was deleted) or 'refused' (any other refusal): the last two are not retried.
AnswerFailure = Literal["transient", "forbidden", "gone", "refused"]


def clean_answer(text: str) -> str:
    """Normalise (NFC) and trim an answer, keeping its line breaks (at most one blank line)."""
    lines = [line.rstrip() for line in unicodedata.normalize("NFC", text).splitlines()]
    kept: list[str] = []
    for line in lines:
        if not line and kept and not kept[-1]:
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def validate_answer(text: str) -> str:
    cleaned = clean_answer(text)
    if shows_nothing(cleaned):
        raise InvalidInput("Your answer is empty: write a few words, then send it again.")
    if len(cleaned) > MAX_ANSWER_LENGTH:
        raise InvalidInput(
            f"An answer can be at most {MAX_ANSWER_LENGTH} characters; yours has {len(cleaned)}. "
            f"Shorten it and send it again."
        )
    return cleaned


@dataclass(frozen=True, slots=True)
class Answer:
    id: int
    post_id: int
    user_id: int
    display_name: str
    text: str
    answered_at: datetime
    edited_at: datetime | None
    message_id: int | None

    @classmethod
    def from_row(cls, row: Row) -> Answer:
        return cls(
            id=row["id"],
            post_id=row["post_id"],
            user_id=row["user_id"],
            display_name=row["display_name"],
            text=row["text"],
            answered_at=datetime.fromtimestamp(row["answered_at"], UTC),
            edited_at=from_ts(row["edited_at"]),
            message_id=row["message_id"],
        )


@dataclass(frozen=True, slots=True)
class AnswerForm:
    """What the answer modal needs: the post, the member's answer to it (if they answered) and,
    for a repeat, what they answered the last time the team was asked this prompt."""

    post: Post
    current: Answer | None
    previous: Answer | None


@dataclass(frozen=True, slots=True)
class AnswerDelivery:
    """One attempt, claimed by its holder, at an answer's message in the post's thread: post it
    (`answer.message_id` is None) or edit it to the current text. Only the holder of `claim` records
    how it went. `look`: an earlier attempt may have reached Discord without being recorded, so the
    thread is searched before sending; `nonce` goes with the message (Discord answers a repeated
    nonce with the first message) and stays the same until a message is recorded."""

    answer: Answer
    post: Post
    claim: str
    nonce: str
    look: bool


@dataclass(frozen=True, slots=True)
class SavedAnswer:
    answer: Answer
    post: Post
    #: the member had answered this post before: their thread message is to be edited
    replaced: bool
    #: the attempt at the thread message that the save claimed for the member's interaction
    delivery: AnswerDelivery


@dataclass(frozen=True, slots=True)
class AnswerList:
    post: Post
    answers: list[Answer]

    @property
    def count(self) -> int:
        return len(self.answers)


async def _answer(tx: Transaction, post_id: int, user_id: int) -> Answer | None:
    row = await tx.fetchone(
        "SELECT * FROM prompt_answers WHERE post_id = ? AND user_id = ?", (post_id, user_id)
    )
    return None if row is None else Answer.from_row(row)


async def _previous_answer(tx: Transaction, post: Post, user_id: int) -> Answer | None:
    """The member's answer the last time the team was asked this post's prompt."""
    row = await tx.fetchone(
        "SELECT a.* FROM prompt_answers a JOIN prompt_posts pp ON pp.id = a.post_id"
        " WHERE pp.team_id = ? AND pp.prompt_id = ? AND pp.id < ? AND a.user_id = ?"
        " ORDER BY pp.id DESC LIMIT 1",
        (post.team_id, post.prompt_id, post.id, user_id),
    )
    return None if row is None else Answer.from_row(row)


async def _posted(tx: Transaction, guild_id: int, post_id: int) -> Post:
    post = await load_post(tx, post_id)
    if post.guild_id != guild_id or post.state != "posted":
        raise NotFound(no_post(post_id))
    return post


async def _claim_saved(tx: Transaction, answer: Answer, post: Post, now: int) -> AnswerDelivery:
    """In the save's transaction: the thread message is due, and claimed for the member's own
    attempt right away. Should the run stop before recording it, the prompts job takes over once
    the lease ends; a save starts a new day before giving up."""
    pending = await tx.fetchone(
        "SELECT nonce FROM prompt_answer_posts WHERE answer_id = ?", (answer.id,)
    )
    claim = secrets.token_hex(8)
    nonce = pending["nonce"] if pending is not None else secrets.token_hex(10)
    await tx.execute(
        "INSERT INTO prompt_answer_posts (answer_id, due_at, attempts, claim, nonce, since)"
        " VALUES (?, ?, 0, ?, ?, ?) ON CONFLICT (answer_id) DO UPDATE SET"
        " due_at = excluded.due_at, attempts = 0, claim = excluded.claim,"
        " since = excluded.since, error = NULL",
        (answer.id, now + int(ANSWER_LEASE.total_seconds()), claim, nonce, now),
    )
    return AnswerDelivery(answer, post, claim, nonce, look=pending is not None)


class PromptAnswers:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def answer_form(self, guild_id: int, post_id: int, user_id: int) -> AnswerForm:
        async with self.db.reading() as tx:
            post = await _posted(tx, guild_id, post_id)
            return AnswerForm(
                post=post,
                current=await _answer(tx, post_id, user_id),
                previous=await _previous_answer(tx, post, user_id),
            )

    async def save_answer(
        self, guild_id: int, post_id: int, user_id: int, display_name: str, text: str
    ) -> SavedAnswer:
        """Store the member's answer to the post, replacing their earlier one; its thread
        message is claimed for the member's attempt in the same transaction."""
        cleaned = validate_answer(text)
        name = clean_text(display_name)[:MAX_NAME_LENGTH] or "A member"
        now = to_ts(self.clock.now())
        async with self.db.transaction() as tx:
            post = await _posted(tx, guild_id, post_id)
            before = await _answer(tx, post_id, user_id)
            await tx.execute(
                "INSERT INTO prompt_answers (post_id, user_id, display_name, text, answered_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (post_id, user_id) DO UPDATE SET"
                " text = excluded.text, display_name = excluded.display_name, edited_at = ?",
                (post_id, user_id, name, cleaned, now, now),
            )
            answer = await _answer(tx, post_id, user_id)
            assert answer is not None
            delivery = await _claim_saved(tx, answer, post, now)
        return SavedAnswer(answer, post, replaced=before is not None, delivery=delivery)

    async def set_answer_message(self, answer_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE prompt_answers SET message_id = ? WHERE id = ?", (message_id, answer_id)
        )

    async def for_post(self, guild_id: int, post_id: int) -> AnswerList:
        """The post's answers, in the order they were first given."""
        async with self.db.reading() as tx:
            post = await _posted(tx, guild_id, post_id)
            rows = await tx.fetchall(
                "SELECT * FROM prompt_answers WHERE post_id = ? ORDER BY answered_at, id",
                (post_id,),
            )
        return AnswerList(post, [Answer.from_row(r) for r in rows])

    async def forget_member(self, guild_id: int, user_id: int) -> MemberDataDeleted:
        """Delete the member's answers in this server; their thread messages are to delete."""
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT a.id, a.message_id, pp.thread_id FROM prompt_answers a"
                " JOIN prompt_posts pp ON pp.id = a.post_id JOIN teams t ON t.id = pp.team_id"
                " WHERE t.guild_id = ? AND a.user_id = ?",
                (guild_id, user_id),
            )
            tx.mark_sensitive()  # forgotten text must not stay readable in the WAL
            await tx.executemany(
                "DELETE FROM prompt_answers WHERE id = ?", [(row["id"],) for row in rows]
            )
        posts = tuple(
            (row["thread_id"], row["message_id"])
            for row in rows
            if row["thread_id"] is not None and row["message_id"] is not None
        )
        return MemberDataDeleted("answers", deleted=len(rows), posts=posts)


class AnswerDeliveries:
    """The answers' thread messages still to post or edit: retried by the prompts job."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def due_answers(self, now: datetime) -> list[Answer]:
        """Answers whose thread message is due for another attempt, the longest waiting first."""
        rows = await self.db.fetchall(
            "SELECT a.* FROM prompt_answer_posts ap JOIN prompt_answers a ON a.id = ap.answer_id"
            " WHERE ap.due_at <= ? ORDER BY ap.due_at, a.id",
            (to_ts(now),),
        )
        return [Answer.from_row(row) for row in rows]

    async def next_due(self) -> datetime | None:
        """When the next answer's thread message is due (it may be in the past)."""
        return from_ts(await self.db.fetchval("SELECT MIN(due_at) FROM prompt_answer_posts"))

    async def claim_answer(self, answer_id: int, now: datetime) -> AnswerDelivery | None:
        """Claim the next attempt at the answer's thread message if it is (still) due: of two
        passes or runs, one gets it. None when it isn't due, or was given up (a day old)."""
        claim = secrets.token_hex(8)
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT * FROM prompt_answer_posts WHERE answer_id = ? AND due_at <= ?",
                (answer_id, to_ts(now)),
            )
            if row is None:
                return None
            if now - datetime.fromtimestamp(row["since"], UTC) >= ANSWER_GIVE_UP:
                await tx.execute(
                    "DELETE FROM prompt_answer_posts WHERE answer_id = ?", (answer_id,)
                )
                return None
            await tx.execute(
                "UPDATE prompt_answer_posts SET due_at = ?, claim = ? WHERE answer_id = ?",
                (to_ts(now + ANSWER_LEASE), claim, answer_id),
            )
            found = await tx.fetchone("SELECT * FROM prompt_answers WHERE id = ?", (answer_id,))
            assert found is not None  # the row goes with its answer (ON DELETE CASCADE)
            answer = Answer.from_row(found)
            post = await load_post(tx, answer.post_id)
        return AnswerDelivery(answer, post, claim, row["nonce"], look=True)

    async def answer_posted(self, delivery: AnswerDelivery, message_id: int) -> bool:
        """Discord has the answer's message: record it, and the answer is done unless the member
        saved it again meanwhile (then that attempt edits this message). False when the answer was
        deleted meanwhile (/forget-me): the message is to be deleted too."""
        answer_id = delivery.answer.id
        async with self.db.transaction() as tx:
            if not await tx.execute(
                "UPDATE prompt_answers SET message_id = ? WHERE id = ?", (message_id, answer_id)
            ):
                return False
            if not await tx.execute(
                "DELETE FROM prompt_answer_posts WHERE answer_id = ? AND claim = ?",
                (answer_id, delivery.claim),
            ):
                # Still due (saved again): should this message go, a new nonce lets a new one out.
                await tx.execute(
                    "UPDATE prompt_answer_posts SET nonce = ? WHERE answer_id = ?",
                    (secrets.token_hex(10), answer_id),
                )
            return True

    async def answer_failed(
        self, delivery: AnswerDelivery, error: str, failure: AnswerFailure
    ) -> datetime | None:
        """The attempt failed: when the job tries again (later after each failure), or None when
        it won't (not worth it, given up after a day, or no longer this attempt's to say)."""
        now = self.clock.now()
        answer_id = delivery.answer.id
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT attempts, since FROM prompt_answer_posts WHERE answer_id = ? AND claim = ?",
                (answer_id, delivery.claim),
            )
            if row is None:
                return None
            attempts = int(row["attempts"]) + 1
            delay: timedelta | None = None
            if failure == "transient":
                delay = min(ANSWER_RETRY_FIRST * 2 ** min(attempts - 1, 16), ANSWER_RETRY_LIMIT)
            elif failure == "forbidden":
                delay = ANSWER_RETRY_FORBIDDEN
            since = datetime.fromtimestamp(row["since"], UTC)
            if delay is None or now + delay - since > ANSWER_GIVE_UP:
                await tx.execute(
                    "DELETE FROM prompt_answer_posts WHERE answer_id = ?", (answer_id,)
                )
                return None
            await tx.execute(
                "UPDATE prompt_answer_posts SET due_at = ?, attempts = ?, error = ?"
                " WHERE answer_id = ?",
                (to_ts(now + delay), attempts, error, answer_id),
            )
            return now + delay

    async def answer_message_ids(self, post_id: int, except_answer: int) -> set[int]:
        """The thread messages recorded for the post's other answers (not orphans of ours)."""
        rows = await self.db.fetchall(
            "SELECT message_id FROM prompt_answers"
            " WHERE post_id = ? AND id != ? AND message_id IS NOT NULL",
            (post_id, except_answer),
        )
        return {int(row["message_id"]) for row in rows}
