-- Indexes for what the scheduler asks on every pass, so that a database of thousands of
-- servers is not read whole each time (tests/test_query_plans.py checks the plans):
-- the servers the bot left, whose data is deleted 30 days later (bot/lifetime.py) …
CREATE INDEX guilds_left ON guilds (left_at) WHERE left_at IS NOT NULL;
-- … the teams with a weekly prompt slot (bot/prompt_weekly.py) …
CREATE INDEX teams_scheduled ON teams (id)
    WHERE schedule_weekday IS NOT NULL AND schedule_time IS NOT NULL;
-- … and the earliest coming reflection sharing time (bot/reflection_batches.py).
CREATE INDEX reflection_teams_next ON reflection_teams (next_share_at);
