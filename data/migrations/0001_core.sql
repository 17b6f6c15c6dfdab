-- The core: what the bot keeps about itself, the servers it is in, and their teams.
-- Times are stored as integer Unix seconds (UTC).

CREATE TABLE bot_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE guilds (
    guild_id     INTEGER PRIMARY KEY,
    joined_at    INTEGER NOT NULL,
    -- When the bot was removed from the server; its data is deleted 30 days later unless it
    -- comes back (then this is cleared).
    left_at      INTEGER
);

CREATE TABLE teams (
    id                   INTEGER PRIMARY KEY,
    guild_id             INTEGER NOT NULL,
    name                 TEXT NOT NULL,
    -- casefolded name: team names are unique in a server whatever their case
    name_key             TEXT NOT NULL,
    channel_id           INTEGER NOT NULL,
    role_id              INTEGER,
    timezone             TEXT NOT NULL DEFAULT 'UTC',
    -- the weekly prompt slot: 0 = Monday … 6 = Sunday and 'HH:MM' local time; NULL = off
    schedule_weekday     INTEGER CHECK (schedule_weekday BETWEEN 0 AND 6),
    schedule_time        TEXT,
    -- ping the team role when a scheduled prompt is posted
    schedule_ping_role   INTEGER NOT NULL DEFAULT 0,
    reflection_threshold INTEGER NOT NULL DEFAULT 3 CHECK (reflection_threshold BETWEEN 1 AND 10),
    -- why the last scheduled post failed (missing permission, deleted channel), for managers
    last_post_error      TEXT,
    created_at           INTEGER NOT NULL,
    UNIQUE (guild_id, name_key)
);

CREATE INDEX teams_by_channel ON teams (guild_id, channel_id);
