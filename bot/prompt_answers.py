"""Discussion prompts, the answers: saving a member's answer to a post (its message in the post's
thread queued in the outbox in the same transaction), listing a post's answers, forgetting a
member's (`PromptAnswers`); whoever shows a post's answer count `watch`es for changes to it.

Feature logic only: plain async Python over the database, nothing from discord. The outbox's one
sender (bot/courier.py) posts or edits the thread message, and the outbox tells this module what
Discord did (`delivered`); retries and giving up after `ANSWER_GIVE_UP` are the outbox's rules.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.clock import Clock, from_ts, to_ts
from bot.db import Database, Row, Transaction
from bot.errors import InvalidInput, NotFound
from bot.i18n import _
from bot.member_data import MemberDataDeleted
from bot.outbox import Delivery, Outbox, Sent
from bot.prompt_posts import Post, load_post, no_post
from bot.teams import clean_text
from bot.text import shows_nothing

#: The outbox's kind for an answer's message in the post's thread.
KIND = "answer"
MAX_ANSWER_LENGTH = 1000
MAX_NAME_LENGTH = 80
#: Discord's CDN urls are far shorter; anything longer is not an avatar url and isn't kept.
MAX_AVATAR_URL_LENGTH = 512
#: An answer still not in its thread this long after it was saved is given up (it stays listed
#: by /prompt answers).
ANSWER_GIVE_UP = timedelta(days=1)


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
        raise InvalidInput(_("Your answer is empty: write a few words, then send it again."))
    if len(cleaned) > MAX_ANSWER_LENGTH:
        raise InvalidInput(
            _(
                "An answer can be at most {limit} characters; yours has {length}. "
                "Shorten it and send it again.",
                limit=MAX_ANSWER_LENGTH,
                length=len(cleaned),
            )
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
    #: the member's avatar when they answered (None: answered before avatars were kept)
    avatar_url: str | None = None

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
            avatar_url=row["avatar_url"],
        )


@dataclass(frozen=True, slots=True)
class AnswerForm:
    """What the answer modal needs: the post, the member's answer to it (if they answered) and,
    for a repeat, what they answered the last time the team was asked this prompt."""

    post: Post
    current: Answer | None
    previous: Answer | None


@dataclass(frozen=True, slots=True)
class SavedAnswer:
    answer: Answer
    post: Post
    #: the member had answered this post before: their thread message is to be edited
    replaced: bool
    #: the outbox's delivery of the thread message, for the member's own attempt right away
    delivery_id: int


@dataclass(frozen=True, slots=True)
class AnswerList:
    post: Post
    answers: list[Answer]

    @property
    def count(self) -> int:
        return len(self.answers)


@dataclass(frozen=True, slots=True)
class AnswerToSend:
    """An answer's thread message as it is to be sent, and the thread messages recorded for the
    post's other answers (so an earlier attempt's message is not mistaken for one of theirs)."""

    answer: Answer
    post: Post
    others: frozenset[int]


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


def kept_avatar(url: str | None) -> str | None:
    """The avatar url worth keeping: an https url of sensible length, else None."""
    if not url or not url.startswith("https://") or len(url) > MAX_AVATAR_URL_LENGTH:
        return None
    return url


#: Told the posts whose number of answers changed (a first answer, a /forget-me).
CountWatcher = Callable[[tuple[int, ...]], None]


class PromptAnswers:
    def __init__(self, db: Database, clock: Clock, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self._watchers: list[CountWatcher] = []
        outbox.register(KIND, self.delivered)

    def watch(self, watcher: CountWatcher) -> None:
        """Call `watcher` with the posts whose answer count changed, after each change."""
        self._watchers.append(watcher)

    def unwatch(self, watcher: CountWatcher) -> None:
        if watcher in self._watchers:
            self._watchers.remove(watcher)

    def _counts_changed(self, post_ids: tuple[int, ...]) -> None:
        if post_ids:
            for watcher in list(self._watchers):
                watcher(post_ids)

    async def answer_form(self, guild_id: int, post_id: int, user_id: int) -> AnswerForm:
        async with self.db.reading() as tx:
            post = await _posted(tx, guild_id, post_id)
            return AnswerForm(
                post=post,
                current=await _answer(tx, post_id, user_id),
                previous=await _previous_answer(tx, post, user_id),
            )

    async def save_answer(
        self,
        guild_id: int,
        post_id: int,
        user_id: int,
        display_name: str,
        text: str,
        avatar: str | None = None,
    ) -> SavedAnswer:
        """Store the member's answer to the post, replacing their earlier one; its thread
        message (posted, or edited to the new text) is due in the same transaction. `avatar`
        is the member's avatar url now, shown beside the answer (kept: the outbox may post it
        after a restart)."""
        cleaned = validate_answer(text)
        name = clean_text(display_name)[:MAX_NAME_LENGTH] or "A member"
        picture = kept_avatar(avatar)
        moment = self.clock.now()
        now = to_ts(moment)
        async with self.db.transaction() as tx:
            post = await _posted(tx, guild_id, post_id)
            before = await _answer(tx, post_id, user_id)
            await tx.execute(
                "INSERT INTO prompt_answers"
                " (post_id, user_id, display_name, text, answered_at, avatar_url)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (post_id, user_id) DO UPDATE SET"
                " text = excluded.text, display_name = excluded.display_name,"
                " avatar_url = excluded.avatar_url, edited_at = ?",
                (post_id, user_id, name, cleaned, now, picture, now),
            )
            answer = await _answer(tx, post_id, user_id)
            assert answer is not None
            delivery_id = await self.outbox.enqueue(
                tx,
                KIND,
                answer.id,
                team_id=post.team_id,
                deadline=moment + ANSWER_GIVE_UP,
                waited_for=True,
            )
        if before is None:
            self._counts_changed((post_id,))
        return SavedAnswer(answer, post, replaced=before is not None, delivery_id=delivery_id)

    async def to_send(self, answer_id: int | None) -> AnswerToSend | None:
        """The answer's thread message as it is to be sent (None: the answer was deleted)."""
        async with self.db.reading() as tx:
            row = await tx.fetchone("SELECT * FROM prompt_answers WHERE id = ?", (answer_id,))
            if row is None:
                return None
            answer = Answer.from_row(row)
            post = await load_post(tx, answer.post_id)
            others = await tx.fetchall(
                "SELECT message_id FROM prompt_answers"
                " WHERE post_id = ? AND id != ? AND message_id IS NOT NULL",
                (answer.post_id, answer.id),
            )
        return AnswerToSend(answer, post, frozenset(int(r["message_id"]) for r in others))

    async def delivered(self, tx: Transaction, delivery: Delivery, sent: Sent) -> bool:
        """The outbox's hook: the answer's message is in the thread (and the thread, if this
        attempt opened it, is the post's). False when the answer was deleted meanwhile
        (/forget-me): the message is deleted too."""
        row = await tx.fetchone(
            "SELECT post_id FROM prompt_answers WHERE id = ?", (delivery.subject,)
        )
        if row is None:
            return False
        await tx.execute(
            "UPDATE prompt_answers SET message_id = ? WHERE id = ?",
            (sent.message_id, delivery.subject),
        )
        if sent.thread_id is not None:
            await tx.execute(
                "UPDATE prompt_posts SET thread_id = ? WHERE id = ? AND thread_id IS NULL",
                (sent.thread_id, row["post_id"]),
            )
        return True

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
                "SELECT a.id, a.post_id, a.message_id, pp.thread_id FROM prompt_answers a"
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
        self._counts_changed(tuple(dict.fromkeys(int(row["post_id"]) for row in rows)))
        return MemberDataDeleted("answers", deleted=len(rows), posts=posts)
