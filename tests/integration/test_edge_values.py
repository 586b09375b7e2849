"""Out-of-range input is a 422 naming its field, never a 500 from the driver (real PostgreSQL):
dates at year 1 and 9999 (which overflow once converted to UTC), ids over bigint (2^63)."""

from __future__ import annotations

import base64
import json

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from tickets_support import SUPERVISOR, tickets_app

from callcenter.dispatch import http as dispatch_http
from callcenter.dispatch.service import DispatchService
from callcenter.infra.hardening import errors_as_json
from callcenter.infra.web import Provided, http_errors
from callcenter.surveys import http as surveys_http
from callcenter.surveys.config import SurveySettings
from callcenter.surveys.plugin import Surveys
from callcenter.surveys.store import SurveyStore

BIG_IDS = ["9223372036854775808", "99999999999999999999"]
EDGE_DATES = ["0001-01-01", "0001-01-01T00:00:00", "9999-12-31T23:59:59", "9999-12-31"]


async def _client(routes, service) -> TestClient:
    app = web.Application(middlewares=[errors_as_json, http_errors])
    provided: Provided = Provided("service")
    routes(app, provided)
    provided.set(service)
    return TestClient(TestServer(app))


async def _named(resp, field: str) -> None:
    body = await resp.json()
    assert resp.status == 422 and field in body["fields"], (resp.status, body)


@pytest.mark.parametrize("value", EDGE_DATES)
@pytest.mark.parametrize("field", ["since", "until"])
async def test_survey_figures_refuse_dates_out_of_range(pool, field, value):
    surveys = Surveys(SurveySettings(), SurveyStore(pool), None, None)
    async with await _client(surveys_http.routes, surveys) as client:
        await _named(await client.get("/api/surveys/figures", params={field: value}), field)
        resp = await client.get("/api/surveys/figures", params={"since": "2026-12-01", "until": "2026-12-07"})
        assert resp.status == 200


@pytest.mark.parametrize("value", [*BIG_IDS, "0"])
async def test_a_survey_job_id_out_of_range_is_named(pool, value):
    surveys = Surveys(SurveySettings(), SurveyStore(pool), None, None)
    async with await _client(surveys_http.routes, surveys) as client:
        await _named(await client.get(f"/api/surveys/jobs/{value}"), "id")
        assert (await client.get("/api/surveys/jobs/9223372036854775807")).status == 404


@pytest.mark.parametrize("path,field", [("/api/dispatch/models/{}/activate", "version"),
                                        ("/api/dispatch/incidents/{}/links", "id"),
                                        ("/api/dispatch/incidents/{}/announce", "id")])
@pytest.mark.parametrize("value", BIG_IDS)
async def test_dispatch_ids_out_of_range_are_named(pool, path, field, value):
    body = {"ref": "PZH-20261207-000001"} if path.endswith("links") else {}
    async with await _client(dispatch_http.routes, DispatchService(pool)) as client:
        await _named(await client.post(path.format(value), json=body), field)
        largest = 2**31 - 1 if field == "version" else 2**63 - 1  # an integer column, a bigint one
        await _named(await client.post(path.format(largest + 1), json=body), field)
        assert (await client.post(path.format(largest), json=body)).status == 404


@pytest.fixture
async def api(settings, pool):
    async with tickets_app(settings, pool) as a:
        yield a


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00"])
async def test_ticket_search_dates_out_of_range_are_named(api, value):
    status, doc = await api.get(f"/api/tickets?created_from={value.replace('+', '%2B')}", actor=SUPERVISOR)
    assert status == 422 and "created_from" in doc["fields"], doc


async def test_a_forged_cursor_out_of_range_is_a_bad_cursor(api):
    for values in (["2026-12-07T00:00:00+00:00", 2**70], ["0001-01-01T00:00:00+08:00", 1]):
        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
        status, doc = await api.get(f"/api/tickets?cursor={cursor}", actor=SUPERVISOR)
        assert status == 400 and doc["error"] in ("bad_cursor", "bad_request"), doc
    status, _ = await api.post("/api/tickets", {"kind": "help", "description": "路灯坏了",
                                                 "attachments": [{"ref": "a.jpg", "size_bytes": 2**63}]},
                               actor=SUPERVISOR)
    assert status == 422
