-- Calls (one row per citizen call), their legs, agent state history, IVR paths and the
-- event outbox that feeds MQTT (a broker outage delays events, never loses them).

CREATE TABLE calls (
    call_id      text PRIMARY KEY,
    caller       text NOT NULL DEFAULT '',
    dnis         text NOT NULL DEFAULT '',
    line         text,
    queue        text,
    skill        text,
    priority     integer NOT NULL DEFAULT 0,
    entered_at   timestamptz NOT NULL DEFAULT now(),
    queued_at    timestamptz,
    answered_at  timestamptz,
    ended_at     timestamptz,
    agent_id     text,
    seat_id      text,
    disposition  text,
    vars         jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX calls_entered_at ON calls (entered_at);
CREATE INDEX calls_caller_entered ON calls (caller, entered_at);
CREATE INDEX calls_open ON calls (queued_at) WHERE ended_at IS NULL;

CREATE TABLE call_legs (
    id           bigserial PRIMARY KEY,
    call_id      text NOT NULL REFERENCES calls(call_id) ON DELETE CASCADE,
    channel_id   text NOT NULL,
    kind         text NOT NULL,
    seat_id      text,
    started_at   timestamptz NOT NULL DEFAULT now(),
    answered_at  timestamptz,
    ended_at     timestamptz,
    cause        text
);
CREATE INDEX call_legs_call ON call_legs (call_id);
CREATE UNIQUE INDEX call_legs_channel ON call_legs (channel_id);

CREATE TABLE agent_states (
    id           bigserial PRIMARY KEY,
    agent_id     text NOT NULL,
    seat_id      text,
    from_state   text NOT NULL,
    to_state     text NOT NULL,
    reason       text,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_states_agent_at ON agent_states (agent_id, at);

CREATE TABLE ivr_paths (
    id           bigserial PRIMARY KEY,
    call_id      text NOT NULL,
    flow         text NOT NULL,
    caller       text NOT NULL DEFAULT '',
    dnis         text NOT NULL DEFAULT '',
    path         jsonb NOT NULL,
    outcome      text NOT NULL,
    last_node    text,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ivr_paths_at ON ivr_paths (at);

CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    topic        text NOT NULL,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
