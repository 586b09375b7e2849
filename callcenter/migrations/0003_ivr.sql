-- IVR: caller blacklist (harassing numbers, supervisor-managed, always with an expiry) and
-- indexes for repeat-caller detection and the "IVR abandonment by node" report.

CREATE TABLE ivr_blacklist (
    number       text PRIMARY KEY,          -- normalised: digits, no +86 / 0812 prefix
    reason       text NOT NULL DEFAULT '',
    created_by   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    hits         integer NOT NULL DEFAULT 0,  -- calls refused while listed
    last_hit_at  timestamptz,
    CHECK (number ~ '^[0-9]{3,20}$'),
    CHECK (expires_at > created_at)
);
CREATE INDEX ivr_blacklist_expires ON ivr_blacklist (expires_at);

CREATE INDEX ivr_paths_caller_at ON ivr_paths (caller, at);
CREATE INDEX ivr_paths_outcome_at ON ivr_paths (outcome, at);
CREATE INDEX ivr_paths_call ON ivr_paths (call_id);
