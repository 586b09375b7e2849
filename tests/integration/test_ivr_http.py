"""IVR HTTP API on the running app: flows and reload, blacklist, abandonment report."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest

from callcenter.app import PLUGINS
from callcenter.infra.settings import REPO_ROOT


@pytest.fixture
async def http(settings, stack, logins):
    async with await logins.client("admin:root") as session:  # the blacklist is an admin's tool
        yield session


async def test_flows_are_listed_and_a_broken_reload_keeps_the_last_good_flows(stack, http, tmp_path):
    async with http.get("/api/ivr/flows") as resp:
        assert resp.status == 200
        data = await resp.json()
    assert {f["name"] for f in data["flows"]} == {"main", "merged_line", "business_line"}
    assert {"number": "12315", "merge_mode": "platform"}.items() <= data["merged_lines"][0].items()

    flows_dir = tmp_path / "flows"
    shutil.copytree(REPO_ROOT / "ivr_flows", flows_dir)
    service = stack[PLUGINS].ivr.service.get()
    service.registry.directory = flows_dir
    main = flows_dir / "main.yaml"
    good = main.read_text()
    main.write_text(good.replace('"9": emergency_menu', '"9": no_such_node'))
    before = service.registry.current

    async with http.post("/api/ivr/reload") as resp:
        assert resp.status == 422
        body = await resp.json()
    assert any("no_such_node" in issue and "main.yaml" in issue for issue in body["issues"])
    assert "main" in body["serving"]
    assert service.registry.current is before  # still serving the last good set
    async with http.get("/api/ivr/flows") as resp:
        assert any("no_such_node" in e for e in (await resp.json())["last_error"])

    main.write_text(good.replace("prompt: menu_main\n    timeout_s: 3\n", "prompt: menu_main\n    timeout_s: 4\n"))
    async with http.post("/api/ivr/reload") as resp:
        assert resp.status == 200
        assert (await resp.json())["last_error"] == []
    assert service.registry.current is not before
    assert service.registry.current.flows["main"].nodes["main_menu"].timeout_s == 4


async def test_blacklist_is_managed_over_rest(stack, http):
    async with http.post("/api/ivr/blacklist", json={"number": "+86 138-0000-0777", "reason": "骚扰电话",
                                                     "created_by": "lead01", "ttl_hours": 48}) as resp:
        assert resp.status == 201
        entry = await resp.json()
    assert entry["number"] == "13800000777" and entry["active"] and entry["reason"] == "骚扰电话"
    expires = datetime.fromisoformat(entry["expires_at"])
    assert timedelta(hours=47) < expires - datetime.now(UTC) <= timedelta(hours=48)

    for bad in ({"number": "abc"}, {"number": "13800000777", "ttl_hours": -1},
                {"number": "13800000777", "expires_at": "2001-01-01T00:00:00"},
                {"number": "13800000777", "colour": "red"}, [1, 2]):
        async with http.post("/api/ivr/blacklist", json=bad) as resp:
            doc = await resp.json()
            assert resp.status == 422 and doc["error"] == "invalid" and doc["fields"], (bad, doc)
    async with http.post("/api/ivr/blacklist", data=b"{not json") as resp:
        assert resp.status == 400

    # an expired entry is kept for the record but no longer blocks
    repo = stack[PLUGINS].ivr.service.get().repo
    past = datetime.now(UTC) - timedelta(days=2)
    await repo.add_blacklist("13800000888", reason="", created_by="", expires_at=past + timedelta(days=1),
                             now=past)
    assert not await repo.check_blocked("13800000888", datetime.now(UTC))
    assert await repo.check_blocked("13800000777", datetime.now(UTC))
    async with http.get("/api/ivr/blacklist") as resp:
        assert [e["number"] for e in (await resp.json())["entries"]] == ["13800000777"]
    async with http.get("/api/ivr/blacklist?all=1") as resp:
        assert {e["number"] for e in (await resp.json())["entries"]} == {"13800000777", "13800000888"}

    async with http.delete("/api/ivr/blacklist/13800000777") as resp:
        assert resp.status == 204
    async with http.delete("/api/ivr/blacklist/13800000777") as resp:
        assert resp.status == 404
    assert not await repo.check_blocked("13800000777", datetime.now(UTC))


async def test_abandonment_report_counts_ended_calls_by_last_node(stack, http):
    repo = stack[PLUGINS].ivr.service.get().repo
    now = datetime.now(UTC)
    rows = [("main", "ended", "main_menu"), ("main", "ended", "main_menu"), ("main", "ended", "greeting"),
            ("main", "queue", "agent_general"), ("merged_line", "ended", "greeting")]
    for i, (flow, outcome, node) in enumerate(rows):
        await repo.record_path(call_id=f"r{i}", flow=flow, caller="", dnis="12345", path=[],
                               outcome=outcome, last_node=node, at=now - timedelta(minutes=i))
    await repo.record_path(call_id="old", flow="main", caller="", dnis="12345", path=[], outcome="ended",
                           last_node="main_menu", at=now - timedelta(days=3))

    since = (now - timedelta(hours=1)).isoformat()
    async with http.get("/api/ivr/report/abandonment", params={"since": since}) as resp:
        assert resp.status == 200
        report = await resp.json()
    assert (report["calls"], report["abandoned"]) == (5, 4)
    assert report["by_node"][0] == {"flow": "main", "node": "main_menu", "count": 2, "share": 0.5}
    assert {(r["flow"], r["node"]): r["count"] for r in report["by_node"]} == {
        ("main", "main_menu"): 2, ("main", "greeting"): 1, ("merged_line", "greeting"): 1}

    async with http.get("/api/ivr/report/abandonment", params={"since": since, "flow": "merged_line"}) as resp:
        assert (await resp.json())["abandoned"] == 1
    async with http.get("/api/ivr/report/abandonment") as resp:  # default: last 24 h
        assert (await resp.json())["abandoned"] == 4
    async with http.get("/api/ivr/report/abandonment", params={"since": "yesterday"}) as resp:
        assert resp.status == 400
