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
