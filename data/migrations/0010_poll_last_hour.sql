-- A poll's message says "closes soon" in its last hour (issue 12). Whether a poll is in its last
-- hour is derived (closes_at - 1 h ≤ now); what is stored is only that the polls job has edited
-- the message once when that hour began, so a later pass doesn't edit it again. Polls open for an
-- hour or less are posted in their last hour and never need that edit.
ALTER TABLE polls ADD COLUMN last_hour_shown INTEGER NOT NULL DEFAULT 0
    CHECK (last_hour_shown IN (0, 1));

CREATE INDEX polls_last_hour_to_show ON polls (closes_at)
    WHERE closed_at IS NULL AND last_hour_shown = 0;
