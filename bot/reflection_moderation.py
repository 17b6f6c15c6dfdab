"""Reflections, part 3: what happens to shared ones — hiding, reports, what managers see, and
what history and export may show (counts and shared text, never an author).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.db import Row, Transaction
from bot.errors import Conflict, InvalidInput, NotFound
from bot.i18n import N_, _
from bot.reflection_store import ERASE, NOTICE, POST, ReflectionStore, set_next_share
from bot.reflection_text import (
    MAX_THRESHOLD,
    MIN_THRESHOLD,
    TEAM_GONE,
    Batch,
    Hidden,
    OpenReport,
    Overview,
    PostedMessage,
    Reflection,
    excerpt,
    next_share_at,
    parse_ref,
    to_ts,
    validate_reason,
)
from bot.schedule import parse_time
from bot.secret import keyed_hash

ALREADY_REPORTED = N_("You already reported this reflection; managers can see your reason.")


class ReflectionModeration(ReflectionStore):
    def reporter(self, guild_id: int, user_id: int, reflection_id: int) -> bytes:
        return keyed_hash(self.key, guild_id, user_id, f"report:{reflection_id}")

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
                _(
                    "No posted reflection in this server has the code “{code}”. The code is "
                    "under each posted reflection (like K7Q2M); start typing and pick one from "
                    "the list.",
                    code=excerpt(code, 20),
                )
            )
        return row

    async def team_of_post(self, guild_id: int, code: str) -> int:
        """The team of the posted reflection with this public code (NotFound otherwise)."""
        async with self.db.reading() as tx:
            return int((await self._posted_by_ref(tx, guild_id, code))["team_id"])

    async def hide(self, guild_id: int, code: str) -> Hidden:
        """A manager hides a posted reflection: its text goes, an empty tombstone stays.

        Only the public code under the post is accepted, never a receipt code: otherwise a
        manager who glimpsed someone's receipt could find out which post is theirs.
        """
        async with self.db.transaction() as tx:
            row = await self._posted_by_ref(tx, guild_id, code)
            if row["state"] == "hidden":
                raise Conflict(_("Reflection {code} is already hidden.", code=row["ref"]))
            tx.mark_sensitive()  # its text must not stay readable in the WAL
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
            tx.mark_sensitive()
            closed = await tx.execute(
                "DELETE FROM reflection_reports WHERE reflection_id = ?", (row["id"],)
            )
            if not closed:
                raise NotFound(_("Reflection {code} has no open reports.", code=row["ref"]))
        return closed

    async def _reportable(self, tx: Transaction, guild_id: int, reflection_id: int) -> Row:
        row = await tx.fetchone(
            "SELECT r.* FROM reflections r JOIN teams t ON t.id = r.team_id"
            " WHERE r.id = ? AND t.guild_id = ?",
            (reflection_id, guild_id),
        )
        if row is None or row["state"] != "posted":
            raise NotFound(_("That reflection is no longer shown, so there is nothing to report."))
        return row

    async def check_reportable(self, guild_id: int, user_id: int, reflection_id: int) -> int:
        """Before opening the report form: the reflection is shown and not yet reported by you.
        Returns its team's id."""
        async with self.db.reading() as tx:
            row = await self._reportable(tx, guild_id, reflection_id)
            if await tx.fetchval(
                "SELECT 1 FROM reflection_reports WHERE reflection_id = ? AND reporter = ?",
                (reflection_id, self.reporter(guild_id, user_id, reflection_id)),
            ):
                raise Conflict(_(ALREADY_REPORTED))
        return int(row["team_id"])

    async def report(self, guild_id: int, user_id: int, reflection_id: int, reason: str) -> None:
        """Record a report, and in the same transaction make the leads' notice due: an outbox
        pass between the two would find no report to tell of, and send nothing."""
        reason = validate_reason(reason)
        async with self.db.transaction() as tx:
            tx.mark_sensitive()  # the WAL would keep the order of reports
            row = await self._reportable(tx, guild_id, reflection_id)
            if not await tx.execute(
                "INSERT INTO reflection_reports (reflection_id, reporter, reason)"
                " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (reflection_id, self.reporter(guild_id, user_id, reflection_id), reason),
            ):
                raise Conflict(_(ALREADY_REPORTED))
            lead_channel = await tx.fetchval(
                "SELECT lead_channel_id FROM teams WHERE id = ?", (row["team_id"],)
            )
            if lead_channel is not None:
                # The team's leads hear of it at once, in their channel (reports waiting for a
                # notice are one notice).
                await self.outbox.enqueue(tx, NOTICE, reflection_id, team_id=row["team_id"])

    # -- what managers see ----------------------------------------------------------------------

    async def open_report(self, reflection_id: int) -> tuple[int, OpenReport] | None:
        """The team and the open reports of one posted reflection (None: none open now)."""
        async with self.db.reading() as tx:
            team_id = await tx.fetchval(
                "SELECT team_id FROM reflections WHERE id = ?", (reflection_id,)
            )
            if team_id is None:
                return None
            found = [
                r for r in await _open_reports(tx, team_id) if r.reflection_id == reflection_id
            ]
        return (int(team_id), found[0]) if found else None

    async def open_reports(self, team_id: int) -> list[OpenReport]:
        async with self.db.reading() as tx:
            return await _open_reports(tx, team_id)

    async def overview(self, team_id: int) -> Overview:
        async with self.db.reading() as tx:
            settings = await tx.fetchone(
                "SELECT reflection_threshold, reflection_share_time FROM teams WHERE id = ?",
                (team_id,),
            )
            if settings is None:
                raise NotFound(_(TEAM_GONE))
            # Only what was released: nothing about the pending ones, not even their number.
            counts = {
                row[0]: row[1]
                for row in await tx.fetchall(
                    "SELECT state, COUNT(*) FROM reflections WHERE team_id = ?"
                    " AND state != 'pending' GROUP BY state",
                    (team_id,),
                )
            }
            reports = tuple(await _open_reports(tx, team_id))
        troubles = [t for t in await self.outbox.troubles(team_id) if t.kind in (POST, ERASE)]
        return Overview(
            team_id=team_id,
            threshold=int(settings[0]),
            share_time=settings[1],
            waiting_to_post=counts.get("queued", 0),
            posted=counts.get("posted", 0),
            hidden=counts.get("hidden", 0),
            trouble=troubles[0] if troubles else None,
            open_reports=reports,
        )

    async def configure(
        self, team_id: int, threshold: int | None = None, share_time: str | None = None
    ) -> None:
        """Change the team's threshold (3–10; it applies to reflections written from now on)
        and its daily sharing time (team-local HH:MM)."""
        if threshold is not None and not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
            raise InvalidInput(
                _(
                    "The threshold must be a whole number from {low} to {high}: with fewer than "
                    "{low} authors in a batch, a colleague could tell whose is whose.",
                    low=MIN_THRESHOLD,
                    high=MAX_THRESHOLD,
                )
            )
        share = None if share_time is None else parse_time(share_time)
        async with self.db.transaction() as tx:
            if not await tx.execute(
                "UPDATE teams SET reflection_threshold = coalesce(?, reflection_threshold),"
                " reflection_share_time = coalesce(?, reflection_share_time) WHERE id = ?",
                (threshold, share, team_id),
            ):
                raise NotFound(_(TEAM_GONE))
            if share is not None:
                # The next one at the new time, counted from now: changing the time never
                # releases a batch at once (that would point at whoever wrote last).
                timezone = await tx.fetchval("SELECT timezone FROM teams WHERE id = ?", (team_id,))
                upcoming = next_share_at(self.clock.now(), share, ZoneInfo(timezone))
                await set_next_share(tx, team_id, upcoming)

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
            (team_id, to_ts(since)),
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


async def _open_reports(tx: Transaction, team_id: int) -> list[OpenReport]:
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
