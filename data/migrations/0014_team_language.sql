-- The language of everything Breakroom posts for a team (prompts, polls, results, reflections,
-- /history shared): one of Breakroom's languages (bot/i18n.py LANGUAGES). A new team starts in its
-- server's language when Breakroom speaks it; teams from before this spoke English.
ALTER TABLE teams ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
