-- Outbound work (回访, 漏话回拨) and ratings (坐席服务评价).
--
-- survey_jobs: one row per callback to make (a ticket's survey round, or a missed call). The
-- dialler picks the next due row with FOR UPDATE SKIP LOCKED and, in the same transaction,
-- counts the attempt and writes its survey_attempts row with a deterministic channel id
-- (sv-<job>-<n>): two diallers never take the same row, Asterisk refuses a second channel
-- with the same id, and after a crash the attempt row says whether it was dialled.

CREATE TABLE survey_jobs (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('ticket', 'missed')),
    ticket_number text,
    round         integer NOT NULL DEFAULT 0,      -- the ticket's reopen_count when it was resolved
    call_id       text,                            -- the missed call
    phone         text NOT NULL DEFAULT '',
    department    text,
    district      text,
    state         text NOT NULL CHECK (state IN ('pending', 'dialling', 'done', 'closed', 'cancelled')),
    attempts      integer NOT NULL DEFAULT 0,
    max_attempts  integer NOT NULL DEFAULT 3,
    due_at        timestamptz,
    deadline      timestamptz,
    reason        text,                            -- why closed / cancelled (无法联系, 匿名来电, ...)
    resolved      boolean,                         -- 是否解决
    rating        text,                            -- the level's label (非常满意 ...)
    result        jsonb,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    CHECK ((kind = 'ticket') = (ticket_number IS NOT NULL)),
    CHECK ((kind = 'missed') = (call_id IS NOT NULL))
);
CREATE UNIQUE INDEX survey_jobs_ticket_round ON survey_jobs (ticket_number, round) WHERE kind = 'ticket';
CREATE UNIQUE INDEX survey_jobs_missed_call ON survey_jobs (call_id) WHERE kind = 'missed';
-- the dialler's one hot query: the next due pending row
CREATE INDEX survey_jobs_due ON survey_jobs (due_at, id) WHERE state = 'pending';
CREATE INDEX survey_jobs_open_phone ON survey_jobs (phone) WHERE state IN ('pending', 'dialling');
CREATE INDEX survey_jobs_finished ON survey_jobs (finished_at);

CREATE TABLE survey_attempts (
    id          bigserial PRIMARY KEY,
    job_id      bigint NOT NULL REFERENCES survey_jobs(id) ON DELETE CASCADE,
    n           integer NOT NULL,
    channel_id  text NOT NULL UNIQUE,
    worker      text NOT NULL,
    claimed_at  timestamptz NOT NULL,
    lease_until timestamptz NOT NULL,              -- the worker renews it while the attempt runs
    dialled_at  timestamptz,                       -- the originate was accepted by Asterisk
    answered_at timestamptz,
    ended_at    timestamptz,
    outcome     text,
    answers     jsonb,
    UNIQUE (job_id, n)
);
CREATE INDEX survey_attempts_open ON survey_attempts (lease_until) WHERE outcome IS NULL;

-- numbers that asked never to be called back (退订); the IVR blacklist is read as well
CREATE TABLE survey_optouts (
    phone      text PRIMARY KEY,
    reason     text NOT NULL DEFAULT '',
    created_by text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- 坐席服务评价: the citizen's rating of the agent after the agent hung up
CREATE TABLE survey_ratings (
    call_id    text PRIMARY KEY,
    agent_id   text,
    seat_id    text,
    team       text,
    rating     text,                               -- NULL: no valid answer
    digit      text,
    at         timestamptz NOT NULL
);
CREATE INDEX survey_ratings_at ON survey_ratings (at);
CREATE INDEX survey_ratings_agent_at ON survey_ratings (agent_id, at);
