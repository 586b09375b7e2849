-- Learned dispatch (issue 14): versioned classifier models (one active, older ones kept for
-- rollback), the hall's own dispatch decisions as training examples, and mass incidents
-- (热点诉求) with the requests linked to them.

CREATE TABLE dispatch_models (
    version       integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    analyzer      text NOT NULL,
    threshold     double precision NOT NULL CHECK (threshold BETWEEN 0 AND 1),
    examples      integer NOT NULL,            -- training examples (corpus + hall)
    metrics       jsonb NOT NULL DEFAULT '{}', -- held-out figures at training time
    blob          bytea NOT NULL,              -- LinearModel.to_bytes(): npz arrays, no pickle
    active        boolean NOT NULL DEFAULT false,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    activated_at  timestamptz
);
CREATE UNIQUE INDEX dispatch_models_one_active ON dispatch_models (active) WHERE active;

-- every human dispatch, 派单异议 that moved a ticket, and reassignment (改派): one row per
-- ticket, the latest decision wins (it is the unit that really handles the request)
CREATE TABLE dispatch_examples (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_number  text UNIQUE,
    text           text NOT NULL CHECK (text <> ''),
    kind           text,
    district       text,
    department     text NOT NULL,
    source         text NOT NULL CHECK (source IN ('human_dispatch', 'objection', 'reassignment', 'correction')),
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dispatch_examples_created ON dispatch_examples (created_at);

CREATE TABLE dispatch_incidents (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district       text NOT NULL,
    department     text,
    title          text NOT NULL,
    keywords       text[] NOT NULL DEFAULT '{}',
    signature      jsonb NOT NULL DEFAULT '{}',     -- bigram counts of its requests (rebuilds the detector)
    master_ref     text NOT NULL,               -- the first request's ticket number (master ticket)
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    announce       boolean NOT NULL DEFAULT false,  -- the IVR offers it to callers from the district
    opened_at      timestamptz NOT NULL,
    closed_at      timestamptz
);
CREATE INDEX dispatch_incidents_open ON dispatch_incidents (district) WHERE status = 'open';

CREATE TABLE dispatch_incident_links (
    incident_id  bigint NOT NULL REFERENCES dispatch_incidents(id) ON DELETE CASCADE,
    ref          text NOT NULL,                 -- ticket number, or call id (IVR / transcript)
    via          text NOT NULL CHECK (via IN ('detector', 'agent', 'ivr')),
    confirmed    boolean NOT NULL DEFAULT false,  -- merged (并单) on an agent's confirmation or by the IVR
    linked_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (incident_id, ref)
);
