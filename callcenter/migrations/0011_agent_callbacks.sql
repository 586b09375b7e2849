-- Agent-driven callbacks (漏话回拨 through an agent, 回访 by a person): the dialler asks the
-- ACD to reserve an agent first and then dial the citizen, instead of dialling itself.
--
-- survey_jobs.by_agent: this job's attempts go through the ACD (an agent talks to the citizen).
-- survey_attempts.agent_id: the agent who talked to the citizen (only they may enter the
-- result of a ticket callback on the desk); answers hold the result the desk entered.
ALTER TABLE survey_jobs ADD COLUMN by_agent boolean NOT NULL DEFAULT false;
ALTER TABLE survey_attempts ADD COLUMN agent_id text;
CREATE INDEX survey_attempts_agent ON survey_attempts (agent_id, claimed_at) WHERE agent_id IS NOT NULL;

-- tickets whose satisfaction callback (回访) a person makes instead of the automated survey
CREATE TABLE survey_person_tickets (
    ticket_number text PRIMARY KEY,
    reason        text NOT NULL DEFAULT '',
    created_by    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);
