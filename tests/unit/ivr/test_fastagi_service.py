"""The IVR service behind the FastAGI server, with hand-written fakes: flow registry and reload,
session plans (flow choice, blacklist, repeat caller), ticket lookups, path recording."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callcenter.infra.web import Provided
from callcenter.ivr.fastagi import SessionResult
from callcenter.ivr.issues import FlowError
from callcenter.ivr.service import FlowRegistry, IvrService, load_flow_set

FLOWS_DIR = Path(__file__).resolve().parents[3] / "ivr_flows"
NOW = datetime(2024, 10, 8, 2, 0, tzinfo=UTC)


class FakeRepo:
    def __init__(self, blocked: set[str] = frozenset(), recent: int = 0, fail: bool = False):
        self.blocked, self.recent, self.fail = set(blocked), recent, fail
        self.paths: list[dict] = []

    async def check_blocked(self, caller: str, now: datetime) -> bool:
        if self.fail:
            raise ConnectionError("database down")
        return caller in self.blocked

    async def recent_paths(self, caller: str, since: datetime) -> int:
        assert since == NOW - timedelta(hours=24)
        return self.recent

    async def record_path(self, **row) -> None:
        if self.fail:
            raise ConnectionError("database down")
        self.paths.append(row)


class FakeRecords:
    def __init__(self, recent: int = 0):
        self.recent = recent
        self.asked: list[str] = []

    async def recent_calls(self, caller: str, since: datetime) -> int:
        self.asked.append(caller)
        return self.recent


def service(repo: FakeRepo | None = None, records: FakeRecords | None = None, tickets=None) -> IvrService:
    registry = FlowRegistry(FLOWS_DIR)
    registry.load()
    return IvrService(registry, repo or FakeRepo(), records or FakeRecords(), _provided(tickets),
                      clock=lambda: NOW)


def env(**kw: str) -> dict[str, str]:
    base = {"agi_network_script": "ivr", "agi_uniqueid": "u-1", "agi_callerid": "13800000000",
            "agi_arg_1": "12345"}
    return {**base, **kw}


def test_registry_reload_keeps_the_last_good_flows(tmp_path):
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    registry = FlowRegistry(flows)
    good = registry.load()
    (flows / "business_line.yaml").write_text("name: business_line\nstart: x\nnodes: {}\n")
    with pytest.raises(FlowError):
        registry.load()
    assert registry.current is good and registry.last_error
    assert registry.describe()["last_error"] == registry.last_error
    (flows / "business_line.yaml").unlink()
    with pytest.raises(FlowError, match="required flow 'business_line' is missing"):
        load_flow_set(flows)
    with pytest.raises(FlowError, match="does not exist"):
        registry.load(tmp_path / "nowhere")
    assert registry.current is good and registry.directory == flows


def test_merged_lines_file_errors_are_flow_errors(tmp_path):
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    (flows / "merged_lines.yaml").write_text('lines:\n  - {number: "110", department: police, name: x,'
                                             ' merge_mode: direct}\n')
    with pytest.raises(FlowError, match="emergency line 110"):
        load_flow_set(flows)


async def test_plan_picks_the_flow_from_the_dialled_number_or_the_agi_script():
    svc = service()
    plan = await svc.prepare(env())
    assert (plan.flow_name, plan.call_id, plan.dnis, plan.blocked) == ("main", "u-1", "12345", False)
    plan = await svc.prepare(env(agi_arg_1="+86 812 12315"))
    assert plan.flow_name == "merged_line" and plan.context.vars["skill"] == "market"
    plan = await svc.prepare(env(agi_arg_1="12360"))
    assert plan.flow_name == "business_line" and plan.context.vars["external_number"] == "12360"
    plan = await svc.prepare(env(agi_network_script="business_line", agi_arg_1="", agi_extension="12360"))
    assert plan.flow_name == "business_line"
    plan = await svc.prepare(env(agi_network_script="nonsense"))
    assert plan.flow_name == "main"
    plan = await svc.prepare({})  # nothing known: still a call, still the main flow
    assert plan.flow_name == "main" and plan.call_id.startswith("agi-")


async def test_blacklist_and_repeat_caller():
    records = FakeRecords(recent=1)
    svc = service(FakeRepo(blocked={"13900000000"}), records)
    assert (await svc.prepare(env(agi_callerid="13900000000"))).blocked
    plan = await svc.prepare(env())
    assert not plan.blocked and plan.context.recent_calls_24h == 1
    plan = await service(FakeRepo(recent=2)).prepare(env())  # an earlier call that ended in the IVR
    assert plan.context.recent_calls_24h == 2
    records.asked.clear()
    plan = await svc.prepare(env(agi_callerid="unknown"))
    assert plan.caller == "" and plan.context.recent_calls_24h == 0 and records.asked == []


async def test_database_trouble_degrades_to_a_normal_call():
    repo = FakeRepo(fail=True)
    svc = service(repo)
    plan = await svc.prepare(env())
    assert not plan.blocked and plan.flow_name == "main"
    await svc.finished(plan, SessionResult("queue", [], "agent_general"))  # logged, not raised


def _provided(tickets) -> Provided:
    provided = Provided("tickets")
    provided.set(tickets)
    return provided


class AsyncTickets:
    async def ivr_status(self, number: str) -> str:
        if number == "boom":
            raise RuntimeError("db")
        return "in_progress"


async def test_ticket_status_comes_from_the_tickets_service_if_there_is_one():
    assert await service().lookup_ticket("20240001") == ""  # no tickets service: not found
    svc = service(tickets=AsyncTickets())
    assert await svc.lookup_ticket("7") == "in_progress"
    assert await svc.lookup_ticket("boom") == ""


async def test_finished_records_the_path():
    repo = FakeRepo()
    svc = service(repo)
    plan = await svc.prepare(env())
    path = [{"node": "greeting", "input": "2"}, {"node": "queue_market", "input": ""}]
    await svc.finished(plan, SessionResult("queue", path, "queue_market"))
    [row] = repo.paths
    assert row == {"call_id": "u-1", "flow": "main", "caller": "13800000000", "dnis": "12345", "path": path,
                   "outcome": "queue", "last_node": "queue_market", "at": NOW}
