"""Discussion prompts: the server's bank, rotation, posts (manual and weekly) and answers.

Feature logic only: plain async Python over the database, nothing from discord. The cog sends
what this module claims and reports back what Discord did (`mark_posted`, `mark_failed`, …).

A post is a row claimed in a transaction *before* anything is sent, so the button can carry its id
and so two passes (or two processes) can never post the same weekly slot: the claim is an
INSERT under UNIQUE (team_id, slot_at). See data/migrations/0002_prompts.sql for the states.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

from bot.clock import Clock
from bot.db import Database, Row, Transaction
from bot.errors import Conflict, InvalidInput, NotFound
from bot.schedule import GRACE, due_slot, next_slots
from bot.teams import Team, clean_text
from bot.text import comparison_key, shows_nothing

STARTER_FILE = Path(__file__).resolve().parent.parent / "data" / "prompts" / "starter.txt"
MAX_PROMPT_LENGTH = 300
MAX_ANSWER_LENGTH = 1000
MAX_NAME_LENGTH = 80
PAGE_SIZE = 10
#: Tries for a scheduled post that fails with a transient error (5xx, network): once more.
MAX_ATTEMPTS = 2
RETRY_AFTER = timedelta(minutes=1)
#: A post left 'sending' by another run this long ago: that run stopped mid-post.
STALE_AFTER = timedelta(minutes=2)
#: Recovering a post interrupted more than this many times is given up.
MAX_RECOVERIES = 3
NO_PROMPTS = "The prompt bank has no active prompts; add one with /prompt add."
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

PostState = Literal["sending", "posted", "retry", "failed"]
WorkKind = Literal["new", "retry", "recover"]
#: Why an answer's thread message failed: 'transient' (5xx, rate limit, network: retried soon),
#: 'forbidden' (a missing permission: retried hourly for managers to fix it), 'gone' (the thread or
#: the post was deleted) or 'refused' (any other refusal): the last two are not retried.
AnswerFailure = Literal["transient", "forbidden", "gone", "refused"]


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def _dt(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _no_post(post_id: int | None) -> str:
    return (
        f"There is no prompt post #{post_id} in this server (its team may have been deleted); "
        f"pick a post from the list."
    )


def prompt_key(text: str) -> str:
    """What makes two prompts the same: their text as it reads (`bot.text.comparison_key`),
    ignoring all spacing."""
    return "".join(comparison_key(text).split())


def clean_answer(text: str) -> str:
    """Normalise (NFC) and trim an answer, keeping its line breaks (at most one blank line)."""
    lines = [line.rstrip() for line in unicodedata.normalize("NFC", text).splitlines()]
    kept: list[str] = []
    for line in lines:
        if not line and kept and not kept[-1]:
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def validate_prompt(text: str) -> str:
    cleaned = clean_text(text)
    if shows_nothing(cleaned):
        raise InvalidInput(
            "A prompt needs some text: write the question you want the team to discuss."
        )
    if len(cleaned) > MAX_PROMPT_LENGTH:
        raise InvalidInput(
            f"A prompt can be at most {MAX_PROMPT_LENGTH} characters; this one has "
            f"{len(cleaned)}. Shorten it and try again."
        )
    return cleaned


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


@cache
def starter_prompts(path: Path = STARTER_FILE) -> tuple[str, ...]:
    """The starter bank: one prompt a line; blank lines and `#` comments are skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(
        validate_prompt(line) for line in lines if line.strip() and not line.startswith("#")
    )


@dataclass(frozen=True, slots=True)
class Prompt:
    id: int
    guild_id: int
    text: str
    starter: bool
    created_at: datetime
    retired_at: datetime | None
    times_asked: int = 0

    @property
    def active(self) -> bool:
        return self.retired_at is None

    @classmethod
    def from_row(cls, row: Row) -> Prompt:
        keys = row.keys()
        return cls(
            id=row["id"],
            guild_id=row["guild_id"],
            text=row["text"],
            starter=bool(row["starter"]),
            created_at=datetime.fromtimestamp(row["created_at"], UTC),
            retired_at=_dt(row["retired_at"]),
            times_asked=row["times_asked"] if "times_asked" in keys else 0,
        )


@dataclass(frozen=True, slots=True)
class AddedPrompt:
    prompt: Prompt
    #: True when the text matched a retired prompt, which is back in the rotation
    restored: bool


@dataclass(frozen=True, slots=True)
class PromptPage:
    prompts: list[Prompt]
    page: int
    pages: int
    active: int
    retired: int


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
            slot_at=_dt(row["slot_at"]),
            state=row["state"],
            attempts=row["attempts"],
            claimed_at=datetime.fromtimestamp(row["claimed_at"], UTC),
            posted_at=_dt(row["posted_at"]),
            channel_id=row["channel_id"],
            message_id=row["message_id"],
            thread_id=row["thread_id"],
            repeat_of=row["repeat_of"],
            repeat_of_posted_at=_dt(row["repeat_of_posted_at"]),
            ping_role=bool(row["ping_role"]),
            error=row["error"],
        )


_POST_SELECT = (
    "SELECT pp.*, p.text AS prompt_text, t.guild_id AS guild_id, t.name AS team_name,"
    " prev.posted_at AS repeat_of_posted_at"
    " FROM prompt_posts pp JOIN prompts p ON p.id = pp.prompt_id JOIN teams t ON t.id = pp.team_id"
    " LEFT JOIN prompt_posts prev ON prev.id = pp.repeat_of"
)


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
            edited_at=_dt(row["edited_at"]),
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


@dataclass(frozen=True, slots=True)
class AnswerMessage:
    """An answer's message in Discord, for the cog to delete (privacy)."""

    thread_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class Work:
    """A post the scheduler claimed for this run: send it ('new', 'retry') or find out whether an
    interrupted run sent it ('recover')."""

    kind: WorkKind
    post: Post


class Prompts:
    def __init__(self, db: Database, clock: Clock, starter: tuple[str, ...] | None = None) -> None:
        self.db = db
        self.clock = clock
        self._starter = starter

    def _now(self) -> int:
        return _ts(self.clock.now())

    # -- the bank ---------------------------------------------------------------------------

    async def ensure_bank(self, guild_id: int) -> None:
        """Give the server the starter prompts, once (retired ones don't come back)."""
        if await self.db.fetchval("SELECT 1 FROM prompt_banks WHERE guild_id = ?", (guild_id,)):
            return
        starter = self._starter if self._starter is not None else starter_prompts()
        now = self._now()
        async with self.db.transaction() as tx:
            if await tx.fetchval("SELECT 1 FROM prompt_banks WHERE guild_id = ?", (guild_id,)):
                return
            await tx.execute(
                "INSERT INTO guilds (guild_id, joined_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (guild_id, now),
            )
            await tx.executemany(
                "INSERT INTO prompts (guild_id, text, text_key, starter, created_at)"
                " VALUES (?, ?, ?, 1, ?) ON CONFLICT (guild_id, text_key) DO NOTHING",
                [(guild_id, text, prompt_key(text), now) for text in starter],
            )
            await tx.execute(
                "INSERT INTO prompt_banks (guild_id, seeded_at) VALUES (?, ?)", (guild_id, now)
            )

    async def add(self, guild_id: int, text: str) -> AddedPrompt:
        cleaned = validate_prompt(text)
        await self.ensure_bank(guild_id)
        async with self.db.transaction() as tx:
            # Keys computed again from each text: a row stored under an older key rule matches.
            rows = await tx.fetchall("SELECT * FROM prompts WHERE guild_id = ?", (guild_id,))
            key = prompt_key(cleaned)
            same = [r for r in rows if key in (prompt_key(r["text"]), r["text_key"])]
            existing = min(same, key=lambda r: r["retired_at"] is not None, default=None)
            if existing is not None and existing["retired_at"] is None:
                raise Conflict(
                    f"The bank already has this prompt (#{existing['id']}): "
                    f"“{existing['text'][:120]}”."
                )
            if existing is not None:
                await tx.execute(
                    "UPDATE prompts SET retired_at = NULL WHERE id = ?", (existing["id"],)
                )
                prompt_id = existing["id"]
            else:
                prompt_id = await tx.insert(
                    "INSERT INTO prompts (guild_id, text, text_key, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (guild_id, cleaned, prompt_key(cleaned), self._now()),
                )
            prompt = await self._prompt(tx, guild_id, prompt_id)
        return AddedPrompt(prompt, restored=existing is not None)

    async def retire(self, guild_id: int, prompt_id: int) -> Prompt:
        async with self.db.transaction() as tx:
            prompt = await self._prompt(tx, guild_id, prompt_id)
            if not prompt.active:
                raise Conflict(f"Prompt #{prompt_id} is already retired.")
            await tx.execute(
                "UPDATE prompts SET retired_at = ? WHERE id = ?", (self._now(), prompt_id)
            )
            return await self._prompt(tx, guild_id, prompt_id)

    async def get_prompt(self, guild_id: int, prompt_id: int) -> Prompt:
        async with self.db.reading() as tx:
            return await self._prompt(tx, guild_id, prompt_id)

    async def _prompt(self, tx: Transaction, guild_id: int, prompt_id: int | None) -> Prompt:
        row = await tx.fetchone(
            "SELECT p.*, (SELECT COUNT(*) FROM prompt_posts pp WHERE pp.prompt_id = p.id"
            " AND pp.state = 'posted') AS times_asked FROM prompts p"
            " WHERE p.id = ? AND p.guild_id = ?",
            (prompt_id, guild_id),
        )
        if row is None:
            raise NotFound(
                f"There is no prompt #{prompt_id} in this server's bank; "
                f"`/prompt list` shows the ids."
            )
        return Prompt.from_row(row)

    async def list_page(
        self, guild_id: int, page: int = 1, per_page: int = PAGE_SIZE
    ) -> PromptPage:
        """The active prompts with how often each was posted in this server, one page of them."""
        await self.ensure_bank(guild_id)
        async with self.db.reading() as tx:
            active = int(
                await tx.fetchval(
                    "SELECT COUNT(*) FROM prompts WHERE guild_id = ? AND retired_at IS NULL",
                    (guild_id,),
                )
            )
            retired = int(
                await tx.fetchval(
                    "SELECT COUNT(*) FROM prompts WHERE guild_id = ? AND retired_at IS NOT NULL",
                    (guild_id,),
                )
            )
            pages = max(1, -(-active // per_page))
            page = min(max(page, 1), pages)
            rows = await tx.fetchall(
                "SELECT p.*, (SELECT COUNT(*) FROM prompt_posts pp WHERE pp.prompt_id = p.id"
                " AND pp.state = 'posted') AS times_asked FROM prompts p"
                " WHERE p.guild_id = ? AND p.retired_at IS NULL ORDER BY p.id LIMIT ? OFFSET ?",
                (guild_id, per_page, (page - 1) * per_page),
            )
        return PromptPage([Prompt.from_row(r) for r in rows], page, pages, active, retired)

    async def search(self, guild_id: int, text: str, limit: int = 25) -> list[Prompt]:
        """Active prompts for autocomplete: by id when digits are typed, else by text."""
        await self.ensure_bank(guild_id)
        needle = clean_text(text).casefold()
        rows = await self.db.fetchall(
            "SELECT * FROM prompts WHERE guild_id = ? AND retired_at IS NULL ORDER BY id",
            (guild_id,),
        )
        prompts = [Prompt.from_row(r) for r in rows]
        if needle.lstrip("#").isdigit():
            by_id = [p for p in prompts if str(p.id).startswith(needle.lstrip("#"))]
            if by_id:
                return by_id[:limit]
        return [p for p in prompts if needle in p.text.casefold()][:limit]

    # -- posts ------------------------------------------------------------------------------

    async def _post(self, tx: Transaction, post_id: int | None) -> Post:
        row = await tx.fetchone(f"{_POST_SELECT} WHERE pp.id = ?", (post_id,))
        if row is None:
            raise NotFound(_no_post(post_id))
        return Post.from_row(row)

    async def _next_prompt(self, tx: Transaction, team_id: int, guild_id: int) -> int | None:
        """Rotation: a never-asked prompt first (oldest first), else the least recently asked."""
        row = await tx.fetchone(
            "SELECT p.id, MAX(pp.id) AS last_post FROM prompts p LEFT JOIN prompt_posts pp"
            " ON pp.prompt_id = p.id AND pp.team_id = ? AND pp.state != 'failed'"
            " WHERE p.guild_id = ? AND p.retired_at IS NULL GROUP BY p.id"
            " ORDER BY last_post IS NOT NULL, last_post, p.id LIMIT 1",
            (team_id, guild_id),
        )
        return None if row is None else int(row["id"])

    async def _insert_post(
        self,
        tx: Transaction,
        team: Row,
        prompt_id: int,
        slot_at: int | None,
        ping_role: bool,
        run_id: str,
    ) -> int | None:
        repeat_of = await tx.fetchval(
            "SELECT MAX(id) FROM prompt_posts"
            " WHERE team_id = ? AND prompt_id = ? AND state = 'posted'",
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
                self._now(),
                team["channel_id"],
                repeat_of,
                int(ping_role),
            ),
        )

    async def claim_manual(
        self, team_id: int, prompt_id: int | None, *, ping_role: bool = False, run_id: str
    ) -> Post:
        """Claim a post for `/prompt post`: the given prompt, or the next one in rotation."""
        guild_id = await self.db.fetchval("SELECT guild_id FROM teams WHERE id = ?", (team_id,))
        if guild_id is not None:
            await self.ensure_bank(guild_id)
        async with self.db.transaction() as tx:
            team = await tx.fetchone("SELECT * FROM teams WHERE id = ?", (team_id,))
            if team is None:
                raise NotFound("That team no longer exists; `/team list` shows the teams.")
            guild_id = team["guild_id"]
            if prompt_id is not None:
                prompt = await self._prompt(tx, guild_id, prompt_id)
                if not prompt.active:
                    raise InvalidInput(
                        f"Prompt #{prompt_id} is retired; add it again with `/prompt add` "
                        f"to use it."
                    )
            else:
                prompt_id = await self._next_prompt(tx, team_id, guild_id)
                if prompt_id is None:
                    raise NotFound(NO_PROMPTS)
            post_id = await self._insert_post(tx, team, prompt_id, None, ping_role, run_id)
            return await self._post(tx, post_id)

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
            post = await self._post(tx, post_id)
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
            post = await self._post(tx, post_id)
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
            raise NotFound(_no_post(post_id))
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

    # -- the weekly schedule ----------------------------------------------------------------

    async def due_work(self, now: datetime, run_id: str) -> list[Work]:
        """Claim everything due at `now` for this run: each team's current slot (once, ever),
        retries of transient failures, and posts another run left half-sent."""
        teams = await self.db.fetchall(
            "SELECT id, guild_id FROM teams WHERE schedule_weekday IS NOT NULL"
            " AND schedule_time IS NOT NULL ORDER BY id"
        )
        work: list[Work] = []
        for guild_id in sorted({row["guild_id"] for row in teams}):
            await self.ensure_bank(guild_id)
        for team_id in [row["id"] for row in teams]:
            post = await self._claim_slot(team_id, now, run_id)
            if post is not None:
                work.append(Work("new", post))
        for row in await self.db.fetchall(
            "SELECT id FROM prompt_posts WHERE state = 'retry' AND claimed_at <= ? ORDER BY id",
            (_ts(now - RETRY_AFTER),),
        ):
            post = await self._claim_retry(row["id"], now, run_id)
            if post is not None:
                work.append(Work("retry", post))
        for row in await self.db.fetchall(
            "SELECT id, claimed_by FROM prompt_posts WHERE state = 'sending' AND claimed_by != ?"
            " AND claimed_at <= ? ORDER BY id",
            (run_id, _ts(now - STALE_AFTER)),
        ):
            post = await self._claim_stale(row["id"], row["claimed_by"], now, run_id)
            if post is not None:
                work.append(Work("recover", post))
        return work

    async def _claim_slot(self, team_id: int, now: datetime, run_id: str) -> Post | None:
        async with self.db.transaction() as tx:
            team = await tx.fetchone(
                "SELECT t.*, s.active_since FROM teams t"
                " LEFT JOIN prompt_schedules s ON s.team_id = t.id WHERE t.id = ?",
                (team_id,),
            )
            if team is None or team["schedule_weekday"] is None or team["schedule_time"] is None:
                return None
            since = team["active_since"] if team["active_since"] is not None else team["created_at"]
            slot = due_slot(
                now,
                team["schedule_weekday"],
                team["schedule_time"],
                Team.from_row(team).zone,
                datetime.fromtimestamp(since, UTC),
            )
            if slot is None or await tx.fetchval(
                "SELECT 1 FROM prompt_posts WHERE team_id = ? AND slot_at = ?", (team_id, _ts(slot))
            ):
                return None
            prompt_id = await self._next_prompt(tx, team_id, team["guild_id"])
            if prompt_id is None:
                # Nothing to post; the slot stays unclaimed, so adding a prompt within the grace
                # window still gets this week's post out.
                await tx.execute(
                    "UPDATE teams SET last_post_error = ? WHERE id = ?", (NO_PROMPTS, team_id)
                )
                return None
            post_id = await self._insert_post(
                tx, team, prompt_id, _ts(slot), bool(team["schedule_ping_role"]), run_id
            )
            return None if post_id is None else await self._post(tx, post_id)

    async def _claim_retry(self, post_id: int, now: datetime, run_id: str) -> Post | None:
        async with self.db.transaction() as tx:
            post = await self._post(tx, post_id)
            if post.state != "retry":
                return None
            if post.slot_at is not None and now - post.slot_at >= GRACE:
                await tx.execute(
                    "UPDATE prompt_posts SET state = 'failed' WHERE id = ?", (post_id,)
                )
                await tx.execute(
                    "UPDATE teams SET last_post_error = ? WHERE id = ?", (post.error, post.team_id)
                )
                return None
            await tx.execute(
                "UPDATE prompt_posts SET state = 'sending', attempts = attempts + 1,"
                " claimed_by = ?, claimed_at = ? WHERE id = ?",
                (run_id, _ts(now), post_id),
            )
            return await self._post(tx, post_id)

    async def _claim_stale(
        self, post_id: int, stale_run: str, now: datetime, run_id: str
    ) -> Post | None:
        async with self.db.transaction() as tx:
            # Compare-and-set on the old claimer: of two runs recovering at once, one wins.
            changed = await tx.execute(
                "UPDATE prompt_posts SET claimed_by = ?, claimed_at = ?, attempts = attempts + 1"
                " WHERE id = ? AND state = 'sending' AND claimed_by = ?",
                (run_id, _ts(now), post_id, stale_run),
            )
            if not changed:
                return None
            post = await self._post(tx, post_id)
            if post.attempts > MAX_RECOVERIES:
                error = "A post was interrupted by restarts several times and was given up."
                await tx.execute(
                    "UPDATE prompt_posts SET state = 'failed', error = ? WHERE id = ?",
                    (error, post_id),
                )
                if post.slot_at is not None:
                    await tx.execute(
                        "UPDATE teams SET last_post_error = ? WHERE id = ?", (error, post.team_id)
                    )
                return None
            return post

    async def next_due(self, now: datetime, run_id: str) -> datetime | None:
        """When the scheduler should next look: the earliest coming slot, retry or recovery, or
        an answer's thread message due again."""
        times: list[datetime] = []
        for row in await self.db.fetchall(
            "SELECT * FROM teams WHERE schedule_weekday IS NOT NULL AND schedule_time IS NOT NULL"
        ):
            team = Team.from_row(row)
            assert team.schedule_weekday is not None and team.schedule_time is not None
            times += next_slots(now, team.schedule_weekday, team.schedule_time, team.zone, 1)
        for row in await self.db.fetchall(
            "SELECT state, claimed_at FROM prompt_posts WHERE state = 'retry'"
            " OR (state = 'sending' AND claimed_by != ?)",
            (run_id,),
        ):
            delay = RETRY_AFTER if row["state"] == "retry" else STALE_AFTER
            times.append(datetime.fromtimestamp(row["claimed_at"], UTC) + delay)
        answers_due = await self.db.fetchval("SELECT MIN(due_at) FROM prompt_answer_posts")
        if answers_due is not None:
            times.append(datetime.fromtimestamp(answers_due, UTC))
        if not times:
            return None
        # Never "due in the past": a pass that leaves something due would otherwise spin.
        return max(min(times), now + timedelta(seconds=1))

    # -- answers ----------------------------------------------------------------------------

    async def _previous_answer(self, tx: Transaction, post: Post, user_id: int) -> Answer | None:
        row = await tx.fetchone(
            "SELECT a.* FROM prompt_answers a JOIN prompt_posts pp ON pp.id = a.post_id"
            " WHERE pp.team_id = ? AND pp.prompt_id = ? AND pp.id < ? AND a.user_id = ?"
            " ORDER BY pp.id DESC LIMIT 1",
            (post.team_id, post.prompt_id, post.id, user_id),
        )
        return None if row is None else Answer.from_row(row)

    async def _answer(self, tx: Transaction, post_id: int, user_id: int) -> Answer | None:
        row = await tx.fetchone(
            "SELECT * FROM prompt_answers WHERE post_id = ? AND user_id = ?", (post_id, user_id)
        )
        return None if row is None else Answer.from_row(row)

    async def _posted(self, tx: Transaction, guild_id: int, post_id: int) -> Post:
        post = await self._post(tx, post_id)
        if post.guild_id != guild_id or post.state != "posted":
            raise NotFound(_no_post(post_id))
        return post

    async def answer_form(self, guild_id: int, post_id: int, user_id: int) -> AnswerForm:
        async with self.db.reading() as tx:
            post = await self._posted(tx, guild_id, post_id)
            return AnswerForm(
                post=post,
                current=await self._answer(tx, post_id, user_id),
                previous=await self._previous_answer(tx, post, user_id),
            )

    async def save_answer(
        self, guild_id: int, post_id: int, user_id: int, display_name: str, text: str
    ) -> SavedAnswer:
        """Store the member's answer to the post, replacing their earlier one."""
        cleaned = validate_answer(text)
        name = clean_text(display_name)[:MAX_NAME_LENGTH] or "A member"
        now = self._now()
        async with self.db.transaction() as tx:
            post = await self._posted(tx, guild_id, post_id)
            before = await self._answer(tx, post_id, user_id)
            await tx.execute(
                "INSERT INTO prompt_answers (post_id, user_id, display_name, text, answered_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (post_id, user_id) DO UPDATE SET"
                " text = excluded.text, display_name = excluded.display_name, edited_at = ?",
                (post_id, user_id, name, cleaned, now, now),
            )
            answer = await self._answer(tx, post_id, user_id)
            assert answer is not None
            delivery = await self._claim_saved(tx, answer, post)
        return SavedAnswer(answer, post, replaced=before is not None, delivery=delivery)

    async def set_answer_message(self, answer_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE prompt_answers SET message_id = ? WHERE id = ?", (message_id, answer_id)
        )

    # -- answers' thread messages (retried by the prompts job) ------------------------------

    async def _claim_saved(self, tx: Transaction, answer: Answer, post: Post) -> AnswerDelivery:
        """In the save's transaction: the thread message is due, and claimed for the member's own
        attempt right away. Should the run stop before recording it, the job takes over once the
        lease ends; a save starts a new day before giving up."""
        now = self._now()
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

    async def due_answers(self, now: datetime) -> list[Answer]:
        """Answers whose thread message is due for another attempt, the longest waiting first."""
        rows = await self.db.fetchall(
            "SELECT a.* FROM prompt_answer_posts ap JOIN prompt_answers a ON a.id = ap.answer_id"
            " WHERE ap.due_at <= ? ORDER BY ap.due_at, a.id",
            (_ts(now),),
        )
        return [Answer.from_row(row) for row in rows]

    async def claim_answer(self, answer_id: int, now: datetime) -> AnswerDelivery | None:
        """Claim the next attempt at the answer's thread message if it is (still) due: of two
        passes or runs, one gets it. None when it isn't due, or was given up (a day old)."""
        claim = secrets.token_hex(8)
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT * FROM prompt_answer_posts WHERE answer_id = ? AND due_at <= ?",
                (answer_id, _ts(now)),
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
                (_ts(now + ANSWER_LEASE), claim, answer_id),
            )
            found = await tx.fetchone("SELECT * FROM prompt_answers WHERE id = ?", (answer_id,))
            assert found is not None  # the row goes with its answer (ON DELETE CASCADE)
            answer = Answer.from_row(found)
            post = await self._post(tx, answer.post_id)
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
                (_ts(now + delay), attempts, error, answer_id),
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

    async def answers(self, guild_id: int, post_id: int) -> AnswerList:
        async with self.db.reading() as tx:
            post = await self._posted(tx, guild_id, post_id)
            rows = await tx.fetchall(
                "SELECT * FROM prompt_answers WHERE post_id = ? ORDER BY answered_at, id",
                (post_id,),
            )
        return AnswerList(post, [Answer.from_row(r) for r in rows])

    async def forget_member(self, guild_id: int, user_id: int) -> list[AnswerMessage]:
        """Delete the member's answers in this server; returns their thread messages to delete."""
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
        return [
            AnswerMessage(row["thread_id"], row["message_id"])
            for row in rows
            if row["thread_id"] is not None and row["message_id"] is not None
        ]
