-- Discussion prompts: each server's bank, what was posted for each team, and members' answers.
-- Times are integer Unix seconds (UTC).

-- A server's bank receives the starter prompts once; this row records that it did.
CREATE TABLE prompt_banks (
    guild_id  INTEGER PRIMARY KEY REFERENCES guilds (guild_id) ON DELETE CASCADE,
    seeded_at INTEGER NOT NULL
);

-- AUTOINCREMENT: ids are shown to members and carried by buttons, so they are never reused.
CREATE TABLE prompts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    text       TEXT NOT NULL,
    -- casefolded text without whitespace: a duplicate is refused whatever its case and spacing
    text_key   TEXT NOT NULL,
    starter    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    -- retired prompts leave the rotation but stay for history
    retired_at INTEGER,
    UNIQUE (guild_id, text_key)
);

-- One row per posting of a prompt for a team. A scheduled post is claimed (a row in state
-- 'sending') in a transaction before anything is sent to Discord: UNIQUE (team_id, slot_at) makes
-- a second pass, a racing loop or a restart unable to claim the same slot again. Manual posts have
-- slot_at NULL (SQLite lets NULLs repeat under UNIQUE).
--   sending: claimed, being sent (or the process stopped mid-post: recovered by a later run)
--   posted:  the message exists (message_id); thread_id once the thread is made
--   retry:   a transient failure (5xx, network); a later pass tries once more
--   failed:  given up (refused by Discord, or failed twice); error says why
CREATE TABLE prompt_posts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id    INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    prompt_id  INTEGER NOT NULL REFERENCES prompts (id) ON DELETE CASCADE,
    slot_at    INTEGER,
    state      TEXT NOT NULL CHECK (state IN ('sending', 'posted', 'retry', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 1,
    -- the bot run that is sending it, to tell a live claim from one left by a stopped process
    claimed_by TEXT NOT NULL,
    claimed_at INTEGER NOT NULL,
    posted_at  INTEGER,
    channel_id INTEGER NOT NULL,
    message_id INTEGER,
    thread_id  INTEGER,
    -- the team's previous post of the same prompt, when this one is a repeat
    repeat_of  INTEGER REFERENCES prompt_posts (id) ON DELETE SET NULL,
    ping_role  INTEGER NOT NULL DEFAULT 0,
    error      TEXT,
    UNIQUE (team_id, slot_at)
);

CREATE INDEX prompt_posts_by_team ON prompt_posts (team_id, state, id);
CREATE INDEX prompt_posts_by_prompt ON prompt_posts (prompt_id, team_id);
CREATE INDEX prompt_posts_by_state ON prompt_posts (state);

-- One answer per member per post; answering again replaces the text (edited_at set).
CREATE TABLE prompt_answers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id      INTEGER NOT NULL REFERENCES prompt_posts (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    display_name TEXT NOT NULL,
    text         TEXT NOT NULL,
    answered_at  INTEGER NOT NULL,
    edited_at    INTEGER,
    -- the answer's message in the post's thread, so it can be edited, and deleted by /forget-me
    message_id   INTEGER,
    UNIQUE (post_id, user_id)
);

CREATE INDEX prompt_answers_by_user ON prompt_answers (user_id);

-- When a team's weekly slot last changed (schedule or timezone): slots before it are not posted.
CREATE TABLE prompt_schedules (
    team_id      INTEGER PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
    active_since INTEGER NOT NULL
);
