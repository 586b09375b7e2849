-- A supervisor's voice in a call's recording (issue 21): a whisper or barge is recorded by Asterisk
-- as its own file (a snoop on the supervisor's phone, what the supervisor says) and mixed into the
-- part's hall channel (right) when the part is stored. Each entry is written before Asterisk is asked
-- to record it, so whichever controller stores the part finds it:
-- {"name": Asterisk's snoop/recording id, "sid", "mode": whisper|barge, "by", "seat",
--  "offset_s": seconds after the part's start (the database's clock for both)}.
ALTER TABLE recordings ADD COLUMN voices jsonb NOT NULL DEFAULT '[]';
