"""Discussion prompts, the bank: each server's prompts (the starter ones, added, retired) and the
rotation that picks the next one to post for a team.

Feature logic only: plain async Python over the database, nothing from discord.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from bot.clock import Clock, from_ts, to_ts
from bot.db import Database, Row, Transaction
from bot.errors import Conflict, InvalidInput, NotFound
from bot.i18n import ENGLISH, N_, _, language_of
from bot.teams import clean_text
from bot.text import comparison_key, shows_nothing

STARTER_DIR = Path(__file__).resolve().parent.parent / "data" / "prompts"
STARTER_FILE = STARTER_DIR / "starter.txt"
MAX_PROMPT_LENGTH = 300
PAGE_SIZE = 10
#: Stored as written here (a team's last post error) and translated where it is shown.
NO_PROMPTS = N_("The prompt bank has no active prompts; add one with /prompt add.")


def prompt_key(text: str) -> str:
    """What makes two prompts the same: their text as it reads (`bot.text.comparison_key`),
    ignoring all spacing."""
    return "".join(comparison_key(text).split())


def validate_prompt(text: str) -> str:
    cleaned = clean_text(text)
    if shows_nothing(cleaned):
        raise InvalidInput(
            _("A prompt needs some text: write the question you want the team to discuss.")
        )
    if len(cleaned) > MAX_PROMPT_LENGTH:
        raise InvalidInput(
            _(
                "A prompt can be at most {limit} characters; this one has {length}. "
                "Shorten it and try again.",
                limit=MAX_PROMPT_LENGTH,
                length=len(cleaned),
            )
        )
    return cleaned


def starter_file(language: str | None) -> Path:
    """The starter bank for a language: `starter.<lang>.txt` (`starter.de.txt`,
    `starter.pt_BR.txt`), or the English `starter.txt` when there is none for it."""
    chosen = language_of(language)
    if chosen != ENGLISH:
        path = STARTER_DIR / f"starter.{chosen}.txt"
        if path.exists():
            return path
    return STARTER_FILE


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
        keys = list(row.keys())
        return cls(
            id=row["id"],
            guild_id=row["guild_id"],
            text=row["text"],
            starter=bool(row["starter"]),
            created_at=datetime.fromtimestamp(row["created_at"], UTC),
            retired_at=from_ts(row["retired_at"]),
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


async def load_prompt(tx: Transaction, guild_id: int, prompt_id: int | None) -> Prompt:
    """The server's prompt, with how often it was posted (NotFound for another server's)."""
    row = await tx.fetchone(
        "SELECT p.*, (SELECT COUNT(*) FROM prompt_posts pp WHERE pp.prompt_id = p.id"
        " AND pp.state = 'posted') AS times_asked FROM prompts p"
        " WHERE p.id = ? AND p.guild_id = ?",
        (prompt_id, guild_id),
    )
    if row is None:
        raise NotFound(
            _(
                "There is no prompt #{id} in this server's bank; `/prompt list` shows the ids.",
                id=prompt_id,
            )
        )
    return Prompt.from_row(row)


async def next_in_rotation(tx: Transaction, team_id: int, guild_id: int) -> int | None:
    """Rotation: a never-asked prompt first (oldest first), else the least recently asked."""
    row = await tx.fetchone(
        "SELECT p.id FROM prompts p LEFT JOIN prompt_posts pp"
        " ON pp.prompt_id = p.id AND pp.team_id = ? AND pp.state != 'failed'"
        " WHERE p.guild_id = ? AND p.retired_at IS NULL GROUP BY p.id"
        " ORDER BY MAX(pp.id) IS NOT NULL, MAX(pp.id), p.id LIMIT 1",
        (team_id, guild_id),
    )
    return None if row is None else int(row["id"])


class PromptBank:
    def __init__(self, db: Database, clock: Clock, starter: tuple[str, ...] | None = None) -> None:
        self.db = db
        self.clock = clock
        self._starter = starter

    def _now(self) -> int:
        return to_ts(self.clock.now())

    async def ensure_bank(self, guild_id: int) -> None:
        """Give the server the starter prompts, once (retired ones don't come back), in the
        language of its first team (the one whose creation makes the bank); English when there
        is no bank for that language, or no team yet."""
        if await self.db.fetchval("SELECT 1 FROM prompt_banks WHERE guild_id = ?", (guild_id,)):
            return
        starter = self._starter
        if starter is None:
            language = await self.db.fetchval(
                "SELECT language FROM teams WHERE guild_id = ? ORDER BY id LIMIT 1", (guild_id,)
            )
            starter = starter_prompts(starter_file(language))
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
            await tx.execute(  # another process may have seeded it meanwhile: one bank
                "INSERT INTO prompt_banks (guild_id, seeded_at) VALUES (?, ?)"
                " ON CONFLICT (guild_id) DO NOTHING",
                (guild_id, now),
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
                    _(
                        "The bank already has this prompt (#{id}): “{text}”.",
                        id=existing["id"],
                        text=existing["text"][:120],
                    )
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
            prompt = await load_prompt(tx, guild_id, prompt_id)
        return AddedPrompt(prompt, restored=existing is not None)

    async def retire(self, guild_id: int, prompt_id: int) -> Prompt:
        async with self.db.transaction() as tx:
            prompt = await load_prompt(tx, guild_id, prompt_id)
            if not prompt.active:
                raise Conflict(_("Prompt #{id} is already retired.", id=prompt_id))
            await tx.execute(
                "UPDATE prompts SET retired_at = ? WHERE id = ?", (self._now(), prompt_id)
            )
            return await load_prompt(tx, guild_id, prompt_id)

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
