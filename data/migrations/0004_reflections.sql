-- Anonymous reflections (issue 5). What is missing here matters as much as what is present:
-- no Discord user id, no name, no write time and no insertion order is kept for a reflection.
--
-- Where the bot must recognise the same person again it stores a keyed hash
-- HMAC-SHA256(key, server id + user id + purpose) with the narrowest purpose that does the job:
--   author_hash  purpose 'reflection:<nonce>'         (one reflection: delete your own)
--   marker       purpose 'pending:<team>:<epoch>'     (one batch: count distinct pending authors)
--   marker       purpose 'day:<team>:<yyyy-mm-dd>'    (one day: the daily limit)
--   reporter     purpose 'report:<reflection id>'     (one reflection: report it once)
-- The key lives outside the database, so a copy of this file alone reveals no author, and no two
-- of these values are equal for two different reflections.

CREATE TABLE reflections (
    -- Random, not 1, 2, 3…: a sequential id would record the order in which they were written.
    id            INTEGER PRIMARY KEY,
    team_id       INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    -- pending: waiting for enough different authors; queued: in a batch being posted;
    -- posted: its message is in the team channel; hidden: a manager hid it (a tombstone).
    state         TEXT NOT NULL CHECK (state IN ('pending', 'queued', 'posted', 'hidden')),
    body          TEXT,
    about         TEXT,
    -- The random public code shown under the posted message (managers hide by it).
    ref           TEXT NOT NULL UNIQUE,
    -- HMAC(key, server + receipt code): finds the reflection from its receipt. The code itself
    -- is never stored.
    code_hash     BLOB NOT NULL UNIQUE,
    nonce         BLOB NOT NULL,
    author_hash   BLOB NOT NULL,
    -- A fingerprint of the key that made the hashes: after the key is replaced, old receipts
    -- can't be checked, and the bot can say so. The same for every reflection under one key.
    key_id        BLOB NOT NULL,
    -- When its batch was sealed for posting, the same second for the whole batch. No time is
    -- kept for the writing itself: a precise write time next to the order would help someone
    -- who saw a colleague typing at 9:05 tell which reflection is theirs.
    posted_at     INTEGER,
    channel_id    INTEGER,
    message_id    INTEGER,
    send_attempts INTEGER NOT NULL DEFAULT 0,
    CHECK ((state = 'pending') = (posted_at IS NULL)),
    CHECK (state = 'hidden' OR body IS NOT NULL),
    CHECK ((state = 'posted') = (message_id IS NOT NULL))
);

CREATE INDEX reflections_by_team_state ON reflections (team_id, state);

-- Per team: the batch number (part of the pending markers' purpose, so markers of two batches
-- can't be matched) and the last failure to post, for managers.
CREATE TABLE reflection_teams (
    team_id    INTEGER PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
    epoch      INTEGER NOT NULL DEFAULT 0,
    retry_at   INTEGER,
    last_error TEXT
);

-- One marker per distinct author with a pending reflection in the current batch; all deleted
-- when the batch is posted. WITHOUT ROWID: rows are ordered by the (random) marker, not by when
-- they were written.
CREATE TABLE reflection_pending_authors (
    team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    marker  BLOB NOT NULL,
    key_id  BLOB NOT NULL,
    PRIMARY KEY (team_id, marker)
) WITHOUT ROWID;

-- The daily limit: how many a member wrote for the team on one (team-local) day. Rows are
-- deleted once the day is over.
CREATE TABLE reflection_daily (
    team_id    INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    marker     BLOB NOT NULL,
    day        TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    written    INTEGER NOT NULL CHECK (written >= 1),
    PRIMARY KEY (team_id, marker)
) WITHOUT ROWID;

CREATE INDEX reflection_daily_by_expiry ON reflection_daily (expires_at);

-- Reports from the Report button: the reason, and a marker so one member reports once. Never who.
CREATE TABLE reflection_reports (
    reflection_id INTEGER NOT NULL REFERENCES reflections (id) ON DELETE CASCADE,
    reporter      BLOB NOT NULL,
    reason        TEXT NOT NULL,
    PRIMARY KEY (reflection_id, reporter)
) WITHOUT ROWID;
