"""Anonymous reflections: honest notes posted for the team that nobody can trace to their author.

Feature logic only (plain async Python over the database; nothing from discord). The model, from
PRODUCT.md, and how this module keeps it:

- No user id or name is stored with a reflection. To let the author delete their own, the row
  keeps `author_hash = keyed_hash(key, server, user, "reflection:<nonce>")` with a random nonce of
  its own, so two reflections by one person share no value. The receipt code is random, shown once
  to the author and stored only as an HMAC under the key: a copy of the database can't even list
  the codes, and holding a code (or the database and a code) doesn't say whose it is.
- Reflections wait until `threshold` different authors have one pending, then go out together in
  random order. Distinct authors are counted with per-batch markers
  (`"pending:<team>:<epoch>"`), deleted when the batch is sealed.
- The daily limit uses `"day:<team>:<yyyy-mm-dd>"` markers, deleted after the day.
- A report is recorded once per reporter with `"report:<reflection id>"`; never who.
- Ids are random (a sequential id keeps the writing order) and no write time is stored.

The honest limit: whoever holds the key *and* the member list can recompute every member's
hashes and so test who wrote what. The README's privacy section says so.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bot.clock import Clock
from bot.db import Database, Row, Transaction
from bot.errors import Conflict, InvalidInput, NotFound
from bot.secret import keyed_hash, same_hash
from bot.teams import Team, clean_text
from bot.text import shows_nothing

# No 0/O, 1/I/L, U: a code read aloud or copied by hand comes out right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 5
RECEIPT_PREFIX = "R-"
MAX_BODY = 2000
MAX_ABOUT = 100
MAX_REASON = 300
DAILY_LIMIT = 5
RETRY_DELAY = timedelta(minutes=5)
EXCERPT = 80

NEUTRAL_NOT_FOUND = (
    "No reflection of yours matches that code. Check the receipt code Breakroom showed you when "
    "you wrote it (it looks like R-7F3KQ); only the person who wrote a reflection can delete it."
)
KEY_REPLACED_NOTE = (
    " Receipts given before Breakroom's secret key was replaced can't be checked any more; "
    "a manager can still hide a posted reflection."
)
TEAM_GONE = "That team no longer exists; `/team list` shows the teams."

_CODE_RE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
# Invisible characters that would make an "empty" reflection look written.
_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}


# ---------------------------------------------------------------------------------------------
# What the cog renders


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the author is told, once. The code exists nowhere else."""

    code: str
    team_id: int
    pending_authors: int
    threshold: int
    written_today: int

    @property
    def authors_needed(self) -> int:
        return max(0, self.threshold - self.pending_authors)


@dataclass(frozen=True, slots=True)
class PostedMessage:
    channel_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class Reflection:
    """A reflection as the team may see it: never anything about its author."""

    id: int
    team_id: int
    ref: str
    state: str
    body: str | None
    about: str | None
    posted_at: datetime | None
    message: PostedMessage | None
    send_attempts: int = 0

    @classmethod
    def from_row(cls, row: Row) -> Reflection:
        posted = row["posted_at"]
        message = None
        if row["message_id"] is not None and row["channel_id"] is not None:
            message = PostedMessage(row["channel_id"], row["message_id"])
        return cls(
            id=row["id"],
            team_id=row["team_id"],
            ref=row["ref"],
            state=row["state"],
            body=row["body"],
            about=row["about"],
            posted_at=None if posted is None else datetime.fromtimestamp(posted, UTC),
            message=message,
            send_attempts=row["send_attempts"],
        )


@dataclass(frozen=True, slots=True)
class Deleted:
    state: str  # what it was: pending, queued, posted or hidden
    message: PostedMessage | None


@dataclass(frozen=True, slots=True)
class Hidden:
    ref: str
    team_id: int
    message: PostedMessage | None
    reports_closed: int


@dataclass(frozen=True, slots=True)
class OpenReport:
    reflection_id: int
    ref: str
    excerpt: str
    reasons: tuple[str, ...]
    message: PostedMessage | None


@dataclass(frozen=True, slots=True)
class Overview:
    team_id: int
    threshold: int
    pending_reflections: int
    pending_authors: int
    waiting_to_post: int
    posted: int
    hidden: int
    last_error: str | None
    open_reports: tuple[OpenReport, ...]


@dataclass(frozen=True, slots=True)
class Batch:
    """For /history: when a batch went out and how many it held (counts only)."""

    posted_at: datetime
    count: int


# ---------------------------------------------------------------------------------------------
# Text and codes


def clean_body(text: str) -> str:
    """Trim a reflection, keeping its paragraphs: NFC, no control characters, no trailing
    spaces, at most one blank line in a row. Text made only of invisible characters is empty."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        ch if ch == "\n" or unicodedata.category(ch) != "Cc" else " " for ch in text
    ).replace("\t", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if shows_nothing(text):
        return ""
    return text


def validate_body(text: str) -> str:
    body = clean_body(text)
    if not body:
        raise InvalidInput("Your reflection is empty: write a few words, then send it again.")
    if len(body) > MAX_BODY:
        raise InvalidInput(
            f"A reflection can be at most {MAX_BODY} characters; yours has {len(body)}. "
            f"Shorten it and send it again."
        )
    return body


def validate_about(text: str | None) -> str | None:
    about = clean_text(text or "")
    if shows_nothing(about):
        return None
    if len(about) > MAX_ABOUT:
        raise InvalidInput(
            f"“What is it about” can be at most {MAX_ABOUT} characters; yours has {len(about)}."
        )
    return about


def validate_reason(text: str) -> str:
    reason = clean_text(text)
    if shows_nothing(reason):
        raise InvalidInput("Say in a few words what is wrong with this reflection.")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"Keep the reason under {MAX_REASON} characters.")
    return reason


def new_code(rng: random.Random) -> str:
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _squeeze(text: str) -> str:
    return "".join(text.split()).replace("-", "").upper()


def parse_receipt(text: str) -> str | None:
    """The 5 characters of a receipt code typed as `R-7F3KQ`, `r7f3kq` or `7F3KQ`; else None."""
    code = _squeeze(text)
    if len(code) == CODE_LENGTH + 1 and code.startswith("R"):
        code = code[1:]
    return code if _CODE_RE.fullmatch(code) else None


def parse_ref(text: str) -> str | None:
    """The public code under a posted reflection, typed as `K7Q2M` or `#k7q2m`; else None."""
    code = _squeeze(text).lstrip("#")
    return code if _CODE_RE.fullmatch(code) else None


def key_id(key: bytes) -> bytes:
    """A short fingerprint of the key, to notice that it was replaced."""
    return hmac.new(key, b"breakroom:key-id", hashlib.sha256).digest()[:8]


def code_hash(key: bytes, guild_id: int, code: str) -> bytes:
    """The receipt code as stored: keyed, so a copy of the database can't enumerate codes."""
    return hmac.new(key, f"receipt:{guild_id}:{code}".encode(), hashlib.sha256).digest()


def excerpt(text: str | None, limit: int = EXCERPT) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ts(when: datetime) -> int:
    return int(when.timestamp())


def local_day(now: datetime, team: Team) -> tuple[str, int]:
    """The team-local date, and when that day ends (Unix seconds)."""
    today = now.astimezone(team.zone).date()
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=team.zone)
    return today.isoformat(), _ts(end)


# ---------------------------------------------------------------------------------------------


class Reflections:
    def __init__(
        self, db: Database, clock: Clock, key: bytes, rng: random.Random | None = None
    ) -> None:
        if not key:
            raise ValueError("reflections need the bot's key")
        self.db = db
        self.clock = clock
        self.key = key
        self.key_id = key_id(key)
        self.rng = rng or random.SystemRandom()

    # -- hashes ---------------------------------------------------------------------------------

    def _author(self, guild_id: int, user_id: int, nonce: bytes) -> bytes:
        return keyed_hash(self.key, guild_id, user_id, f"reflection:{nonce.hex()}")

    def _pending_marker(self, guild_id: int, user_id: int, team_id: int, epoch: int) -> bytes:
        return keyed_hash(self.key, guild_id, user_id, f"pending:{team_id}:{epoch}")

    def _day_marker(self, guild_id: int, user_id: int, team_id: int, day: str) -> bytes:
        return keyed_hash(self.key, guild_id, user_id, f"day:{team_id}:{day}")

    def _reporter(self, guild_id: int, user_id: int, reflection_id: int) -> bytes:
        return keyed_hash(self.key, guild_id, user_id, f"report:{reflection_id}")

    # -- writing --------------------------------------------------------------------------------

    async def write(self, team: Team, user_id: int, body: str, about: str | None = None) -> Receipt:
        """Store a reflection as pending and return its receipt (the only copy of the code)."""
        body = validate_body(body)
        about = validate_about(about)
        guild_id = team.guild_id
        day, day_ends = local_day(self.clock.now(), team)
        day_marker = self._day_marker(guild_id, user_id, team.id, day)
        async with self.db.transaction() as tx:
            threshold = await tx.fetchval(
                "SELECT reflection_threshold FROM teams WHERE id = ?", (team.id,)
            )
            if threshold is None:
                raise NotFound(TEAM_GONE)
            written = await tx.fetchval(
                "SELECT written FROM reflection_daily WHERE team_id = ? AND marker = ?",
                (team.id, day_marker),
            )
            if (written or 0) >= DAILY_LIMIT:
                raise InvalidInput(
                    f"You have written {DAILY_LIMIT} reflections for this team today, the most "
                    f"for one day. You can write again tomorrow."
                )
            epoch = await self._epoch(tx, team.id)
            await tx.execute(
                "INSERT OR IGNORE INTO reflection_pending_authors (team_id, marker, key_id)"
                " VALUES (?, ?, ?)",
                (team.id, self._pending_marker(guild_id, user_id, team.id, epoch), self.key_id),
            )
            code = await self._insert(tx, team, user_id, body, about)
            await tx.execute(
                "INSERT INTO reflection_daily (team_id, marker, day, expires_at, written)"
                " VALUES (?, ?, ?, ?, 1)"
                " ON CONFLICT (team_id, marker) DO UPDATE SET written = written + 1",
                (team.id, day_marker, day, day_ends),
            )
            authors = await self._pending_authors(tx, team.id)
        return Receipt(
            code=f"{RECEIPT_PREFIX}{code}",
            team_id=team.id,
            pending_authors=authors,
            threshold=int(threshold),
            written_today=(written or 0) + 1,
        )

    async def _insert(
        self, tx: Transaction, team: Team, user_id: int, body: str, about: str | None
    ) -> str:
        """Insert with a fresh random id, public code and receipt code (retrying on a clash)."""
        nonce = secrets.token_bytes(16)
        while True:
            reflection_id = self.rng.randrange(1, 2**53)
            ref, code = new_code(self.rng), new_code(self.rng)
            hashed = code_hash(self.key, team.guild_id, code)
            clash = await tx.fetchval(
                "SELECT 1 FROM reflections WHERE id = ? OR ref = ? OR code_hash = ?",
                (reflection_id, ref, hashed),
            )
            if not clash:
                break
        await tx.execute(
            "INSERT INTO reflections (id, team_id, state, body, about, ref, code_hash, nonce,"
            " author_hash, key_id) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)",
            (
                reflection_id,
                team.id,
                body,
                about,
                ref,
                hashed,
                nonce,
                self._author(team.guild_id, user_id, nonce),
                self.key_id,
            ),
        )
        return code

    async def _epoch(self, tx: Transaction, team_id: int) -> int:
        await tx.execute("INSERT OR IGNORE INTO reflection_teams (team_id) VALUES (?)", (team_id,))
        return int(
            await tx.fetchval("SELECT epoch FROM reflection_teams WHERE team_id = ?", (team_id,))
        )

    async def _pending_authors(self, tx: Transaction, team_id: int) -> int:
        # Markers made under an older key may belong to someone who wrote again under the new
        # one; counting only the current key's never counts one person twice.
        return int(
            await tx.fetchval(
                "SELECT COUNT(*) FROM reflection_pending_authors WHERE team_id = ? AND key_id = ?",
                (team_id, self.key_id),
            )
        )

    # -- batching and posting (the scheduler job) ------------------------------------------------

    async def seal_ready_batches(self, now: datetime) -> list[int]:
        """Teams whose pending reflections come from enough different authors: move them all to
        `queued` with one shared time, erase the author markers, start a new batch number."""
        sealed: list[int] = []
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT t.id, t.reflection_threshold FROM teams t WHERE EXISTS"
                " (SELECT 1 FROM reflections r WHERE r.team_id = t.id AND r.state = 'pending')"
            )
            for row in rows:
                team_id, threshold = row[0], row[1]
                if await self._pending_authors(tx, team_id) < threshold:
                    continue
                await tx.execute(
                    "UPDATE reflections SET state = 'queued', posted_at = ?"
                    " WHERE team_id = ? AND state = 'pending'",
                    (_ts(now), team_id),
                )
                await tx.execute(
                    "DELETE FROM reflection_pending_authors WHERE team_id = ?", (team_id,)
                )
                await self._epoch(tx, team_id)
                await tx.execute(
                    "UPDATE reflection_teams SET epoch = epoch + 1 WHERE team_id = ?", (team_id,)
                )
                sealed.append(team_id)
        return sealed

    async def teams_to_post(self, now: datetime) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT r.team_id FROM reflections r"
            " LEFT JOIN reflection_teams s ON s.team_id = r.team_id"
            " WHERE r.state = 'queued' AND (s.retry_at IS NULL OR s.retry_at <= ?)",
            (_ts(now),),
        )
        return [row[0] for row in rows]

    async def queued(self, team_id: int, rng: random.Random | None = None) -> list[Reflection]:
        """The team's reflections waiting to be posted, in random order."""
        rows = await self.db.fetchall(
            "SELECT * FROM reflections WHERE team_id = ? AND state = 'queued' ORDER BY id",
            (team_id,),
        )
        batch = [Reflection.from_row(row) for row in rows]
        (rng or self.rng).shuffle(batch)
        return batch

    async def claim(self, reflection_id: int) -> Reflection | None:
        """Before sending: the reflection as it is now, or None if it left the queue (deleted)."""
        async with self.db.transaction() as tx:
            if not await tx.execute(
                "UPDATE reflections SET send_attempts = send_attempts + 1"
                " WHERE id = ? AND state = 'queued'",
                (reflection_id,),
            ):
                return None
            row = await tx.fetchone("SELECT * FROM reflections WHERE id = ?", (reflection_id,))
        assert row is not None
        return Reflection.from_row(row)

    async def record_posted(self, reflection_id: int, channel_id: int, message_id: int) -> bool:
        """After sending: False if it was deleted meanwhile (then the message must go too)."""
        async with self.db.transaction() as tx:
            return bool(
                await tx.execute(
                    "UPDATE reflections SET state = 'posted', channel_id = ?, message_id = ?"
                    " WHERE id = ? AND state = 'queued'",
                    (channel_id, message_id, reflection_id),
                )
            )

    async def record_send_failure(self, team_id: int, error: str, now: datetime) -> datetime:
        """Keep the rest queued and try again after a pause; managers see why."""
        retry = now + RETRY_DELAY
        async with self.db.transaction() as tx:
            await self._epoch(tx, team_id)
            await tx.execute(
                "UPDATE reflection_teams SET retry_at = ?, last_error = ? WHERE team_id = ?",
                (_ts(retry), error[:300], team_id),
            )
        return retry

    async def clear_send_failure(self, team_id: int) -> None:
        await self.db.execute(
            "UPDATE reflection_teams SET retry_at = NULL, last_error = NULL"
            " WHERE team_id = ? AND (retry_at IS NOT NULL OR last_error IS NOT NULL)",
            (team_id,),
        )

    async def purge_expired_days(self, now: datetime) -> int:
        return await self.db.execute(
            "DELETE FROM reflection_daily WHERE expires_at <= ?", (_ts(now),)
        )

    async def next_due(self, now: datetime) -> datetime | None:
        """The next retry of a failed post, or the next end of a day with limit markers."""
        async with self.db.reading() as tx:
            retry = await tx.fetchval(
                "SELECT MIN(s.retry_at) FROM reflection_teams s WHERE EXISTS"
                " (SELECT 1 FROM reflections r WHERE r.team_id = s.team_id"
                " AND r.state = 'queued')"
            )
            expiry = await tx.fetchval("SELECT MIN(expires_at) FROM reflection_daily")
            queued_now = await tx.fetchval(
                "SELECT 1 FROM reflections r LEFT JOIN reflection_teams s"
                " ON s.team_id = r.team_id WHERE r.state = 'queued' AND s.retry_at IS NULL"
                " LIMIT 1"
            )
        times = [t for t in (retry, expiry) if t is not None]
        if queued_now:
            # Left queued by a pass that was interrupted: soon, but never a busy loop.
            times.append(_ts(now + timedelta(seconds=5)))
        return datetime.fromtimestamp(min(times), UTC) if times else None

    # -- deleting, hiding, reporting ------------------------------------------------------------

    async def _neutral(self, tx: Transaction, guild_id: int) -> str:
        """The one answer for a wrong code and someone else's code. Whether this server still
        has reflections from before a key change depends on the server, never on the code."""
        old = await tx.fetchval(
            "SELECT 1 FROM reflections r JOIN teams t ON t.id = r.team_id"
            " WHERE t.guild_id = ? AND r.key_id != ? LIMIT 1",
            (guild_id, self.key_id),
        )
        return NEUTRAL_NOT_FOUND + (KEY_REPLACED_NOTE if old else "")

    async def delete_by_author(self, guild_id: int, user_id: int, code: str) -> Deleted:
        """Delete the reflection with this receipt code, if this member wrote it."""
        parsed = parse_receipt(code)
        async with self.db.transaction() as tx:
            row = None
            if parsed is not None:
                row = await tx.fetchone(
                    "SELECT r.* FROM reflections r JOIN teams t ON t.id = r.team_id"
                    " WHERE r.code_hash = ? AND t.guild_id = ?",
                    (code_hash(self.key, guild_id, parsed), guild_id),
                )
            # Hash and compare in every case, so a wrong code and someone else's code take the
            # same work as well as getting the same answer.
            nonce = row["nonce"] if row is not None else bytes(16)
            stored = row["author_hash"] if row is not None else bytes(32)
            mine = same_hash(stored, self._author(guild_id, user_id, nonce))
            if row is None or not mine:
                raise NotFound(await self._neutral(tx, guild_id))
            await tx.execute("DELETE FROM reflections WHERE id = ?", (row["id"],))
            if row["state"] == "pending":
                await self._drop_marker_if_none_left(tx, guild_id, user_id, row["team_id"])
        reflection = Reflection.from_row(row)
        return Deleted(state=row["state"], message=reflection.message)

    async def _drop_marker_if_none_left(
        self, tx: Transaction, guild_id: int, user_id: int, team_id: int
    ) -> None:
        """An author whose last pending reflection went must stop counting towards the
        threshold, or a batch could go out with fewer real authors than promised."""
        rows = await tx.fetchall(
            "SELECT nonce, author_hash FROM reflections WHERE team_id = ? AND state = 'pending'"
            " AND key_id = ?",
            (team_id, self.key_id),
        )
        if any(same_hash(r[1], self._author(guild_id, user_id, r[0])) for r in rows):
            return
        epoch = await self._epoch(tx, team_id)
        await tx.execute(
            "DELETE FROM reflection_pending_authors WHERE team_id = ? AND marker = ?",
            (team_id, self._pending_marker(guild_id, user_id, team_id, epoch)),
        )

    async def _posted_by_ref(self, tx: Transaction, guild_id: int, code: str) -> Row:
        ref = parse_ref(code)
        row = None
        if ref is not None:
            row = await tx.fetchone(
                "SELECT r.* FROM reflections r JOIN teams t ON t.id = r.team_id"
                " WHERE r.ref = ? AND t.guild_id = ? AND r.state IN ('posted', 'hidden')",
                (ref, guild_id),
            )
        if row is None:
            raise NotFound(
                f"No posted reflection in this server has the code “{excerpt(code, 20)}”. "
                f"The code is under each posted reflection (like K7Q2M); start typing and "
                f"pick one from the list."
            )
        return row

    async def hide(self, guild_id: int, code: str) -> Hidden:
        """A manager hides a posted reflection: its text goes, an empty tombstone stays.

        Only the public code under the post is accepted, never a receipt code: otherwise a
        manager who glimpsed someone's receipt could find out which post is theirs.
        """
        async with self.db.transaction() as tx:
            row = await self._posted_by_ref(tx, guild_id, code)
            if row["state"] == "hidden":
                raise Conflict(f"Reflection {row['ref']} is already hidden.")
            await tx.execute(
                "UPDATE reflections SET state = 'hidden', body = NULL, about = NULL,"
                " channel_id = NULL, message_id = NULL WHERE id = ?",
                (row["id"],),
            )
            closed = await tx.execute(
                "DELETE FROM reflection_reports WHERE reflection_id = ?", (row["id"],)
            )
        return Hidden(
            ref=row["ref"],
            team_id=row["team_id"],
            message=Reflection.from_row(row).message,
            reports_closed=closed,
        )

    async def dismiss_reports(self, guild_id: int, code: str) -> int:
        """Close the reports on a posted reflection without hiding it."""
        async with self.db.transaction() as tx:
            row = await self._posted_by_ref(tx, guild_id, code)
            closed = await tx.execute(
                "DELETE FROM reflection_reports WHERE reflection_id = ?", (row["id"],)
            )
            if not closed:
                raise NotFound(f"Reflection {row['ref']} has no open reports.")
        return closed

    async def _reportable(self, tx: Transaction, guild_id: int, reflection_id: int) -> Row:
        row = await tx.fetchone(
            "SELECT r.* FROM reflections r JOIN teams t ON t.id = r.team_id"
            " WHERE r.id = ? AND t.guild_id = ?",
            (reflection_id, guild_id),
        )
        if row is None or row["state"] != "posted":
            raise NotFound("That reflection is no longer shown, so there is nothing to report.")
        return row

    async def check_reportable(self, guild_id: int, user_id: int, reflection_id: int) -> None:
        """Before opening the report form: the reflection is shown and not yet reported by you."""
        async with self.db.reading() as tx:
            await self._reportable(tx, guild_id, reflection_id)
            if await tx.fetchval(
                "SELECT 1 FROM reflection_reports WHERE reflection_id = ? AND reporter = ?",
                (reflection_id, self._reporter(guild_id, user_id, reflection_id)),
            ):
                raise Conflict(
                    "You already reported this reflection; managers can see your reason."
                )

    async def report(self, guild_id: int, user_id: int, reflection_id: int, reason: str) -> None:
        reason = validate_reason(reason)
        async with self.db.transaction() as tx:
            await self._reportable(tx, guild_id, reflection_id)
            if not await tx.execute(
                "INSERT OR IGNORE INTO reflection_reports (reflection_id, reporter, reason)"
                " VALUES (?, ?, ?)",
                (reflection_id, self._reporter(guild_id, user_id, reflection_id), reason),
            ):
                raise Conflict(
                    "You already reported this reflection; managers can see your reason."
                )

    # -- what managers see ----------------------------------------------------------------------

    async def open_reports(self, team_id: int) -> list[OpenReport]:
        async with self.db.reading() as tx:
            return await self._open_reports(tx, team_id)

    async def _open_reports(self, tx: Transaction, team_id: int) -> list[OpenReport]:
        # Reasons come out in the order of the reporters' (random) markers, not of reporting.
        rows = await tx.fetchall(
            "SELECT r.id, r.ref, r.body, r.channel_id, r.message_id, p.reason"
            " FROM reflection_reports p JOIN reflections r ON r.id = p.reflection_id"
            " WHERE r.team_id = ? AND r.state = 'posted'"
            " ORDER BY r.posted_at, r.ref, p.reporter",
            (team_id,),
        )
        grouped: dict[int, list[Row]] = {}
        for row in rows:
            grouped.setdefault(row["id"], []).append(row)
        reports = []
        for reflection_id, group in grouped.items():
            first = group[0]
            reports.append(
                OpenReport(
                    reflection_id=reflection_id,
                    ref=first["ref"],
                    excerpt=excerpt(first["body"]),
                    reasons=tuple(r["reason"] for r in group),
                    message=PostedMessage(first["channel_id"], first["message_id"]),
                )
            )
        return sorted(reports, key=lambda r: -len(r.reasons))

    async def overview(self, team_id: int) -> Overview:
        async with self.db.reading() as tx:
            threshold = await tx.fetchval(
                "SELECT reflection_threshold FROM teams WHERE id = ?", (team_id,)
            )
            if threshold is None:
                raise NotFound(TEAM_GONE)
            counts = {
                row[0]: row[1]
                for row in await tx.fetchall(
                    "SELECT state, COUNT(*) FROM reflections WHERE team_id = ? GROUP BY state",
                    (team_id,),
                )
            }
            error = await tx.fetchval(
                "SELECT last_error FROM reflection_teams WHERE team_id = ?", (team_id,)
            )
            return Overview(
                team_id=team_id,
                threshold=int(threshold),
                pending_reflections=counts.get("pending", 0),
                pending_authors=await self._pending_authors(tx, team_id),
                waiting_to_post=counts.get("queued", 0),
                posted=counts.get("posted", 0),
                hidden=counts.get("hidden", 0),
                last_error=error,
                open_reports=tuple(await self._open_reports(tx, team_id)),
            )

    async def search_posted(self, guild_id: int, text: str, limit: int = 25) -> list[Reflection]:
        """Posted reflections of the server for the hide autocomplete: reported ones first."""
        needle = text.strip().casefold().lstrip("#")
        rows = await self.db.fetchall(
            "SELECT r.*, (SELECT COUNT(*) FROM reflection_reports p"
            " WHERE p.reflection_id = r.id) AS reports"
            " FROM reflections r JOIN teams t ON t.id = r.team_id"
            " WHERE t.guild_id = ? AND r.state = 'posted'"
            " ORDER BY reports DESC, r.posted_at DESC, r.ref",
            (guild_id,),
        )
        found = [
            Reflection.from_row(row)
            for row in rows
            if not needle
            or row["ref"].casefold().startswith(needle)
            or needle in (row["body"] or "").casefold()
        ]
        return found[:limit]

    # -- history, export, forget-me ------------------------------------------------------------

    async def batches(self, team_id: int, since: datetime) -> list[Batch]:
        """Posted (or since hidden) reflections per batch, for /history: counts only."""
        rows = await self.db.fetchall(
            "SELECT posted_at, COUNT(*) FROM reflections WHERE team_id = ?"
            " AND state IN ('posted', 'hidden') AND posted_at >= ?"
            " GROUP BY posted_at ORDER BY posted_at",
            (team_id, _ts(since)),
        )
        return [Batch(datetime.fromtimestamp(row[0], UTC), row[1]) for row in rows]

    async def shared(self, team_id: int) -> list[Reflection]:
        """What the team was shown, for /export: text and batch time, never an author."""
        rows = await self.db.fetchall(
            "SELECT * FROM reflections WHERE team_id = ? AND state IN ('posted', 'hidden')"
            " ORDER BY posted_at, ref",
            (team_id,),
        )
        return [Reflection.from_row(row) for row in rows]

    async def forget_member(self, guild_id: int, user_id: int) -> list[PostedMessage]:
        """Delete what of this member the design can find in this server: their reflections
        (made under the current key), and their pending, daily and report markers. Returns the
        posted messages to delete. Idempotent."""
        messages: list[PostedMessage] = []
        async with self.db.transaction() as tx:
            team_ids = [
                row[0]
                for row in await tx.fetchall("SELECT id FROM teams WHERE guild_id = ?", (guild_id,))
            ]
            if not team_ids:
                return messages
            marks = ",".join("?" * len(team_ids))
            rows = await tx.fetchall(
                f"SELECT * FROM reflections WHERE team_id IN ({marks}) AND key_id = ?",
                (*team_ids, self.key_id),
            )
            for row in rows:
                if not same_hash(row["author_hash"], self._author(guild_id, user_id, row["nonce"])):
                    continue
                await tx.execute("DELETE FROM reflections WHERE id = ?", (row["id"],))
                message = Reflection.from_row(row).message
                if message is not None:
                    messages.append(message)
            for team_id in team_ids:
                epoch = await self._epoch(tx, team_id)
                await tx.execute(
                    "DELETE FROM reflection_pending_authors WHERE team_id = ? AND marker = ?",
                    (team_id, self._pending_marker(guild_id, user_id, team_id, epoch)),
                )
            days = await tx.fetchall(
                f"SELECT DISTINCT team_id, day FROM reflection_daily WHERE team_id IN ({marks})",
                team_ids,
            )
            await tx.executemany(
                "DELETE FROM reflection_daily WHERE team_id = ? AND marker = ?",
                [(d[0], self._day_marker(guild_id, user_id, d[0], d[1])) for d in days],
            )
            reports = await tx.fetchall(
                f"SELECT p.reflection_id FROM reflection_reports p JOIN reflections r"
                f" ON r.id = p.reflection_id WHERE r.team_id IN ({marks})",
                team_ids,
            )
            await tx.executemany(
                "DELETE FROM reflection_reports WHERE reflection_id = ? AND reporter = ?",
                [(r[0], self._reporter(guild_id, user_id, r[0])) for r in reports],
            )
        return messages
