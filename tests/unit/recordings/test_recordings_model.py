"""The recordings' rules (pure): names Asterisk's objects carry, where a file goes, the retention
sweep with its legal hold, and who may hear a call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.accounts.api import Role, User
from callcenter.infra.settings import Settings
from callcenter.recordings.model import (
    CallParties,
    Recording,
    State,
    TicketFact,
    Voice,
    expired,
    hold_reason,
    name,
    parse_name,
    refusal,
    storage_key,
    sweep,
    voice_name,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _rec(rec_id: int, call: str, days_old: float, state: State = State.STORED, held: bool = False) -> Recording:
    return Recording(rec_id, call, 1, call, f"{call}-a1", state, NOW - timedelta(days=days_old), held=held)


def test_names_round_trip_and_other_ids_are_not_ours():
    ident = name("agent", 2, "1733.45-x")
    assert ident == "rec-agent-2-1733.45-x"
    assert parse_name(ident) == ("agent", 2, "1733.45-x")
    for other in ("tap-agent-snoop-c1", "rec-boss-1-c1", "rec-agent-x-c1", "rec-agent-1-", "c-123"):
        assert parse_name(other) is None
    with pytest.raises(ValueError):
        name("supervisor", 1, "c1")


def test_a_supervisors_voice_is_named_for_its_supervision_and_part_and_found_again():
    ident = voice_name("a1b2c3", 2, "c-9")
    assert ident == "rec-sva1b2c3-2-c-9"
    assert parse_name(ident) == ("sva1b2c3", 2, "c-9")
    for other in ("rec-sv-1-c1", "rec-sv.x-1-c1", "rec-své-1-c1"):
        assert parse_name(other) is None
    rec = Recording(1, "c-9", 2, "c-9", "a", State.RECORDING, NOW,
                    voices=(Voice.of({"name": ident, "mode": "barge", "offset_s": -0.2}),))
    assert rec.names() == ("rec-caller-2-c-9", "rec-agent-2-c-9", ident)
    assert rec.voices[0].offset_s == 0.0  # never before the part's start


def test_the_storage_key_is_by_day_and_never_leaves_the_directory():
    assert storage_key("c-1", 1, NOW) == "2026/12/07/c-1-1.ogg"
    assert storage_key("../../etc/passwd", 2, NOW) == "2026/12/07/.._.._etc_passwd-2.ogg"


def test_expired_only_when_stored_and_older_than_the_period():
    assert expired(_rec(1, "c1", 180), NOW, 180)
    assert not expired(_rec(1, "c1", 179.9), NOW, 180)
    assert not expired(_rec(1, "c1", 400, State.DELETED), NOW, 180)
    assert not expired(_rec(1, "c1", 400, State.FAILED), NOW, 180)


@pytest.mark.parametrize("fact,why", [
    (TicketFact("c1", "PZH1", "complaint", True), "open complaint PZH1"),
    (TicketFact("c1", "PZH2", "help", True, lead_department="efficiency"), "open 效能 case PZH2"),
    (TicketFact("c1", "PZH3", "help", True, assisting=("efficiency",)), "open 效能 case PZH3"),
    (TicketFact("c1", "PZH4", "report", True, category="作风问题"), "open 效能 case PZH4"),
    (TicketFact("c1", "PZH5", "enquiry", True, reopen_count=1), "reopened ticket PZH5"),
])
def test_an_open_complaint_efficiency_case_or_reopened_ticket_holds_the_call(fact, why):
    assert hold_reason([fact]) == why


def test_closed_tickets_and_plain_open_tickets_hold_nothing():
    assert hold_reason([]) is None
    assert hold_reason([TicketFact("c1", "PZH1", "complaint", False)]) is None  # closed complaint
    assert hold_reason([TicketFact("c1", "PZH2", "enquiry", True)]) is None
    assert hold_reason([TicketFact("c1", "PZH3", "help", False, reopen_count=3)]) is None


def test_the_sweep_deletes_the_free_holds_the_held_and_releases_a_hold_that_ended():
    rows = [_rec(1, "free", 200), _rec(2, "complained", 200), _rec(3, "was-held", 200, held=True)]
    facts = {"complained": [TicketFact("complained", "PZH9", "complaint", True)],
             "was-held": [TicketFact("was-held", "PZH8", "complaint", False)]}
    plan = sweep(rows, facts)
    assert plan.delete == (1, 3)
    assert plan.hold == ((2, "open complaint PZH9"),)
    assert plan.release == (3,)


AGENT = User("zhang", Role.AGENT, agent_id="1001")
DEPT = User("market.li", Role.DEPT, department="market")


def test_who_hears_a_recording():
    assert refusal(User("li", Role.SUPERVISOR), CallParties()) is None
    assert refusal(User("wang", Role.QA), CallParties()) is None
    assert refusal(AGENT, CallParties(agents=frozenset({"1001"}))) is None
    assert "own calls" in refusal(AGENT, CallParties(agents=frozenset({"1002"})))
    assert refusal(DEPT, CallParties(departments=frozenset({"market"}))) is None
    assert "through a ticket" in refusal(DEPT, CallParties())
    assert "does not hear" in refusal(User("root", Role.ADMIN), CallParties())
    assert "does not hear" in refusal(User("c1", Role.COLLECTOR), CallParties())
    assert "disabled" in refusal(User("li", Role.SUPERVISOR, disabled=True), CallParties())


def test_one_setting_decides_the_notice_and_the_recording():
    s = Settings(env="test", recording_off_lines=["12329"], transcription_enabled=True)
    assert s.records("12345") and not s.records("12329")
    assert not s.transcribes("12329")  # a caller never told of recording is not transcribed either
    off = Settings(env="test", recording_enabled=False, transcription_enabled=True)
    assert not off.records("12345") and not off.transcribes("12345")


@pytest.mark.parametrize("header,span", [
    ("", (0, 999, False)), ("bytes=0-", (0, 999, True)), ("bytes=100-199", (100, 199, True)),
    ("bytes=900-5000", (900, 999, True)), ("bytes=-100", (900, 999, True)), ("bytes=-5000", (0, 999, True)),
    ("bytes=1000-", None), ("bytes=200-100", None), ("bytes=-0", None),
    ("bytes=0-1,5-6", (0, 999, False)), ("items=0-1", (0, 999, False)), ("bytes=a-b", (0, 999, False)),
])
def test_a_range_header_asks_for_these_bytes_of_a_stored_recording(header, span):
    from callcenter.recordings.http import byte_range

    assert byte_range(header, 1000) == span
    assert byte_range("", 0) is None  # an empty object has no bytes to give
