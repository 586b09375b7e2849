-- Citizens' numbers in one canonical form (callcenter/infra/phones.py): the rows written before
-- it may hold a caller id as the channel gave it (+8613812345678, 013812345678), an opt-out as
-- 8613812345678, or a blacklist entry without its area code (the blacklist used to drop the local
-- 0812). Each is rewritten in the form that new rows get, so the equality joins match again.
--
-- pg_temp.canonical_phone is canonical_phone() of phones.py for the stored values, kept only for
-- this migration (tests/integration/test_phone_migration.py checks the two agree); a value that
-- is not a number (a SIP name as caller id) is only trimmed, as canonical_caller() does.
-- Blacklist rows of 7-8 digits starting 2-8 were local landlines stored without 0812: they get
-- it back (the trunk presents callers with their area code, as tickets store them).

CREATE FUNCTION pg_temp.canonical_phone(raw text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    form text := btrim(coalesce(raw, ''));
    prev text;
    d text;
    rest text;
BEGIN
    IF form !~ '^[0-9 +()-]*$' THEN
        RETURN left(btrim(raw), 64);
    END IF;
    LOOP
        prev := form;
        d := regexp_replace(form, '[^0-9]', '', 'g');
        rest := CASE WHEN d LIKE '0086%' THEN substr(d, 5)
                     WHEN form LIKE '+%' AND d LIKE '86%' THEN substr(d, 3) END;
        IF rest IS NOT NULL THEN
            form := CASE WHEN rest ~ '^1[3-9][0-9]{9}$' OR rest LIKE '0%' OR length(rest) NOT BETWEEN 9 AND 11
                         THEN rest ELSE '0' || rest END;
        ELSIF d ~ '^861[3-9][0-9]{9}$' THEN
            form := substr(d, 3);
        ELSIF d ~ '^01[3-9][0-9]{9}$' THEN
            form := substr(d, 2);
        ELSE
            form := d;
        END IF;
        EXIT WHEN form = prev;
    END LOOP;
    IF length(form) NOT BETWEEN 3 AND 15 THEN
        RETURN left(btrim(raw), 64);  -- not a number by is_phone(): as it was, trimmed
    END IF;
    RETURN form;
END
$fn$;

UPDATE tickets SET caller_phone = pg_temp.canonical_phone(caller_phone)
 WHERE caller_phone <> '' AND caller_phone <> pg_temp.canonical_phone(caller_phone);
UPDATE calls SET caller = pg_temp.canonical_phone(caller)
 WHERE caller IS NOT NULL AND caller <> pg_temp.canonical_phone(caller);
UPDATE ivr_paths SET caller = pg_temp.canonical_phone(caller)
 WHERE caller IS NOT NULL AND caller <> pg_temp.canonical_phone(caller);
UPDATE dispatch_incident_links SET phone = pg_temp.canonical_phone(phone)
 WHERE phone IS NOT NULL AND phone <> pg_temp.canonical_phone(phone);
UPDATE survey_jobs j SET phone = pg_temp.canonical_phone(j.phone)
 WHERE j.phone <> pg_temp.canonical_phone(j.phone)
   AND NOT EXISTS (SELECT 1 FROM survey_jobs o WHERE o.id <> j.id AND o.kind = j.kind
                     AND o.ticket_number IS NOT DISTINCT FROM j.ticket_number AND o.round = j.round
                     AND o.phone = pg_temp.canonical_phone(j.phone));

-- opt-outs: one row per number, the earliest
DELETE FROM survey_optouts o
 WHERE EXISTS (SELECT 1 FROM survey_optouts k
                WHERE pg_temp.canonical_phone(k.phone) = pg_temp.canonical_phone(o.phone)
                  AND (k.created_at, k.phone) < (o.created_at, o.phone));
UPDATE survey_optouts SET phone = pg_temp.canonical_phone(phone) WHERE phone <> pg_temp.canonical_phone(phone);

-- the blacklist: local landlines get their area code back; one row per number, the one listed longest
UPDATE ivr_blacklist b SET number = '0812' || b.number
 WHERE b.number ~ '^[2-8][0-9]{6,7}$'
   AND NOT EXISTS (SELECT 1 FROM ivr_blacklist o WHERE o.number = '0812' || b.number);
DELETE FROM ivr_blacklist b
 WHERE EXISTS (SELECT 1 FROM ivr_blacklist k
                WHERE pg_temp.canonical_phone(k.number) = pg_temp.canonical_phone(b.number)
                  AND (k.expires_at, k.number) > (b.expires_at, b.number));
UPDATE ivr_blacklist SET number = pg_temp.canonical_phone(number) WHERE number <> pg_temp.canonical_phone(number);

DROP FUNCTION pg_temp.canonical_phone(text);
