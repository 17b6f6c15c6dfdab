-- The same indexes as data/migrations/0015_due_indexes.sql: the servers the bot left, and the
-- teams with a weekly prompt slot, and the teams' next reflection sharing times, for the
-- scheduler's passes.
CREATE INDEX guilds_left ON guilds (left_at) WHERE left_at IS NOT NULL;
CREATE INDEX teams_scheduled ON teams (id)
    WHERE schedule_weekday IS NOT NULL AND schedule_time IS NOT NULL;
CREATE INDEX reflection_teams_next ON reflection_teams (next_share_at);
