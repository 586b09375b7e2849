-- ACD: the current state of every agent (rebuilt into memory after a restart) and the
-- queue facts a restarted controller needs to re-queue callers in their original order.

CREATE TABLE agents (
    agent_id      text PRIMARY KEY,
    seat_id       text NOT NULL,
    interface     text NOT NULL,
    state         text NOT NULL,
    since         timestamptz,
    idle_since    timestamptz,
    pause_reason  text,
    pending_pause text,
    override_by   text,
    return_state  text,
    call_id       text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX agents_seat_logged_in ON agents (seat_id) WHERE state <> 'logged_out';

ALTER TABLE calls ADD COLUMN queue_seq bigint;
ALTER TABLE calls ADD COLUMN callback_state text;
ALTER TABLE calls ADD COLUMN attempts integer NOT NULL DEFAULT 0;
