-- Quality inspection (质检, issue 21), second step: the word lists the hall edits (服务禁语 and the
-- citizen's anger words; a list without a row here is the scorecard's), each change audited; and
-- the team of the reviewed call's seat, for the figures per team.
CREATE TABLE qa_word_lists (
    name        text PRIMARY KEY CHECK (name IN ('forbidden_words', 'anger')),
    words       text[] NOT NULL,
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE qa_reviews ADD COLUMN team text;
CREATE INDEX qa_reviews_submitted ON qa_reviews (submitted_at);
