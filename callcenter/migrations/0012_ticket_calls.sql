-- The tickets filed from a call, found by its id: a department handler reads a call's transcript
-- only through a ticket of the call that it handles (callcenter/transcription/access.py).
CREATE INDEX tickets_call_ids ON tickets USING gin (call_ids);
