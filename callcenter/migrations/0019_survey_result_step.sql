-- A ticket survey's result is owed to the ticket until every part of it is applied (issue 24,
-- item 3): set with the job's end in the same transaction, moved on after each part, NULL once
-- all is applied. 0: nothing applied yet; 1: the MQTT event written; 2: the ticket's first
-- action (回访 recorded, or closed) done, only its reopen (重办) left.
ALTER TABLE survey_jobs ADD COLUMN result_step smallint;
CREATE INDEX survey_jobs_result_owed ON survey_jobs (id) WHERE result_step IS NOT NULL;
