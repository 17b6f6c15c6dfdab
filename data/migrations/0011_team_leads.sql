-- Team leads: members holding a team's lead role may do for that team what a manager may (post
-- and schedule prompts, close polls, hide reflections, reflection settings, export, /team edit).
-- A team's lead channel, if it has one, gets a short notice when a reflection is reported.
ALTER TABLE teams ADD COLUMN lead_role_id INTEGER;
ALTER TABLE teams ADD COLUMN lead_channel_id INTEGER;
