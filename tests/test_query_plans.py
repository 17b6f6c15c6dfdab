"""The hot paths read through indexes, on SQLite and on PostgreSQL: every statement Breakroom
runs for `/history`, `/export`, `/poll results`, the team and poll autocompletes, a vote click
and a scheduler pass, on a database seeded like the big-data benchmark's
(tests/bench/bigdata_seed.py), is captured from its SQLite connections (`set_trace_callback`,
bound values filled in) and given to `EXPLAIN QUERY PLAN`; none may scan a table that grows
with the data without an index.

A scan of a *partial* index (the open polls, the deliveries still due) reads only the rows that
are due or open, and is allowed; a scan of a whole table or of a whole index is not. The
planner works without statistics (the bot never runs ANALYZE), as it does in production.

On PostgreSQL the same data (copied by `python -m bot migrate`) and the same statements are
EXPLAINed with sequential scans discouraged (`enable_seqscan = off`): on tables this small the
planner would otherwise prefer them, so a Seq Scan still there means no index can serve.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import asyncpg

from bot.clock import ManualClock
from bot.migrate import migrate
from tests.bench.bigdata_config import BigSize
from tests.bench.bigdata_seed import seed_big
from tests.double import DiscordDouble, Member
from tests.support import TEST_SECRET, World

#: tables that stay small whatever the data (one row per setting)
SMALL_TABLES = {"bot_state", "breakroom_schema"}
#: statements that read (nearly) every row of a table by what they ask, with why; any other
#: scan fails
READ_WHOLE = {
    # at start-up, the servers with data that the gateway did not bring: every present one
    "SELECT guild_id FROM guilds WHERE left_at IS NULL AND": "compares every server with Discord's",
    # the teams whose reflection sharing time is due or was never noted (a LEFT JOIN: a team
    # without a row is due); bot/reflection_batches.py would need a row per team to avoid it
    "FROM teams t LEFT JOIN reflection_teams s ON s.team_id = t.id WHERE (s.next_share_at IS NULL"
    " OR": "every team without a noted sharing time",
}
SIZE = BigSize(
    guilds=6,
    teams_per_guild=3,
    votes=3_000,
    answers=800,
    reflections=200,
    big_posts=30,
    big_answers_per_post=12,
    big_polls=12,
    big_votes_per_poll=60,
    big_reflections=40,
    prompts_per_guild=6,
    voters=4,
    answer_length=80,
)
_SCAN = re.compile(r"^(SCAN|SEARCH) (\w+)(?: AS \w+)?( USING (?:COVERING )?INDEX (\w+)| USING)?")


def full_scans(db_path: Path, statements: list[str]) -> dict[str, list[str]]:
    """Each statement that scans a big table without an index (or a whole index): its plan."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    partial = {
        name
        for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
        if sql and " WHERE " in sql.upper()
    }
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    found: dict[str, list[str]] = {}
    try:
        for sql in dict.fromkeys(s.strip() for s in statements):
            if not re.match(r"(?is)^(WITH|SELECT|UPDATE|DELETE|INSERT)\b", sql):
                continue  # BEGIN, COMMIT, PRAGMA, and trigger bodies ("-- TRIGGER …")
            if any(known in sql for known in READ_WHOLE):
                continue
            try:
                plan = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
            except sqlite3.Error as error:  # e.g. a temp table of a connection of its own
                found[sql] = [f"could not be explained: {error}"]
                continue
            bad = []
            for row in plan:
                match = _SCAN.match(row[3])
                if match is None:
                    continue  # SEARCH … USING INDEX, a temporary b-tree, …
                kind, name, using, index = match.groups()
                table = aliases(sql).get(name, name)
                if table not in tables or table in SMALL_TABLES:
                    continue  # a CTE (a recursive query's own rows), or a small table
                # no index at all (a SEARCH without one: MIN() over a table), or a scan of a
                # whole table or index
                whole = kind == "SCAN" and (index is None or index not in partial)
                if using is None or whole:
                    bad.append(row[3])
            if bad:
                found[sql] = bad
    finally:
        conn.close()
    return found


def aliases(sql: str) -> dict[str, str]:
    """`FROM teams t` / `JOIN polls AS p`: alias -> table, as plans name them by the alias."""
    found = {}
    for table, alias in re.findall(r"(?i)\b(?:FROM|JOIN)\s+(\w+)\s+(?:AS\s+)?(\w+)", sql):
        found[alias] = table
    return found


async def run_hot_paths(dd: DiscordDouble, world: World, voters: list[Member], poll: str) -> None:
    manager, channel = world.manager, world.channel
    history = await dd.slash(manager, "history", channel=channel, weeks=52)
    await history.wait_followup(timeout=60)
    export = await dd.slash(manager, "export", channel=channel, format="csv")
    await export.wait_followup(timeout=60)
    results = await dd.slash(manager, "poll results", channel=channel, poll=poll)
    await results.response(timeout=10)
    if results.response_type == 5:
        await results.wait_followup(timeout=30)
    assert await dd.autocomplete(manager, "history", focused="team", channel=channel, team="te")
    assert await dd.autocomplete(
        manager, "poll results", focused="poll", channel=channel, poll="job"
    )
    created = await dd.slash(
        manager,
        "poll create",
        channel=channel,
        question="Job or career, this week?",
        options={"options": "Job | Career"},
        duration="1d",
    )
    await created.response(timeout=10)
    message = await dd.wait_for_message(
        channel, lambda m: bool(m.buttons()) and "this week" in m.text, timeout=10
    )
    button = next(b for b in message.buttons() if "poll" in str(b.get("custom_id")))
    click = await dd.click(voters[0], message, str(button["custom_id"]))
    await click.response(timeout=10)
    await world.run_scheduler()


async def seeded_run(dd: DiscordDouble, tmp_path: Path, traced: list[str]) -> Path:
    """Seed, start the bot on the file, run the hot paths; the statements are in `traced`."""
    guilds = [dd.add_guild(f"Office {g + 1}") for g in range(SIZE.guilds)]
    channels = [
        [dd.add_channel(guild, f"team-{t + 1}") for t in range(SIZE.teams_per_guild)]
        for guild in guilds
    ]
    managers = [dd.add_member(guild, f"manager{n}", manager=True) for n, guild in enumerate(guilds)]
    voters = [dd.add_member(guilds[0], f"clerk{n}") for n in range(SIZE.voters)]
    clock = ManualClock()
    db_path = tmp_path / "breakroom.db"
    seeded = await seed_big(
        db_path,
        TEST_SECRET,
        [
            (g.id, [c.id for c in chans], m.id)
            for g, chans, m in zip(guilds, channels, managers, strict=True)
        ],
        SIZE,
        now=clock.now(),
    )
    world = World(dd, clock, db_path, guilds[0], channels[0][0], managers[0], voters)
    await world.start()
    try:
        traced.clear()  # the migrations' and start-up's own statements are not the hot paths
        await run_hot_paths(dd, world, voters, str(seeded.results_poll_id))
    finally:
        await world.stop()
    ran: Callable[[str], bool] = lambda table: any(table in s for s in traced)  # noqa: E731
    # the paths did run: their tables were read
    assert all(ran(t) for t in ("prompt_answers", "poll_votes", "reflections", "deliveries"))
    # and the vote's own transaction (on the event loop's connection) is among them
    assert any(s.startswith("INSERT INTO poll_votes") for s in traced)
    return db_path


async def test_hot_paths_scan_no_big_table(
    dd: DiscordDouble, tmp_path: Path, traced: list[str]
) -> None:
    db_path = await seeded_run(dd, tmp_path, traced)
    scans = full_scans(db_path, traced)
    assert not scans, "\n\n".join(f"{sql}\n  -> {'; '.join(plan)}" for sql, plan in scans.items())


def for_postgresql(sql: str) -> str:
    """A statement as SQLite ran it (its values filled in), in PostgreSQL's spelling: blobs
    x'…' as bytea literals, `?` never appears (the values are in)."""
    return re.sub(r"\bx'([0-9a-fA-F]*)'", r"'\\x\1'::bytea", sql)


async def test_the_same_statements_use_indexes_on_postgresql(
    dd: DiscordDouble, tmp_path: Path, traced: list[str], pg_url: str
) -> None:
    """The same data copied to PostgreSQL (`python -m bot migrate`), the same statements given
    to its EXPLAIN with sequential scans discouraged: a Seq Scan left means no index serves."""
    db_path = await seeded_run(dd, tmp_path, traced)
    statements = list(traced)  # the hot paths' (not the copy's, which reads the file too)
    await migrate(db_path, pg_url)
    conn = await asyncpg.connect(pg_url)
    seq: dict[str, list[str]] = {}
    explained = 0
    unexplained: list[str] = []
    try:
        await conn.execute("SET enable_seqscan = off")
        for sql in dict.fromkeys(s.strip() for s in statements):
            if not re.match(r"(?is)^(WITH|SELECT|UPDATE|DELETE)\b", sql):
                continue
            if any(known in sql for known in READ_WHOLE):
                continue
            try:
                rows = await conn.fetch(f"EXPLAIN {for_postgresql(sql)}")
            except asyncpg.PostgresError as error:
                unexplained.append(f"{sql[:80]}: {error}")
                continue
            explained += 1
            plan = [row[0] for row in rows]
            bad = [line.strip() for line in plan if re.search(r"Seq Scan on (\w+)", line)]
            bad = [
                line
                for line in bad
                if re.search(r"Seq Scan on (\w+)", line).group(1)  # type: ignore[union-attr]
                not in SMALL_TABLES
            ]
            if bad:
                seq[sql] = bad
    finally:
        await conn.close()
    assert unexplained == []  # every statement of the run is PostgreSQL's too
    assert explained > 100
    assert not seq, "\n\n".join(f"{sql}\n  -> {'; '.join(plan)}" for sql, plan in seq.items())
