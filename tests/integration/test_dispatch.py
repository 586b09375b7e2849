"""Dispatch against a real PostgreSQL: the hall teaches the model, versions roll back,
incidents are stored with their requests, and the REST API answers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from dispatch_support import corpus_of
from helpers import free_port

from callcenter.dispatch import http as dispatch_http
from callcenter.dispatch.corpus import Corpus
from callcenter.dispatch.incidents import IncidentDetector
from callcenter.dispatch.service import DispatchError, DispatchService
from callcenter.infra.web import Provided, http_errors

UNITS = {"civil_affairs", "health", "medical_insurance", "commerce", "market", "water"}
NEW_THING = ["我的阳光康养卡刷不了了", "阳光康养卡在哪里办", "阳光康养卡丢了咋个补", "阳光康养卡的钱咋个没到",
             "帮我老汉问下阳光康养卡的事", "阳光康养卡过期了要换"]


@pytest.fixture(scope="module")
def small_corpus() -> Corpus:
    """The real corpus, cut to six units so that each training takes a fraction of a second."""
    return corpus_of(UNITS)


async def test_a_human_dispatch_changes_the_next_prediction_after_retraining(pool, small_corpus):
    svc = DispatchService(pool, corpus=small_corpus)
    v1 = await svc.retrain("test")
    assert v1.version == 1 and v1.active and svc.version == 1
    before = svc.predict("阳光康养卡刷不了")
    assert before is not None and before.best.department != "civil_affairs"

    for i, text in enumerate(NEW_THING):  # the hall dispatches these to civil affairs
        await svc.record_decision(text=text, department="civil_affairs", source="human_dispatch", actor="agent1001",
                                  kind="help", ticket_number=f"PZH-20260701-{i:06d}")
    # a later reassignment of the same ticket replaces its example instead of adding one
    await svc.record_decision(text=NEW_THING[0], department="civil_affairs", source="reassignment",
                              actor="dispatcher", kind="help", ticket_number="PZH-20260701-000000")
    assert await pool.fetchval("SELECT count(*) FROM dispatch_examples") == len(NEW_THING)

    assert await svc.retrain_if_due() is not None  # new examples: it retrains
    after = svc.predict("阳光康养卡刷不了")
    assert svc.version == 2 and after.best.department == "civil_affairs"
    assert any("康养" in w or "养卡" in w for w in after.best.words)
    assert await svc.retrain_if_due() is None  # nothing new since

    # roll back to v1: the old behaviour returns, in this process and in another one
    await svc.activate(1)
    assert svc.version == 1
    assert svc.predict("阳光康养卡刷不了").best.department == before.best.department
    other = DispatchService(pool, corpus=small_corpus)
    await other.refresh()
    assert other.version == 1
    with pytest.raises(DispatchError):
        await svc.activate(99)


async def test_bad_examples_are_refused(pool, small_corpus):
    svc = DispatchService(pool, corpus=small_corpus)
    for kwargs in ({"department": "nowhere"}, {"department": "hall"}, {"source": "rumour"}, {"text": "  "}):
        args = {"text": "停水了", "department": "water", "source": "human_dispatch", "actor": "a"} | kwargs
        with pytest.raises(DispatchError):
            await svc.record_decision(**args)
    assert await pool.fetchval("SELECT count(*) FROM dispatch_examples") == 0


async def test_incident_is_stored_with_its_requests_and_closing_returns_them(pool, small_corpus):
    svc = DispatchService(pool, corpus=small_corpus, detector=IncidentDetector(min_count=5))
    t0 = datetime(2026, 7, 1, 8, tzinfo=UTC)
    events = [await svc.observe(f"PZH-{i}", t0 + timedelta(minutes=i), "西区", f"{['清香坪停水了', '我们这边停水', '一直停水没来'][i % 3]}（{i}）", "water")
              for i in range(7)]
    assert [e and e["event"] for e in events] == [None] * 4 + ["opened", "joined", "joined"]
    (row,) = await svc.incidents()
    assert row["district"] == "西区" and row["master_ref"] == "PZH-0" and row["linked"] == 7
    assert "停水" in row["keywords"]
    # after a restart the open incident is taken back: a new request joins it, none is opened
    again = DispatchService(pool, corpus=small_corpus, detector=IncidentDetector(min_count=5))
    assert await again.restore_incidents() == 1
    joined = await again.observe("PZH-8", t0 + timedelta(minutes=8), "西区", "清香坪停水了，一直没来水", "water")
    assert joined == {"event": "joined", "incident": row["id"], "master": "PZH-0", "ref": "PZH-8"}
    await again.flush()
    await svc.confirm_link(row["id"], "call-abc", via="ivr")
    with pytest.raises(DispatchError):
        await svc.confirm_link(row["id"] + 1, "call-x")
    refs = await svc.close_incident(row["id"])
    events = [tuple(r) for r in await pool.fetch("SELECT topic, payload->>'id' FROM outbox "
                                                 "WHERE topic LIKE 'incidents/%' ORDER BY id")]
    assert events == [("incidents/opened", str(row["id"])), ("incidents/closed", str(row["id"]))]
    assert set(refs) == {f"PZH-{i}" for i in range(7)} | {"PZH-8", "call-abc"}
    assert await svc.incidents() == []
    assert await svc.observe("PZH-9", t0 + timedelta(minutes=9), "西区", "清香坪停水了", "water") is None


async def test_rest_api_proposes_with_candidates_and_words(pool, small_corpus):
    svc = DispatchService(pool, corpus=small_corpus)
    await svc.retrain("test")
    provided: Provided[DispatchService] = Provided("dispatch service")
    app = web.Application(middlewares=[http_errors])
    dispatch_http.routes(app, provided)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}/api/dispatch"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/propose", json={"text": "停水"}) as r:
                assert r.status == 503  # not started yet
            provided.set(svc)
            async with http.post(f"{base}/propose", json={"text": "我们小区停水了一整天", "kind": "help"}) as r:
                body = await r.json()
                assert r.status == 200 and body["model_version"] == 1
                assert body["candidates"][0]["department"] == "water" and body["candidates"][0]["words"]
                assert body["needs_human"] == (body["department"] is None)
            async with http.post(f"{base}/propose", json={"text": "x", "kind": "shout"}) as r:
                assert r.status == 422 and "kind" in (await r.json())["fields"]
            async with http.post(f"{base}/examples", json={"text": "燃气费", "department": "nowhere"}) as r:
                assert r.status == 422
            async with http.post(f"{base}/models/7/activate") as r:
                assert r.status == 404
            async with http.get(f"{base}/models") as r:
                assert (await r.json())["active"] == 1
            # retraining runs in the background (it outlasts HTTP timeouts): 202 at once, a second
            # request while it runs gets the same job, the list follows it to the new version
            async with http.post(f"{base}/models", json={}) as r:
                first = await r.json()
                assert r.status == 202 and first["started"] and first["training"]["state"] == "training"
            async with http.post(f"{base}/models") as r:
                again = await r.json()
                assert r.status == 202 and not again["started"]
                assert again["training"]["started_at"] == first["training"]["started_at"]
            for _ in range(3600):  # a bound, not a timing: training is seconds, up to minutes on a loaded machine
                async with http.get(f"{base}/models") as r:
                    listed = await r.json()
                if listed["training"]["state"] != "training":
                    break
                await asyncio.sleep(0.05)
            assert listed["training"]["state"] == "done" and listed["training"]["version"] == 2
            assert listed["active"] == 2 and [v["version"] for v in listed["versions"]][:2] == [2, 1]
    finally:
        await runner.cleanup()


async def test_a_failed_background_retraining_is_reported_and_keeps_the_model_in_force(pool, small_corpus):
    svc = DispatchService(pool, corpus=small_corpus)
    await svc.retrain("test")
    svc._corpus = Corpus(corpus_of({"water"}).train, ())  # one unit, nothing vague: nothing to tell apart
    job, started = svc.start_retrain("admin:root")
    assert started and job["state"] == "training"
    await svc._training
    assert svc.training_job["state"] == "failed" and svc.training_job["error"]
    assert svc.version == 1 and svc.predict("停水了") is not None
    assert [v.version for v in await svc.versions()] == [1]


async def test_a_stop_during_a_retraining_kills_the_training_child_and_keeps_no_half_model(pool):
    svc = DispatchService(pool)  # the whole corpus: a training of many seconds
    svc.start_retrain("admin:root")
    procs: list = []
    for _ in range(2400):  # until the child process is up (a bound, not a timing)
        executor = svc.trainer._pool
        procs = list((executor._processes or {}).values()) if executor is not None else []
        if procs:
            break
        await asyncio.sleep(0.05)
    assert procs, "no training child started"
    await svc.aclose()  # the controller stops
    for proc in procs:  # the executor's own thread reaps its workers too: read the code it records
        for _ in range(1200):
            if proc.exitcode is not None:
                break
            await asyncio.sleep(0.05)
        assert proc.exitcode is not None and proc.exitcode < 0  # killed, not left to finish
    assert svc.version is None and await svc.versions() == []
