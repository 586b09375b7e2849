"""Pure views of the board: queue and agent sections from a real QueueBook and Agent models."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from callcenter.acd.agents import AgentSlot
from callcenter.acd.board import views
from callcenter.acd.board.reads import normalise_phone
from callcenter.acd.calls import Call, CallState
from callcenter.acd.policy import QueueBook, QueuedCall
from callcenter.acd.shifts import Roster
from callcenter.acd.view import AcdView

T0 = datetime(2026, 1, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))  # team A works 早班 on 2026-01-01


@dataclass
class FakeAcd:
    """A small `AcdView`: a real roster, queue book, agents and calls."""

    roster: Roster = field(default_factory=Roster.default)
    book: QueueBook = field(default_factory=QueueBook)
    slots: dict[str, AgentSlot] = field(default_factory=dict)
    calls: dict[str, Call] = field(default_factory=dict)

    def waiting(self) -> list[tuple[QueuedCall, int]]:
        positions = self.book.positions()
        return [(qc, positions[qc.call_id]) for qc in self.book.ordered_all()]


def call(call_id: str, caller: str, queue: str, state: CallState, **kw) -> Call:
    return Call(call_id, caller, queue, queue, T0, 1, state=state, **kw)


def view_of(acd: AcdView, now):
    return views.acd_view(acd, now)


def test_waiting_calls_are_ordered_masked_and_timed() -> None:
    acd = FakeAcd()
    acd.book.enqueue("c1", "general", "general", T0, caller="13912345678")
    acd.book.enqueue("c2", "general", "general", T0 + timedelta(seconds=5), priority=8, caller="13800000001")
    acd.book.enqueue("c3", "market", "market", T0, caller="110")
    view = view_of(acd, T0 + timedelta(seconds=20))
    queues = {q["name"]: q for q in view["queues"]}
    assert list(queues)[:2] == ["general", "market"] and "dialect" in queues  # every roster queue shows
    general = queues["general"]["waiting"]
    assert [(w["call_id"], w["position"], w["wait_s"]) for w in general] == [("c2", 1, 15.0), ("c1", 2, 20.0)]
    assert general[1]["caller_masked"] == "139****5678" and general[0]["priority"] == 8
    assert queues["general"]["longest_wait_s"] == 20.0 and queues["dialect"]["longest_wait_s"] is None
    assert queues["market"]["waiting"][0]["caller_masked"] == "110"


def test_agents_grouped_by_team_with_shift_state_and_call() -> None:
    acd = FakeAcd()
    a = acd.roster.make_agent("1001", "seat01")
    a.login(T0, True, None)
    a.offer("c9", T0 + timedelta(seconds=1))
    a.answer(T0 + timedelta(seconds=3))
    b = acd.roster.make_agent("1006", "seat06")
    b.login(T0, False, "li")
    b.pause("meal", T0 + timedelta(seconds=2))
    acd.slots = {"1001": AgentSlot(a, "PJSIP/seat01"), "1006": AgentSlot(b, "PJSIP/seat06")}
    acd.calls["c9"] = call("c9", "13812345678", "market", CallState.BRIDGED, agent_id="1001")
    view = view_of(acd, T0 + timedelta(seconds=10))
    teams = {t["team"]: t for t in view["teams"]}
    assert list(teams) == ["A", "B", "C", "D"]
    assert teams["A"]["on_shift"] is True and teams["A"]["shift"] == "早班" and teams["A"]["seats"] == 5
    assert teams["B"]["on_shift"] is False and teams["B"]["shift"] is None
    [on_call] = teams["A"]["agents"]
    assert on_call["state"] == "on_call" and on_call["in_state_s"] == 7.0 and on_call["on_shift"] is True
    assert on_call["call"] == {"call_id": "c9", "state": "bridged", "queue": "market",
                               "caller_masked": "138****5678", "callback": False}
    [paused] = teams["B"]["agents"]
    assert paused["pause_reason"] == "meal" and paused["on_shift"] is False and paused["override_by"] == "li"
    queues = {q["name"]: q for q in view["queues"]}
    assert queues["market"]["talking"] == 1


def test_live_view_from_the_redis_mirror() -> None:
    agents = {"1001": {"agent_id": "1001", "seat_id": "seat01", "team": "A", "state": "available",
                       "since": T0.isoformat()}}
    queue = {"c1": {"queue": "general", "position": 1, "priority": 0, "entered_at": T0.isoformat(),
                    "callback": True}}
    view = views.live_view(agents, queue, T0 + timedelta(seconds=4))
    assert view["source"] == "live"
    assert view["queues"][0]["waiting"][0] | {"wait_s": 4.0} == view["queues"][0]["waiting"][0]
    assert view["queues"][0]["waiting"][0]["callback"] is True
    assert view["teams"][0]["agents"][0]["in_state_s"] == 4.0


def test_desk_call_prefers_the_live_session_and_keeps_ivr_facts() -> None:
    session = call("c1", "13812345678", "market", CallState.BRIDGED, priority=5)
    facts = {"call_id": "c1", "caller": "13812345678", "queue": "general", "dnis": "12315",
             "ivr": {"line": "12315"}, "ivr_path": [{"node": "menu", "input": "2"}]}
    doc = views.desk_call(session, facts)
    assert (doc["queue"], doc["priority"], doc["state"], doc["dnis"]) == ("market", 5, "bridged", "12315")
    assert doc["caller_masked"] == "138****5678" and doc["ivr"] == {"line": "12315"}
    ended = views.desk_call(None, facts)
    assert ended["state"] == "ended" and ended["queue"] == "general"
    assert "missed_call" not in views.PAUSE_REASONS and "meal" in views.PAUSE_REASONS


def test_phone_normalisation_for_history() -> None:
    assert normalise_phone("138-1234-5678") == "13812345678"
    assert normalise_phone("+86 138 1234 5678") == "13812345678"
    assert normalise_phone("12") is None and normalise_phone("abc") is None and normalise_phone("") is None


def test_a_callback_waiting_to_retry_shows_in_its_queue() -> None:
    """Regression: the board snapshot raised AttributeError while a callback waited to retry
    (the view read a `parked` field the call no longer has)."""
    acd = FakeAcd()
    acd.book.enqueue("c1", "general", "general", T0 + timedelta(seconds=30), caller="13800000001")
    acd.calls["cb"] = call("cb", "13912345678", "general", CallState.CALLBACK_PARKED, priority=5, callback=True,
                           attempts=1, retry_at=T0 + timedelta(seconds=90))
    view = view_of(acd, T0 + timedelta(seconds=60))
    general = {q["name"]: q for q in view["queues"]}["general"]
    assert [(w["call_id"], w["position"]) for w in general["waiting"]] == [("c1", 1), ("cb", None)]
    waiting = general["waiting"][1]
    assert waiting["callback"] is True and waiting["caller_masked"] == "139****5678"
    assert waiting["retry_at"] == (T0 + timedelta(seconds=90)).isoformat() and waiting["priority"] == 5
    assert waiting["wait_s"] == 60.0  # waiting since it first entered, like any call in line


def test_calls_with_an_agent_count_as_ringing_or_talking_in_their_queue() -> None:
    acd = FakeAcd()
    for i, state in enumerate((CallState.OFFERING, CallState.CALLBACK_AGENT, CallState.CALLBACK_DIALING,
                               CallState.BRIDGED, CallState.CALLBACK_WAIT)):
        acd.calls[f"c{i}"] = call(f"c{i}", "13800000001", "general", state)
    general = {q["name"]: q for q in view_of(acd, T0)["queues"]}["general"]
    assert (general["offering"], general["talking"], general["waiting"]) == (3, 1, [])


def test_shift_now_names_the_team_at_work_with_its_shift() -> None:
    roster = Roster.default()
    assert views.shift_now(roster, T0) == {"teams": [{"team": "A", "shift": "早班", "start": "08:00", "end": "16:00"}]}
    night = views.shift_now(roster, T0.replace(hour=2))["teams"]  # 夜班 of the day before
    assert [t["shift"] for t in night] == ["夜班"] and (night[0]["start"], night[0]["end"]) == ("00:00", "08:00")
    evening = views.shift_now(roster, T0.replace(hour=23, minute=59))["teams"]
    assert [t["shift"] for t in evening] == ["中班"] and evening[0]["team"] != "A"


def test_a_desk_seen_by_someone_else_has_the_number_masked() -> None:
    doc = {"type": "agent", "call": {"caller": "13812345678", "caller_masked": "138****5678"}}
    assert views.masked_desk(doc)["call"] == {"caller": "138****5678", "caller_masked": "138****5678"}
    assert views.masked_desk({"type": "agent", "call": None}) == {"type": "agent", "call": None}
