-- Sharing /history with the team: who may (the team's leads and managers, or every member), and
-- each summary a member chose to post in the team channel, as the outbox drafts it later: the
-- window and the moment of the timeline they were looking at (never who shared it).
ALTER TABLE teams ADD COLUMN history_sharing TEXT NOT NULL DEFAULT 'leads'
    CHECK (history_sharing IN ('leads', 'everyone'));

CREATE TABLE history_shares (
    id         INTEGER PRIMARY KEY,
    team_id    INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    weeks      INTEGER NOT NULL,
    until      INTEGER NOT NULL,
    shared_at  INTEGER NOT NULL,
    -- where it was posted, once it was
    channel_id INTEGER,
    message_id INTEGER
);
CREATE INDEX history_shares_team ON history_shares (team_id);
