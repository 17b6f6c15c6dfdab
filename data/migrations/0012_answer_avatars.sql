-- The member's avatar (a Discord CDN url) as it was when they answered, shown beside their answer
-- in the prompt's thread. Kept with the answer because the outbox may post it minutes later, after
-- a restart, when the interaction that knew it is gone; it goes with the answer (/forget-me, a
-- deleted team) and is not exported (a url to a picture Discord serves, nothing the team wrote).
-- NULL for answers saved before this: they are shown without a picture.
ALTER TABLE prompt_answers ADD COLUMN avatar_url TEXT;
