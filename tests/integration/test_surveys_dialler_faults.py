"""The dialler against the real PostgreSQL with a fault-injecting ARI (an Asterisk restart is
impractical to time): our own outage spends no callback attempt and stops the round's claims,
and the recovery of a dead worker's attempts keeps to `max_concurrent`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from surveys_support import distinct_job_ids, survey_config

from callcenter.infra.ari import AriError, AriUnavailable
from callcenter.surveys.dialler import Dialler
from callcenter.surveys.store import SurveyStore
from callcenter.tickets.api import default_calendar


class Ari:
    """Originates fail as an unreachable Asterisk's do while `down`; every originate is kept."""

    def __init__(self) -> None:
        self.down = False
        self.originated: list[str] = []
        self.tolerated = 0

    async def post(self, path: str, **params):
        if self.down:
            raise AriUnavailable(0, "Cannot connect to host", "POST", path)
        self.originated.append(params["channelId"])
        return {"id": params["channelId"]}

    async def delete(self, path: str, **params):
        return None

    async def safe(self, coro):
        try:
            return await coro
        except AriError as exc:
            if exc.status == 404:
                return None
            raise


class Calls:
    def __init__(self) -> None:
        self.expected: set[str] = set()

    def expect(self, channel: str, prompts, variables, *, on_end) -> None:
        self.expected.add(channel)

    def forget(self, channel: str) -> None:
        self.expected.discard(channel)


class Idle:
    async def run(self, now: datetime) -> None: ...


class Results:
    def __init__(self) -> None:
        self.done: list = []

    async def attempt_done(self, c, outcome, step, answers, now) -> None:
        self.done.append((c.job_id, outcome))

    async def retry(self, now: datetime) -> None: ...


async def jobs(pool, n: int) -> list[int]:
    await distinct_job_ids(pool)
    now = datetime.now(UTC) - timedelta(minutes=1)
    return [await pool.fetchval(
        "INSERT INTO survey_jobs (kind, ticket_number, phone, state, max_attempts, due_at, deadline, created_at,"
        " updated_at) VALUES ('ticket', $1, $2, 'pending', 2, $3, $4, $3, $3) RETURNING id",
        f"T-F{i}", f"1390000{i:04d}", now, now + timedelta(days=3)) for i in range(n)]


def dialler(pool, ari: Ari, max_concurrent: int) -> tuple[Dialler, Results]:
    config, results = survey_config(), Results()
    d = Dialler(SurveyStore(pool), ari, Calls(), Idle(), results, app="test",  # type: ignore[arg-type]
                survey=config.survey_policy(), missed=None, calendar=default_calendar(),
                max_concurrent=max_concurrent, lease_s=30)
    return d, results


async def test_an_asterisk_outage_spends_no_attempt_and_stops_the_claims(pool):
    ids = await jobs(pool, 5)
    ari = Ari()
    d, results = dialler(pool, ari, max_concurrent=2)
    ari.down = True
    await d.tick()
    await d.tick()  # a second round during the restart: still nothing spent
    assert results.done == [] and not d.inflight
    assert await pool.fetchval("SELECT count(*) FROM survey_attempts WHERE outcome IS NOT NULL") == 0
    claimed = await pool.fetch("SELECT id, attempts, state FROM survey_jobs WHERE attempts > 0")
    assert len(claimed) <= 2 and all(r["attempts"] == 1 for r in claimed)  # one batch, not every due job
    ari.down = False
    await d.tick()  # Asterisk is back: the same attempts go out, then new claims up to the limit
    assert len(d.inflight) == 2 and len(ari.originated) == 2
    assert all(ch.endswith("-1") for ch in ari.originated)  # attempt 1 of each, not a second attempt
    rows = await pool.fetch("SELECT id, attempts FROM survey_jobs WHERE id = ANY($1) AND attempts > 0", ids)
    assert all(r["attempts"] == 1 for r in rows)


async def test_recovering_a_dead_workers_attempts_keeps_to_max_concurrent(pool):
    await jobs(pool, 3)
    store = SurveyStore(pool)
    # claimed by a worker that died before dialling: its lease is over
    dead = await store.claim_many(datetime.now(UTC), "dead-worker", ["ticket"], 3, lease_s=-60)
    assert len(dead) == 3
    ari = Ari()
    d, _ = dialler(pool, ari, max_concurrent=2)
    await d.tick()
    assert len(ari.originated) == 2 and len(d.inflight) == 2
    left = await pool.fetchval("SELECT count(*) FROM survey_attempts WHERE worker = 'dead-worker'")
    assert left == 1  # waits for a free line, adopted by a later round
