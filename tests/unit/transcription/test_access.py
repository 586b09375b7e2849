"""Who reads a call's transcript, and who prefills a ticket form from it (pure rules)."""

from __future__ import annotations

from callcenter.accounts.model import Role, User
from callcenter.transcription.access import CallParties, prefill_refusal, refusal

AGENT = User("agent1001", Role.AGENT, agent_id="1001")
OTHER_AGENT = User("agent1002", Role.AGENT, agent_id="1002")
SUPERVISOR = User("li", Role.SUPERVISOR)
MARKET = User("market.zhang", Role.DEPT, department="market")
HOUSING = User("housing.wang", Role.DEPT, department="housing")
ADMIN = User("root", Role.ADMIN)
SYSTEM = User("survey", Role.SYSTEM)
CALL = CallParties(agents=frozenset({"1001"}), departments=frozenset({"market"}))


def test_an_agent_reads_only_the_calls_bridged_to_them():
    assert refusal(AGENT, CALL) is None
    assert "own calls" in (refusal(OTHER_AGENT, CALL) or "")
    assert refusal(AGENT, CallParties()) is not None


def test_the_hall_reads_any_call_and_admins_none():
    assert refusal(SUPERVISOR, CallParties()) is None
    assert refusal(ADMIN, CALL) is not None
    assert refusal(SYSTEM, CALL) is not None


def test_a_department_reads_only_through_its_ticket_of_the_call():
    assert refusal(MARKET, CALL) is None
    assert "ticket" in (refusal(HOUSING, CALL) or "")
    assert refusal(MARKET, CallParties(agents=frozenset({"1001"}))) is not None


def test_a_disabled_account_reads_nothing():
    assert refusal(User("li", Role.SUPERVISOR, disabled=True), CALL) is not None


def test_the_prefill_is_for_the_desk_filing_the_ticket():
    assert prefill_refusal(AGENT, CALL) is None
    assert prefill_refusal(SUPERVISOR, CALL) is None
    assert prefill_refusal(OTHER_AGENT, CALL) is not None
    assert prefill_refusal(MARKET, CALL) is not None  # reads it through its ticket, files none
