"""The surveys' longer SQL statements: who is due a callback (tickets resolved, missed calls,
incident requests), the one-statement claim of the next attempts, and the served-since checks.
Used by :mod:`callcenter.surveys.store`, which explains why the claim is one statement."""

TICKET_CANDIDATES = """
SELECT t.number, t.caller_phone, t.lead_department, t.district, t.reopen_count, t.kind,
       coalesce((SELECT max(e.at) FROM ticket_events e WHERE e.ticket_id = t.id AND e.to_status = 'resolved'),
                t.updated_at) AS resolved_at,
       EXISTS (SELECT 1 FROM survey_optouts o WHERE o.phone = t.caller_phone) AS opted_out,
       EXISTS (SELECT 1 FROM ivr_blacklist b WHERE b.number = t.caller_phone AND b.expires_at > $1) AS blacklisted,
       EXISTS (SELECT 1 FROM survey_person_tickets p WHERE p.ticket_number = t.number) AS by_person,
       EXISTS (SELECT 1 FROM dispatch_incident_links l JOIN dispatch_incidents i ON i.id = l.incident_id
               JOIN survey_jobs j ON j.kind = 'incident' AND j.ticket_number = i.master_ref
               WHERE l.ref = t.number AND j.phone = t.caller_phone AND j.state <> 'cancelled'
                 AND j.created_at >= coalesce((SELECT max(e.at) FROM ticket_events e WHERE e.ticket_id = t.id
                                               AND e.action = 'reopen'), t.created_at)) AS covered
FROM tickets t
WHERE t.status = 'resolved'
  AND NOT EXISTS (SELECT 1 FROM survey_jobs j WHERE j.kind = 'ticket' AND j.ticket_number = t.number
                  AND j.round = t.reopen_count)
ORDER BY t.updated_at LIMIT $2
"""

MISSED_CANDIDATES = """
SELECT c.call_id, c.caller, c.entered_at, c.ended_at, c.disposition,
       EXISTS (SELECT 1 FROM survey_optouts o WHERE o.phone = c.caller) AS opted_out,
       EXISTS (SELECT 1 FROM ivr_blacklist b WHERE b.number = c.caller AND b.expires_at > $1) AS blacklisted,
       (SELECT max(c2.entered_at) FROM calls c2 WHERE c2.caller = c.caller AND c2.entered_at > c.entered_at
        AND c2.entered_at <= $1 AND c2.line IS DISTINCT FROM 'outbound') AS later_call
FROM calls c
WHERE c.entered_at >= $2 AND c.disposition = ANY($3::text[]) AND c.ended_at <= $1
  AND NOT EXISTS (SELECT 1 FROM survey_jobs j WHERE j.kind = 'missed' AND j.call_id = c.call_id)
ORDER BY c.entered_at LIMIT $4
"""

# every citizen linked to a closed mass incident (热点诉求): a callback about its master ticket,
# one per phone (the master's own caller gets the ticket's survey; tickets merged into it are closed;
# a call the live transcripts linked is its caller's). `covered` (above) and `ticket_covered`: a
# linked ticket resolved on its own and its citizen get one callback per round, not two
INCIDENT_CANDIDATES = """
SELECT DISTINCT ON (m.number, c.phone) m.number, c.phone AS caller_phone, m.lead_department, m.district,
       m.reopen_count, i.closed_at AS resolved_at,
       EXISTS (SELECT 1 FROM survey_optouts o WHERE o.phone = c.phone) AS opted_out,
       EXISTS (SELECT 1 FROM ivr_blacklist b WHERE b.number = c.phone AND b.expires_at > $1) AS blacklisted,
       false AS by_person,  -- the incident's callback is the automated survey
       EXISTS (SELECT 1 FROM dispatch_incident_links l JOIN tickets t ON t.number = l.ref
               JOIN survey_jobs j ON j.kind = 'ticket' AND j.ticket_number = t.number AND j.round = t.reopen_count
               WHERE l.incident_id = i.id AND t.caller_phone = c.phone AND j.state <> 'cancelled') AS ticket_covered
FROM dispatch_incidents i
JOIN tickets m ON m.number = i.master_ref
JOIN LATERAL (SELECT coalesce(l.phone, t.caller_phone, k.caller) AS phone FROM dispatch_incident_links l
              LEFT JOIN tickets t ON t.number = l.ref LEFT JOIN calls k ON k.call_id = l.ref
              WHERE l.incident_id = i.id) c ON true
WHERE i.status = 'closed' AND i.closed_at >= $2 AND i.closed_at <= $1
  AND coalesce(c.phone, '') <> '' AND c.phone <> coalesce(m.caller_phone, '')
  AND NOT EXISTS (SELECT 1 FROM survey_jobs j WHERE j.kind = 'incident' AND j.ticket_number = m.number
                  AND j.round = m.reopen_count AND j.phone = c.phone)
ORDER BY m.number, c.phone LIMIT $3
"""

CLAIM = """
WITH next AS (
    SELECT id FROM survey_jobs WHERE state = 'pending' AND due_at <= $1 AND kind = ANY($4::text[])
    ORDER BY due_at, id LIMIT $5 FOR UPDATE SKIP LOCKED),
job AS (
    UPDATE survey_jobs j SET state = 'dialling', attempts = j.attempts + 1, updated_at = $1
    FROM next WHERE j.id = next.id RETURNING j.*),
att AS (
    INSERT INTO survey_attempts (job_id, n, channel_id, worker, claimed_at, lease_until)
    SELECT id, attempts, 'sv-' || id || '-' || attempts, $2, $1, $1 + $3 * interval '1 second' FROM job
    RETURNING job_id, channel_id)
SELECT job.*, att.channel_id FROM job JOIN att ON att.job_id = job.id ORDER BY job.due_at, job.id
"""

# a missed call whose caller called in again (or was served) since: cancelled, not dialled
CANCEL_SERVED = """
UPDATE survey_jobs j SET state = 'cancelled', reason = $2, updated_at = $1, finished_at = $1
FROM calls m
WHERE j.kind = 'missed' AND j.state = 'pending' AND m.call_id = j.call_id
  AND EXISTS (SELECT 1 FROM calls c WHERE c.caller = m.caller AND c.entered_at > m.entered_at
              AND c.entered_at <= $1 AND c.line IS DISTINCT FROM 'outbound')
RETURNING j.id, j.call_id
"""

# of these attempts (missed-call callbacks waiting in the ACD), those whose caller called in since
SERVED_SINCE = """
SELECT a.channel_id FROM survey_attempts a JOIN survey_jobs j ON j.id = a.job_id JOIN calls m ON m.call_id = j.call_id
WHERE a.channel_id = ANY($1::text[]) AND j.kind = 'missed'
  AND EXISTS (SELECT 1 FROM calls c WHERE c.caller = m.caller AND c.entered_at > m.entered_at
              AND c.line IS DISTINCT FROM 'outbound')
"""
