-- Mass incidents (热点诉求) reach the IVR, the desk and the callbacks.
--
-- dispatch_incidents.prompt_text: what the IVR says to callers from the district
--   ("如果您反映西区停水问题，请按1"); prompt: the name of its pre-rendered sound file
--   (content-addressed, rendered when the incident opens or the text changes).
-- dispatch_incident_links.phone: the citizen's number for a call the IVR attached (a ticket's
--   citizen is its caller_phone); every linked citizen gets the callback when the incident closes.
-- survey_jobs kind 'incident': the callback of a linked citizen about the master ticket
--   (ticket_number = the master), at most one per phone and master round.

ALTER TABLE dispatch_incidents ADD COLUMN prompt_text text, ADD COLUMN prompt text,
    ADD COLUMN prompt_s real;  -- the rendered prompt's length: the IVR plays it only within its node's budget
ALTER TABLE dispatch_incident_links ADD COLUMN phone text;
CREATE INDEX dispatch_incident_links_ref ON dispatch_incident_links (ref);

ALTER TABLE survey_jobs DROP CONSTRAINT survey_jobs_kind_check,
    ADD CONSTRAINT survey_jobs_kind_check CHECK (kind IN ('ticket', 'missed', 'incident'));
ALTER TABLE survey_jobs DROP CONSTRAINT survey_jobs_check,
    ADD CONSTRAINT survey_jobs_check CHECK ((kind IN ('ticket', 'incident')) = (ticket_number IS NOT NULL));
CREATE UNIQUE INDEX survey_jobs_incident_phone ON survey_jobs (ticket_number, round, phone) WHERE kind = 'incident';
