-- Anonymity that holds against a manager and a copy of the files (issue 10).
--
-- Reflections
-- * A pending reflection keeps the threshold in force when it was written (`min_authors`): it is
--   released only in a batch with at least that many distinct authors, so lowering the threshold
--   later can't single it out. The threshold is never below 3.
-- * Who wrote a pending reflection is kept only sealed (`author_box`: AES-GCM under the bot's key,
--   a fresh nonce each time, see bot/sealed.py), to count distinct authors at sharing time; the
--   box is erased when the batch is released. Without the key, two boxes of one author share no
--   byte. The per-batch author markers and the per-day counters are gone: the daily limit is
--   counted in the bot's memory only, where a copy of the files can't reach it.
-- * Batches go out once a day at the team's sharing time (`reflection_share_time`, team-local
--   HH:MM), never in reaction to a write; `next_share_at` is the next one to look at.
-- * `/forget-me` removes posted reflections at spread-out random times over a day: each is queued
--   sealed in `reflection_erasures`, so the queue doesn't say which reflections belong together.

ALTER TABLE teams ADD COLUMN reflection_share_time TEXT NOT NULL DEFAULT '17:00';
UPDATE teams SET reflection_threshold = 3 WHERE reflection_threshold < 3;

CREATE TRIGGER teams_reflection_threshold_at_least_3_insert BEFORE INSERT ON teams
WHEN NEW.reflection_threshold < 3
BEGIN
    SELECT RAISE(ABORT, 'reflection_threshold is at least 3');
END;

CREATE TRIGGER teams_reflection_threshold_at_least_3_update
BEFORE UPDATE OF reflection_threshold ON teams
WHEN NEW.reflection_threshold < 3
BEGIN
    SELECT RAISE(ABORT, 'reflection_threshold is at least 3');
END;

ALTER TABLE reflections ADD COLUMN min_authors INTEGER NOT NULL DEFAULT 3
    CHECK (min_authors BETWEEN 3 AND 10);
ALTER TABLE reflections ADD COLUMN author_box BLOB;
-- Reflections pending from before: the team's threshold (at least 3) now. They have no box, so
-- together they count as one author: never more authors than there really are.
UPDATE reflections SET min_authors = max(3, min(10,
    (SELECT t.reflection_threshold FROM teams t WHERE t.id = reflections.team_id)))
WHERE state = 'pending';

DROP TABLE reflection_pending_authors;
DROP INDEX reflection_daily_by_expiry;
DROP TABLE reflection_daily;
ALTER TABLE reflection_teams DROP COLUMN epoch;
ALTER TABLE reflection_teams ADD COLUMN next_share_at INTEGER;

CREATE TABLE reflection_erasures (
    -- random, like reflection ids
    id      INTEGER PRIMARY KEY,
    team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    -- the reflection's id, sealed under the key
    box     BLOB NOT NULL,
    due_at  INTEGER NOT NULL
);

CREATE INDEX reflection_erasures_by_due ON reflection_erasures (due_at);

-- Polls
-- * An anonymous vote is a sealed ballot per voter (`poll_ballots`): the voter's keyed hash for
--   that poll and the options they picked, sealed. The file's physical order of ballots then
--   carries no option, and a ballot's bytes change on every vote. Ballots are deleted when the
--   poll closes; the counts stay.
-- * Counts of an open anonymous poll are shown in steps (`shown_votes`, `shown_voters`), moved
--   only once several different members have voted since the last step, so one edit of the poll
--   message never gives one vote away. `votes` and `voters` stay exact.

ALTER TABLE poll_options ADD COLUMN shown_votes INTEGER NOT NULL DEFAULT 0;
UPDATE poll_options SET shown_votes = votes;
ALTER TABLE polls ADD COLUMN shown_voters INTEGER NOT NULL DEFAULT 0;
UPDATE polls SET shown_voters = voters;

CREATE TABLE poll_ballots (
    poll_id    INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    voter_hash BLOB NOT NULL CHECK (length(voter_hash) = 32),
    ballot     BLOB NOT NULL,
    PRIMARY KEY (poll_id, voter_hash)
) WITHOUT ROWID;

CREATE TRIGGER poll_ballots_anonymous_polls_only BEFORE INSERT ON poll_ballots
WHEN (SELECT anonymous FROM polls WHERE id = NEW.poll_id) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'poll_ballots is for anonymous polls only');
END;

-- The old per-option rows: their counters go (the vote writer keeps the counts now); the rows of
-- closed polls go now, those of open polls are sealed into ballots when the bot starts
-- (bot.polls.Polls.seal_legacy_votes), leaving the old table empty.
DROP TRIGGER poll_anonymous_votes_counted;
DROP TRIGGER poll_anonymous_votes_uncounted;
DROP TRIGGER poll_anonymous_votes_moved;
DELETE FROM poll_anonymous_votes
WHERE poll_id IN (SELECT id FROM polls WHERE closed_at IS NOT NULL);
