-- One outbox for everything Breakroom must post, edit or delete in Discord exactly once: prompt
-- posts (and their threads), answers in a post's thread, poll messages and result posts, the
-- reflections of a released batch, and the staggered deletions `/forget-me` schedules.
-- Features add a row in the transaction that makes the work due (bot/outbox.py); one sender in
-- the Discord layer (bot/courier.py) claims it, sends, and records the outcome. Times are Unix
-- seconds (UTC).
--
-- States:
--   due       waiting for due_at (a first attempt, or a retry after a pause)
--   sending   claimed by the run of the bot named in claimed_by until due_at (its lease): a run
--             that stopped mid-attempt leaves it to whoever comes after the lease
--   given_up  Discord refused it (403, 404, another 4xx) or its deadline passed; error says why,
--             for managers (`/team show`), and `/team edit` puts the team's back in the queue
-- A delivered row is deleted: what was delivered is recorded by its feature (a message id).
CREATE TABLE deliveries (
    -- random, never 1, 2, 3…: the order of the rows must not tell which were written together
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    -- the row it delivers (a post, an answer, a poll, a reflection), or NULL when it is sealed
    subject    INTEGER,
    -- the subject sealed under the bot's key: a copy of the files can't tell which reflection a
    -- scheduled deletion is for
    box        BLOB,
    team_id    INTEGER REFERENCES teams (id) ON DELETE CASCADE,
    state      TEXT NOT NULL DEFAULT 'due' CHECK (state IN ('due', 'sending', 'given_up')),
    due_at     INTEGER NOT NULL,
    -- not delivered by then: given up (NULL: kept trying, with pauses of at most 30 minutes)
    deadline   INTEGER,
    -- attempts started; a repeat attempt first looks in the channel for an earlier one's message
    attempts   INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT,
    -- the subject changed while an attempt ran: due again right after it
    again      INTEGER NOT NULL DEFAULT 0 CHECK (again IN (0, 1)),
    -- sent with the message: Discord answers a repeated nonce with the first message
    nonce      TEXT NOT NULL,
    error      TEXT,
    CHECK ((subject IS NULL) != (box IS NULL)),
    UNIQUE (kind, subject)
);

CREATE INDEX deliveries_by_due ON deliveries (due_at) WHERE state != 'given_up';
CREATE INDEX deliveries_by_team ON deliveries (team_id, state);

-- A delivery goes with its subject.
CREATE TRIGGER deliveries_of_deleted_posts AFTER DELETE ON prompt_posts BEGIN
    DELETE FROM deliveries WHERE kind = 'prompt_post' AND subject = old.id;
END;
CREATE TRIGGER deliveries_of_deleted_answers AFTER DELETE ON prompt_answers BEGIN
    DELETE FROM deliveries WHERE kind = 'answer' AND subject = old.id;
END;
CREATE TRIGGER deliveries_of_deleted_polls AFTER DELETE ON polls BEGIN
    DELETE FROM deliveries WHERE kind IN ('poll_post', 'poll_result') AND subject = old.id;
END;
CREATE TRIGGER deliveries_of_deleted_reflections AFTER DELETE ON reflections BEGIN
    DELETE FROM deliveries WHERE kind = 'reflection' AND subject = old.id;
END;

-- The pending work of the four outboxes before this one moves in. A repeat attempt looks before
-- sending, so anything a stopped run may have sent is found rather than sent twice.

-- Prompt posts being sent or waiting for a retry ('retry' is no longer a post state). A post's
-- states are now: 'sending' (its delivery is in the outbox; claimed_at: when it was queued),
-- 'posted' (message_id, and thread_id once its thread is open), 'failed' (given up; error says
-- why). Retries, a stopped run's half-sent post and giving up are the outbox's.
INSERT INTO deliveries (id, kind, subject, team_id, due_at, deadline, attempts, nonce, error)
SELECT abs(random()) % 4611686018427387903 + 1, 'prompt_post', id, team_id,
       CASE state WHEN 'retry' THEN claimed_at + 60 ELSE claimed_at END,
       coalesce(slot_at, claimed_at) + 43200, attempts, lower(hex(randomblob(10))), error
FROM prompt_posts WHERE state IN ('sending', 'retry');
UPDATE prompt_posts SET state = 'sending' WHERE state = 'retry';
DROP INDEX prompt_posts_by_state;
ALTER TABLE prompt_posts DROP COLUMN claimed_by;
ALTER TABLE prompt_posts DROP COLUMN attempts;
CREATE INDEX prompt_posts_by_state ON prompt_posts (state);

-- Answers whose thread message is due (each was claimed by a save at least once).
INSERT INTO deliveries (id, kind, subject, team_id, due_at, deadline, attempts, nonce, error)
SELECT abs(random()) % 4611686018427387903 + 1, 'answer', ap.answer_id, pp.team_id, ap.due_at,
       ap.since + 86400, ap.attempts + 1, ap.nonce, ap.error
FROM prompt_answer_posts ap
JOIN prompt_answers a ON a.id = ap.answer_id
JOIN prompt_posts pp ON pp.id = a.post_id;
DROP INDEX prompt_answer_posts_by_due;
DROP TABLE prompt_answer_posts;

-- Poll results being posted or waiting for a retry: 'posting' now means "in the outbox".
INSERT INTO deliveries (id, kind, subject, team_id, due_at, deadline, attempts, nonce)
SELECT abs(random()) % 4611686018427387903 + 1, 'poll_result', id, team_id,
       coalesce(result_retry_at, closed_at), closed_at + 86400, result_attempts,
       lower(hex(randomblob(10)))
FROM polls WHERE result_state IN ('posting', 'pending');
UPDATE polls SET result_state = 'posting' WHERE result_state = 'pending';
DROP INDEX polls_results_to_retry;
DROP INDEX polls_results_claimed;
ALTER TABLE polls DROP COLUMN result_claimed_by;
ALTER TABLE polls DROP COLUMN result_retry_at;
ALTER TABLE polls DROP COLUMN result_attempts;

-- Reflections of a released batch not yet posted (their nonce stays what it was, and the team's
-- last failure to post goes with them: managers see it until they are posted).
INSERT INTO deliveries (id, kind, subject, team_id, due_at, attempts, nonce, error)
SELECT abs(random()) % 4611686018427387903 + 1, 'reflection', r.id, r.team_id,
       coalesce(s.retry_at, r.posted_at), r.send_attempts, 'r' || r.id, s.last_error
FROM reflections r LEFT JOIN reflection_teams s ON s.team_id = r.team_id
WHERE r.state = 'queued';
ALTER TABLE reflections DROP COLUMN send_attempts;
ALTER TABLE reflection_teams DROP COLUMN retry_at;
ALTER TABLE reflection_teams DROP COLUMN last_error;

-- Deletions `/forget-me` spread over a day, still sealed.
INSERT INTO deliveries (id, kind, box, team_id, due_at, nonce)
SELECT id, 'reflection_erasure', box, team_id, due_at, lower(hex(randomblob(10)))
FROM reflection_erasures;
DROP INDEX reflection_erasures_by_due;
DROP TABLE reflection_erasures;
