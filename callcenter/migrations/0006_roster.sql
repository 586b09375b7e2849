-- The hall's seat roster and its shift plan, written by `callcenter seed` from
-- callcenter/acd/data/seats.yaml, so that reports and departments can read who sits where and
-- which team works when (the controller itself reads the roster file at start).

CREATE TABLE seats (
    seat_id    text PRIMARY KEY,
    team       text NOT NULL,
    skills     text[] NOT NULL,
    extension  text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE shift_plan (
    team       text NOT NULL,
    day        date NOT NULL,           -- the rotation day (a night shift starts the day after)
    shift      text NOT NULL,           -- shift code, "O" = rest
    name       text,
    starts_at  timestamptz,
    ends_at    timestamptz,
    PRIMARY KEY (team, day)
);
