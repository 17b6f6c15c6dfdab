"""Reflections, part 1: what they are made of — text rules, codes, and the plain dataclasses
the cog renders. Nothing here touches the database or discord (bot/reflections.py does the work).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.db import Row
from bot.errors import InvalidInput
from bot.i18n import N_, _
from bot.outbox import Trouble
from bot.schedule import slot_on
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
MIN_THRESHOLD = 3
MAX_THRESHOLD = 10
DEFAULT_SHARE_TIME = "17:00"
#: `/forget-me` removes posted reflections at random times within this window
ERASE_WITHIN = timedelta(hours=24)
EXCERPT = 80

# Texts, translated where they are used (`_(NEUTRAL_NOT_FOUND)`).
NEUTRAL_NOT_FOUND = N_(
    "No reflection of yours matches that code. Check the receipt code Breakroom showed you when "
    "you wrote it (it looks like R-7F3KQ); only the person who wrote a reflection can delete it."
)
#: the same answer in a server that still has reflections from before a key change
NEUTRAL_NOT_FOUND_KEY_REPLACED = N_(
    "No reflection of yours matches that code. Check the receipt code Breakroom showed you when "
    "you wrote it (it looks like R-7F3KQ); only the person who wrote a reflection can delete it. "
    "Receipts given before Breakroom's secret key was replaced can't be checked any more; "
    "a manager can still hide a posted reflection."
)
TEAM_GONE = N_("That team no longer exists; `/team list` shows the teams.")

_CODE_RE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")


# ---------------------------------------------------------------------------------------------
# What the cog renders


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the author is told, once. The code exists nowhere else. No count of who else is
    waiting: a count would tell a member (or a second account) how close a batch is."""

    code: str
    team_id: int
    #: the team-local HH:MM at which complete batches are shared
    share_time: str
    threshold: int


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
    """What managers see: the settings and what was shared. Nothing about reflections still
    pending, not even their number: watching it after each write would show who wrote."""

    team_id: int
    threshold: int
    share_time: str
    waiting_to_post: int
    posted: int
    hidden: int
    #: the latest failure to post (or remove) one of the team's reflections, if any (the outbox's
    #: reason: it says nothing of who wrote what)
    trouble: Trouble | None
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
        raise InvalidInput(_("Your reflection is empty: write a few words, then send it again."))
    if len(body) > MAX_BODY:
        raise InvalidInput(
            _(
                "A reflection can be at most {limit} characters; yours has {length}. "
                "Shorten it and send it again.",
                limit=MAX_BODY,
                length=len(body),
            )
        )
    return body


def validate_about(text: str | None) -> str | None:
    about = clean_text(text or "")
    if shows_nothing(about):
        return None
    if len(about) > MAX_ABOUT:
        raise InvalidInput(
            _(
                "“What is it about” can be at most {limit} characters; yours has {length}.",
                limit=MAX_ABOUT,
                length=len(about),
            )
        )
    return about


def validate_reason(text: str) -> str:
    reason = clean_text(text)
    if shows_nothing(reason):
        raise InvalidInput(_("Say in a few words what is wrong with this reflection."))
    if len(reason) > MAX_REASON:
        raise InvalidInput(_("Keep the reason under {limit} characters.", limit=MAX_REASON))
    return reason


def new_code(rng: random.Random) -> str:
    return "".join(rng.choice(CODE_ALPHABET) for _position in range(CODE_LENGTH))


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


def to_ts(when: datetime) -> int:
    return int(when.timestamp())


def next_share_at(after: datetime, hhmm: str, zone: ZoneInfo) -> datetime:
    """The first sharing time (team-local `hhmm`) strictly after `after`."""
    day = after.astimezone(zone).date()
    slot = slot_on(day, hhmm, zone)
    while slot <= after:
        day += timedelta(days=1)
        slot = slot_on(day, hhmm, zone)
    return slot


def local_day(now: datetime, team: Team) -> tuple[str, int]:
    """The team-local date, and when that day ends (Unix seconds)."""
    today = now.astimezone(team.zone).date()
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=team.zone)
    return today.isoformat(), to_ts(end)
