-- Live call transcription: one row per final segment (utterance) of one leg of a call.
-- Linked to the ticket through tickets.call_ids; partials are never stored (MQTT only).
-- status 'ok' or '未转写' (a segment that could not be decoded: counted, never silently lost).

CREATE TABLE transcript_segments (
    id          bigserial PRIMARY KEY,
    call_id     text NOT NULL,
    leg         text NOT NULL CHECK (leg IN ('citizen', 'agent')),
    seq         integer NOT NULL,
    start_s     real NOT NULL,
    end_s       real NOT NULL,
    text        text NOT NULL,
    words       jsonb NOT NULL DEFAULT '[]'::jsonb,
    status      text NOT NULL DEFAULT 'ok',
    deferred    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transcript_segments_call ON transcript_segments (call_id, start_s);
CREATE INDEX transcript_segments_created ON transcript_segments (created_at);
