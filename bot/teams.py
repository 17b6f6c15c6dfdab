"""Teams: a named group in one server with a home channel, an optional role and a timezone.

Feature logic only: plain async Python over the database, nothing from discord.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.db import Database, Row, Transaction
from bot.errors import Conflict, InvalidInput, NotFound
from bot.guild_joins import GuildJoins
from bot.i18n import ENGLISH, N_, _, validate_language
from bot.outbox import Outbox
from bot.schedule import TIME_EXAMPLES, parse_time
from bot.text import comparison_key, parse_id, shows_nothing
from bot.timezones import search_timezones as search_timezones
from bot.timezones import validate_timezone

MAX_NAME_LENGTH = 50
#: who may share the team's `/history` with it: its leads and managers (the default), or everyone
HISTORY_SHARING = ("leads", "everyone")
#: a team deleted meanwhile (a stale button, a command racing a delete)
TEAM_GONE = N_("That team no longer exists; `/team list` shows the teams.")
NO_TEAM_YET = N_("This server has no team yet. A manager can create one with `/team create`.")
_UNSET = object()


@dataclass(frozen=True, slots=True)
class Team:
    id: int
    guild_id: int
    name: str
    channel_id: int
    role_id: int | None
    timezone: str
    schedule_weekday: int | None
    schedule_time: str | None
    schedule_ping_role: bool
    reflection_threshold: int
    reflection_share_time: str
    last_post_error: str | None
    created_at: datetime
    #: members holding it may do for this team what a manager may
    lead_role_id: int | None = None
    #: where a report on one of the team's reflections is noticed at once
    lead_channel_id: int | None = None
    #: who may post a `/history` summary in the team channel: "leads" (and managers) or "everyone"
    history_sharing: str = "leads"
    #: what the team's posts are written in (a bot/i18n.py language)
    language: str = ENGLISH

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def led_by(self, role_ids: Collection[int], is_manager: bool) -> bool:
        """Whether a member may do for this team what a manager may: managers, and those
        holding the team's lead role."""
        return is_manager or (self.lead_role_id is not None and self.lead_role_id in role_ids)

    def admits(self, role_ids: Collection[int], is_manager: bool) -> bool:
        return takes_part(self.role_id, self.lead_role_id, role_ids, is_manager)

    @classmethod
    def from_row(cls, row: Row) -> Team:
        return cls(
            id=row["id"],
            guild_id=row["guild_id"],
            name=row["name"],
            channel_id=row["channel_id"],
            role_id=row["role_id"],
            timezone=row["timezone"],
            schedule_weekday=row["schedule_weekday"],
            schedule_time=row["schedule_time"],
            schedule_ping_role=bool(row["schedule_ping_role"]),
            reflection_threshold=row["reflection_threshold"],
            reflection_share_time=row["reflection_share_time"],
            last_post_error=row["last_post_error"],
            created_at=datetime.fromtimestamp(row["created_at"], UTC),
            lead_role_id=row["lead_role_id"],
            lead_channel_id=row["lead_channel_id"],
            history_sharing=row["history_sharing"],
            language=row["language"],
        )


def takes_part(
    role_id: int | None, lead_role_id: int | None, role_ids: Collection[int], is_manager: bool
) -> bool:
    """Whether a member takes part in a team (answers, votes, writes and reports reflections):
    with a team role, those holding it, its leads and managers; without one, everyone."""
    if role_id is None or role_id in role_ids or is_manager:
        return True
    return lead_role_id is not None and lead_role_id in role_ids


def not_a_member(team_name: str, role_id: int | None) -> str:
    return _(
        "{team} is for its members, who hold the <@&{role}> role; ask a manager if you should "
        "have it.",
        team=team_name,
        role=role_id,
    )


def clean_text(text: str) -> str:
    """Trim and normalise (NFC) what a member typed; inner whitespace runs become one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def name_key(name: str) -> str:
    """Team names are unique in a server as they read: see `bot.text.comparison_key`."""
    return comparison_key(name)


async def _same_name(tx: Transaction, guild_id: int, key: str, team_id: int = 0) -> str | None:
    """The name of another team of the server with this name key, if any. The key is computed
    again from each stored name (a row stored before keys ignored invisible and fullwidth
    characters has an older one); the stored key, which the UNIQUE constraint checks, counts
    too."""
    rows = await tx.fetchall(
        "SELECT id, name, name_key FROM teams WHERE guild_id = ? AND id != ?", (guild_id, team_id)
    )
    same = [row["name"] for row in rows if key in (name_key(row["name"]), row["name_key"])]
    return same[0] if same else None


def _taken(name: str) -> Conflict:
    return Conflict(
        _("This server already has a team called “{name}”; pick another name.", name=name)
    )


def validate_name(name: str) -> str:
    cleaned = clean_text(name)
    if shows_nothing(cleaned):
        raise InvalidInput(_("A team needs a name: type a few words, such as “Front desk”."))
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInput(
            _(
                "A team name can be at most {limit} characters; this one has {length}.",
                limit=MAX_NAME_LENGTH,
                length=len(cleaned),
            )
        )
    return cleaned


async def _schedule_changed(tx: Transaction, team_id: int, clock: Clock) -> None:
    """Record when the team's weekly slot last changed (the scheduler posts no slot before it)."""
    await tx.execute(
        "INSERT INTO prompt_schedules (team_id, active_since) VALUES (?, ?)"
        " ON CONFLICT (team_id) DO UPDATE SET active_since = excluded.active_since",
        (team_id, int(clock.now().timestamp())),
    )


class Teams:
    def __init__(self, db: Database, clock: Clock, *, outbox: Outbox | None = None) -> None:
        self.db = db
        self.clock = clock
        #: a team's failed deliveries are shown to managers and retried when its settings change
        self.outbox = outbox or Outbox(db, clock)
        self._joins = GuildJoins(db, clock)

    async def create(
        self,
        guild_id: int,
        name: str,
        channel_id: int,
        role_id: int | None = None,
        timezone: str = "UTC",
        *,
        lead_role_id: int | None = None,
        lead_channel_id: int | None = None,
        language: str = ENGLISH,
    ) -> Team:
        name = validate_name(name)
        timezone = validate_timezone(timezone)
        language = validate_language(language)
        now = int(self.clock.now().timestamp())
        async with self.db.transaction() as tx:
            if (existing := await _same_name(tx, guild_id, name_key(name))) is not None:
                raise _taken(existing)
            await tx.execute(
                "INSERT INTO guilds (guild_id, joined_at) VALUES (?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET left_at = NULL",
                (guild_id, now),
            )
            team_id = await tx.insert(
                "INSERT INTO teams (guild_id, name, name_key, channel_id, role_id, timezone,"
                " created_at, lead_role_id, lead_channel_id, language)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    name,
                    name_key(name),
                    channel_id,
                    role_id,
                    timezone,
                    now,
                    lead_role_id,
                    lead_channel_id,
                    language,
                ),
            )
            row = await tx.fetchone("SELECT * FROM teams WHERE id = ?", (team_id,))
        assert row is not None
        return Team.from_row(row)

    async def edit(
        self,
        team_id: int,
        *,
        name: str | None = None,
        channel_id: int | None = None,
        role_id: int | object | None = _UNSET,
        timezone: str | None = None,
        lead_role_id: int | object | None = _UNSET,
        lead_channel_id: int | object | None = _UNSET,
        history_sharing: str | None = None,
        language: str | None = None,
    ) -> Team:
        """Change what is given; `role_id=None` removes the role. Deliveries Discord refused
        for the team are tried again (see bot/outbox.py)."""
        changes: dict[str, object] = {}
        if name is not None:
            changes["name"] = validate_name(name)
            changes["name_key"] = name_key(name)
        if channel_id is not None:
            changes["channel_id"] = channel_id
        if role_id is not _UNSET:
            changes["role_id"] = role_id
        if lead_role_id is not _UNSET:
            changes["lead_role_id"] = lead_role_id
        if lead_channel_id is not _UNSET:
            changes["lead_channel_id"] = lead_channel_id
        if timezone is not None:
            changes["timezone"] = validate_timezone(timezone)
        if history_sharing is not None:
            if history_sharing not in HISTORY_SHARING:
                raise InvalidInput(_("Pick who may share the team's history: leads or everyone."))
            changes["history_sharing"] = history_sharing
        if language is not None:
            changes["language"] = validate_language(language)
        async with self.db.transaction() as tx:
            current = await tx.fetchone("SELECT * FROM teams WHERE id = ?", (team_id,))
            if current is None:
                raise NotFound(_(TEAM_GONE))
            key = changes.get("name_key")
            if isinstance(key, str) and (
                existing := await _same_name(tx, current["guild_id"], key, team_id)
            ):
                raise _taken(existing)
            if changes:
                assignments = ", ".join(f"{column} = ?" for column in changes)
                await tx.execute(
                    f"UPDATE teams SET {assignments} WHERE id = ?", (*changes.values(), team_id)
                )
                # A new channel or role may be what a given-up delivery lacked: try them again.
                await self.outbox.retry_team(tx, team_id)
            if changes.get("timezone", current["timezone"]) != current["timezone"]:
                # The weekly slot moved with the zone: a slot that "already passed" in the new
                # zone must not be posted at once.
                await _schedule_changed(tx, team_id, self.clock)
            row = await tx.fetchone("SELECT * FROM teams WHERE id = ?", (team_id,))
        assert row is not None
        return Team.from_row(row)

    async def delete(self, team_id: int) -> None:
        """Delete the team and, through ON DELETE CASCADE, everything it owns."""
        async with self.db.transaction() as tx:
            tx.mark_sensitive()  # its reflections and votes must not stay readable in the WAL
            if not await tx.execute("DELETE FROM teams WHERE id = ?", (team_id,)):
                raise NotFound(_(TEAM_GONE))

    async def get(self, team_id: int) -> Team:
        row = await self.db.fetchone("SELECT * FROM teams WHERE id = ?", (team_id,))
        if row is None:
            raise NotFound(_(TEAM_GONE))
        return Team.from_row(row)

    async def language_of(self, team_id: int) -> str:
        """The team's language; English for a team deleted meanwhile."""
        language = await self.db.fetchval("SELECT language FROM teams WHERE id = ?", (team_id,))
        return str(language or ENGLISH)

    async def for_guild(self, guild_id: int) -> list[Team]:
        rows = await self.db.fetchall(
            "SELECT * FROM teams WHERE guild_id = ? ORDER BY name_key", (guild_id,)
        )
        return [Team.from_row(row) for row in rows]

    async def search(self, guild_id: int, text: str, limit: int = 25) -> list[Team]:
        needle = name_key(text)
        teams = await self.for_guild(guild_id)
        starts = [t for t in teams if name_key(t.name).startswith(needle)]
        contains = [t for t in teams if needle in name_key(t.name) and t not in starts]
        return (starts + contains)[:limit]

    async def resolve(
        self,
        guild_id: int,
        *,
        team: str | None,
        channel_id: int | None,
        parent_channel_id: int | None = None,
    ) -> Team:
        """The team a command means.

        With `team` given: the team of that name (or id) in this server. Without: the team whose
        home channel the command is used in (or the parent of the thread it is used in); else,
        with one team in the server, that team; else an error asking for `team`.
        """
        teams = await self.for_guild(guild_id)
        if team is not None and team.strip():
            wanted = name_key(team)
            for candidate in teams:
                if name_key(candidate.name) == wanted:
                    return candidate
            if (team_id := parse_id(team)) is not None:
                for candidate in teams:
                    if candidate.id == team_id:
                        return candidate
            raise NotFound(
                _(
                    "There is no team called “{name}” in this server; `/team list` shows the "
                    "teams.",
                    name=clean_text(team)[:50],
                )
            )
        for channel in (channel_id, parent_channel_id):
            if channel is None:
                continue
            here = [t for t in teams if t.channel_id == channel]
            if len(here) == 1:
                return here[0]
            if len(here) > 1:
                raise InvalidInput(
                    _("Several teams use this channel; say which one with the `team` option.")
                )
        if len(teams) == 1:
            return teams[0]
        if not teams:
            raise NotFound(_(NO_TEAM_YET))
        raise InvalidInput(
            _("Which team? Use this in a team's channel, or say which one with the `team` option.")
        )

    async def set_schedule(
        self, team_id: int, weekday: int | None, time: str | None, ping_role: bool = False
    ) -> Team:
        """Set the weekly prompt slot (`weekday` 0 = Monday … 6, or None for off; `time` HH:MM
        in the team's zone). Slots from now on count: one that already passed is not posted."""
        if weekday is not None and not 0 <= weekday <= 6:
            raise InvalidInput(_("Pick a weekday from monday to sunday, or off."))
        if weekday is not None and time is None:
            raise InvalidInput(
                _("Say at what time to post, like {examples}.", examples=TIME_EXAMPLES)
            )
        time = None if time is None else parse_time(time)
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE teams SET schedule_weekday = ?, schedule_time = COALESCE(?, schedule_time),"
                " schedule_ping_role = ?, last_post_error = NULL WHERE id = ?",
                (weekday, time, int(ping_role), team_id),
            )
            if not changed:
                raise NotFound(_(TEAM_GONE))
            await _schedule_changed(tx, team_id, self.clock)
            row = await tx.fetchone("SELECT * FROM teams WHERE id = ?", (team_id,))
        assert row is not None
        return Team.from_row(row)

    async def guild_joined(self, guild_id: int) -> None:
        """The bot is in this server (again): cancel any pending deletion of its data."""
        await self._joins.joined(guild_id)  # with the others arriving at the same time

    async def guild_left(self, guild_id: int) -> None:
        """The bot was removed: the server's data is deleted 30 days from now unless it returns."""
        now = int(self.clock.now().timestamp())
        await self.db.execute(
            "UPDATE guilds SET left_at = ? WHERE guild_id = ? AND left_at IS NULL",
            (now, guild_id),
        )
