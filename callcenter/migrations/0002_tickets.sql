-- Tickets (工单): departments, topics, routing rules, the per-day number sequence, tickets,
-- their audit trail (events) and attachment metadata. Indexes serve the board's queries:
-- department queues, overdue lists, status counts, searches by number/phone/text/status/date,
-- and the SLA sweeper (partial indexes that shrink as reminders and escalations are done).

CREATE TABLE departments (
    code          text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]*$'),
    name          text NOT NULL,
    hotline       text,
    merge_mode    text CHECK (merge_mode IN ('direct', 'platform', 'business')),
    working_hours text NOT NULL DEFAULT '24h',
    categories    text[] NOT NULL DEFAULT '{}',
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- 专题问题库: added by an admin at run time, each with its own routing (department + keywords)
CREATE TABLE ticket_topics (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]*$'),
    name        text NOT NULL,
    department  text NOT NULL REFERENCES departments(code),
    keywords    text[] NOT NULL DEFAULT '{}',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- dispatch rules (派单规则) documents; the newest row is in force, none = the bundled YAML
CREATE TABLE ticket_routing_rules (
    id          bigserial PRIMARY KEY,
    spec        jsonb NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- ticket numbers PZH-YYYYMMDD-NNNNNN: one counter row per local (Asia/Shanghai) day
CREATE TABLE ticket_day_seq (
    day   date PRIMARY KEY,
    last  integer NOT NULL CHECK (last BETWEEN 1 AND 999999)
);

CREATE TABLE tickets (
    id                     bigserial PRIMARY KEY,
    number                 text NOT NULL UNIQUE,
    kind                   text NOT NULL
        CHECK (kind IN ('enquiry', 'help', 'complaint', 'report', 'suggestion', 'praise')),
    channel                text NOT NULL CHECK (channel IN ('call', 'field_report', 'web', 'callback')),
    status                 text NOT NULL
        CHECK (status IN ('accepted', 'dispatched', 'acknowledged', 'in_progress', 'resolved',
                          'surveyed', 'closed', 'returned')),
    urgency                text NOT NULL CHECK (urgency IN ('normal', 'urgent', 'utility')),
    caller_phone           text NOT NULL DEFAULT '',      -- normalised digits
    caller_name            text NOT NULL DEFAULT '',
    category               text NOT NULL DEFAULT '',
    topics                 text[] NOT NULL DEFAULT '{}',
    district               text,
    address                text NOT NULL DEFAULT '',
    address_key            text NOT NULL DEFAULT '',      -- normalised address (dedup)
    lat                    double precision,
    lon                    double precision,
    description            text NOT NULL,
    transcript             text NOT NULL DEFAULT '',
    call_ids               text[] NOT NULL DEFAULT '{}',
    lead_department        text,
    assisting_departments  text[] NOT NULL DEFAULT '{}',
    take_up_due            timestamptz,
    resolve_due            timestamptz,
    remind_at              timestamptz,
    extension_days_granted integer NOT NULL DEFAULT 0,
    pending_extension      integer,
    escalation_level       integer NOT NULL DEFAULT 0,
    reopen_count           integer NOT NULL DEFAULT 0,
    objection              boolean NOT NULL DEFAULT false,
    satisfaction           text,
    merged_into            text,
    duplicate_count        integer NOT NULL DEFAULT 0,    -- later reports linked to this one
    field_kind             text CHECK (field_kind IN ('event', 'component')),
    collector              text,
    verified_at            timestamptz,                   -- 立案 of a field report by the hall
    verified_by            text,
    reminded_due           timestamptz,   -- the resolve_due whose 催办 reminder was sent
    escalated_take_up_due  timestamptz,   -- the take_up_due whose overdue 督办 was done
    escalated_resolve_due  timestamptz,   -- the resolve_due whose overdue 督办 was done
    routing                jsonb,
    idempotency_key        text UNIQUE,
    idempotency_hash       text,
    created_by             text NOT NULL,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    version                integer NOT NULL DEFAULT 0,
    search_tsv             tsvector NOT NULL DEFAULT ''::tsvector,  -- jieba tokens
    CHECK ((lat IS NULL) = (lon IS NULL))
);

-- searches, newest first (keyset pagination on created_at, id)
CREATE INDEX tickets_created ON tickets (created_at DESC, id DESC);
CREATE INDEX tickets_status_created ON tickets (status, created_at DESC, id DESC);
CREATE INDEX tickets_lead_created ON tickets (lead_department, created_at DESC, id DESC);
CREATE INDEX tickets_phone_created ON tickets (caller_phone, created_at DESC, id DESC)
    WHERE caller_phone <> '';
CREATE INDEX tickets_search ON tickets USING gin (search_tsv);
-- open work: department queues (by deadline), assisting units, board counts, overdue list
CREATE INDEX tickets_open_queue ON tickets (lead_department, resolve_due, id)
    WHERE status IN ('accepted', 'dispatched', 'acknowledged', 'in_progress', 'returned');
CREATE INDEX tickets_open_assisting ON tickets USING gin (assisting_departments)
    WHERE status IN ('accepted', 'dispatched', 'acknowledged', 'in_progress', 'returned');
CREATE INDEX tickets_open_status ON tickets (status, lead_department, escalation_level)
    WHERE status IN ('accepted', 'dispatched', 'acknowledged', 'in_progress', 'returned');
CREATE INDEX tickets_open_resolve_due ON tickets (resolve_due, id)
    WHERE status IN ('accepted', 'dispatched', 'acknowledged', 'in_progress', 'returned');
-- duplicate detection (并单): same phone (tickets_phone_created), same address, nearby field report
CREATE INDEX tickets_open_address ON tickets (address_key, created_at)
    WHERE status IN ('accepted', 'dispatched', 'acknowledged', 'in_progress', 'returned') AND address_key <> '';
CREATE INDEX tickets_open_field_location ON tickets (lat, lon)
    WHERE status IN ('accepted', 'dispatched', 'acknowledged', 'in_progress', 'returned')
      AND channel = 'field_report';
-- field reports awaiting verification (立案)
CREATE INDEX tickets_field_unverified ON tickets (created_at, id)
    WHERE channel = 'field_report' AND verified_at IS NULL AND status = 'accepted';
-- SLA sweeper: only rows with work left to do
CREATE INDEX tickets_sweep_remind ON tickets (remind_at)
    WHERE status IN ('accepted', 'dispatched', 'acknowledged', 'in_progress', 'returned')
      AND reminded_due IS DISTINCT FROM resolve_due;
CREATE INDEX tickets_sweep_resolve ON tickets (resolve_due)
    WHERE status IN ('accepted', 'dispatched', 'acknowledged', 'in_progress', 'returned')
      AND escalated_resolve_due IS DISTINCT FROM resolve_due;
CREATE INDEX tickets_sweep_take_up ON tickets (take_up_due)
    WHERE status IN ('accepted', 'dispatched', 'returned')
      AND escalated_take_up_due IS DISTINCT FROM take_up_due;

-- the audit trail: every transition, update, reminder and link, in order
CREATE TABLE ticket_events (
    id           bigserial PRIMARY KEY,
    ticket_id    bigint NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    action       text NOT NULL,
    from_status  text,
    to_status    text,
    actor        text NOT NULL,
    at           timestamptz NOT NULL,
    reason       text,
    data         jsonb NOT NULL DEFAULT '{}'::jsonb,
    version      integer NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
CREATE INDEX ticket_events_at ON ticket_events (at);

-- attachment metadata (the bytes live in object storage; `ref` points there)
CREATE TABLE ticket_attachments (
    id            bigserial PRIMARY KEY,
    ticket_id     bigint NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind          text NOT NULL DEFAULT 'photo' CHECK (kind IN ('photo', 'audio', 'video', 'document')),
    ref           text NOT NULL,
    content_type  text,
    size_bytes    bigint CHECK (size_bytes >= 0),
    sha256        text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments (ticket_id, id);
