"""The hub's fan-out: a burst of MQTT events gives one debounced push to every client; a dead
client is dropped without stopping the others; topics invalidate the right caches."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from helpers import free_port, until

from callcenter.acd.board.hub import BOARD, BoardHub, Watch
from callcenter.acd.board.relayed import DESK
from callcenter.acd.board.snapshot import Snapshots
from callcenter.acd.shifts import Roster
from callcenter.infra.settings import Settings
from callcenter.infra.web import Provided


class FakeSnapshots:
    def __init__(self) -> None:
        self.invalidated: list[str] = []
        self.builds = 0
        self.live_connected = lambda: True

    def invalidate(self, topic: str) -> None:
        self.invalidated.append(topic)

    def current_call_id(self, agent_id: str) -> str | None:
        return "c7" if agent_id == "1001" else None

    async def board(self) -> dict:
        self.builds += 1
        return {"type": "board", "n": self.builds}

    async def agent(self, agent_id: str) -> dict:
        return {"type": "agent", "agent": {"agent_id": agent_id}}


class FakeSocket:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[dict] = []
        self.closed = False
        self.fail = fail

    async def send_str(self, text: str) -> None:
        if self.fail:
            raise ConnectionResetError("gone")
        self.sent.append(json.loads(text))

    async def close(self, **_: object) -> None:
        self.closed = True


async def test_burst_of_events_gives_one_push_and_dead_clients_are_dropped() -> None:
    snaps = FakeSnapshots()
    hub = BoardHub(SimpleNamespace(), snaps, debounce_s=0.05, refresh_s=60)
    good, dead, desk = FakeSocket(), FakeSocket(fail=True), FakeSocket()
    hub.groups[BOARD] = {good, dead}
    hub.groups["1001"] = {desk}
    pusher = asyncio.create_task(hub._pusher())
    try:
        for topic in ("calls/c7/queued", "agents/1001/state", "agents/1002/state", "tickets/market/x"):
            await hub.on_message(topic, json.dumps({"agent_id": topic.split("/")[1], "state": "ringing"}))
        await hub.on_message("calls/c7/transcript", json.dumps(STATUS))
        await until(lambda: good.sent, what="board push")
        await until(lambda: [m for m in desk.sent if m["type"] == "agent"], what="agent push")
        assert good.sent == [{"type": "board", "n": 1}]
        assert dead not in hub.groups[BOARD] and dead.closed
        events = [m["topic"] for m in desk.sent if m["type"] == "event"]
        # only its own agent and call, and only what the desk takes raw (not calls/c7/queued)
        assert events == ["agents/1001/state", "calls/c7/transcript"]
        assert snaps.invalidated == ["calls/c7/queued", "agents/1001/state", "agents/1002/state",
                                     "tickets/market/x", "calls/c7/transcript"]
        await hub.on_message("agents/1001/state", b"not json")
        await until(lambda: len(good.sent) == 2, what="second push")
    finally:
        pusher.cancel()
        await asyncio.gather(pusher, return_exceptions=True)
        await hub.close_clients()
    assert good.closed and desk.closed and not hub.groups


def test_topics_invalidate_the_right_caches() -> None:
    snaps = Snapshots(None, None, None, Provided("ACD"), Provided("tickets"))
    snaps._cache = {"kpi": (0.0, 1), "tickets": (0.0, 2)}
    snaps._facts = {"c1": {}, "c2": {}}
    snaps._history = {"138": {}}
    snaps.invalidate("agents/1001/state")
    assert set(snaps._cache) == {"kpi", "tickets"} and snaps._history
    snaps.invalidate("calls/c1/answered")
    assert set(snaps._cache) == {"tickets"} and set(snaps._facts) == {"c2"} and not snaps._history
    snaps._history = {"138": {}}
    snaps.invalidate("tickets/market/created")
    assert snaps._cache == {} and not snaps._history
    snaps._cache = {"kpi": (0.0, 1), "ratings": (0.0, 3)}
    snaps.invalidate("surveys/ratings/c1")  # a post-call rating stored
    assert set(snaps._cache) == {"kpi"}
    snaps.invalidate("*")
    assert snaps._facts == {}


STATUS = {"type": "status", "call_id": "c7", "available": False, "text": "转写不可用", "reason": "off"}
FINAL = {"type": "final", "call_id": "c7", "leg": "citizen", "speaker": "市民", "seq": 1, "start": 0.4,
         "end": 3.0, "text": "我想问一下公积金", "deferred": False, "status": "ok",
         "words": [{"word": "我", "start": 0.4, "end": 0.6, "conf": 0.9}]}


async def test_a_desk_gets_only_expected_events_in_the_expected_shape() -> None:
    """A forged or odd-shaped event about the desk's agent or call is dropped (and counted, and
    logged); a good one is forwarded as validated, without the fields the desk does not read."""
    hub = BoardHub(SimpleNamespace(), FakeSnapshots(), debounce_s=60, refresh_s=60)
    desk = FakeSocket()
    hub.groups["1001"] = {desk}
    forged = [
        ("agents/1001/notice", {"type": "final", "text": "请把市民的身份证号读给我"}),  # a topic nobody publishes
        ("agents/1001/state", {"agent_id": "1002", "state": "available"}),  # another agent's state
        ("agents/1001/state", {"agent_id": "1001", "state": "hacked"}),
        ("calls/c7/transcript", {**FINAL, "speaker": "班长"}),
        ("calls/c7/transcript", {**FINAL, "call_id": "c8"}),  # another call's line
        ("calls/c7/transcript", {**FINAL, "type": "html"}),
        ("calls/c7/transcript", [FINAL]),
        ("calls/c7/transcript", "not a document"),
        ("calls/c7/transcript/extra", FINAL),
    ]
    before = hub.relay.dropped
    for topic, payload in forged:
        await hub.on_message(topic, json.dumps(payload, ensure_ascii=False))
    await hub.on_message("calls/c7/transcript", b"\xff not json")
    await hub.on_message("calls/c7/answered", b'{"call_id": "c7"}')  # known: in the snapshot, not raw
    assert desk.sent == [] and hub.relay.dropped - before == len(forged) + 1
    await hub.on_message("calls/c7/transcript", json.dumps({**FINAL, "html": "<img src=x>", "outbox_id": 3}))
    assert [m["payload"] for m in desk.sent] == [{**FINAL, "outbox_id": 3}]


async def test_broker_down_keeps_retrying_and_tells_clients_the_board_is_not_live() -> None:
    snaps = FakeSnapshots()
    settings = Settings(mqtt_host="127.0.0.1", mqtt_port=free_port(), mqtt_prefix="t/cc")
    hub = BoardHub(settings, snaps, debounce_s=0.01, refresh_s=60)
    client = FakeSocket()
    hub.groups[BOARD] = {client}
    await hub.start()
    try:
        await until(lambda: client.sent, what="a push after the failed connection")
        await until(lambda: snaps.invalidated.count("*") >= 2, what="a retry")
        assert not hub.connected.is_set()
    finally:
        await hub.stop()
    assert client.closed and all(t.done() for t in hub._tasks) and hub._tasks == []


def test_what_the_controller_publishes_is_what_the_desk_takes() -> None:
    """The producers' own documents pass the desk's shapes (so the table drops forgeries, not the
    controller's events): an agent's state, a transcript final/partial/provisional and status."""
    from datetime import UTC, datetime

    from callcenter.acd.agents import Agent, AgentState
    from callcenter.acd.repository import agent_doc
    from callcenter.transcription.model import Leg, Utterance, Word

    agent = Agent("1001", "seat01", "A", state=AgentState.ON_CALL, since=datetime(2026, 3, 2, tzinfo=UTC),
                  current_call_id="1733570000.42")
    doc = {**agent_doc(agent, "PJSIP/seat01"), "reason": "answer 1733570000.42", "outbox_id": 9}
    assert DESK.shape("agents/1001/state", json.loads(json.dumps(doc))) == \
        {k: v for k, v in doc.items() if k != "interface"}
    for final, provisional in ((True, False), (False, False), (False, True)):
        u = Utterance("1733570000.42", Leg.AGENT, 3, 1.5, 2.25, "好的 请您稍等", (Word("好的", 1.5, 1.8, 0.93),),
                      final=final, provisional=provisional)
        assert DESK.shape("calls/1733570000.42/transcript", u.document()) == {**u.document(), "outbox_id": None}
    status = {"type": "status", "call_id": "1733570000.42", "available": False, "text": "转写不可用",
              "reason": "tap failed"}
    assert DESK.shape("calls/1733570000.42/transcript", status) == {**status, "outbox_id": None}


async def test_a_supervisor_watching_a_desk_gets_it_masked_and_its_call_events() -> None:
    class Desk(FakeSnapshots):
        async def agent(self, agent_id: str) -> dict:
            return {"type": "agent", "call": {"caller": "13812345678", "caller_masked": "138****5678"}}

    hub = BoardHub(SimpleNamespace(), Desk(), debounce_s=0.05, refresh_s=60)
    own, watcher = FakeSocket(), FakeSocket()
    hub.groups["1001"] = {own}
    hub.groups[Watch("1001")] = {watcher}
    await hub.push_all()
    assert own.sent[0]["call"]["caller"] == "13812345678"
    assert watcher.sent[0]["call"]["caller"] == "138****5678"
    assert hub.listens("calls/c7/transcript")
    from callcenter.transcription.model import Leg, Utterance

    final = Utterance("c7", Leg.CITIZEN, 1, 0.5, 1.5, "你好", (), final=True, provisional=False).document()
    await hub.event("calls/c7/transcript", final)
    assert watcher.sent[-1]["type"] == "event" and watcher.sent[-1]["payload"]["text"] == "你好"



def test_without_an_acd_in_this_process_the_board_reads_the_shifts_from_the_bundled_roster() -> None:
    snaps = Snapshots(None, None, None, Provided("ACD"), Provided("tickets"))
    assert snaps.roster == Roster.default() and snaps.roster is snaps.roster  # loaded once
