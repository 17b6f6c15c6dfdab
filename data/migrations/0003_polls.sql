-- Team polls: the polls, their options and the votes.
-- Times are integer Unix seconds (UTC).

CREATE TABLE polls (
    id                INTEGER PRIMARY KEY,
    team_id           INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    guild_id          INTEGER NOT NULL,
    -- who posted it: public anyway (the poll is posted for them), so kept even for anonymous polls
    creator_id        INTEGER NOT NULL,
    question          TEXT NOT NULL,
    multiple          INTEGER NOT NULL DEFAULT 0 CHECK (multiple IN (0, 1)),
    anonymous         INTEGER NOT NULL DEFAULT 0 CHECK (anonymous IN (0, 1)),
    hide_results      INTEGER NOT NULL DEFAULT 0 CHECK (hide_results IN (0, 1)),
    created_at        INTEGER NOT NULL,
    closes_at         INTEGER NOT NULL CHECK (closes_at > created_at),
    -- set once, in the transaction that closes the poll (by hand or at the deadline)
    closed_at         INTEGER,
    channel_id        INTEGER,
    message_id        INTEGER,
    -- the previous run of the same question (`/poll rerun`)
    rerun_of          INTEGER REFERENCES polls (id) ON DELETE SET NULL,
    -- the closing announcement: 'none' while open; the close claims it ('posting') in its own
    -- transaction, so exactly one task posts it; 'pending' = a transient failure, retried by a
    -- later scheduler pass at result_retry_at; 'posted' or 'failed' (the channel is gone or
    -- forbidden) are final.
    result_state      TEXT NOT NULL DEFAULT 'none'
        CHECK (result_state IN ('none', 'posting', 'pending', 'posted', 'failed')),
    -- which run of the bot claimed it: a claim left by a run that stopped (killed) is taken
    -- over by the next run, which first looks in the channel for a post that did go out
    result_claimed_by TEXT,
    result_attempts   INTEGER NOT NULL DEFAULT 0,
    result_retry_at   INTEGER,
    result_message_id INTEGER,
    -- kept up to date by the triggers below, so a vote and a refresh never count rows
    voters            INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX polls_by_team ON polls (team_id, id);
CREATE INDEX polls_by_guild ON polls (guild_id, id);
CREATE INDEX polls_open_by_deadline ON polls (closes_at) WHERE closed_at IS NULL;
CREATE INDEX polls_results_to_retry ON polls (result_retry_at) WHERE result_state = 'pending';
CREATE INDEX polls_results_claimed ON polls (result_claimed_by) WHERE result_state = 'posting';
CREATE INDEX polls_reruns ON polls (rerun_of) WHERE rerun_of IS NOT NULL;

CREATE TABLE poll_options (
    id       INTEGER PRIMARY KEY,
    poll_id  INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    label    TEXT NOT NULL,
    votes    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (poll_id, position)
);

-- Votes in named polls: one row per member and option they selected.
-- (option_id has no foreign key: options only disappear with their poll, whose cascade removes
-- the votes, and a foreign key would make every option deletion scan this table.)
CREATE TABLE poll_votes (
    poll_id   INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL,
    option_id INTEGER NOT NULL,
    PRIMARY KEY (poll_id, user_id, option_id)
) WITHOUT ROWID;

CREATE INDEX poll_votes_by_user ON poll_votes (user_id);

-- Votes in anonymous polls: no user id, only HMAC(key, guild + user + "poll:<id>"), which
-- recognises the same member again in this one poll and nothing else. WITHOUT ROWID keeps the
-- rows in hash order, so the storage order doesn't reveal the order people voted in.
CREATE TABLE poll_anonymous_votes (
    poll_id    INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    voter_hash BLOB NOT NULL CHECK (length(voter_hash) = 32),
    option_id  INTEGER NOT NULL,
    PRIMARY KEY (poll_id, voter_hash, option_id)
) WITHOUT ROWID;

-- A named vote in an anonymous poll would store a user id: refuse it whatever the code does.
CREATE TRIGGER poll_votes_named_polls_only BEFORE INSERT ON poll_votes
WHEN (SELECT anonymous FROM polls WHERE id = NEW.poll_id) IS NOT 0
BEGIN
    SELECT RAISE(ABORT, 'poll_votes is for named polls only');
END;

CREATE TRIGGER poll_anonymous_votes_anonymous_polls_only BEFORE INSERT ON poll_anonymous_votes
WHEN (SELECT anonymous FROM polls WHERE id = NEW.poll_id) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'poll_anonymous_votes is for anonymous polls only');
END;

CREATE TRIGGER poll_votes_option_of_poll BEFORE INSERT ON poll_votes
WHEN NOT EXISTS (SELECT 1 FROM poll_options WHERE id = NEW.option_id AND poll_id = NEW.poll_id)
BEGIN
    SELECT RAISE(ABORT, 'the option is not part of this poll');
END;

CREATE TRIGGER poll_anonymous_votes_option_of_poll BEFORE INSERT ON poll_anonymous_votes
WHEN NOT EXISTS (SELECT 1 FROM poll_options WHERE id = NEW.option_id AND poll_id = NEW.poll_id)
BEGIN
    SELECT RAISE(ABORT, 'the option is not part of this poll');
END;

-- Counters: votes per option, and distinct voters per poll.
CREATE TRIGGER poll_votes_counted AFTER INSERT ON poll_votes
BEGIN
    UPDATE poll_options SET votes = votes + 1 WHERE id = NEW.option_id;
    UPDATE polls SET voters = voters + 1
    WHERE id = NEW.poll_id AND NOT EXISTS (
        SELECT 1 FROM poll_votes
        WHERE poll_id = NEW.poll_id AND user_id = NEW.user_id AND option_id != NEW.option_id
    );
END;

CREATE TRIGGER poll_votes_uncounted AFTER DELETE ON poll_votes
BEGIN
    UPDATE poll_options SET votes = votes - 1 WHERE id = OLD.option_id;
    UPDATE polls SET voters = voters - 1
    WHERE id = OLD.poll_id AND NOT EXISTS (
        SELECT 1 FROM poll_votes WHERE poll_id = OLD.poll_id AND user_id = OLD.user_id
    );
END;

CREATE TRIGGER poll_votes_moved AFTER UPDATE OF option_id ON poll_votes
BEGIN
    UPDATE poll_options SET votes = votes - 1 WHERE id = OLD.option_id;
    UPDATE poll_options SET votes = votes + 1 WHERE id = NEW.option_id;
END;

CREATE TRIGGER poll_anonymous_votes_counted AFTER INSERT ON poll_anonymous_votes
BEGIN
    UPDATE poll_options SET votes = votes + 1 WHERE id = NEW.option_id;
    UPDATE polls SET voters = voters + 1
    WHERE id = NEW.poll_id AND NOT EXISTS (
        SELECT 1 FROM poll_anonymous_votes
        WHERE poll_id = NEW.poll_id AND voter_hash = NEW.voter_hash
          AND option_id != NEW.option_id
    );
END;

CREATE TRIGGER poll_anonymous_votes_uncounted AFTER DELETE ON poll_anonymous_votes
BEGIN
    UPDATE poll_options SET votes = votes - 1 WHERE id = OLD.option_id;
    UPDATE polls SET voters = voters - 1
    WHERE id = OLD.poll_id AND NOT EXISTS (
        SELECT 1 FROM poll_anonymous_votes
        WHERE poll_id = OLD.poll_id AND voter_hash = OLD.voter_hash
    );
END;

CREATE TRIGGER poll_anonymous_votes_moved AFTER UPDATE OF option_id ON poll_anonymous_votes
BEGIN
    UPDATE poll_options SET votes = votes - 1 WHERE id = OLD.option_id;
    UPDATE poll_options SET votes = votes + 1 WHERE id = NEW.option_id;
END;
