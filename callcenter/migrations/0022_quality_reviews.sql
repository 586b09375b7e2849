-- Quality inspection results (质检, issue 21): an inspector's review of a call is never edited;
-- a change is a new revision with its reason. The call's agent may appeal (申诉) a call's review
-- once; a supervisor decides the appeal.
CREATE TABLE qa_reviews (
    id           bigserial PRIMARY KEY,
    call_id      text NOT NULL,
    revision     integer NOT NULL CHECK (revision >= 1),
    agent_id     text,
    inspector    text NOT NULL,
    scorecard    text NOT NULL,
    marks        jsonb NOT NULL DEFAULT '{}',   -- item -> passed, the inspector's
    items        jsonb NOT NULL DEFAULT '[]',   -- every item's result (auto or inspector) with its finding
    score        double precision NOT NULL,
    passed       boolean NOT NULL,
    fatal_hits   text[] NOT NULL DEFAULT '{}',
    comment      text NOT NULL DEFAULT '',
    reason       text,                          -- why this revision replaces the one before
    submitted_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (call_id, revision)
);
CREATE INDEX qa_reviews_agent ON qa_reviews (agent_id, submitted_at);

CREATE TABLE qa_appeals (
    id          bigserial PRIMARY KEY,
    call_id     text NOT NULL UNIQUE,           -- once per call
    review_id   bigint NOT NULL REFERENCES qa_reviews(id),
    agent_id    text NOT NULL,
    reason      text NOT NULL,
    filed_at    timestamptz NOT NULL DEFAULT now(),
    decision    text CHECK (decision IN ('upheld', 'rejected')),  -- upheld: the agent is right
    decided_by  text,
    decided_at  timestamptz,
    note        text
);
