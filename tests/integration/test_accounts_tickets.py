"""Ticket reassignment (派单/改派) by a supervisor is in the audit log, with who did it."""

from __future__ import annotations

import pytest
from tickets_support import AGENT, SUPERVISOR, dept, tickets_app


@pytest.fixture
async def api(settings, pool):
    async with tickets_app(settings, pool) as client:
        yield client


async def test_a_supervisor_reassigning_a_ticket_is_audited(api, pool):
    number = (await api.create())["number"]  # dispatched to market
    await api.act(number, "return", dept("market"), reason="不属于本部门职责")
    status, _ = await api.post(f"/api/tickets/{number}/redispatch", {"lead": "housing"}, actor=AGENT)
    assert status == 403  # the hall's decision
    await api.act(number, "redispatch", SUPERVISOR, lead="housing")
    rows = await pool.fetch("SELECT actor, action, target FROM audit_log WHERE action LIKE 'ticket_%'")
    assert [(r["actor"], r["action"], r["target"]) for r in rows] == [
        ("li", "ticket_reassigned", f"/api/tickets/{number}/redispatch")]


async def test_the_policy_refuses_an_action_for_the_role_before_any_ticket_is_read(api, pool):
    """Which roles may call an action is the policy table's alone: a department handler asking to
    督办 or an agent asking to 签收 is refused by the guard (403, the policy's words) whatever the
    ticket, even one that does not exist; the service checks only that a department leads it."""
    number = (await api.create())["number"]  # dispatched to market
    for path, who in ((f"/api/tickets/{number}/escalate", dept("market")),
                      ("/api/tickets/PZH-20261207-999999/escalate", dept("market")),
                      ("/api/tickets/PZH-20261207-999999/acknowledge", AGENT)):
        status, doc = await api.post(path, {}, actor=who)
        assert (status, doc["error"]) == (403, "forbidden"), (path, who, doc)
        assert doc["message"].startswith("this needs one of the roles"), doc
    status, doc = await api.post(f"/api/tickets/{number}/acknowledge", {}, actor=dept("water"))
    assert status == 404  # another department's ticket: not even its existence leaks (data-dependent)
    await api.act(number, "acknowledge", dept("market"))
