-- Answers whose message in the prompt's thread is still to be posted, or still to be edited after
-- the member changed their answer. The row is written in the same transaction as the answer, so an
-- answer saved just before a crash or a Discord failure is still posted later, by the prompts job;
-- it is deleted in the transaction that records the thread message. Times are Unix seconds (UTC).
-- Deleting the answer (/forget-me, a deleted team) deletes the row.
CREATE TABLE prompt_answer_posts (
    answer_id INTEGER PRIMARY KEY REFERENCES prompt_answers (id) ON DELETE CASCADE,
    -- when an attempt may start; while an attempt runs, the end of its lease (a run that stopped
    -- mid-attempt leaves it to the next run after that)
    due_at    INTEGER NOT NULL,
    -- attempts that failed so far: the pause before the next one doubles with each
    attempts  INTEGER NOT NULL DEFAULT 0,
    -- a random token per attempt: only the current attempt may record its outcome
    claim     TEXT NOT NULL,
    -- sent as the message's nonce (Discord returns the first message for a repeated nonce);
    -- kept until the message is recorded, so a resend can't make a second message
    nonce     TEXT NOT NULL,
    -- when the member saved the answer: it is given up on a day later
    since     INTEGER NOT NULL,
    -- why the last attempt failed (for the logs and for managers)
    error     TEXT
);

CREATE INDEX prompt_answer_posts_by_due ON prompt_answer_posts (due_at);
