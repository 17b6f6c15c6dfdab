"""Seeding the big-data database's reflections (tests/bench/bigdata_seed.py calls
`seed_reflections`): shared in batches of four, one batch a day going back, the last two of a team
of more than four still pending with their sealed author boxes, each with the keyed hashes Breakroom
keeps (bot/reflection_text.py, bot/reflection_store.py); thousands for the big team, the rest shared
evenly, and each team's next sharing time."""

from __future__ import annotations

import hashlib
import sqlite3

from bot.reflection_text import code_hash, key_id, new_code
from tests.bench.bigdata_seed_state import DAY, SEEDED_USER, SeedState


def seed_reflections(state: SeedState, conn: sqlite3.Connection) -> None:
    size = state.size
    others = max(0, size.reflections - size.big_reflections)
    per_team, extra = divmod(others, max(1, size.teams - 1))
    ident = key_id(state.key)
    rows: list[tuple[object, ...]] = []
    shares = []
    used: set[str] = set()
    ids: set[int] = set()
    for team_id, (guild_id, channel_id, _manager, _created) in state.teams.items():
        count = per_team + (1 if team_id - 1 <= extra else 0)
        if team_id == state.seeded.big_team_id:
            count = size.big_reflections
        # batches of 4, one a day going back; the last one still waiting (pending)
        for n in range(count):
            batch = n // 4
            pending = n >= count - 2 and count > 4
            posted_at = None if pending else state.now - (batch + 1) * DAY
            rows.append(
                _reflection(state, team_id, guild_id, channel_id, n, posted_at, ident, used, ids)
            )
        shares.append((team_id, state.now + DAY))
    conn.executemany(
        "INSERT INTO reflections (id, team_id, state, body, about, ref, code_hash, nonce,"
        " author_hash, key_id, posted_at, channel_id, message_id, min_authors, author_box)"
        " VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, 3, ?)",
        rows,
    )
    conn.executemany("INSERT INTO reflection_teams (team_id, next_share_at) VALUES (?, ?)", shares)


def _reflection(
    state: SeedState,
    team_id: int,
    guild_id: int,
    channel_id: int,
    n: int,
    posted_at: int | None,
    ident: bytes,
    used: set[str],
    ids: set[int],
) -> tuple[object, ...]:
    while True:
        ref, code = new_code(state.rng), new_code(state.rng)
        reflection_id = state.rng.randrange(1, 2**53)
        if ref not in used and reflection_id not in ids:
            break
    used.add(ref)
    ids.add(reflection_id)
    nonce = hashlib.sha256(b"nonce:%d" % reflection_id).digest()[:16]
    user = SEEDED_USER + n % 9
    author = state.store_hashes.author_hash(guild_id, user, nonce)
    box = None
    if posted_at is None:
        tag = state.store_hashes.author_tag(guild_id, user, team_id)
        box = state.store_hashes.seal_author(reflection_id, tag)
    return (
        reflection_id,
        team_id,
        "pending" if posted_at is None else "posted",
        state.texts[n % len(state.texts)],
        ref,
        code_hash(state.key, guild_id, code),
        nonce,
        author,
        ident,
        posted_at,
        None if posted_at is None else channel_id,
        None if posted_at is None else 10**18 + 7 * 10**9 + state.next_message(),
        box,
    )
