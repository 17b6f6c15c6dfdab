"""Seeding the big-data database's prompt posts and answers (tests/bench/bigdata_seed.py calls
`seed_posts`): the big team's two years of weekly posts with hundreds of answers each, repeats of
a prompt naming the post they repeat; every other team a few posts sharing the rest of the
answers."""

from __future__ import annotations

import sqlite3

from tests.bench.bigdata_seed_state import DAY, SEEDED_USER, WEEK, SeedState


def seed_posts(state: SeedState, conn: sqlite3.Connection) -> None:
    size = state.size
    big = size.big_posts * size.big_answers_per_post
    others = max(0, size.answers - big)
    other_teams = max(1, size.teams - 1)
    # every other team: a few posts, the rest of the answers spread over them
    per_team = others // other_teams
    extra = others - per_team * other_teams
    posts, answers = [], []
    for team_id, (guild_id, channel_id, _manager, _created) in state.teams.items():
        if team_id == state.seeded.big_team_id:
            plan = [size.big_answers_per_post] * size.big_posts
        else:
            n = per_team + (1 if team_id - 1 <= extra else 0)
            count = max(1, min(4, n // 4)) if n else 1
            plan = [n // count + (1 if i < n % count else 0) for i in range(count)]
        _team_posts(state, team_id, guild_id, channel_id, plan, posts, answers)
    conn.executemany(
        "INSERT INTO prompt_posts (id, team_id, prompt_id, slot_at, state, claimed_at,"
        " posted_at, channel_id, message_id, thread_id, repeat_of)"
        " VALUES (?, ?, ?, ?, 'posted', ?, ?, ?, ?, ?, ?)",
        posts,
    )
    conn.executemany(
        "INSERT INTO prompt_answers (id, post_id, user_id, display_name, text, answered_at,"
        " message_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
        answers,
    )


def _team_posts(
    state: SeedState,
    team_id: int,
    guild_id: int,
    channel_id: int,
    plan: list[int],
    posts: list[tuple[object, ...]],
    answers: list[tuple[object, ...]],
) -> None:
    prompts = state.prompts[guild_id]
    last_of: dict[int, int] = {}
    for week, count in enumerate(plan):
        post_id = state.ids("prompt_posts")
        # weekly, the last one this week
        at = state.now - (len(plan) - week) * WEEK + 3 * DAY
        if at >= state.now:
            at = state.now - DAY
        prompt_id = prompts[week % len(prompts)]
        message = 10**18 + post_id * 2
        posts.append(
            (
                post_id,
                team_id,
                prompt_id,
                at,
                at,
                at,
                channel_id,
                message,
                message + 1,
                last_of.get(prompt_id),
            )
        )
        last_of[prompt_id] = post_id
        for n in range(count):
            user = SEEDED_USER + n
            answers.append(
                (
                    state.ids("prompt_answers"),
                    post_id,
                    user,
                    f"clerk {n}",
                    state.texts[(post_id * 7 + n) % len(state.texts)],
                    at + 60 + n,
                    10**18 + 10**9 + state.next_message(),
                )
            )
