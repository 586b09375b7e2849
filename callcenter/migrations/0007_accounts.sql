-- Accounts (issue 11): hall users with one role each, argon2id password hashes, and the audit
-- log of privileged actions (logins and failures, role changes, showing a number, force
-- logout, listen/whisper/barge). Sessions live in Redis (they expire); this is the record.

CREATE TABLE users (
    username      text PRIMARY KEY,
    role          text NOT NULL CHECK (role IN ('agent','supervisor','dept','admin','collector','system')),
    department    text,
    agent_id      text UNIQUE,
    name          text,
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'dept') = (department IS NOT NULL)),
    CHECK ((role = 'agent') = (agent_id IS NOT NULL))
);

CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text NOT NULL,          -- username, or '-' for an unknown one
    action    text NOT NULL,          -- login, login_failed, user_added, role_changed, show_number, ...
    target    text,
    address   text,
    details   jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
