-- Call recordings (issue 21): one row per bridged part of a call (a requeued or transferred
-- call has parts 1, 2, ...), recorded by Asterisk (a snoop per party, caller and agent on their
-- own channel) and stored as one stereo file once the part ends. The row is written before
-- Asterisk is asked to record, so a controller that dies mid-call leaves a row that the next
-- one finds and finishes. `held` is the last legal-hold decision of the retention sweeper.
CREATE TABLE recordings (
    id           bigserial PRIMARY KEY,
    call_id      text NOT NULL,
    part         integer NOT NULL CHECK (part >= 1),
    caller_leg   text NOT NULL,
    agent_leg    text NOT NULL,
    agent_id     text,
    seat_id      text,
    line         text NOT NULL DEFAULT '',
    state        text NOT NULL DEFAULT 'recording'
                 CHECK (state IN ('recording', 'finalizing', 'stored', 'failed', 'deleted')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    ended_at     timestamptz,
    duration_s   double precision,
    bytes        bigint,
    sha256       text,
    format       text,
    storage      text NOT NULL DEFAULT 'dir',
    storage_key  text,
    reason       text,              -- why it failed / why it was deleted
    claimed_at   timestamptz,       -- a controller is storing it (stale after a while: taken again)
    held         boolean NOT NULL DEFAULT false,
    deleted_at   timestamptz,
    UNIQUE (call_id, part)
);
CREATE INDEX recordings_open ON recordings (state) WHERE state IN ('recording', 'finalizing');
CREATE INDEX recordings_stored_started ON recordings (started_at) WHERE state = 'stored';

-- the quality inspector (质检员) hears recordings and scores calls
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('agent', 'supervisor', 'dept', 'admin', 'collector', 'system', 'qa'));
